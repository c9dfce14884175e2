"""The worker process: every loop in one nursery, supervised, fenced by leases, judged by freshness.

``run_worker`` returns after a clean stop (SIGTERM/SIGINT or ``WorkerHandle.stop``) and raises
``HardLimitExceeded`` (a ``SystemExit`` with status 70) when a loop stayed silent past its hard
limit, so the process supervisor restarts the worker. A shutdown that outlives the grace period
(a loop stuck in a thread) ends the process with ``os._exit(70)``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import redis
import trio
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from sqlalchemy import Engine

from recon_impl.settings import Settings
from recon_impl.storage.db import make_engine, make_session_factory
from recon_worker.context import Beat, LoopFn, WorkerContext
from recon_worker.health import Freshness, publish_health, serve_health
from recon_worker.supervise import Backoff, run_leased, supervise

__all__ = [
    "EXIT_STUCK",
    "Backoff",
    "HardLimitExceeded",
    "LoopSpec",
    "WorkerHandle",
    "build_context",
    "close_context",
    "run_worker",
]

log = logging.getLogger("recon.worker")
EXIT_STUCK = 70  # EX_SOFTWARE: the supervisor (Docker, systemd) restarts the worker


@dataclass(frozen=True, slots=True)
class LoopSpec:
    """One loop: ``budget_s`` is how long it may go without a beat; ``lease`` makes it fleet-singleton."""

    name: str
    fn: LoopFn
    budget_s: float
    lease: str | None = None


class HardLimitExceeded(SystemExit):
    """A loop stayed silent longer than its hard limit: exit so that the process is restarted."""

    def __init__(self, loop: str, silent_s: float, limit_s: float) -> None:
        super().__init__(EXIT_STUCK)
        self.loop, self.silent_s, self.limit_s = loop, silent_s, limit_s

    def __str__(self) -> str:
        return f"loop {self.loop} silent for {self.silent_s:.1f}s (hard limit {self.limit_s:.1f}s)"


@dataclass
class WorkerHandle:
    """What ``nursery.start(run_worker, ...)`` reports: the health URL and a graceful stop."""

    health_url: str
    freshness: Freshness
    stop: Callable[[], None]


@dataclass
class _Shutdown:
    grace_s: float
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    fault: HardLimitExceeded | None = None
    _timer: threading.Timer | None = None

    def begin(self, reason: str, fault: HardLimitExceeded | None = None) -> None:
        """Cancel every loop; if they are not all gone within the grace period, exit hard."""
        if self._timer is not None:
            return
        log.info("worker stopping (%s), grace %.1fs", reason, self.grace_s)
        self.fault = fault
        self._timer = threading.Timer(self.grace_s, _exit_stuck, args=(self.grace_s,))
        self._timer.daemon = True
        self._timer.start()
        self.scope.cancel()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _exit_stuck(grace_s: float) -> None:
    log.critical("loops still running %.1fs after the stop: exiting with %d", grace_s, EXIT_STUCK)
    os._exit(EXIT_STUCK)


async def run_worker(
    ctx: WorkerContext,
    specs: Sequence[LoopSpec],
    *,
    grace_s: float | None = None,
    hard_limit_factor: float | None = None,
    backoff: Backoff = Backoff(),  # noqa: B008 - frozen, shared safely
    handle_signals: bool = True,
    task_status: trio.TaskStatus[WorkerHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``specs`` until stopped; see the module docstring for how it ends."""
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate loop names in {names}")
    settings = ctx.settings
    factor = settings.worker_hard_limit_factor if hard_limit_factor is None else hard_limit_factor
    shutdown = _Shutdown(settings.worker_grace_s if grace_s is None else grace_s)
    freshness = Freshness(ctx.worker_id)
    for spec in specs:  # judged from now on, and in the very first published report
        if spec.lease is None:
            freshness.own(Beat(spec.name, spec.budget_s))
        else:
            freshness.stand_by(spec.name)
    try:
        with shutdown.scope:
            async with trio.open_nursery() as nursery:
                if handle_signals:
                    await nursery.start(_stop_on_signal, shutdown)
                url = await nursery.start(
                    serve_health, freshness, settings.worker_health_host, settings.worker_health_port
                )
                nursery.start_soon(publish_health, ctx, freshness, settings.worker_health_publish_s)
                for spec in specs:
                    nursery.start_soon(_run_spec, ctx, spec, freshness, backoff, name=f"loop:{spec.name}")
                nursery.start_soon(_watchdog, freshness, factor, _tick(specs), shutdown)
                log.info("worker %s running %d loops; health on %s", ctx.worker_id, len(specs), url)
                task_status.started(WorkerHandle(url, freshness, lambda: shutdown.begin("stop requested")))
    finally:
        shutdown.disarm()
    if shutdown.fault is not None:
        raise shutdown.fault
    log.info("worker %s stopped", ctx.worker_id)


async def _run_spec(ctx: WorkerContext, spec: LoopSpec, freshness: Freshness, backoff: Backoff) -> None:
    if spec.lease is not None:
        await run_leased(ctx, spec, freshness, backoff, ctx.settings.worker_lease_s)
    else:
        await supervise(ctx, spec, freshness.beat_of(spec.name), backoff)


async def _stop_on_signal(
    shutdown: _Shutdown, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        task_status.started()
        async for signum in signals:
            shutdown.begin(signal.Signals(signum).name)


def _tick(specs: Sequence[LoopSpec]) -> float:
    """Watchdog period: a quarter of the smallest budget, between 50 ms and 1 s."""
    smallest = min((spec.budget_s for spec in specs), default=4.0)
    return min(1.0, max(0.05, smallest / 4))


async def _watchdog(freshness: Freshness, factor: float, tick_s: float, shutdown: _Shutdown) -> None:
    while True:
        await trio.sleep(tick_s)
        for loop in freshness.loops():
            limit = loop.budget_s * factor
            if loop.silent_s > limit:
                fault = HardLimitExceeded(loop.name, loop.silent_s, limit)
                log.critical("watchdog: %s; exiting with %d", fault, EXIT_STUCK)
                shutdown.begin("hard limit", fault)
                return


def build_context(settings: Settings) -> WorkerContext:
    """Engine (pool ``db_pool_size``), a limiter of the same size, Redis with socket timeouts."""
    if not settings.database_url or not settings.redis_url:
        raise ValueError("recon_worker needs RECON_DATABASE_URL and RECON_REDIS_URL")
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        statement_timeout_ms=settings.statement_timeout_ms,
    )
    timeout = settings.worker_redis_timeout_s
    # One quick retry at most: redis-py's default (3 retries, up to 10 s backoff) would hold a
    # limiter slot for many seconds on every call while Redis is down.
    rds = redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 1),
    )
    return WorkerContext(
        settings=settings,
        sessions=make_session_factory(engine),
        redis=rds,
        worker_id=settings.worker_id or f"{socket.gethostname()}-{os.getpid()}",
        limiter=trio.CapacityLimiter(settings.db_pool_size),
    )


def close_context(ctx: WorkerContext) -> None:
    """Close the Redis pool and dispose of the engine."""
    ctx.redis.close()
    engine = ctx.sessions.kw.get("bind")
    if isinstance(engine, Engine):
        engine.dispose()
