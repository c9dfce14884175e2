"""telegram_ingest: long-poll the bot's ``getUpdates`` and store the forwarders' posts (a LoopFn).

A forwarder app posts each bank SMS into a chat the bot reads: the SMS sender on line
``telegram_sender_line`` (0 = the first), the text on the others. Messages and channel posts of
the configured chats (``telegram_chat_ids``) are stored through ``store_incoming`` with source id
``<chat_id>:<message_id>`` (contract section 6), so a second delivery is stored once; a post with
too few lines is stored in need_check (``invalid``), never dropped. Edits are never a second SMS,
and every other update is skipped but still confirmed.

The offset's truth is the ``source_cursors`` row ``TELEGRAM_CURSOR``: a batch's SMS and the raised
offset commit in one transaction, and only the next poll, asked with that offset, lets Telegram
forget the batch. A crash or a failed write before the commit means the batch comes again (and is
stored once). The legacy Redis key ``telegram:update_offset`` mirrors the row after the commit.

No token, or ``telegram_poller_enabled`` off (the coexistence cutover switch): idle, beating.
401/404 (invalid token): logged, idle, asked again every ``AUTH_RECHECK_S``. 409 (another poller,
a webhook): capped, jittered backoff from 5 s. 429: wait ``retry_after``. 5xx, network and
database errors: backoff. Every handled error beats (it is logged as a warning), so health
means "this loop is not stuck", not "Telegram is up". The token is only ever logged masked
(``<bot id>:***``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import partial

import redis
import trio
from sqlalchemy.orm import Session

from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.storage.legacy_keys import set_telegram_offset
from recon_worker import leases
from recon_worker.context import Beat, WorkerContext
from recon_worker.idsync import TELEGRAM_CURSOR, raise_cursor, read_cursor
from recon_worker.supervise import Backoff, describe
from recon_worker.telegram_client import (
    Post,
    TelegramAuthError,
    TelegramClient,
    TelegramConflict,
    TelegramRateLimited,
    TelegramUnavailable,
    Update,
    mask_token,
    open_telegram,
)

__all__ = ["AUTH_RECHECK_S", "split_post", "telegram_ingest", "to_incoming"]

log = logging.getLogger(__name__)

ACTOR = Actor("recon_worker:telegram")
IDLE_BEAT_S = 30.0  # an idle loop (no token, switched off, token refused) beats this often
AUTH_RECHECK_S = 300.0  # a refused token is tried again this often
MIN_POLL_S = 1.0  # an empty answer quicker than this (a server ignoring `timeout`) is padded
CONFLICT_BACKOFF = Backoff(base_s=5.0, cap_s=60.0)  # 409
RETRY_BACKOFF = Backoff(base_s=1.0, cap_s=60.0)  # 5xx, network, database


async def telegram_ingest(ctx: WorkerContext, beat: Beat) -> None:
    """LoopFn: poll, store, confirm, until cancelled; beats after every finished poll."""
    settings = ctx.settings
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not settings.telegram_poller_enabled or not token:
        why = "switched off (telegram_poller_enabled)" if token else "without a bot token"
        log.info("telegram: poller %s; idle", why)
        await _idle(beat, math.inf)
        return
    if not settings.telegram_chat_ids:
        log.warning("telegram: no chat configured (telegram_chat_ids): updates are confirmed, none stored")
    async with open_telegram(settings.telegram_api_url, token, settings.telegram_poll_timeout_s) as client:
        log.info("telegram: polling as bot %s", mask_token(token))
        await _poll(ctx, beat, client, mask_token(token))


async def _poll(ctx: WorkerContext, beat: Beat, client: TelegramClient, bot: str) -> None:
    offset = await ctx.db(partial(read_cursor, name=TELEGRAM_CURSOR))
    conflicts = failures = 0
    while True:
        started = trio.current_time()
        try:
            updates = await client.get_updates(offset, ctx.settings.telegram_poll_timeout_s)
            conflicts = 0
        except TelegramAuthError as exc:
            log.error("telegram: bot %s refused (%s): token invalid; idle", bot, exc)
            await _idle(beat, AUTH_RECHECK_S)
            continue
        except TelegramConflict as exc:
            conflicts += 1
            delay = CONFLICT_BACKOFF.delay(conflicts)
            log.warning("telegram: %s (another poller or a webhook); retry in %.0f s", exc, delay)
            beat.beat()  # handled: Telegram's trouble, not a stuck loop (logged above)
            await trio.sleep(delay)
            continue
        except TelegramRateLimited as exc:
            log.warning("telegram: getUpdates %s", exc)
            beat.beat()  # handled: Telegram's trouble, not a stuck loop (logged above)
            await trio.sleep(exc.wait_s)
            continue
        except TelegramUnavailable as exc:
            failures += 1
            delay = RETRY_BACKOFF.delay(failures)
            log.warning("telegram: %s; retry in %.1f s", exc, delay)
            beat.beat()  # handled: Telegram's trouble, not a stuck loop (logged above)
            await trio.sleep(delay)
            continue
        if updates:
            try:
                offset = await _commit(ctx, updates)
            except Exception as exc:  # nothing was confirmed: the batch comes again
                failures += 1
                delay = RETRY_BACKOFF.delay(failures)
                log.warning("telegram: batch not stored (%s); retry in %.1f s", describe(exc), delay)
                log.debug("telegram: store traceback", exc_info=exc)
                await trio.sleep(delay)
                continue
        failures = 0
        beat.beat()
        if not updates:
            await trio.sleep_until(started + MIN_POLL_S)


async def _commit(ctx: WorkerContext, updates: Sequence[Update]) -> int:
    """Store the batch and raise the cursor past it in one transaction; mirror it to Redis."""
    settings = ctx.settings
    items = to_incoming(updates, settings.telegram_chat_ids, settings.telegram_sender_line)
    offset = max(update.update_id for update in updates) + 1
    new = await ctx.db(partial(_store_batch, items=items, offset=offset, lease=leases.held_lease.get()))
    try:  # the legacy key only mirrors the database: a Redis outage must not stop ingest
        await ctx.redis_call(partial(set_telegram_offset, offset=offset))
    except redis.RedisError as exc:
        log.warning("telegram: legacy update_offset not updated (%s)", type(exc).__name__)
    if new:
        ctx.wake("sms")
    return offset


def _store_batch(session: Session, items: list[Incoming], offset: int, lease: leases.Lease | None) -> int:
    if lease is not None:  # the fence: a replica that lost the lease must not move the offset
        leases.ensure_holds(session, lease)
    stored = store_incoming(session, ACTOR, items)
    raise_cursor(session, TELEGRAM_CURSOR, offset)
    return len(stored.new_ids)


def to_incoming(updates: Sequence[Update], chat_ids: Collection[int], sender_line: int) -> list[Incoming]:
    """The SMS a batch carries: new posts with text in the allowed chats (the rest is logged)."""
    allowed = frozenset(chat_ids)
    items = []
    for update in updates:
        post = update.post
        if post is None:
            what = "an edit" if update.kind.startswith("edited_") else f"a {update.kind!r} update"
            log.info("telegram: update %d is %s; skipped", update.update_id, what)
        elif post.chat_id not in allowed:
            log.debug("telegram: update %d: chat %d is not configured", update.update_id, post.chat_id)
        elif post.text is None:
            log.info("telegram: post %d:%d has no text; skipped", post.chat_id, post.message_id)
        else:
            items.append(_incoming(post, post.text, sender_line))
    return items


def _incoming(post: Post, text: str, sender_line: int) -> Incoming:
    sender, content = split_post(text, sender_line)
    return Incoming(
        source="telegram",
        source_id=f"{post.chat_id}:{post.message_id}",
        device_id=str(post.chat_id),
        sender=sender,
        content=content,
        received_at=datetime.fromtimestamp(post.date, UTC),
    )


def split_post(text: str, sender_line: int) -> tuple[str, str]:
    """(sender, content): line ``sender_line``, and the other lines joined with ``\\n``. A post
    without that line has an empty sender (``store_incoming`` keeps it as invalid)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not 0 <= sender_line < len(lines):
        return "", "\n".join(lines)
    return lines[sender_line], "\n".join(lines[:sender_line] + lines[sender_line + 1 :])


async def _idle(beat: Beat, seconds: float) -> None:
    """Sleep ``seconds`` (``math.inf``: for ever), beating every IDLE_BEAT_S: idling is the job."""
    until = trio.current_time() + seconds
    while True:
        beat.beat()
        left = until - trio.current_time()
        if left <= 0:
            return
        await trio.sleep(min(IDLE_BEAT_S, left))
