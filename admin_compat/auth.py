"""Legacy admin authentication on a Connexion app (legacy contract, section 2).

``LegacyAuthMiddleware`` does the work once per request: it picks the credential (``X-Token``
wins when present), authenticates it with ``legacy_auth`` (header refresh included), answers
401 itself, and puts the session in the Connexion context. It sits *outside* Connexion's
exception middleware (``install`` puts it there) because Connexion's validation and security
errors, and every error a handler raises, become responses only in that exception middleware:
a middleware further in sees an exception, not a response, and could not add
``X-Refresh-Token`` to it. Out there no routing has happened yet, so the middleware learns the
guarded operations from the specs themselves (Connexion hands every ``SpecMiddleware`` each
API added to the app): unknown routes, wrong methods and ``security: []`` operations pass
untouched, to their 404, 405 or handler.

Where the server runs the ASGI lifespan on an asyncio loop (uvicorn, hypercorn), the session
is read with a ``redis.asyncio`` twin of ``redis_client`` (same server, database and timeouts),
opened at startup and closed at shutdown; without a lifespan (Starlette's TestClient outside
``with``) or under trio it is read with ``redis_client`` in a worker thread. Same script,
same answers; the thread hop costs about 0.3 ms a request.

Each guarded operation's ``x-permission`` is checked here too, right after authentication: a
session without it gets 403 before its body is validated (a user who may not use a route
learns nothing about its input rules). The handlers' ``require`` checks the same permission
again.

``token_info`` and ``bearer_info`` (the spec's security functions) only confirm the
middleware's decision for the same token, without another Redis round trip; without the
middleware they refuse everything.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import redis
import redis.asyncio
from connexion.context import context
from connexion.middleware import MiddlewarePosition
from connexion.middleware.abstract import SpecMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin_compat.legacy_auth import (
    AuthResult,
    Session,
    authenticate,
    authenticate_async,
    credential_from_headers,
    has_permission,
)

__all__ = [
    "SESSION",
    "LegacyAuthMiddleware",
    "PermissionDenied",
    "bearer_info",
    "current_session",
    "install",
    "require",
    "token_info",
]

log = logging.getLogger(__name__)

SESSION = "admin_session"  # Connexion context key holding the request's legacy_auth.Session
_CREDENTIAL = "admin_credential"  # the token the middleware accepted for this request
REFRESH_HEADER = "X-Refresh-Token"
_UNAUTHORIZED = 401
_UNAVAILABLE = 5003
_INTERNAL = 5000
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class PermissionDenied(Exception):
    """The session lacks a permission; the edge answers HTTP 403 with code 403."""

    status = 403
    code = 403
    msg = "permission denied"

    def __init__(self, perm: str) -> None:
        super().__init__(f"permission denied: {perm}")
        self.perm = perm


def token_info(token: str, request: Any = None) -> dict[str, Any] | None:
    """``x-apikeyInfoFunc`` of the ``X-Token`` scheme."""
    return _accepted(token, request)


def bearer_info(token: str, request: Any = None) -> dict[str, Any] | None:
    """``x-bearerInfoFunc`` of the ``Authorization: Bearer`` scheme."""
    return _accepted(token, request)


def _accepted(token: str, request: Any) -> dict[str, Any] | None:
    # A token other than the one the middleware authenticated (a Bearer beside an X-Token)
    # is refused, so Connexion's "any scheme passes" cannot let it in.
    found: Mapping[str, Any] = request.context if request is not None else {}
    session, accepted = found.get(SESSION), found.get(_CREDENTIAL)
    if not isinstance(session, Session) or not isinstance(accepted, str):
        return None
    if not hmac.compare_digest(token.encode(), accepted.encode()):
        return None
    return {
        "sub": session.username,
        "admin_id": session.admin_id,
        "role_id": session.role_id,
        "perms": list(session.perms),
    }


def current_session() -> Session:
    """The session of the request being handled (only on operations the middleware guards)."""
    session = context.get(SESSION)
    if not isinstance(session, Session):
        raise RuntimeError("no legacy admin session: the operation is not guarded by LegacyAuthMiddleware")
    return session


def require(perm: str) -> Session:
    """The current session if it holds ``perm`` (super admins hold all), else PermissionDenied."""
    session = current_session()
    if not has_permission(session, perm):
        raise PermissionDenied(perm)
    return session


class LegacyAuthMiddleware:
    """See the module docstring. ``clock`` gives Unix seconds (used for the 24 h rule)."""

    def __init__(
        self, app: ASGIApp, *, redis_client: redis.Redis, clock: Callable[[], float] = time.time
    ) -> None:
        self.app = app
        self.redis_client = redis_client
        self.clock = clock
        self._guarded: list[tuple[re.Pattern[str], dict[str, _Guard]]] = []  # per path, per method
        self._async: dict[asyncio.AbstractEventLoop, redis.asyncio.Redis] = {}  # per lifespan loop

    def add_api(self, specification: Any, base_path: str | None = None, **_options: Any) -> None:
        """Learn the operations secured by this module's security functions."""
        base = specification.base_path if base_path is None else base_path.rstrip("/")
        self._guarded += _guarded_operations(specification, base)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._watch_lifespan(receive), send)
            return
        guard = self._guard(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if guard is None:
            await self.app(scope, receive, _with_headers(send, None))
            return
        credential = credential_from_headers(Headers(scope=scope))
        if credential is None:
            await _answer(send, 401, _UNAUTHORIZED, "token missing")
            return
        try:
            result = await self._authenticate(credential)
        except (redis.ConnectionError, redis.TimeoutError):
            # not a 401: the front-end would drop a token that is probably still good
            log.warning("admin session store unavailable", exc_info=True)
            await _answer(send, 200, _UNAVAILABLE, "session store unavailable; retry later")
            return
        except redis.RedisError:
            log.exception("admin session lookup failed")
            await _answer(send, 500, _INTERNAL, "internal error")
            return
        if result.session is None:
            log.info("admin request refused: token invalid or expired")
            await _answer(send, 401, _UNAUTHORIZED, "token invalid or expired")
            return
        if guard.perm is not None and not has_permission(result.session, guard.perm):
            log.info("admin request refused: %s lacks %s", result.session.username, guard.perm)
            denied = PermissionDenied(guard.perm)
            # it passed authentication: a due refresh rides on the 403 too (contract, section 2)
            await _answer(send, denied.status, denied.code, denied.msg, result.refresh_token)
            return
        found = scope.setdefault("extensions", {}).setdefault("connexion_context", {})
        found[SESSION] = result.session
        found[_CREDENTIAL] = credential
        await self.app(scope, receive, _with_headers(send, result.refresh_token))

    async def _authenticate(self, credential: str) -> AuthResult:
        loop = _running_loop() if self._async else None
        client = self._async.get(loop) if loop is not None else None
        if client is not None:
            return await authenticate_async(client, credential, self.clock())
        return await anyio.to_thread.run_sync(authenticate, self.redis_client, credential, self.clock())

    def _watch_lifespan(self, receive: Receive) -> Receive:
        """``receive`` that opens the asyncio twin at startup and closes it at shutdown."""

        async def watching() -> Message:
            message = await receive()
            loop = _running_loop()
            if message["type"] == "lifespan.startup" and loop is not None:
                twin = _async_twin(self.redis_client)
                if twin is not None:
                    self._async[loop] = twin
            elif message["type"] == "lifespan.shutdown" and loop in self._async:
                await self._async.pop(loop).aclose()
            return message

        return watching

    def _guard(self, method: str, path: str) -> _Guard | None:
        """The guard of the operation at ``method path``; None when it needs no session."""
        for pattern, methods in self._guarded:
            if method in methods and pattern.fullmatch(path):
                return methods[method]
        return None


# Connexion registers each spec on the middlewares that are SpecMiddlewares (an ABC).
SpecMiddleware.register(LegacyAuthMiddleware)


def install(app: Any, *, redis_client: redis.Redis, clock: Callable[[], float] = time.time) -> None:
    """Add ``LegacyAuthMiddleware`` to a Connexion app where it must sit: outside the
    exception middleware, so the headers also ride on error responses."""
    app.add_middleware(
        LegacyAuthMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        redis_client=redis_client,
        clock=clock,
    )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # trio
        return None


# what a redis.asyncio connection takes over from the sync client's (redis-py names both alike)
_TWIN_SETTINGS = frozenset(
    {"host", "port", "path", "db", "username", "password", "client_name", "socket_timeout",
     "socket_connect_timeout", "decode_responses", "encoding", "encoding_errors"}
)  # fmt: skip
_TWIN_CLASSES: tuple[tuple[type, type], ...] = (
    (redis.SSLConnection, redis.asyncio.SSLConnection),
    (redis.UnixDomainSocketConnection, redis.asyncio.UnixDomainSocketConnection),
    (redis.Connection, redis.asyncio.Connection),
)


def _async_twin(client: redis.Redis) -> redis.asyncio.Redis | None:
    """An asyncio client of the same Redis server and database as ``client`` (None for a
    connection kind it does not know: the thread path then serves)."""
    pool = client.connection_pool
    kind = next((twin for sync, twin in _TWIN_CLASSES if issubclass(pool.connection_class, sync)), None)
    if kind is None:
        return None
    settings = {
        k: v for k, v in pool.connection_kwargs.items() if k in _TWIN_SETTINGS or k.startswith("ssl_")
    }
    return redis.asyncio.Redis(
        connection_pool=redis.asyncio.ConnectionPool(connection_class=kind, **settings)
    )


@dataclass(frozen=True, slots=True)
class _Guard:
    """An operation that needs a legacy session, and the permission its spec names."""

    perm: str | None  # x-permission


def _guarded_operations(spec: Any, base_path: str) -> list[tuple[re.Pattern[str], dict[str, _Guard]]]:
    """(full path pattern, method -> its guard) of the operations that need a legacy session:
    their security names a scheme backed by ``token_info``/``bearer_info`` and allows no
    anonymous access (an empty requirement)."""
    functions = {f"{__name__}.{func.__name__}" for func in (token_info, bearer_info)}
    schemes = {
        name
        for name, scheme in spec.security_schemes.items()
        if {scheme.get("x-apikeyInfoFunc"), scheme.get("x-bearerInfoFunc")} & functions
    }
    guarded = []
    for path, item in spec.get("paths", {}).items():
        methods: dict[str, _Guard] = {}
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            requirements = operation.get("security", spec.security) or []
            if all(requirements) and any(name in schemes for req in requirements for name in req):
                methods[method.upper()] = _Guard(operation.get("x-permission"))
        if "GET" in methods:
            methods.setdefault("HEAD", methods["GET"])  # Starlette routes HEAD wherever GET is
        if methods:
            pattern = "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}/]+\})", base_path + path)
            )
            guarded.append((re.compile(pattern), methods))
    return guarded


def _with_headers(send: Send, refresh_token: str | None) -> Send:
    """``send`` adding ``Access-Control-Expose-Headers`` to every response and
    ``X-Refresh-Token`` (when one is due) to every response but a 401."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            exposed = headers.get("access-control-expose-headers")
            if exposed is None:
                headers["Access-Control-Expose-Headers"] = REFRESH_HEADER
            elif REFRESH_HEADER.lower() not in {part.strip().lower() for part in exposed.split(",")}:
                headers["Access-Control-Expose-Headers"] = f"{exposed}, {REFRESH_HEADER}"
            if refresh_token is not None and message["status"] != 401:
                headers[REFRESH_HEADER] = refresh_token
        await send(message)

    return send_with_headers


async def _answer(send: Send, status: int, code: int, msg: str, refresh_token: str | None = None) -> None:
    body = json.dumps({"code": code, "msg": msg, "data": None}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    send = _with_headers(send, refresh_token)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
