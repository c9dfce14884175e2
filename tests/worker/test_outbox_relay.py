"""The outbox relay and its NOTIFY listener on real PostgreSQL and Redis, in real time.

The relay's fallback poll is set to a minute wherever a test waits for a message, so only the
NOTIFY wake-up can explain a message that arrives within the test's deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psycopg
import pytest
import redis
import trio

from recon_impl.services.context import SYSTEM
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.services.journal import announce_refresh
from recon_impl.services.sms import reset_sms
from recon_impl.settings import Settings
from recon_impl.storage.db import make_engine, make_session_factory, transaction
from recon_impl.storage.legacy_keys import NEED_CHECK_CNT
from recon_worker.context import Beat, WorkerContext
from recon_worker.outbox import (
    RelayConfig,
    Relayed,
    listen_notifications,
    outbox_relay,
    prune_published,
    relay_once,
)
from testkit import RefreshChannel, worker_context

QUIET = RelayConfig(fallback_s=60.0)
DEADLINE_S = 10.0  # a deadline for "promptly", far below the 60 s fallback; not a speed claim


@pytest.fixture
def ctx(settings: Settings) -> Iterator[WorkerContext]:
    with worker_context(settings, "test-relay", pool_size=6) as context:
        yield context


@pytest.fixture
def channel(settings: Settings) -> Iterator[RefreshChannel]:
    assert settings.redis_url
    subscriber = RefreshChannel(settings.redis_url)
    yield subscriber
    subscriber.close()


async def wait_until(predicate: Any, timeout_s: float = DEADLINE_S) -> None:
    with trio.fail_after(timeout_s):
        while not predicate():
            await trio.sleep(0.02)


async def next_round(ctx: WorkerContext, beat: Beat) -> None:
    """Wake the relay and wait until it has finished one more round."""
    before = beat.last
    ctx.wake("outbox")
    await wait_until(lambda: beat.last is not None and beat.last != before)


async def announce(ctx: WorkerContext, *reasons: str) -> None:
    """Commit one outbox row per reason, each in its own transaction."""
    for reason in reasons:
        await ctx.db(partial(announce_refresh, reason=reason))


def outbox_rows(db: psycopg.Connection[Any]) -> list[tuple[int, str, bool]]:
    rows = db.execute("SELECT id, payload->>'reason', published_at IS NOT NULL FROM outbox ORDER BY id")
    return [(int(i), str(r), bool(p)) for i, r, p in rows.fetchall()]


async def start_relay(nursery: trio.Nursery, ctx: WorkerContext, config: RelayConfig = QUIET) -> Beat:
    beat = Beat("outbox_relay", 60.0)
    nursery.start_soon(partial(outbox_relay, config=config), ctx, beat)
    await wait_until(lambda: beat.last is not None)
    return beat


async def start_listener(nursery: trio.Nursery, ctx: WorkerContext) -> Beat:
    beat = Beat("outbox_listen", 60.0)
    nursery.start_soon(listen_notifications, ctx, beat)
    await wait_until(lambda: beat.last is not None)  # LISTEN is in place once it has beaten
    return beat


@pytest.mark.trio
async def test_a_committed_row_is_published_promptly_because_notify_wakes_the_relay(
    ctx: WorkerContext, channel: RefreshChannel, db: psycopg.Connection[Any]
) -> None:
    """With a one-minute fallback poll, only the commit's NOTIFY can bring the message in time;
    the same notification also wakes the SMS loops."""
    sms_woken: list[bool] = []
    async with trio.open_nursery() as nursery:
        await start_listener(nursery, ctx)
        await start_relay(nursery, ctx)

        async def wait_sms() -> None:
            sms_woken.append(await ctx.wait_for("sms", 60.0))

        nursery.start_soon(wait_sms)
        await wait_until(lambda: "sms" in ctx.wakeups)
        await announce(ctx, "sms_received")
        message = await channel.next()
        nursery.cancel_scope.cancel()
    (row_id, _, published), *_ = outbox_rows(db)
    assert message is not None
    assert message["type"] == "top_info" and message["reason"] == "sms_received"
    assert set(message) == {"type", "reason", "id"} and message["id"] >= row_id
    assert published
    assert sms_woken == [True]


@pytest.mark.trio
async def test_an_uncommitted_row_is_not_published_and_a_rolled_back_one_never_is(
    ctx: WorkerContext, channel: RefreshChannel, db: psycopg.Connection[Any]
) -> None:
    """A row is invisible to the relay until its transaction commits; after a rollback it is gone."""
    async with trio.open_nursery() as nursery:
        await start_listener(nursery, ctx)
        relay = await start_relay(nursery, ctx)
        with ctx.sessions() as session:
            session.begin()
            announce_refresh(session, "never")
            session.flush()
            await next_round(ctx, relay)  # a full relay round while the row exists, uncommitted
            assert await channel.next(timeout_s=0.3) is None
            session.rollback()
        await announce(ctx, "marker")
        messages = await channel.until_reason("marker")
        await next_round(ctx, relay)
        assert await channel.next(timeout_s=0.3) is None
        nursery.cancel_scope.cancel()
    assert [m["reason"] for m in messages] == ["marker"]
    assert [(reason, published) for _, reason, published in outbox_rows(db)] == [("marker", True)]


@pytest.mark.trio
async def test_a_burst_waiting_for_the_relay_is_coalesced_into_one_publish_of_the_newest_reason(
    ctx: WorkerContext, channel: RefreshChannel, db: psycopg.Connection[Any]
) -> None:
    """Fifty committed rows, relayed in one batch: one message, newest reason, an id above them all."""
    await announce(ctx, *(f"burst-{i}" for i in range(50)))
    async with trio.open_nursery() as nursery:
        await start_relay(nursery, ctx)
        message = await channel.next()
        assert await channel.next(timeout_s=0.3) is None
        nursery.cancel_scope.cancel()
    rows = outbox_rows(db)
    assert message is not None and message["reason"] == "burst-49"
    assert message["id"] > max(row_id for row_id, _, _ in rows)
    assert all(published for _, _, published in rows)


@pytest.mark.trio
async def test_a_burst_larger_than_a_batch_is_drained_batch_by_batch_with_increasing_ids(
    ctx: WorkerContext, channel: RefreshChannel, db: psycopg.Connection[Any]
) -> None:
    """Batches of 20 over 50 rows: three messages, each naming its batch's newest row, ids rising."""
    await announce(ctx, *(f"burst-{i}" for i in range(50)))
    async with trio.open_nursery() as nursery:
        await start_relay(nursery, ctx, RelayConfig(batch=20, fallback_s=60.0))
        messages = await channel.until_reason("burst-49")
        nursery.cancel_scope.cancel()
    assert [m["reason"] for m in messages] == ["burst-19", "burst-39", "burst-49"]
    ids = [m["id"] for m in messages]
    assert ids == sorted(set(ids))
    assert all(published for _, _, published in outbox_rows(db))


@pytest.mark.trio
async def test_rows_committed_while_the_relay_runs_are_all_published_with_increasing_ids(
    ctx: WorkerContext, channel: RefreshChannel, db: psycopg.Connection[Any]
) -> None:
    """Fifty commits in quick succession: at most one message each, ids strictly increasing,
    the last message names the last row, every row marked published."""
    async with trio.open_nursery() as nursery:
        await start_listener(nursery, ctx)
        await start_relay(nursery, ctx)
        await announce(ctx, *(f"live-{i}" for i in range(50)))
        messages = await channel.until_reason("live-49")
        nursery.cancel_scope.cancel()
    ids = [m["id"] for m in messages]
    assert 1 <= len(messages) <= 50
    assert ids == sorted(set(ids))
    assert all(published for _, _, published in outbox_rows(db))


@pytest.mark.trio
async def test_a_second_relay_skips_the_rows_another_relay_holds_and_never_publishes_them(
    ctx: WorkerContext, channel: RefreshChannel, db: psycopg.Connection[Any]
) -> None:
    """Relay A (this test, through ``relay_once``) holds rows 1-10 uncommitted; relay B (the loop)
    publishes only 11-30 meanwhile; after A commits, nothing is left for B."""
    await announce(ctx, *(f"row-{i}" for i in range(1, 31)))
    with transaction(ctx.sessions) as held:
        claimed = relay_once(held, ctx.redis, limit=10)
        from_a = await channel.next()  # published before the commit, as the relay always does
        async with trio.open_nursery() as nursery:
            await start_relay(nursery, ctx)
            from_b = await channel.until_reason("row-30")
            published = {row_id for row_id, _, done in outbox_rows(db) if done}
            nursery.cancel_scope.cancel()
    assert claimed.row_ids == tuple(range(1, 11))
    assert from_a is not None and from_a["reason"] == "row-10"
    assert [m["reason"] for m in from_b] == ["row-30"] and from_b[0]["id"] > from_a["id"]
    assert published == set(range(11, 31))
    async with trio.open_nursery() as nursery:
        relay_b = await start_relay(nursery, ctx)
        await next_round(ctx, relay_b)
        assert await channel.next(timeout_s=0.3) is None
        nursery.cancel_scope.cancel()
    assert all(done for _, _, done in outbox_rows(db))


def test_relays_racing_on_one_database_claim_disjoint_rows_and_cover_every_row(
    settings: Settings, db: psycopg.Connection[Any]
) -> None:
    """Four relay threads and four writer threads at once: each row is relayed exactly once."""
    assert settings.database_url and settings.redis_url
    engine = make_engine(settings.database_url, pool_size=10)
    sessions = make_session_factory(engine)
    client = redis.Redis.from_url(settings.redis_url)
    results: list[Relayed] = []
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(25):
                with transaction(sessions) as session:
                    announce_refresh(session, f"w{n}-{i}")
        except BaseException as exc:
            errors.append(exc)

    def relay() -> None:
        try:
            while True:
                finished = writers_done.is_set()
                with transaction(sessions) as session:
                    relayed = relay_once(session, client, limit=7)
                if relayed.row_ids:
                    results.append(relayed)
                elif finished:
                    return
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    relays = [threading.Thread(target=relay) for _ in range(4)]
    for thread in writers + relays:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    for thread in relays:
        thread.join()
    client.close()
    engine.dispose()
    assert not errors
    relayed_ids = [row_id for r in results for row_id in r.row_ids]
    stored_ids = [row_id for row_id, _, _ in outbox_rows(db)]
    assert len(stored_ids) == 100
    assert sorted(relayed_ids) == stored_ids  # every row exactly once: no overlap, no gap
    message_ids = [m for r in results for m in r.message_ids]
    assert len(message_ids) == len(set(message_ids)) == len(results)


@pytest.mark.trio
async def test_need_check_count_is_in_redis_before_the_refresh_that_announces_it(
    ctx: WorkerContext, channel: RefreshChannel, rds: redis.Redis
) -> None:
    """The relay writes the status-2 count before it publishes, and repairs it on an idle poll."""
    now = datetime.now(UTC)
    items = [
        Incoming("telegram", f"chat:{i}", "chat", "VCB", "" if i < 3 else f"body {i}", now) for i in range(5)
    ]
    stored = await ctx.db(partial(store_incoming, actor=SYSTEM, items=items))
    async with trio.open_nursery() as nursery:
        await start_listener(nursery, ctx)
        await start_relay(nursery, ctx)
        await channel.until_reason("sms_received")
        assert rds.get(NEED_CHECK_CNT) == "3"  # three empty bodies: status 2, reason invalid
        await ctx.db(partial(reset_sms, actor=SYSTEM, sms_id=stored.new_ids[0]))
        await channel.until_reason("sms_reset")
        assert rds.get(NEED_CHECK_CNT) == "2"
        nursery.cancel_scope.cancel()

    rds.set(NEED_CHECK_CNT, "99")
    async with trio.open_nursery() as nursery:
        await start_relay(nursery, ctx, RelayConfig(fallback_s=0.1))
        await wait_until(lambda: rds.get(NEED_CHECK_CNT) == "2")
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_the_listener_reconnects_after_its_connection_is_killed(
    ctx: WorkerContext, channel: RefreshChannel, db: psycopg.Connection[Any]
) -> None:
    """A terminated LISTEN connection is replaced, and commits wake the relay again."""
    async with trio.open_nursery() as nursery:
        listener = await start_listener(nursery, ctx)
        await start_relay(nursery, ctx)
        query = "SELECT pid FROM pg_stat_activity WHERE application_name = 'recon-outbox-listen:test-relay'"
        (old_pid,) = db.execute(query).fetchone() or (None,)
        assert old_pid is not None
        db.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
        await wait_until(lambda: [p for (p,) in db.execute(query).fetchall() if p != old_pid])
        before = listener.last
        await wait_until(lambda: listener.last != before)
        await announce(ctx, "after-reconnect")
        message = await channel.next()
        nursery.cancel_scope.cancel()
    assert message is not None and message["reason"] == "after-reconnect"


@pytest.mark.trio
async def test_published_rows_older_than_the_retention_are_pruned_in_batches(
    ctx: WorkerContext, db: psycopg.Connection[Any]
) -> None:
    """Old published rows go (in batches of 2 here); recent and unpublished rows stay."""
    await announce(ctx, *(f"old-{i}" for i in range(5)), "recent", "pending")
    db.execute(
        "UPDATE outbox SET published_at = now() - interval '2 days' WHERE payload->>'reason' LIKE 'old-%'"
    )
    db.execute("UPDATE outbox SET published_at = now() WHERE payload->>'reason' = 'recent'")
    assert await ctx.db(partial(prune_published, keep_s=86400, limit=2)) == 2
    async with trio.open_nursery() as nursery:
        await start_relay(nursery, ctx, RelayConfig(fallback_s=60.0, prune_batch=2))
        nursery.cancel_scope.cancel()
    assert [(reason, done) for _, reason, done in outbox_rows(db)] == [("recent", True), ("pending", True)]
