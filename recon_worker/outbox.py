"""The outbox relay, the only publisher of forced refreshes, and the NOTIFY listener that wakes it.

A trigger runs ``pg_notify('recon_outbox', id)`` on every outbox insert, and PostgreSQL delivers
it only when the inserting transaction commits, so a rolled-back change never wakes anyone. The
listener turns those notifications into ``ctx.wake``; the relay then claims unpublished rows
(``FOR UPDATE SKIP LOCKED``, so replicas share the work without overlap), publishes one message
per topic per batch and marks the rows in the same transaction. It publishes before the commit:
a crash in between publishes again (at least once), never not at all.

The message ``id`` is drawn from the outbox id sequence at publish time rather than taken from
the newest row: a row may commit after a row with a larger id was already published, and a
listener that drops ids it has seen would then drop that announcement. A fresh sequence value is
larger than every row id it covers and than every id published before, across all replicas.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import psycopg
import redis
import trio
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from recon_impl.services.sms import NEED_CHECK
from recon_impl.storage.db import sqlalchemy_url
from recon_impl.storage.legacy_keys import REFRESH_CHANNEL, set_need_check_count
from recon_impl.storage.models import OutboxEvent, Sms
from recon_worker.context import Beat, WorkerContext

__all__ = [
    "NOTIFY_CHANNEL",
    "OUTBOX_TOPIC",
    "SMS_TOPIC",
    "RelayConfig",
    "Relayed",
    "listen_notifications",
    "outbox_relay",
    "prune_published",
    "relay_once",
]

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "recon_outbox"
OUTBOX_TOPIC = "outbox"  # ctx.wake topic of the relay
SMS_TOPIC = "sms"  # ctx.wake topic of the SMS processing loops: an insert anywhere may be new SMS
_NEXT_MESSAGE_ID = text("SELECT nextval(pg_get_serial_sequence('outbox', 'id'))")


@dataclass(frozen=True, slots=True)
class RelayConfig:
    batch: int = 500
    fallback_s: float = 30.0  # poll when no NOTIFY came (listener down, notification lost)
    keep_published_s: float = 86400.0
    prune_every_s: float = 600.0
    prune_batch: int = 1000


@dataclass(frozen=True, slots=True)
class Relayed:
    """One relay transaction: the rows it marked published and the message ids it sent."""

    row_ids: tuple[int, ...] = ()
    message_ids: tuple[int, ...] = ()


DEFAULT_RELAY = RelayConfig()


def relay_once(session: Session, r: redis.Redis, limit: int, *, refresh_count: bool = False) -> Relayed:
    """Claim up to ``limit`` unpublished rows, publish the newest payload of each topic with a
    fresh id, mark the rows; ``refresh_count`` also refreshes the need_check count when idle."""
    rows = session.execute(
        select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload)
        .where(OutboxEvent.published_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:  # id order: the last row of a topic wins
        newest[row.topic] = row.payload
    if refresh_count or REFRESH_CHANNEL in newest:
        # Set before the refresh goes out, so a listener that reacts to it reads the new count.
        count = session.scalar(select(func.count()).select_from(Sms).where(Sms.status == NEED_CHECK))
        set_need_check_count(r, count or 0)
    if not rows:
        return Relayed()
    message_ids = []
    for topic, payload in newest.items():
        message_id = int(session.scalar(_NEXT_MESSAGE_ID) or 0)
        r.publish(topic, json.dumps({**payload, "id": message_id}))
        message_ids.append(message_id)
    row_ids = tuple(row.id for row in rows)
    session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(row_ids)).values(published_at=func.now()))
    return Relayed(row_ids, tuple(message_ids))


def prune_published(session: Session, keep_s: float, limit: int) -> int:
    """Delete up to ``limit`` rows published more than ``keep_s`` ago, oldest first."""
    doomed = (
        select(OutboxEvent.id)
        .where(OutboxEvent.published_at < func.now() - timedelta(seconds=keep_s))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    deleted = session.scalars(
        delete(OutboxEvent).where(OutboxEvent.id.in_(doomed.scalar_subquery())).returning(OutboxEvent.id)
    ).all()
    return len(deleted)


async def outbox_relay(ctx: WorkerContext, beat: Beat, *, config: RelayConfig = DEFAULT_RELAY) -> None:
    """Relay the outbox to Redis whenever woken (polling every ``fallback_s`` otherwise)."""
    next_prune = trio.current_time()
    woken = False
    while True:
        # Armed before the claim: a wake that comes while this round runs is not lost.
        armed = ctx.wakeups.setdefault(OUTBOX_TOPIC, trio.Event())
        relayed = await ctx.db(partial(relay_once, r=ctx.redis, limit=config.batch, refresh_count=not woken))
        if trio.current_time() >= next_prune:
            await _prune(ctx, config)
            next_prune = trio.current_time() + config.prune_every_s
        beat.beat()
        if len(relayed.row_ids) >= config.batch or armed.is_set():
            woken = True
            await trio.lowlevel.checkpoint()
            continue
        woken = await ctx.wait_for(OUTBOX_TOPIC, config.fallback_s)


async def _prune(ctx: WorkerContext, config: RelayConfig) -> None:
    for _ in range(100):  # bounded per round; the rest waits for the next one
        deleted = await ctx.db(
            partial(prune_published, keep_s=config.keep_published_s, limit=config.prune_batch)
        )
        if deleted < config.prune_batch:
            return


def listen_url(database_url: str | None) -> str:
    """The libpq form of the configured database URL (psycopg, not SQLAlchemy)."""
    if not database_url:
        raise RuntimeError("settings.database_url must be set")
    url = make_url(sqlalchemy_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _connect(url: str, application_name: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=5,
        application_name=application_name[:63],
        # a silently dead peer is noticed within about a minute
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    )
    try:
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
    except BaseException:
        conn.close()
        raise
    return conn


def _wait(conn: psycopg.Connection[Any], timeout_s: float) -> int:
    """Block up to ``timeout_s`` for notifications; return as soon as one arrives."""
    return sum(1 for _ in conn.notifies(timeout=timeout_s, stop_after=1))


def _wake_all(ctx: WorkerContext) -> None:
    ctx.wake(OUTBOX_TOPIC)
    ctx.wake(SMS_TOPIC)


async def listen_notifications(
    ctx: WorkerContext, beat: Beat, *, wait_s: float = 0.5, retry_max_s: float = 30.0
) -> None:
    """Hold ``LISTEN recon_outbox`` on a dedicated connection and wake the relay and the SMS
    loops on every notification; reconnect with capped backoff when the connection breaks."""
    url = listen_url(ctx.settings.database_url)
    name = f"recon-outbox-listen:{ctx.worker_id}"
    delay = 0.5
    while True:
        try:
            # Outside ctx.limiter: this connection is not one of the pool's.
            conn = await trio.to_thread.run_sync(_connect, url, name)
        except psycopg.OperationalError as exc:
            log.warning("outbox listener cannot connect (%s); retrying in %.1f s", type(exc).__name__, delay)
            await trio.sleep(delay)
            delay = min(delay * 2, retry_max_s)
            continue
        delay = 0.5
        try:
            _wake_all(ctx)  # whatever was announced while we were not listening
            while True:
                # A short bounded wait, so that a cancelled loop stops within ``wait_s``.
                if await trio.to_thread.run_sync(_wait, conn, wait_s):
                    _wake_all(ctx)
                beat.beat()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            log.warning("outbox listener lost its connection (%s); reconnecting", type(exc).__name__)
        finally:
            conn.close()
        await trio.sleep(delay)
