"""Pushbullet's REST API as recon reads it: the token, the SMS phone and its SMS permanents.

``open_pushbullet`` gives a client over ``httpx.AsyncClient`` (trio-native). Refusals become
exceptions the loops act on: 401/403 ``PushbulletAuthError`` (stop using the token), 5xx,
transport errors and unreadable answers ``PushbulletUnavailable`` (retry later). A 429 is waited
out here, until ``X-Ratelimit-Reset``, and the request asked again. End-to-end encrypted
permanents, bodies and stream pushes are opened with the configured passwords, each tried in
turn (AES-GCM authenticates, so a wrong key is detected, never misread).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeGuard

import httpx
import trio
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "API_TIMEOUT",
    "PushbulletAuthError",
    "PushbulletClient",
    "PushbulletError",
    "PushbulletRateLimited",
    "PushbulletUnavailable",
    "SmsMessage",
    "SmsThread",
    "e2e_key",
    "open_envelope",
    "open_pushbullet",
    "ratelimit_wait_s",
]

log = logging.getLogger(__name__)

API_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=5.0, pool=5.0)
E2E_ITERATIONS = 30000
MIN_RATELIMIT_WAIT_S = 1.0
MAX_RATELIMIT_WAIT_S = 3600.0
DEFAULT_RATELIMIT_WAIT_S = 60.0  # a 429 without a usable reset header
_TAG_LEN, _IV_LEN = 16, 12
_HEAD = 1 + _TAG_LEN + _IV_LEN  # version byte, tag, IV

Json = dict[str, Any]


class PushbulletError(Exception):
    """Pushbullet could not give what was asked."""


class PushbulletAuthError(PushbulletError):
    """The token is missing, invalid or revoked (401, sometimes 403): stop using it."""


class PushbulletUnavailable(PushbulletError):
    """A transient failure (5xx, transport, an unreadable or undecryptable answer): retry later."""


class PushbulletRateLimited(PushbulletError):
    """429 where waiting in place is not possible (the stream handshake)."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"rate limited for {wait_s:.0f} s")
        self.wait_s = wait_s


@dataclass(frozen=True, slots=True)
class SmsThread:
    """One conversation on the phone; ``latest`` is ``(timestamp, message id)`` of its newest."""

    id: str
    senders: tuple[str, ...]
    latest: tuple[int, str] | None


@dataclass(frozen=True, slots=True)
class SmsMessage:
    id: str
    timestamp: int
    incoming: bool
    sender: str
    body: str


def ratelimit_wait_s(headers: Mapping[str, str], now: float) -> float:
    """Seconds until ``X-Ratelimit-Reset`` (epoch seconds), kept within sane bounds."""
    try:
        reset = float(headers.get("x-ratelimit-reset", ""))
    except ValueError:
        return DEFAULT_RATELIMIT_WAIT_S
    return min(MAX_RATELIMIT_WAIT_S, max(MIN_RATELIMIT_WAIT_S, reset - now))


# -- end-to-end encryption -----------------------------------------------------------------


def e2e_key(password: str, user_iden: str) -> bytes:
    """PBKDF2-HMAC-SHA256(password, salt = user iden, 30000 iterations, 32 bytes)."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), user_iden.encode(), E2E_ITERATIONS, 32)


def _decrypt(key: bytes, blob: str) -> bytes | None:
    """base64(``"1"`` + 16-byte GCM tag + 12-byte IV + ciphertext); None for a wrong key."""
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _HEAD or raw[:1] != b"1":
        return None
    tag, iv, ciphertext = raw[1 : 1 + _TAG_LEN], raw[1 + _TAG_LEN : _HEAD], raw[_HEAD:]
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag:
        return None


def _is_envelope(value: object) -> TypeGuard[Json]:
    return (
        isinstance(value, dict)
        and value.get("encrypted") is True
        and isinstance(value.get("ciphertext"), str)
    )


def open_envelope(keys: Sequence[bytes], envelope: Json) -> bytes:
    """The plaintext of ``{"encrypted": true, "ciphertext": ...}`` under the first key that fits."""
    blob = envelope.get("ciphertext")
    for key in keys if isinstance(blob, str) else ():
        plain = _decrypt(key, str(blob))
        if plain is not None:
            return plain
    raise PushbulletUnavailable("end-to-end encrypted, and no configured password opens it")


# -- the client ----------------------------------------------------------------------------


class PushbulletClient:
    """One account's view of Pushbullet (see ``open_pushbullet``)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        e2e_passwords: Sequence[str] = (),
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._passwords = list(e2e_passwords)
        self._wall_clock = wall_clock
        self._user_iden: str | None = None
        self._keys: list[bytes] | None = None

    async def me(self) -> str:
        """Check the token (``GET /v2/users/me``); return the user's iden."""
        user = await self._get("/v2/users/me")
        iden = user.get("iden")
        if not isinstance(iden, str):
            raise PushbulletUnavailable("/v2/users/me answered without an iden")
        self._user_iden = iden
        return iden

    async def sms_device(self, preferred: str | None = None) -> str | None:
        """The active SMS phone: ``preferred`` when it still is one, else the newest; None if none."""
        devices = (await self._get("/v2/devices")).get("devices")
        phones = [
            d
            for d in (devices if isinstance(devices, list) else [])
            if isinstance(d, dict) and d.get("active") is True and _truthy(d.get("has_sms"))
        ]
        idens = [str(d["iden"]) for d in sorted(phones, key=lambda d: -_number(d.get("created")))]
        if preferred in idens:
            return preferred
        return idens[0] if idens else None

    async def threads(self, device_iden: str) -> list[SmsThread]:
        """The phone's SMS threads (none while its permanent does not exist yet)."""
        data = await self._permanent(f"{device_iden}_threads")
        threads = []
        for raw in _list(data.get("threads")):
            recipients = [r for r in _list(raw.get("recipients"))]
            senders = tuple(str(r.get("number") or r.get("address") or "") for r in recipients)
            latest = raw.get("latest")
            mark = (
                (_int(latest.get("timestamp")), str(latest.get("id"))) if isinstance(latest, dict) else None
            )
            threads.append(SmsThread(str(raw.get("id")), senders, mark))
        return threads

    async def messages(self, device_iden: str, thread: SmsThread) -> list[SmsMessage]:
        """The thread's messages oldest first (the API does not order them)."""
        data = await self._permanent(f"{device_iden}_thread_{thread.id}")
        messages = []
        for raw in _list(data.get("thread")):
            if raw.get("type", "sms") != "sms":
                continue  # MMS carry attachments, not bank text
            index = _int(raw.get("recipient_index"))
            sender = thread.senders[index] if 0 <= index < len(thread.senders) else ""
            messages.append(
                SmsMessage(
                    id=str(raw.get("id")),
                    timestamp=_int(raw.get("timestamp")),
                    incoming=raw.get("direction") == "incoming",
                    sender=sender,
                    body=await self._text(raw.get("body")),
                )
            )
        return sorted(messages, key=lambda m: (m.timestamp, len(m.id), m.id))

    async def open_push(self, push: Json) -> Json:
        """A stream push as sent, or decrypted when it travels end-to-end encrypted."""
        if not _is_envelope(push):
            return push
        opened = json.loads(open_envelope(await self._e2e_keys(), push))
        return opened if isinstance(opened, dict) else {}

    # -- plumbing ----------------------------------------------------------------------------

    async def _permanent(self, key: str) -> Json:
        try:
            data = await self._get(f"/v2/permanents/{key}")
        except _NotFound:
            return {}
        if _is_envelope(data):
            opened = json.loads(open_envelope(await self._e2e_keys(), data))
            return opened if isinstance(opened, dict) else {}
        return data

    async def _text(self, body: object) -> str:
        if _is_envelope(body):
            return open_envelope(await self._e2e_keys(), body).decode("utf-8", "replace")
        return body if isinstance(body, str) else ""

    async def _e2e_keys(self) -> list[bytes]:
        if self._keys is None:
            user_iden = self._user_iden or await self.me()
            self._keys = [
                await trio.to_thread.run_sync(e2e_key, password, user_iden) for password in self._passwords
            ]
        return self._keys

    async def _get(self, path: str) -> Json:
        while True:
            try:
                response = await self._http.get(path)
            except httpx.HTTPError as exc:
                raise PushbulletUnavailable(f"GET {path}: {type(exc).__name__}") from exc
            if response.status_code == 429:
                wait = ratelimit_wait_s(response.headers, self._wall_clock())
                log.warning("pushbullet rate limit on GET %s: waiting %.0f s", path, wait)
                await trio.sleep(wait)
                continue
            if response.status_code in (401, 403):
                raise PushbulletAuthError(f"GET {path}: {response.status_code}")
            if response.status_code == 404:
                raise _NotFound(path)
            if response.status_code != 200:
                raise PushbulletUnavailable(f"GET {path}: {response.status_code}")
            try:
                data = response.json()
            except ValueError as exc:
                raise PushbulletUnavailable(f"GET {path}: not JSON") from exc
            if not isinstance(data, dict):
                raise PushbulletUnavailable(f"GET {path}: not a JSON object")
            return data


class _NotFound(PushbulletError):
    pass


@asynccontextmanager
async def open_pushbullet(
    api_url: str,
    token: str,
    e2e_passwords: Sequence[str] = (),
    *,
    wall_clock: Callable[[], float] = time.time,
) -> AsyncIterator[PushbulletClient]:
    """A client for one token, on its own connection pool, closed on exit; ``wall_clock`` (epoch
    seconds) is what ``X-Ratelimit-Reset`` is compared with."""
    async with httpx.AsyncClient(
        base_url=api_url.rstrip("/"),
        headers={"Access-Token": token, "Accept": "application/json"},
        timeout=API_TIMEOUT,
    ) as http:
        yield PushbulletClient(http, e2e_passwords, wall_clock=wall_clock)


def _truthy(value: object) -> bool:
    """``has_sms`` leniently: true, 1, "true", "1", "yes"."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return value is True or value == 1


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(str(value))
    except ValueError:
        return 0


def _list(value: object) -> list[Json]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
