"""Read-only client of wallet_service (``openapi/wallet.yaml``).

Recon may read orders; it has no method that writes to the wallet, by design (only the admin
edge's approval path calls the wallet's approve operation).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import httpx

from recon_impl.domain.errors import DependencyUnavailable


@dataclass(frozen=True, slots=True)
class WalletOrder:
    order_id: str
    amount: Decimal
    status: str
    created_at: int


class WalletReader:
    """GETs against the wallet with bounded timeouts; any failure is ``DependencyUnavailable``."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 3.0) -> None:
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0))
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=httpx.HTTPTransport(retries=1),
        )

    def get_order(self, order_id: str) -> WalletOrder | None:
        """The order, or None when the wallet does not know it."""
        try:
            response = self._client.get(f"recharge-orders/{quote(order_id, safe='')}")
        except httpx.HTTPError as exc:
            raise DependencyUnavailable(f"wallet did not answer: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyUnavailable(f"wallet answered HTTP {response.status_code}")
        try:
            data = response.json()
            return WalletOrder(
                order_id=str(data["order_id"]),
                amount=Decimal(str(data["amount"])),
                status=str(data["status"]),
                created_at=int(data["created_at"]),
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise DependencyUnavailable("wallet answered an unreadable order") from exc

    def close(self) -> None:
        self._client.close()
