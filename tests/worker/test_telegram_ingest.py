"""telegram_ingest against the Telegram double (served in the test's trio run) and real stores.

The clock runs in real time, but when no task can run for 0.2 s it jumps to the next deadline:
backoffs of a minute and five-minute re-checks pass in moments, while a PostgreSQL or Redis call
(in a thread, normally far shorter than 0.2 s) sees no jump; a slow one only moves the clock to
the next poll of a ``wait_until``. The double's state clock is EPOCH plus that clock, so message
dates and the logged call times are exact.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from itertools import pairwise
from typing import Any

import psycopg
import pytest
import redis
import trio
from pydantic import SecretStr
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.exc import OperationalError
from trio.testing import MockClock

from infra.doubles.telegram import TelegramState, create_app, serve_trio
from recon_worker import telegram
from recon_worker.context import Beat, WorkerContext
from recon_worker.idsync import TELEGRAM_CURSOR, raise_cursor

EPOCH = 1_733_200_000.0
CHANNEL = -1_001_111_111_111
GROUP = -4_002_222
OTHER_CHANNEL = -1_009_999_999_999
SECRET = "AAHreconTelegramDoubleDemoToken0001"  # the secret half of the double's default token
POSTS = frozenset({"message", "channel_post"})

WaitUntil = Callable[..., Awaitable[None]]


@pytest.fixture
def clock() -> MockClock:
    return MockClock(rate=1.0, autojump_threshold=0.2)


@pytest.fixture
def ctx(make_ctx: Callable[[str], WorkerContext]) -> WorkerContext:
    return make_ctx("telegram-test")


@pytest.fixture
def state() -> TelegramState:
    return TelegramState(clock=lambda: EPOCH + trio.current_time())


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test also checks that no log line, httpx's included, carries the bot token."""
    caplog.set_level(logging.DEBUG)
    yield
    for record in caplog.get_records("setup") + caplog.get_records("call"):
        text = record.getMessage() + (caplog.handler.format(record) if record.exc_info else "")
        assert SECRET not in text, record.name


@asynccontextmanager
async def polling(ctx: WorkerContext, state: TelegramState, **settings: Any) -> AsyncIterator[Beat]:
    """The double in this trio run and telegram_ingest polling it (1 s long polls, the two chats
    configured, sender on line 0), with ``settings`` on top."""
    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_trio, create_app(state))
        ctx.settings = ctx.settings.model_copy(
            update={
                "telegram_api_url": url,
                "telegram_bot_token": SecretStr(state.token),
                "telegram_chat_ids": [CHANNEL, GROUP],
                "telegram_sender_line": 0,
                "telegram_poll_timeout_s": 1,
                **settings,
            }
        )
        beat = Beat("telegram_ingest", 60.0)
        nursery.start_soon(telegram.telegram_ingest, ctx, beat)
        yield beat
        nursery.cancel_scope.cancel()


def stored(db: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    rows = db.execute(
        "SELECT source, source_id, device_id, sender, content, received_at, status, reason FROM sms ORDER BY id"
    )
    return rows.fetchall()


def receipts(db: psycopg.Connection[Any]) -> int:
    row = db.execute("SELECT count(*) FROM audit_log WHERE action = 'sms.receive'").fetchone()
    return int(row[0]) if row else 0


def cursor(db: psycopg.Connection[Any]) -> str | None:
    row = db.execute("SELECT value FROM source_cursors WHERE name = %s", (TELEGRAM_CURSOR,)).fetchone()
    return None if row is None else str(row[0])


def date_of(update: dict[str, Any]) -> datetime:
    message = update.get("message") or update["channel_post"]
    return datetime.fromtimestamp(message["date"], UTC)


def offset_settled(state: TelegramState, db: psycopg.Connection[Any], offset: int) -> Callable[[], bool]:
    """The double forgot everything below ``offset`` and the cursor row holds it."""
    return lambda: state.confirmed_offset == offset and not state.pending() and cursor(db) == str(offset)


# -- storing and confirming ------------------------------------------------------------------


@pytest.mark.trio
async def test_a_post_in_an_allowed_chat_is_stored_then_the_offset_is_confirmed_everywhere(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, rds: Any, wait_until: WaitUntil
) -> None:
    """A channel post becomes one SMS (sender line, content, message date, chat as device,
    ``chat:message`` source id); the offset is last update_id + 1 in source_cursors, in Redis
    and at the double (which forgot the update), and the SMS loops are woken."""
    update_id = state.post(CHANNEL, "VCB\nSD TK ****3456 +100,000VND luc 03-12-2024 11:00:00")
    date = date_of(state.pending()[0])
    woken = ctx.wakeups.setdefault("sms", trio.Event())
    async with polling(ctx, state) as beat:
        await wait_until(offset_settled(state, db, update_id + 1))
        assert stored(db) == [
            ("telegram", f"{CHANNEL}:1", str(CHANNEL), "VCB", "SD TK ****3456 +100,000VND luc 03-12-2024 11:00:00",
             date, 0, None),
        ]  # fmt: skip
        assert rds.get("telegram:update_offset") == str(update_id + 1)
        assert woken.is_set() and beat.last is not None
        assert state.get_updates_calls[0].allowed_updates == POSTS
        assert state.get_updates_calls[0].limit == 100 and state.get_updates_calls[0].timeout == 1


@pytest.mark.trio
async def test_an_update_delivered_again_after_its_commit_is_stored_once(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """When the answer to a committed store is lost, the same update comes again: still one SMS."""
    update_id = state.post(CHANNEL, "VCB\n+100,000VND")
    real_db, lost = ctx.db, []

    async def db_losing_the_first_store_answer(fn: Any) -> Any:
        result = await real_db(fn)
        if getattr(fn, "func", None) is telegram._store_batch and not lost:
            lost.append(fn)
            raise OperationalError("COMMIT", {}, ConnectionError("connection lost after COMMIT"))
        return result

    ctx.db = db_losing_the_first_store_answer  # type: ignore[method-assign]
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, update_id + 1))
    assert lost and [row[1] for row in stored(db)] == [f"{CHANNEL}:1"] and receipts(db) == 1
    offsets = [call.offset for call in state.get_updates_calls]
    assert offsets[:2] == [0, 0] and offsets[2] == update_id + 1  # asked twice from the start


@pytest.mark.trio
async def test_a_failed_store_does_not_advance_the_offset_and_the_update_comes_again(
    clock: MockClock,
    ctx: WorkerContext,
    state: TelegramState,
    db: Any,
    rds: Any,
    wait_until: WaitUntil,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transaction that fails after inserting the SMS and raising the cursor rolls both back:
    nothing stored, no offset anywhere, the double still holds the update; the retry stores it once."""
    update_id = state.post(CHANNEL, "VCB\n+100,000VND")
    attempts: list[int] = []

    def raise_cursor_then_fail_once(session: Any, name: str, value: int) -> None:
        raise_cursor(session, name, value)
        attempts.append(value)
        if len(attempts) == 1:
            raise OperationalError("COMMIT", {}, ConnectionError("database went away"))

    monkeypatch.setattr(telegram, "raise_cursor", raise_cursor_then_fail_once)
    async with polling(ctx, state):
        await wait_until(lambda: bool(attempts))
        assert stored(db) == [] and cursor(db) is None and rds.get("telegram:update_offset") is None
        assert [update["update_id"] for update in state.pending()] == [update_id]
        await wait_until(offset_settled(state, db, update_id + 1))
    assert attempts == [update_id + 1, update_id + 1]
    assert [row[1] for row in stored(db)] == [f"{CHANNEL}:1"] and receipts(db) == 1
    assert rds.get("telegram:update_offset") == str(update_id + 1)


@pytest.mark.trio
async def test_posts_of_other_chats_are_confirmed_but_not_stored(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, rds: Any, wait_until: WaitUntil
) -> None:
    """Posts in chats not configured are skipped, yet the offset moves past them."""
    state.post(OTHER_CHANNEL, "VCB\n+100,000VND")
    state.post(5_550_001, "VCB\n+200,000VND")  # a private chat with the bot
    kept = state.post(GROUP, "VCB\n+300,000VND", chat_type="group")
    last = state.post(OTHER_CHANNEL, "VCB\n+400,000VND")
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, last + 1))
    assert [row[1:5] for row in stored(db)] == [(f"{GROUP}:1", str(GROUP), "VCB", "+300,000VND")]
    assert kept < last and rds.get("telegram:update_offset") == str(last + 1)


@pytest.mark.trio
async def test_with_no_chat_configured_updates_are_confirmed_nothing_is_stored_and_one_warning_is_logged(
    clock: MockClock,
    ctx: WorkerContext,
    state: TelegramState,
    db: Any,
    wait_until: WaitUntil,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An empty telegram_chat_ids stores nothing, warns once, and still confirms."""
    first = state.post(CHANNEL, "VCB\n+100,000VND")
    async with polling(ctx, state, telegram_chat_ids=[]):
        await wait_until(offset_settled(state, db, first + 1))
        second = state.post(CHANNEL, "VCB\n+200,000VND")
        await wait_until(offset_settled(state, db, second + 1))
    assert stored(db) == []
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "telegram_chat_ids" in r.getMessage()
    ]
    assert len(warnings) == 1


@pytest.mark.trio
async def test_channel_posts_and_group_messages_are_both_stored(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """A ``channel_post`` (no ``from``) and a ``message`` in a group are each one SMS."""
    state.post(CHANNEL, "VCB\n+100,000VND")
    last = state.post(GROUP, "TCB\n+200,000VND", chat_type="group")
    kinds = [next(k for k in u if k != "update_id") for u in state.pending()]
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, last + 1))
    assert kinds == ["channel_post", "message"]
    assert [row[1:5] for row in stored(db)] == [
        (f"{CHANNEL}:1", str(CHANNEL), "VCB", "+100,000VND"),
        (f"{GROUP}:1", str(GROUP), "TCB", "+200,000VND"),
    ]


@pytest.mark.trio
async def test_edits_never_create_an_sms(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """An edited message or channel post is skipped (and confirmed): the original stays as it
    was, and an edit whose original another poller took creates nothing."""
    taken = state.post(GROUP, "VCB\n+100,000VND", chat_type="group")
    await state.get_updates(state.token, offset=taken + 1)  # the old server's poller took it
    state.post(GROUP, "VCB\n+900,000VND", edited=True)
    state.post(CHANNEL, "VCB\n+200,000VND")
    last = state.post(CHANNEL, "VCB\n+800,000VND", edited=True)
    kinds = [next(k for k in u if k != "update_id") for u in state.pending()]
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, last + 1))
    assert kinds == ["edited_message", "channel_post", "edited_channel_post"]
    assert [row[1:5] for row in stored(db)] == [(f"{CHANNEL}:1", str(CHANNEL), "VCB", "+200,000VND")]
    assert receipts(db) == 1


# -- the sender line -------------------------------------------------------------------------


@pytest.mark.trio
@pytest.mark.parametrize(
    ("sender_line", "text", "sender", "content"),
    [
        (0, "VCB\nSD TK +100,000VND\nRef 42", "VCB", "SD TK +100,000VND\nRef 42"),
        (1, "From phone 1\nVCB\nSD TK +100,000VND", "VCB", "From phone 1\nSD TK +100,000VND"),
    ],
)
async def test_the_sender_is_the_configured_line_and_the_other_lines_are_the_content(
    clock: MockClock,
    ctx: WorkerContext,
    state: TelegramState,
    db: Any,
    wait_until: WaitUntil,
    sender_line: int,
    text: str,
    sender: str,
    content: str,
) -> None:
    """telegram_sender_line picks the sender's line; the rest, joined by newlines, is the SMS."""
    last = state.post(CHANNEL, text)
    async with polling(ctx, state, telegram_sender_line=sender_line):
        await wait_until(offset_settled(state, db, last + 1))
    assert [row[3:5] + row[6:] for row in stored(db)] == [(sender, content, 0, None)]


@pytest.mark.trio
async def test_a_post_too_short_for_the_sender_line_is_kept_as_invalid(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """A one-line post with the sender on line 1 is stored in need_check (invalid), not dropped."""
    last = state.post(CHANNEL, "SD TK +100,000VND")
    async with polling(ctx, state, telegram_sender_line=1):
        await wait_until(offset_settled(state, db, last + 1))
    assert [row[1:2] + row[4:5] + row[6:] for row in stored(db)] == [
        (f"{CHANNEL}:1", "SD TK +100,000VND", 2, "invalid")
    ]


# -- the offset ------------------------------------------------------------------------------


@pytest.mark.trio
async def test_polling_resumes_from_the_offset_in_source_cursors(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """After a restart the stored offset is asked first, so updates below it are not stored again."""
    done = state.post(CHANNEL, "VCB\n+100,000VND")  # stored before the restart
    last = state.post(CHANNEL, "VCB\n+200,000VND")
    await ctx.db(partial(raise_cursor, name=TELEGRAM_CURSOR, value=done + 1))
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, last + 1))
    assert state.get_updates_calls[0].offset == done + 1
    assert [row[1] for row in stored(db)] == [f"{CHANNEL}:2"]


@pytest.mark.trio
async def test_a_redis_outage_does_not_stop_ingest(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """With Redis unreachable the SMS is stored and the offset advanced all the same."""
    # Refused at once (no retries): redis-py's default retries would sleep seconds in the thread.
    ctx.redis = redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    first = state.post(CHANNEL, "VCB\n+100,000VND")
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, first + 1))
        second = state.post(CHANNEL, "VCB\n+200,000VND")
        await wait_until(offset_settled(state, db, second + 1))
    assert [row[1] for row in stored(db)] == [f"{CHANNEL}:1", f"{CHANNEL}:2"]


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.trio
async def test_a_conflict_backs_off_five_to_sixty_seconds_and_polling_recovers(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """409 (another poller) is retried after growing, capped delays, then polling resumes."""
    update_id = state.post(CHANNEL, "VCB\n+100,000VND")
    state.conflict(True)
    async with polling(ctx, state):
        await trio.sleep(150)
        refused = [call.at for call in state.get_updates_calls]
        assert stored(db) == [] and cursor(db) is None
        state.conflict(False)
        await wait_until(offset_settled(state, db, update_id + 1), timeout_s=90, poll_s=2)
    gaps = [later - earlier for earlier, later in pairwise(refused)]
    assert 5 <= len(refused) <= 9, refused
    assert all(2.5 <= gap <= 60 for gap in gaps) and gaps[-1] > 2 * gaps[0], gaps
    assert [row[1] for row in stored(db)] == [f"{CHANNEL}:1"]


@pytest.mark.trio
async def test_a_rate_limit_is_waited_out_for_retry_after_seconds(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """429 with retry_after 30: one refused request, the next one 30 s later, then the SMS."""
    update_id = state.post(CHANNEL, "VCB\n+100,000VND")
    state.ratelimit(30)
    started = EPOCH + trio.current_time()
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, update_id + 1), timeout_s=90, poll_s=2)
        calls = state.get_updates_calls  # refused requests never reach getUpdates' log
        refused = state.request_count - len(calls)
    assert refused == 1
    assert calls[0].at - started >= 30
    assert [row[1] for row in stored(db)] == [f"{CHANNEL}:1"]


@pytest.mark.trio
async def test_server_errors_are_retried_after_a_backoff(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, db: Any, wait_until: WaitUntil
) -> None:
    """Two 502s (an HTML body from the proxy) are retried with growing delays, then it stores."""
    update_id = state.post(CHANNEL, "VCB\n+100,000VND")
    state.fail_next(2)
    started = trio.current_time()
    async with polling(ctx, state):
        await wait_until(offset_settled(state, db, update_id + 1), timeout_s=30)
    assert state.request_count >= 3 and trio.current_time() - started >= 0.5 + 1.0
    assert [row[1] for row in stored(db)] == [f"{CHANNEL}:1"]


@pytest.mark.trio
async def test_a_refused_token_idles_beating_and_is_asked_again_only_after_minutes(
    clock: MockClock,
    ctx: WorkerContext,
    state: TelegramState,
    db: Any,
    wait_until: WaitUntil,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """401: one refused request, an error naming the masked bot, beats while idle, no retry for
    AUTH_RECHECK_S; once the token works again the post is stored."""
    update_id = state.post(CHANNEL, "VCB\n+100,000VND")
    state.revoke()
    started = EPOCH + trio.current_time()
    async with polling(ctx, state) as beat:
        await trio.sleep(120)
        assert state.request_count == 1 and stored(db) == []
        assert beat.last is not None and trio.current_time() - beat.last <= telegram.IDLE_BEAT_S
        state.revoke(revoked=False)
        await wait_until(offset_settled(state, db, update_id + 1), timeout_s=400, poll_s=20)
    assert state.get_updates_calls[0].at - started >= telegram.AUTH_RECHECK_S
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("7000000001:***" in message for message in errors), errors


@pytest.mark.trio
@pytest.mark.parametrize(
    "idle_settings",
    [{"telegram_bot_token": None}, {"telegram_poller_enabled": False}],
    ids=["no token", "switched off"],
)
async def test_without_a_token_or_switched_off_the_loop_idles_beating_and_never_polls(
    clock: MockClock, ctx: WorkerContext, state: TelegramState, idle_settings: dict[str, Any]
) -> None:
    """No token, or the cutover switch off: no request at all, and the loop stays fresh."""
    state.post(CHANNEL, "VCB\n+100,000VND")
    async with polling(ctx, state, **idle_settings) as beat:
        await trio.sleep(100)
        assert beat.last is not None and trio.current_time() - beat.last <= telegram.IDLE_BEAT_S
    assert state.request_count == 0 and len(state.pending()) == 1


def test_a_replica_that_lost_the_lease_stores_nothing_and_leaves_the_offset(
    ctx: WorkerContext, db: psycopg.Connection[Any]
) -> None:
    """The fence: once another worker holds the lease (token moved), the old holder's batch is refused."""
    from recon_impl.services.ingest import Incoming
    from recon_impl.storage.db import transaction
    from recon_worker import leases

    with transaction(ctx.sessions) as session:
        lease = leases.acquire(session, "telegram_ingest", "worker-a", 30)
    assert lease is not None
    db.execute("UPDATE worker_leases SET holder = 'worker-b', token = token + 1 WHERE name = 'telegram_ingest'")
    item = Incoming("telegram", "-100:1", "-100", "VCB", "text", datetime.now(UTC))
    with pytest.raises(leases.LeaseLost), transaction(ctx.sessions) as session:
        telegram._store_batch(session, [item], 2, lease)
    assert stored(db) == []
    assert cursor(db) is None
