"""Loopback double of Pushbullet (REST + realtime stream) as one Starlette ASGI app.

    state = PushbulletState()
    user, token = state.add_user(email="me@example.com")
    phone = state.add_device(user, has_sms=True)
    app = create_app(state)

    # thread-based tests and local runs (uvicorn, real time):
    root_url, stop = serve_in_thread(app)
    # trio tests, one trio run, virtual time under pytest-trio's `autojump_clock`:
    root_url = await nursery.start(serve_trio, app)

REST lives at the root (the real base is `https://api.pushbullet.com`, so
`f"{root_url}/v2/devices"`), the stream at `ws://.../websocket/<token>` (real:
`wss://stream.pushbullet.com/websocket/<token>`). Auth accepts `Access-Token: <token>`,
`Authorization: Bearer <token>` and HTTP Basic with the token as user name. Every HTTP
answer, errors and injected failures included, carries `X-Ratelimit-Limit`,
`X-Ratelimit-Remaining` and `X-Ratelimit-Reset`; refused handshakes carry them too.

The stream sends `{"type": "nop"}` every `state.nop_interval` seconds of the event loop's
clock (`anyio.sleep`: trio's clock under `serve_trio`, so virtual time applies), plus
whatever the state queues (tickles, `push` ephemerals such as `sms_changed`).

Run it on its own with `python -m infra.doubles.pushbullet --port 8792 --demo`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

import anyio
import anyio.lowlevel
import trio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from infra.doubles.pushbullet_state import (
    InjectedFailure,
    Json,
    PushbulletError,
    PushbulletState,
    StreamConn,
    decrypt_blob,
    decrypt_json,
    derive_key,
    encrypt_blob,
)
from infra.doubles.serving import serve_in_thread, serve_trio

__all__ = [
    "DEMO_TOKEN",
    "PushbulletError",
    "PushbulletState",
    "create_app",
    "decrypt_blob",
    "decrypt_json",
    "derive_key",
    "encrypt_blob",
    "main",
    "seed_demo",
    "serve_in_thread",
    "serve_trio",
    "state_of",
]

DEMO_TOKEN = "o.demo0000000000000000000000000000"  # noqa: S105 - a well-known local token
ROUTE_ME = "GET /v2/users/me"
ROUTE_DEVICES = "GET /v2/devices"
ROUTE_CHATS = "GET /v2/chats"
ROUTE_CHANNELS = "GET /v2/channels"
ROUTE_PUSHES = "GET /v2/pushes"
ROUTE_THREADS = "GET /v2/permanents/threads"
ROUTE_THREAD = "GET /v2/permanents/thread"
ROUTE_OTHER = "other"
ROUTE_STREAM = "WS /websocket"
_PHRASES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_SEND_ERRORS = (
    WebSocketDisconnect,
    OSError,
    RuntimeError,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
)

_Handler = Callable[[Request, PushbulletState, str], Json]


# -- app factory ---------------------------------------------------------------------------


def create_app(state: PushbulletState | None = None) -> Starlette:
    """The Starlette app serving `state` (a new, empty one if None)."""
    state = PushbulletState() if state is None else state
    routes = [
        Route("/v2/users/me", _rest(ROUTE_ME, _me), methods=["GET"]),
        Route("/v2/devices", _rest(ROUTE_DEVICES, _devices), methods=["GET"]),
        Route("/v2/chats", _rest(ROUTE_CHATS, _chats), methods=["GET"]),
        Route("/v2/channels", _rest(ROUTE_CHANNELS, _channels), methods=["GET"]),
        Route("/v2/pushes", _rest(ROUTE_PUSHES, _pushes), methods=["GET"]),
        Route("/v2/permanents/{key}", _permanent, methods=["GET"]),
        WebSocketRoute("/websocket/{token}", _stream),
        Route(
            "/{path:path}",
            _rest(ROUTE_OTHER, _unknown),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        ),
    ]
    app = Starlette(routes=routes)
    app.state.pushbullet = state
    return app


def state_of(app: Starlette) -> PushbulletState:
    """The PushbulletState a `create_app` app serves."""
    return cast(PushbulletState, app.state.pushbullet)


def _state(conn: Request | WebSocket) -> PushbulletState:
    return cast(PushbulletState, conn.app.state.pushbullet)


# -- REST ----------------------------------------------------------------------------------


def _token_of(headers: Callable[[str], str | None]) -> str | None:
    """`Access-Token`, else `Authorization: Bearer`, else Basic (token as user name)."""
    token = headers("access-token")
    if token:
        return token.strip()
    scheme, _, value = (headers("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            user, _, _password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, ValueError):
            return None
        return user or None
    return None


def _rest(route: str, handler: _Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return _answer(request, route, handler)

    return endpoint


def _answer(request: Request, route: str, handler: _Handler) -> Response:
    state = _state(request)
    token = _token_of(request.headers.get)
    headers: dict[str, str] | None = None
    response: Response
    try:
        user_iden, headers = state.admit(route, token)
        response = JSONResponse(handler(request, state, user_iden), headers=headers)
    except InjectedFailure as fault:
        response = _html_failure(fault.status, fault.headers)
    except PushbulletError as err:
        response = _error_response(err, err.headers or headers or state.headers_for(token))
    state.record(route, response.status_code)
    return response


def _error_response(err: PushbulletError, headers: dict[str, str]) -> Response:
    return JSONResponse(err.body(), err.status, headers=headers)


def _html_failure(status: int, headers: dict[str, str]) -> Response:
    phrase = _PHRASES.get(status, "Error")
    html = (
        f"<html><head><title>{status} {phrase}</title></head><body><h1>{status} {phrase}</h1></body></html>"
    )
    return Response(html, status_code=status, headers=headers, media_type="text/html")


def _me(_request: Request, state: PushbulletState, user_iden: str) -> Json:
    return state.me(user_iden)


def _active_only(request: Request) -> bool:
    return request.query_params.get("active", "").lower() == "true"


def _devices(request: Request, state: PushbulletState, user_iden: str) -> Json:
    return {"devices": state.devices(user_iden, active_only=_active_only(request))}


def _chats(request: Request, state: PushbulletState, user_iden: str) -> Json:
    return {"chats": state.chats(user_iden, active_only=_active_only(request))}


def _channels(request: Request, state: PushbulletState, user_iden: str) -> Json:
    return {"channels": state.channels(user_iden, active_only=_active_only(request))}


def _pushes(request: Request, state: PushbulletState, user_iden: str) -> Json:
    query = request.query_params
    try:
        raw_after = query.get("modified_after")
        modified_after = float(raw_after) if raw_after not in (None, "") else None
        limit = int(query.get("limit") or 500)
    except ValueError:
        raise PushbulletError(400, "invalid_request", "Invalid query parameter.") from None
    return state.pushes_page(
        user_iden,
        modified_after=modified_after,
        active_only=_active_only(request),
        limit=limit,
        cursor=query.get("cursor") or None,
    )


def _unknown(_request: Request, _state: PushbulletState, _user_iden: str) -> Json:
    raise PushbulletError(404, "not_found", "Resource not found.")


async def _permanent(request: Request) -> Response:
    key = str(request.path_params["key"])
    if key.endswith("_threads"):
        device_iden = key[: -len("_threads")]

        def threads(_r: Request, state: PushbulletState, user_iden: str) -> Json:
            return state.threads_permanent(user_iden, device_iden)

        return _answer(request, ROUTE_THREADS, threads)
    device_iden, sep, thread_id = key.rpartition("_thread_")
    if sep and device_iden and thread_id:

        def thread(_r: Request, state: PushbulletState, user_iden: str) -> Json:
            return state.thread_permanent(user_iden, device_iden, thread_id)

        return _answer(request, ROUTE_THREAD, thread)
    return _answer(request, ROUTE_OTHER, _unknown)


# -- stream --------------------------------------------------------------------------------


class _Waker:
    """Wakes one stream connection's sender from any thread (or from its own event loop).

    `__call__` never blocks: it schedules `event.set()` on the loop that created the waker
    (trio: `TrioToken.run_sync_soon`; asyncio: `call_soon_threadsafe`), so the state may
    call it from a test thread, a uvicorn thread or synchronous trio code alike.
    """

    def __init__(self) -> None:
        self.event = anyio.Event()
        native = anyio.lowlevel.current_token().native_token
        if isinstance(native, trio.lowlevel.TrioToken):
            self._soon: Callable[[Callable[[], object]], object] = native.run_sync_soon
        elif isinstance(native, asyncio.AbstractEventLoop):
            self._soon = native.call_soon_threadsafe
        else:  # pragma: no cover - anyio supports only these two
            raise RuntimeError(f"unsupported event loop {native!r}")

    def reset(self) -> None:
        """Called by the sender (in its loop) before it drains the queue."""
        self.event = anyio.Event()

    def _set(self) -> None:
        self.event.set()

    def __call__(self) -> None:
        # A loop that is gone took its connection with it: nothing to wake.
        with contextlib.suppress(RuntimeError, trio.RunFinishedError):
            self._soon(self._set)


async def _stream(ws: WebSocket) -> None:
    state = _state(ws)
    token = str(ws.path_params["token"])
    waker = _Waker()
    try:
        conn = state.open_stream(token, waker)
    except InjectedFailure as fault:
        await _deny(ws, _html_failure(fault.status, fault.headers))
        state.record(ROUTE_STREAM, fault.status)
        return
    except PushbulletError as err:
        await _deny(ws, _error_response(err, err.headers or state.headers_for(None)))
        state.record(ROUTE_STREAM, err.status)
        return
    try:
        await ws.accept()
        state.record(ROUTE_STREAM, 101)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_read_until_closed, ws, tg.cancel_scope)
            with contextlib.suppress(*_SEND_ERRORS):  # the client went away mid-send
                await _feed(ws, state, conn, waker)
            tg.cancel_scope.cancel()
    finally:
        state.close_stream(conn)


async def _deny(ws: WebSocket, response: Response) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(response)
    else:  # the server turns a close before accept into HTTP 403
        await ws.close(code=1008)


async def _read_until_closed(ws: WebSocket, scope: anyio.CancelScope) -> None:
    """The stream is read-only: discard what the client sends; stop when it goes."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
    except _SEND_ERRORS:
        pass
    scope.cancel()


async def _feed(ws: WebSocket, state: PushbulletState, conn: StreamConn, waker: _Waker) -> None:
    next_nop = anyio.current_time() + state.nop_interval
    while True:
        waker.reset()  # before draining, so a message queued after the drain wakes us
        messages, half_open, close_code = state.take(conn)
        if close_code is not None:
            await ws.close(code=close_code, reason=conn.close_reason)
            return
        if not half_open:
            for message in messages:
                await ws.send_text(json.dumps(message))
        now = anyio.current_time()
        if now >= next_nop:
            if not half_open:
                await ws.send_text(json.dumps({"type": "nop"}))
            next_nop += state.nop_interval
            if next_nop <= now:  # fell behind (or the interval shrank): restart the cadence
                next_nop = now + state.nop_interval
            continue
        with anyio.move_on_after(next_nop - now):
            await waker.event.wait()


# -- local runs ----------------------------------------------------------------------------


def seed_demo(state: PushbulletState, token: str = DEMO_TOKEN) -> tuple[str, str]:
    """A demo account with an SMS phone, a laptop, a deleted phone and a few threads.
    Returns `(user_iden, sms_device_iden)`."""
    user, _ = state.add_user(email="demo@example.com", name="Demo User", token=token, iden="ujdemo0000")
    phone = state.add_device(
        user, nickname="Demo Pixel", model="Pixel 7", has_sms=True, iden="ujdemophone0001", tickle=False
    )
    state.add_device(
        user, nickname="Chrome", manufacturer="Google", model="Chrome", has_sms=False, type_="chrome",
        iden="ujdemochrome01", tickle=False,
    )  # fmt: skip
    state.add_device(
        user, nickname="Old phone", has_sms=True, active=False, iden="ujdemooldphone", tickle=False
    )
    state.add_chat(user, "friend@example.com", name="A Friend")
    state.add_push(user, title="Welcome", body="Pushbullet double demo push", tickle=False)
    bank = [{"name": "VCB", "address": "VCB", "number": "VCB"}]
    state.add_thread(phone, "318", bank)
    base = int(state.now()) - 3600
    state.receive_sms(phone, "318", "VCB", "TK 0123 +1,500,000VND luc 10:01. ND: D1001", base, notify=False)
    state.receive_sms(
        phone, "318", "VCB", "TK 0123 +500,000VND luc 10:05. ND: D1002", base + 240, notify=False
    )
    state.receive_sms(
        phone, "42", "+84901234567", "Call me back", base + 600, notify=False, sender_name="Mom"
    )
    state.send_sms(phone, "42", "ok", base + 660)
    return user, phone


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m infra.doubles.pushbullet`."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.doubles.pushbullet", description="Run the Pushbullet double."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--demo", action="store_true", help="seed a demo account, phone and threads")
    parser.add_argument("--token", default=DEMO_TOKEN, help="the demo account's token (with --demo)")
    parser.add_argument("--nop-interval", type=float, default=30.0, help="seconds between stream nops")
    args = parser.parse_args(argv)

    state = PushbulletState(nop_interval=args.nop_interval)
    lines = [
        f"pushbullet double: http://{args.host}:{args.port} (stream ws://{args.host}:{args.port}/websocket/<token>)"
    ]
    if args.demo:
        _user, phone = seed_demo(state, args.token)
        shown = args.token if args.token == DEMO_TOKEN else "<--token>"
        lines.append(f"  demo token {shown}; SMS device {phone} (threads 318, 42)")
    else:
        lines.append("  no accounts: use --demo, or import the module and seed a PushbulletState")
    print("\n".join(lines), flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
