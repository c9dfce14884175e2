"""ASGI middleware that must see the raw body before Connexion validates it.

* ``BodyLimit`` buffers every request body up to a size cap and replays it downstream
  (Connexion's validator would otherwise buffer any size).
* ``DeviceGate`` checks the device routes' credentials first, as the contract orders it: the
  enrollment key and the per-address rate limit on register, the HMAC signature on the rest.
  Connexion's security handlers never see the body, so the signature cannot be checked there.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recon_impl.http import envelope as env
from recon_impl.http.errors import is_device_path

log = logging.getLogger(__name__)

REGISTER_PATH = "/api/shooter/device/register"
SIGNED_PATHS = frozenset({"/api/shooter/sms/report", "/api/shooter/device/heartbeat"})


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode("utf-8")
    content_type = "application/problem+json" if "title" in body else "application/json"
    raw_headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class BodyLimit:
    """Reject bodies over ``max_bytes`` (413 problem, or the envelope on device routes)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        scope.setdefault("state", {})["raw_body"] = b"".join(chunks)
        await self.app(scope, _replay(scope["state"]["raw_body"]), send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        detail = f"request body exceeds {self.max_bytes} bytes"
        if is_device_path(scope["path"]):
            await _send_json(send, 200, env.envelope(env.INVALID, detail))
        else:
            await _send_json(
                send,
                413,
                {
                    "type": "/problems/invalid",
                    "title": "Body too large",
                    "status": 413,
                    "detail": detail,
                },
            )


class DeviceGate:
    """Enrollment key, registration rate limit and request signatures of the device API."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        enroll_key_ok: Callable[[str], bool],
        register_allowed: Callable[[str], int | None],
        authenticate: Callable[[str, bytes, bytes, str], tuple[int | None, str]],
        window_s: int,
    ) -> None:
        self.app = app
        self.enroll_key_ok = enroll_key_ok
        self.register_allowed = register_allowed
        self.authenticate = authenticate
        self.window_s = window_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == REGISTER_PATH:
            await self._register(scope, receive, send)
        elif path in SIGNED_PATHS:
            await self._signed(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _register(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"x-enroll-key")
        if key is None or not self.enroll_key_ok(key.decode("utf-8", "replace")):
            log.info("device register refused: enrollment key")
            await _send_json(send, 401, env.envelope(env.UNAUTHORIZED, "enrollment key is missing or wrong"))
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        retry_after = await anyio.to_thread.run_sync(self.register_allowed, client)
        if retry_after is not None:
            await _send_json(
                send,
                200,
                env.envelope(env.INVALID, "too many registrations from this address; retry later"),
                {"Retry-After": str(retry_after)},
            )
            return
        await self.app(scope, receive, send)

    async def _signed(self, scope: Scope, receive: Receive, send: Send) -> None:
        device_id = _header(scope, b"x-device-id")
        stamp = _header(scope, b"x-timestamp")
        signature = _header(scope, b"x-signature")
        reason = None
        if device_id is None or stamp is None or signature is None:
            reason = "X-Device-Id, X-Timestamp and X-Signature are required"
        elif not stamp.isdigit() or len(stamp) > 12:
            reason = "X-Timestamp must be Unix seconds"
        elif abs(time.time() - int(stamp)) > self.window_s:
            reason = f"X-Timestamp is more than {self.window_s} s from server time"
        if reason is None:
            assert device_id is not None and stamp is not None and signature is not None
            body: bytes = scope.get("state", {}).get("raw_body", b"")
            device_pk, reason = await anyio.to_thread.run_sync(
                self.authenticate,
                device_id.decode("utf-8", "replace"),
                stamp,
                body,
                signature.decode("ascii", "replace"),
            )
            if device_pk is not None:
                context = scope.setdefault("extensions", {}).setdefault("connexion_context", {})
                context["device_pk"] = device_pk
                await self.app(scope, receive, send)
                return
        log.info("device request refused: %s", reason)
        await _send_json(send, 401, env.envelope(env.UNAUTHORIZED, reason or "unauthorized"))


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None
