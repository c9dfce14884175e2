"""Flask under the edge's ASGI stack with one thread hop per request.

Connexion's FlaskApp runs Flask through a2wsgi's ``WSGIMiddleware``, which streams: the handler
thread hands every piece of the answer (the status line, each body chunk, the end) back to the
event loop and waits for it, and reads the request body through the loop too. On this machine
each of those round trips costs about 0.1 ms; replacing them saved about 0.4 ms of every
``shooter/sms/list`` (``benchmarks/edge_sms_list.py``).

The legacy admin answers are small JSON envelopes, never streamed, and ``BodyLimit`` caps every
request body (64 KiB), so ``BufferedWSGI`` reads the body in the loop, runs Flask once in a
worker thread, collects the whole answer there and sends it from the loop: one hop in, one out.
Exceptions Flask propagates (Connexion sets ``PROPAGATE_EXCEPTIONS``) are re-raised in the loop
for Connexion's exception middleware, as before.

``use_buffered_wsgi(app)`` puts it in a ``connexion.FlaskApp`` in place of a2wsgi's middleware
(the attribute ``add_wsgi_middleware`` also wraps, so WSGI middleware keeps working).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import build_environ
from starlette.types import Receive, Scope, Send

__all__ = ["BufferedWSGI", "use_buffered_wsgi"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BufferedWSGI:
    """An ASGI app running the WSGI ``app`` in a pool of ``threads`` with a buffered answer."""

    def __init__(self, app: WSGIApp, threads: int = 16) -> None:
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="edge-wsgi")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before its body arrived
        environ: dict[str, Any] = build_environ(scope, io.BytesIO(body))  # type: ignore[arg-type,assignment]
        context = contextvars.copy_context()  # Connexion's request context travels along
        loop = asyncio.get_running_loop()
        status, headers, chunks = await loop.run_in_executor(
            self.executor, functools.partial(context.run, self._run, environ)
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    def _run(self, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
        started: list[tuple[int, list[tuple[bytes, bytes]]]] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if started and exc_info is None:
                raise AssertionError("start_response called twice without exc_info (PEP 3333)")
            # Nothing has been sent yet, so an error page may always replace the first answer.
            code = int(status.split(" ", 1)[0])
            encoded = [(k.strip().lower().encode("latin-1"), v.strip().encode("latin-1")) for k, v in headers]
            started[:] = [(code, encoded)]
            return chunks.append

        iterable = self.app(environ, start_response)
        try:
            chunks.extend(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        if not started:
            raise RuntimeError("the WSGI app returned without calling start_response")
        status, headers = started[0]
        return status, headers, chunks


async def _read_body(receive: Receive) -> bytes | None:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def _lifespan(receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
    if message["type"] == "lifespan.shutdown":
        await send({"type": "lifespan.shutdown.complete"})


def use_buffered_wsgi(app: Any, threads: int = 16) -> BufferedWSGI:
    """Replace the a2wsgi bridge of a ``connexion.FlaskApp`` by a ``BufferedWSGI``."""
    inner = app._middleware_app  # Connexion 3 keeps its a2wsgi bridge there
    bridge = BufferedWSGI(inner.asgi_app.app, threads)
    inner.asgi_app = bridge
    return bridge
