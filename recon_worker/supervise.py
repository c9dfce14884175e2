"""Keeping one loop alive: restarts with capped, jittered backoff, and fleet leases for singletons."""

from __future__ import annotations

import logging
import os
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import trio
from sqlalchemy.orm import Session

from recon_impl.storage.db import transaction
from recon_worker import leases
from recon_worker.context import Beat, WorkerContext
from recon_worker.health import Freshness

if TYPE_CHECKING:
    from recon_worker.runtime import LoopSpec

log = logging.getLogger("recon.worker")
T = TypeVar("T")
_jitter = random.Random()  # noqa: S311 - backoff jitter, not a secret


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before restart number ``n`` of a crashing loop: ``base * 2**(n-1)`` capped, jittered."""

    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, failures: int, rand: Callable[[], float] = _jitter.random) -> float:
        """Between half and all of the capped exponential delay, so replicas do not restart in step."""
        raw = min(self.cap_s, self.base_s * 2.0 ** min(max(failures, 1) - 1, 60))
        return raw * (0.5 + rand() / 2)


def describe(exc: BaseException) -> str:
    """Type and place of an error, without its message (messages may carry tokens or SMS text)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


async def supervise(
    ctx: WorkerContext, spec: LoopSpec, beat: Beat, backoff: Backoff, lease: leases.Lease | None = None
) -> None:
    """Run ``spec.fn`` until cancelled, restarting it after every exception (or early return)."""
    leases.held_lease.set(lease)
    failures = 0
    while True:
        beat_before = beat.last
        try:
            await spec.fn(ctx, beat)
            what = "returned"
            error: BaseException | None = None
        except Exception as exc:
            what, error = f"crashed: {describe(exc)}", exc
        failures = 1 if beat.last != beat_before else failures + 1  # progress resets the backoff
        delay = backoff.delay(failures)
        log.error("loop %s %s; restart %d in %.2fs", spec.name, what, failures, delay)
        if error is not None:
            log.debug("loop %s traceback", spec.name, exc_info=error)
        await trio.sleep(delay)


async def _db_abandonable(ctx: WorkerContext, fn: Callable[[Session], T]) -> T:
    """Like ``ctx.db`` but a cancel does not wait for the thread: lease bookkeeping must be prompt."""

    def run() -> T:
        with transaction(ctx.sessions) as session:
            return fn(session)

    return await trio.to_thread.run_sync(run, limiter=ctx.limiter, abandon_on_cancel=True)


async def run_leased(
    ctx: WorkerContext, spec: LoopSpec, freshness: Freshness, backoff: Backoff, lease_s: float
) -> None:
    """Wait for the lease, run the loop while it is held, stop it at once when it is lost."""
    assert spec.lease is not None
    while True:
        asked_at = trio.current_time()
        try:
            lease = await _db_abandonable(
                ctx, partial(leases.acquire, name=spec.lease, holder=ctx.worker_id, ttl_s=lease_s)
            )
        except Exception as exc:
            log.warning("lease %s not acquired: %s", spec.lease, describe(exc))
            lease = None
        if lease is None:
            await trio.sleep(lease_s / 3 * (0.5 + _jitter.random() / 2))
            continue
        log.info("lease %s taken by %s (token %d)", lease.name, lease.holder, lease.token)
        beat = Beat(spec.name, spec.budget_s)
        freshness.own(beat)
        lost = False
        try:
            async with trio.open_nursery() as held:
                held.start_soon(supervise, ctx, spec, beat, backoff, lease)
                await _keep_renewed(ctx, lease, lease_s, asked_at)
                lost = True
                log.warning("lease %s lost (token %d): loop %s stopped", lease.name, lease.token, spec.name)
                held.cancel_scope.cancel()
        finally:
            freshness.stand_by(spec.name)
            if not lost:
                await _release(ctx, lease)


async def _keep_renewed(ctx: WorkerContext, lease: leases.Lease, lease_s: float, renewed_at: float) -> None:
    """Renew every third of the lease time; return when the lease is lost or no renewal came back
    within two thirds of it (the loop must stop before the lease can expire)."""
    while True:
        await trio.sleep_until(renewed_at + lease_s / 3)
        asked_at = trio.current_time()
        with trio.move_on_at(renewed_at + lease_s * 2 / 3) as scope:
            if not await _renew_until_answered(ctx, lease, lease_s):
                return
        if scope.cancelled_caught:
            log.warning("lease %s: no renewal in time", lease.name)
            return
        renewed_at = asked_at


async def _renew_until_answered(ctx: WorkerContext, lease: leases.Lease, lease_s: float) -> bool:
    while True:
        try:
            return await _db_abandonable(ctx, partial(leases.renew, lease=lease, ttl_s=lease_s))
        except Exception as exc:
            log.warning("lease %s renewal failed: %s", lease.name, describe(exc))
            await trio.sleep(min(1.0, lease_s / 12))


async def _release(ctx: WorkerContext, lease: leases.Lease) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(5):
        try:
            await _db_abandonable(ctx, partial(leases.release, lease=lease))
            log.info("lease %s released (token %d)", lease.name, lease.token)
        except Exception as exc:
            log.warning("lease %s not released: %s", lease.name, describe(exc))
