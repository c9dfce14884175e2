"""Run an ASGI app (a double) on loopback in a background thread, for tests and local runs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

__all__ = ["serve_in_thread"]


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
