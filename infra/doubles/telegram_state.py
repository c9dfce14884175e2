"""In-memory state of the Telegram Bot API double: bots, chats, update queues, fault switches.

One lock guards everything, so tests may post updates and flip switches from any thread, or
from trio code, while the served app answers from its own event loop. A waiting long poll
sleeps on an anyio event of the loop that serves it (so under a trio run with a virtual clock
its timeout passes in virtual time); `post` and the switches wake it thread-safely.

Queue semantics follow `tdlib/telegram-bot-api` (Client::do_get_updates over td's TQueue):
`offset` > 0 forgets every update below it and answers from it; `offset` <= 0 answers from
the oldest kept update, a negative one after forgetting all but the last `-offset`; an offset
more than 10 past the next update id (or ~2 million before it) is ignored. Updates nobody
confirms are dropped once older than `retention_seconds` on the state's clock (the setting in
force when the queue is read: lowering it also ages out updates already queued).
`allowed_updates` is a per-bot setting that sticks until changed and applies to updates
created after it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import cast

import anyio
import trio

from infra.doubles.telegram_objects import (
    DEFAULT_ALLOWED_UPDATES,
    UPDATE_TYPES,
    BotUserDict,
    ChatDict,
    ChatFullInfoDict,
    ChatInfo,
    ChatType,
    MessageDict,
    MessageKind,
    MessageOriginDict,
    UpdateDict,
    UserDict,
    WebhookInfoDict,
    check_origin,
    check_user,
)

__all__ = [
    "CONFLICT_GET_UPDATES",
    "CONFLICT_SET_WEBHOOK",
    "CONFLICT_WEBHOOK_ACTIVE",
    "DEFAULT_FORWARDER",
    "DEFAULT_TOKEN",
    "LONG_POLL_MAX_TIMEOUT",
    "GetUpdatesCall",
    "TelegramError",
    "TelegramState",
]

DEFAULT_TOKEN = "7000000001:AAHreconTelegramDoubleDemoToken0001"  # noqa: S105 - a fake local token
DEFAULT_FORWARDER = UserDict(id=5_550_001, is_bot=False, first_name="SMS Forwarder")
LONG_POLL_MAX_TIMEOUT = 50  # the server clamps `timeout` to 0..50
LONG_POLL_WAIT_AFTER = 0.001  # after a wake-up the server waits this long to batch updates
CONFLICT_PACE_SECONDS = 3.0  # with spin_guard, a 409 within 3 s of the last one waits 3 s
CONFLICT_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
CONFLICT_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_FUTURE_SLACK = 10  # TQueue refuses a from_id more than 10 past its tail ...
_PAST_SLACK = 2_000_000  # ... or more than 2 * MAX_QUEUE_EVENTS before it; then it reads from head
# The order the server writes a Message's fields in.
_MESSAGE_KEYS = ("message_id", "from", "sender_chat", "chat", "date", "edit_date", "forward_origin", "text")
_TOKEN_RE = re.compile(r"^[1-9][0-9]{0,15}:[A-Za-z0-9_-]{30,}$")


class TelegramError(Exception):
    """A refusal answered as `{"ok": false, "error_code", "description"[, "parameters"]}`."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class GetUpdatesCall:
    """One getUpdates request that got past the token and flood checks (409s included).

    `limit` and `timeout` are as asked after the server's clamping (1..100, 0..50);
    `allowed_updates` is the parsed filter, or None when absent or ignored; `at` is the state
    clock when it arrived.
    """

    token: str
    offset: int
    limit: int
    timeout: int
    allowed_updates: frozenset[str] | None
    at: float


@dataclass(frozen=True, slots=True)
class _Queued:
    update_id: int
    posted_at: float  # the state's clock when posted; retention is applied when the queue is read
    update: UpdateDict


def _call_soon_in_running_loop() -> Callable[[Callable[[], object]], None]:
    """A thread-safe, non-blocking "call soon" into the event loop running the caller."""
    try:
        token = trio.lowlevel.current_trio_token()
    except RuntimeError:
        loop = asyncio.get_running_loop()

        def on_asyncio(fn: Callable[[], object]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(fn)

        return on_asyncio

    def on_trio(fn: Callable[[], object]) -> None:
        with contextlib.suppress(trio.RunFinishedError):
            token.run_sync_soon(fn)

    return on_trio


class _LongPoll:
    """One waiting getUpdates request; `wake` may be called from any thread."""

    def __init__(self, start: int, limit: int, *, confirms: bool) -> None:
        self.start = start
        self.limit = limit
        self.confirms = confirms
        self.failure: TelegramError | None = None
        self._woken = anyio.Event()
        self._call_soon = _call_soon_in_running_loop()

    def wake(self, failure: TelegramError | None = None) -> None:
        if failure is not None and self.failure is None:
            self.failure = failure
        self._call_soon(self._woken.set)

    async def wait_woken(self) -> None:
        await self._woken.wait()


@dataclass(slots=True)
class _Bot:
    token: str
    me: BotUserDict
    revoked: bool = False
    queue: list[_Queued] = field(default_factory=list)
    confirmed_offset: int = 0
    allowed: frozenset[str] = DEFAULT_ALLOWED_UPDATES
    webhook_url: str = ""
    long_poll: _LongPoll | None = None
    previous_offset: int | None = None  # the spin guard's memory
    previous_start: float = -math.inf
    next_conflict_at: float = -math.inf


class TelegramState:
    """Thread-safe store behind the Telegram double, with posting helpers and fault switches.

    `clock` gives Unix seconds for message dates and update retention. Long-poll timeouts,
    `delay_seconds`, the rate-limit window and the spin guard use the serving event loop's
    clock instead (`anyio.current_time()`), which is virtual under trio's `autojump_clock`.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        retention_seconds: float = 86_400.0,
        first_update_id: int = 100_000_001,
        spin_guard: bool = False,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "recon_sms_bot",
        bot_name: str = "Recon SMS",
    ) -> None:
        if retention_seconds <= 0:
            raise ValueError("retention_seconds must be positive")
        if not 0 < first_update_id < 2**31 - _PAST_SLACK:
            raise ValueError("first_update_id must be a positive int32 well below 2**31")
        self._lock = threading.Lock()
        self._clock = clock
        self._retention = float(retention_seconds)
        self._next_update_id = first_update_id
        self._spin_guard = spin_guard
        self._bots: dict[str, _Bot] = {}
        self._default_token = token
        self._chats: dict[int, ChatInfo] = {}
        self._messages: dict[tuple[int, int], MessageDict] = {}
        self._last_message_id: dict[int, int] = {}
        self._calls: list[GetUpdatesCall] = []
        self._conflict = False
        self._flood_seconds: int | None = None
        self._flood_until: float | None = None
        self._fail_remaining = 0
        self._fail_status = 502
        self._delay_seconds = 0.0
        self._request_count = 0
        self.add_bot(token, username=bot_username, first_name=bot_name)

    # -- bots ----------------------------------------------------------------------------

    @property
    def token(self) -> str:
        """The default bot's token (the one the single-bot helpers below refer to)."""
        return self._default_token

    def add_bot(self, token: str, *, username: str, first_name: str | None = None) -> BotUserDict:
        """Register a bot; `token` is `<bot id>:<secret>` like a real one. Returns its getMe."""
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError("a token looks like '<bot id>:<30+ characters of [A-Za-z0-9_-]>'")
        if not username.lower().endswith("bot"):
            raise ValueError("a bot's username ends in 'bot'")
        me = BotUserDict(
            id=int(token.partition(":")[0]),
            is_bot=True,
            first_name=first_name or username,
            username=username,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )
        with self._lock:
            if token in self._bots:
                raise ValueError("that bot already exists")
            self._bots[token] = _Bot(token=token, me=me)
        return copy.deepcopy(me)

    def revoke(self, token: str | None = None, *, revoked: bool = True) -> None:
        """Revoke a bot's token (default bot if None): every call answers 401 `Unauthorized`,
        a waiting long poll included. `revoked=False` restores it."""
        with self._lock:
            bot = self._known_bot(token)
            bot.revoked = revoked
            if revoked and bot.long_poll is not None:
                bot.long_poll.wake(TelegramError(401, "Unauthorized"))

    # -- chats and updates ---------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: ChatType,
        title: str | None = None,
        username: str | None = None,
    ) -> ChatDict:
        """Make a chat known (or rename it); `title` is the first name for a private chat."""
        with self._lock:
            return self._chat(chat_id, chat_type, title, username).view()

    def post(
        self,
        chat_id: int,
        text: str,
        *,
        chat_type: ChatType | None = None,
        title: str | None = None,
        username: str | None = None,
        edited: bool = False,
        message_id: int | None = None,
        from_user: Mapping[str, object] | None = None,
        forward_origin: Mapping[str, object] | None = None,
    ) -> int:
        """Add an update for every bot whose `allowed_updates` takes it; return its update_id.

        A new chat is a channel when its id is negative and `chat_type` is None, a private
        chat when positive. Channel posts carry `sender_chat` and never `from`; other chats
        carry `from` (`from_user`, else the private chat's user, else DEFAULT_FORWARDER).
        `edited=True` edits `message_id` (default: the chat's latest message): same id and
        date, new text, `edit_date` now. update_ids are shared by all bots, so a bot whose
        filter dropped an update sees a gap, as clients must tolerate anyway.
        """
        if not text:
            raise ValueError("a message needs text")
        origin = None if forward_origin is None else check_origin(forward_origin)
        sender = None if from_user is None else check_user(from_user)
        with self._lock:
            chat = self._chat(chat_id, chat_type, title, username)
            if chat.type == "channel" and sender is not None:
                raise ValueError("channel posts have no `from` (they carry sender_chat)")
            message = self._message(chat, text, edited, message_id, sender, origin)
            kind: MessageKind
            if chat.type == "channel":
                kind = "edited_channel_post" if edited else "channel_post"
            else:
                kind = "edited_message" if edited else "message"
            update_id = self._next_update_id
            self._next_update_id += 1
            update = cast(UpdateDict, {"update_id": update_id, kind: message})
            queued = _Queued(update_id, self._clock(), update)
            for bot in self._bots.values():
                if kind in bot.allowed:
                    bot.queue.append(queued)
                    if bot.long_poll is not None:
                        bot.long_poll.wake()
            return update_id

    def pending(self, token: str | None = None) -> list[UpdateDict]:
        """The updates a bot still keeps (unconfirmed and not expired), oldest first."""
        with self._lock:
            bot = self._known_bot(token)
            self._expire(bot)
            return [copy.deepcopy(queued.update) for queued in bot.queue]

    @property
    def confirmed_offset(self) -> int:
        """The default bot's highest confirming offset: every update below it is forgotten."""
        return self.confirmed_offset_of(None)

    def confirmed_offset_of(self, token: str | None) -> int:
        """`confirmed_offset` of any bot (0 until a getUpdates call confirms something)."""
        with self._lock:
            return self._known_bot(token).confirmed_offset

    @property
    def get_updates_calls(self) -> list[GetUpdatesCall]:
        """Every getUpdates call so far, all bots, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def webhook_url(self, token: str | None = None) -> str:
        """The bot's webhook URL, "" when none is set."""
        with self._lock:
            return self._known_bot(token).webhook_url

    @property
    def retention_seconds(self) -> float:
        """How long an unconfirmed update is kept (the real server: about 24 h); a change
        applies to the updates already queued too."""
        with self._lock:
            return self._retention

    @retention_seconds.setter
    def retention_seconds(self, value: float) -> None:
        if value <= 0:
            raise ValueError("retention_seconds must be positive")
        with self._lock:
            self._retention = float(value)

    # -- fault switches ------------------------------------------------------------------

    def conflict(self, on: bool = True) -> None:
        """While on, getUpdates answers 409 CONFLICT_GET_UPDATES, and any waiting long poll
        is ended with it at once (as when a second bot instance starts polling)."""
        with self._lock:
            self._conflict = on
            if on:
                for bot in self._bots.values():
                    if bot.long_poll is not None:
                        bot.long_poll.wake(TelegramError(409, CONFLICT_GET_UPDATES))

    def ratelimit(self, retry_after: int | None) -> None:
        """Answer every method 429 for `retry_after` seconds, counted on the serving loop's
        clock from the first refused request; each answer carries the seconds left (rounded
        up) in `parameters.retry_after` and a `Retry-After` header. 0 or None lifts it."""
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after cannot be negative")
        with self._lock:
            self._flood_seconds = retry_after or None
            self._flood_until = None

    def fail_next(self, n: int, status: int = 502) -> None:
        """Answer the next `n` requests, whatever their path, `status` with an HTML body."""
        if n < 0 or not 500 <= status <= 599:
            raise ValueError("n must be >= 0 and status a 5xx code")
        with self._lock:
            self._fail_remaining = n
            self._fail_status = status

    @property
    def delay_seconds(self) -> float:
        """Seconds the double waits (on the serving loop's clock) before any answer."""
        with self._lock:
            return self._delay_seconds

    @delay_seconds.setter
    def delay_seconds(self, value: float) -> None:
        if value < 0:
            raise ValueError("delay_seconds cannot be negative")
        with self._lock:
            self._delay_seconds = float(value)

    def reset_faults(self) -> None:
        """Switch every fault off and restore revoked tokens (webhooks and queues stay)."""
        with self._lock:
            self._conflict = False
            self._flood_seconds = self._flood_until = None
            self._fail_remaining = 0
            self._delay_seconds = 0.0
            for bot in self._bots.values():
                bot.revoked = False

    @property
    def request_count(self) -> int:
        """HTTP requests received so far, faulted ones included."""
        with self._lock:
            return self._request_count

    # -- used by the served app ----------------------------------------------------------

    def admit_request(self) -> int | None:
        """Count a request; return the 5xx status to fail it with, or None to serve it."""
        with self._lock:
            self._request_count += 1
            if self._fail_remaining > 0:
                self._fail_remaining -= 1
                return self._fail_status
            return None

    def authorize(self, token: str) -> None:
        """Raise 401 unless `token` names a registered, unrevoked bot."""
        with self._lock:
            self._bot(token)

    def check_flood(self, now: float) -> None:
        """Raise 429 while a `ratelimit` window is open (`now`: the serving loop's clock)."""
        with self._lock:
            if self._flood_seconds is None:
                return
            if self._flood_until is None:
                self._flood_until = now + self._flood_seconds
            left = self._flood_until - now
            if left <= 0:
                self._flood_seconds = self._flood_until = None
                return
        retry_after = max(1, math.ceil(left))
        raise TelegramError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def get_me(self, token: str) -> BotUserDict:
        with self._lock:
            return copy.deepcopy(self._bot(token).me)

    async def get_updates(
        self,
        token: str,
        *,
        offset: int = 0,
        limit: int = 100,
        timeout: int = 0,
        allowed_updates: frozenset[str] | None = None,
    ) -> list[UpdateDict]:
        """getUpdates: answer at once when updates are there (or `timeout` is 0), else wait
        until one arrives (then 1 ms more to batch) or `timeout` seconds pass."""
        limit = min(max(limit, 1), 100)
        timeout = min(max(timeout, 0), LONG_POLL_MAX_TIMEOUT)
        now = anyio.current_time()
        with self._lock:
            bot = self._bot(token)
            self._calls.append(GetUpdatesCall(token, offset, limit, timeout, allowed_updates, self._clock()))
            refusal = self._get_updates_refusal(bot)
            if refusal is None:
                if allowed_updates is not None:
                    bot.allowed = allowed_updates
                limit, timeout = self._guard_spin(bot, offset, limit, timeout, now)
                updates, start = self._collect(bot, offset, limit, confirm=True)
                if updates or timeout == 0:
                    return updates
                if bot.long_poll is not None:
                    bot.long_poll.wake(TelegramError(409, CONFLICT_GET_UPDATES))
                applied = offset < 0 or start == offset > 0
                poll = bot.long_poll = _LongPoll(start, limit, confirms=applied)
        if refusal is not None:
            await self._pace_conflict(bot)
            raise refusal
        try:
            with anyio.move_on_after(timeout):
                await poll.wait_woken()
                if poll.failure is None:
                    await anyio.sleep(LONG_POLL_WAIT_AFTER)
        finally:
            with self._lock:
                if bot.long_poll is poll:
                    bot.long_poll = None
        if poll.failure is not None:
            if poll.failure.error_code == 409:
                await self._pace_conflict(bot)
            raise poll.failure
        with self._lock:
            return self._collect(bot, poll.start, poll.limit, confirm=poll.confirms)[0]

    def set_webhook(
        self,
        token: str,
        url: str,
        *,
        drop_pending_updates: bool = False,
        allowed_updates: frozenset[str] | None = None,
    ) -> str:
        """setWebhook (deleteWebhook is `url=""`); returns the answer's `description`.

        The double never delivers to the URL: a webhook only makes getUpdates answer 409
        CONFLICT_WEBHOOK_ACTIVE, and setting one ends a waiting long poll with 409
        CONFLICT_SET_WEBHOOK.
        """
        with self._lock:
            bot = self._bot(token)
            if allowed_updates is not None:
                bot.allowed = allowed_updates
            if url == bot.webhook_url and not drop_pending_updates:
                return "Webhook is already set" if url else "Webhook is already deleted"
            if url:
                if not re.match(r"^https?://[^/\s?#]+", url, re.IGNORECASE):
                    raise TelegramError(400, "Bad Request: invalid webhook URL specified")
                if not url.lower().startswith("https://"):
                    raise TelegramError(
                        400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
                    )
                if bot.long_poll is not None:
                    bot.long_poll.wake(TelegramError(409, CONFLICT_SET_WEBHOOK))
            had_webhook = bool(bot.webhook_url)
            if drop_pending_updates:
                bot.queue.clear()
            bot.webhook_url = url
            if url:
                return "Webhook was set"
            return "Webhook was deleted" if had_webhook else "Webhook is already deleted"

    def webhook_info(self, token: str) -> WebhookInfoDict:
        with self._lock:
            bot = self._bot(token)
            self._expire(bot)
            info = WebhookInfoDict(
                url=bot.webhook_url, has_custom_certificate=False, pending_update_count=len(bot.queue)
            )
            if bot.webhook_url:
                info["ip_address"] = "<unknown>"
            if bot.allowed != DEFAULT_ALLOWED_UPDATES:
                info["allowed_updates"] = [name for name in UPDATE_TYPES if name in bot.allowed]
            return info

    def get_chat(self, token: str, chat_ref: str) -> ChatFullInfoDict:
        """getChat by id or `@username`; 400 `chat not found` for chats never posted to."""
        with self._lock:
            self._bot(token)
            if not chat_ref:
                raise TelegramError(400, "Bad Request: chat_id is empty")
            if chat_ref.startswith("@"):
                wanted = chat_ref[1:].lower()
                found = [c for c in self._chats.values() if (c.username or "").lower() == wanted]
                chat = found[0] if found else None
            else:
                match = re.match(r"-?\d+", chat_ref)
                chat = self._chats.get(int(match.group())) if match else None
            if chat is None:
                raise TelegramError(400, "Bad Request: chat not found")
            return chat.full_view()

    # -- internals (callers hold the lock) -----------------------------------------------

    def _known_bot(self, token: str | None) -> _Bot:
        bot = self._bots.get(self._default_token if token is None else token)
        if bot is None:
            raise ValueError("no bot with that token")
        return bot

    def _bot(self, token: str) -> _Bot:
        # ClientManager::send refuses malformed tokens before looking the bot up.
        if token[:1] in {"", "0"} or len(token) > 80 or ":" not in token or "/" in token:
            raise TelegramError(401, "Unauthorized: invalid token specified")
        bot = self._bots.get(token)
        if bot is None or bot.revoked:
            raise TelegramError(401, "Unauthorized")
        return bot

    def _get_updates_refusal(self, bot: _Bot) -> TelegramError | None:
        if bot.webhook_url:
            return TelegramError(409, CONFLICT_WEBHOOK_ACTIVE)
        if self._conflict:
            return TelegramError(409, CONFLICT_GET_UPDATES)
        return None

    def _guard_spin(self, bot: _Bot, offset: int, limit: int, timeout: int, now: float) -> tuple[int, int]:
        # Client::process_get_updates_query: the same offset again within 3 s waits at least
        # 3 s when nothing is there, and within 0.5 s gets at most one update.
        if not self._spin_guard:
            return limit, timeout
        if offset == bot.previous_offset:
            if timeout < 3 and now < bot.previous_start + 3.0:
                timeout = 3
            if now < bot.previous_start + 0.5:
                limit = 1
        bot.previous_offset, bot.previous_start = offset, now
        return limit, timeout

    async def _pace_conflict(self, bot: _Bot) -> None:
        # Client::fail_query_conflict: with the spin guard on, 409s come at most every 3 s.
        if not self._spin_guard:
            return
        now = anyio.current_time()
        with self._lock:
            wait = now < bot.next_conflict_at
            if not wait:
                bot.next_conflict_at = now + CONFLICT_PACE_SECONDS
        if wait:
            await anyio.sleep(CONFLICT_PACE_SECONDS)

    def _expire(self, bot: _Bot) -> None:
        oldest_kept = self._clock() - self._retention
        if any(queued.posted_at < oldest_kept for queued in bot.queue):
            bot.queue = [queued for queued in bot.queue if queued.posted_at >= oldest_kept]

    def _collect(self, bot: _Bot, offset: int, limit: int, *, confirm: bool) -> tuple[list[UpdateDict], int]:
        """Apply `offset` to the bot's queue; return up to `limit` updates and the start id."""
        self._expire(bot)
        if offset < 0 and len(bot.queue) > -offset:
            bot.queue = bot.queue[len(bot.queue) + offset :]
            if confirm:
                bot.confirmed_offset = max(bot.confirmed_offset, bot.queue[0].update_id)
        tail = self._next_update_id
        start = bot.queue[0].update_id if bot.queue else tail
        if offset > 0 and tail - _PAST_SLACK <= offset <= tail + _FUTURE_SLACK:
            start = offset
            bot.queue = [queued for queued in bot.queue if queued.update_id >= offset]
            if confirm:
                bot.confirmed_offset = max(bot.confirmed_offset, offset)
        chosen = [queued.update for queued in bot.queue if queued.update_id >= start][:limit]
        return copy.deepcopy(chosen), start

    def _chat(
        self, chat_id: int, chat_type: ChatType | None, title: str | None, username: str | None
    ) -> ChatInfo:
        known = self._chats.get(chat_id)
        if known is None:
            kind: ChatType = chat_type or ("private" if chat_id > 0 else "channel")
            if kind == "private":
                known = ChatInfo(chat_id, kind, username=username, first_name=title or f"User {chat_id}")
            else:
                known = ChatInfo(chat_id, kind, title=title or f"{kind.title()} {chat_id}", username=username)
        else:
            if chat_type is not None and chat_type != known.type:
                raise ValueError(f"chat {chat_id} is a {known.type}, not a {chat_type}")
            if title and known.type == "private":
                known = replace(known, first_name=title)
            elif title:
                known = replace(known, title=title)
            if username:
                known = replace(known, username=username)
        self._chats[chat_id] = known
        return known

    def _message(
        self,
        chat: ChatInfo,
        text: str,
        edited: bool,
        message_id: int | None,
        sender: UserDict | None,
        origin: MessageOriginDict | None,
    ) -> MessageDict:
        now = int(self._clock())
        fields: dict[str, object]
        if edited:
            target = self._last_message_id.get(chat.id) if message_id is None else message_id
            original = None if target is None else self._messages.get((chat.id, target))
            if original is None:
                raise ValueError(f"chat {chat.id} has no message {target} to edit")
            fields = dict(copy.deepcopy(original))
            if "sender_chat" in fields:
                fields["sender_chat"] = chat.view()
            fields["edit_date"] = now
        else:
            if message_id is not None:
                raise ValueError("message_id is only for edits; new messages are numbered per chat")
            new_id = self._last_message_id.get(chat.id, 0) + 1
            self._last_message_id[chat.id] = new_id
            fields = {"message_id": new_id, "date": now}
            if chat.type == "channel":
                fields["sender_chat"] = chat.view()
            else:
                fields["from"] = sender or self._private_user(chat) or copy.deepcopy(DEFAULT_FORWARDER)
        fields["chat"] = chat.view()
        if origin is not None:
            fields["forward_origin"] = origin
        fields["text"] = text
        message = cast(MessageDict, {key: fields[key] for key in _MESSAGE_KEYS if key in fields})
        self._messages[(chat.id, message["message_id"])] = message
        return copy.deepcopy(message)

    @staticmethod
    def _private_user(chat: ChatInfo) -> UserDict | None:
        if chat.type != "private" or chat.first_name is None:
            return None
        built = UserDict(id=chat.id, is_bot=False, first_name=chat.first_name)
        if chat.username:
            built["username"] = chat.username
        return built
