"""In-memory state of the Pushbullet double: accounts, devices, SMS permanents, the stream
connections, and the fault switches.

Everything is guarded by one lock, so a test may seed, inject SMS and flip switches from its
own thread while uvicorn serves from another, or call the same methods synchronously from
trio code running in the same trio run as the served app (`serve_trio`). Methods never
block on I/O; stream connections are woken through a callable each connection registers
(`open_stream`), which is safe to call from any thread.

The clock (`clock=`) gives epoch seconds for every timestamp the API shows and for the
rate-limit window; inject e.g. `lambda: 1_700_000_000 + trio.current_time()` to run it in
virtual time. The stream's nop cadence does not use it: the app sleeps on the event loop's
clock (`anyio.sleep`), which is trio's (virtual under `autojump_clock`) when served by
`serve_trio`.

End-to-end encryption uses Pushbullet's format, exported as `derive_key`, `encrypt_blob`
and `decrypt_blob` so the worker and the tests share one implementation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "DEFAULT_NOP_INTERVAL",
    "DEFAULT_RATELIMIT_LIMIT",
    "E2E_ITERATIONS",
    "E2eMode",
    "InjectedFailure",
    "Json",
    "PushbulletError",
    "PushbulletState",
    "StreamConn",
    "decrypt_blob",
    "decrypt_json",
    "derive_key",
    "encrypt_blob",
]

Json: TypeAlias = dict[str, Any]
Clock: TypeAlias = Callable[[], float]
E2eMode = Literal["permanent", "message"]

DEFAULT_NOP_INTERVAL = 30.0
DEFAULT_RATELIMIT_LIMIT = 16384
RATELIMIT_WINDOW = 3600  # seconds; `X-Ratelimit-Reset` is the end of the current window
E2E_ITERATIONS = 30000
_E2E_VERSION = b"1"
_TAG_LEN = 16
_IV_LEN = 12
_MAX_PUSH_LIMIT = 500
_ERROR_CAT = "~(=^\u2025^)\u30ce"  # Pushbullet puts a cat in every error


# -- end-to-end encryption (the exact wire format) ------------------------------------------


def derive_key(password: str, user_iden: str, *, iterations: int = E2E_ITERATIONS, length: int = 32) -> bytes:
    """PBKDF2-HMAC-SHA256(password, salt = user iden, 30000 iterations, 32 bytes).

    Both strings are UTF-8 encoded. `iterations`/`length` exist only so the primitive can be
    checked against published PBKDF2 test vectors; Pushbullet always uses the defaults.
    """
    return hashlib.pbkdf2_hmac(
        "sha256", password.encode("utf-8"), user_iden.encode("utf-8"), iterations, length
    )


def encrypt_blob(key: bytes, plaintext: bytes, *, iv: bytes | None = None) -> str:
    """AES-256-GCM; base64 of `b"1"` + 16-byte tag + 12-byte IV + ciphertext (no AAD)."""
    if len(key) != 32:
        raise ValueError("key must be 32 bytes (AES-256)")
    iv = os.urandom(_IV_LEN) if iv is None else iv
    if len(iv) != _IV_LEN:
        raise ValueError("iv must be 12 bytes")
    sealed = AESGCM(key).encrypt(iv, plaintext, None)  # ciphertext || tag
    ciphertext, tag = sealed[:-_TAG_LEN], sealed[-_TAG_LEN:]
    return base64.b64encode(_E2E_VERSION + tag + iv + ciphertext).decode("ascii")


def decrypt_blob(key: bytes, blob: str) -> bytes:
    """Inverse of `encrypt_blob`. Raises ValueError for a malformed blob or a wrong key."""
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("ciphertext is not base64") from exc
    if len(raw) < 1 + _TAG_LEN + _IV_LEN or raw[:1] != _E2E_VERSION:
        raise ValueError("not a version-1 Pushbullet ciphertext")
    tag = raw[1 : 1 + _TAG_LEN]
    iv = raw[1 + _TAG_LEN : 1 + _TAG_LEN + _IV_LEN]
    ciphertext = raw[1 + _TAG_LEN + _IV_LEN :]
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag as exc:
        raise ValueError("wrong key or tampered ciphertext") from exc


def decrypt_json(key: bytes, envelope: Json) -> Any:
    """Decrypt an `{"encrypted": true, "ciphertext": ...}` envelope whose plaintext is JSON."""
    if envelope.get("encrypted") is not True or not isinstance(envelope.get("ciphertext"), str):
        raise ValueError("not an encrypted envelope")
    return json.loads(decrypt_blob(key, envelope["ciphertext"]))


def _envelope(key: bytes, plaintext: bytes) -> Json:
    return {"encrypted": True, "ciphertext": encrypt_blob(key, plaintext)}


# -- errors ----------------------------------------------------------------------------------


class PushbulletError(Exception):
    """A refusal in Pushbullet's shape; `body()` is the JSON the API answers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.type = type_ or ("server" if status >= 500 else "invalid_request")
        self.headers = dict(headers or {})

    def body(self) -> Json:
        return {
            "error": {"code": self.code, "type": self.type, "message": self.message, "cat": _ERROR_CAT},
            "error_code": self.code,
        }


def _invalid_token(status: int = 401) -> PushbulletError:
    return PushbulletError(
        status,
        "invalid_access_token",
        "Access token is missing or invalid.",
    )


def _not_found(what: str) -> PushbulletError:
    return PushbulletError(404, "not_found", f"{what} not found.")


def _bad_request(message: str, code: str = "invalid_request") -> PushbulletError:
    return PushbulletError(400, code, message)


# -- records ---------------------------------------------------------------------------------


@dataclass
class _User:
    iden: str
    email: str
    name: str
    created: float
    modified: float
    e2e_password: str | None = None
    e2e_mode: E2eMode = "permanent"
    e2e_key: bytes | None = None
    window_start: int = 0
    window_used: int = 0

    def json(self) -> Json:
        return {
            "iden": self.iden,
            "email": self.email,
            "email_normalized": self.email.lower(),
            "name": self.name,
            "created": self.created,
            "modified": self.modified,
            "image_url": "https://static.pushbullet.com/missing-image/55a7dc-45",
            "max_upload_size": 26214400,
        }


@dataclass
class _Device:
    iden: str
    user_iden: str
    nickname: str
    manufacturer: str
    model: str
    has_sms: bool | str
    active: bool
    created: float
    modified: float
    app_version: int = 308
    type: str = "android"
    # None: the `<iden>_threads` permanent does not exist yet (a new device): 404.
    threads: dict[str, _Thread] | None = None
    next_message_id: int = 1

    def json(self) -> Json:
        if not self.active:  # a deleted device keeps only these, as pushes do
            return {
                "iden": self.iden,
                "active": False,
                "created": self.created,
                "modified": self.modified,
            }
        return {
            "iden": self.iden,
            "active": True,
            "created": self.created,
            "modified": self.modified,
            "type": self.type,
            "kind": self.type,
            "nickname": self.nickname,
            "generated_nickname": False,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "app_version": self.app_version,
            "fingerprint": json.dumps({"android_id": self.iden}),
            "push_token": f"token-{self.iden}",
            "pushable": True,
            "has_sms": self.has_sms,
            "has_mms": bool(self.has_sms is True),
            "icon": "phone",
            "remote_files": "disabled",
        }


@dataclass
class _Thread:
    id: str
    recipients: list[Json]
    messages: list[Json] = field(default_factory=list)

    def latest(self) -> Json | None:
        if not self.messages:
            return None
        return max(self.messages, key=lambda m: (m["timestamp"], int(m["id"])))


@dataclass
class StreamConn:
    """One accepted stream connection (created by `PushbulletState.open_stream`)."""

    id: int
    token: str
    user_iden: str
    wake: Callable[[], None]
    queue: deque[Json] = field(default_factory=deque)
    half_open: bool = False
    close_code: int | None = None
    close_reason: str = ""


# -- the state -------------------------------------------------------------------------------


class PushbulletState:
    """Accounts, devices, SMS threads, pushes, stream connections and fault switches.

    Fault switches (all thread-safe, all take effect on the next request/loop turn):

    * `half_open()`: every stream connected *now* goes silent (no nop, no push, no tickle)
      but stays open; connections made afterwards are healthy.
    * `drop_streams(code=1001)`: every stream connected now is closed with a close frame.
    * `revoke(token, status=401)`: REST answers `status` `invalid_access_token`, the stream
      handshake is refused with `status`, and that token's open streams are closed (1008).
    * `ratelimit(seconds, token=None)`: until now+seconds, REST and the handshake answer 429
      `ratelimited` with `X-Ratelimit-Remaining: 0` and `X-Ratelimit-Reset` = ceil(now+s).
    * `e2e(password, mode=...)`: permanents (and sms ephemerals) come back encrypted.
    * `fail_next(n, status=503, stream=False)`: the next `n` REST requests (and handshakes
      if `stream`) answer `status` with an HTML body, before authentication.
    * `expire_cursors()`: every `/v2/pushes` cursor handed out so far answers 400.
    """

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        nop_interval: float = DEFAULT_NOP_INTERVAL,
        ratelimit_limit: int = DEFAULT_RATELIMIT_LIMIT,
        seed: int = 0,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self.nop_interval = nop_interval
        self.ratelimit_limit = ratelimit_limit
        self._seed = seed
        self._users: dict[str, _User] = {}
        self._tokens: dict[str, str] = {}  # token -> user iden
        self._revoked: dict[str, int] = {}  # token -> status
        self._devices: dict[str, _Device] = {}
        self._chats: dict[str, list[Json]] = {}
        self._channels: dict[str, list[Json]] = {}
        self._pushes: dict[str, list[Json]] = {}
        self._streams: dict[int, StreamConn] = {}
        self._next_stream_id = 1
        self._next_iden = 1
        self._ratelimit_until: dict[str | None, float] = {}  # token (None = all) -> until
        self._fail_left = 0
        self._fail_status = 503
        self._fail_stream = False
        self._cursor_secret = hashlib.sha256(f"cursor-{seed}".encode()).digest()
        self._cursor_generation = 0
        self._requests: Counter[str] = Counter()
        self._statuses: Counter[tuple[str, int]] = Counter()

    # -- clock and idens ---------------------------------------------------------------------

    def now(self) -> float:
        return float(self._clock())

    def _new_iden(self, prefix: str) -> str:
        with self._lock:
            n = self._next_iden
            self._next_iden += 1
        digest = hashlib.sha256(f"{self._seed}-{prefix}-{n}".encode()).hexdigest()
        return f"{prefix}{digest[:18]}"

    # -- seeding -----------------------------------------------------------------------------

    def add_user(
        self,
        *,
        email: str = "user@example.com",
        name: str = "Double User",
        token: str | None = None,
        iden: str | None = None,
    ) -> tuple[str, str]:
        """Create an account; return `(user_iden, token)` (`o.` + 32 chars if not given)."""
        with self._lock:
            iden = iden or self._new_iden("uj")
            if iden in self._users:
                raise ValueError(f"user {iden} exists")
            token = token or "o." + hashlib.sha256(f"{self._seed}-token-{iden}".encode()).hexdigest()[:32]
            if token in self._tokens:
                raise ValueError("token already in use")
            now = self.now()
            self._users[iden] = _User(iden, email, name, now, now)
            self._tokens[token] = iden
            self._chats[iden] = []
            self._channels[iden] = []
            self._pushes[iden] = []
            return iden, token

    def add_token(self, user_iden: str, token: str) -> None:
        """Another access token for an existing account."""
        with self._lock:
            self._user(user_iden)
            if token in self._tokens:
                raise ValueError("token already in use")
            self._tokens[token] = user_iden

    def add_device(
        self,
        user_iden: str,
        *,
        nickname: str = "Phone",
        manufacturer: str = "Google",
        model: str = "Pixel 7",
        has_sms: bool | str = True,
        active: bool = True,
        iden: str | None = None,
        app_version: int = 308,
        type_: str = "android",
        synced: bool = True,
        tickle: bool = True,
    ) -> str:
        """Add a device; return its iden. `has_sms` may be a string to test lenient parsing.

        `synced=False` models a new phone whose `<iden>_threads` permanent does not exist
        yet (404 until the first SMS arrives). Connected streams get a `device` tickle.
        """
        with self._lock:
            self._user(user_iden)
            iden = iden or self._new_iden("ujpah72o0sj")
            if iden in self._devices:
                raise ValueError(f"device {iden} exists")
            now = self.now()
            self._devices[iden] = _Device(
                iden=iden,
                user_iden=user_iden,
                nickname=nickname,
                manufacturer=manufacturer,
                model=model,
                has_sms=has_sms,
                active=active,
                created=now,
                modified=now,
                app_version=app_version,
                type=type_,
                threads={} if synced and has_sms else None,
            )
        if tickle:
            self.tickle("device", user_iden=user_iden)
        return iden

    def set_device_active(self, device_iden: str, active: bool, *, tickle: bool = True) -> None:
        """Delete (`False`) or restore a device; bumps `modified`; tickles `device`."""
        with self._lock:
            device = self._device(device_iden)
            device.active = active
            device.modified = self.now()
            user_iden = device.user_iden
        if tickle:
            self.tickle("device", user_iden=user_iden)

    def add_chat(self, user_iden: str, with_email: str, *, name: str = "", active: bool = True) -> str:
        with self._lock:
            self._user(user_iden)
            iden = self._new_iden("ujchat")
            now = self.now()
            chat: Json = {"iden": iden, "active": active, "created": now, "modified": now}
            if active:
                chat["with"] = {
                    "type": "email",
                    "email": with_email,
                    "email_normalized": with_email.lower(),
                    "name": name or with_email,
                    "iden": self._new_iden("uj"),
                }
            self._chats[user_iden].append(chat)
            return iden

    def add_channel(self, user_iden: str, tag: str, *, name: str = "", active: bool = True) -> str:
        with self._lock:
            self._user(user_iden)
            iden = self._new_iden("ujchan")
            now = self.now()
            self._channels[user_iden].append(
                {
                    "iden": iden,
                    "active": active,
                    "created": now,
                    "modified": now,
                    "tag": tag,
                    "name": name or tag,
                    "description": "",
                }
            )
            return iden

    def add_push(
        self,
        user_iden: str,
        *,
        title: str = "",
        body: str = "",
        type_: str = "note",
        tickle: bool = True,
    ) -> str:
        """Store a permanent push (newest `modified`); tickle `push` on the user's streams."""
        with self._lock:
            self._user(user_iden)
            iden = self._new_iden("ujpush")
            now = self.now()
            self._pushes[user_iden].append(
                {
                    "iden": iden,
                    "active": True,
                    "created": now,
                    "modified": now,
                    "type": type_,
                    "dismissed": False,
                    "direction": "self",
                    "sender_iden": user_iden,
                    "sender_email": self._users[user_iden].email,
                    "sender_email_normalized": self._users[user_iden].email.lower(),
                    "receiver_iden": user_iden,
                    "receiver_email": self._users[user_iden].email,
                    "receiver_email_normalized": self._users[user_iden].email.lower(),
                    "title": title,
                    "body": body,
                }
            )
        if tickle:
            self.tickle("push", user_iden=user_iden)
        return iden

    def delete_push(self, user_iden: str, push_iden: str, *, tickle: bool = True) -> None:
        """Mark a push deleted: it keeps only `iden`, `active: false`, `created`, `modified`."""
        with self._lock:
            pushes = self._pushes[self._user(user_iden).iden]
            for i, push in enumerate(pushes):
                if push["iden"] == push_iden:
                    pushes[i] = {
                        "iden": push_iden,
                        "active": False,
                        "created": push["created"],
                        "modified": self.now(),
                    }
                    break
            else:
                raise KeyError(push_iden)
        if tickle:
            self.tickle("push", user_iden=user_iden)

    def add_thread(self, device_iden: str, thread_id: str, recipients: Iterable[Json]) -> None:
        """Create an (empty) SMS thread; recipients are `{"name","address","number"}`."""
        with self._lock:
            device = self._device(device_iden)
            if device.threads is None:
                device.threads = {}
            if thread_id in device.threads:
                raise ValueError(f"thread {thread_id} exists")
            device.threads[thread_id] = _Thread(thread_id, [dict(r) for r in recipients])

    def receive_sms(
        self,
        device_iden: str,
        thread_id: str,
        sender: str,
        body: str,
        timestamp: int | None = None,
        *,
        notify: bool = True,
        empty_notification: bool = False,
        sender_name: str | None = None,
    ) -> Json:
        """An SMS arrives on the phone: store it in the thread permanent, then (if `notify`)
        push `sms_changed` to the owner's connected streams.

        A missing thread is created with `sender` as its only recipient (`sender_name` or
        the number as name). `timestamp` defaults to the clock (int seconds). With
        `empty_notification` the ephemeral carries `notifications: []`. `notify=False`
        models a lost ephemeral (clients must catch up by listing threads). Returns a copy
        of the stored message.
        """
        with self._lock:
            device = self._device(device_iden)
            if device.threads is None:
                device.threads = {}
            thread = device.threads.get(thread_id)
            if thread is None:
                recipient = {"name": sender_name or sender, "address": sender, "number": sender}
                thread = device.threads[thread_id] = _Thread(thread_id, [recipient])
            message = self._append_message(device, thread, "incoming", body, timestamp)
            title = thread.recipients[0]["name"] if thread.recipients else sender
            notifications: list[Json] = (
                []
                if empty_notification
                else [
                    {
                        "thread_id": thread_id,
                        "title": sender_name or title,
                        "body": body,
                        "timestamp": message["timestamp"],
                    }
                ]
            )
            push = {
                "type": "sms_changed",
                "source_device_iden": device_iden,
                "source_user_iden": device.user_iden,
                "notifications": notifications,
            }
            user_iden = device.user_iden
        if notify:
            self.push_ephemeral(user_iden, push)
        return dict(message)

    def send_sms(self, device_iden: str, thread_id: str, body: str, timestamp: int | None = None) -> Json:
        """An outgoing SMS (sent from the phone) lands in the permanent; no ephemeral."""
        with self._lock:
            device = self._device(device_iden)
            thread = (device.threads or {}).get(thread_id)
            if thread is None:
                raise KeyError(f"no thread {thread_id} on {device_iden}")
            return dict(self._append_message(device, thread, "outgoing", body, timestamp))

    def _append_message(
        self, device: _Device, thread: _Thread, direction: str, body: str, timestamp: int | None
    ) -> Json:
        message: Json = {
            "id": str(device.next_message_id),
            "type": "sms",
            "timestamp": int(self.now()) if timestamp is None else int(timestamp),
            "direction": direction,
            "body": body,
        }
        if direction == "outgoing":
            message["status"] = "sent"
        device.next_message_id += 1
        thread.messages.append(message)
        return message

    # -- stream fan-out ----------------------------------------------------------------------

    def tickle(self, subtype: Literal["push", "device"] | str, *, user_iden: str | None = None) -> int:
        """Send `{"type":"tickle","subtype":...}` to the user's streams (None: everyone)."""
        return self._broadcast({"type": "tickle", "subtype": subtype}, user_iden)

    def push_ephemeral(self, user_iden: str, push: Json) -> int:
        """Send `{"type":"push","push": push}` to the user's streams; with e2e on, the push
        travels as `{"encrypted": true, "ciphertext": <the push as JSON>}`. Returns how many
        connections it was queued on (half-open ones drop it)."""
        with self._lock:
            user = self._user(user_iden)
            if user.e2e_key is not None:
                push = _envelope(user.e2e_key, json.dumps(push).encode())
        return self._broadcast(
            {"type": "push", "targets": ["stream", "android", "ios"], "push": push}, user_iden
        )

    def _broadcast(self, message: Json, user_iden: str | None) -> int:
        wakes: list[Callable[[], None]] = []
        with self._lock:
            for conn in self._streams.values():
                if user_iden is not None and conn.user_iden != user_iden:
                    continue
                if conn.half_open or conn.close_code is not None:
                    continue  # lost on a dead connection, as on the real service
                conn.queue.append(message)
                wakes.append(conn.wake)
        for wake in wakes:  # outside the lock: a wake may run code in another event loop
            wake()
        return len(wakes)

    # -- fault switches ----------------------------------------------------------------------

    def half_open(self) -> int:
        """Silence every currently connected stream (no nop, push, tickle; stays open).
        Returns how many. New connections are not affected."""
        with self._lock:
            conns = [c for c in self._streams.values() if not c.half_open]
            for conn in conns:
                conn.half_open = True
                conn.queue.clear()
        return len(conns)

    def drop_streams(self, code: int = 1001, reason: str = "going away") -> int:
        """Close every connected stream (close frame with `code`). Returns how many."""
        return self._close_where(lambda _c: True, code, reason)

    def revoke(self, token: str, *, status: int = 401) -> None:
        """The token stops working: REST and handshake answer `status`; its streams close."""
        with self._lock:
            if token not in self._tokens:
                raise KeyError("unknown token")
            self._revoked[token] = status
        self._close_where(lambda c: c.token == token, 1008, "access token revoked")

    def restore(self, token: str) -> None:
        """Undo `revoke`."""
        with self._lock:
            self._revoked.pop(token, None)

    def ratelimit(self, seconds: float, *, token: str | None = None) -> float:
        """429 `ratelimited` on REST and handshake for `seconds` (for `token`, or for all).
        Returns the reset time (epoch seconds, as `X-Ratelimit-Reset` shows it)."""
        with self._lock:
            until = self.now() + seconds
            self._ratelimit_until[token] = until
            return float(math.ceil(until))

    def e2e(self, password: str | None, *, mode: E2eMode = "permanent", user_iden: str | None = None) -> None:
        """End-to-end encryption on (`None`: off) for one user, or every user.

        The key is `derive_key(password, user_iden)`. `mode="permanent"` (what the official
        clients decode) turns a whole permanent response into `{"encrypted": true,
        "ciphertext": <the JSON it would have been>}`; `mode="message"` keeps the JSON and
        replaces each message's `body` (in threads' `latest` too) with `{"encrypted": true,
        "ciphertext": <the UTF-8 body>}`. In both modes stream pushes are encrypted whole.
        """
        if mode not in ("permanent", "message"):
            raise ValueError(f"unknown e2e mode {mode!r}")
        with self._lock:
            users = [self._user(user_iden)] if user_iden else list(self._users.values())
        for user in users:  # key derivation is slow (~10 ms): outside the lock
            key = None if password is None else derive_key(password, user.iden)
            with self._lock:
                user.e2e_password, user.e2e_mode, user.e2e_key = password, mode, key

    def fail_next(self, n: int = 1, status: int = 503, *, stream: bool = False) -> None:
        """The next `n` REST requests (and stream handshakes if `stream`) answer `status`
        with a non-JSON (HTML) body, before any auth check."""
        with self._lock:
            self._fail_left = n
            self._fail_status = status
            self._fail_stream = stream

    def expire_cursors(self) -> None:
        """Every `/v2/pushes` cursor handed out so far becomes invalid (400)."""
        with self._lock:
            self._cursor_generation += 1

    # -- counters ----------------------------------------------------------------------------

    def request_count(self, route: str) -> int:
        """Requests seen on `route` (e.g. `"GET /v2/devices"`, `"WS /websocket"`)."""
        with self._lock:
            return self._requests[route]

    def request_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._requests)

    def status_counts(self) -> dict[tuple[str, int], int]:
        """`(route, status)` -> count, for every answered request and handshake."""
        with self._lock:
            return dict(self._statuses)

    def stream_count(self, *, token: str | None = None) -> int:
        with self._lock:
            return sum(1 for c in self._streams.values() if token is None or c.token == token)

    def reset_counters(self) -> None:
        with self._lock:
            self._requests.clear()
            self._statuses.clear()

    # -- inspection helpers for tests --------------------------------------------------------

    def user_of(self, token: str) -> str:
        with self._lock:
            return self._tokens[token]

    def thread_messages(self, device_iden: str, thread_id: str) -> list[Json]:
        """The thread's messages in storage order (what the API serves shuffled)."""
        with self._lock:
            thread = (self._device(device_iden).threads or {}).get(thread_id)
            if thread is None:
                raise KeyError(thread_id)
            return [dict(m) for m in thread.messages]

    # -- what the app calls ------------------------------------------------------------------

    def record(self, route: str, status: int) -> None:
        with self._lock:
            self._statuses[(route, status)] += 1

    def admit(self, route: str, token: str | None, *, stream: bool = False) -> tuple[str, dict[str, str]]:
        """Count the request, apply faults, auth and rate limit; return `(user_iden,
        ratelimit headers)`. Raises PushbulletError (with the headers attached) or
        `InjectedFailure`."""
        with self._lock:
            self._requests[route] += 1
            if self._fail_left > 0 and (not stream or self._fail_stream):
                self._fail_left -= 1
                raise InjectedFailure(self._fail_status, self._headers(None))
            user_iden = self._tokens.get(token) if token else None
            if user_iden is None:
                raise _with_headers(_invalid_token(), self._headers(None))
            assert token is not None
            if token in self._revoked:
                raise _with_headers(_invalid_token(self._revoked[token]), self._headers(None))
            now = self.now()
            until = max(self._ratelimit_until.get(token, 0.0), self._ratelimit_until.get(None, 0.0))
            user = self._users[user_iden]
            if now < until:
                headers = {
                    "X-Ratelimit-Limit": str(self.ratelimit_limit),
                    "X-Ratelimit-Remaining": "0",
                    "X-Ratelimit-Reset": str(math.ceil(until)),
                }
                raise _with_headers(
                    PushbulletError(
                        429,
                        "ratelimited",
                        "You have been ratelimited for making too many requests to the server.",
                    ),
                    headers,
                )
            self._roll_window(user, now)
            if user.window_used >= self.ratelimit_limit:
                raise _with_headers(
                    PushbulletError(
                        429,
                        "ratelimited",
                        "You have been ratelimited for making too many requests to the server.",
                    ),
                    self._headers(user),
                )
            user.window_used += 1
            return user_iden, self._headers(user)

    def headers_for(self, token: str | None) -> dict[str, str]:
        """Rate-limit headers without charging (for answers that skip `admit`)."""
        with self._lock:
            user_iden = self._tokens.get(token) if token else None
            return self._headers(self._users[user_iden] if user_iden else None)

    def _roll_window(self, user: _User, now: float) -> None:
        start = int(now // RATELIMIT_WINDOW) * RATELIMIT_WINDOW
        if start != user.window_start:
            user.window_start, user.window_used = start, 0

    def _headers(self, user: _User | None) -> dict[str, str]:
        now = self.now()
        if user is not None:
            self._roll_window(user, now)
        used = user.window_used if user is not None else 0
        reset = int(now // RATELIMIT_WINDOW) * RATELIMIT_WINDOW + RATELIMIT_WINDOW
        return {
            "X-Ratelimit-Limit": str(self.ratelimit_limit),
            "X-Ratelimit-Remaining": str(max(0, self.ratelimit_limit - used)),
            "X-Ratelimit-Reset": str(reset),
        }

    def me(self, user_iden: str) -> Json:
        with self._lock:
            return self._user(user_iden).json()

    def devices(self, user_iden: str, *, active_only: bool = False) -> list[Json]:
        with self._lock:
            return [
                d.json()
                for d in self._devices.values()
                if d.user_iden == user_iden and (d.active or not active_only)
            ]

    def chats(self, user_iden: str, *, active_only: bool = False) -> list[Json]:
        with self._lock:
            return [dict(c) for c in self._chats[user_iden] if c["active"] or not active_only]

    def channels(self, user_iden: str, *, active_only: bool = False) -> list[Json]:
        with self._lock:
            return [dict(c) for c in self._channels[user_iden] if c["active"] or not active_only]

    def pushes_page(
        self,
        user_iden: str,
        *,
        modified_after: float | None,
        active_only: bool,
        limit: int,
        cursor: str | None,
    ) -> Json:
        """`{"pushes": [...]}` newest first, plus `cursor` only when more pages exist."""
        if limit < 1:
            raise _bad_request("limit must be a positive integer.")
        limit = min(limit, _MAX_PUSH_LIMIT)
        with self._lock:
            after = self._decode_cursor(user_iden, cursor) if cursor else None
            items = [
                p
                for p in self._pushes[user_iden]
                if (modified_after is None or p["modified"] > modified_after)
                and (p["active"] or not active_only)
            ]
            items.sort(key=lambda p: (p["modified"], p["iden"]), reverse=True)
            if after is not None:
                items = [p for p in items if (p["modified"], p["iden"]) < after]
            page = [dict(p) for p in items[:limit]]
            result: Json = {"pushes": page}
            if len(items) > limit:
                last = page[-1]
                result["cursor"] = self._encode_cursor(user_iden, last["modified"], last["iden"])
            return result

    def _encode_cursor(self, user_iden: str, modified: float, iden: str) -> str:
        payload = json.dumps([user_iden, modified, iden, self._cursor_generation]).encode()
        mac = hmac.new(self._cursor_secret, payload, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")

    def _decode_cursor(self, user_iden: str, cursor: str) -> tuple[float, str]:
        bad = _bad_request("Cursor is invalid.", "invalid_cursor")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            payload, mac = raw[:-12], raw[-12:]
            good = hmac.new(self._cursor_secret, payload, hashlib.sha256).digest()[:12]
            if not hmac.compare_digest(mac, good):
                raise bad
            owner, modified, iden, generation = json.loads(payload)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise bad from exc
        if owner != user_iden or generation != self._cursor_generation:
            raise bad
        return float(modified), str(iden)

    def threads_permanent(self, user_iden: str, device_iden: str) -> Json:
        """`GET /v2/permanents/<device>_threads` (404 if it does not exist yet)."""
        with self._lock:
            device = self._devices.get(device_iden)
            if device is None or device.user_iden != user_iden or device.threads is None:
                raise _not_found("Permanent")
            user = self._users[user_iden]
            threads: list[Json] = []
            for thread in device.threads.values():
                latest = thread.latest()
                entry: Json = {"id": thread.id, "recipients": [dict(r) for r in thread.recipients]}
                if latest is not None:
                    entry["latest"] = self._seal_message(user, latest)
                threads.append(entry)
            threads.sort(key=lambda t: t["latest"]["timestamp"] if "latest" in t else 0, reverse=True)
            return self._seal_permanent(user, {"threads": threads})

    def thread_permanent(self, user_iden: str, device_iden: str, thread_id: str) -> Json:
        """`GET /v2/permanents/<device>_thread_<id>`: messages in a deterministic shuffled
        order (never oldest-first when there are two or more), so clients must sort."""
        with self._lock:
            device = self._devices.get(device_iden)
            if device is None or device.user_iden != user_iden or device.threads is None:
                raise _not_found("Permanent")
            thread = device.threads.get(thread_id)
            if thread is None:
                raise _not_found("Permanent")
            user = self._users[user_iden]
            messages = [self._seal_message(user, m) for m in thread.messages]
        ordered = _scramble(messages, f"{self._seed}-{device_iden}-{thread_id}-{len(messages)}")
        return self._seal_permanent(user, {"thread": ordered})

    def _seal_message(self, user: _User, message: Json) -> Json:
        message = dict(message)
        if user.e2e_key is not None and user.e2e_mode == "message":
            message["body"] = _envelope(user.e2e_key, str(message["body"]).encode("utf-8"))
        return message

    def _seal_permanent(self, user: _User, data: Json) -> Json:
        if user.e2e_key is not None and user.e2e_mode == "permanent":
            return _envelope(user.e2e_key, json.dumps(data).encode("utf-8"))
        return data

    # -- streams -----------------------------------------------------------------------------

    def open_stream(self, token: str, wake: Callable[[], None]) -> StreamConn:
        """Admit a handshake (faults, auth, rate limit) and register the connection before
        the app accepts it, so an SMS received once the client is connected is never lost."""
        user_iden, _headers = self.admit("WS /websocket", token, stream=True)
        with self._lock:
            conn = StreamConn(self._next_stream_id, token, user_iden, wake)
            self._next_stream_id += 1
            self._streams[conn.id] = conn
            return conn

    def take(self, conn: StreamConn) -> tuple[list[Json], bool, int | None]:
        """Drain what is queued for `conn`: `(messages, half_open, close_code or None)`."""
        with self._lock:
            items = list(conn.queue)
            conn.queue.clear()
            return items, conn.half_open, conn.close_code

    def close_stream(self, conn: StreamConn) -> None:
        with self._lock:
            self._streams.pop(conn.id, None)

    def _close_where(self, pred: Callable[[StreamConn], bool], code: int, reason: str) -> int:
        wakes: list[Callable[[], None]] = []
        with self._lock:
            for conn in self._streams.values():
                if conn.close_code is None and pred(conn):
                    conn.close_code, conn.close_reason = code, reason
                    wakes.append(conn.wake)
        for wake in wakes:
            wake()
        return len(wakes)

    # -- lookups -----------------------------------------------------------------------------

    def _user(self, user_iden: str) -> _User:
        try:
            return self._users[user_iden]
        except KeyError:
            raise KeyError(f"no user {user_iden}") from None

    def _device(self, device_iden: str) -> _Device:
        try:
            return self._devices[device_iden]
        except KeyError:
            raise KeyError(f"no device {device_iden}") from None


class InjectedFailure(Exception):
    """`fail_next` fired: answer `status` with a non-JSON body."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers


def _with_headers(err: PushbulletError, headers: dict[str, str]) -> PushbulletError:
    err.headers.update(headers)
    return err


def _scramble(items: list[Json], seed: str) -> list[Json]:
    """A deterministic permutation that is never the stored (oldest-first) order for 2+."""
    out = list(items)
    random.Random(seed).shuffle(out)  # noqa: S311 - a reproducible order, not security
    if len(out) > 1 and out == sorted(items, key=lambda m: (m["timestamp"], int(m["id"]))):
        out.reverse()
    return out
