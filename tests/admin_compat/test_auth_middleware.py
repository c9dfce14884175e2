"""admin_compat.auth on a tiny Connexion FlaskApp (tiny-admin.yaml beside this file) and a real
Redis: credential precedence, 401s, the session in the context, permissions and the refresh
header on every kind of authenticated answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import connexion
import pytest
import redis
from connexion.context import context
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.resolver import Resolver

from admin_compat.auth import (
    LegacyAuthMiddleware,
    PermissionDenied,
    _async_twin,
    current_session,
    install,
    require,
    token_info,
)
from admin_compat.legacy_auth import Session, create_session, session_key

HERE = Path(__file__).resolve().parent
NOW = 1_780_000_000
EDITOR = Session(
    admin_id=7, username="demo", role_id=2, perms=("recon:view", "recon:edit"), login_at=NOW - 600
)
VIEWER = Session(admin_id=8, username="viewer", role_id=2, perms=("recon:view",), login_at=NOW - 600)
ROOT = Session(admin_id=1, username="root", role_id=1, perms=(), login_at=NOW - 600)
EXPOSE = "Access-Control-Expose-Headers"
REFRESH = "X-Refresh-Token"


# --------------------------------------------------------------------------- the tiny app


def add_thing(body: dict[str, Any]) -> dict[str, Any]:
    session = require("recon:edit")
    return {"code": 0, "msg": "success", "data": {"username": session.username, "name": body["name"]}}


def fail_thing() -> dict[str, Any]:
    require("recon:view")
    return {"code": 1004, "msg": "state does not allow this action", "data": None}


def whoami() -> dict[str, Any]:
    session = current_session()
    return {"code": 0, "msg": "success", "data": {"username": session.username, "user": context["user"]}}


def ping() -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": "pong"}


HANDLERS: dict[str, Callable[..., Any]] = {
    "add_thing": add_thing,
    "fail_thing": fail_thing,
    "whoami": whoami,
    "ping": ping,
}


def envelope(status: int, code: int, msg: str) -> ConnexionResponse:
    body = json.dumps({"code": code, "msg": msg, "data": None})
    return ConnexionResponse(status_code=status, mimetype="application/json", body=body)


def on_denied(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Stand-in for the edge's mapping of PermissionDenied."""
    assert isinstance(exc, PermissionDenied)
    return envelope(exc.status, exc.code, exc.msg)


def on_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Stand-in for the edge's mapping of Connexion's own errors (400 -> HTTP 200 code 1001)."""
    assert isinstance(exc, ProblemException)
    if exc.status == 401:
        return envelope(401, 401, "token invalid or expired")
    return envelope(exc.status if exc.status in (404, 405) else 200, 1001, str(exc.detail))


def build_app(client: redis.Redis | None, clock: Callable[[], float] = lambda: NOW) -> Any:
    app = connexion.FlaskApp(__name__, specification_dir=str(HERE))
    app.add_api(
        "tiny-admin.yaml",
        resolver=Resolver(function_resolver=HANDLERS.__getitem__),
        validate_responses=True,
        strict_validation=True,
    )
    if client is not None:
        install(app, redis_client=client, clock=clock)
    app.add_error_handler(PermissionDenied, on_denied)
    app.add_error_handler(ProblemException, on_problem)
    return app


@pytest.fixture(params=["thread", "lifespan"])
def http(request: pytest.FixtureRequest, redis_client: redis.Redis) -> Iterator[Any]:
    """The tiny app's client: sessions read in a worker thread (no lifespan), or through the
    middleware's asyncio twin (the client run as a context manager runs the lifespan)."""
    client = build_app(redis_client).test_client()
    if request.param == "thread":
        yield client
        return
    with client:
        yield client


def auth_middleware(app: Any) -> LegacyAuthMiddleware:
    """The LegacyAuthMiddleware in a started app's ASGI stack."""
    layer = app.middleware.app
    while not isinstance(layer, LegacyAuthMiddleware):
        layer = layer.app
    return layer


def login(client: redis.Redis, session: Session = EDITOR, left: int | None = None) -> str:
    """A session token; ``left`` cuts its remaining TTL to that many seconds."""
    token = create_session(client, session)
    if left is not None:
        client.expire(session_key(token), left)
    return token


def assert_refused(response: Any, msg: str = "token invalid or expired") -> None:
    assert response.status_code == 401
    assert response.json() == {"code": 401, "msg": msg, "data": None}
    assert REFRESH not in response.headers
    assert response.headers[EXPOSE] == REFRESH


# --------------------------------------------------------------------------- credentials


def test_a_valid_x_token_reaches_the_handler_with_its_session(http: Any, redis_client: redis.Redis) -> None:
    """The handler finds the session in the Connexion context; Connexion's user is its username."""
    token = login(redis_client)
    response = http.get("/api/admin/whoami", headers={"X-Token": token})
    assert response.status_code == 200
    assert response.json()["data"] == {"username": "demo", "user": "demo"}
    assert response.headers[EXPOSE] == REFRESH
    assert REFRESH not in response.headers


def test_a_bearer_token_alone_is_accepted(http: Any, redis_client: redis.Redis) -> None:
    """Without X-Token, Authorization: Bearer carries the session."""
    token = login(redis_client)
    response = http.get("/api/admin/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["data"]["username"] == "demo"


def test_a_valid_x_token_wins_over_a_bearer_of_another_session(http: Any, redis_client: redis.Redis) -> None:
    """Both headers valid: the X-Token's session is the one used."""
    editor, viewer = login(redis_client), login(redis_client, VIEWER)
    response = http.get("/api/admin/whoami", headers={"X-Token": viewer, "Authorization": f"Bearer {editor}"})
    assert response.json()["data"]["username"] == "viewer"


@pytest.mark.parametrize("x_token", ["0" * 32, "", "not a token"])
def test_a_valid_bearer_beside_an_invalid_x_token_is_401(
    http: Any, redis_client: redis.Redis, x_token: str
) -> None:
    """When X-Token is present it is the only credential looked at, even empty."""
    token = login(redis_client)
    response = http.get("/api/admin/whoami", headers={"X-Token": x_token, "Authorization": f"Bearer {token}"})
    assert_refused(response)


def test_a_missing_credential_is_401(http: Any) -> None:
    """No X-Token and no Bearer: 401 with the envelope."""
    assert_refused(http.get("/api/admin/whoami"), "token missing")
    assert_refused(http.get("/api/admin/whoami", headers={"Authorization": "Basic eDp5"}), "token missing")


def test_an_expired_token_is_401(http: Any, redis_client: redis.Redis) -> None:
    """A token whose session key is gone is refused."""
    token = login(redis_client)
    redis_client.delete(session_key(token))
    assert_refused(http.post("/api/admin/thing/fail", headers={"X-Token": token}))


def test_the_security_functions_refuse_what_the_middleware_did_not_accept(redis_client: redis.Redis) -> None:
    """Without LegacyAuthMiddleware even a valid token is refused (fail closed)."""
    token = login(redis_client)
    response = build_app(None).test_client().get("/api/admin/whoami", headers={"X-Token": token})
    assert response.status_code == 401
    assert token_info(token) is None


# --------------------------------------------------------------------------- permissions


def test_a_missing_permission_is_403_with_code_403(http: Any, redis_client: redis.Redis) -> None:
    """require() raises PermissionDenied, which the edge maps to HTTP 403 code 403."""
    token = login(redis_client, VIEWER)
    response = http.post("/api/admin/thing/add", json={"name": "x"}, headers={"X-Token": token})
    assert response.status_code == 403
    assert response.json() == {"code": 403, "msg": "permission denied", "data": None}


def test_the_super_admin_passes_every_permission(http: Any, redis_client: redis.Redis) -> None:
    """role_id 1 needs no perms."""
    token = login(redis_client, ROOT)
    response = http.post("/api/admin/thing/add", json={"name": "x"}, headers={"X-Token": token})
    assert response.json() == {"code": 0, "msg": "success", "data": {"username": "root", "name": "x"}}


# --------------------------------------------------------------------------- header refresh


def test_no_refresh_header_while_1800_seconds_or_more_are_left(http: Any, redis_client: redis.Redis) -> None:
    """A session with time to spare gets no X-Refresh-Token."""
    token = login(redis_client, left=1801)
    response = http.get("/api/admin/whoami", headers={"X-Token": token})
    assert response.status_code == 200
    assert REFRESH not in response.headers


def test_a_due_session_gets_a_working_new_token_and_the_grace_repeats_it(
    http: Any, redis_client: redis.Redis
) -> None:
    """Under 1800 s left: X-Refresh-Token on success; the new token works without a header of its
    own; the old token, in its grace, keeps passing and gets the same new token."""
    old = login(redis_client, left=1799)
    first = http.get("/api/admin/whoami", headers={"X-Token": old})
    new = first.headers[REFRESH]
    assert first.json()["code"] == 0 and len(new) == 32
    assert REFRESH not in http.get("/api/admin/whoami", headers={"X-Token": new}).headers
    again = http.get("/api/admin/whoami", headers={"Authorization": f"Bearer {old}"})
    assert again.status_code == 200 and again.headers[REFRESH] == new
    assert redis_client.ttl(session_key(old)) <= 60


def test_the_refresh_header_rides_on_a_connexion_validation_error(
    http: Any, redis_client: redis.Redis
) -> None:
    """An unknown body field is rejected by Connexion itself (1001); the refresh still shows."""
    token = login(redis_client, left=1000)
    response = http.post("/api/admin/thing/add", json={"name": "x", "typo": 1}, headers={"X-Token": token})
    assert response.status_code == 200
    assert response.json()["code"] == 1001
    assert len(response.headers[REFRESH]) == 32
    assert response.headers[EXPOSE] == REFRESH


def test_the_refresh_header_rides_on_business_errors_and_on_403(http: Any, redis_client: redis.Redis) -> None:
    """A handler's business error (1004) and a permission error both carry the refresh."""
    token = login(redis_client, VIEWER, left=1000)
    business = http.post("/api/admin/thing/fail", headers={"X-Token": token})
    assert business.json()["code"] == 1004
    denied = http.post("/api/admin/thing/add", json={"name": "x"}, headers={"X-Token": token})
    assert denied.status_code == 403
    assert business.headers[REFRESH] == denied.headers[REFRESH]


def test_no_refresh_header_more_than_24_hours_after_login(redis_client: redis.Redis) -> None:
    """The middleware's clock decides the 24 h rule: past it the session just runs out."""
    token = login(redis_client, left=1000)
    http = build_app(redis_client, clock=lambda: EDITOR.login_at + 86401).test_client()
    response = http.get("/api/admin/whoami", headers={"X-Token": token})
    assert response.status_code == 200
    assert REFRESH not in response.headers


def test_the_default_clock_is_the_wall_clock(redis_client: redis.Redis) -> None:
    """Installed without a clock, a session logged in now is refreshed when due."""
    session = Session(7, "demo", 2, ("recon:view",), login_at=int(time.time()))
    token = login(redis_client, session, left=1000)
    app = connexion.FlaskApp(__name__, specification_dir=str(HERE))
    app.add_api("tiny-admin.yaml", resolver=Resolver(function_resolver=HANDLERS.__getitem__))
    install(app, redis_client=redis_client)
    assert REFRESH in app.test_client().get("/api/admin/whoami", headers={"X-Token": token}).headers


# --------------------------------------------------------------------------- other answers


def test_unknown_routes_wrong_methods_and_public_operations_need_no_token(http: Any) -> None:
    """Only operations secured by the session schemes are authenticated."""
    assert http.get("/api/admin/nowhere").status_code == 404
    assert http.delete("/api/admin/whoami").status_code == 405
    public = http.get("/api/admin/public/ping")
    assert public.json()["data"] == "pong"


def test_every_response_exposes_the_refresh_header(http: Any, redis_client: redis.Redis) -> None:
    """Access-Control-Expose-Headers: X-Refresh-Token on success, 401, 404, 405 and public answers."""
    token = login(redis_client)
    responses = [
        http.get("/api/admin/whoami", headers={"X-Token": token}),
        http.get("/api/admin/whoami"),
        http.get("/api/admin/nowhere"),
        http.delete("/api/admin/whoami"),
        http.get("/api/admin/public/ping"),
    ]
    assert [r.headers.get(EXPOSE) for r in responses] == [REFRESH] * len(responses)


@pytest.mark.parametrize("lifespan", [False, True], ids=["thread", "lifespan"])
def test_an_unreachable_session_store_is_5003_not_401(lifespan: bool) -> None:
    """Redis down must not log users out: the answer is 'retry later' (5003)."""
    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    client = build_app(dead).test_client()
    if lifespan:
        with client:
            response = client.get("/api/admin/whoami", headers={"X-Token": "a" * 32})
    else:
        response = client.get("/api/admin/whoami", headers={"X-Token": "a" * 32})
    assert response.status_code == 200
    assert response.json() == {"code": 5003, "msg": "session store unavailable; retry later", "data": None}
    assert response.headers[EXPOSE] == REFRESH


def test_a_session_key_of_the_wrong_type_is_an_internal_error(http: Any, redis_client: redis.Redis) -> None:
    """A Redis error other than an outage is a 500 with code 5000, never a stack trace."""
    redis_client.hset("admin:token:" + "c" * 32, "username", "demo")
    response = http.get("/api/admin/whoami", headers={"X-Token": "c" * 32})
    assert response.status_code == 500
    assert response.json() == {"code": 5000, "msg": "internal error", "data": None}


# --------------------------------------------------------------------------- the asyncio twin


def test_the_lifespan_opens_the_asyncio_twin_and_closes_it(redis_client: redis.Redis) -> None:
    """Started: one twin for the server's loop, used by requests; stopped: none left."""
    app = build_app(redis_client)
    with app.test_client() as client:
        middleware = auth_middleware(app)
        assert len(middleware._async) == 1
        token = login(redis_client)
        assert (
            client.get("/api/admin/whoami", headers={"X-Token": token}).json()["data"]["username"] == "demo"
        )
        (twin,) = middleware._async.values()
        pool = twin.connection_pool
        assert len(pool._available_connections) + len(pool._in_use_connections) == 1  # it read the session
    assert middleware._async == {}


def test_the_twin_is_the_same_server_database_and_timeouts(redis_url: str, redis_client: redis.Redis) -> None:
    """A key written through the sync client is read through its twin; the socket settings carry over."""
    import asyncio

    sync = redis.Redis.from_url(
        redis_url, socket_timeout=2, socket_connect_timeout=1.5, decode_responses=True
    )
    sync.set("twin:probe", "seen")
    twin = _async_twin(sync)
    assert twin is not None
    settings = twin.connection_pool.connection_kwargs
    assert (settings["socket_timeout"], settings["socket_connect_timeout"]) == (2, 1.5)

    async def read() -> Any:
        try:
            return await twin.get("twin:probe")
        finally:
            await twin.aclose()

    assert asyncio.run(read()) == "seen"
    sync.close()


def test_a_unix_socket_client_gets_a_unix_socket_twin() -> None:
    import redis.asyncio

    sync = redis.Redis.from_url("unix:///tmp/no-such-redis.sock?db=3")
    twin = _async_twin(sync)
    assert twin is not None
    assert twin.connection_pool.connection_class is redis.asyncio.UnixDomainSocketConnection
    assert twin.connection_pool.connection_kwargs["path"] == "/tmp/no-such-redis.sock"
    assert twin.connection_pool.connection_kwargs["db"] == 3
