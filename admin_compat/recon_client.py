"""The admin edge's way to recon_service: the generated client, bounded, retried and broken.

Every call goes through ``ReconClient.call(endpoint, idempotent=..., **kwargs)`` where
``endpoint`` is a generated operation's ``sync_detailed`` (``admin_compat.recon_api.api...``):

- explicit connect/read/write/pool timeouts on one pooled ``httpx`` client;
- a bulkhead: at most ``pool_size`` recon calls at once per lane, so slow list routes cannot take
  the threads the header bar's top-info needs (its own lane);
- ``stamina`` retries for idempotent calls (reads, deletes, PUTs), on transient failures only
  (connection errors, timeouts, HTTP 5xx); never for a create or a review;
- a ``pybreaker`` circuit breaker (the ``calling()`` form, which does not serialize calls): once
  open, calls fail at once with ``ReconUnavailable`` until the reset timeout lets one through.

``ReconUnavailable`` means "recon did not answer usefully": the legacy routes answer 5003. Any
answer below 500 (a 4xx problem included) is returned for the route to map.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pybreaker
import stamina

from admin_compat.recon_api import AuthenticatedClient
from admin_compat.recon_api.types import Response

__all__ = ["ReconClient", "ReconConfig", "ReconUnavailable"]

T = TypeVar("T")


class ReconUnavailable(Exception):
    """recon_service is down, slow, failing or shed by the breaker or the bulkhead."""


class _Transient(Exception):
    """A 5xx answer: worth another try for an idempotent call, a failure for the breaker."""

    def __init__(self, status: int) -> None:
        super().__init__(f"recon answered HTTP {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class ReconConfig:
    base_url: str
    token: str
    connect_s: float = 1.0
    read_s: float = 3.0
    write_s: float = 3.0
    pool_s: float = 1.0
    attempts: int = 3  # idempotent calls only
    retry_budget_s: float = 4.0  # all attempts of one call, backoff included
    breaker_fail_max: int = 5
    breaker_reset_s: float = 10.0
    pool_size: int = 8  # concurrent calls per lane (the bulkhead)


class ReconClient:
    """One per process; thread-safe."""

    def __init__(self, config: ReconConfig) -> None:
        self.config = config
        timeout = httpx.Timeout(
            connect=config.connect_s, read=config.read_s, write=config.write_s, pool=config.pool_s
        )
        size = config.pool_size
        limits = httpx.Limits(max_connections=4 * size, max_keepalive_connections=size)
        self._api = AuthenticatedClient(
            base_url=config.base_url.rstrip("/"),
            token=config.token,
            timeout=timeout,
            httpx_args={"limits": limits},
        )
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=config.breaker_fail_max, reset_timeout=config.breaker_reset_s, name="recon"
        )
        self._lanes: dict[str, threading.BoundedSemaphore] = {}
        self._lanes_lock = threading.Lock()

    def call(
        self,
        endpoint: Callable[..., Response[T]],
        /,
        *,
        idempotent: bool,
        lane: str = "default",
        **kwargs: Any,
    ) -> Response[T]:
        """Run ``endpoint(client=..., **kwargs)``; raise ``ReconUnavailable`` instead of failing."""
        slots = self._lane(lane)
        if not slots.acquire(timeout=self.config.pool_s):
            raise ReconUnavailable(f"every recon slot of lane {lane!r} is busy")
        try:
            with self.breaker.calling():
                return self._attempts(endpoint, idempotent, kwargs)
        except pybreaker.CircuitBreakerError as exc:
            raise ReconUnavailable("recon circuit breaker is open") from exc
        except (httpx.HTTPError, _Transient) as exc:
            raise ReconUnavailable(f"recon call failed: {type(exc).__name__}") from exc
        finally:
            slots.release()

    def _attempts(
        self, endpoint: Callable[..., Response[T]], idempotent: bool, kwargs: dict[str, Any]
    ) -> Response[T]:
        if not idempotent:
            return self._once(endpoint, kwargs)
        for attempt in stamina.retry_context(
            on=(httpx.TransportError, _Transient),
            attempts=self.config.attempts,
            timeout=self.config.retry_budget_s,
            wait_initial=0.05,
            wait_max=0.5,
        ):
            with attempt:
                return self._once(endpoint, kwargs)
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    def _once(self, endpoint: Callable[..., Response[T]], kwargs: dict[str, Any]) -> Response[T]:
        response = endpoint(client=self._api, **kwargs)
        if int(response.status_code) >= 500:
            raise _Transient(int(response.status_code))
        return response

    def _lane(self, name: str) -> threading.BoundedSemaphore:
        with self._lanes_lock:
            lane = self._lanes.get(name)
            if lane is None:
                lane = self._lanes[name] = threading.BoundedSemaphore(self.config.pool_size)
            return lane

    def close(self) -> None:
        self._api.get_httpx_client().close()
