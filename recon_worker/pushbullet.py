"""Pushbullet SMS mirroring: the stream listener and the catch-up sync (two LoopFns).

``pushbullet_listen`` runs ``listen_account`` once per enabled account (picking up added and
removed accounts every ``RESCAN_S``): check the token, find the SMS phone, hold the stream,
catch up on the threads after every (re)connect, and fetch the threads an ``sms_changed`` push
or a tickle names. SMS ephemerals are never replayed, so ``pushbullet_sync`` also lists every
account's threads each ``pushbullet_sync_interval_s`` and stores what the stream missed.

Both store through ``store_incoming`` with source id ``<device_iden>:<thread_id>:<message id>``
(contract section 6), so they may deliver the same SMS: it is stored once. A refused token (401,
403) sets ``pushbullet_accounts.auth_failed_at`` and the account is left alone until someone
clears it; ``status`` is the admin's switch and is not touched.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import redis
import trio
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from recon_impl.security import SecretBox
from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming, stored_source_ids
from recon_impl.services.views import utcnow
from recon_impl.storage.legacy_keys import get_pushbullet_ts, raise_pushbullet_ts
from recon_impl.storage.models import PushbulletAccount
from recon_worker.context import Beat, WorkerContext
from recon_worker.pushbullet_client import (
    PushbulletAuthError,
    PushbulletClient,
    PushbulletRateLimited,
    PushbulletUnavailable,
    SmsMessage,
    SmsThread,
    open_pushbullet,
    ratelimit_wait_s,
)
from recon_worker.supervise import Backoff

__all__ = ["DEFAULT_PUSHBULLET", "PushbulletConfig", "listen_account", "pushbullet_listen", "pushbullet_sync"]

log = logging.getLogger(__name__)

ACTOR = Actor("recon_worker:pushbullet")
WATCHDOG_S = 40.0  # a nop comes every ~30 s: this much silence is a dead or half-open stream
RESCAN_S = 30.0  # how often the listener looks for added and removed accounts
SEEN_WRITE_S = 10.0  # stream_seen_at is written at most this often per account
LOOKBACK_S = 24 * 3600  # SMS older than the newest stored one by more than this are not fetched
SYNC_ACCOUNT_BUDGET_S = 300.0  # one account's sync pass, rate-limit waits included
# A dead peer never answers the closing handshake, so waiting long for it only delays the
# reconnect: watchdog (40) + this (2) + the first backoff (at most 1) stays under 45 s.
CONNECT_TIMEOUT_S, DISCONNECT_TIMEOUT_S = 10.0, 2.0
RECONNECT_BACKOFF = Backoff(base_s=1.0, cap_s=60.0)  # 1, 2, 4 ... 60 s, each scaled by 0.5-1

_Seen = dict[str, tuple[int, str]]  # thread id -> (timestamp, id) of its newest message, as stored


@dataclass(frozen=True, slots=True)
class PushbulletConfig:
    """The listener's timings, and the wall clock (epoch seconds) that rate-limit resets and the
    catch-up floor are read against; a test runs it in step with the double's clock."""

    watchdog_s: float = WATCHDOG_S
    rescan_s: float = RESCAN_S
    backoff: Backoff = RECONNECT_BACKOFF
    wall_clock: Callable[[], float] = time.time


DEFAULT_PUSHBULLET = PushbulletConfig()


class _StreamSilent(Exception):
    """No frame for ``watchdog_s``."""


class _NoSmsDevice(Exception):
    """The account has no active phone with SMS mirroring (yet)."""


class _DeviceChanged(Exception):
    """A device tickle showed that the SMS phone is no longer the one being mirrored."""


@dataclass(frozen=True, slots=True)
class _Account:
    id: int
    token: str = field(repr=False)
    device_iden: str | None
    last_sms_at: datetime | None


class _Reconnects:
    """Consecutive failed connections, for the backoff; reset by every frame heard."""

    def __init__(self, backoff: Backoff) -> None:
        self._backoff = backoff
        self._failures = 0

    def next(self) -> float:
        self._failures += 1
        return self._backoff.delay(self._failures)

    def reset(self) -> None:
        self._failures = 0


# -- the loops -----------------------------------------------------------------------------


async def pushbullet_listen(
    ctx: WorkerContext, beat: Beat, *, config: PushbulletConfig = DEFAULT_PUSHBULLET
) -> None:
    """LoopFn: one ``listen_account`` task per live account; beats on every frame heard (and on
    each rescan while no account is listened to, so an idle worker stays fresh)."""
    running: dict[int, trio.CancelScope] = {}
    async with trio.open_nursery() as nursery:
        while True:
            wanted = set(await ctx.db(_live_account_ids))
            for account_id in running.keys() - wanted:
                running.pop(account_id).cancel()
            for account_id in sorted(wanted - running.keys()):
                running[account_id] = await nursery.start(_supervise, ctx, beat, account_id, running, config)
            if not running:
                beat.beat()
            await trio.sleep(config.rescan_s)


async def pushbullet_sync(
    ctx: WorkerContext, beat: Beat, *, config: PushbulletConfig = DEFAULT_PUSHBULLET
) -> None:
    """LoopFn: every ``pushbullet_sync_interval_s``, store what each account's threads hold and
    recon does not (the Pushbullet half of missing_sms_sync)."""
    seen: dict[tuple[int, str], _Seen] = {}
    while True:
        account_ids = await ctx.db(_live_account_ids)
        async with trio.open_nursery() as nursery:
            for account_id in account_ids:
                nursery.start_soon(_sync_account, ctx, account_id, seen, config)
        beat.beat()
        await trio.sleep(ctx.settings.pushbullet_sync_interval_s)


async def listen_account(
    ctx: WorkerContext, beat: Beat, account_id: int, *, config: PushbulletConfig = DEFAULT_PUSHBULLET
) -> None:
    """Hold one account's stream, reconnecting with backoff, until cancelled, until the account
    is disabled or deleted, or until its token is refused (then it is marked and left alone)."""
    backoff = _Reconnects(config.backoff)
    seen: dict[str, _Seen] = {}
    while True:
        account = await ctx.db(partial(_load_account, box=_box(ctx), account_id=account_id))
        if account is None:
            return
        try:
            await _listen_once(ctx, beat, account, backoff, seen, config)
        except PushbulletAuthError:
            log.warning("pushbullet account %s: token refused; marked and stopped", account_id)
            await ctx.db(partial(_mark_auth_failed, account_id=account_id))
            return
        except PushbulletRateLimited as exc:
            log.warning("pushbullet account %s: stream handshake rate limited", account_id)
            await trio.sleep(exc.wait_s)
            continue
        except (
            _StreamSilent,
            _NoSmsDevice,
            _DeviceChanged,
            PushbulletUnavailable,
            ConnectionClosed,  # the server closed the stream (or a proxy dropped it)
            HandshakeError,  # no connection, or no answer to the handshake or to the close
        ) as exc:
            log.info("pushbullet account %s: reconnecting (%s)", account_id, type(exc).__name__)
        except Exception:  # a stream or store failure: never let one account stop the others
            log.exception("pushbullet account %s: listener failed; reconnecting", account_id)
        # A finished attempt is the loop doing its job: an account without an SMS phone, or
        # Pushbullet being down, is logged and shown on the account (online 0), and must not
        # make the worker look stuck and be restarted (freshness is about our loop, not theirs).
        beat.beat()
        await trio.sleep(backoff.next())


async def _supervise(
    ctx: WorkerContext,
    beat: Beat,
    account_id: int,
    running: dict[int, trio.CancelScope],
    config: PushbulletConfig,
    *,
    task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``listen_account`` under a scope the rescan can cancel; a crash is logged, and the
    next rescan starts the account again."""
    with trio.CancelScope() as scope:
        task_status.started(scope)
        try:
            await listen_account(ctx, beat, account_id, config=config)
        except Exception:
            log.exception("pushbullet account %s: listener crashed", account_id)
    if running.get(account_id) is scope:
        del running[account_id]


async def _listen_once(
    ctx: WorkerContext,
    beat: Beat,
    account: _Account,
    backoff: _Reconnects,
    seen: dict[str, _Seen],
    config: PushbulletConfig,
) -> None:
    settings = ctx.settings
    async with open_pushbullet(
        settings.pushbullet_api_url, account.token, _passwords(ctx), wall_clock=config.wall_clock
    ) as client:
        await client.me()
        device = await _resolve_device(ctx, client, account)
        mirror = _Mirror(ctx, client, account, device, seen.setdefault(device, {}), config.wall_clock)
        async with _open_stream(settings.pushbullet_stream_url, account.token, config.wall_clock) as ws:
            seen_written = trio.current_time()
            await ctx.db(partial(_set_stream_seen, account_id=account.id))
            await mirror.catch_up()
            while True:
                message = await _next_frame(ws, config.watchdog_s)
                beat.beat()
                backoff.reset()
                if trio.current_time() - seen_written >= SEEN_WRITE_S:
                    seen_written = trio.current_time()
                    await ctx.db(partial(_set_stream_seen, account_id=account.id))
                await _react(client, mirror, device, message)


async def _react(client: PushbulletClient, mirror: _Mirror, device: str, message: dict[str, Any]) -> None:
    kind = message.get("type")
    if kind == "tickle" and message.get("subtype") == "device":
        if await client.sms_device(device) != device:
            raise _DeviceChanged
    elif kind == "tickle":
        await mirror.catch_up()
    elif kind == "push" and isinstance(message.get("push"), dict):
        push = await client.open_push(message["push"])
        if push.get("type") != "sms_changed" or push.get("source_device_iden") not in (None, device):
            return
        notifications = push.get("notifications")
        named = {
            str(n["thread_id"])
            for n in (notifications if isinstance(notifications, list) else [])
            if isinstance(n, dict) and n.get("thread_id") is not None
        }
        await mirror.catch_up(only=named or None)


async def _sync_account(
    ctx: WorkerContext, account_id: int, seen: dict[tuple[int, str], _Seen], config: PushbulletConfig
) -> None:
    with trio.move_on_after(SYNC_ACCOUNT_BUDGET_S):
        account = await ctx.db(partial(_load_account, box=_box(ctx), account_id=account_id))
        if account is None:
            return
        try:
            async with open_pushbullet(
                ctx.settings.pushbullet_api_url, account.token, _passwords(ctx), wall_clock=config.wall_clock
            ) as client:
                device = await _resolve_device(ctx, client, account)
                seen_here = seen.setdefault((account.id, device), {})
                await _Mirror(ctx, client, account, device, seen_here, config.wall_clock).catch_up()
        except PushbulletAuthError:
            log.warning("pushbullet account %s: token refused; marked", account_id)
            await ctx.db(partial(_mark_auth_failed, account_id=account_id))
        except (_NoSmsDevice, PushbulletUnavailable) as exc:
            log.info("pushbullet account %s: sync skipped (%s)", account_id, type(exc).__name__)
        except Exception:
            log.exception("pushbullet account %s: sync failed", account_id)


# -- mirroring -----------------------------------------------------------------------------


class _Mirror:
    """Brings recon up to date with one account's SMS phone, thread by thread."""

    def __init__(
        self,
        ctx: WorkerContext,
        client: PushbulletClient,
        account: _Account,
        device: str,
        seen: _Seen,
        wall_clock: Callable[[], float],
    ) -> None:
        self._ctx, self._client, self._account, self._device, self._seen = ctx, client, account, device, seen
        self._wall_clock = wall_clock

    async def catch_up(self, only: Collection[str] | None = None) -> int:
        """Fetch the threads whose newest message changed since the last pass (or exactly
        ``only``), store their incoming SMS that recon lacks; return how many were new."""
        floor = await self._floor()
        new = 0
        for thread in await self._client.threads(self._device):
            wanted = thread.id in only if only is not None else self._seen.get(thread.id) != thread.latest
            if not wanted or thread.latest is None:
                continue
            if thread.latest[0] >= floor:
                messages = await self._client.messages(self._device, thread)
                new += await self._store(thread, [m for m in messages if m.incoming and m.timestamp >= floor])
            self._seen[thread.id] = thread.latest
        await self._ctx.db(partial(_set_synced, account_id=self._account.id))
        if new:
            self._ctx.wake("sms")
        return new

    async def _floor(self) -> int:
        """Unix seconds before which SMS are not fetched: a day before the newest stored one
        (now, when none is stored; never later than now, whatever a phone's clock said)."""
        stored = await self._ctx.redis_call(partial(get_pushbullet_ts, device_iden=self._device))
        if self._account.last_sms_at is not None:
            stored = max(stored or 0, int(self._account.last_sms_at.timestamp()))
        now = int(self._wall_clock())
        return min(stored or now, now) - LOOKBACK_S

    async def _store(self, thread: SmsThread, messages: list[SmsMessage]) -> int:
        if not messages:
            return 0
        items = [
            Incoming(
                source="pushbullet",
                source_id=f"{self._device}:{thread.id}:{m.id}",
                device_id=self._device,
                sender=m.sender,
                content=m.body,
                received_at=datetime.fromtimestamp(m.timestamp, UTC),
                pushbullet_account_id=self._account.id,
            )
            for m in messages
        ]
        new = await self._ctx.db(partial(_store_new, account_id=self._account.id, items=items))
        newest = max(m.timestamp for m in messages)
        try:  # the legacy key only mirrors the database: a Redis outage must not stop ingest
            await self._ctx.redis_call(partial(raise_pushbullet_ts, device_iden=self._device, ts=newest))
        except redis.RedisError as exc:
            log.warning("pushbullet: legacy last_sms_ts not updated (%s)", type(exc).__name__)
        return new


async def _resolve_device(ctx: WorkerContext, client: PushbulletClient, account: _Account) -> str:
    """The account's SMS phone (its stored one while it stays active); stored when it changes."""
    device = await client.sms_device(account.device_iden)
    if device is None:
        raise _NoSmsDevice
    if device != account.device_iden:
        try:
            await ctx.db(partial(_set_device, account_id=account.id, device_iden=device))
        except IntegrityError:  # another live account already holds this token and phone
            log.warning("pushbullet account %s: device_iden not stored (duplicate account)", account.id)
    return device


# -- the stream ----------------------------------------------------------------------------


@asynccontextmanager
async def _open_stream(
    stream_url: str, token: str, wall_clock: Callable[[], float]
) -> AsyncIterator[WebSocketConnection]:
    """The account's stream; a refused handshake becomes the matching Pushbullet error."""
    url = f"{stream_url.rstrip('/')}/{token}"
    try:
        async with open_websocket_url(
            url, connect_timeout=CONNECT_TIMEOUT_S, disconnect_timeout=DISCONNECT_TIMEOUT_S
        ) as ws:
            yield ws
    except ConnectionRejected as exc:
        if exc.status_code in (401, 403):
            raise PushbulletAuthError(f"stream handshake: {exc.status_code}") from None
        if exc.status_code == 429:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in exc.headers}
            raise PushbulletRateLimited(ratelimit_wait_s(headers, wall_clock())) from None
        raise PushbulletUnavailable(f"stream handshake: {exc.status_code}") from None


async def _next_frame(ws: WebSocketConnection, watchdog_s: float) -> dict[str, Any]:
    """The next frame as a JSON object ({} if it is not one); raises ``_StreamSilent`` after
    ``watchdog_s`` without any frame (half-open connections never say they are dead)."""
    with trio.move_on_after(watchdog_s):
        raw = await ws.get_message()
        try:
            message = json.loads(raw)
        except ValueError:
            return {}
        return message if isinstance(message, dict) else {}
    raise _StreamSilent


# -- storage -------------------------------------------------------------------------------


def _box(ctx: WorkerContext) -> SecretBox:
    return SecretBox([key.get_secret_value() for key in ctx.settings.secret_keys])


def _passwords(ctx: WorkerContext) -> list[str]:
    return [p.get_secret_value() for p in ctx.settings.pushbullet_e2e_passwords]


def _live_account_ids(session: Session) -> list[int]:
    """Enabled, not deleted, token not refused."""
    query = select(PushbulletAccount.id).where(
        PushbulletAccount.deleted_at.is_(None),
        PushbulletAccount.status == 1,
        PushbulletAccount.auth_failed_at.is_(None),
    )
    return list(session.scalars(query.order_by(PushbulletAccount.id)))


def _load_account(session: Session, box: SecretBox, account_id: int) -> _Account | None:
    row = session.get(PushbulletAccount, account_id)
    if row is None or row.deleted_at is not None or row.status != 1 or row.auth_failed_at is not None:
        return None
    return _Account(row.id, box.open(row.token_ciphertext), row.device_iden, row.last_sms_at)


def _set_fields(session: Session, account_id: int, **values: Any) -> None:
    session.execute(update(PushbulletAccount).where(PushbulletAccount.id == account_id).values(**values))


def _mark_auth_failed(session: Session, account_id: int) -> None:
    _set_fields(session, account_id, auth_failed_at=utcnow())


def _set_stream_seen(session: Session, account_id: int) -> None:
    _set_fields(session, account_id, stream_seen_at=utcnow())


def _set_synced(session: Session, account_id: int) -> None:
    _set_fields(session, account_id, last_sync_at=utcnow())


def _set_device(session: Session, account_id: int, device_iden: str) -> None:
    with session.begin_nested():  # a unique violation must not end the caller's transaction
        _set_fields(session, account_id, device_iden=device_iden)


def _store_new(session: Session, account_id: int, items: list[Incoming]) -> int:
    """Store the items recon lacks; raise the account's last_sms_at. Returns how many were new."""
    known = stored_source_ids(session, "pushbullet", [item.source_id for item in items])
    fresh = [item for item in items if item.source_id not in known]
    stored = store_incoming(session, ACTOR, fresh)
    if stored.new_ids:
        newest = max(item.received_at for item in fresh)
        last = func.greatest(func.coalesce(PushbulletAccount.last_sms_at, newest), newest)
        _set_fields(session, account_id, last_sms_at=last)
    return len(stored.new_ids)
