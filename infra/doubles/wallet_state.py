"""In-memory state of the wallet double: recharge orders, approvals and fault switches.

Everything here is guarded by one lock, so tests may seed and mutate orders from their own
thread while the served app answers requests from its worker threads.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import ClassVar, Literal, TypedDict

__all__ = [
    "ORDER_STATUSES",
    "Approval",
    "ApprovalDict",
    "IdempotencyKeyReused",
    "InvalidCursor",
    "OrderDict",
    "OrderNotFound",
    "OrderNotPending",
    "OrderPage",
    "OrderStatus",
    "PendingCounts",
    "WalletError",
    "WalletState",
]

OrderStatus = Literal["pending", "approved", "cancelled", "expired"]
ORDER_STATUSES: tuple[OrderStatus, ...] = ("pending", "approved", "cancelled", "expired")

_AMOUNT_RE = re.compile(r"^\d{1,15}\.\d{2}$")
_AMOUNT_INPUT_RE = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,2})?$")  # as the legacy API accepts amounts
_CARD_TAIL_RE = re.compile(r"^[0-9]{1,8}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_CURSOR_RE = re.compile(r"^(\d{1,15}):(\d{1,15})$")
_CENT = Decimal("0.01")


class OrderDict(TypedDict):
    """An order as the API serves it (the spec's `Order`)."""

    order_id: str
    user_id: str
    amount: str
    currency: str
    status: OrderStatus
    payer_name: str | None
    card_tail: str | None
    created_at: int
    updated_at: int
    approved_at: int | None


class OrderPage(TypedDict):
    """The spec's `OrderPage`."""

    items: list[OrderDict]
    next_cursor: str


class ApprovalDict(TypedDict):
    """The spec's `ApprovalResult`."""

    order_id: str
    status: Literal["approved"]
    approved_at: int


class PendingCounts(TypedDict):
    """The spec's `PendingCounts`."""

    recharge_pending_cnt: int
    withdraw_pending_cnt: int


class WalletError(Exception):
    """A refusal the API reports as problem+json; subclasses name the problem."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad Request"
    type: ClassVar[str] = "about:blank"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidCursor(WalletError):
    """`updated_since` is not a cursor this service issued."""

    status = 400
    title = "Invalid cursor"
    type = "urn:wallet:problem:invalid-cursor"


class OrderNotFound(WalletError, LookupError):
    """No order with that id."""

    status = 404
    title = "Order not found"
    type = "urn:wallet:problem:order-not-found"


class IdempotencyKeyReused(WalletError):
    """The key already approved a different order."""

    status = 409
    title = "Idempotency-Key reused"
    type = "urn:wallet:problem:idempotency-key-reused"


class OrderNotPending(WalletError):
    """The order is closed (cancelled, expired, or approved under another key)."""

    status = 409
    title = "Order not pending"
    type = "urn:wallet:problem:order-not-pending"


@dataclass(frozen=True, slots=True)
class Approval:
    """One credit the wallet performed: tests count these to prove "credited once"."""

    order_id: str
    key: str
    at: int


@dataclass(frozen=True, slots=True)
class _Order:
    order_id: str
    user_id: str
    amount: str
    currency: str
    status: OrderStatus
    payer_name: str | None
    card_tail: str | None
    created_at: int
    updated_at: int
    approved_at: int | None
    seq: int  # the change sequence of the latest change; the cursor's tie-breaker

    @property
    def position(self) -> tuple[int, int]:
        return (self.updated_at, self.seq)

    def view(self) -> OrderDict:
        return OrderDict(
            order_id=self.order_id,
            user_id=self.user_id,
            amount=self.amount,
            currency=self.currency,
            status=self.status,
            payer_name=self.payer_name,
            card_tail=self.card_tail,
            created_at=self.created_at,
            updated_at=self.updated_at,
            approved_at=self.approved_at,
        )


def format_amount(amount: str | int | Decimal) -> str:
    """Return `amount` as the wire's two-decimal string; refuse anything finer than a cent."""
    if isinstance(amount, bool):
        raise TypeError("amount must be a string, an int or a Decimal")
    if isinstance(amount, str) and not _AMOUNT_INPUT_RE.fullmatch(amount):
        raise ValueError(f"amount {amount!r} is not digits with up to two decimals")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation as exc:  # pragma: no cover - the pattern and int types prevent it
        raise ValueError(f"amount {amount!r} is not a number") from exc
    if not value.is_finite() or value <= 0 or value != value.quantize(_CENT):
        raise ValueError(f"amount {amount!r} must be positive with at most two decimals")
    text = f"{value.quantize(_CENT):f}"
    if not _AMOUNT_RE.fullmatch(text):
        raise ValueError(f"amount {amount!r} is out of range")
    return text


def _cursor(position: tuple[int, int]) -> str:
    return f"{position[0]}:{position[1]}"


def _parse_cursor(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    match = _CURSOR_RE.fullmatch(text)
    if match is None:
        raise InvalidCursor(f"updated_since {text!r} is not a cursor issued by this service")
    return (int(match.group(1)), int(match.group(2)))


class WalletState:
    """Thread-safe store behind the wallet double, with seeding helpers and fault switches.

    `updated_at` is real Unix seconds from `clock` (never allowed to go backwards); every
    change also takes the next value of a sequence, and the list cursor is
    `"<updated_at>:<seq>"`, so changes inside one second are ordered and never skipped.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._orders: dict[str, _Order] = {}
        self._seq = 0
        self._last_updated_at = 0
        self._approvals: list[Approval] = []
        self._approval_by_key: dict[str, Approval] = {}
        self._withdraw_pending = 0
        self._fail_remaining = 0
        self._fail_status = 503
        self._delay_seconds = 0.0
        self._down = False
        self._request_count = 0

    # -- seeding and mutation from tests -------------------------------------------------

    def add_order(
        self,
        order_id: str,
        amount: str | int | Decimal,
        *,
        payer_name: str | None = None,
        card_tail: str | None = None,
        created_at: int | None = None,
        user_id: str = "u1",
        currency: str = "VND",
    ) -> OrderDict:
        """Create a pending order; `created_at` defaults to now. Returns it as served."""
        if not 1 <= len(order_id) <= 128:
            raise ValueError("order_id must have 1 to 128 characters")
        if not user_id:
            raise ValueError("user_id must not be empty")
        if not _CURRENCY_RE.fullmatch(currency):
            raise ValueError(f"currency {currency!r} is not an ISO 4217 code")
        if card_tail is not None and not _CARD_TAIL_RE.fullmatch(card_tail):
            raise ValueError(f"card_tail {card_tail!r} must be 1 to 8 digits")
        if payer_name is not None and len(payer_name) > 200:
            raise ValueError("payer_name is longer than 200 characters")
        if created_at is not None and created_at < 0:
            raise ValueError("created_at must not be negative")
        wire_amount = format_amount(amount)
        with self._lock:
            if order_id in self._orders:
                raise ValueError(f"order {order_id!r} already exists")
            updated_at, seq = self._tick()
            order = _Order(
                order_id=order_id,
                user_id=user_id,
                amount=wire_amount,
                currency=currency,
                status="pending",
                payer_name=payer_name,
                card_tail=card_tail,
                created_at=updated_at if created_at is None else created_at,
                updated_at=updated_at,
                approved_at=None,
                seq=seq,
            )
            self._orders[order_id] = order
            return order.view()

    def cancel(self, order_id: str) -> OrderDict:
        """Close a pending order without credit, as the wallet's own back office would."""
        return self._close(order_id, "cancelled")

    def expire(self, order_id: str) -> OrderDict:
        """Let a pending order run out."""
        return self._close(order_id, "expired")

    def set_withdraw_pending(self, n: int) -> None:
        """Set the number of pending withdraw orders reported by /pending-counts."""
        if n < 0:
            raise ValueError("a count cannot be negative")
        with self._lock:
            self._withdraw_pending = n

    @property
    def approvals(self) -> list[Approval]:
        """Every credit performed so far, oldest first (a copy)."""
        with self._lock:
            return list(self._approvals)

    # -- fault switches ------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next `n` requests with `status` (a non-JSON body when 5xx)."""
        if n < 0 or not 400 <= status <= 599:
            raise ValueError("n must be >= 0 and status a 4xx or 5xx code")
        with self._lock:
            self._fail_remaining = n
            self._fail_status = status

    @property
    def delay_seconds(self) -> float:
        """Seconds the double waits before answering any request (0 = none)."""
        with self._lock:
            return self._delay_seconds

    @delay_seconds.setter
    def delay_seconds(self, value: float) -> None:
        if value < 0:
            raise ValueError("delay_seconds cannot be negative")
        with self._lock:
            self._delay_seconds = float(value)

    @property
    def down(self) -> bool:
        """When true, every request is answered 503 with a non-JSON body."""
        with self._lock:
            return self._down

    @down.setter
    def down(self, value: bool) -> None:
        with self._lock:
            self._down = bool(value)

    def reset_faults(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._fail_remaining = 0
            self._delay_seconds = 0.0
            self._down = False

    @property
    def request_count(self) -> int:
        """HTTP requests received so far, faulted ones included."""
        with self._lock:
            return self._request_count

    def admit_request(self) -> int | None:
        """Count a request; return the status to fail it with, or None to serve it."""
        with self._lock:
            self._request_count += 1
            if self._down:
                return 503
            if self._fail_remaining > 0:
                self._fail_remaining -= 1
                return self._fail_status
            return None

    # -- the operations the API serves ---------------------------------------------------

    def list_orders(
        self, *, status: OrderStatus | None, updated_since: str | None, limit: int
    ) -> OrderPage:
        """Orders whose latest change is after the cursor, in change order."""
        after = _parse_cursor(updated_since)
        with self._lock:
            changed = sorted(
                (
                    order
                    for order in self._orders.values()
                    if (after is None or order.position > after)
                    and (status is None or order.status == status)
                ),
                key=lambda order: order.position,
            )[:limit]
        next_cursor = _cursor(changed[-1].position) if changed else (updated_since or "")
        return OrderPage(items=[order.view() for order in changed], next_cursor=next_cursor)

    def get_order(self, order_id: str) -> OrderDict:
        """The order as served, or OrderNotFound."""
        with self._lock:
            return self._find(order_id).view()

    def approve(self, order_id: str, key: str) -> ApprovalDict:
        """Credit a pending order once per key; replaying the same key answers the same."""
        with self._lock:
            order = self._find(order_id)
            earlier = self._approval_by_key.get(key)
            if earlier is not None:
                if earlier.order_id != order_id:
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {key!r} was already used to approve "
                        f"order {earlier.order_id!r}"
                    )
                return _approval_answer(earlier)
            if order.status == "approved":
                raise OrderNotPending(
                    f"order {order_id!r} was already approved under a different Idempotency-Key"
                )
            if order.status != "pending":
                raise OrderNotPending(f"order {order_id!r} is {order.status}, not pending")
            updated_at, seq = self._tick()
            self._orders[order_id] = replace(
                order, status="approved", approved_at=updated_at, updated_at=updated_at, seq=seq
            )
            approval = Approval(order_id=order_id, key=key, at=updated_at)
            self._approvals.append(approval)
            self._approval_by_key[key] = approval
            return _approval_answer(approval)

    def pending_counts(self) -> PendingCounts:
        """Pending recharge orders and the configured pending withdraw count."""
        with self._lock:
            recharge = sum(1 for order in self._orders.values() if order.status == "pending")
            return PendingCounts(
                recharge_pending_cnt=recharge, withdraw_pending_cnt=self._withdraw_pending
            )

    # -- internals (callers hold the lock) -----------------------------------------------

    def _tick(self) -> tuple[int, int]:
        self._last_updated_at = max(int(self._clock()), self._last_updated_at)
        self._seq += 1
        return self._last_updated_at, self._seq

    def _find(self, order_id: str) -> _Order:
        order = self._orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"no recharge order {order_id!r}")
        return order

    def _close(self, order_id: str, status: OrderStatus) -> OrderDict:
        with self._lock:
            order = self._find(order_id)
            if order.status != "pending":
                raise OrderNotPending(f"order {order_id!r} is {order.status}, not pending")
            updated_at, seq = self._tick()
            closed = replace(order, status=status, updated_at=updated_at, seq=seq)
            self._orders[order_id] = closed
            return closed.view()


def _approval_answer(approval: Approval) -> ApprovalDict:
    return ApprovalDict(order_id=approval.order_id, status="approved", approved_at=approval.at)
