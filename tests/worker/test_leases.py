"""Fenced leases on real PostgreSQL: one holder at a time, takeover after expiry, stale holders fenced;
and the runtime running a leased loop on exactly one of two replicas."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import trio
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from recon_impl.storage.db import transaction
from recon_worker import leases
from recon_worker.context import Beat, WorkerContext
from recon_worker.runtime import LoopSpec, WorkerHandle, run_worker

TTL_S = 0.5


def test_a_free_lease_is_taken_with_token_one_and_refused_to_a_second_holder(make_ctx: Any) -> None:
    """The first acquire wins with token 1; a second holder gets nothing while the lease is live."""
    ctx = make_ctx("w")
    with transaction(ctx.sessions) as s:
        first = leases.acquire(s, "job", "alice", ttl_s=30)
    with transaction(ctx.sessions) as s:
        second = leases.acquire(s, "job", "bob", ttl_s=30)
    assert first == leases.Lease("job", "alice", 1)
    assert second is None
    with transaction(ctx.sessions) as s:
        assert leases.renew(s, first, ttl_s=30)
        assert leases.still_holds(s, "job", 1)


def test_an_expired_lease_is_taken_over_with_a_higher_token_and_the_old_holder_is_fenced(
    make_ctx: Any,
) -> None:
    """After expiry (database clock) another holder takes over with token + 1; the stale holder can
    neither renew nor pass the fence."""
    ctx = make_ctx("w")
    with transaction(ctx.sessions) as s:
        stale = leases.acquire(s, "job", "alice", ttl_s=TTL_S)
    assert stale is not None
    time.sleep(TTL_S + 0.2)
    with transaction(ctx.sessions) as s:
        fresh = leases.acquire(s, "job", "bob", ttl_s=30)
    assert fresh == leases.Lease("job", "bob", stale.token + 1)
    with transaction(ctx.sessions) as s:
        assert not leases.renew(s, stale, ttl_s=30)
        assert not leases.still_holds(s, "job", stale.token)
        assert leases.still_holds(s, "job", fresh.token)
    with pytest.raises(leases.LeaseLost), transaction(ctx.sessions) as s:
        leases.ensure_holds(s, stale)


def test_an_expired_lease_fails_the_fence_even_before_anyone_takes_it(make_ctx: Any) -> None:
    """A holder that stopped renewing cannot write once its lease time is over."""
    ctx = make_ctx("w")
    with transaction(ctx.sessions) as s:
        lease = leases.acquire(s, "job", "alice", ttl_s=TTL_S)
    assert lease is not None
    time.sleep(TTL_S + 0.2)
    with transaction(ctx.sessions) as s:
        assert not leases.still_holds(s, "job", lease.token)
        assert not leases.renew(s, lease, ttl_s=30)


def test_a_released_lease_is_taken_at_once_with_a_higher_token(make_ctx: Any, db: Any) -> None:
    """Release frees the lease before its expiry; the token keeps growing."""
    ctx = make_ctx("w")
    with transaction(ctx.sessions) as s:
        lease = leases.acquire(s, "job", "alice", ttl_s=30)
    assert lease is not None
    with transaction(ctx.sessions) as s:
        leases.release(s, lease)
    with transaction(ctx.sessions) as s:
        taken = leases.acquire(s, "job", "bob", ttl_s=30)
    assert taken == leases.Lease("job", "bob", 2)
    assert db.execute("SELECT holder, token FROM worker_leases WHERE name = 'job'").fetchone() == ("bob", 2)


def test_the_fence_holds_off_a_takeover_until_the_writer_commits(make_ctx: Any) -> None:
    """A writer that passed the fence keeps the row locked: a takeover waits (here: times out)."""
    ctx = make_ctx("w")
    with transaction(ctx.sessions) as s:
        lease = leases.acquire(s, "job", "alice", ttl_s=TTL_S)
    assert lease is not None
    inside_fence = threading.Event()
    done = threading.Event()

    def writer() -> None:
        with transaction(ctx.sessions) as s:
            assert leases.still_holds(s, "job", lease.token)
            inside_fence.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside_fence.wait(10)
        time.sleep(TTL_S + 0.2)  # expired, but the writer's transaction still holds the row
        with pytest.raises(OperationalError, match="lock timeout"), transaction(ctx.sessions) as s:
            s.execute(text("SET LOCAL lock_timeout = '300ms'"))
            leases.acquire(s, "job", "bob", ttl_s=30)
    finally:
        done.set()
        thread.join()
    with transaction(ctx.sessions) as s:
        assert leases.acquire(s, "job", "bob", ttl_s=30) == leases.Lease("job", "bob", 2)


# -- the runtime ---------------------------------------------------------------------------------


class Singleton:
    """A leased test loop that records who ran it, with which token, and how many ran at once."""

    def __init__(self, *, fenced: bool = True) -> None:
        self.fenced = fenced
        self.running: list[str] = []
        self.peak = 0
        self.seen: list[tuple[str, int]] = []
        self.stopped: list[tuple[str, int]] = []

    async def __call__(self, ctx: WorkerContext, beat: Beat) -> None:
        lease = leases.current_lease()
        self.running.append(ctx.worker_id)
        self.peak = max(self.peak, len(self.running))
        try:
            while True:
                if self.fenced:  # a fenced "write"
                    await ctx.db(partial(leases.ensure_holds, lease=lease))
                self.seen.append((ctx.worker_id, lease.token))
                beat.beat()
                await trio.sleep(0.05)
        finally:
            self.running.remove(ctx.worker_id)
            self.stopped.append((ctx.worker_id, lease.token))


def holders(seen: list[tuple[str, int]]) -> set[str]:
    return {worker for worker, _ in seen}


@pytest.mark.trio
async def test_two_workers_contend_for_one_lease_and_only_one_runs_the_singleton(
    make_ctx: Callable[[str], WorkerContext], wait_until: Any
) -> None:
    """Of two replicas only one runs the leased loop; when it stops the other takes over with a
    higher token."""
    loop = Singleton()
    specs = [LoopSpec("singleton", loop, budget_s=5, lease="singleton")]
    ctxs = {worker: make_ctx(worker) for worker in ("worker-a", "worker-b")}
    async with trio.open_nursery() as nursery:
        handles: dict[str, WorkerHandle] = {}
        for worker, ctx in ctxs.items():
            handles[worker] = await nursery.start(partial(run_worker, ctx, specs, handle_signals=False))
        await wait_until(lambda: bool(loop.seen))
        await trio.sleep(2 * 1.5)  # two lease periods: renewals keep the other replica out
        assert len(holders(loop.seen)) == 1
        first, first_token = loop.seen[0]
        other = "worker-b" if first == "worker-a" else "worker-a"
        assert handles[other].freshness.report()["standby"] == ["singleton"]
        assert handles[first].freshness.report()["standby"] == []

        handles[first].stop()
        await wait_until(lambda: other in holders(loop.seen))
        assert {token for worker, token in loop.seen if worker == other} == {first_token + 1}
        assert loop.peak == 1
        handles[other].stop()


@pytest.mark.trio
async def test_a_holder_that_stops_renewing_is_replaced_after_expiry(
    make_ctx: Callable[[str], WorkerContext], db: Any, wait_until: Any
) -> None:
    """A lease left by a silent holder is taken over only after it expires, with a higher token,
    and the silent holder then fails the fence."""
    ctx = make_ctx("worker-a")
    ghost = await ctx.db(partial(leases.acquire, name="singleton", holder="ghost", ttl_s=1.5))
    assert ghost is not None
    loop = Singleton()
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(
            partial(
                run_worker, ctx, [LoopSpec("singleton", loop, 5, lease="singleton")], handle_signals=False
            )
        )
        await trio.sleep(0.5)
        assert loop.seen == []  # the ghost's lease is still live
        assert handle.freshness.report()["standby"] == ["singleton"]
        await wait_until(lambda: bool(loop.seen))
        assert holders(loop.seen) == {"worker-a"}
        assert loop.seen[0][1] == ghost.token + 1
        assert not await ctx.db(partial(leases.still_holds, name="singleton", token=ghost.token))
        row = db.execute("SELECT holder, token, expires_at > now() FROM worker_leases").fetchone()
        assert row == ("worker-a", ghost.token + 1, True)
        handle.stop()


@pytest.mark.trio
async def test_a_loop_is_cancelled_promptly_when_its_fencing_token_moves(
    make_ctx: Callable[[str], WorkerContext], db: Any, wait_until: Any
) -> None:
    """When another holder takes the lease (token moved), the loop is cancelled at the next renewal,
    the worker stands by, and it takes the lease back with a higher token after that expires."""
    ctx = make_ctx("worker-a")
    loop = Singleton(fenced=False)  # only the runtime's renewal may notice
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(
            partial(
                run_worker, ctx, [LoopSpec("singleton", loop, 5, lease="singleton")], handle_signals=False
            )
        )
        await wait_until(lambda: bool(loop.seen))
        token = loop.seen[0][1]
        db.execute(
            "UPDATE worker_leases SET holder = 'thief', token = token + 1,"
            " expires_at = now() + interval '1 second' WHERE name = 'singleton'"
        )
        await wait_until(lambda: loop.stopped == [("worker-a", token)], timeout_s=1.5)
        assert handle.freshness.report()["standby"] == ["singleton"]
        await wait_until(lambda: ("worker-a", token + 2) in loop.seen)
        handle.stop()
