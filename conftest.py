"""Shared test fixtures: real PostgreSQL and Redis (from RECON_* URLs, else embedded servers),
migrations applied once per run, a clean database and Redis per test, the wallet double."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import redis

from recon_impl.embedded import ensure_servers
from recon_impl.settings import Settings
from recon_impl.storage.migrate import upgrade
from testkit import (
    ENROLL_KEY,
    ROOT,
    SERVICE_TOKEN,
    TABLES,
    drop_database,
    fresh_database,
    per_run_redis_url,
    signed_headers,
)


@pytest.fixture(scope="session")
def stores() -> Iterator[tuple[str, str]]:
    """(database URL, Redis URL) of real servers, migrated once for the whole run."""
    servers = ensure_servers(
        os.environ.get("RECON_DATABASE_URL"),
        os.environ.get("RECON_REDIS_URL"),
        str(ROOT / ".data" / "test"),
    )
    database_url = fresh_database(servers.database_url)
    upgrade(database_url)
    yield database_url, per_run_redis_url(servers.redis_url)
    drop_database(database_url)
    servers.stop()


@pytest.fixture
def clean_stores(stores: tuple[str, str]) -> tuple[str, str]:
    """Empty every table and the test Redis database before the test."""
    database_url, redis_url = stores
    with psycopg.connect(database_url, autocommit=True) as conn:
        # replica mode skips the audit log's append-only trigger, for test cleanup only
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    redis.Redis.from_url(redis_url).flushdb()
    return stores


@pytest.fixture(scope="session")
def wallet_server() -> Iterator[tuple[str, Any]]:
    from infra.doubles.wallet import BASE_PATH, create_app, serve_in_thread, state_of

    app = create_app()
    base_url, stop = serve_in_thread(app)
    yield base_url + BASE_PATH, state_of(app)
    stop()


@pytest.fixture
def fresh_wallet() -> Iterator[tuple[str, Any]]:
    """A wallet double of the test's own, (base URL, state): no other test's orders in it."""
    from infra.doubles.wallet import BASE_PATH, create_app, serve_in_thread, state_of

    app = create_app()
    base_url, stop = serve_in_thread(app)
    yield base_url + BASE_PATH, state_of(app)
    stop()


@pytest.fixture
def wallet(wallet_server: tuple[str, Any]) -> Any:
    """The wallet double's state: seed orders, switch faults, read approvals."""
    state = wallet_server[1]
    state.reset_faults()
    return state


@pytest.fixture(scope="session")
def base_settings(stores: tuple[str, str], wallet_server: tuple[str, Any]) -> Settings:
    database_url, redis_url = stores
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        service_tokens=[SERVICE_TOKEN],
        enrollment_keys=["old-enroll-key", ENROLL_KEY],
        wallet_url=wallet_server[0],
        wallet_timeout_s=1.0,
        register_rate_limit="1000/minute",
    )


@pytest.fixture
def settings(base_settings: Settings, clean_stores: tuple[str, str]) -> Settings:
    """Settings on freshly emptied stores; a copy, so a test may change it."""
    return base_settings.model_copy(deep=True)


@pytest.fixture(scope="session")
def shared_app(base_settings: Settings) -> Any:
    from recon_impl.http.app import create_app

    return create_app(base_settings, validate_responses=True)


@pytest.fixture
def app(shared_app: Any, clean_stores: tuple[str, str]) -> Any:
    """recon_service with response validation on, over emptied stores."""
    return shared_app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-Actor": "alice", "X-Request-Id": str(uuid.uuid4())}


@pytest.fixture
def db(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """A plain connection for assertions about what is stored."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def rds(settings: Settings) -> redis.Redis:
    assert settings.redis_url is not None
    return redis.Redis.from_url(settings.redis_url, decode_responses=True)


@pytest.fixture
def enrolled(client: Any) -> Callable[..., tuple[str, str]]:
    """Register a phone through the real route; returns (device_id, secret)."""

    def enrol(device_id: str | None = None) -> tuple[str, str]:
        device_id = device_id or f"phone-{uuid.uuid4().hex[:8]}"
        body = {"device_id": device_id, "name": "Shooter", "phone": "+84 90 123", "app_version": "1.0"}
        answer = client.post(
            "/api/shooter/device/register", json=body, headers={"X-Enroll-Key": ENROLL_KEY}
        ).json()
        assert answer["code"] == 0, answer
        return device_id, answer["data"]["secret"]

    return enrol


@pytest.fixture
def device_post(client: Any) -> Callable[..., Any]:
    """POST a signed device request with the exact bytes that were signed."""

    def post(path: str, device_id: str, secret: str, payload: Any, **kw: Any) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return client.post(path, content=body, headers=signed_headers(device_id, secret, body, **kw))

    return post
