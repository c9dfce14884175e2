"""SMS reads and the admin actions on one SMS: reset, review, and the approval steps."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, null, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from recon_impl.adapters.wallet import WalletOrder
from recon_impl.domain.errors import InvalidInput, NotFound, StateConflict
from recon_impl.domain.money import parse_request_amount
from recon_impl.services.context import Actor
from recon_impl.services.journal import announce_refresh, audit
from recon_impl.services.paging import Page, paginate
from recon_impl.services.views import approval_key, approval_view, sms_view, utcnow
from recon_impl.storage.models import Sms

NEW, MATCHED, NEED_CHECK, APPROVED, REJECTED, IGNORED, UNMATCHED = range(7)
REVIEWABLE = frozenset({MATCHED, NEED_CHECK, UNMATCHED})
# The advisory-lock namespace of order holds (the second key is the amount's, see lock_order_holds).
ORDER_HOLDS_LOCK = 0x5EC0_0001 & 0x7FFF_FFFF
# Joins the fields of ``Sms.search_text``; no keyword may contain it.
SEARCH_SEPARATOR = "\x1f"


class OrderReader(Protocol):
    def get_order(self, order_id: str) -> WalletOrder | None: ...


@dataclass(frozen=True, slots=True)
class SmsFilter:
    status: int | None = None
    source: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    keyword: str | None = None
    amount: str | None = None


def _like_pattern(keyword: str) -> str:
    escaped = keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(flt: SmsFilter, sms: type[Sms] | AliasedClass[Sms]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.status is not None:
        conditions.append(sms.status == flt.status)
    if flt.source is not None:
        conditions.append(sms.source == flt.source)
    if flt.start_time is not None:
        conditions.append(sms.received_at >= datetime.fromtimestamp(flt.start_time, UTC))
    if flt.end_time is not None:
        conditions.append(sms.received_at <= datetime.fromtimestamp(flt.end_time, UTC))
    if flt.keyword is not None:
        # search_text is the three fields lower-cased and joined by U+001F: LIKE on it with the
        # keyword lower-cased by the same ``lower`` finds exactly what ILIKE on each field finds.
        if SEARCH_SEPARATOR in flt.keyword:
            raise InvalidInput("keyword may not contain the control character U+001F")
        pattern = func.lower(_like_pattern(flt.keyword))
        conditions.append(sms.search_text.like(pattern, escape="\\"))
    if flt.amount is not None:
        conditions.append(sms.amount == parse_request_amount(flt.amount))
    return conditions


def filtered_query(flt: SmsFilter) -> Select[Any]:
    """The list query for ``flt``, newest first; every filter is served by an index."""
    return select(Sms).where(*_conditions(flt, Sms)).order_by(Sms.id.desc())


# Newest rows a time-range or keyword page looks through before it searches by the filter.
PROBE_ROWS = 2000


def fetch_page(session: Session, flt: SmsFilter, limit: int, offset: int) -> tuple[Sequence[Sms], int | None]:
    """One page of ``filtered_query(flt)``; with its total when finding the page counted them all.

    status, source and amount have an ``(x, id)`` index that reads their matches newest first:
    one LIMIT/OFFSET query. For a time range or a keyword the planner instead walks the primary
    key newest first, expecting matches spread evenly over it; a day two months back or a
    name paid a few hundred times then costs a walk over most of the table. So, both exact:

    1. the newest ``PROBE_ROWS`` rows (more for deep pages) are filtered in id order, which
       fills the page when matches are dense at the top (a range reaching today, a word
       found in most SMS);
    2. else the matches are found through the filter's own indexes (``received_at, id``, the
       trigram index on ``search_text`` where pg_trgm exists) and only their ids are sorted.
       With a keyword that pass also counts them (``count(*) OVER ()``): a separate count
       would search and recheck the same rows again. A time range's count is a cheaper
       index-only scan.
    """
    query = filtered_query(flt)
    if flt.keyword is None and flt.start_time is None and flt.end_time is None:
        return session.scalars(query.limit(limit).offset(offset)).all(), None
    window = select(Sms).order_by(Sms.id.desc()).limit(max(PROBE_ROWS, 2 * (offset + limit)))
    recent = aliased(Sms, window.subquery("recent"))
    probe = (
        select(recent).where(*_conditions(flt, recent)).order_by(recent.id.desc()).limit(limit).offset(offset)
    )
    rows = session.scalars(probe).all()
    if len(rows) == limit:
        return rows, None
    # OFFSET 0 keeps the planner from turning the search back into a primary-key walk.
    matches = select(Sms.id).where(*_conditions(flt, Sms)).offset(0).subquery("matches")
    counted = flt.keyword is not None
    page_ids = (
        select(matches.c.id, (func.count().over() if counted else null()).label("total"))
        .order_by(matches.c.id.desc())
        .limit(limit)
        .offset(offset)
        .subquery("page_ids")
    )
    found = session.execute(
        select(Sms, page_ids.c.total).join(page_ids, Sms.id == page_ids.c.id).order_by(Sms.id.desc())
    ).all()
    if not counted or not found:  # past the last match, the total needs its own count too
        return [row for row, _ in found], None
    return [row for row, _ in found], int(found[0][1])


def list_sms(session: Session, flt: SmsFilter, page: int, page_size: int) -> Page[Any]:
    return paginate(
        session,
        filtered_query(flt),
        page,
        page_size,
        fetch=lambda session, limit, offset: fetch_page(session, flt, limit, offset),
    )


def _amount_key(amount: Decimal) -> int:
    """A signed 32-bit key per amount ("1500000.00" and "1500000" are one amount)."""
    unsigned = zlib.crc32(f"{Decimal(amount):.2f}".encode())
    return unsigned - (1 << 32) if unsigned >= 1 << 31 else unsigned


_LOCK_AMOUNTS = text(
    # Volatile functions in the select list run after ORDER BY: the locks are taken in key order,
    # so two writers never wait on each other in a cycle.
    "SELECT pg_advisory_xact_lock(:space, key) FROM unnest(CAST(:keys AS int[])) AS key ORDER BY key"
)


def lock_order_holds(session: Session, amounts: Iterable[Decimal]) -> None:
    """Serialize the writers that give orders of these amounts to SMS (admin confirm, matching).

    Each checks "is this order free?" before it writes; without a lock, two of them could both
    see it free. An order only ever goes to an SMS of its own amount, so one lock per amount
    lets writers of other amounts (another replica's batch) go on. The unique index on held
    orders remains the last guard. Released at commit.
    """
    keys = sorted({_amount_key(amount) for amount in amounts})
    if keys:
        session.execute(_LOCK_AMOUNTS, {"space": ORDER_HOLDS_LOCK, "keys": keys})


def get_sms(session: Session, sms_id: int, *, lock: bool = False) -> Sms:
    row = session.get(Sms, sms_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"sms {sms_id} does not exist")
    return row


def _ensure_no_approval(row: Sms, action: str) -> None:
    if row.status == APPROVED:
        raise StateConflict(f"sms {row.id} is approved; it cannot be {action}")
    if row.approval_order_id is not None:
        raise StateConflict(f"sms {row.id} has an approval in flight; it cannot be {action}")


def reset_sms(session: Session, actor: Actor, sms_id: int) -> Sms:
    """Back to status 0 so it is parsed and matched again (the manual recovery path)."""
    row = get_sms(session, sms_id, lock=True)
    _ensure_no_approval(row, "reset")
    before = {**sms_view(row), "reason": row.reason}
    row.status, row.check_status = NEW, 0
    row.order_id = row.check_admin = row.check_at = row.reason = None
    row.candidates = None
    row.updated_at = utcnow()
    audit(session, actor, "sms.reset", "sms", row.id, before=before, after=sms_view(row))
    announce_refresh(session, "sms_reset")
    return row


def review_sms(
    session: Session,
    actor: Actor,
    wallet: OrderReader,
    sms_id: int,
    check_status: int,
    order_id: str | None,
    remark: str | None,
) -> Sms:
    """Record a confirm (1) or reject (2). Review state only: no money moves here."""
    row = get_sms(session, sms_id, lock=True)
    _ensure_no_approval(row, "reviewed")
    if row.status not in REVIEWABLE:
        raise StateConflict(f"sms {row.id} in status {row.status} cannot be reviewed")
    before = sms_view(row)
    if check_status == 1:
        target = order_id or row.order_id
        if target is None:
            raise InvalidInput("order_id is required to confirm an SMS that has no matched order")
        if row.amount is not None:
            lock_order_holds(session, [Decimal(row.amount)])
        _ensure_order_can_be_held(session, wallet, row, target)
        row.status, row.order_id, row.reason = MATCHED, target, None
    else:
        row.status = REJECTED
    row.check_status = check_status
    row.check_admin, row.check_at, row.remark = actor.name, utcnow(), remark
    row.updated_at = row.check_at
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the database's one-holder-per-order guard
        raise StateConflict(f"order {row.order_id} is already held by another SMS") from exc
    action = "sms.confirm" if check_status == 1 else "sms.reject"
    audit(session, actor, action, "sms", row.id, before=before, after=sms_view(row))
    announce_refresh(session, "sms_check")
    return row


def _ensure_order_can_be_held(
    session: Session, wallet: OrderReader, row: Sms, order_id: str
) -> None:
    holder = session.scalar(
        select(Sms.id).where(
            Sms.order_id == order_id, Sms.status.in_((MATCHED, APPROVED)), Sms.id != row.id
        )
    )
    if holder is not None:
        raise StateConflict(f"order {order_id} is already held by sms {holder}")
    order = wallet.get_order(order_id)
    if order is None or order.status != "pending":
        raise StateConflict(f"order {order_id} is not pending in the wallet")
    if row.amount is None or Decimal(row.amount) != order.amount:
        raise StateConflict(
            f"order {order_id} amount {order.amount:.2f} differs from the SMS amount "
            f"{'unknown' if row.amount is None else f'{row.amount:.2f}'}"
        )


def start_approval(session: Session, actor: Actor, sms_id: int, order_id: str) -> dict[str, Any]:
    """Record that approving ``order_id`` is in flight; repeats answer the same record."""
    row = get_sms(session, sms_id, lock=True)
    current = approval_view(row)
    if current is not None:
        if current["order_id"] != order_id:
            raise StateConflict(f"sms {row.id} is being approved for order {current['order_id']}")
        return current
    if row.status != MATCHED or row.check_status != 1 or row.order_id != order_id:
        raise StateConflict(f"sms {row.id} is not confirmed for order {order_id}")
    row.approval_order_id, row.approval_started_at = order_id, utcnow()
    row.updated_at = row.approval_started_at
    view = approval_view(row)
    audit(session, actor, "sms.approval_start", "sms", row.id, after=view)
    assert view is not None
    return view


def finish_approval(
    session: Session, actor: Actor, sms_id: int, order_id: str, outcome: str
) -> dict[str, Any]:
    """Apply the wallet's outcome: approved (status 3) or refused (in-flight record cleared)."""
    row = get_sms(session, sms_id, lock=True)
    current = approval_view(row)
    if current is None or current["order_id"] != order_id:
        raise StateConflict(f"sms {row.id} has no approval in flight for order {order_id}")
    if current["state"] == "approved":
        if outcome != "approved":
            raise StateConflict(f"sms {row.id} is already approved")
        return current
    before = sms_view(row)
    if outcome == "approved":
        row.status, row.approved_at, row.approval_order_id = APPROVED, utcnow(), None
        action = "sms.approve"
        announce_refresh(session, "sms_approved")
    else:
        row.approval_order_id = row.approval_started_at = None
        action = "sms.approval_refused"
    row.updated_at = utcnow()
    audit(session, actor, action, "sms", row.id, before=before, after=sms_view(row))
    return approval_view(row) or {
        "sms_id": row.id,
        "order_id": order_id,
        "state": "refused",
        "idempotency_key": approval_key(row.id),
        "started_at": None,
        "approved_at": None,
    }


def status_counts(session: Session) -> dict[int, int]:
    rows = session.execute(select(Sms.status, func.count()).group_by(Sms.status)).all()
    return {int(status): int(count) for status, count in rows}
