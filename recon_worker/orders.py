"""The worker's view of the wallet's recharge orders: read-only, kept current by a change feed.

The wallet (``openapi/wallet.yaml``) lists orders changed after an opaque cursor, each order once
in its current state. ``OrderFeed.sync`` starts with the pending orders only, then follows every
change: an order that is pending goes into the ``OrderBook``, one that left pending (approved,
cancelled or expired, here or elsewhere) comes out and is reported as closed. The book is
``fresh`` once the first full pass succeeded; matching waits for that rather than deciding on a
partial view. Nothing here can write to the wallet: the client has GETs only, by design.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from recon_impl.adapters.wallet import WalletOrder
from recon_impl.domain.matching import PendingOrder
from recon_impl.settings import Settings
from recon_worker.decide import Book

__all__ = ["OrderChanges", "OrderFeed", "WalletFeedError", "WalletOrders", "open_wallet"]

log = logging.getLogger(__name__)
PAGE = 500
MAX_PAGES_PER_SYNC = 200  # 100,000 changes; the rest comes on the next pass


class WalletFeedError(Exception):
    """The wallet did not answer, or answered something that is not the spec's."""


@dataclass(frozen=True, slots=True)
class OrderChanges:
    """What one sync learnt: new pending orders' amounts, and the orders that were closed."""

    opened: tuple[PendingOrder, ...] = ()
    closed: tuple[str, ...] = ()

    @property
    def amounts(self) -> set[Decimal]:
        return {order.amount for order in self.opened}


class WalletOrders:
    """GETs against the wallet on ``httpx.AsyncClient`` (trio-native), every timeout bounded."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def page(self, cursor: str, *, pending_only: bool, limit: int = PAGE) -> tuple[list[Any], str]:
        params: dict[str, str | int] = {"updated_since": cursor, "limit": limit}
        if pending_only:
            params["status"] = "pending"
        data = await self._get("recharge-orders", params)
        items, next_cursor = data.get("items"), data.get("next_cursor")
        if not isinstance(items, list) or not isinstance(next_cursor, str):
            raise WalletFeedError("wallet answered an order page without items and next_cursor")
        return items, next_cursor

    async def get_order(self, order_id: str) -> WalletOrder | None:
        """One order in its current state; None when the wallet does not know it."""
        try:
            data = await self._get(f"recharge-orders/{quote(order_id, safe='')}", {})
        except _NotFound:
            return None
        order = _order(data)
        return WalletOrder(order.order_id, order.amount, str(data.get("status")), order.created_at)

    async def _get(self, path: str, params: Mapping[str, str | int]) -> dict[str, Any]:
        try:
            response = await self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise WalletFeedError(f"wallet did not answer: {type(exc).__name__}") from None
        if response.status_code == 404:
            raise _NotFound
        if response.status_code != 200:
            resource = path.partition("/")[0]
            raise WalletFeedError(f"wallet answered HTTP {response.status_code} to GET {resource}")
        try:
            data = response.json()
        except ValueError:
            raise WalletFeedError("wallet answered a body that is not JSON") from None
        if not isinstance(data, dict):
            raise WalletFeedError("wallet answered a JSON body that is not an object")
        return data


class _NotFound(Exception):
    pass


def open_wallet(settings: Settings) -> httpx.AsyncClient:
    """An ``AsyncClient`` for the wallet with every timeout set (use it as a context manager)."""
    timeout = settings.wallet_timeout_s
    return httpx.AsyncClient(
        base_url=settings.wallet_url.rstrip("/") + "/",
        headers={"Authorization": f"Bearer {settings.wallet_token.get_secret_value()}"},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0), pool=timeout),
    )


def _order(raw: Any) -> PendingOrder:
    if not isinstance(raw, dict):
        raise WalletFeedError("wallet answered an order that is not an object")
    try:
        return PendingOrder(
            order_id=str(raw["order_id"]),
            amount=Decimal(str(raw["amount"])),
            created_at=int(raw["created_at"]),
            card_tail=raw.get("card_tail") or None,
            payer_name=raw.get("payer_name") or None,
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise WalletFeedError("wallet answered an unreadable order") from None


@dataclass
class OrderFeed:
    """Follows the wallet's change feed into ``book``; one feed per worker process."""

    book: Book = field(default_factory=Book)
    cursor: str = ""

    async def sync(self, wallet: WalletOrders) -> OrderChanges:
        """Read every change since the last pass; the first pass loads the pending orders."""
        opened: list[PendingOrder] = []
        closed: list[str] = []
        first = not self.book.fresh
        for _ in range(MAX_PAGES_PER_SYNC):
            items, next_cursor = await wallet.page(self.cursor, pending_only=first)
            for raw in items:
                order = _order(raw)
                if raw.get("status") == "pending":
                    if order.order_id not in self.book.orders:
                        opened.append(order)
                    self.book.orders.remove(order.order_id)
                    self.book.orders.add(order)
                elif self.book.orders.remove(order.order_id) is not None:
                    closed.append(order.order_id)
            self.cursor = next_cursor
            if len(items) < PAGE:
                break
        else:
            log.info("order feed: more than %d pages behind; continuing next pass", MAX_PAGES_PER_SYNC)
            return OrderChanges(tuple(opened), tuple(closed))
        if first:
            log.info("order feed: %d pending orders loaded", len(self.book.orders))
        self.book.fresh = True
        return OrderChanges(tuple(opened), tuple(closed))
