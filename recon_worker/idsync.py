"""sms_id_sync: keep the per-source high-water marks consistent between the database and the
legacy Redis keys (contract section 8) that the old server still reads during coexistence.

- Pushbullet, per ``device_iden``: the newest stored SMS time, the ``source_cursors`` row and the
  Redis key all move to the largest of the three, and never backwards.
- Telegram: the ``source_cursors`` row is the truth (the offset is advanced only after the
  updates are committed); the Redis key mirrors it, even when Redis is ahead, because taking a
  larger offset from Redis would skip updates that were never stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import redis
import trio
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from recon_impl.storage.legacy_keys import (
    TELEGRAM_OFFSET,
    parse_decimal,
    pushbullet_ts_key,
    raise_pushbullet_ts,
)
from recon_impl.storage.models import PushbulletAccount, Sms, SourceCursor
from recon_worker.context import Beat, WorkerContext

__all__ = [
    "PUSHBULLET_CURSOR_PREFIX",
    "TELEGRAM_CURSOR",
    "Synced",
    "pushbullet_cursor_name",
    "raise_cursor",
    "read_cursor",
    "sms_id_sync",
    "sync_high_water_marks",
]

log = logging.getLogger(__name__)

# The database cursors are named after the legacy keys they mirror.
PUSHBULLET_CURSOR_PREFIX = pushbullet_ts_key("")
TELEGRAM_CURSOR = TELEGRAM_OFFSET

# Upsert that only ever raises a numeric cursor; a row that is not a number is replaced.
_RAISE_CURSOR = text(
    "INSERT INTO source_cursors (name, value, updated_at) VALUES (:name, :value, now())"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()"
    " WHERE CASE WHEN source_cursors.value ~ '^\\s*-?[0-9]+(\\.[0-9]*)?\\s*$'"
    " THEN source_cursors.value::numeric < excluded.value::numeric ELSE true END"
)

# Mirror a value unless someone changed the key since it was read (then the next round decides).
_REPLACE_IF_UNCHANGED = """
if (redis.call('GET', KEYS[1]) or '') == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2])
    return 1
end
return 0
"""


def pushbullet_cursor_name(device_iden: str) -> str:
    return PUSHBULLET_CURSOR_PREFIX + device_iden


def read_cursor(session: Session, name: str) -> int | None:
    return parse_decimal(session.scalar(select(SourceCursor.value).where(SourceCursor.name == name)))


def raise_cursor(session: Session, name: str, value: int) -> None:
    """Set the numeric cursor ``name`` to ``value`` unless it is already at least that (atomic)."""
    session.execute(_RAISE_CURSOR, {"name": name, "value": str(int(value))})


@dataclass(frozen=True, slots=True)
class Synced:
    """What one round settled: each device's Pushbullet mark and the Telegram offset mirrored."""

    pushbullet: dict[str, int]
    telegram_offset: int | None


def _newest_stored(session: Session, device_iden: str, above: int | None) -> int | None:
    query = select(func.max(Sms.received_at)).where(Sms.source == "pushbullet", Sms.device_id == device_iden)
    if above is not None:  # only the rows past the mark matter, found through the received_at index
        try:
            since = datetime.fromtimestamp(above, UTC)
        except (OverflowError, OSError, ValueError):  # outside datetime's years 1-9999
            if above > 0:  # a mark no SMS can pass (a timestamp in milliseconds, say)
                return None
        else:
            query = query.where(Sms.received_at > since)
    newest = session.scalar(query)
    return None if newest is None else int(newest.timestamp())


def _device_idens(session: Session) -> list[str]:
    accounts = session.scalars(
        select(PushbulletAccount.device_iden).where(PushbulletAccount.device_iden.is_not(None))
    )
    cursors = session.scalars(
        select(SourceCursor.name).where(
            SourceCursor.name.startswith(PUSHBULLET_CURSOR_PREFIX, autoescape=True)
        )
    )
    idens = {iden for iden in accounts if iden} | {name[len(PUSHBULLET_CURSOR_PREFIX) :] for name in cursors}
    return sorted(idens)


def _settle_pushbullet(session: Session, in_redis: dict[str, int | None]) -> dict[str, int]:
    """Raise each device's database cursor to the largest known mark; return the marks."""
    marks: dict[str, int] = {}
    for iden, redis_mark in in_redis.items():
        name = pushbullet_cursor_name(iden)
        stored = read_cursor(session, name)
        floor = max((m for m in (stored, redis_mark) if m is not None), default=None)
        newest = _newest_stored(session, iden, floor)
        mark = max((m for m in (floor, newest) if m is not None), default=None)
        if mark is None:
            continue
        if stored is None or mark > stored:
            raise_cursor(session, name, mark)
        marks[iden] = mark
    return marks


def _read_redis_marks(r: redis.Redis, idens: list[str]) -> dict[str, int | None]:
    if not idens:
        return {}
    raw: list[bytes | str | None] = r.mget([pushbullet_ts_key(i) for i in idens])  # type: ignore[assignment]
    return {iden: parse_decimal(value) for iden, value in zip(idens, raw, strict=True)}


def _raise_redis_marks(r: redis.Redis, marks: dict[str, int], seen: dict[str, int | None]) -> None:
    for iden, mark in marks.items():
        previous = seen.get(iden)
        if previous is None or mark > previous:
            raise_pushbullet_ts(r, iden, mark)


def _mirror_telegram(r: redis.Redis, seen: bytes | str | None, offset: int) -> None:
    mirrored = parse_decimal(seen)
    if mirrored == offset:
        return
    if mirrored is not None and mirrored > offset:
        log.warning("Redis telegram offset is ahead of the database; rewritten from the database")
    expected = "" if seen is None else seen  # compared as the bytes read: nothing to decode
    r.eval(_REPLACE_IF_UNCHANGED, 1, TELEGRAM_OFFSET, expected, str(offset))


def _get(r: redis.Redis, key: str) -> bytes | str | None:
    value: bytes | str | None = r.get(key)  # type: ignore[assignment]  # sync client
    return value


async def sync_high_water_marks(ctx: WorkerContext) -> Synced:
    """One round: settle every known Pushbullet device and mirror the Telegram offset."""
    idens = await ctx.db(_device_idens)
    in_redis = await ctx.redis_call(partial(_read_redis_marks, idens=idens))
    marks = await ctx.db(partial(_settle_pushbullet, in_redis=in_redis))
    await ctx.redis_call(partial(_raise_redis_marks, marks=marks, seen=in_redis))

    # Redis is read before the database: if the poller moves both in between, the mirror's
    # compare-and-set sees the change and leaves the newer value alone.
    seen_offset = await ctx.redis_call(partial(_get, key=TELEGRAM_OFFSET))
    offset = await ctx.db(partial(read_cursor, name=TELEGRAM_CURSOR))
    if offset is not None:
        await ctx.redis_call(partial(_mirror_telegram, seen=seen_offset, offset=offset))
    return Synced(marks, offset)


async def sms_id_sync(ctx: WorkerContext, beat: Beat, *, interval_s: float = 60.0) -> None:
    """Run ``sync_high_water_marks`` every ``interval_s``."""
    while True:
        await sync_high_water_marks(ctx)
        beat.beat()
        await trio.sleep(interval_s)
