"""The Telegram Bot API double, spoken to over real HTTP on loopback.

Most tests serve the double with `serve_trio` inside the test's own trio run and talk to it
with httpx.AsyncClient under pytest-trio's `autojump_clock`, so a 50 s long poll or a 30 s
rate-limit window passes in milliseconds; the state's clock is tied to the same virtual
clock. A few tests use `serve_in_thread` (uvicorn, asyncio, real time) to cover waking a
long poll from another thread, client hang-ups, and the `python -m` entry point.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import trio

from infra.doubles.telegram import (
    DEFAULT_TOKEN,
    TelegramState,
    create_app,
    demo_sms,
    serve_in_thread,
    serve_trio,
)
from infra.doubles.telegram_objects import (
    DEFAULT_ALLOWED_UPDATES,
    ChatInfo,
    origin_channel,
    origin_chat,
    origin_hidden_user,
    origin_user,
    user,
)
from infra.doubles.telegram_state import (
    CONFLICT_GET_UPDATES,
    CONFLICT_SET_WEBHOOK,
    CONFLICT_WEBHOOK_ACTIVE,
    DEFAULT_FORWARDER,
)

EPOCH = 1_733_200_000.0
CHANNEL = -1_001_111_111_111
GROUP = -4_002_222
SUPERGROUP = -1_003_333_333_333
OTHER_TOKEN = "7000000002:AAHsecondBotOfTheTelegramDoubleTest"


# -- fixtures and helpers ------------------------------------------------------------------


def virtual_state(**kwargs: Any) -> TelegramState:
    """A state whose wall clock is EPOCH plus the trio run's (virtual) clock."""
    return TelegramState(clock=lambda: EPOCH + trio.current_time(), **kwargs)


@asynccontextmanager
async def served(state: TelegramState, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The double in this trio run, and a client whose base URL is `/bot<token>`."""
    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_trio, create_app(state))
        async with httpx.AsyncClient(base_url=f"{url}/bot{token or state.token}", timeout=120) as client:
            yield client
        nursery.cancel_scope.cancel()


@contextmanager
def threaded(state: TelegramState) -> Iterator[tuple[str, httpx.Client]]:
    """The double on uvicorn in a thread; the root URL and a client on `/bot<token>`."""
    url, stop = serve_in_thread(create_app(state))
    try:
        with httpx.Client(base_url=f"{url}/bot{state.token}", timeout=30) as client:
            yield url, client
    finally:
        stop()


def result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["ok"] is True and "result" in body, body
    return body["result"]


def refusal(response: httpx.Response, code: int) -> dict[str, Any]:
    """The error body, checked for the Bot API shape and HTTP status = error_code."""
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    assert body["ok"] is False and body["error_code"] == code
    assert isinstance(body["description"], str)
    assert set(body) <= {"ok", "error_code", "description", "parameters"}
    return body


def ids(updates: list[dict[str, Any]]) -> list[int]:
    return [update["update_id"] for update in updates]


# -- getMe and request encodings -----------------------------------------------------------


@pytest.mark.trio
async def test_get_me_answers_the_bot_user(autojump_clock: Any) -> None:
    """getMe returns the bot as a User with the bot-only flags, in the ok/result envelope."""
    state = virtual_state()
    async with served(state) as client:
        me = result(await client.get("/getMe"))
        assert me["id"] == int(DEFAULT_TOKEN.split(":")[0]) and me["is_bot"] is True
        assert me["username"] == "recon_sms_bot" and me["first_name"] == "Recon SMS"
        assert me["can_read_all_group_messages"] is False
        assert result(await client.post("/getMe")) == me
        assert result(await client.get("/GETME")) == me  # method names match without case


@pytest.mark.trio
async def test_query_string_json_body_and_form_encoding_read_alike(autojump_clock: Any) -> None:
    """GET with a query, POST with JSON, POST form with JSON-encoded values (python-telegram-bot)
    and multipart all set offset, limit, timeout and allowed_updates the same way."""
    answers = []
    for encoding in ("query", "json", "form", "multipart"):
        state = virtual_state()
        first = state.post(CHANNEL, "VCB\none")
        state.post(CHANNEL, "VCB\ntwo")
        state.post(GROUP, "group text", chat_type="group", title="Group")
        state.post(CHANNEL, "VCB\nthree")
        params = {"offset": first + 1, "limit": 2, "timeout": 0, "allowed_updates": ["channel_post"]}
        form = {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}
        async with served(state) as client:
            if encoding == "query":
                response = await client.get("/getUpdates", params=form)
            elif encoding == "json":
                response = await client.post("/getUpdates", json=params)
            elif encoding == "form":
                response = await client.post("/getUpdates", data=form)
            else:
                response = await client.post("/getUpdates", data=form, files={"unused": b""})
            updates = result(response)
        assert ids(updates) == [first + 1, first + 2], encoding  # limit 2 from offset
        (call,) = state.get_updates_calls
        assert (call.offset, call.limit, call.timeout) == (first + 1, 2, 0), encoding
        assert call.allowed_updates == frozenset({"channel_post"}), encoding
        assert state.confirmed_offset == first + 1, encoding
        answers.append([{k: v for k, v in u.items() if k != "update_id"} for u in updates])
    assert all(answer == answers[0] for answer in answers)


@pytest.mark.trio
async def test_parameters_are_read_leniently_like_the_real_server(autojump_clock: Any) -> None:
    """Integers are parsed leniently and clamped, never refused; a bad JSON body is a 400."""
    state = virtual_state()
    for i in range(3):
        state.post(CHANNEL, f"VCB\n{i}")
    async with served(state) as client:
        assert len(result(await client.get("/getUpdates", params={"limit": "2abc"}))) == 2
        assert len(result(await client.get("/getUpdates", params={"limit": "0"}))) == 1
        assert len(result(await client.get("/getUpdates", params={"limit": "lots"}))) == 1
        assert len(result(await client.get("/getUpdates", params={"limit": ""}))) == 3
        assert len(result(await client.post("/getUpdates", json={"limit": 2.9}))) == 2
        # The query string wins over the body, as on the real server.
        assert len(result(await client.post("/getUpdates?limit=1", json={"limit": 3}))) == 1
        bad = await client.post("/getUpdates", content=b"{nope", headers={"Content-Type": "application/json"})
        assert refusal(bad, 400)["description"].startswith("Bad Request:")
        listed = await client.post("/getUpdates", json=[1, 2])
        assert refusal(listed, 400)["description"] == "Bad Request: JSON object expected"


# -- offsets, limit, retention --------------------------------------------------------------


@pytest.mark.trio
async def test_offset_confirms_and_forgets_earlier_updates(autojump_clock: Any) -> None:
    """Asking with last update_id + 1 confirms everything before it: those updates are gone and
    asking again with an old offset does not bring them back."""
    state = virtual_state()
    posted = [state.post(CHANNEL, f"VCB\nsms {i}") for i in range(3)]
    assert posted == sorted(posted) and len(set(posted)) == 3
    async with served(state) as client:
        assert ids(result(await client.get("/getUpdates"))) == posted
        assert ids(result(await client.get("/getUpdates"))) == posted  # not confirmed yet
        assert state.confirmed_offset == 0

        assert result(await client.get("/getUpdates", params={"offset": posted[-1] + 1})) == []
        assert state.confirmed_offset == posted[-1] + 1
        assert state.pending() == []
        assert result(await client.get("/getUpdates", params={"offset": posted[0]})) == []
        assert result(await client.get("/getUpdates")) == []

        later = state.post(CHANNEL, "VCB\nlater")
        assert later == posted[-1] + 1
        assert ids(result(await client.get("/getUpdates", params={"offset": posted[0]}))) == [later]
        assert state.confirmed_offset == posted[-1] + 1  # an old offset lowers nothing

        # An offset far ahead of the queue is ignored (read from the head, nothing forgotten).
        far = await client.get("/getUpdates", params={"offset": later + 1000})
        assert ids(result(far)) == [later]
        assert ids(state.pending()) == [later]


@pytest.mark.trio
async def test_negative_offset_returns_the_last_n_and_forgets_the_rest(autojump_clock: Any) -> None:
    """offset=-N answers the last N updates and forgets every earlier one."""
    state = virtual_state()
    posted = [state.post(CHANNEL, f"VCB\nsms {i}") for i in range(5)]
    async with served(state) as client:
        assert ids(result(await client.get("/getUpdates", params={"offset": -2}))) == posted[-2:]
        assert ids(state.pending()) == posted[-2:]
        assert ids(result(await client.get("/getUpdates", params={"offset": -1}))) == posted[-1:]
        assert ids(result(await client.get("/getUpdates"))) == posted[-1:]
        assert ids(result(await client.get("/getUpdates", params={"offset": -10}))) == posted[-1:]


@pytest.mark.trio
async def test_limit_defaults_to_100_and_is_clamped_to_1_to_100(autojump_clock: Any) -> None:
    """limit caps the batch: default 100, values above 100 read as 100, below 1 as 1."""
    state = virtual_state()
    posted = [state.post(CHANNEL, f"VCB\nsms {i}") for i in range(105)]
    async with served(state) as client:
        assert ids(result(await client.get("/getUpdates"))) == posted[:100]
        assert ids(result(await client.get("/getUpdates", params={"limit": 500}))) == posted[:100]
        assert ids(result(await client.get("/getUpdates", params={"limit": 3}))) == posted[:3]
        assert ids(result(await client.get("/getUpdates", params={"limit": -5}))) == posted[:1]
        rest = await client.get("/getUpdates", params={"offset": posted[100], "limit": 100})
        assert ids(result(rest)) == posted[100:]
    assert [call.limit for call in state.get_updates_calls] == [100, 100, 3, 1, 100]


@pytest.mark.trio
async def test_unconfirmed_updates_expire_after_the_retention_setting(autojump_clock: Any) -> None:
    """Updates nobody confirms are kept for retention_seconds (24 h by default), then dropped."""
    assert virtual_state().retention_seconds == 86_400
    state = virtual_state(retention_seconds=3600)
    old = state.post(CHANNEL, "VCB\nold")
    await trio.sleep(1800)
    new = state.post(CHANNEL, "VCB\nnew")
    async with served(state) as client:
        assert ids(result(await client.get("/getUpdates"))) == [old, new]
        await trio.sleep(1801)
        assert ids(result(await client.get("/getUpdates"))) == [new]
        state.retention_seconds = 60
        assert result(await client.get("/getUpdates")) == []


# -- long polling ---------------------------------------------------------------------------


@pytest.mark.trio
async def test_long_poll_answers_as_soon_as_an_update_arrives(autojump_clock: Any) -> None:
    """A waiting getUpdates returns right after `post`, not at its timeout."""
    state = virtual_state()
    async with served(state) as client:
        answers: list[tuple[float, list[dict[str, Any]]]] = []

        async def poll() -> None:
            start = trio.current_time()
            response = await client.get("/getUpdates", params={"timeout": 50})
            answers.append((trio.current_time() - start, result(response)))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(poll)
            await trio.sleep(10)
            update_id = state.post(CHANNEL, "VCB\nSD TK ****3456 +1,500,000VND")
        ((elapsed, updates),) = answers
        assert 10 <= elapsed < 10.1
        assert ids(updates) == [update_id]
        assert updates[0]["channel_post"]["text"] == "VCB\nSD TK ****3456 +1,500,000VND"


@pytest.mark.trio
async def test_long_poll_times_out_empty_in_virtual_time(autojump_clock: Any) -> None:
    """With nothing to deliver, getUpdates answers [] after `timeout` s (clamped to 50)."""
    state = virtual_state()
    wall = time.monotonic()
    async with served(state) as client:
        for asked, waited in ((50, 50), (120, 50), (3, 3), (0, 0)):
            start = trio.current_time()
            assert result(await client.get("/getUpdates", params={"timeout": asked})) == []
            assert waited <= trio.current_time() - start < waited + 0.1, asked
    assert [call.timeout for call in state.get_updates_calls] == [50, 50, 3, 0]
    assert time.monotonic() - wall < 10


@pytest.mark.trio
async def test_a_second_poller_ends_the_waiting_one_with_409(autojump_clock: Any) -> None:
    """Two bot instances: a new waiting getUpdates terminates the one already waiting."""
    state = virtual_state()
    async with served(state) as client:
        first: list[httpx.Response] = []

        async def poll() -> None:
            first.append(await client.get("/getUpdates", params={"timeout": 50}))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(poll)
            await trio.sleep(5)
            start = trio.current_time()
            nursery.start_soon(poll)
            await trio.sleep(1)
            assert len(first) == 1 and trio.current_time() - start < 1.1
            assert refusal(first[0], 409)["description"] == CONFLICT_GET_UPDATES
            state.post(CHANNEL, "VCB\nfor the survivor")
        assert len(result(first[1])) == 1


def test_long_poll_is_woken_by_a_post_from_another_thread() -> None:
    """Under uvicorn in a thread, `post` from the test's thread wakes the waiting poll at once."""
    state = TelegramState()
    with threaded(state) as (_url, client):
        timer = threading.Timer(0.3, state.post, args=(CHANNEL, "VCB\nfrom another thread"))
        timer.start()
        start = time.monotonic()
        updates = result(client.get("/getUpdates", params={"timeout": 20}))
        elapsed = time.monotonic() - start
        timer.join()
    assert 0.25 <= elapsed < 5
    assert updates[0]["channel_post"]["text"] == "VCB\nfrom another thread"


def test_a_client_hanging_up_ends_its_long_poll() -> None:
    """A long poll whose client went away stops waiting, so the server stops promptly."""
    state = TelegramState()
    url, stop = serve_in_thread(create_app(state))
    try:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{url}/bot{state.token}/getUpdates", params={"timeout": 50}, timeout=0.5)
        time.sleep(0.2)
    finally:
        start = time.monotonic()
        stop()
    assert time.monotonic() - start < 5


# -- update shapes and allowed_updates ------------------------------------------------------


@pytest.mark.trio
async def test_channel_posts_carry_sender_chat_and_no_from(autojump_clock: Any) -> None:
    """A channel post: `channel_post`, negative chat id, type and title, `sender_chat`, no `from`."""
    state = virtual_state()
    update_id = state.post(CHANNEL, "VCB\nSD TK ****3456 +250,000VND", title="Bank SMS", username="banksms")
    async with served(state) as client:
        (update,) = result(await client.get("/getUpdates"))
    assert set(update) == {"update_id", "channel_post"} and update["update_id"] == update_id
    post = update["channel_post"]
    assert "from" not in post
    chat = {"id": CHANNEL, "title": "Bank SMS", "username": "banksms", "type": "channel"}
    assert post["chat"] == chat and post["sender_chat"] == chat
    assert post["message_id"] == 1 and post["date"] == int(EPOCH) and isinstance(post["date"], int)
    assert post["text"] == "VCB\nSD TK ****3456 +250,000VND"
    assert list(post) == ["message_id", "sender_chat", "chat", "date", "text"]


@pytest.mark.trio
async def test_group_and_private_messages_carry_from(autojump_clock: Any) -> None:
    """Group, supergroup and private messages are `message` updates with a `from` user."""
    state = virtual_state()
    forwarder = user(777_000_111, "Forwarder", username="sms_fwd")
    state.post(GROUP, "group", chat_type="group", title="Ops", from_user=forwarder)
    state.post(SUPERGROUP, "super", chat_type="supergroup", title="Ops+")
    state.post(42, "private", title="Alice")
    async with served(state) as client:
        group, supergroup, private = (u["message"] for u in result(await client.get("/getUpdates")))
    assert group["from"] == forwarder
    assert group["chat"] == {
        "id": GROUP,
        "title": "Ops",
        "type": "group",
        "all_members_are_administrators": True,
    }
    assert supergroup["from"] == DEFAULT_FORWARDER
    assert supergroup["chat"] == {"id": SUPERGROUP, "title": "Ops+", "type": "supergroup"}
    assert private["chat"] == {"id": 42, "first_name": "Alice", "type": "private"}
    assert private["from"] == {"id": 42, "is_bot": False, "first_name": "Alice"}
    with pytest.raises(ValueError, match="no `from`"):
        state.post(CHANNEL, "x", from_user=forwarder)
    with pytest.raises(ValueError, match="negative id"):
        state.post(5, "x", chat_type="channel")
    with pytest.raises(ValueError, match="is a group"):
        state.post(GROUP, "x", chat_type="channel")


@pytest.mark.trio
async def test_forwarded_messages_carry_each_kind_of_forward_origin(autojump_clock: Any) -> None:
    """forward_origin of type user, hidden_user, chat and channel reaches the client as given."""
    state = virtual_state()
    sender = user(555, "Bank", username="vcb_alerts")
    origins: list[Any] = [
        origin_user(sender, date=int(EPOCH) - 60),
        origin_hidden_user("VCB", date=int(EPOCH) - 50),
        origin_chat(ChatInfo(GROUP, "group", title="Ops"), date=int(EPOCH) - 40, author_signature="admin"),
        origin_channel(ChatInfo(CHANNEL, "channel", title="Bank SMS"), 99, date=int(EPOCH) - 30),
    ]
    for origin in origins:
        state.post(SUPERGROUP, "VCB\nforwarded", chat_type="supergroup", title="Inbox", forward_origin=origin)
    async with served(state) as client:
        updates = result(await client.get("/getUpdates"))
    got = [u["message"]["forward_origin"] for u in updates]
    assert got == origins
    assert [o["type"] for o in got] == ["user", "hidden_user", "chat", "channel"]
    assert got[0]["sender_user"] == {
        "id": 555,
        "is_bot": False,
        "first_name": "Bank",
        "username": "vcb_alerts",
    }
    assert got[3]["chat"]["id"] == CHANNEL and got[3]["message_id"] == 99
    with pytest.raises(ValueError, match="forward_origin type"):
        state.post(SUPERGROUP, "x", forward_origin={"type": "bot", "date": 1})


@pytest.mark.trio
async def test_edits_arrive_as_edited_updates_with_the_same_message_id(autojump_clock: Any) -> None:
    """An edit keeps message_id and date, adds edit_date, and is an edited_* update."""
    state = virtual_state()
    state.post(CHANNEL, "VCB\ntypo")
    await trio.sleep(30)
    state.post(CHANNEL, "VCB\nfixed", edited=True)
    state.post(GROUP, "hello", chat_type="group", title="Ops")
    state.post(GROUP, "hello!", edited=True, message_id=1)
    async with served(state) as client:
        post, edit, message, edited = result(await client.get("/getUpdates"))
    assert edit["edited_channel_post"]["message_id"] == post["channel_post"]["message_id"] == 1
    assert edit["edited_channel_post"]["date"] == int(EPOCH)
    assert edit["edited_channel_post"]["edit_date"] == int(EPOCH) + 30
    assert edit["edited_channel_post"]["text"] == "VCB\nfixed" and "from" not in edit["edited_channel_post"]
    assert edited["edited_message"]["from"] == message["message"]["from"]
    assert edited["edited_message"]["text"] == "hello!"
    with pytest.raises(ValueError, match="no message"):
        state.post(-1_009, "x", edited=True)


@pytest.mark.trio
async def test_allowed_updates_is_a_sticky_setting_for_new_updates(autojump_clock: Any) -> None:
    """allowed_updates filters updates created after it is set, sticks when omitted, and an
    empty list (or one naming no known type) restores the default; bad JSON is ignored."""
    state = virtual_state()
    before = state.post(CHANNEL, "VCB\nedited later", edited=False)
    async with served(state) as client:
        asked = {"allowed_updates": json.dumps(["channel_post"])}
        assert ids(result(await client.get("/getUpdates", params=asked))) == [before]
        kept = state.post(CHANNEL, "VCB\nnew post")
        state.post(CHANNEL, "VCB\nedit", edited=True)
        state.post(GROUP, "group message", chat_type="group", title="Ops")
        assert ids(result(await client.get("/getUpdates", params={"offset": before + 1}))) == [kept]

        for ignored in ("not json", '"message"', '[1, "message"]'):
            state.post(GROUP, "still filtered")
            response = await client.get(
                "/getUpdates", params={"offset": kept + 1, "allowed_updates": ignored}
            )
            assert result(response) == [], ignored

        await client.get("/getUpdates", params={"allowed_updates": "[]"})
        message = state.post(GROUP, "now allowed")
        edit = state.post(CHANNEL, "VCB\nedit allowed", edited=True)
        assert ids(result(await client.get("/getUpdates", params={"offset": kept + 1}))) == [message, edit]
        await client.get("/getUpdates", params={"allowed_updates": '["MESSAGE", "no_such_type"]'})
        info = result(await client.get("/getWebhookInfo"))
        assert info["allowed_updates"] == ["message"]
    allowed = [call.allowed_updates for call in state.get_updates_calls]
    assert allowed[0] == frozenset({"channel_post"}) and allowed[1] is None
    assert DEFAULT_ALLOWED_UPDATES in allowed


# -- errors and fault switches --------------------------------------------------------------


@pytest.mark.trio
async def test_conflict_switch_answers_409_and_ends_a_waiting_poll(autojump_clock: Any) -> None:
    """conflict(True): getUpdates answers 409 (other methods still work), and a poll already
    waiting is ended with the same 409 at once; conflict(False) lifts it."""
    state = virtual_state()
    async with served(state) as client:
        answers: list[tuple[float, httpx.Response]] = []

        async def poll() -> None:
            start = trio.current_time()
            response = await client.get("/getUpdates", params={"timeout": 50})
            answers.append((trio.current_time() - start, response))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(poll)
            await trio.sleep(7)
            state.conflict(True)
        ((elapsed, ended),) = answers
        assert 7 <= elapsed < 7.1
        assert refusal(ended, 409) == {"ok": False, "error_code": 409, "description": CONFLICT_GET_UPDATES}
        assert refusal(await client.get("/getUpdates"), 409)["description"] == CONFLICT_GET_UPDATES
        assert result(await client.get("/getMe"))["is_bot"] is True
        state.conflict(False)
        assert result(await client.get("/getUpdates")) == []


@pytest.mark.trio
async def test_a_webhook_makes_get_updates_conflict_until_deleted(autojump_clock: Any) -> None:
    """setWebhook ends a waiting poll (409), then getUpdates is 409 until deleteWebhook."""
    state = virtual_state()
    state.post(CHANNEL, "VCB\npending")
    async with served(state) as client:
        refused = await client.post("/setWebhook", data={"url": "http://insecure.example/hook"})
        assert "HTTPS" in refusal(refused, 400)["description"]
        assert refusal(await client.get("/setWebhook", params={"url": "nonsense"}), 400)

        answers: list[httpx.Response] = []

        async def poll() -> None:
            answers.append(await client.get("/getUpdates", params={"offset": -1, "timeout": 50}))

        async with trio.open_nursery() as nursery:
            result(await client.get("/getUpdates", params={"offset": state.pending()[0]["update_id"] + 1}))
            nursery.start_soon(poll)
            await trio.sleep(2)
            answer = await client.post("/setWebhook", json={"url": "https://bot.example/hook"})
            assert answer.json() == {"ok": True, "result": True, "description": "Webhook was set"}
        assert refusal(answers[0], 409)["description"] == CONFLICT_SET_WEBHOOK
        assert state.webhook_url() == "https://bot.example/hook"
        assert refusal(await client.get("/getUpdates"), 409)["description"] == CONFLICT_WEBHOOK_ACTIVE
        again = await client.post("/setWebhook", json={"url": "https://bot.example/hook"})
        assert again.json()["description"] == "Webhook is already set"
        info = result(await client.get("/getWebhookInfo"))
        assert info["url"] == "https://bot.example/hook" and info["pending_update_count"] == 0

        state.post(CHANNEL, "VCB\nwhile the webhook was set")
        deleted = await client.post("/deleteWebhook", data={"drop_pending_updates": "true"})
        assert deleted.json() == {"ok": True, "result": True, "description": "Webhook was deleted"}
        assert result(await client.get("/getUpdates")) == []  # dropped
        assert (await client.get("/deleteWebhook")).json()["description"] == "Webhook is already deleted"


@pytest.mark.trio
async def test_ratelimit_answers_429_with_retry_after_until_the_window_passes(autojump_clock: Any) -> None:
    """ratelimit(s): every method answers 429 with parameters.retry_after (seconds left) and
    a Retry-After header, for s seconds from the first refusal."""
    state = virtual_state()
    async with served(state) as client:
        state.ratelimit(30)
        first = await client.get("/getUpdates")
        assert refusal(first, 429) == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 30",
            "parameters": {"retry_after": 30},
        }
        assert first.headers["Retry-After"] == "30"
        await trio.sleep(20.5)
        later = refusal(await client.get("/getMe"), 429)
        assert later["parameters"] == {"retry_after": 10}
        await trio.sleep(later["parameters"]["retry_after"])
        assert result(await client.get("/getMe"))["is_bot"] is True
        assert result(await client.get("/getUpdates")) == []

        state.ratelimit(5)
        assert refusal(await client.get("/getMe"), 429)["parameters"] == {"retry_after": 5}
        state.ratelimit(None)
        assert result(await client.get("/getMe"))


@pytest.mark.trio
async def test_bad_and_revoked_tokens_answer_401(autojump_clock: Any) -> None:
    """Unknown and revoked tokens are 401 `Unauthorized` (malformed ones: `invalid token
    specified`), whatever the method; revoking ends a waiting poll with 401."""
    state = virtual_state()
    state.add_bot(OTHER_TOKEN, username="other_bot")
    async with served(state) as client, served(state, OTHER_TOKEN) as other:
        base = str(client.base_url).rsplit("/bot", 1)[0]
        async with httpx.AsyncClient(base_url=base) as bare:
            unknown = await bare.get("/bot7000000009:AAHnoSuchBotTokenForTheTelegramDouble/getMe")
            assert refusal(unknown, 401) == {"ok": False, "error_code": 401, "description": "Unauthorized"}
            for token in ("no-colon", "0123:AAHleadingZeroTokenIsMalformed00000"):
                malformed = await bare.get(f"/bot{token}/getUpdates")
                assert refusal(malformed, 401)["description"] == "Unauthorized: invalid token specified"
            assert refusal(await bare.get("/bot1:x/noSuchMethod"), 401)  # the token is checked first

        answers: list[httpx.Response] = []

        async def poll() -> None:
            answers.append(await client.get("/getUpdates", params={"timeout": 50}))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(poll)
            await trio.sleep(3)
            state.revoke()
        assert refusal(answers[0], 401)["description"] == "Unauthorized"
        assert refusal(await client.get("/getMe"), 401)["description"] == "Unauthorized"
        assert result(await other.get("/getMe"))["username"] == "other_bot"  # only that token
        state.revoke(revoked=False)
        assert result(await client.get("/getMe"))
        state.revoke(OTHER_TOKEN)
        state.reset_faults()
        assert result(await other.get("/getMe"))


@pytest.mark.trio
async def test_unknown_methods_and_paths_answer_404(autojump_clock: Any) -> None:
    """An unknown method is 404 `Not Found: method not found`; a path that is not
    /bot<token>/<method> is 404 `Not Found`; both in the Bot API error shape."""
    state = virtual_state()
    async with served(state) as client:
        assert refusal(await client.get("/sendMessage"), 404)["description"] == "Not Found: method not found"
        assert refusal(await client.post("/noSuchMethod", json={}), 404)
        base = str(client.base_url).rsplit("/bot", 1)[0]
        async with httpx.AsyncClient(base_url=base) as bare:
            for path in ("/", "/getMe", f"/bot{state.token}", f"/bot{state.token}/"):
                assert refusal(await bare.get(path), 404)["description"] == "Not Found", path


@pytest.mark.trio
async def test_fail_next_answers_5xx_html_then_recovers(autojump_clock: Any) -> None:
    """fail_next(n, status): the next n requests, any path or token, get `status` with an HTML
    body (not JSON); the request after them is served normally."""
    state = virtual_state()
    state.post(CHANNEL, "VCB\nsurvives the outage")
    async with served(state) as client:
        state.fail_next(2)
        for path in ("/getUpdates", "/noSuchMethod"):
            failed = await client.get(path)
            assert failed.status_code == 502 and failed.headers["content-type"].startswith("text/html")
            assert "502 Bad Gateway" in failed.text
            with pytest.raises(json.JSONDecodeError):
                failed.json()
        assert len(result(await client.get("/getUpdates"))) == 1
        state.fail_next(1, 503)
        assert (await client.get("/getMe")).status_code == 503
        assert result(await client.get("/getMe"))
    assert state.request_count == 5
    with pytest.raises(ValueError):
        state.fail_next(1, 429)


@pytest.mark.trio
async def test_delay_seconds_delays_every_answer_in_virtual_time(autojump_clock: Any) -> None:
    """delay_seconds holds every answer back on the serving loop's clock."""
    state = virtual_state()
    async with served(state) as client:
        state.delay_seconds = 12.5
        start = trio.current_time()
        assert result(await client.get("/getMe"))
        assert 12.5 <= trio.current_time() - start < 12.6
        state.reset_faults()
        start = trio.current_time()
        assert result(await client.get("/getMe"))
        assert trio.current_time() - start < 0.1


@pytest.mark.trio
async def test_spin_guard_throttles_tight_loops_like_the_real_server(autojump_clock: Any) -> None:
    """With spin_guard, the same offset again within 3 s waits at least 3 s, and 409s come no
    more often than every 3 s."""
    state = virtual_state(spin_guard=True)
    async with served(state) as client:
        start = trio.current_time()
        assert result(await client.get("/getUpdates", params={"offset": 5})) == []
        assert trio.current_time() - start < 0.1
        assert result(await client.get("/getUpdates", params={"offset": 5})) == []
        assert 3 <= trio.current_time() - start < 3.1

        state.conflict(True)
        start = trio.current_time()
        refusal(await client.get("/getUpdates"), 409)
        assert trio.current_time() - start < 0.1
        refusal(await client.get("/getUpdates"), 409)
        assert 3 <= trio.current_time() - start < 3.1


# -- getChat, the log, the demo --------------------------------------------------------------


@pytest.mark.trio
async def test_get_chat_knows_chats_that_were_posted_to(autojump_clock: Any) -> None:
    """getChat by id or @username returns type and title; unknown chats are 400."""
    state = virtual_state()
    state.post(CHANNEL, "VCB\nx", title="Bank SMS", username="banksms")
    state.add_chat(GROUP, chat_type="group", title="Ops")
    async with served(state) as client:
        chat = result(await client.get("/getChat", params={"chat_id": CHANNEL}))
        assert (chat["id"], chat["type"], chat["title"]) == (CHANNEL, "channel", "Bank SMS")
        assert isinstance(chat["accent_color_id"], int) and isinstance(chat["max_reaction_count"], int)
        assert result(await client.post("/getChat", json={"chat_id": "@BankSMS"}))["id"] == CHANNEL
        assert result(await client.post("/getChat", data={"chat_id": str(GROUP)}))["type"] == "group"
        missing = await client.get("/getChat", params={"chat_id": -1})
        assert refusal(missing, 400)["description"] == "Bad Request: chat not found"
        empty = await client.get("/getChat")
        assert refusal(empty, 400)["description"] == "Bad Request: chat_id is empty"


@pytest.mark.trio
async def test_get_updates_calls_are_logged_for_assertions(autojump_clock: Any) -> None:
    """Every getUpdates call is logged with offset, limit, timeout, filter and clock time,
    refused ones included; other methods are not."""
    state = virtual_state()
    async with served(state) as client:
        await client.get("/getMe")
        await client.get("/getUpdates", params={"offset": 7, "limit": 10, "timeout": 2})
        # Not 5 s: hypercorn closes an idle keep-alive connection exactly 5 s after the last
        # answer, and a request sent at that same virtual instant races the close.
        await trio.sleep(4)
        state.conflict(True)
        await client.post("/getUpdates", json={"offset": 8, "allowed_updates": ["channel_post"]})
    first, second = state.get_updates_calls
    assert (first.token, first.offset, first.limit, first.timeout, first.allowed_updates) == (
        state.token,
        7,
        10,
        2,
        None,
    )
    assert first.at == EPOCH
    assert (second.offset, second.limit, second.timeout) == (8, 100, 0)
    assert second.allowed_updates == frozenset({"channel_post"}) and second.at == EPOCH + 6


def test_demo_sms_is_a_sender_line_then_the_sms_text() -> None:
    """The demo post looks like a forwarder's: the sender, a newline, then the bank SMS."""
    sender, text = demo_sms(3, EPOCH).split("\n")
    assert sender == "VCB"
    assert text.startswith("SD TK ****3456 +400,000VND luc 03-12-2024 ") and "Ref MBVCB." in text


def test_the_module_runs_a_demo_bot_whose_channel_receives_bank_sms() -> None:
    """`python -m infra.doubles.telegram --demo` serves the demo token and posts SMS to a channel."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.doubles.telegram", "--port", str(port), "--demo", "--every", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}/bot{DEFAULT_TOKEN}"
        deadline = time.monotonic() + 15
        while True:
            try:
                assert result(httpx.get(f"{base}/getMe", timeout=2))["is_bot"] is True
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the demo double did not start"
                time.sleep(0.1)
        updates = result(httpx.get(f"{base}/getUpdates", params={"timeout": 10}, timeout=20))
        post = updates[0]["channel_post"]
        assert post["chat"]["type"] == "channel" and post["chat"]["id"] < 0 and "from" not in post
        assert post["text"].split("\n")[0] == "VCB" and "VND" in post["text"]
    finally:
        process.terminate()
        process.wait(timeout=10)
