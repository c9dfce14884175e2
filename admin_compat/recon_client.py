"""The admin edge's way to recon_service: the generated client, bounded, retried and broken.

Every call goes through ``ReconClient.call(endpoint, idempotent=..., **kwargs)`` where
``endpoint`` is a generated operation's ``sync_detailed`` (``admin_compat.recon_api.api...``).
With ``parse=False`` the generated module still builds the request (its ``_get_kwargs``: path,
query, body and their types) but the answer is not turned into models: ``parsed`` is None and
the caller reads ``content`` (the legacy handlers map recon's JSON themselves; parsing a page
of 20 SMS into models first cost 0.2 ms and was thrown away). Every call has:

- explicit connect/read/write/pool timeouts on one pooled ``httpx`` client;
- a bulkhead: at most ``pool_size`` recon calls at once per lane, so slow list routes cannot take
  the threads the header bar's top-info needs (its own lane);
- ``stamina`` retries for idempotent calls (reads, deletes, PUTs), on transient failures only
  (connection errors, timeouts, HTTP 5xx); never for a create or a review; all attempts of one
  call fit in ``retry_budget_s`` (each attempt's timeouts are capped at what is left of it);
- a ``pybreaker`` circuit breaker (the ``calling()`` form, which does not serialize calls): once
  open, calls fail at once with ``ReconUnavailable`` (before waiting for a bulkhead slot) until
  the reset timeout lets one trial call through; while that trial runs, other calls fail at once.

``ReconUnavailable`` means "recon did not answer usefully": the legacy routes answer 5003. Any
answer below 500 (a 4xx problem included) is returned for the route to map. A 5xx never reaches
the generated parser (a response hook raises first), and a body the parser cannot read is
``ReconUnavailable`` too, never a bare ``ValueError``. A 503 ``/problems/dependency-unavailable``
(recon is up, the wallet behind it is not) is ``ReconUnavailable`` as well, but neither retried
nor counted by the breaker: a wallet outage must not shed every recon route. Programming errors
(a wrong keyword argument, say) propagate unchanged and are not counted by the breaker.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
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


class _DependencyDown(Exception):
    """recon answered, healthy, that one of its own dependencies (the wallet) is unavailable."""


class _Unreadable(Exception):
    """recon answered a body the generated client cannot parse: a failure, not worth a retry."""


# What is worth another attempt of an idempotent call. Not LocalProtocolError/UnsupportedProtocol
# (our own request is wrong), not a decoding error.
_RETRY_ON = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, _Transient)
# What counts as recon failing (for the breaker) and becomes ReconUnavailable.
_FAILURES = (httpx.HTTPError, _Transient, _Unreadable)
_DEPENDENCY_PROBLEM = "/problems/dependency-unavailable"
_BUDGET_SPENT_S = 0.01


def _names_a_dependency(response: httpx.Response) -> bool:
    """A 503 problem of recon's own saying a dependency of recon is down, not recon."""
    if response.status_code != 503:
        return False
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    try:
        problem = json.loads(response.read())
    except ValueError:
        return False
    return isinstance(problem, dict) and problem.get("type") == _DEPENDENCY_PROBLEM


def _not_a_recon_failure(exc: BaseException) -> bool:
    return not isinstance(exc, _FAILURES)


class _BudgetedTransport(httpx.HTTPTransport):
    """Caps every timeout of a request at what is left of the calling thread's retry budget.

    stamina only stops *starting* attempts once the budget is spent; without this cap an attempt
    that starts just before the end could still wait a whole read timeout (3 s) past it.
    """

    def __init__(self, budget: threading.local, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._budget = budget

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        until: float | None = getattr(self._budget, "until", None)
        if until is not None:
            left = until - time.monotonic()
            if left < _BUDGET_SPENT_S:  # stamina's clock started a hair later: no last-moment try
                raise httpx.PoolTimeout("the retry budget of this recon call is spent", request=request)
            timeouts = request.extensions.get("timeout", {})
            capped = {name: left if value is None else min(value, left) for name, value in timeouts.items()}
            request.extensions = {**request.extensions, "timeout": capped}
        return super().handle_request(request)


@dataclass(frozen=True, slots=True)
class ReconConfig:
    base_url: str
    token: str
    connect_s: float = 1.0
    read_s: float = 3.0
    write_s: float = 3.0
    pool_s: float = 1.0  # waiting for a lane slot, and for a pooled connection
    attempts: int = 3  # idempotent calls only
    retry_budget_s: float = 4.0  # all attempts of one idempotent call, backoff included
    breaker_fail_max: int = 5
    breaker_reset_s: float = 10.0
    pool_size: int = 8  # concurrent calls per lane (the bulkhead)


_UNPARSED: dict[Callable[..., Any], Callable[..., Any]] = {}


def _unparsed(endpoint: Callable[..., Response[T]]) -> Callable[..., Response[T]]:
    """``endpoint`` (a generated ``sync_detailed``) without its answer parsing: the same
    request, built by its module's ``_get_kwargs``."""
    found = _UNPARSED.get(endpoint)
    if found is None:
        build = getattr(sys.modules[endpoint.__module__], "_get_kwargs", None)
        if build is None or endpoint.__name__ != "sync_detailed":
            raise TypeError(f"{endpoint!r} is not a generated recon operation's sync_detailed")

        def send(*, client: AuthenticatedClient, **kwargs: Any) -> Response[Any]:
            answer = client.get_httpx_client().request(**build(**kwargs))
            return Response(
                status_code=HTTPStatus(answer.status_code),
                content=answer.content,
                headers=answer.headers,
                parsed=None,
            )

        found = _UNPARSED[endpoint] = send
    return found


class _OpenedAt(pybreaker.CircuitBreakerListener):
    """Remembers when the breaker last opened, so a shed call needs no lock and no slot."""

    def __init__(self) -> None:
        self.at = 0.0

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            self.at = time.monotonic()


class ReconClient:
    """One per process; thread-safe."""

    def __init__(self, config: ReconConfig) -> None:
        self.config = config
        self._answer = threading.local()  # did this thread's current attempt get an answer?
        self._budget = threading.local()  # until when this thread's idempotent call may retry
        timeout = httpx.Timeout(
            connect=config.connect_s, read=config.read_s, write=config.write_s, pool=config.pool_s
        )
        size = config.pool_size
        limits = httpx.Limits(max_connections=4 * size, max_keepalive_connections=size)
        self._api = AuthenticatedClient(
            base_url=config.base_url.rstrip("/"),
            token=config.token,
            timeout=timeout,
            httpx_args={
                "transport": _BudgetedTransport(self._budget, limits=limits),
                "event_hooks": {"response": [self._answered]},
            },
        )
        # Built now: the generated client builds it lazily, and two first calls would race.
        self._api.get_httpx_client()
        self._opened = _OpenedAt()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=config.breaker_fail_max,
            reset_timeout=config.breaker_reset_s,
            exclude=[_not_a_recon_failure],
            listeners=[self._opened],
            name="recon",
        )
        self._trial = threading.Lock()  # one half-open trial call at a time
        self._lanes: dict[str, threading.BoundedSemaphore] = {}
        self._lanes_lock = threading.Lock()

    def call(
        self,
        endpoint: Callable[..., Response[T]],
        /,
        *,
        idempotent: bool,
        lane: str = "default",
        parse: bool = True,
        **kwargs: Any,
    ) -> Response[T]:
        """Run ``endpoint(client=..., **kwargs)``; raise ``ReconUnavailable`` instead of failing.
        With ``parse=False`` the answer's ``parsed`` is None (see the module doc)."""
        if not parse:
            endpoint = _unparsed(endpoint)
        if self._shed_by_breaker():
            raise ReconUnavailable("recon circuit breaker is open")
        slots = self._lane(lane)
        if not slots.acquire(timeout=self.config.pool_s):
            raise ReconUnavailable(f"every recon slot of lane {lane!r} is busy")
        try:
            if self.breaker.current_state == pybreaker.STATE_CLOSED:
                return self._guarded(endpoint, idempotent, kwargs)
            if not self._trial.acquire(blocking=False):
                raise ReconUnavailable("recon circuit breaker is half-open and its trial call is running")
            try:
                return self._guarded(endpoint, idempotent, kwargs)
            finally:
                self._trial.release()
        finally:
            slots.release()

    def _shed_by_breaker(self) -> bool:
        return (
            self.breaker.current_state == pybreaker.STATE_OPEN
            and time.monotonic() - self._opened.at < self.config.breaker_reset_s
        )

    def _guarded(
        self, endpoint: Callable[..., Response[T]], idempotent: bool, kwargs: dict[str, Any]
    ) -> Response[T]:
        try:
            with self.breaker.calling():
                return self._attempts(endpoint, idempotent, kwargs)
        except pybreaker.CircuitBreakerError as exc:
            raise ReconUnavailable("recon circuit breaker is open") from exc
        except _FAILURES as exc:
            raise ReconUnavailable(f"recon call failed: {exc.__class__.__name__}") from exc
        except _DependencyDown as exc:  # not a retry, not a breaker failure: recon did answer
            raise ReconUnavailable(str(exc)) from exc

    def _attempts(
        self, endpoint: Callable[..., Response[T]], idempotent: bool, kwargs: dict[str, Any]
    ) -> Response[T]:
        if not idempotent:
            return self._once(endpoint, kwargs)
        self._budget.until = time.monotonic() + self.config.retry_budget_s
        try:
            for attempt in stamina.retry_context(
                on=_RETRY_ON,
                attempts=self.config.attempts,
                timeout=self.config.retry_budget_s,
                wait_initial=0.05,
                wait_max=0.5,
                wait_jitter=0.05,  # stamina's default (1 s) would dwarf these waits
            ):
                with attempt:
                    return self._once(endpoint, kwargs)
        finally:
            self._budget.until = None
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    def _once(self, endpoint: Callable[..., Response[T]], kwargs: dict[str, Any]) -> Response[T]:
        self._answer.seen = False
        try:
            return endpoint(client=self._api, **kwargs)
        except (ValueError, KeyError) as exc:  # json.JSONDecodeError is a ValueError
            if not self._answer.seen:
                raise  # raised before anything was sent: a programming error, not recon's
            raise _Unreadable(f"recon answered an unreadable body: {exc.__class__.__name__}") from exc

    def _answered(self, response: httpx.Response) -> None:
        """httpx response hook: runs before the generated code parses the body."""
        self._answer.seen = True
        if _names_a_dependency(response):
            raise _DependencyDown("recon answered that a dependency of its own is unavailable")
        if response.status_code >= 500:
            raise _Transient(response.status_code)

    def _lane(self, name: str) -> threading.BoundedSemaphore:
        with self._lanes_lock:
            lane = self._lanes.get(name)
            if lane is None:
                lane = self._lanes[name] = threading.BoundedSemaphore(self.config.pool_size)
            return lane

    def close(self) -> None:
        self._api.get_httpx_client().close()
