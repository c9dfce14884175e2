"""The Pushbullet listener and catch-up sync against the Pushbullet double, on real PostgreSQL and Redis.

The double is served inside the test's own trio run (``serve_trio``), so its 30 s nops, the
listener's 40 s watchdog, reconnect backoffs and rate-limit waits all run on one virtual clock.
That clock jumps only after 0.2 s of real idleness, never at 0: ``ctx.db`` waits on PostgreSQL in a
worker thread, and a threshold-0 clock would jump (and fire timeouts) during those waits. The
double's clock and the worker's wall clock are both ``EPOCH`` plus that virtual time, so
``X-Ratelimit-Reset`` means the same instant to both sides.

Each test takes the ``virtual_clock`` fixture (pytest-trio runs a test on a Clock it is given).
Accounts are created through ``catalog.create_account``, as the service does. Long stretches are
waited out with one ``trio.sleep``, not by polling (each poll would cost a real 0.2 s), and the
double records when every request and handshake arrived, so timings are read from that record.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
import redis
import trio
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from trio.testing import MockClock
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request

from infra.doubles.pushbullet import PushbulletState, create_app, serve_trio
from infra.doubles.pushbullet_state import E2eMode
from recon_impl.security import SecretBox
from recon_impl.services import catalog
from recon_impl.services.context import Actor
from recon_impl.storage.models import AuditLog, PushbulletAccount, Sms
from recon_worker.context import Beat, WorkerContext
from recon_worker.pushbullet import PushbulletConfig, pushbullet_listen, pushbullet_sync

pytestmark = pytest.mark.trio

EPOCH = 1_750_000_000.0
PASSWORD = "correct horse battery staple"
ME, DEVICES, STREAM = "GET /v2/users/me", "GET /v2/devices", "WS /websocket"
THREADS, THREAD = "GET /v2/permanents/threads", "GET /v2/permanents/thread"
BANK = [{"name": "VCB", "address": "VCB", "number": "VCB"}]


def wall() -> float:
    """Epoch seconds in step with the virtual clock (the double's and the worker's wall clock)."""
    return EPOCH + trio.current_time()


CONFIG = PushbulletConfig(wall_clock=wall)  # production timings; only the wall clock is virtual


# -- the double ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrival:
    route: str
    token: str | None
    at: float  # trio.current_time() when the request or handshake reached the double


class RecordingState(PushbulletState):
    """The double's state, also recording every request and handshake as it arrives; ``before``
    holds one-shot hooks run just before a route's next request is admitted."""

    def __init__(self) -> None:
        super().__init__(clock=wall)
        self.arrivals: list[Arrival] = []
        self.before: dict[str, Callable[[], object]] = {}

    def admit(self, route: str, token: str | None, *, stream: bool = False) -> tuple[str, dict[str, str]]:
        self.arrivals.append(Arrival(route, token, trio.current_time()))
        hook = self.before.pop(route, None)
        if hook is not None:
            hook()
        return super().admit(route, token, stream=stream)

    def times(self, route: str, since: float = -math.inf) -> list[float]:
        """When the requests on ``route`` arrived (virtual seconds), oldest first."""
        return [a.at for a in self.arrivals if a.route == route and a.at >= since]


@dataclass(frozen=True, slots=True)
class Double:
    state: RecordingState
    url: str


@dataclass(frozen=True, slots=True)
class Phone:
    """A Pushbullet user with an SMS phone, and the recon account that mirrors it."""

    user: str
    token: str
    iden: str
    account_id: int


@dataclass(frozen=True, slots=True)
class StoredSms:
    source: str
    source_id: str
    device_id: str
    sender: str
    content: str
    received_at: datetime
    account_id: int | None


@dataclass(frozen=True, slots=True)
class AccountRow:
    device_iden: str | None
    status: int
    auth_failed_at: datetime | None
    last_sync_at: datetime | None
    last_sms_at: datetime | None


@pytest.fixture
def virtual_clock() -> MockClock:
    """Each test takes this fixture as an argument: pytest-trio runs a test on a Clock it is given."""
    return MockClock(autojump_threshold=0.2)


@pytest.fixture
async def pushbullet(nursery: trio.Nursery) -> Double:
    state = RecordingState()
    url = await nursery.start(serve_trio, create_app(state))
    return Double(state, url)


@pytest.fixture
async def ctx(make_ctx: Callable[[str], WorkerContext], pushbullet: Double) -> WorkerContext:
    """A worker context pointed at the double, with a wrong and a right end-to-end password."""
    base = make_ctx("pushbullet-test")
    settings = base.settings.model_copy(
        update={
            "pushbullet_api_url": pushbullet.url,
            "pushbullet_stream_url": pushbullet.url.replace("http://", "ws://", 1) + "/websocket",
            "pushbullet_e2e_passwords": [SecretStr("not this one"), SecretStr(PASSWORD)],
        }
    )
    return replace(base, settings=settings)


# -- helpers -------------------------------------------------------------------------------


async def add_account(ctx: WorkerContext, token: str, device_iden: str | None = None) -> int:
    """Register the token the way the internal API does (the token is stored encrypted)."""
    box = SecretBox([key.get_secret_value() for key in ctx.settings.secret_keys])
    body = {"nickname": "shop", "phone": "+84 90 111 2222", "access_token": token, "device_iden": device_iden}
    view = await ctx.db(lambda s: catalog.create_account(s, box, Actor("tester"), body))
    return int(view["id"])


async def add_phone(ctx: WorkerContext, state: PushbulletState, email: str = "me@example.com") -> Phone:
    """A user whose SMS phone has a bank thread "318" with no messages yet; the account knows the phone."""
    user, token = state.add_user(email=email)
    iden = state.add_device(user, nickname="Pixel", has_sms=True, tickle=False)
    state.add_thread(iden, "318", BANK)
    return Phone(user, token, iden, await add_account(ctx, token, iden))


def _stored(session: Session) -> list[StoredSms]:
    rows = session.execute(
        select(
            Sms.source,
            Sms.source_id,
            Sms.device_id,
            Sms.sender,
            Sms.content,
            Sms.received_at,
            Sms.pushbullet_account_id,
        ).order_by(Sms.id)
    )
    return [StoredSms(*row) for row in rows]


async def stored(ctx: WorkerContext) -> list[StoredSms]:
    return await ctx.db(_stored)


async def receipts(ctx: WorkerContext) -> int:
    """How many ``sms.receive`` audit rows exist (one per SMS actually stored)."""
    query = select(func.count(AuditLog.id)).where(AuditLog.action == "sms.receive")
    return await ctx.db(lambda s: s.scalar(query) or 0)


async def account(ctx: WorkerContext, account_id: int) -> AccountRow:
    def read(session: Session) -> AccountRow:
        row = session.get(PushbulletAccount, account_id)
        assert row is not None
        return AccountRow(row.device_iden, row.status, row.auth_failed_at, row.last_sync_at, row.last_sms_at)

    return await ctx.db(read)


def source_id(phone: Phone, thread_id: str, message: dict[str, Any]) -> str:
    return f"{phone.iden}:{thread_id}:{message['id']}"


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout_s: float = 30.0) -> None:
    """Until ``check()`` holds (a virtual-time deadline); the polls back off to spare real time."""
    step = 0.05
    with trio.fail_after(timeout_s):
        while True:
            result = check()
            if await result if inspect.isawaitable(result) else result:
                return
            await trio.sleep(step)
            step = min(2 * step, 1.0)


async def until_stored(ctx: WorkerContext, wanted: str, timeout_s: float = 30.0) -> None:
    async def done() -> bool:
        return wanted in {sms.source_id for sms in await stored(ctx)}

    await eventually(done, timeout_s)


async def until_listening(ctx: WorkerContext, state: PushbulletState, phone: Phone) -> None:
    """The phone's stream is open and the catch-up that follows every connect has finished."""

    async def ready() -> bool:
        return state.stream_count(token=phone.token) == 1 and (
            (await account(ctx, phone.account_id)).last_sync_at is not None
        )

    await eventually(ready)


@asynccontextmanager
async def running(ctx: WorkerContext, *loops: Callable[..., Awaitable[None]]) -> AsyncIterator[Beat]:
    """Run the given LoopFns (with ``CONFIG``) until the block ends."""
    beat = Beat("pushbullet", 120.0)
    async with trio.open_nursery() as nursery:
        for loop in loops:
            nursery.start_soon(partial(loop, config=CONFIG), ctx, beat)
        yield beat
        nursery.cancel_scope.cancel()


async def black_hole(accepted: list[float], stream: trio.SocketStream) -> None:
    """A stream server whose peer is gone: it completes the websocket handshake, then never sends a
    frame and never answers one, not even the closing handshake."""
    ws = WSConnection(ConnectionType.SERVER)
    async for data in stream:
        ws.receive_data(bytes(data))
        for event in ws.events():
            if isinstance(event, Request):
                await stream.send_all(ws.send(AcceptConnection()))
                accepted.append(trio.current_time())
                async for _ignored in stream:  # until the client gives up on the TCP connection
                    pass
                return


@pytest.fixture
def legacy(rds: redis.Redis) -> Callable[[str], str | None]:
    """Read ``pushbullet:last_sms_ts:<device_iden>`` as the old server would."""
    return lambda device_iden: rds.get(f"pushbullet:last_sms_ts:{device_iden}")  # type: ignore[return-value]


# -- discovery and the stream ----------------------------------------------------------------


async def test_the_token_is_checked_and_the_sms_phone_found_and_stored(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """Without a device_iden, the token is checked and the active SMS phone found, stored and mirrored."""
    state = pushbullet.state
    user, token = state.add_user()
    state.add_device(user, nickname="Laptop", has_sms=False, type_="chrome", tickle=False)
    state.add_device(user, nickname="Old phone", has_sms=True, active=False, tickle=False)
    phone = state.add_device(user, nickname="Pixel", has_sms="true", synced=False, tickle=False)
    account_id = await add_account(ctx, token)
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, Phone(user, token, phone, account_id))
        assert (await account(ctx, account_id)).device_iden == phone
        assert [a.route for a in state.arrivals[:3]] == [ME, DEVICES, STREAM]
        assert state.status_counts()[(THREADS, 404)] == 1  # a new phone: no threads permanent yet

        sms = state.receive_sms(phone, "700", "VCB", "TK 0123 +2,000,000VND", int(wall()))
        await until_stored(ctx, f"{phone}:700:{sms['id']}")
    assert [s.device_id for s in await stored(ctx)] == [phone]


async def test_a_device_tickle_moves_the_listener_to_the_new_sms_phone(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """A device tickle after the phone is replaced moves the listener to the new SMS phone."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, phone)
        state.set_device_active(phone.iden, False, tickle=False)
        new_phone = state.add_device(phone.user, nickname="Pixel 9", has_sms=True)  # tickles "device"

        async def moved() -> bool:
            return (await account(ctx, phone.account_id)).device_iden == new_phone

        await eventually(moved)
        sms = state.receive_sms(new_phone, "318", "VCB", "TK 0123 +800,000VND", int(wall()))
        await until_stored(ctx, f"{new_phone}:318:{sms['id']}")
        assert len(state.times(STREAM)) == 2


async def test_an_sms_changed_with_notifications_stores_the_sms_once_under_the_contract_source_id(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """A pushed sms_changed with notifications stores the SMS once, under "<device>:<thread>:<message id>"."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    state.receive_sms(phone.iden, "42", "+84901234567", "call me", int(wall()) - 600, notify=False)
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, phone)
        fetched = len(state.times(THREAD))
        at = int(wall()) - 3  # the phone's own timestamp, a little before the push
        sms = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +1,500,000VND luc 10:01", at)
        await until_stored(ctx, source_id(phone, "318", sms))
        assert len(state.times(THREAD)) == fetched + 1  # thread 42 unchanged: not fetched

        # the same notification delivered again: the thread is fetched again, nothing is stored twice
        state.push_ephemeral(
            phone.user,
            {
                "type": "sms_changed",
                "source_device_iden": phone.iden,
                "notifications": [{"thread_id": "318", "title": "VCB", "body": sms["body"], "timestamp": at}],
            },
        )
        await eventually(lambda: len(state.times(THREAD)) == fetched + 2)
        await trio.sleep(1)
    mine = [s for s in await stored(ctx) if s.source_id == source_id(phone, "318", sms)]
    assert mine == [
        StoredSms(
            "pushbullet",
            f"{phone.iden}:318:{sms['id']}",
            phone.iden,
            "VCB",
            "TK 0123 +1,500,000VND luc 10:01",
            datetime.fromtimestamp(at, UTC),
            phone.account_id,
        )
    ]
    assert await receipts(ctx) == 2  # the "call me" SMS caught up at connect, and this one


async def test_an_sms_changed_with_empty_notifications_relists_the_threads_and_fetches_the_changed_one(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """An sms_changed with empty notifications re-lists the threads and fetches only the changed one."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    state.receive_sms(phone.iden, "318", "VCB", "older bank sms", int(wall()) - 900, notify=False)
    state.receive_sms(phone.iden, "42", "+84901234567", "older chat", int(wall()) - 800, notify=False)
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, phone)
        listed, fetched = len(state.times(THREADS)), len(state.times(THREAD))
        sms = state.receive_sms(
            phone.iden, "42", "+84901234567", "new chat", int(wall()), empty_notification=True
        )
        await until_stored(ctx, source_id(phone, "42", sms))
        assert len(state.times(THREADS)) == listed + 1
        assert len(state.times(THREAD)) == fetched + 1
    assert sorted(s.content for s in await stored(ctx)) == ["new chat", "older bank sms", "older chat"]


async def test_a_push_tickle_triggers_a_catch_up(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """An SMS whose ephemeral was lost is stored when a push tickle arrives, and not before."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, phone)
        sms = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +300,000VND", int(wall()), notify=False)
        await trio.sleep(5)
        assert await stored(ctx) == []
        state.tickle("push", user_iden=phone.user)
        await until_stored(ctx, source_id(phone, "318", sms))


async def test_outgoing_messages_are_not_stored(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """Messages the phone sent (direction outgoing) are never stored."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    first = state.receive_sms(phone.iden, "318", "VCB", "OTP 123456", int(wall()) - 120, notify=False)
    state.send_sms(phone.iden, "318", "reply sent before the connect", int(wall()) - 60)
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, phone)
        state.send_sms(phone.iden, "318", "reply sent while listening", int(wall()))
        second = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +100,000VND", int(wall()) + 1)
        await until_stored(ctx, source_id(phone, "318", second))
    assert [s.source_id for s in await stored(ctx)] == [
        source_id(phone, "318", first),
        source_id(phone, "318", second),
    ]


# -- faults ----------------------------------------------------------------------------------


async def test_a_half_open_stream_is_replaced_within_45_s_and_the_sms_it_swallowed_is_caught_up(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """A half-open stream (no nop) is replaced within 45 s of the last frame, then the lost SMS caught up."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    async with running(ctx, pushbullet_listen) as beat:
        await until_listening(ctx, state, phone)
        await trio.sleep(31)  # the first nop arrives 30 s after the connect
        assert beat.last is not None
        last_frame = beat.last
        assert state.half_open() == 1
        lost = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +700,000VND", int(wall()))
        await trio.sleep(50)
        handshakes = state.times(STREAM)
        assert len(handshakes) == 2
        assert 30 < handshakes[1] - last_frame <= 45
        await until_stored(ctx, source_id(phone, "318", lost))
        assert state.stream_count(token=phone.token) == 1  # the silent one was closed


async def test_a_stream_whose_peer_is_gone_is_abandoned_and_reconnected_within_45_s(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double, nursery: trio.Nursery
) -> None:
    """A peer that never answers, not even the close, is abandoned and reconnected within 45 s."""
    accepted: list[float] = []
    listeners = await nursery.start(
        partial(trio.serve_tcp, partial(black_hole, accepted), 0, host="127.0.0.1")
    )
    port = listeners[0].socket.getsockname()[1]
    dead = replace(
        ctx,
        settings=ctx.settings.model_copy(
            update={"pushbullet_stream_url": f"ws://127.0.0.1:{port}/websocket"}
        ),
    )
    await add_phone(dead, pushbullet.state)
    async with running(dead, pushbullet_listen):
        await eventually(lambda: len(accepted) == 1)
        await trio.sleep(50)
    assert len(accepted) >= 2
    assert 30 < accepted[1] - accepted[0] <= 45


async def test_a_dropped_stream_is_reconnected_with_growing_backoff_and_caught_up(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """A dropped stream is reconnected with a doubling jittered backoff, then caught up."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, phone)
        state.fail_next(2, 503, stream=True)  # the next two attempts fail at their token check
        dropped_at = trio.current_time()
        assert state.drop_streams() == 1
        lost = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +900,000VND", int(wall()))
        await trio.sleep(20)
        attempts = [dropped_at, *state.times(ME, since=dropped_at)]
        assert len(attempts) == 4
        gaps = [b - a for a, b in itertools.pairwise(attempts)]
        for n, gap in enumerate(gaps):
            assert 2**n / 2 <= gap <= 2**n + 0.5, gaps
        assert len(state.times(STREAM, since=dropped_at)) == 1
        await until_stored(ctx, source_id(phone, "318", lost))


@pytest.mark.parametrize("mode", ["permanent", "message"])
async def test_end_to_end_encrypted_permanents_and_pushes_are_opened_with_the_configured_password(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double, mode: E2eMode
) -> None:
    """End-to-end encrypted permanents and pushes are opened with the configured password."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    state.e2e(PASSWORD, mode=mode)
    before = state.receive_sms(
        phone.iden, "318", "VCB", "TK 0123 +1,000,000VND", int(wall()) - 60, notify=False
    )
    async with running(ctx, pushbullet_listen):
        await until_stored(ctx, source_id(phone, "318", before))
        pushed = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +2,000,000VND", int(wall()))
        await until_stored(ctx, source_id(phone, "318", pushed))
    assert [s.content for s in await stored(ctx)] == ["TK 0123 +1,000,000VND", "TK 0123 +2,000,000VND"]


@pytest.mark.parametrize(
    ("status", "when"), [(401, "streaming"), (403, "streaming"), (401, "at the handshake")]
)
async def test_a_refused_token_marks_the_account_and_stops_its_listener_without_retrying(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double, status: int, when: str
) -> None:
    """A refused token (401/403) sets auth_failed_at and the listener never asks Pushbullet again."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    if when == "at the handshake":
        state.before[STREAM] = lambda: state.revoke(phone.token, status=status)
    async with running(ctx, pushbullet_listen):
        if when == "streaming":
            await until_listening(ctx, state, phone)
            revoked_at = trio.current_time()
            state.revoke(phone.token, status=status)
            expected = [ME]  # the stream is closed; the reconnect's token check is refused
        else:
            revoked_at = 0.0
            expected = [ME, DEVICES, STREAM]
        await trio.sleep(300)  # ten rescans
        assert [a.route for a in state.arrivals if a.at >= revoked_at] == expected
        assert state.stream_count() == 0
    row = await account(ctx, phone.account_id)
    assert row.auth_failed_at is not None
    assert row.status == 1


async def test_a_rate_limited_request_waits_until_the_reset_before_asking_again(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """A 429 on REST is retried once, right after X-Ratelimit-Reset, and is no auth failure."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    reset = state.ratelimit(60, token=phone.token) - EPOCH  # as virtual time
    async with running(ctx, pushbullet_listen):
        await trio.sleep(75)
        asked = state.times(ME)
        assert len(asked) == 2
        assert reset <= asked[1] <= reset + 2
        assert state.status_counts()[(ME, 429)] == 1
        await until_listening(ctx, state, phone)
    assert (await account(ctx, phone.account_id)).auth_failed_at is None


async def test_a_rate_limited_stream_handshake_waits_until_the_reset_and_is_no_auth_failure(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """A 429 at the stream handshake is waited out until X-Ratelimit-Reset and is no auth failure."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    resets: list[float] = []
    state.before[STREAM] = lambda: resets.append(state.ratelimit(45, token=phone.token) - EPOCH)
    async with running(ctx, pushbullet_listen):
        await trio.sleep(60)
        handshakes = state.times(STREAM)
        assert state.status_counts()[(STREAM, 429)] == 1
        assert (ME, 429) not in state.status_counts()  # it waited: nothing was asked before the reset
        assert len(handshakes) == 2
        assert resets[0] <= handshakes[1] <= resets[0] + 2
        await until_listening(ctx, state, phone)
    assert (await account(ctx, phone.account_id)).auth_failed_at is None


# -- the sync, the legacy key, which accounts ---------------------------------------------------


async def test_the_sync_stores_what_the_stream_missed_and_with_the_listener_stores_each_sms_once(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """pushbullet_sync stores an SMS the stream missed, and with the listener stores each SMS once."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    async with running(ctx, pushbullet_listen, pushbullet_sync):
        await until_listening(ctx, state, phone)
        await eventually(lambda: len(state.times(THREADS)) >= 2)  # the listener's and the sync's
        missed = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +400,000VND", int(wall()), notify=False)
        await trio.sleep(10)
        assert await stored(ctx) == []  # the stream heard nothing
        await trio.sleep(55)  # the sync's second pass (every 60 s)
        assert [s.source_id for s in await stored(ctx)] == [source_id(phone, "318", missed)]

        fetched = len(state.times(THREAD))
        state.tickle("push", user_iden=phone.user)  # the listener now looks at thread 318 too
        await eventually(lambda: len(state.times(THREAD)) == fetched + 1)

        pushed = state.receive_sms(phone.iden, "318", "VCB", "TK 0123 +600,000VND", int(wall()))
        await until_stored(ctx, source_id(phone, "318", pushed))
        fetched = len(state.times(THREAD))
        await trio.sleep(60)  # the sync's next pass fetches the changed thread again
        assert len(state.times(THREAD)) == fetched + 1
    assert [s.source_id for s in await stored(ctx)] == [
        source_id(phone, "318", missed),
        source_id(phone, "318", pushed),
    ]
    assert await receipts(ctx) == 2


async def test_the_legacy_redis_key_is_raised_to_the_newest_stored_sms_and_never_lowered(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double, legacy: Callable[[str], str | None]
) -> None:
    """pushbullet:last_sms_ts:<device_iden> is raised to the newest stored SMS time, never lowered."""
    state = pushbullet.state
    phone = await add_phone(ctx, state)
    now = int(wall())
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, phone)
        assert legacy(phone.iden) is None
        first = state.receive_sms(phone.iden, "318", "VCB", "first", now)
        await until_stored(ctx, source_id(phone, "318", first))
        assert legacy(phone.iden) == str(now)
        late = state.receive_sms(phone.iden, "77", "+8490", "delivered late", now - 600)
        await until_stored(ctx, source_id(phone, "77", late))
        assert legacy(phone.iden) == str(now)
        newer = state.receive_sms(phone.iden, "318", "VCB", "newer", now + 30)
        await until_stored(ctx, source_id(phone, "318", newer))
        assert legacy(phone.iden) == str(now + 30)
    assert (await account(ctx, phone.account_id)).last_sms_at == datetime.fromtimestamp(now + 30, UTC)


async def test_disabled_and_deleted_accounts_are_not_listened_to(
    virtual_clock: MockClock, ctx: WorkerContext, pushbullet: Double
) -> None:
    """Disabled and deleted accounts are not listened to; disabling one closes its stream."""
    state = pushbullet.state
    live = await add_phone(ctx, state, "live@example.com")
    disabled = await add_phone(ctx, state, "disabled@example.com")
    deleted = await add_phone(ctx, state, "deleted@example.com")
    for phone in (disabled, deleted):
        state.receive_sms(phone.iden, "318", "VCB", "must not be stored", int(wall()), notify=False)
    await ctx.db(
        lambda s: s.execute(
            update(PushbulletAccount).where(PushbulletAccount.id == disabled.account_id).values(status=0)
        )
    )
    await ctx.db(lambda s: catalog.delete_account(s, Actor("tester"), deleted.account_id))
    async with running(ctx, pushbullet_listen):
        await until_listening(ctx, state, live)
        await trio.sleep(35)  # past a rescan
        assert {a.token for a in state.arrivals} == {live.token}
        assert await stored(ctx) == []

        await ctx.db(
            lambda s: s.execute(
                update(PushbulletAccount).where(PushbulletAccount.id == live.account_id).values(status=0)
            )
        )
        await trio.sleep(31)
        assert state.stream_count() == 0
        quiet_from = trio.current_time()
        await trio.sleep(120)
        assert [a for a in state.arrivals if a.at >= quiet_from] == []
