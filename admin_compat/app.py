"""The legacy admin edge's app factory: ``create_app(config)`` serves openapi/legacy-admin.yaml
under ``/api/admin`` on a Connexion FlaskApp and maps every route onto recon's internal API.

Handlers reach the process-wide dependencies through ``deps()``::

    from admin_compat.app import deps

    d = deps()          # frozen Deps(recon=ReconClient, redis=redis.Redis, settings=EdgeSettings)
    d.recon.call(some_generated_module.sync_detailed, idempotent=True, x_request_id=...)
    d.redis.get("admin:top_info:cache")   # decode_responses=True: str values

``deps()`` returns what the most recent ``create_app`` built (one app per process in
production; tests that build several apps get the newest). ``set_deps`` replaces it (tests).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import connexion
import flask
import redis
from connexion.jsonifier import Jsonifier
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin_compat import auth, envelope
from admin_compat.recon_client import ReconClient, ReconConfig
from admin_compat.wsgi_bridge import use_buffered_wsgi

__all__ = ["ADMIN_BASE", "BodyLimit", "Deps", "EdgeSettings", "Preflight", "create_app", "deps", "set_deps"]

SPECS = Path(__file__).resolve().parents[1] / "openapi"
ADMIN_BASE = "/api/admin"
ALLOW_HEADERS = "X-Token, Authorization, Content-Type, X-Request-Id"


class EdgeSettings(BaseSettings):
    """``ADMIN_*`` environment: where recon and Redis are, and the service token for recon."""

    model_config = SettingsConfigDict(env_prefix="ADMIN_", extra="ignore")

    recon_url: str = "http://127.0.0.1:8080/internal/recon/v1"
    recon_token: SecretStr = SecretStr("")
    redis_url: str = "redis://127.0.0.1:6379/0"
    max_body_bytes: int = 65536
    cors_origins: tuple[str, ...] = ("*",)  # origins the browser may read answers from
    validate_responses: bool = False


@dataclass(frozen=True, slots=True)
class Deps:
    """What handlers need: the recon client, the Redis client and the settings."""

    recon: ReconClient
    redis: redis.Redis
    settings: EdgeSettings


_current: Deps | None = None


def deps() -> Deps:
    """The dependencies of the app built last by ``create_app``."""
    if _current is None:
        raise RuntimeError("admin_compat.app.create_app has not run in this process")
    return _current


def set_deps(value: Deps) -> None:
    """Replace the dependencies handlers see (``create_app`` calls it)."""
    global _current  # noqa: PLW0603 - the one process-wide holder, documented above
    _current = value


def create_app(
    config: EdgeSettings | None = None,
    *,
    recon: ReconClient | None = None,
    redis_client: redis.Redis | None = None,
) -> connexion.FlaskApp:
    """Build the edge. ``recon``/``redis_client`` default to clients built from ``config``."""
    config = config or EdgeSettings()
    recon = recon or ReconClient(ReconConfig(config.recon_url, config.recon_token.get_secret_value()))
    redis_client = redis_client or redis.Redis.from_url(
        config.redis_url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
    )
    set_deps(Deps(recon=recon, redis=redis_client, settings=config))

    # Connexion logs validation failures with the offending value (a Pushbullet token, say).
    logging.getLogger("connexion.validators").setLevel(logging.WARNING)
    app = connexion.FlaskApp(
        __name__,
        specification_dir=str(SPECS),
        # The old server served no API explorer, and the edge needs none.
        middlewares=[m for m in ConnexionMiddleware.default_middlewares if m is not SwaggerUIMiddleware],
        # Compact JSON (the contract leaves whitespace free): Connexion's default indent=2
        # makes the json module fall back from its C encoder to the pure-Python one.
        jsonifier=Jsonifier(flask.json),
    )
    app.app.json.sort_keys = False
    # One thread hop per request instead of a2wsgi's streaming; 16 threads, so both recon
    # lanes (8 calls each) can be busy at once and top-info still gets a thread.
    use_buffered_wsgi(app, threads=2 * recon.config.pool_size)
    app.add_api(
        "legacy-admin.yaml",
        base_path=ADMIN_BASE,
        name="admin",
        # Unknown query parameters must be ignored (the front-end's cache-busters); unknown
        # body fields are still refused, by the schemas' additionalProperties: false.
        strict_validation=False,
        validate_responses=config.validate_responses,
        validator_map=envelope.VALIDATORS,
    )
    # Outermost first: the preflight answers before authentication; the auth middleware adds
    # the refresh headers to every later answer, errors included.
    app.add_middleware(Preflight, position=MiddlewarePosition.BEFORE_EXCEPTION, origins=config.cors_origins)
    auth.install(app, redis_client=redis_client)
    app.add_middleware(
        BodyLimit, position=MiddlewarePosition.BEFORE_SECURITY, max_bytes=config.max_body_bytes
    )
    envelope.register(app)
    return app


class Preflight:
    """CORS: any ``OPTIONS`` under the admin base answers 204 before authentication (legacy
    contract, section 1); every other answer to an allowed ``Origin`` names that origin."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...] = ("*",)) -> None:
        self.app, self.origins = app, origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_admin(scope["path"]):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        allowed = origin is not None and ("*" in self.origins or origin in self.origins)
        cors = [(b"access-control-allow-origin", origin.encode("latin-1"))] if allowed and origin else []
        cors.append((b"vary", b"Origin"))
        if scope["method"] == "OPTIONS":
            headers = [
                *cors,
                (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-expose-headers", auth.REFRESH_HEADER.encode()),
                (b"access-control-max-age", b"600"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


class BodyLimit:
    """Refuse a body over ``max_bytes`` with 1001 (Connexion buffers any size otherwise), and
    read a body sent without ``Content-Type`` as JSON."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await _send_envelope(send, envelope.INVALID, f"request body exceeds {self.max_bytes} bytes")
                return
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False
        if body and "content-type" not in Headers(scope=scope):
            # The old server read every body as JSON; without this Connexion would hand the
            # raw bytes to the handler unvalidated.
            scope = {**scope, "headers": [*scope["headers"], (b"content-type", b"application/json")]}

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _is_admin(path: str) -> bool:
    return path == ADMIN_BASE or path.startswith(ADMIN_BASE + "/")


async def _send_envelope(send: Send, code: int, msg: str) -> None:
    body = json.dumps({"code": code, "msg": msg, "data": None}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
