"""Telegram's Bot API as recon reads it: ``getUpdates`` long polls, refusals as exceptions.

``open_telegram`` gives a client over ``httpx.AsyncClient`` (trio-native). The bot token is a
segment of every URL (``/bot<token>/<method>``), and httpx logs URLs and attaches requests to its
errors, so httpx only ever sees ``/bot<bot id>:***/...``: a transport puts the token in on the way
to the wire. Refusals become exceptions the loop acts on: 401/404 ``TelegramAuthError`` (the token
is invalid), 409 ``TelegramConflict`` (another poller or a webhook), 429 ``TelegramRateLimited``
(``parameters.retry_after``), anything else ``TelegramUnavailable`` (retry later).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeGuard

import httpx

__all__ = [
    "ALLOWED_UPDATES",
    "Post",
    "TelegramAuthError",
    "TelegramClient",
    "TelegramConflict",
    "TelegramError",
    "TelegramRateLimited",
    "TelegramUnavailable",
    "Update",
    "mask_token",
    "open_telegram",
]

ALLOWED_UPDATES = ("message", "channel_post")  # edits are never a second SMS: not even asked for
BATCH_LIMIT = 100
READ_SLACK_S = 10.0  # the HTTP read timeout is the long-poll timeout plus this
DEFAULT_RETRY_AFTER_S = 5.0  # a 429 that does not say how long
MAX_RETRY_AFTER_S = 3600.0

Json = dict[str, Any]


class TelegramError(Exception):
    """Telegram did not answer the call with updates (messages never carry the token)."""


class TelegramAuthError(TelegramError):
    """401 or 404: the token is invalid or revoked."""


class TelegramConflict(TelegramError):
    """409: another getUpdates poller runs, or a webhook is set."""


class TelegramRateLimited(TelegramError):
    """429: ask again after ``wait_s``."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"rate limited for {wait_s:.0f} s")
        self.wait_s = wait_s


class TelegramUnavailable(TelegramError):
    """A transient failure (5xx, other refusals, transport, an unreadable answer): retry later."""


@dataclass(frozen=True, slots=True)
class Post:
    """A new message or channel post; ``text`` (or a media caption) is None when it has none."""

    chat_id: int
    message_id: int
    date: int
    text: str | None


@dataclass(frozen=True, slots=True)
class Update:
    """One getUpdates entry: its kind (``message``, ``edited_message``, ...) and, for a readable
    message or channel post, the post."""

    update_id: int
    kind: str
    post: Post | None


def mask_token(token: str) -> str:
    """``<bot id>:***``: which bot, without the secret."""
    bot_id, colon, _ = token.partition(":")
    return f"{bot_id}:***" if colon and bot_id.isdigit() else "***"


class TelegramClient:
    """One bot's view of the Bot API (see ``open_telegram``)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def get_updates(self, offset: int | None, timeout_s: int) -> list[Update]:
        """Long-poll for up to 100 updates from ``offset`` (which confirms every update below it)."""
        params: dict[str, str | int] = {
            "limit": BATCH_LIMIT,
            "timeout": timeout_s,
            "allowed_updates": json.dumps(ALLOWED_UPDATES, separators=(",", ":")),
        }
        if offset is not None:
            params["offset"] = offset
        result = await self._call("getUpdates", params)
        if not isinstance(result, list):
            raise TelegramUnavailable("getUpdates: result is not a list")
        return [update for raw in result if (update := _update(raw)) is not None]

    async def _call(self, method: str, params: dict[str, str | int]) -> object:
        try:
            response = await self._http.get(f"/{method}", params=params)
        except httpx.HTTPError as exc:
            raise TelegramUnavailable(f"{method}: {type(exc).__name__}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        code = response.status_code
        if code == 200 and body.get("ok") is True:
            return body.get("result")
        if code in (401, 404):
            raise TelegramAuthError(f"{method}: {code}")
        if code == 409:
            raise TelegramConflict(f"{method}: 409 {str(body.get('description', ''))[:200]}")
        if code == 429:
            raise TelegramRateLimited(_retry_after(body, response.headers))
        raise TelegramUnavailable(f"{method}: {code}")


def _retry_after(body: Json, headers: httpx.Headers) -> float:
    parameters = body.get("parameters")
    seconds = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if not _is_int(seconds):
        header = headers.get("retry-after", "")
        seconds = int(header) if header.isdigit() else None
    wait = DEFAULT_RETRY_AFTER_S if seconds is None else float(seconds)
    return min(MAX_RETRY_AFTER_S, max(1.0, wait))


def _update(raw: object) -> Update | None:
    if not isinstance(raw, dict) or not _is_int(raw.get("update_id")):
        return None
    kind = next((name for name in raw if name != "update_id"), "unknown")
    message = raw.get(kind)
    post = _post(message) if kind in ALLOWED_UPDATES and isinstance(message, dict) else None
    return Update(raw["update_id"], kind, post)


def _post(message: Json) -> Post | None:
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    message_id, date = message.get("message_id"), message.get("date")
    text = message.get("text", message.get("caption"))
    if _is_int(chat_id) and _is_int(message_id) and _is_int(date):
        return Post(chat_id, message_id, date, text if isinstance(text, str) else None)
    return None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class _TokenInPath(httpx.AsyncBaseTransport):
    """Replaces the masked ``/bot<id>:***/`` segment with the real one, for the wire only."""

    def __init__(self, masked: bytes, real: bytes, inner: httpx.AsyncBaseTransport) -> None:
        self._masked, self._real, self._inner = masked, real, inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.replace(self._masked, self._real, 1)
        wire = httpx.Request(
            request.method,
            request.url.copy_with(raw_path=path),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(wire)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _env_proxy(api_url: str) -> str | None:
    """The proxy the environment names for the API (httpx's own lookup would bypass the token
    transport, so the client does not trust the environment and the proxy is chosen here)."""
    host = httpx.URL(api_url).host
    if urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(httpx.URL(api_url).scheme)


@asynccontextmanager
async def open_telegram(api_url: str, token: str, poll_timeout_s: float) -> AsyncIterator[TelegramClient]:
    """A client for one bot token, on its own connection pool, closed on exit."""
    root = api_url.rstrip("/")
    masked = f"/bot{mask_token(token)}/"
    real = f"/bot{urllib.parse.quote(token, safe=':')}/"
    prefix = httpx.URL(root).raw_path.rstrip(b"/")
    inner = httpx.AsyncHTTPTransport(proxy=_env_proxy(root))
    transport = _TokenInPath(prefix + masked.encode(), prefix + real.encode(), inner)
    timeout = httpx.Timeout(10.0, read=poll_timeout_s + READ_SLACK_S)
    async with httpx.AsyncClient(
        base_url=root + masked.rstrip("/"),
        transport=transport,
        timeout=timeout,
        trust_env=False,
        headers={"Accept": "application/json"},
    ) as http:
        yield TelegramClient(http)
