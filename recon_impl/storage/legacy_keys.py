"""The legacy Redis keys recon keeps up to date during coexistence (legacy contract section 8).

Pure functions over a sync ``redis.Redis`` (either ``decode_responses`` mode); values are decimal
strings, read back leniently (``"1700000000.0"`` is 1700000000) so a value the old server wrote
does not break us. A number is plain decimal notation in ASCII (optional ``-``, digits, optional
fraction, surrounding whitespace): the one definition that ``parse_decimal``, the Lua script below
and ``idsync``'s SQL upsert all apply, so that none of them keeps what another calls "not a
number" (Lua's ``tonumber`` alone takes ``"inf"``, ``"nan"`` and ``"0x10"``).
"""

from __future__ import annotations

import re

import redis

__all__ = [
    "HEARTBEAT_TTL_S",
    "NEED_CHECK_CNT",
    "REFRESH_CHANNEL",
    "TELEGRAM_OFFSET",
    "get_device_heartbeat",
    "get_need_check_count",
    "get_pushbullet_ts",
    "get_telegram_offset",
    "heartbeat_key",
    "parse_decimal",
    "pushbullet_ts_key",
    "raise_pushbullet_ts",
    "set_device_heartbeat",
    "set_need_check_count",
    "set_telegram_offset",
]

NEED_CHECK_CNT = "shooter:sms:need_check_cnt"
TELEGRAM_OFFSET = "telegram:update_offset"
REFRESH_CHANNEL = "admin:ws:refresh"  # the forced top-bar refresh (an outbox topic is its channel)
HEARTBEAT_TTL_S = 86400
_PUSHBULLET_TS = "pushbullet:last_sms_ts:"
_HEARTBEAT = "shooter:device:heartbeat:"

_DECIMAL = re.compile(r"\s*(-?[0-9]+)(?:\.[0-9]*)?\s*", re.ASCII)

# Store ARGV[1] unless the key already holds a larger number; answer what the key holds after.
# A value that is not a number (a missing key included) is replaced: it is no high-water mark.
_RAISE_TO = """
local current = redis.call('GET', KEYS[1])
local old = nil
if current and string.match(current, '^%s*%-?%d+%.?%d*%s*$') then old = tonumber(current) end
if old == nil or tonumber(ARGV[1]) > old then
    redis.call('SET', KEYS[1], ARGV[1])
    return ARGV[1]
end
return current
"""


def pushbullet_ts_key(device_iden: str) -> str:
    return _PUSHBULLET_TS + device_iden


def heartbeat_key(device_id: str) -> str:
    return _HEARTBEAT + device_id


def parse_decimal(raw: bytes | str | None) -> int | None:
    """A stored decimal string as an int (the fraction dropped, towards zero); None when absent or
    not a number (see the module docstring), bytes that are not ASCII included."""
    if raw is None:
        return None
    try:
        text = raw.decode("ascii") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return None
    found = _DECIMAL.fullmatch(text)
    if found is None:
        return None
    try:
        return int(found.group(1))
    except ValueError:  # more digits than int() converts (4300): no timestamp or offset
        return None


def _get_int(r: redis.Redis, key: str) -> int | None:
    raw: bytes | str | None = r.get(key)  # type: ignore[assignment]  # sync client
    return parse_decimal(raw)


def get_need_check_count(r: redis.Redis) -> int | None:
    return _get_int(r, NEED_CHECK_CNT)


def set_need_check_count(r: redis.Redis, count: int) -> None:
    """The number of SMS in status 2; no TTL."""
    r.set(NEED_CHECK_CNT, int(count))


def get_pushbullet_ts(r: redis.Redis, device_iden: str) -> int | None:
    return _get_int(r, pushbullet_ts_key(device_iden))


def raise_pushbullet_ts(r: redis.Redis, device_iden: str, ts: int) -> int:
    """Raise the device's newest-SMS timestamp to ``ts``, never lowering it (atomic, in Lua);
    returns the value the key holds afterwards."""
    result: bytes | str = r.eval(_RAISE_TO, 1, pushbullet_ts_key(device_iden), int(ts))  # type: ignore[assignment]
    value = parse_decimal(result)
    return int(ts) if value is None else value


def get_telegram_offset(r: redis.Redis) -> int | None:
    return _get_int(r, TELEGRAM_OFFSET)


def set_telegram_offset(r: redis.Redis, offset: int) -> None:
    """The next ``getUpdates`` offset; a plain set: the database row is the truth it mirrors."""
    r.set(TELEGRAM_OFFSET, int(offset))


def get_device_heartbeat(r: redis.Redis, device_id: str) -> int | None:
    return _get_int(r, heartbeat_key(device_id))


def set_device_heartbeat(r: redis.Redis, device_id: str, unix_s: int) -> None:
    """A phone's last heartbeat (Unix seconds), kept for a day."""
    r.set(heartbeat_key(device_id), int(unix_s), ex=HEARTBEAT_TTL_S)
