"""sms_id_sync on real PostgreSQL and Redis: every rule of ``recon_worker.idsync``'s docstring, the
loop itself, a Redis outage; and the legacy key helpers of ``recon_impl.storage.legacy_keys``.

Pushbullet marks are Unix seconds around EPOCH; the clock is real (the stores are real servers).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from itertools import pairwise
from typing import Any, Literal

import psycopg
import pytest
import redis
import trio
from sqlalchemy import text

from recon_impl.security import SecretBox
from recon_impl.services import catalog
from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.settings import Settings
from recon_impl.storage.legacy_keys import (
    HEARTBEAT_TTL_S,
    NEED_CHECK_CNT,
    TELEGRAM_OFFSET,
    get_device_heartbeat,
    get_need_check_count,
    get_pushbullet_ts,
    get_telegram_offset,
    heartbeat_key,
    parse_decimal,
    pushbullet_ts_key,
    raise_pushbullet_ts,
    set_device_heartbeat,
    set_need_check_count,
    set_telegram_offset,
)
from recon_worker import idsync
from recon_worker.context import Beat, WorkerContext
from recon_worker.idsync import (
    TELEGRAM_CURSOR,
    Synced,
    pushbullet_cursor_name,
    raise_cursor,
    sms_id_sync,
    sync_high_water_marks,
)

EPOCH = 1_733_200_000
PHONE = "ujxPkDdTfYWsjAiVsKnSTs"  # a Pushbullet device_iden
WaitUntil = Callable[..., Awaitable[None]]


# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def ctx(make_ctx: Callable[[str], WorkerContext]) -> WorkerContext:
    return make_ctx("idsync-test")


async def add_account(ctx: WorkerContext, device_iden: str, token: str = "o.idsyncTestToken0001") -> None:
    """Register a Pushbullet account for ``device_iden`` the way the internal API does."""
    box = SecretBox([key.get_secret_value() for key in ctx.settings.secret_keys])
    body = {"nickname": "shop", "phone": "+84 90 111 2222", "access_token": token, "device_iden": device_iden}
    await ctx.db(lambda s: catalog.create_account(s, box, Actor("tester"), body))


async def store_sms(
    ctx: WorkerContext,
    device_iden: str,
    *unix_s: int,
    source: Literal["pushbullet", "telegram"] = "pushbullet",
) -> None:
    """Store one SMS per time in ``unix_s`` as received from ``device_iden``."""
    items = [
        Incoming(
            source=source,
            source_id=f"{device_iden}:t:{at}",
            device_id=device_iden,
            sender="VCB",
            content=f"+100,000VND at {at}",
            received_at=datetime.fromtimestamp(at, UTC),
        )
        for at in unix_s
    ]
    await ctx.db(lambda s: store_incoming(s, Actor("test"), items))


async def set_cursor(ctx: WorkerContext, name: str, value: str) -> None:
    """Write a cursor row as anyone might have (no raise-only rule)."""
    await ctx.db(
        lambda s: s.execute(
            text(
                "INSERT INTO source_cursors (name, value, updated_at) VALUES (:n, :v, now())"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            ),
            {"n": name, "v": value},
        )
    )


async def raise_telegram_cursor(ctx: WorkerContext, offset: int) -> None:
    await ctx.db(partial(raise_cursor, name=TELEGRAM_CURSOR, value=offset))


def cursor_row(db: psycopg.Connection[Any], name: str) -> tuple[str, datetime] | None:
    row = db.execute("SELECT value, updated_at FROM source_cursors WHERE name = %s", (name,)).fetchone()
    return None if row is None else (str(row[0]), row[1])


def cursor(db: psycopg.Connection[Any], name: str) -> str | None:
    row = cursor_row(db, name)
    return None if row is None else row[0]


def marks(db: psycopg.Connection[Any], rds: redis.Redis, iden: str = PHONE) -> tuple[str | None, Any]:
    """(cursor row, Redis key) of a device."""
    return cursor(db, pushbullet_cursor_name(iden)), rds.get(pushbullet_ts_key(iden))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class RecordingBeat(Beat):
    """A Beat that remembers when each beat came."""

    def __init__(self, name: str, budget_s: float) -> None:
        super().__init__(name, budget_s)
        self.times: list[float] = []

    def beat(self) -> None:
        super().beat()
        self.times.append(trio.current_time())


# -- legacy_keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (None, None),
        ("1733200000", 1733200000),
        (b"1733200000", 1733200000),
        (" 42\n", 42),
        ("1733200000.0", 1733200000),  # what the old server's float formatting writes
        ("1733200000.99", 1733200000),
        ("12.", 12),
        ("-1.9", -1),
        ("-0", 0),
        ("", None),
        ("   ", None),
        ("abc", None),
        ("12abc", None),
        ("1.2.3", None),
        ("+5", None),
        (".5", None),
        ("1 000", None),
        ("1_000", None),
        ("1e3", None),
        ("inf", None),
        ("-Infinity", None),
        ("NaN", None),
        ("0x10", None),
        ("\u0661\u0662\u0663", None),  # Arabic-Indic digits: int() would take them, Lua and SQL do not
        (b"\xff\xfe", None),  # not text at all
        pytest.param("9" * 5000, None, id="5000-digits"),  # past int()'s digit limit
    ],
)
def test_parse_decimal_reads_plain_decimal_strings_and_nothing_else(raw: Any, value: int | None) -> None:
    """Plain ASCII decimals (whitespace and a fraction allowed) give an int; anything else None."""
    assert parse_decimal(raw) == value


@pytest.fixture(params=["text", "bytes"])
def client(request: pytest.FixtureRequest, settings: Settings) -> redis.Redis:
    """A Redis client in either decode_responses mode, on the emptied test database."""
    assert settings.redis_url
    return redis.Redis.from_url(settings.redis_url, decode_responses=request.param == "text")


def test_raise_pushbullet_ts_moves_the_key_only_upwards(client: redis.Redis) -> None:
    """A missing key is set; a lower or equal value leaves the key alone; a higher one raises it;
    each call answers what the key holds afterwards."""
    assert raise_pushbullet_ts(client, PHONE, EPOCH) == EPOCH
    assert get_pushbullet_ts(client, PHONE) == EPOCH
    assert raise_pushbullet_ts(client, PHONE, EPOCH - 60) == EPOCH
    assert raise_pushbullet_ts(client, PHONE, EPOCH) == EPOCH
    assert get_pushbullet_ts(client, PHONE) == EPOCH
    assert raise_pushbullet_ts(client, PHONE, EPOCH + 5) == EPOCH + 5
    assert parse_decimal(client.get(pushbullet_ts_key(PHONE))) == EPOCH + 5  # type: ignore[arg-type]
    assert pushbullet_ts_key(PHONE) == f"pushbullet:last_sms_ts:{PHONE}"


def test_raise_pushbullet_ts_keeps_a_larger_value_the_old_server_wrote_with_a_fraction(
    client: redis.Redis,
) -> None:
    """``"<ts>.5"`` is a number larger than ``<ts>``: kept as written."""
    client.set(pushbullet_ts_key(PHONE), f"{EPOCH}.5")
    assert raise_pushbullet_ts(client, PHONE, EPOCH) == EPOCH
    assert parse_decimal(client.get(pushbullet_ts_key(PHONE))) == EPOCH  # type: ignore[arg-type]
    assert client.get(pushbullet_ts_key(PHONE)) in (f"{EPOCH}.5", f"{EPOCH}.5".encode())


@pytest.mark.parametrize("junk", ["garbage", "", "inf", "nan", "1e99", "0x7fffffffffff", b"\xff\xfe"])
def test_raise_pushbullet_ts_replaces_a_value_that_is_not_a_number(client: redis.Redis, junk: Any) -> None:
    """What ``parse_decimal`` calls no number is no high-water mark for the script either: replaced
    (Lua's ``tonumber`` alone took ``inf``, ``nan``, ``1e99`` and hex as numbers above any timestamp)."""
    client.set(pushbullet_ts_key(PHONE), junk)
    assert raise_pushbullet_ts(client, PHONE, EPOCH) == EPOCH
    assert get_pushbullet_ts(client, PHONE) == EPOCH


def test_a_device_heartbeat_is_kept_for_a_day(client: redis.Redis) -> None:
    """``shooter:device:heartbeat:<device_id>`` holds the Unix time with a TTL of 86400 s."""
    set_device_heartbeat(client, "phone-1", EPOCH)
    assert heartbeat_key("phone-1") == "shooter:device:heartbeat:phone-1"
    assert get_device_heartbeat(client, "phone-1") == EPOCH
    assert HEARTBEAT_TTL_S == 86400
    ttl = client.ttl(heartbeat_key("phone-1"))
    assert isinstance(ttl, int) and HEARTBEAT_TTL_S - 5 <= ttl <= HEARTBEAT_TTL_S
    assert get_device_heartbeat(client, "phone-2") is None


def test_need_check_count_and_telegram_offset_are_plain_decimal_strings_without_ttl(
    client: redis.Redis,
) -> None:
    """Both are set as written (the offset may go down: it mirrors the database) and never expire."""
    assert get_need_check_count(client) is None and get_telegram_offset(client) is None
    set_need_check_count(client, 7)
    set_telegram_offset(client, 900)
    set_telegram_offset(client, 500)
    assert get_need_check_count(client) == 7 and get_telegram_offset(client) == 500
    assert client.get(NEED_CHECK_CNT) in ("7", b"7") and client.get(TELEGRAM_OFFSET) in ("500", b"500")
    assert client.ttl(NEED_CHECK_CNT) == -1 and client.ttl(TELEGRAM_OFFSET) == -1


# -- Pushbullet: the largest of (newest stored SMS, cursor row, Redis key), never backwards ------


@pytest.mark.trio
@pytest.mark.parametrize(
    ("newest_sms", "row", "in_redis", "mark"),
    [
        pytest.param(EPOCH + 30, str(EPOCH), str(EPOCH + 10), EPOCH + 30, id="newest-sms-largest"),
        pytest.param(EPOCH, str(EPOCH + 30), str(EPOCH + 10), EPOCH + 30, id="cursor-row-largest"),
        pytest.param(EPOCH, str(EPOCH + 10), str(EPOCH + 30), EPOCH + 30, id="redis-largest"),
        pytest.param(EPOCH, str(EPOCH + 10), None, EPOCH + 10, id="redis-key-missing"),
        pytest.param(EPOCH + 30, None, None, EPOCH + 30, id="only-stored-sms"),
        pytest.param(None, None, f"{EPOCH + 30}.0", EPOCH + 30, id="only-redis-with-fraction"),
        pytest.param(EPOCH + 30, str(EPOCH), "garbage", EPOCH + 30, id="redis-not-a-number"),
        pytest.param(EPOCH, str(EPOCH + 30), "inf", EPOCH + 30, id="redis-inf"),
        pytest.param(EPOCH + 30, str(EPOCH), b"\xff\xfe", EPOCH + 30, id="redis-not-text"),
        pytest.param(EPOCH + 30, "", str(EPOCH), EPOCH + 30, id="cursor-row-not-a-number"),
    ],
)
async def test_a_device_mark_moves_everywhere_to_the_largest_of_stored_sms_cursor_row_and_redis(
    ctx: WorkerContext,
    db: psycopg.Connection[Any],
    rds: redis.Redis,
    newest_sms: int | None,
    row: str | None,
    in_redis: str | bytes | None,
    mark: int,
) -> None:
    """After one round the cursor row and the Redis key both hold the largest known mark."""
    await add_account(ctx, PHONE)
    if newest_sms is not None:
        await store_sms(ctx, PHONE, newest_sms - 100, newest_sms, newest_sms - 50)
    if row is not None:
        await set_cursor(ctx, pushbullet_cursor_name(PHONE), row)
    if in_redis is not None:
        rds.set(pushbullet_ts_key(PHONE), in_redis)
    synced = await sync_high_water_marks(ctx)
    assert synced == Synced({PHONE: mark}, None)
    assert parse_decimal(cursor(db, pushbullet_cursor_name(PHONE))) == mark
    assert get_pushbullet_ts(rds, PHONE) == mark


@pytest.mark.trio
async def test_a_mark_never_moves_backwards(
    ctx: WorkerContext, db: psycopg.Connection[Any], rds: redis.Redis
) -> None:
    """Once at T: older SMS, a lower Redis value (the old server) and a lower raise of the row
    leave T everywhere; the row is not even rewritten."""
    await add_account(ctx, PHONE)
    await store_sms(ctx, PHONE, EPOCH)
    await sync_high_water_marks(ctx)
    settled = cursor_row(db, pushbullet_cursor_name(PHONE))
    assert settled is not None and settled[0] == str(EPOCH)

    await store_sms(ctx, PHONE, EPOCH - 3600)
    rds.set(pushbullet_ts_key(PHONE), str(EPOCH - 600))
    await ctx.db(partial(raise_cursor, name=pushbullet_cursor_name(PHONE), value=EPOCH - 60))
    assert cursor_row(db, pushbullet_cursor_name(PHONE)) == settled  # raise_cursor never lowers
    assert await sync_high_water_marks(ctx) == Synced({PHONE: EPOCH}, None)
    assert cursor_row(db, pushbullet_cursor_name(PHONE)) == settled
    assert get_pushbullet_ts(rds, PHONE) == EPOCH


@pytest.mark.trio
async def test_each_device_is_settled_on_its_own_marks(
    ctx: WorkerContext, db: psycopg.Connection[Any], rds: redis.Redis
) -> None:
    """Marks are per device_iden: another phone's SMS, a Telegram SMS with the same device id and a
    device known only by its cursor row do not mix; a device with no mark anywhere is left out."""
    other, orphan, silent = "otherPhoneIden00000001", "orphanPhoneIden0000001", "silentPhoneIden0000001"
    await add_account(ctx, PHONE, token="o.idsyncTestToken0001")
    await add_account(ctx, other, token="o.idsyncTestToken0002")
    await add_account(ctx, silent, token="o.idsyncTestToken0003")
    await store_sms(ctx, PHONE, EPOCH)
    await store_sms(ctx, other, EPOCH + 500)
    await store_sms(ctx, PHONE, EPOCH + 900, source="telegram")
    await set_cursor(ctx, pushbullet_cursor_name(orphan), str(EPOCH - 5))
    synced = await sync_high_water_marks(ctx)
    assert synced.pushbullet == {PHONE: EPOCH, other: EPOCH + 500, orphan: EPOCH - 5}
    assert marks(db, rds, PHONE) == (str(EPOCH), str(EPOCH))
    assert marks(db, rds, other) == (str(EPOCH + 500), str(EPOCH + 500))
    assert marks(db, rds, orphan) == (str(EPOCH - 5), str(EPOCH - 5))
    assert marks(db, rds, silent) == (None, None)


@pytest.mark.trio
async def test_a_redis_mark_in_milliseconds_does_not_stop_the_round(
    ctx: WorkerContext, db: psycopg.Connection[Any], rds: redis.Redis
) -> None:
    """A value past datetime's range (ms, not s) is still the largest number: it wins, and the
    round, the Telegram mirror included, completes instead of raising every minute."""
    await add_account(ctx, PHONE)
    await store_sms(ctx, PHONE, EPOCH)
    huge = EPOCH * 1000 * 1000
    rds.set(pushbullet_ts_key(PHONE), str(huge))
    await raise_telegram_cursor(ctx, 500)
    assert await sync_high_water_marks(ctx) == Synced({PHONE: huge}, 500)
    assert marks(db, rds) == (str(huge), str(huge))
    assert rds.get(TELEGRAM_OFFSET) == "500"


# -- Telegram: the cursor row is the truth, Redis mirrors it --------------------------------------


@pytest.mark.trio
@pytest.mark.parametrize(
    "in_redis", [None, "400", "900", "500.0", "junk", "\u0665\u0660\u0660", b"\xff"], ids=str
)
async def test_the_telegram_key_mirrors_the_database_cursor_even_when_redis_is_ahead(
    ctx: WorkerContext,
    db: psycopg.Connection[Any],
    rds: redis.Redis,
    caplog: pytest.LogCaptureFixture,
    in_redis: str | bytes | None,
) -> None:
    """Missing, behind, ahead, another spelling or junk: Redis ends with the row's offset, and the
    row is never moved (a larger offset from Redis would skip updates that were never stored)."""
    await raise_telegram_cursor(ctx, 500)
    before = cursor_row(db, TELEGRAM_CURSOR)
    if in_redis is not None:
        rds.set(TELEGRAM_OFFSET, in_redis)
    with caplog.at_level(logging.WARNING, logger=idsync.__name__):
        synced = await sync_high_water_marks(ctx)
    assert synced == Synced({}, 500)
    assert cursor_row(db, TELEGRAM_CURSOR) == before
    assert rds.get(TELEGRAM_OFFSET) == ("500.0" if in_redis == "500.0" else "500")  # same number: left
    ahead = [r for r in caplog.records if "ahead of the database" in r.getMessage()]
    assert len(ahead) == (1 if in_redis == "900" else 0)


@pytest.mark.trio
async def test_without_a_telegram_cursor_row_the_redis_offset_is_left_alone(
    ctx: WorkerContext, db: psycopg.Connection[Any], rds: redis.Redis
) -> None:
    """No row yet (no poll committed): nothing to mirror, and Redis is not taken into the database."""
    rds.set(TELEGRAM_OFFSET, "700")
    assert await sync_high_water_marks(ctx) == Synced({}, None)
    assert rds.get(TELEGRAM_OFFSET) == "700"
    assert cursor(db, TELEGRAM_CURSOR) is None


@pytest.mark.trio
async def test_a_telegram_offset_written_while_the_round_runs_is_not_overwritten(
    ctx: WorkerContext, db: psycopg.Connection[Any], rds: redis.Redis
) -> None:
    """The poller commits a newer offset and mirrors it after the round read the row: the round's
    compare-and-set sees the key changed and leaves the newer value (no step back to the old row)."""
    await raise_telegram_cursor(ctx, 500)
    rds.set(TELEGRAM_OFFSET, "400")
    real_db = ctx.db

    async def poller_commits_after_the_read(fn: Any) -> Any:
        result = await real_db(fn)
        if getattr(fn, "func", None) is idsync.read_cursor and fn.keywords.get("name") == TELEGRAM_CURSOR:
            await real_db(partial(raise_cursor, name=TELEGRAM_CURSOR, value=600))
            rds.set(TELEGRAM_OFFSET, "600")
        return result

    ctx.db = poller_commits_after_the_read  # type: ignore[method-assign]
    assert await sync_high_water_marks(ctx) == Synced({}, 500)
    assert rds.get(TELEGRAM_OFFSET) == "600" and cursor(db, TELEGRAM_CURSOR) == "600"


# -- the loop ------------------------------------------------------------------------------------


@pytest.mark.trio
async def test_sms_id_sync_settles_the_marks_every_interval_and_beats_after_each_round(
    ctx: WorkerContext, rds: redis.Redis, wait_until: WaitUntil
) -> None:
    """Each round settles what changed since the last one, then beats; rounds are an interval apart."""
    interval_s = 0.3
    await add_account(ctx, PHONE)
    await store_sms(ctx, PHONE, EPOCH)
    await raise_telegram_cursor(ctx, 500)
    beat = RecordingBeat("sms_id_sync", 180.0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(sms_id_sync, ctx, beat, interval_s=interval_s))
        await wait_until(lambda: len(beat.times) >= 1)
        assert get_pushbullet_ts(rds, PHONE) == EPOCH and rds.get(TELEGRAM_OFFSET) == "500"

        rds.set(pushbullet_ts_key(PHONE), "0")  # the old server wrote an older mark
        rds.set(TELEGRAM_OFFSET, "900")
        await store_sms(ctx, PHONE, EPOCH + 60)
        await wait_until(
            lambda: get_pushbullet_ts(rds, PHONE) == EPOCH + 60 and rds.get(TELEGRAM_OFFSET) == "500"
        )
        await wait_until(lambda: len(beat.times) >= 4)
        nursery.cancel_scope.cancel()
    gaps = [b - a for a, b in pairwise(beat.times)]
    assert all(gap >= interval_s for gap in gaps), gaps


# -- a Redis outage ------------------------------------------------------------------------------


@pytest.mark.trio
async def test_a_redis_outage_fails_the_round_before_any_database_write_and_the_next_round_heals(
    ctx: WorkerContext, db: psycopg.Connection[Any], rds: redis.Redis
) -> None:
    """Redis is read first, so an outage raises ConnectionError with every cursor row untouched and
    no beat (the supervisor restarts the loop; a long outage shows as a stale loop, since the legacy
    keys are its job); once Redis is back the next round settles all three marks."""
    await add_account(ctx, PHONE)
    await store_sms(ctx, PHONE, EPOCH + 60)
    await set_cursor(ctx, pushbullet_cursor_name(PHONE), str(EPOCH))
    await raise_telegram_cursor(ctx, 500)
    rows = db.execute("SELECT name, value, updated_at FROM source_cursors ORDER BY name").fetchall()
    beat = RecordingBeat("sms_id_sync", 180.0)
    down = redis.Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=1, socket_timeout=1)
    up, ctx.redis = ctx.redis, down
    try:
        with trio.fail_after(10), pytest.raises(redis.ConnectionError):
            await sms_id_sync(ctx, beat, interval_s=0.1)
    finally:
        ctx.redis.close()
        ctx.redis = up
    assert beat.times == []
    assert db.execute("SELECT name, value, updated_at FROM source_cursors ORDER BY name").fetchall() == rows

    assert await sync_high_water_marks(ctx) == Synced({PHONE: EPOCH + 60}, 500)
    assert marks(db, rds) == (str(EPOCH + 60), str(EPOCH + 60))
    assert rds.get(TELEGRAM_OFFSET) == "500"


@pytest.mark.trio
async def test_redis_failing_after_the_database_commit_keeps_the_raised_row_and_heals_next_round(
    ctx: WorkerContext, db: psycopg.Connection[Any], rds: redis.Redis
) -> None:
    """The row's raise commits before Redis is written: a failure then leaves a correct row (the
    largest mark) and a Redis key behind it, which the next round raises."""
    await add_account(ctx, PHONE)
    await store_sms(ctx, PHONE, EPOCH + 60)
    rds.set(pushbullet_ts_key(PHONE), str(EPOCH))
    real_call = ctx.redis_call
    failed: list[object] = []

    async def redis_fails_on_the_first_write(fn: Any) -> Any:
        if getattr(fn, "func", None) is idsync._raise_redis_marks and not failed:
            failed.append(fn)
            raise redis.ConnectionError("Redis went away")
        return await real_call(fn)

    ctx.redis_call = redis_fails_on_the_first_write  # type: ignore[method-assign]
    with pytest.raises(redis.ConnectionError):
        await sync_high_water_marks(ctx)
    assert marks(db, rds) == (str(EPOCH + 60), str(EPOCH))
    assert await sync_high_water_marks(ctx) == Synced({PHONE: EPOCH + 60}, None)
    assert marks(db, rds) == (str(EPOCH + 60), str(EPOCH + 60))
