"""One bank message through two channels, and the per-account balance chain.

The same bank SMS may reach us from a shooter phone and from Pushbullet. Both copies carry the
same sender, amount, card tail and bank time, so they share a content fingerprint; what tells
them apart from a genuine second deposit of the same amount is the balance (or the bank's ref).

Indexing: ``fingerprint(sms)`` is the key stored with each SMS (64 hex chars). Its time part is
the 120 s bucket of the SMS's moment, so every SMS within +-120 s of another lies in that one's
bucket or a neighbour: ``lookup_keys(sms)`` gives those three keys, and ``same_deposit`` then
keeps only the ones really within 120 s. Balance and ref stay out of the key on purpose: a copy
must be *found* before its balance can prove it a copy or a distinct deposit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from recon_impl.domain.money import format_amount
from recon_impl.domain.normalize import normalize_sender

LINK_WINDOW_S = 120
Direction = Literal["income", "expense"]
CopyKind = Literal["copy", "distinct", "suspected"]
Proof = Literal["ref", "balance", "nothing_similar", "conflict", "no_evidence"]
ChainKind = Literal["ok", "balance_gap", "start", "no_balance"]


@dataclass(frozen=True, slots=True)
class BankSms:
    """A parsed bank SMS as copies and the chain see it. ``bank_code`` (the template's) names
    the bank of the account; without it the normalized sender does."""

    sms_id: int
    sender: str
    amount: Decimal
    received_at: int
    direction: Direction = "income"
    card_tail: str | None = None
    bank_time: int | None = None
    balance: Decimal | None = None
    ref: str | None = None
    bank_code: str | None = None

    @property
    def moment(self) -> int:
        """The bank's time when the template read one (identical in every copy), else
        ``received_at``."""
        return self.received_at if self.bank_time is None else self.bank_time


@dataclass(frozen=True, slots=True)
class Account:
    """The account an SMS reports on: its balance chain runs per account."""

    bank: str
    card_tail: str | None


@dataclass(frozen=True, slots=True)
class CopyVerdict:
    """``copy``: the same bank message as ``copy_of`` (link it, never match it again).
    ``distinct``: a deposit of its own. ``suspected``: a person decides (``suspects``)."""

    kind: CopyKind
    proof: Proof
    copy_of: int | None = None
    suspects: tuple[int, ...] = ()

    @property
    def reason(self) -> str | None:
        """The need_check reason a suspected copy goes with; nothing is dropped on suspicion."""
        return "duplicate" if self.kind == "suspected" else None


@dataclass(frozen=True, slots=True)
class ChainResult:
    """``missing`` = reported balance - expected balance: positive, money came in (or less went
    out) through SMS we never saw; negative, the other way round."""

    kind: ChainKind
    expected: Decimal | None = None
    missing: Decimal | None = None

    @property
    def reason(self) -> str | None:
        return "balance_gap" if self.kind == "balance_gap" else None


def account_of(sms: BankSms) -> Account:
    return Account(normalize_sender(sms.bank_code or sms.sender), sms.card_tail)


def fingerprint(sms: BankSms) -> str:
    """The key to store with the SMS: sender, amount, card tail, direction, 120 s time bucket."""
    return _key(sms, sms.moment // LINK_WINDOW_S)


def lookup_keys(sms: BankSms) -> tuple[str, str, str]:
    """The keys under which every SMS with the same content within +-120 s is stored."""
    bucket = sms.moment // LINK_WINDOW_S
    return _key(sms, bucket - 1), _key(sms, bucket), _key(sms, bucket + 1)


def same_deposit(a: BankSms, b: BankSms) -> bool:
    """Same content and moments at most 120 s apart: a copy or a same-amount twin."""
    return (
        normalize_sender(a.sender) == normalize_sender(b.sender)
        and a.amount == b.amount
        and a.direction == b.direction
        and a.card_tail == b.card_tail
        and abs(a.moment - b.moment) <= LINK_WINDOW_S
    )


def classify_copy(new: BankSms, existing_similar: Iterable[BankSms]) -> CopyVerdict:
    """Is ``new`` a copy of a stored SMS? ``existing_similar`` may be everything found under
    ``lookup_keys(new)``; what is not ``same_deposit`` with ``new`` is ignored.

    Per stored SMS, a field both carry (balance, ref) is evidence: equal says "same message",
    different says "another message". Only evidence one way settles it; none, or both ways at
    once, makes it a suspect. One proven copy wins; any suspect sends ``new`` to a person.
    """
    similar = sorted(
        (old for old in existing_similar if old.sms_id != new.sms_id and same_deposit(new, old)),
        key=lambda old: old.sms_id,
    )
    if not similar:
        return CopyVerdict("distinct", "nothing_similar")
    suspects: list[int] = []
    proofs: set[Proof] = set()
    for old in similar:
        same, different = _evidence(new, old)
        if same and not different:
            return CopyVerdict("copy", same[0], copy_of=old.sms_id)
        if different and not same:
            proofs.add(different[0])
        else:
            suspects.append(old.sms_id)
            proofs.add("conflict" if same else "no_evidence")
    if suspects:
        return CopyVerdict("suspected", _first(proofs, ("conflict", "no_evidence")), suspects=tuple(suspects))
    return CopyVerdict("distinct", _first(proofs, ("ref", "balance")))


def check_chain(previous_balance: Decimal | None, sms: BankSms) -> ChainResult:
    """Does ``sms`` continue its account's chain? ``previous_balance`` is the balance of the
    account's latest earlier SMS (copies excluded); income adds, an expense subtracts."""
    if sms.balance is None:
        return ChainResult("no_balance")
    if previous_balance is None:
        return ChainResult("start")
    signed = sms.amount if sms.direction == "income" else -sms.amount
    expected = previous_balance + signed
    if sms.balance == expected:
        return ChainResult("ok", expected=expected, missing=Decimal(0))
    return ChainResult("balance_gap", expected=expected, missing=sms.balance - expected)


def _evidence(new: BankSms, old: BankSms) -> tuple[list[Proof], list[Proof]]:
    same: list[Proof] = []
    different: list[Proof] = []
    new_ref, old_ref = _ref_key(new.ref), _ref_key(old.ref)
    if new_ref is not None and old_ref is not None:
        (same if new_ref == old_ref else different).append("ref")
    if new.balance is not None and old.balance is not None:
        (same if new.balance == old.balance else different).append("balance")
    return same, different


def _first(found: set[Proof], preference: tuple[Proof, ...]) -> Proof:
    return next(proof for proof in preference if proof in found)


def _ref_key(ref: str | None) -> str | None:
    key = "".join(ref.split()).upper() if ref else ""
    return key or None


def _key(sms: BankSms, bucket: int) -> str:
    parts = (
        normalize_sender(sms.sender),
        format_amount(sms.amount),
        sms.card_tail or "",
        sms.direction,
        str(bucket),
    )
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
