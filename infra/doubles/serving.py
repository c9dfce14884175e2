"""Serve an ASGI app (a double) on loopback, for tests and local runs.

* `serve_in_thread` runs uvicorn in a daemon thread (any test style, local runs).
* `serve_trio` runs hypercorn inside the *current* trio run, so a trio client and the double
  share one run and one clock: under pytest-trio's `autojump_clock` the double's timers
  (`anyio.sleep`, which uses the running trio clock) run in virtual time.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import cast

import hypercorn.config
import hypercorn.trio
import hypercorn.typing
import trio
import uvicorn
from starlette.types import ASGIApp

__all__ = ["serve_in_thread", "serve_trio"]


def serve_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    startup_timeout: float = 10.0,
) -> tuple[str, Callable[[], None]]:
    """Serve `app` with uvicorn in a daemon thread; return `(root_url, stop)`.

    The listening socket is bound here, before the thread starts, so `port=0` picks a free
    port with no race and the URL names it. Returns only once uvicorn has finished its
    startup (lifespan included) and accepts connections. `root_url` has no path (for
    example `http://127.0.0.1:43125`); append the API's base path. `stop()` shuts the server
    down gracefully and waits for the thread; calling it twice is harmless.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    bound_port: int = sock.getsockname()[1]

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"double-{host}:{bound_port}",
        daemon=True,
    )
    thread.start()

    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
            raise RuntimeError(f"server on {host}:{bound_port} did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    url_host = f"[{host}]" if family == socket.AF_INET6 else host
    return f"http://{url_host}:{bound_port}", stop


async def serve_trio(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve `app` with hypercorn in the current trio run until cancelled.

    Use as `root_url = await nursery.start(serve_trio, app)`: `started` reports the root URL
    of the bound socket (for example `http://127.0.0.1:43125`, no trailing slash; `port=0`
    picks a free port, and the URL names the real one) once lifespan startup is done and
    the socket listens. Cancel the enclosing nursery (or a scope around it) to stop.

    Hypercorn's own timers (keep-alive 5 s, graceful shutdown 3 s) run on the trio clock,
    so under a virtual clock an idle keep-alive connection is closed after 5 virtual
    seconds, exactly as in real time; httpx notices and reconnects.
    """
    config = hypercorn.config.Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.loglevel = "WARNING"  # no "Running on ..." line per test
    config.accesslog = None
    async with trio.open_nursery() as nursery:
        # hypercorn's `serve` reports `["http://host:port", ...]` with the port read back
        # from the bound socket (getsockname), so port 0 is resolved with no race.
        binds: list[str] = await nursery.start(_hypercorn_serve, app, config)
        if not binds:  # pragma: no cover - hypercorn always reports the insecure bind
            raise RuntimeError(f"hypercorn reported no bind for {host}:{port}")
        task_status.started(binds[0])


async def _hypercorn_serve(
    app: ASGIApp,
    config: hypercorn.config.Config,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    # Starlette's ASGIApp types scopes and messages as plain mappings, hypercorn as
    # TypedDicts; the protocol is the same, so the cast only bridges the two spellings.
    framework = cast("hypercorn.typing.ASGIFramework", app)
    await hypercorn.trio.serve(framework, config, mode="asgi", task_status=task_status)
