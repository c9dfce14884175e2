"""The Pushbullet double: REST, permanents, stream and fault switches.

Most tests serve the double with `serve_trio` inside the test's own trio run and talk to it
with httpx.AsyncClient and trio-websocket, under pytest-trio's `autojump_clock`: a 30 s
nop cadence or a 45 s silent stretch runs in milliseconds. The state's clock is tied to
the same virtual clock. A few tests use `serve_in_thread` (uvicorn, asyncio, real time)
to cover the thread-to-event-loop wake path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import trio
import trio_websocket
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from infra.doubles.pushbullet import (
    DEMO_TOKEN,
    PushbulletState,
    create_app,
    decrypt_blob,
    decrypt_json,
    derive_key,
    encrypt_blob,
    seed_demo,
    serve_in_thread,
    serve_trio,
)

EPOCH = 1_700_000_000.0
RATE_HEADERS = ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset")


# -- fixtures and helpers ------------------------------------------------------------------


class World:
    """A state with one account, an SMS phone (two threads), a laptop and a deleted phone."""

    def __init__(self, **kwargs: Any) -> None:
        self.state = PushbulletState(clock=lambda: EPOCH + trio.current_time(), **kwargs)
        self.user, self.token = self.state.add_user(email="me@example.com", name="Me", iden="ujme")
        self.phone = self.state.add_device(self.user, nickname="Pixel", has_sms=True, iden="ujphone")
        self.laptop = self.state.add_device(
            self.user, nickname="Laptop", has_sms=False, type_="chrome", iden="ujlaptop"
        )
        self.old = self.state.add_device(self.user, nickname="Old", active=False, iden="ujold")
        self.state.add_thread(self.phone, "318", [{"name": "VCB", "address": "VCB", "number": "VCB"}])
        for i, ts in enumerate([1000, 1005, 1002, 1010, 1001]):
            self.state.receive_sms(self.phone, "318", "VCB", f"sms {i}", int(EPOCH) + ts, notify=False)
        self.state.receive_sms(
            self.phone, "42", "+84901234567", "hi", int(EPOCH) + 900, notify=False, sender_name="Mom"
        )
        self.state.send_sms(self.phone, "42", "ok", int(EPOCH) + 950)


@asynccontextmanager
async def served(world: World) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_trio, create_app(world.state))
        async with httpx.AsyncClient(
            base_url=url, headers={"Access-Token": world.token}, timeout=30
        ) as client:
            yield url, client
        nursery.cancel_scope.cancel()


def ws_url(url: str, token: str) -> str:
    return url.replace("http://", "ws://") + f"/websocket/{token}"


async def next_json(ws: trio_websocket.WebSocketConnection) -> dict[str, Any]:
    return json.loads(await ws.get_message())


async def next_non_nop(ws: trio_websocket.WebSocketConnection) -> dict[str, Any]:
    while True:
        message = await next_json(ws)
        if message != {"type": "nop"}:
            return message


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error", "error_code"}
    assert set(body["error"]) == {"code", "type", "message", "cat"}
    assert body["error_code"] == body["error"]["code"]
    return body["error"]


def assert_rate_headers(response: httpx.Response) -> None:
    for name in RATE_HEADERS:
        assert response.headers[name].isdigit(), (name, response.headers.get(name))


def sort_key(message: dict[str, Any]) -> tuple[int, int]:
    return message["timestamp"], int(message["id"])


# -- serve_trio ----------------------------------------------------------------------------


@pytest.mark.trio
async def test_serve_trio_reports_the_bound_url_and_runs_in_virtual_time(autojump_clock: Any) -> None:
    async def slow(_request: Request) -> PlainTextResponse:
        import anyio

        await anyio.sleep(3600)
        return PlainTextResponse("slept")

    app = Starlette(routes=[Route("/slow", slow)])
    wall = time.monotonic()
    async with trio.open_nursery() as nursery:
        url = await nursery.start(serve_trio, app)
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        start = trio.current_time()
        async with httpx.AsyncClient(base_url=url, timeout=7200) as client:
            assert (await client.get("/slow")).text == "slept"
        assert trio.current_time() - start >= 3600
        nursery.cancel_scope.cancel()
    assert time.monotonic() - wall < 10


# -- REST: auth, errors, headers -----------------------------------------------------------


@pytest.mark.trio
async def test_rest_accepts_access_token_bearer_and_basic(autojump_clock: Any) -> None:
    world = World()
    async with served(world) as (url, _client), httpx.AsyncClient(base_url=url) as bare:
        forms: list[dict[str, Any]] = [
            {"headers": {"Access-Token": world.token}},
            {"headers": {"Authorization": f"Bearer {world.token}"}},
            {"auth": (world.token, "")},
        ]
        for form in forms:
            response = await bare.get("/v2/users/me", **form)
            assert response.status_code == 200, form
            me = response.json()
            assert me["iden"] == "ujme" and me["email"] == "me@example.com"
            assert isinstance(me["created"], float) and isinstance(me["modified"], float)
            assert_rate_headers(response)
        basic = base64.b64encode(f"{world.token}:".encode()).decode()
        assert (
            await bare.get("/v2/users/me", headers={"Authorization": f"Basic {basic}"})
        ).status_code == 200

        for headers in ({}, {"Access-Token": "o.wrong"}, {"Authorization": "Bearer o.wrong"}):
            response = await bare.get("/v2/users/me", headers=headers)
            assert response.status_code == 401
            assert error_of(response)["code"] == "invalid_access_token"
            assert_rate_headers(response)
    assert world.state.request_count("GET /v2/users/me") == 7


@pytest.mark.trio
async def test_errors_have_pushbullet_shape_and_every_response_has_rate_headers(autojump_clock: Any) -> None:
    world = World()
    async with served(world) as (_url, client):
        ok = await client.get("/v2/devices")
        assert_rate_headers(ok)
        limit = int(ok.headers["X-Ratelimit-Limit"])
        assert int(ok.headers["X-Ratelimit-Remaining"]) == limit - 1
        assert int(ok.headers["X-Ratelimit-Reset"]) > EPOCH
        second = await client.get("/v2/devices")
        assert int(second.headers["X-Ratelimit-Remaining"]) == limit - 2

        for path in ("/v2/nothing-here", "/v2/permanents/ujphone_nonsense", "/v2/permanents/ujnope_threads"):
            response = await client.get(path)
            assert response.status_code == 404, path
            error = error_of(response)
            assert error["code"] == "not_found" and error["type"] == "invalid_request"
            assert_rate_headers(response)
        bad = await client.get("/v2/pushes", params={"limit": "many"})
        assert bad.status_code == 400 and error_of(bad)["code"] == "invalid_request"
        assert_rate_headers(bad)


@pytest.mark.trio
async def test_ratelimit_budget_runs_out_naturally(autojump_clock: Any) -> None:
    world = World(ratelimit_limit=3)
    async with served(world) as (_url, client):
        remaining = [
            int((await client.get("/v2/users/me")).headers["X-Ratelimit-Remaining"]) for _ in range(3)
        ]
        assert remaining == [2, 1, 0]
        response = await client.get("/v2/users/me")
        assert response.status_code == 429 and error_of(response)["code"] == "ratelimited"
        reset = int(response.headers["X-Ratelimit-Reset"])
        await trio.sleep(reset - (EPOCH + trio.current_time()) + 1)  # the next window
        assert (await client.get("/v2/users/me")).status_code == 200


# -- REST: lists and permanents ------------------------------------------------------------


@pytest.mark.trio
async def test_devices_chats_channels_are_lists_of_objects(autojump_clock: Any) -> None:
    world = World()
    world.state.add_chat(world.user, "friend@example.com", name="Friend")
    world.state.add_chat(world.user, "gone@example.com", active=False)
    world.state.add_channel(world.user, "mychannel")
    async with served(world) as (_url, client):
        devices = (await client.get("/v2/devices")).json()["devices"]
        by_iden = {d["iden"]: d for d in devices}
        assert set(by_iden) == {"ujphone", "ujlaptop", "ujold"}
        phone = by_iden["ujphone"]
        assert phone["active"] is True and phone["has_sms"] is True and phone["type"] == "android"
        for key in ("nickname", "manufacturer", "model", "app_version"):
            assert key in phone
        assert isinstance(phone["created"], float) and isinstance(phone["modified"], float)
        assert by_iden["ujlaptop"]["has_sms"] is False
        assert by_iden["ujold"]["active"] is False  # deleted: clients must filter
        sms_phones = [d["iden"] for d in devices if d["active"] and d.get("has_sms")]
        assert sms_phones == ["ujphone"]
        active = (await client.get("/v2/devices", params={"active": "true"})).json()["devices"]
        assert {d["iden"] for d in active} == {"ujphone", "ujlaptop"}

        chats = (await client.get("/v2/chats")).json()["chats"]
        assert len(chats) == 2
        (live,) = [c for c in chats if c["active"]]
        assert live["with"]["email"] == "friend@example.com"
        channels = (await client.get("/v2/channels")).json()["channels"]
        assert [c["tag"] for c in channels if c["active"]] == ["mychannel"]

    world.state.add_device(world.user, has_sms="true", iden="ujlenient")  # parse leniently
    async with served(world) as (_url, client):
        devices = (await client.get("/v2/devices")).json()["devices"]
        assert {d["iden"]: d for d in devices}["ujlenient"]["has_sms"] == "true"


@pytest.mark.trio
async def test_threads_and_thread_permanents(autojump_clock: Any) -> None:
    world = World()
    async with served(world) as (_url, client):
        response = await client.get("/v2/permanents/ujphone_threads")
        assert response.status_code == 200
        assert_rate_headers(response)
        threads = {t["id"]: t for t in response.json()["threads"]}
        assert set(threads) == {"318", "42"}
        assert threads["318"]["recipients"] == [{"name": "VCB", "address": "VCB", "number": "VCB"}]
        assert threads["42"]["recipients"] == [
            {"name": "Mom", "address": "+84901234567", "number": "+84901234567"}
        ]
        latest = threads["318"]["latest"]
        assert latest["body"] == "sms 3" and latest["timestamp"] == int(EPOCH) + 1010
        assert threads["42"]["latest"]["direction"] == "outgoing"

        response = await client.get("/v2/permanents/ujphone_thread_318")
        assert response.status_code == 200
        thread = response.json()["thread"]
        assert len(thread) == 5
        for message in thread:
            assert isinstance(message["id"], str) and isinstance(message["timestamp"], int)
            assert message["type"] == "sms" and message["direction"] == "incoming"
        assert thread != sorted(thread, key=sort_key)  # order is not guaranteed: clients sort
        assert [m["body"] for m in sorted(thread, key=sort_key)] == [
            "sms 0",
            "sms 4",
            "sms 2",
            "sms 1",
            "sms 3",
        ]
        again = (await client.get("/v2/permanents/ujphone_thread_318")).json()["thread"]
        assert again == thread  # deterministic

        mom = (await client.get("/v2/permanents/ujphone_thread_42")).json()["thread"]
        outgoing = [m for m in mom if m["direction"] == "outgoing"]
        assert outgoing[0]["body"] == "ok" and outgoing[0]["status"] == "sent"
    assert world.state.request_count("GET /v2/permanents/threads") == 1
    assert world.state.request_count("GET /v2/permanents/thread") == 3


@pytest.mark.trio
async def test_permanent_404_until_it_exists(autojump_clock: Any) -> None:
    world = World()
    new_phone = world.state.add_device(world.user, has_sms=True, synced=False, iden="ujnew")
    other_user, other_token = world.state.add_user(email="other@example.com")
    async with served(world) as (_url, client):
        for path in (
            "/v2/permanents/ujnew_threads",
            "/v2/permanents/ujnew_thread_1",
            "/v2/permanents/ujphone_thread_999",
            "/v2/permanents/ujlaptop_threads",
        ):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert error_of(response)["code"] == "not_found"
        foreign = await client.get("/v2/permanents/ujphone_threads", headers={"Access-Token": other_token})
        assert foreign.status_code == 404

        world.state.receive_sms(new_phone, "7", "+100", "first", notify=False)
        threads = (await client.get("/v2/permanents/ujnew_threads")).json()["threads"]
        assert [t["id"] for t in threads] == ["7"]
        assert (await client.get("/v2/permanents/ujnew_thread_7")).json()["thread"][0]["body"] == "first"
    assert other_user != world.user


@pytest.mark.trio
async def test_pushes_paging_cursor_and_filters(autojump_clock: Any) -> None:
    world = World()
    idens = []
    for i in range(5):
        idens.append(world.state.add_push(world.user, title=f"p{i}", tickle=False))
        await trio.sleep(1)
    world.state.delete_push(world.user, idens[1], tickle=False)
    async with served(world) as (_url, client):
        everything = (await client.get("/v2/pushes")).json()
        assert "cursor" not in everything
        pushes = everything["pushes"]
        assert len(pushes) == 5
        modified = [p["modified"] for p in pushes]
        assert modified == sorted(modified, reverse=True)  # newest first
        assert all(isinstance(m, float) for m in modified)
        assert pushes[0]["iden"] == idens[1] and pushes[0]["active"] is False  # deleted: newest

        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 2, "active": "true"}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v2/pushes", params=params)).json()
            assert "pushes" in page and len(page["pushes"]) <= 2
            seen += [p["iden"] for p in page["pushes"]]
            pages += 1
            cursor = page.get("cursor")
            if cursor is None:
                break
        assert pages == 2
        assert seen == [idens[4], idens[3], idens[2], idens[0]]

        after = pushes[2]["modified"]
        recent = (await client.get("/v2/pushes", params={"modified_after": after})).json()["pushes"]
        assert [p["iden"] for p in recent] == [idens[1], idens[4]]
        none = (await client.get("/v2/pushes", params={"modified_after": EPOCH + 10_000})).json()
        assert none == {"pushes": []}

        first = (await client.get("/v2/pushes", params={"limit": 1})).json()
        assert len(first["pushes"]) == 1 and first["cursor"]
        for bad in ("garbage", first["cursor"][:-2] + "AA", "=="):
            response = await client.get("/v2/pushes", params={"cursor": bad})
            assert response.status_code == 400, bad
            assert error_of(response)["code"] == "invalid_cursor"
        _other, other_token = world.state.add_user(email="x@example.com")
        foreign = await client.get(
            "/v2/pushes", params={"cursor": first["cursor"]}, headers={"Access-Token": other_token}
        )
        assert foreign.status_code == 400
        assert (await client.get("/v2/pushes", params={"cursor": first["cursor"]})).status_code == 200
        world.state.expire_cursors()
        assert (await client.get("/v2/pushes", params={"cursor": first["cursor"]})).status_code == 400


# -- stream --------------------------------------------------------------------------------


@pytest.mark.trio
async def test_stream_sends_nop_every_30_seconds_of_virtual_time(autojump_clock: Any) -> None:
    world = World()
    wall = time.monotonic()
    async with (
        served(world) as (url, _client),
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws,
    ):
        start = trio.current_time()
        arrivals = []
        for _ in range(4):
            assert await next_json(ws) == {"type": "nop"}
            arrivals.append(round(trio.current_time() - start, 1))
        assert arrivals == [30.0, 60.0, 90.0, 120.0]
    assert time.monotonic() - wall < 10
    assert world.state.status_counts()[("WS /websocket", 101)] == 1


@pytest.mark.trio
async def test_stream_nop_interval_is_configurable(autojump_clock: Any) -> None:
    world = World(nop_interval=5)
    async with (
        served(world) as (url, _client),
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws,
    ):
        start = trio.current_time()
        assert await next_json(ws) == {"type": "nop"}
        assert trio.current_time() - start == pytest.approx(5, abs=0.1)


@pytest.mark.trio
async def test_sms_changed_with_full_and_empty_notifications(autojump_clock: Any) -> None:
    world = World()
    async with (
        served(world) as (url, client),
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws,
    ):
        await trio.sleep(3)
        stored = world.state.receive_sms(world.phone, "318", "VCB", "+1,000,000VND", int(EPOCH) + 2000)
        message = await next_non_nop(ws)
        assert message["type"] == "push"
        push = message["push"]
        assert push["type"] == "sms_changed" and push["source_device_iden"] == "ujphone"
        assert push["notifications"] == [
            {"thread_id": "318", "title": "VCB", "body": "+1,000,000VND", "timestamp": int(EPOCH) + 2000}
        ]
        thread = (await client.get("/v2/permanents/ujphone_thread_318")).json()["thread"]
        assert stored in thread

        world.state.receive_sms(world.phone, "99", "+555", "new thread", empty_notification=True)
        push = (await next_non_nop(ws))["push"]
        assert push["type"] == "sms_changed" and push["notifications"] == []
        threads = (await client.get("/v2/permanents/ujphone_threads")).json()["threads"]
        assert "99" in {t["id"] for t in threads}

        # notify=False: stored, but the ephemeral is lost; only nops follow
        assert await next_json(ws) == {"type": "nop"}  # in step with the cadence
        world.state.receive_sms(world.phone, "318", "VCB", "silent", notify=False)
        with trio.move_on_after(29):
            extra = await next_json(ws)
            pytest.fail(f"unexpected {extra}")
        assert await next_json(ws) == {"type": "nop"}


@pytest.mark.trio
async def test_stream_tickles_and_other_users_are_isolated(autojump_clock: Any) -> None:
    world = World()
    other, other_token = world.state.add_user(email="other@example.com")
    async with (
        served(world) as (url, _client),
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws,
        trio_websocket.open_websocket_url(ws_url(url, other_token)) as other_ws,
    ):
        world.state.add_push(world.user, title="hello")
        assert await next_non_nop(ws) == {"type": "tickle", "subtype": "push"}
        world.state.add_device(world.user, nickname="Tablet")
        assert await next_non_nop(ws) == {"type": "tickle", "subtype": "device"}
        world.state.tickle("push")  # everyone
        assert await next_non_nop(ws) == {"type": "tickle", "subtype": "push"}
        assert await next_non_nop(other_ws) == {"type": "tickle", "subtype": "push"}
        world.state.add_push(other)
        assert await next_non_nop(other_ws) == {"type": "tickle", "subtype": "push"}
        assert world.state.stream_count() == 2


@pytest.mark.trio
async def test_half_open_stream_stays_connected_but_goes_silent(autojump_clock: Any) -> None:
    world = World()
    async with (
        served(world) as (url, _client),
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws,
    ):
        assert await next_json(ws) == {"type": "nop"}
        assert world.state.half_open() == 1
        world.state.receive_sms(world.phone, "318", "VCB", "lost")  # never delivered
        world.state.tickle("push")
        with trio.move_on_after(45) as silent:
            message = await ws.get_message()
            pytest.fail(f"half-open stream sent {message}")
        assert silent.cancelled_caught
        assert world.state.stream_count() == 1 and not ws.closed  # still "connected"
        with trio.move_on_after(300):
            await ws.get_message()
            pytest.fail("half-open stream spoke again")

        # the worker's cure: reconnect; a new connection is healthy
        async with trio_websocket.open_websocket_url(ws_url(url, world.token)) as fresh:
            start = trio.current_time()
            assert await next_json(fresh) == {"type": "nop"}
            assert trio.current_time() - start == pytest.approx(30, abs=0.1)
            world.state.receive_sms(world.phone, "318", "VCB", "after reconnect")
            assert (await next_non_nop(fresh))["push"]["notifications"][0]["body"] == "after reconnect"
    # the lost SMS is in the permanent: catch-up finds it
    assert "lost" in [m["body"] for m in world.state.thread_messages(world.phone, "318")]


@pytest.mark.trio
async def test_drop_streams_closes_every_connection(autojump_clock: Any) -> None:
    world = World()
    async with (
        served(world) as (url, _client),
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as one,
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as two,
    ):
        assert world.state.stream_count() == 2
        assert world.state.drop_streams() == 2
        for ws in (one, two):
            with pytest.raises(trio_websocket.ConnectionClosed) as closed:
                await ws.get_message()
            assert closed.value.reason.code == 1001
        await trio.sleep(1)
        assert world.state.stream_count() == 0
        async with trio_websocket.open_websocket_url(ws_url(url, world.token)) as again:
            assert await next_json(again) == {"type": "nop"}


@pytest.mark.trio
async def test_revoke_gives_401_on_rest_and_handshake_and_closes_streams(autojump_clock: Any) -> None:
    world = World()
    async with (
        served(world) as (url, client),
        trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws,
    ):
        world.state.revoke(world.token)
        with pytest.raises(trio_websocket.ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason.code == 1008
        response = await client.get("/v2/devices")
        assert response.status_code == 401 and error_of(response)["code"] == "invalid_access_token"
        assert_rate_headers(response)
        with pytest.raises(trio_websocket.ConnectionRejected) as rejected:
            async with trio_websocket.open_websocket_url(ws_url(url, world.token)):
                pass
        assert rejected.value.status_code == 401
        assert rejected.value.body is not None
        assert json.loads(rejected.value.body)["error_code"] == "invalid_access_token"
        with pytest.raises(trio_websocket.ConnectionRejected) as unknown:
            async with trio_websocket.open_websocket_url(ws_url(url, "o.unknown")):
                pass
        assert unknown.value.status_code == 401

        world.state.revoke(world.token, status=403)
        assert (await client.get("/v2/devices")).status_code == 403
        world.state.restore(world.token)
        assert (await client.get("/v2/devices")).status_code == 200
    assert world.state.status_counts()[("WS /websocket", 401)] == 2


@pytest.mark.trio
async def test_ratelimit_gives_429_on_rest_and_handshake_until_reset(autojump_clock: Any) -> None:
    world = World()
    async with served(world) as (url, client):
        reset = world.state.ratelimit(60)
        assert reset == math.ceil(EPOCH + trio.current_time() + 60)
        response = await client.get("/v2/users/me")
        assert response.status_code == 429
        error = error_of(response)
        assert error["code"] == "ratelimited"
        assert response.headers["X-Ratelimit-Reset"] == str(int(reset))
        assert response.headers["X-Ratelimit-Remaining"] == "0"
        with pytest.raises(trio_websocket.ConnectionRejected) as rejected:
            async with trio_websocket.open_websocket_url(ws_url(url, world.token)):
                pass
        assert rejected.value.status_code == 429
        headers = {k.decode().lower(): v.decode() for k, v in rejected.value.headers}
        assert headers["x-ratelimit-reset"] == str(int(reset))

        await trio.sleep(61)
        assert (await client.get("/v2/users/me")).status_code == 200
        async with trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws:
            assert await next_json(ws) == {"type": "nop"}

        _other, other_token = world.state.add_user(email="o@example.com")
        world.state.ratelimit(10, token=other_token)  # per token
        assert (await client.get("/v2/users/me")).status_code == 200
        assert (await client.get("/v2/users/me", headers={"Access-Token": other_token})).status_code == 429


@pytest.mark.trio
async def test_fail_next_answers_5xx_with_a_non_json_body(autojump_clock: Any) -> None:
    world = World()
    async with served(world) as (url, client):
        world.state.fail_next(2, 502)
        for _ in range(2):
            response = await client.get("/v2/permanents/ujphone_threads")
            assert response.status_code == 502
            assert response.headers["content-type"].startswith("text/html")
            with pytest.raises(json.JSONDecodeError):
                response.json()
            assert_rate_headers(response)
        assert (await client.get("/v2/permanents/ujphone_threads")).status_code == 200

        # handshakes are spared unless asked for
        world.state.fail_next(1, 503)
        async with trio_websocket.open_websocket_url(ws_url(url, world.token)):
            pass
        assert (await client.get("/v2/devices")).status_code == 503
        world.state.fail_next(1, 503, stream=True)
        with pytest.raises(trio_websocket.ConnectionRejected) as rejected:
            async with trio_websocket.open_websocket_url(ws_url(url, world.token)):
                pass
        assert rejected.value.status_code == 503
    counts = world.state.status_counts()
    assert counts[("GET /v2/permanents/threads", 502)] == 2
    assert counts[("GET /v2/permanents/threads", 200)] == 1
    assert counts[("WS /websocket", 503)] == 1
    assert world.state.request_count("GET /v2/devices") == 1


# -- end-to-end encryption -----------------------------------------------------------------


def test_key_derivation_known_answers() -> None:
    # RFC 7914 section 11: PBKDF2-HMAC-SHA256 test vectors (the primitive itself)
    assert derive_key("passwd", "salt", iterations=1, length=64).hex() == (
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
    )
    assert derive_key("Password", "NaCl", iterations=80000, length=64).hex() == (
        "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
    )
    # Pushbullet's parameters: salt = user iden, 30000 iterations, 32 bytes
    key = derive_key("hunter2", "ujpah72o0")
    assert key == hashlib.pbkdf2_hmac("sha256", b"hunter2", b"ujpah72o0", 30000, 32)
    assert base64.b64encode(key).decode() == "WwiVLghQfEfaKA/mytTGcshnHlcgDmLOtzRUOUVz/5I="


def test_blob_format_is_version_tag_iv_ciphertext() -> None:
    key = bytes(range(32))
    iv = bytes(range(100, 112))
    blob = encrypt_blob(key, b"hello sms", iv=iv)
    raw = base64.b64decode(blob)
    assert raw[:1] == b"1" and raw[17:29] == iv and len(raw) == 1 + 16 + 12 + len(b"hello sms")
    tag, ciphertext = raw[1:17], raw[29:]
    assert AESGCM(key).decrypt(iv, ciphertext + tag, None) == b"hello sms"  # independent decode
    assert decrypt_blob(key, blob) == b"hello sms"
    with pytest.raises(ValueError):
        decrypt_blob(bytes(32), blob)
    with pytest.raises(ValueError):
        decrypt_blob(key, base64.b64encode(b"2" + raw[1:]).decode())
    with pytest.raises(ValueError):
        decrypt_blob(key, "not base64!")


@pytest.mark.trio
async def test_e2e_permanent_mode_encrypts_whole_permanents_and_pushes(autojump_clock: Any) -> None:
    world = World()
    world.state.e2e("s3cret")
    key = derive_key("s3cret", world.user)
    async with served(world) as (url, client):
        threads_body = (await client.get("/v2/permanents/ujphone_threads")).json()
        assert threads_body.keys() == {"encrypted", "ciphertext"} and threads_body["encrypted"] is True
        threads = decrypt_json(key, threads_body)["threads"]
        assert {t["id"] for t in threads} == {"318", "42"}
        thread_body = (await client.get("/v2/permanents/ujphone_thread_318")).json()
        thread = decrypt_json(key, thread_body)["thread"]
        assert sorted(m["body"] for m in thread) == [f"sms {i}" for i in range(5)]
        with pytest.raises(ValueError):
            decrypt_json(derive_key("wrong", world.user), thread_body)

        async with trio_websocket.open_websocket_url(ws_url(url, world.token)) as ws:
            world.state.receive_sms(world.phone, "318", "VCB", "secret money")
            message = await next_non_nop(ws)
            assert message["type"] == "push" and message["push"]["encrypted"] is True
            push = decrypt_json(key, message["push"])
            assert push["type"] == "sms_changed"
            assert push["notifications"][0]["body"] == "secret money"

        world.state.e2e(None)
        assert "threads" in (await client.get("/v2/permanents/ujphone_threads")).json()


@pytest.mark.trio
async def test_e2e_message_mode_encrypts_each_body(autojump_clock: Any) -> None:
    world = World()
    world.state.e2e("s3cret", mode="message")
    key = derive_key("s3cret", world.user)
    async with served(world) as (_url, client):
        thread = (await client.get("/v2/permanents/ujphone_thread_318")).json()["thread"]
        bodies = []
        for message in thread:
            assert message["body"]["encrypted"] is True
            bodies.append(decrypt_blob(key, message["body"]["ciphertext"]).decode())
        assert sorted(bodies) == [f"sms {i}" for i in range(5)]
        threads = (await client.get("/v2/permanents/ujphone_threads")).json()["threads"]
        latest = {t["id"]: t["latest"] for t in threads}["318"]
        assert decrypt_blob(key, latest["body"]["ciphertext"]) == b"sms 3"


# -- uvicorn in a thread (asyncio, real time) ----------------------------------------------


@contextmanager
def in_thread(state: PushbulletState) -> Iterator[str]:
    url, stop = serve_in_thread(create_app(state))
    try:
        yield url
    finally:
        stop()


def test_serve_in_thread_stream_is_woken_from_another_thread() -> None:
    websockets_sync = pytest.importorskip("websockets.sync.client")
    state = PushbulletState(nop_interval=0.3)
    seed_demo(state)
    with in_thread(state) as url:
        response = httpx.get(f"{url}/v2/devices", auth=(DEMO_TOKEN, ""))
        assert response.status_code == 200
        assert any(d["active"] and d.get("has_sms") for d in response.json()["devices"])
        threads = httpx.get(
            f"{url}/v2/permanents/ujdemophone0001_threads", headers={"Access-Token": DEMO_TOKEN}
        )
        assert {t["id"] for t in threads.json()["threads"]} == {"318", "42"}

        with websockets_sync.connect(ws_url(url, DEMO_TOKEN)) as ws:
            assert json.loads(ws.recv(timeout=5)) == {"type": "nop"}
            threading.Thread(
                target=state.receive_sms, args=("ujdemophone0001", "318", "VCB", "from a thread")
            ).start()
            while (message := json.loads(ws.recv(timeout=5))) == {"type": "nop"}:
                pass
            assert message["push"]["notifications"][0]["body"] == "from a thread"
        invalid_status = pytest.importorskip("websockets.exceptions").InvalidStatus
        with pytest.raises(invalid_status) as rejected, websockets_sync.connect(ws_url(url, "o.bad")):
            pass
        assert rejected.value.response.status_code == 401
