"""Which pending order an income SMS pays (architecture, "The life of one SMS", step 4).

Every rule leans towards a person looking rather than the wrong order being paid:

- Candidates are pending orders of exactly the SMS amount, created inside
  ``[received_at - window_before_s, received_at + window_after_s]``, not held by another SMS.
- A field that both sides carry (card tail, payer name) must agree. A disagreement *excludes*
  the order; it is not a penalty, because a lone contradicting order would still be the unique
  best and be matched. A field missing on either side is neutral.
- Score = ``time`` weight x proximity (1 at ``received_at``, 0 at the window's edge)
  + ``card`` weight if the tails agree + ``name`` weight if the names agree.
- A match needs a unique best that leads the second by at least ``margin``. With the default
  weights time alone (at most 0.5) can never separate two orders; an agreeing card tail or name
  (2.0 each) can. A lone candidate is unique and is matched; a person still reviews it.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from recon_impl.domain.money import format_amount
from recon_impl.domain.normalize import normalize_name

DecisionKind = Literal["matched", "need_check", "unmatched"]
NeedCheckReason = Literal["ambiguous", "no_order"]
ExclusionReason = Literal["taken", "card_mismatch", "name_mismatch"]

STATUS_OF: dict[DecisionKind, int] = {"matched": 1, "need_check": 2, "unmatched": 6}
_SCORE_PLACES = 6


@dataclass(frozen=True, slots=True)
class IncomeSms:
    """A parsed income SMS. ``bank_time`` is carried but not used for the window: the phone's
    ``received_at`` is, because a bank's time read in the wrong zone would move it by hours."""

    sms_id: int
    amount: Decimal
    received_at: int
    card_tail: str | None = None
    payer_name: str | None = None
    bank_time: int | None = None


@dataclass(frozen=True, slots=True)
class PendingOrder:
    order_id: str
    amount: Decimal
    created_at: int
    card_tail: str | None = None
    payer_name: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    time: float = 0.5
    card: float = 2.0
    name: float = 2.0


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Defaults: an order is usually created minutes before the transfer (30 min allowed) and
    sometimes just after the SMS (5 min: form submitted late, clock skew). An SMS without an
    order waits 15 min, longer than ``window_after_s`` so a late order can still arrive."""

    window_before_s: int = 1800
    window_after_s: int = 300
    margin: float = 1.0
    unmatched_expiry_s: int = 900
    weights: ScoreWeights = field(default_factory=ScoreWeights)
    max_candidates: int = 20

    def __post_init__(self) -> None:
        w = self.weights
        if min(self.window_before_s, self.window_after_s, self.margin, w.time, w.card, w.name) < 0:
            raise ValueError("windows, margin and weights must not be negative")
        if self.unmatched_expiry_s < self.window_after_s:
            raise ValueError("unmatched_expiry_s must be at least window_after_s")
        if self.max_candidates < 2:
            raise ValueError("max_candidates must keep at least the best and the second")


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """``card``/``name``: True agree, None not compared (missing on a side)."""

    time: float
    card: bool | None
    name: bool | None


@dataclass(frozen=True, slots=True)
class Candidate:
    order_id: str
    amount: Decimal
    created_at: int
    score: float
    parts: ScoreParts

    def to_contract(self) -> dict[str, object]:
        """The SmsDetail ``candidates`` item (legacy contract section 4)."""
        return {
            "order_id": self.order_id,
            "amount": format_amount(self.amount),
            "created_at": self.created_at,
            "score": self.score,
        }


@dataclass(frozen=True, slots=True)
class Exclusion:
    """An order in the window that could not be a candidate, kept for the reviewer."""

    order_id: str
    reason: ExclusionReason


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    order_id: str | None = None
    reason: NeedCheckReason | None = None
    candidates: tuple[Candidate, ...] = ()
    excluded: tuple[Exclusion, ...] = ()
    # unmatched only: when the SMS turns into need_check / no_order if still without an order
    expires_at: int | None = None

    @property
    def status(self) -> int:
        return STATUS_OF[self.kind]


@dataclass(frozen=True, slots=True)
class _Entry:
    """An order with its comparison keys worked out once, when it enters the book."""

    order: PendingOrder
    tail: str | None
    name: str | None


def _sort_key(entry: _Entry) -> tuple[int, str]:
    return entry.order.created_at, entry.order.order_id


class _Lane:
    """The orders of one amount, sorted by (created_at, order_id); ``times`` mirrors them."""

    __slots__ = ("entries", "times")

    def __init__(self, entries: list[_Entry]) -> None:
        entries.sort(key=_sort_key)
        self.entries = entries
        self.times = [entry.order.created_at for entry in entries]


class OrderBook:
    """Pending orders indexed by exact amount, then by ``created_at``: a window is two bisects.

    Mutable on purpose (the worker keeps one and applies the wallet's changes); still pure.
    """

    __slots__ = ("_by_amount", "_by_id")

    def __init__(self, orders: Iterable[PendingOrder] = ()) -> None:
        self._by_id: dict[str, _Entry] = {}
        for order in orders:
            self._by_id[order.order_id] = _entry(order)
        grouped: dict[Decimal, list[_Entry]] = {}
        for entry in self._by_id.values():
            grouped.setdefault(entry.order.amount, []).append(entry)
        self._by_amount = {amount: _Lane(entries) for amount, entries in grouped.items()}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._by_id

    def get(self, order_id: str) -> PendingOrder | None:
        entry = self._by_id.get(order_id)
        return None if entry is None else entry.order

    def add(self, order: PendingOrder) -> None:
        """Insert an order; an order id already present is replaced (the wallet changed it)."""
        self.remove(order.order_id)
        entry = _entry(order)
        self._by_id[order.order_id] = entry
        lane = self._by_amount.get(order.amount)
        if lane is None:
            self._by_amount[order.amount] = _Lane([entry])
            return
        at = bisect_right(lane.entries, _sort_key(entry), key=_sort_key)
        lane.entries.insert(at, entry)
        lane.times.insert(at, order.created_at)

    def remove(self, order_id: str) -> PendingOrder | None:
        """Take an order out (approved, cancelled, expired); an unknown id is a no-op."""
        entry = self._by_id.pop(order_id, None)
        if entry is None:
            return None
        lane = self._by_amount[entry.order.amount]
        at = bisect_left(lane.entries, _sort_key(entry), key=_sort_key)
        del lane.entries[at], lane.times[at]
        if not lane.entries:
            del self._by_amount[entry.order.amount]
        return entry.order

    def between(self, amount: Decimal, start: int, end: int) -> list[PendingOrder]:
        """Orders of exactly ``amount`` created in ``[start, end]``, oldest first."""
        return [entry.order for entry in self._window(amount, start, end)]

    def _window(self, amount: Decimal, start: int, end: int) -> list[_Entry]:
        lane = self._by_amount.get(amount)
        if lane is None:
            return []
        return lane.entries[bisect_left(lane.times, start) : bisect_right(lane.times, end)]


def decide(
    sms: IncomeSms, book: OrderBook, config: MatchConfig, now: int, taken: Set[str] = frozenset()
) -> Decision:
    """Match, send to a person, or wait. ``taken``: order ids held by *other* SMS (an SMS
    being matched again must not list its own order)."""
    ranked, excluded = _rank_window(sms, book, config, taken)
    if not ranked:
        expires_at = sms.received_at + config.unmatched_expiry_s
        if expires_at <= now:
            return Decision("need_check", reason="no_order", excluded=excluded)
        return Decision("unmatched", excluded=excluded, expires_at=expires_at)
    if len(ranked) == 1 or _clearly_ahead(ranked[0].score, ranked[1].score, config.margin):
        return Decision("matched", order_id=ranked[0].order_id, candidates=ranked, excluded=excluded)
    return Decision("need_check", reason="ambiguous", candidates=ranked, excluded=excluded)


def _rank_window(
    sms: IncomeSms, book: OrderBook, config: MatchConfig, taken: Set[str]
) -> tuple[tuple[Candidate, ...], tuple[Exclusion, ...]]:
    """The best ``max_candidates`` candidates (best first) and the nearest exclusions."""
    start, end = sms.received_at - config.window_before_s, sms.received_at + config.window_after_s
    tail, name, weights = _digits(sms.card_tail), _name_key(sms.payer_name), config.weights
    # Plain tuples in the loop; Candidate objects only for the few that are kept.
    scored: list[tuple[float, int, str, _Entry, ScoreParts]] = []
    excluded: list[tuple[int, str, ExclusionReason]] = []
    for entry in book._window(sms.amount, start, end):
        order = entry.order
        offset = order.created_at - sms.received_at
        if order.order_id in taken:
            excluded.append((abs(offset), order.order_id, "taken"))
            continue
        card = None if tail is None or entry.tail is None else _tails_agree(tail, entry.tail)
        if card is False:
            excluded.append((abs(offset), order.order_id, "card_mismatch"))
            continue
        same_name = None if name is None or entry.name is None else name == entry.name
        if same_name is False:
            excluded.append((abs(offset), order.order_id, "name_mismatch"))
            continue
        span = config.window_after_s if offset > 0 else config.window_before_s
        parts = ScoreParts(1.0 - abs(offset) / span if span else 1.0, card, same_name)
        score = weights.time * parts.time + weights.card * bool(card) + weights.name * bool(same_name)
        scored.append((-round(score, _SCORE_PLACES), abs(offset), order.order_id, entry, parts))
    ranked = tuple(
        Candidate(e.order.order_id, e.order.amount, e.order.created_at, -negated, parts)
        for negated, _, _, e, parts in heapq.nsmallest(config.max_candidates, scored)
    )
    nearest = heapq.nsmallest(config.max_candidates, excluded)
    return ranked, tuple(Exclusion(order_id, why) for _, order_id, why in nearest)


def _clearly_ahead(best: float, second: float, margin: float) -> bool:
    """Strictly ahead (a tie never matches, even with margin 0) and by at least ``margin``."""
    lead = round(best - second, _SCORE_PLACES)
    return lead > 0 and lead >= margin


def _entry(order: PendingOrder) -> _Entry:
    return _Entry(order, _digits(order.card_tail), _name_key(order.payer_name))


def _digits(tail: str | None) -> str | None:
    digits = "".join(char for char in tail if "0" <= char <= "9") if tail else ""
    return digits or None


def _tails_agree(a: str, b: str) -> bool:
    """Tails of different lengths are suffixes of one account number: the longer ends with
    the shorter (``"1234"`` agrees with ``"001234"``)."""
    return a.endswith(b) if len(a) >= len(b) else b.endswith(a)


def _name_key(name: str | None) -> str | None:
    key = normalize_name(name) if name else ""
    return key or None
