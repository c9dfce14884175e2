"""Decisions on stored SMS, in batches: whitelist, parse, copies, balance chain, match.

Every function here runs inside one database transaction that the caller opens (``ctx.db``); the
rows it decides, their audit rows and the outbox row that announces them commit together. The
domain core (``recon_impl.domain``) makes every decision; this module only reads its inputs from
PostgreSQL and writes its outputs back.

Claims use ``FOR UPDATE SKIP LOCKED``, so replicas share the queue without deciding an SMS twice.
Matching writes take a transaction-scoped advisory lock per amount (``lock_order_holds``, shared
with the admin confirm path), so two writers never give one order to two SMS while batches of
other amounts go on; the unique index on held orders stays the last guard. An SMS whose
processing raises is retried alone and, if it fails again, goes to a person (need_check,
``processing_error``) instead of blocking the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, any_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from recon_impl.domain.copies import BankSms, account_of, check_chain, classify_copy, fingerprint, lookup_keys
from recon_impl.domain.drift import looks_like_money
from recon_impl.domain.matching import Decision, IncomeSms, MatchConfig, OrderBook, decide
from recon_impl.domain.normalize import normalize_sender
from recon_impl.domain.templates import ParsedSms, TemplateIndex
from recon_impl.services.context import Actor
from recon_impl.services.journal import announce_refresh
from recon_impl.services.sms import lock_order_holds
from recon_impl.services.templates import spec_of
from recon_impl.storage.models import AuditLog, Sms, Template, WhitelistEntry

log = logging.getLogger(__name__)

NEW, MATCHED, NEED_CHECK, APPROVED, REJECTED, IGNORED, UNMATCHED = range(7)
EXPENSE = 2
WORKER = Actor("recon_worker")
# Statuses whose change the top bar or the SMS page shows (legacy contract section 8).
_ANNOUNCED = frozenset({MATCHED, NEED_CHECK, APPROVED, REJECTED})


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def at(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


# --------------------------------------------------------------------------- catalog


@dataclass(frozen=True, slots=True)
class Catalog:
    """The whitelist and the enabled templates, as the pipeline needs them."""

    version: str
    whitelist: frozenset[str]
    index: TemplateIndex
    banks: Mapping[int, str]  # template id -> bank code


_TEMPLATES_VERSION = text(
    "SELECT count(*) || ':' ||"
    " coalesce(md5(string_agg(concat_ws(':', id, status, deleted_at), ',' ORDER BY id)), '')"
    " FROM templates"
)
_WHITELIST_VERSION = text(
    "SELECT count(*) || ':' ||"
    " coalesce(md5(string_agg(concat_ws(':', id, phone, deleted_at), ',' ORDER BY id)), '')"
    " FROM whitelist"
)


def templates_version(session: Session) -> str:
    """Changes whenever a template is added, enabled, disabled or deleted."""
    return str(session.scalar(_TEMPLATES_VERSION))


def whitelist_version(session: Session) -> str:
    """Changes whenever a whitelist entry is added, changed or deleted."""
    return str(session.scalar(_WHITELIST_VERSION))


def catalog_version(session: Session) -> str:
    """Changes whenever a template or whitelist entry is added, changed, enabled or deleted."""
    return f"{templates_version(session)}/{whitelist_version(session)}"


def load_catalog(session: Session, default_tz: str, cached: Catalog | None = None) -> Catalog:
    """The current catalog; ``cached`` is returned as it is when nothing changed."""
    version = catalog_version(session)
    if cached is not None and cached.version == version:
        return cached
    phones = session.scalars(select(WhitelistEntry.phone).where(WhitelistEntry.deleted_at.is_(None)))
    templates = session.scalars(
        select(Template).where(Template.deleted_at.is_(None), Template.status == 1).order_by(Template.id)
    ).all()
    specs = [spec_of(t) for t in templates]
    index = TemplateIndex.build(specs, default_tz)
    for template_id, why in index.rejected:
        log.warning("template %s does not compile and is not used: %s", template_id, why)
    return Catalog(
        version=version,
        whitelist=frozenset(normalize_sender(p) for p in phones),
        index=index,
        banks={t.id: t.bank_code for t in templates},
    )


# --------------------------------------------------------------------------- orders


@dataclass
class Book:
    """The worker's view of pending orders; ``fresh`` once a full sync with the wallet succeeded."""

    orders: OrderBook = field(default_factory=OrderBook)
    fresh: bool = False


# --------------------------------------------------------------------------- outcome


@dataclass(slots=True)
class Outcome:
    status: int
    reason: str | None = None
    order_id: str | None = None
    candidates: list[dict[str, object]] | None = None
    remark: str | None = None
    copy_of: int | None = None
    parsed: ParsedSms | None = None
    account: str | None = None
    fingerprint: str | None = None

    def values(self, row_id: int) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": row_id,
            "status": self.status,
            "reason": self.reason,
            "order_id": self.order_id,
            "candidates": self.candidates,
            "copy_of": self.copy_of,
        }
        if self.remark is not None:
            values["remark"] = self.remark
        parsed = self.parsed
        if parsed is not None:
            values.update(
                amount=parsed.amount,
                balance=parsed.balance,
                card_tail=parsed.card_tail,
                payer_name=parsed.payer_name,
                ref=parsed.ref,
                bank_time=at(parsed.bank_time),
                template_id=parsed.template_id,
                account=self.account,
                fingerprint=self.fingerprint,
            )
        return values


def _from_decision(decision: Decision) -> Outcome:
    return Outcome(
        status=decision.status,
        reason=decision.reason,
        order_id=decision.order_id,
        candidates=[c.to_contract() for c in decision.candidates] or None,
    )


# --------------------------------------------------------------------------- the batch


@dataclass(frozen=True, slots=True)
class Settled:
    """What one batch decided: SMS id -> new status."""

    statuses: Mapping[int, int]

    def __len__(self) -> int:
        return len(self.statuses)


class _Batch:
    """The state one batch shares: copies seen so far, balances per account, orders taken."""

    def __init__(self, session: Session, catalog: Catalog, book: Book, config: MatchConfig, now: int) -> None:
        self.session, self.catalog, self.book, self.config, self.now = session, catalog, book, config, now
        self.similar: dict[str, list[BankSms]] = {}
        self.balances: dict[str, tuple[int, Decimal]] = {}
        self.taken: set[str] = set()

    def prepare(self, rows: Sequence[Sms], parsed: Mapping[int, ParsedSms]) -> None:
        """Load, in three queries, what the rows' decisions depend on."""
        banks = {row.id: self._bank_sms(row, parsed[row.id]) for row in rows if row.id in parsed}
        keys = {key for sms in banks.values() for key in lookup_keys(sms)}
        if keys:
            for old in self.session.execute(
                select(Sms, Template.bank_code)
                .outerjoin(Template, Template.id == Sms.template_id)
                .where(Sms.fingerprint.in_(keys), Sms.status != NEW)
            ):
                self._remember(_stored_bank_sms(old[0], old[1]))
        accounts = {account_key(sms) for sms in banks.values() if sms.balance is not None}
        if accounts:
            chain = text(
                "SELECT a.account, p.received_at, p.balance"
                " FROM unnest(CAST(:accounts AS text[])) AS a(account)"
                " CROSS JOIN LATERAL (SELECT received_at, balance FROM sms WHERE sms.account = a.account"
                " AND balance IS NOT NULL AND copy_of IS NULL AND status <> 0"
                " ORDER BY received_at DESC, id DESC LIMIT 1) p"
            )
            for account, received_at, balance in self.session.execute(chain, {"accounts": sorted(accounts)}):
                self.balances[account] = (unix(received_at), balance)
        self.load_taken((sms.amount, sms.received_at) for sms in banks.values() if sms.direction == "income")

    def load_taken(self, incomes: Iterable[tuple[Decimal, int]]) -> None:
        """Which orders inside these (amount, received_at) windows other SMS already hold."""
        before, after = self.config.window_before_s, self.config.window_after_s
        window = {
            order.order_id
            for amount, received_at in incomes
            for order in self.book.orders.between(amount, received_at - before, received_at + after)
        }
        if window:  # one array parameter: a dense window would overflow a parameter list
            ids = bindparam("window_ids", sorted(window), type_=ARRAY(String))
            held = select(Sms.order_id).where(Sms.order_id == any_(ids), Sms.status.in_((MATCHED, APPROVED)))
            self.taken |= {order_id for order_id in self.session.scalars(held) if order_id is not None}

    def _bank_sms(self, row: Sms, parsed: ParsedSms) -> BankSms:
        return BankSms(
            sms_id=row.id,
            sender=row.sender_norm,
            amount=parsed.amount,
            received_at=unix(row.received_at),
            direction="expense" if parsed.type == EXPENSE else "income",
            card_tail=parsed.card_tail,
            bank_time=parsed.bank_time,
            balance=parsed.balance,
            ref=parsed.ref,
            bank_code=self.catalog.banks.get(parsed.template_id),
        )

    def _remember(self, sms: BankSms) -> None:
        self.similar.setdefault(fingerprint(sms), []).append(sms)

    def parsed_outcome(self, row: Sms, parsed: ParsedSms) -> Outcome:
        """Copies, then the balance chain, then trust, then matching."""
        sms = self._bank_sms(row, parsed)
        account = account_key(sms)
        found = [old for key in lookup_keys(sms) for old in self.similar.get(key, ())]
        verdict = classify_copy(sms, found)
        self._remember(sms)
        base = {"parsed": parsed, "account": account, "fingerprint": fingerprint(sms)}
        if verdict.kind == "copy":
            return Outcome(
                IGNORED,
                "duplicate",
                remark=f"copy of sms {verdict.copy_of} ({verdict.proof})",
                copy_of=verdict.copy_of,
                **base,  # type: ignore[arg-type]
            )
        gap = self._chain(account, sms)
        if parsed.type == EXPENSE:
            if gap is not None:
                return Outcome(NEED_CHECK, "balance_gap", remark=gap, **base)  # type: ignore[arg-type]
            return Outcome(IGNORED, "expense", **base)  # type: ignore[arg-type]
        decision = self.match(row.id, sms, parsed.payer_name)
        held_back = None
        if verdict.kind == "suspected":
            suspects = ", ".join(map(str, verdict.suspects))
            held_back = ("duplicate", f"may be a copy of sms {suspects}")
        elif gap is not None:
            held_back = ("balance_gap", gap)
        elif row.pre_trust:
            held_back = ("pre_trust", "sent before its device was trusted")
        outcome = _from_decision(decision)
        if held_back is not None:
            if decision.order_id is not None:
                self.taken.discard(decision.order_id)
            outcome = Outcome(NEED_CHECK, held_back[0], candidates=outcome.candidates, remark=held_back[1])
        outcome.parsed, outcome.account, outcome.fingerprint = parsed, account, base["fingerprint"]  # type: ignore[assignment]
        return outcome

    def _chain(self, account: str, sms: BankSms) -> str | None:
        """A description of the balance gap before ``sms``, or None; moves the chain on."""
        if sms.balance is None:
            return None
        previous = self.balances.get(account)
        self.balances[account] = (sms.received_at, sms.balance)
        if previous is None or previous[0] > sms.received_at:
            return None  # the chain's start, or an SMS older than the newest known balance
        result = check_chain(previous[1], sms)
        if result.kind != "balance_gap":
            return None
        return (
            f"balance gap: expected {result.expected:.2f}, reported {sms.balance:.2f},"
            f" missing {result.missing:+.2f}"
        )

    def match(self, sms_id: int, sms: BankSms, payer_name: str | None) -> Decision:
        income = IncomeSms(
            sms_id=sms_id,
            amount=sms.amount,
            received_at=sms.received_at,
            card_tail=sms.card_tail,
            payer_name=payer_name,
            bank_time=sms.bank_time,
        )
        return self._decide(income)

    def match_income(self, income: IncomeSms) -> Decision:
        return self._decide(income)

    def _decide(self, income: IncomeSms) -> Decision:
        if not self.book.fresh:
            # No trustworthy view of the orders yet: wait, and never expire on a stale book.
            return Decision("unmatched")
        decision = decide(income, self.book.orders, self.config, self.now, self.taken)
        if decision.order_id is not None:
            self.taken.add(decision.order_id)
        return decision


def account_key(sms: BankSms) -> str:
    account = account_of(sms)
    return f"{account.bank}|{account.card_tail or ''}"[:100]


def _stored_bank_sms(row: Sms, bank_code: str | None) -> BankSms:
    assert row.amount is not None
    return BankSms(
        sms_id=row.id,
        sender=row.sender_norm,
        amount=Decimal(row.amount),
        received_at=unix(row.received_at),
        direction="expense" if row.reason == "expense" else "income",
        card_tail=row.card_tail,
        bank_time=None if row.bank_time is None else unix(row.bank_time),
        balance=row.balance,
        ref=row.ref,
        bank_code=bank_code,
    )


def _first_outcome(row: Sms, catalog: Catalog) -> Outcome | ParsedSms:
    """Whitelist and parse: a final outcome, or what the template read."""
    if row.sender_norm not in catalog.whitelist:
        return Outcome(IGNORED, "not_whitelisted")
    parsed = catalog.index.parse(row.sender_norm, row.content)
    if parsed is None:
        # Money-looking text no template reads is a person's job (and a sign of template drift);
        # the rest (codes, adverts) is ignored. Both keep the reason, so a new template re-parses them.
        return Outcome(NEED_CHECK if looks_like_money(row.content) else IGNORED, "no_template")
    return parsed


def _apply(session: Session, rows: Sequence[Sms], outcomes: Mapping[int, Outcome], actor: Actor) -> Settled:
    """Write the outcomes, one audit row each, and one outbox row for the batch."""
    if not outcomes:
        return Settled({})
    now = datetime.now(UTC)
    by_id = {row.id: row for row in rows}
    values = [{**outcome.values(row_id), "updated_at": now} for row_id, outcome in outcomes.items()]
    # The bulk UPDATE runs one executemany per run of rows with the same keys: group them.
    values.sort(key=sorted)
    session.execute(update(Sms), values)
    session.execute(
        insert(AuditLog),
        [
            {
                "actor": actor.name,
                "action": "sms.decide",
                "entity": "sms",
                "entity_id": str(row_id),
                "before": {"status": by_id[row_id].status, "reason": by_id[row_id].reason},
                "after": {
                    "status": o.status,
                    "reason": o.reason,
                    "order_id": o.order_id,
                    "copy_of": o.copy_of,
                },
                "request_id": actor.request_id,
            }
            for row_id, o in outcomes.items()
        ],
    )
    # A change into or out of a shown status (leaving need_check lowers the top bar's count).
    changed = [
        (by_id[row_id].status, o.status) for row_id, o in outcomes.items() if o.status != by_id[row_id].status
    ]
    if any(old in _ANNOUNCED or new in _ANNOUNCED for old, new in changed):
        announce_refresh(session, "sms_decided")
    return Settled({row_id: o.status for row_id, o in outcomes.items()})


def _claim(session: Session, condition: Any, limit: int) -> list[Sms]:
    query = select(Sms).where(condition).order_by(Sms.id).limit(limit).with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _decide_rows(
    session: Session, rows: Sequence[Sms], catalog: Catalog, book: Book, config: MatchConfig, now: int
) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    parsed: dict[int, ParsedSms] = {}
    for row in rows:
        first = _first_outcome(row, catalog)
        if isinstance(first, Outcome):
            outcomes[row.id] = first
        else:
            parsed[row.id] = first
    # From here until the commit, no other writer may give out orders of these amounts.
    lock_order_holds(session, [p.amount for p in parsed.values() if p.type != EXPENSE])
    batch = _Batch(session, catalog, book, config, now)
    batch.prepare(rows, parsed)
    # The chain and the copies run in the order the phone received the SMS.
    for row in sorted((r for r in rows if r.id in parsed), key=lambda r: (r.received_at, r.id)):
        outcomes[row.id] = batch.parsed_outcome(row, parsed[row.id])
    return outcomes


def decide_new(
    session: Session,
    catalog: Catalog,
    book: Book,
    config: MatchConfig,
    now: int,
    *,
    limit: int = 500,
    actor: Actor = WORKER,
) -> Settled:
    """Claim up to ``limit`` new SMS (not held back) and decide them."""
    rows = _claim(session, and_(Sms.status == NEW, Sms.held.is_(False)), limit)
    if not rows:
        return Settled({})
    try:
        with session.begin_nested():
            outcomes = _decide_rows(session, rows, catalog, book, config, now)
            return _apply(session, rows, outcomes, actor)
    except Exception:
        log.exception("a batch of %d SMS failed; deciding them one by one", len(rows))
    return _one_by_one(session, rows, catalog, book, config, now, actor)


def _one_by_one(
    session: Session,
    rows: Sequence[Sms],
    catalog: Catalog,
    book: Book,
    config: MatchConfig,
    now: int,
    actor: Actor,
) -> Settled:
    settled: dict[int, int] = {}
    for row in rows:
        try:
            with session.begin_nested():
                settled.update(
                    _apply(
                        session, [row], _decide_rows(session, [row], catalog, book, config, now), actor
                    ).statuses
                )
        except Exception as exc:
            log.exception("sms %s could not be decided; it goes to a person", row.id)
            failed = {
                row.id: Outcome(
                    NEED_CHECK, "processing_error", remark=f"processing failed: {type(exc).__name__}"
                )
            }
            with session.begin_nested():
                settled.update(_apply(session, [row], failed, actor).statuses)
    return Settled(settled)


def rematch(
    session: Session,
    book: Book,
    config: MatchConfig,
    now: int,
    *,
    amounts: Iterable[Decimal] = (),
    expired_only: bool = False,
    limit: int = 500,
    actor: Actor = WORKER,
) -> Settled:
    """Match unmatched SMS again: those of ``amounts`` (new orders arrived) and the expired ones."""
    if not book.fresh:
        return Settled({})
    expired = Sms.received_at <= at(now - config.unmatched_expiry_s)
    wanted = sorted(set(amounts))
    condition = expired if expired_only or not wanted else or_(Sms.amount.in_(wanted), expired)
    rows = _claim(session, and_(Sms.status == UNMATCHED, condition), limit)
    if not rows:
        return Settled({})
    lock_order_holds(session, [Decimal(row.amount or 0) for row in rows])
    batch = _Batch(session, Catalog("", frozenset(), TemplateIndex.build([], "UTC"), {}), book, config, now)
    incomes = {
        row.id: IncomeSms(
            sms_id=row.id,
            amount=Decimal(row.amount or 0),
            received_at=unix(row.received_at),
            card_tail=row.card_tail,
            payer_name=row.payer_name,
        )
        for row in rows
    }
    batch.load_taken((sms.amount, sms.received_at) for sms in incomes.values())
    outcomes: dict[int, Outcome] = {}
    for row in rows:
        decision = batch.match_income(incomes[row.id])
        if decision.kind == "unmatched" and row.status == UNMATCHED:
            continue  # still waiting: nothing to write
        outcomes[row.id] = _from_decision(decision)
    return _apply(session, rows, outcomes, actor)


def close_orders(session: Session, order_ids: Iterable[str], *, actor: Actor = WORKER) -> Settled:
    """SMS holding orders that the wallet closed elsewhere go to a person (``order_closed``)."""
    ids = sorted(set(order_ids))
    if not ids:
        return Settled({})
    rows = _claim(
        session,
        and_(Sms.status == MATCHED, Sms.order_id.in_(ids), Sms.approval_order_id.is_(None)),
        len(ids),
    )
    outcomes = {
        row.id: Outcome(NEED_CHECK, "order_closed", order_id=row.order_id, candidates=row.candidates)
        for row in rows
    }
    return _apply(session, rows, outcomes, actor)


def requeue(session: Session, condition: Any, *, limit: int = 1000, actor: Actor = WORKER) -> int:
    """Send SMS back to the queue (status 0): after a whitelist or template change."""
    rows = _claim(session, condition, limit)
    outcomes = {row.id: Outcome(NEW) for row in rows}
    return len(_apply(session, rows, outcomes, actor))


def pending_new(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Sms).where(Sms.status == NEW, Sms.held.is_(False)))
        or 0
    )
