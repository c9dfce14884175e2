"""BufferedWSGI: a WSGI app served over ASGI with the whole answer collected in its thread."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from admin_compat.wsgi_bridge import BufferedWSGI

pytestmark = pytest.mark.anyio

REQUEST = contextvars.ContextVar[str]("request", default="unset")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Closing:
    """A WSGI iterable that records whether the server closed it."""

    closed = False

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        Closing.closed = True


def app(environ: dict[str, Any], start_response: Any) -> Any:
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response(
            "201 Created", [("Content-Type", "text/plain"), ("X-Method", environ["REQUEST_METHOD"])]
        )
        return [b"got:", body, b":", environ["QUERY_STRING"].encode()]
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written,")
        return [b"returned"]
    if path == "/error-page":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError as exc:
            import sys

            start_response("500 Internal Server Error", [("X-Replaced", "1")], sys.exc_info())
            return [str(exc).encode()]
    if path == "/raise":
        raise KeyError("propagated")
    if path == "/context":
        start_response("200 OK", [])
        return [f"{REQUEST.get()}|{threading.current_thread().name}".encode()]
    if path == "/closing":
        start_response("200 OK", [])
        return Closing([b"a", b"b"])
    return []  # never calls start_response


async def client(bridge: BufferedWSGI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=bridge), base_url="http://edge")


async def test_body_query_status_and_headers_reach_and_leave_the_wsgi_app() -> None:
    async with await client(BufferedWSGI(app, threads=2)) as c:
        answer = await c.post("/echo?x=1", content=b"payload")
    assert answer.status_code == 201
    assert answer.text == "got:payload:x=1"
    assert answer.headers["x-method"] == "POST"
    assert answer.headers["content-type"] == "text/plain"


async def test_the_write_callable_and_the_iterable_are_both_sent_in_order() -> None:
    async with await client(BufferedWSGI(app, threads=2)) as c:
        assert (await c.get("/write")).text == "written,returned"


async def test_start_response_with_exc_info_replaces_the_unsent_answer() -> None:
    async with await client(BufferedWSGI(app, threads=2)) as c:
        answer = await c.get("/error-page")
    assert answer.status_code == 500
    assert answer.headers["x-replaced"] == "1"
    assert answer.text == "late failure"


async def test_an_exception_of_the_app_is_raised_in_the_loop_for_the_asgi_stack_to_handle() -> None:
    with pytest.raises(KeyError, match="propagated"):
        async with await client(BufferedWSGI(app, threads=2)) as c:
            await c.get("/raise")


async def test_an_app_that_never_starts_a_response_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="start_response"):
        async with await client(BufferedWSGI(app, threads=2)) as c:
            await c.get("/nothing")


async def test_the_app_runs_in_a_pool_thread_with_the_callers_context() -> None:
    REQUEST.set("request-42")
    async with await client(BufferedWSGI(app, threads=2)) as c:
        text = (await c.get("/context")).text
    value, thread = text.split("|")
    assert value == "request-42"
    assert thread.startswith("edge-wsgi")


async def test_the_iterable_is_closed_after_it_was_read() -> None:
    Closing.closed = False
    async with await client(BufferedWSGI(app, threads=2)) as c:
        assert (await c.get("/closing")).text == "ab"
    assert Closing.closed


async def post_raw(wsgi: Any, path: str, incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST ``path`` to a BufferedWSGI of ``wsgi`` with these ASGI receive messages; what it sent."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "headers": [],
             "http_version": "1.1"}  # fmt: skip
    await BufferedWSGI(wsgi, threads=1)(scope, receive, send)
    return sent


async def test_a_client_gone_before_its_body_arrived_runs_nothing() -> None:
    calls: list[Any] = []

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ)
        start_response("200 OK", [])
        return [b""]

    assert await post_raw(counting, "/", [{"type": "http.disconnect"}]) == []
    assert calls == []


async def test_a_body_sent_in_several_messages_is_joined() -> None:
    parts = [{"type": "http.request", "body": b"ab", "more_body": True},
             {"type": "http.request", "body": b"cd", "more_body": True},
             {"type": "http.request", "body": b"ef"}]  # fmt: skip
    sent = await post_raw(app, "/echo", parts)
    assert sent[0]["status"] == 201
    assert sent[1] == {"type": "http.response.body", "body": b"got:abcdef:"}


async def test_lifespan_is_acknowledged() -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    with anyio.fail_after(5):
        await BufferedWSGI(app, threads=1)({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
