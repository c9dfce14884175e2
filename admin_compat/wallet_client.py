"""The admin edge's client of wallet_service (``openapi/wallet.yaml``): counts and approve.

The edge is the only code that calls the wallet's approve operation (architecture boundary 3).

- explicit connect/read/write/pool timeouts on one pooled ``httpx`` client;
- ``stamina`` retries on transient failures (connection errors, timeouts, HTTP 5xx), only where
  a retry cannot do harm: GETs, and ``approve`` with the same ``Idempotency-Key`` (the wallet
  answers a repeated key with the first answer and credits nothing more);
- a ``pybreaker`` circuit breaker (the ``calling()`` form): transient failures open it, a
  refusal (4xx) does not.

``WalletUnavailable`` means "the wallet did not answer definitively": an approve may or may
not have happened, so the caller keeps its in-flight record for the worker to settle.
``WalletRefused`` is a definitive no (404 or 409 problem+json): nothing was credited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pybreaker
import stamina
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ApprovalResult",
    "PendingCounts",
    "WalletClient",
    "WalletConfig",
    "WalletRefused",
    "WalletSettings",
    "WalletUnavailable",
    "default_wallet",
    "set_wallet",
]


class WalletUnavailable(Exception):
    """The wallet is down, slow, failing, or shed by the breaker: the outcome is unknown."""


class WalletRefused(Exception):
    """The wallet definitively refused (unknown order, order not pending, key reused)."""

    def __init__(self, status: int, problem_type: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.problem_type = problem_type
        self.detail = detail


class _Transient(Exception):
    """A 5xx answer: worth another try, and a failure for the breaker."""

    def __init__(self, status: int) -> None:
        super().__init__(f"wallet answered HTTP {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class PendingCounts:
    recharge_pending_cnt: int
    withdraw_pending_cnt: int


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    order_id: str
    approved_at: int


@dataclass(frozen=True, slots=True)
class WalletConfig:
    base_url: str
    token: str
    connect_s: float = 1.0
    read_s: float = 3.0
    write_s: float = 3.0
    pool_s: float = 1.0
    attempts: int = 3
    retry_budget_s: float = 5.0  # all attempts of one call, backoff included
    breaker_fail_max: int = 5
    breaker_reset_s: float = 10.0
    max_connections: int = 16


class WalletSettings(BaseSettings):
    """``ADMIN_WALLET_*`` environment: where the wallet is and the edge's service token."""

    model_config = SettingsConfigDict(env_prefix="ADMIN_WALLET_", extra="ignore")

    url: str = "http://127.0.0.1:8791/wallet/v1"
    token: SecretStr = SecretStr("wallet-dev-token")
    read_s: float = 3.0

    def config(self) -> WalletConfig:
        return WalletConfig(self.url, self.token.get_secret_value(), read_s=self.read_s)


class WalletClient:
    """One per process; thread-safe."""

    def __init__(self, config: WalletConfig) -> None:
        self.config = config
        timeout = httpx.Timeout(
            connect=config.connect_s, read=config.read_s, write=config.write_s, pool=config.pool_s
        )
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {config.token}"},
            timeout=timeout,
            limits=httpx.Limits(max_connections=config.max_connections),
        )
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=config.breaker_fail_max, reset_timeout=config.breaker_reset_s, name="wallet"
        )

    def pending_counts(self, *, timeout_s: float | None = None) -> PendingCounts:
        """The wallet's pending recharge and withdraw counts; ``timeout_s`` caps each attempt."""
        timeout = httpx.USE_CLIENT_DEFAULT if timeout_s is None else httpx.Timeout(timeout_s)
        response = self._guarded(lambda: self._http.get("pending-counts", timeout=timeout))
        if response.status_code != 200:
            raise WalletUnavailable(f"wallet answered HTTP {response.status_code} to pending-counts")
        try:
            data = response.json()
            return PendingCounts(int(data["recharge_pending_cnt"]), int(data["withdraw_pending_cnt"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise WalletUnavailable("wallet answered unreadable pending counts") from exc

    def approve(self, order_id: str, idempotency_key: str) -> ApprovalResult:
        """Credit ``order_id`` once under ``idempotency_key``; retried with the same key."""
        path = f"recharge-orders/{quote(order_id, safe='')}/approve"
        headers = {"Idempotency-Key": idempotency_key}
        # No body: the spec's "a missing body counts as {}".
        response = self._guarded(lambda: self._http.post(path, headers=headers))
        if response.status_code in (404, 409):
            problem_type, detail = _problem(response)
            raise WalletRefused(response.status_code, problem_type, detail)
        if response.status_code != 200:
            # 400/401 are our own fault, not the wallet's "no": the outcome stays unknown.
            raise WalletUnavailable(f"wallet answered HTTP {response.status_code} to approve")
        try:
            data = response.json()
            return ApprovalResult(str(data["order_id"]), int(data["approved_at"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise WalletUnavailable("wallet answered an unreadable approval") from exc

    def _guarded(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            with self.breaker.calling():
                return self._attempts(send)
        except pybreaker.CircuitBreakerError as exc:
            raise WalletUnavailable("wallet circuit breaker is open") from exc
        except (httpx.HTTPError, _Transient) as exc:
            raise WalletUnavailable(f"wallet call failed: {type(exc).__name__}") from exc

    def _attempts(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        for attempt in stamina.retry_context(
            on=(httpx.TransportError, _Transient),
            attempts=self.config.attempts,
            timeout=self.config.retry_budget_s,
            wait_initial=0.05,
            wait_max=0.5,
        ):
            with attempt:
                response = send()
                if response.status_code >= 500:
                    raise _Transient(response.status_code)
                return response
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    def close(self) -> None:
        self._http.close()


def _problem(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
        return str(data.get("type", "about:blank")), str(data.get("detail", ""))
    except (ValueError, AttributeError):
        return "about:blank", f"wallet answered HTTP {response.status_code}"


_current: WalletClient | None = None
_current_lock = threading.Lock()


def default_wallet() -> WalletClient:
    """The process's wallet client, built from ``WalletSettings`` on first use."""
    global _current  # noqa: PLW0603 - the one process-wide client
    with _current_lock:
        if _current is None:
            _current = WalletClient(WalletSettings().config())
        return _current


def set_wallet(client: WalletClient | None) -> None:
    """Replace the process's wallet client (tests, or an app factory that builds its own)."""
    global _current  # noqa: PLW0603 - the one process-wide client
    with _current_lock:
        _current = client
