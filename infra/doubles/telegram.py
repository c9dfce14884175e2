"""Loopback double of the Telegram Bot API (`/bot<token>/<method>`) as a Starlette app.

    state = TelegramState()
    root_url, stop = serve_in_thread(create_app(state))          # any test, local runs
    root_url = await nursery.start(serve_trio, create_app(state))  # trio tests, virtual time
    # then call f"{root_url}/bot{state.token}/getUpdates"

Run it on its own with `python -m infra.doubles.telegram --port 8793 --demo`.

Methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, getChat (names match
without case, as on the real server). Parameters are read the way `telegram-bot-api` reads
them: from the query string, then the body (JSON object, form-urlencoded or multipart),
the first occurrence winning; every value is a string (non-string JSON values keep their
JSON text, so python-telegram-bot's JSON-encoded form values and raw JSON bodies read
alike); integers are parsed leniently and clamped, never refused.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from infra.doubles.serving import serve_in_thread, serve_trio
from infra.doubles.telegram_objects import parse_allowed_updates
from infra.doubles.telegram_state import (
    DEFAULT_TOKEN,
    LONG_POLL_MAX_TIMEOUT,
    TelegramError,
    TelegramState,
)

__all__ = [
    "DEFAULT_TOKEN",
    "DEMO_CHANNEL_ID",
    "TelegramError",
    "TelegramState",
    "create_app",
    "demo_sms",
    "main",
    "serve_in_thread",
    "serve_trio",
    "state_of",
]

DEMO_CHANNEL_ID = -1_001_234_567_890
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_HTTP_PHRASES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _Args:
    """A request's parameters as the server holds them: names to strings, first one wins."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def add(self, name: str, value: str) -> None:
        self._values.setdefault(name, value)

    def text(self, name: str) -> str:
        return self._values.get(name, "")

    def integer(self, name: str, default: int, low: int = _INT32_MIN, high: int = _INT32_MAX) -> int:
        """`get_integer_arg`: empty means `default`; else td::to_integer (a leading `-` and
        digits, anything after ignored, no digits = 0, int32 wrap-around), then clamped."""
        raw = self.text(name)
        if not raw:
            return min(max(default, low), high)
        match = re.match(r"(-?)(\d*)", raw)
        digits = match.group(2) if match else ""
        value = int(digits) if digits else 0
        value = -value if match and match.group(1) else value
        value = (value - _INT32_MIN) % 2**32 + _INT32_MIN
        return min(max(value, low), high)

    def flag(self, name: str) -> bool:
        return self.text(name).strip().lower() in {"true", "yes", "1"}


async def _read_args(request: Request) -> _Args:
    args = _Args()
    for name, value in request.query_params.multi_items():
        args.add(name, value)
    content_type = request.headers.get("content-type", "").lower()
    if "application/json" in content_type:
        body = await request.body()
        if body.strip():
            for name, value in _json_parameters(body).items():
                args.add(name, value)
    elif "application/x-www-form-urlencoded" in content_type or "multipart/form-data" in content_type:
        async with request.form() as form:
            for name, item in form.multi_items():
                if isinstance(item, str):
                    args.add(name, item)
    return args


def _json_parameters(body: bytes) -> dict[str, str]:
    # HttpReader::parse_json_parameters: an object's string values decoded, others kept as JSON.
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise TelegramError(400, "Bad Request: can't parse parameter value") from exc
    if isinstance(value, str):
        return {"content": value}
    if not isinstance(value, dict):
        raise TelegramError(400, "Bad Request: JSON object expected")
    return {
        name: item if isinstance(item, str) else json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        for name, item in value.items()
    }


# -- methods (each thin: read the parameters, call one TelegramState method) ---------------

_Answer = tuple[object, str | None]  # (result, description)
_Method = Callable[[TelegramState, str, _Args], Awaitable[_Answer]]


async def _get_me(state: TelegramState, token: str, args: _Args) -> _Answer:
    return state.get_me(token), None


async def _get_updates(state: TelegramState, token: str, args: _Args) -> _Answer:
    updates = await state.get_updates(
        token,
        offset=args.integer("offset", 0),
        limit=args.integer("limit", 100, 1, 100),
        timeout=args.integer("timeout", 0, 0, LONG_POLL_MAX_TIMEOUT),
        allowed_updates=parse_allowed_updates(args.text("allowed_updates")),
    )
    return updates, None


async def _set_webhook(state: TelegramState, token: str, args: _Args) -> _Answer:
    description = state.set_webhook(
        token,
        args.text("url"),
        drop_pending_updates=args.flag("drop_pending_updates"),
        allowed_updates=parse_allowed_updates(args.text("allowed_updates")),
    )
    return True, description


async def _delete_webhook(state: TelegramState, token: str, args: _Args) -> _Answer:
    description = state.set_webhook(token, "", drop_pending_updates=args.flag("drop_pending_updates"))
    return True, description


async def _get_webhook_info(state: TelegramState, token: str, args: _Args) -> _Answer:
    return state.webhook_info(token), None


async def _get_chat(state: TelegramState, token: str, args: _Args) -> _Answer:
    return state.get_chat(token, args.text("chat_id")), None


_METHODS: dict[str, _Method] = {
    "getme": _get_me,
    "getupdates": _get_updates,
    "setwebhook": _set_webhook,
    "deletewebhook": _delete_webhook,
    "getwebhookinfo": _get_webhook_info,
    "getchat": _get_chat,
}


async def _call_method(request: Request) -> Response:
    state = state_of(request.app)
    if request.method not in {"GET", "POST"}:
        raise TelegramError(501, "Not Implemented")
    token = request.path_params["token"]
    args = await _read_args(request)
    state.authorize(token)
    method = _METHODS.get(request.path_params["method"].lower())
    if method is None:
        raise TelegramError(404, "Not Found: method not found")
    state.check_flood(anyio.current_time())
    result, description = await _unless_disconnected(request.receive, method(state, token, args))
    body: dict[str, object] = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return JSONResponse(body)


async def _unless_disconnected(receive: Receive, answer: Awaitable[_Answer]) -> _Answer:
    """Await `answer`, but give up when the client hangs up: a long poll must not outlive
    its connection (it would hold up the server's shutdown and still count as a poller)."""
    outcome: list[_Answer] = []
    refusal: list[TelegramError] = []

    async with anyio.create_task_group() as group:

        async def run() -> None:
            try:
                outcome.append(await answer)
            except TelegramError as exc:
                refusal.append(exc)
            group.cancel_scope.cancel()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            group.cancel_scope.cancel()

        group.start_soon(run)
        group.start_soon(watch)
    if refusal:
        raise refusal[0]
    return outcome[0] if outcome else (None, None)  # (None, None): nobody is listening


async def _not_found(request: Request) -> Response:
    raise TelegramError(404, "Not Found")


async def _error_response(request: Request, exc: Exception) -> Response:
    # Async on purpose: Starlette runs a sync handler in a worker thread, and a trio
    # autojump_clock jumps while a thread runs, so every refusal would race the client's timers.
    err = exc if isinstance(exc, TelegramError) else TelegramError(500, "Internal Server Error")
    body: dict[str, object] = {"ok": False, "error_code": err.error_code, "description": err.description}
    headers = None
    if err.retry_after is not None:
        body["parameters"] = {"retry_after": err.retry_after}
        headers = {"Retry-After": str(err.retry_after)}
    return JSONResponse(body, err.error_code, headers=headers)


class _FaultMiddleware:
    """Outermost ASGI layer: counts requests, applies `delay_seconds` and `fail_next`."""

    def __init__(self, app: ASGIApp, state: TelegramState) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = self._state.admit_request()
        delay = self._state.delay_seconds
        if delay > 0:
            await anyio.sleep(delay)
        if status is None:
            await self._app(scope, receive, send)
            return
        # What the proxy in front of a failing Bot API sends: nginx's HTML, not JSON.
        phrase = _HTTP_PHRASES.get(status, "Error")
        html = (
            f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        await Response(html, status_code=status, media_type="text/html")(scope, receive, send)


def create_app(state: TelegramState | None = None) -> Starlette:
    """Build the Starlette app serving the Bot API over `state` (a new one if None)."""
    state = TelegramState() if state is None else state
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(
        routes=[
            Route("/bot{token}/{method}", _call_method, methods=methods),
            Route("/{path:path}", _not_found, methods=methods),
        ],
        middleware=[Middleware(_FaultMiddleware, state=state)],
        exception_handlers={TelegramError: _error_response, 500: _error_response},
    )
    app.state.telegram = state
    return app


def state_of(app: Starlette) -> TelegramState:
    """The TelegramState a `create_app` app serves."""
    state: TelegramState = app.state.telegram
    return state


# -- local runs ----------------------------------------------------------------------------


def demo_sms(n: int, now: float) -> str:
    """The n-th demo bank SMS as a forwarder posts it: the sender line, then the SMS text."""
    amount = 100_000 * (1 + n % 20)
    balance = 10_000_000 + 100_000 * sum(1 + i % 20 for i in range(n + 1))
    bank_time = datetime.fromtimestamp(now, timezone(timedelta(hours=7))).strftime("%d-%m-%Y %H:%M:%S")
    return (
        f"VCB\nSD TK ****3456 +{amount:,}VND luc {bank_time}. SD {balance:,}VND. "
        f"Ref MBVCB.{5_123_456_000 + n}.{n:06d} NGUYEN VAN A chuyen tien D{1000 + n}"
    )


def _post_demo_sms(state: TelegramState, every: float, stop: threading.Event) -> None:
    n = 0
    while not stop.wait(every):
        state.post(DEMO_CHANNEL_ID, demo_sms(n, time.time()), chat_type="channel", title="Bank SMS")
        n += 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m infra.doubles.telegram`."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.doubles.telegram", description="Run the Telegram Bot API double."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to accept")
    parser.add_argument("--demo", action="store_true", help="post a bank SMS to a channel every few seconds")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between demo posts")
    parser.add_argument(
        "--spin-guard", action="store_true", help="throttle tight getUpdates loops like the real server"
    )
    args = parser.parse_args(argv)

    state = TelegramState(token=args.token, spin_guard=args.spin_guard)
    stop = threading.Event()
    if args.demo:
        state.add_chat(DEMO_CHANNEL_ID, chat_type="channel", title="Bank SMS")
        threading.Thread(target=_post_demo_sms, args=(state, args.every, stop), daemon=True).start()
    shown = args.token if args.token == DEFAULT_TOKEN else "<--token>"
    print(f"telegram double: http://{args.host}:{args.port}/bot{shown}/getUpdates", flush=True)
    if args.demo:
        print(f"demo: a bank SMS every {args.every:g} s in channel {DEMO_CHANNEL_ID}", flush=True)
    try:
        uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="info")
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
