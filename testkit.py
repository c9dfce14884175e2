"""Constants and helpers shared by the test suites (imported by conftest.py and by tests)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import redis
import trio
from sqlalchemy.engine import make_url

from recon_impl.security import device_signature
from recon_impl.settings import Settings
from recon_impl.storage.db import make_engine, make_session_factory
from recon_impl.storage.legacy_keys import REFRESH_CHANNEL
from recon_worker.context import WorkerContext

ROOT = Path(__file__).resolve().parent
# A Redis database per run (by pid), so that concurrent test runs on one server do not flush
# each other; 0 is left to the application.
TEST_REDIS_DB = 1 + os.getpid() % 15
SERVICE_TOKEN = "test-service-token"  # noqa: S105 - a test fixture value
ENROLL_KEY = "test-enroll-key"
TABLES = (
    "sms",
    "audit_log",
    "outbox",
    "idempotency_keys",
    "worker_leases",
    "source_cursors",
    "shooter_devices",
    "pushbullet_accounts",
    "templates",
    "whitelist",
)


def fresh_database(server_url: str, prefix: str = "recon_test") -> str:
    """A fresh database for this run, beside whatever the server already holds."""
    url = make_url(server_url.replace("postgresql+psycopg", "postgresql"))
    name = f"{prefix}_{os.getpid()}"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def per_run_redis_url(url: str) -> str:
    if url.startswith("unix://"):
        return f"{url.split('?', maxsplit=1)[0]}?db={TEST_REDIS_DB}"
    return make_url_redis_db(url, TEST_REDIS_DB)


def make_url_redis_db(url: str, db: int) -> str:
    scheme, rest = url.split("://", 1)
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db}"


def signed_headers(device_id: str, secret: str, body: bytes, *, stamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if stamp is None else stamp)
    return {
        "Content-Type": "application/json",
        "X-Device-Id": device_id,
        "X-Timestamp": ts,
        "X-Signature": device_signature(secret, ts.encode(), body),
    }


@contextlib.contextmanager
def worker_context(settings: Settings, worker_id: str, pool_size: int = 4) -> Iterator[WorkerContext]:
    """A WorkerContext on the test stores (its own engine and Redis client, closed after)."""
    assert settings.database_url and settings.redis_url
    engine = make_engine(settings.database_url, pool_size=pool_size)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    try:
        yield WorkerContext(
            settings=settings,
            sessions=make_session_factory(engine),
            redis=client,
            worker_id=worker_id,
            limiter=trio.CapacityLimiter(pool_size),
        )
    finally:
        client.close()
        engine.dispose()


class RefreshChannel:
    """A subscriber on ``admin:ws:refresh``, subscribed before the test writes anything."""

    def __init__(self, redis_url: str) -> None:
        self.client = redis.Redis.from_url(redis_url, decode_responses=True)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(REFRESH_CHANNEL)
        confirmation = self.pubsub.get_message(timeout=5)
        assert confirmation and confirmation["type"] == "subscribe"

    async def next(self, timeout_s: float = 10.0) -> dict[str, Any] | None:
        """The next message's JSON, or None when none came within ``timeout_s`` (trio). The
        default is a deadline for "promptly", far below the relay's fallback poll in the tests."""
        with trio.move_on_after(timeout_s):
            while True:
                message = await trio.to_thread.run_sync(partial(self.pubsub.get_message, timeout=0.1))
                if message and message["type"] == "message":
                    return dict(json.loads(message["data"]))
        return None

    async def until_reason(self, reason: str) -> list[dict[str, Any]]:
        """Every message up to and including the first one with ``reason``."""
        seen: list[dict[str, Any]] = []
        while True:
            message = await self.next()
            assert message is not None, f"no message with reason {reason!r}; got {seen}"
            seen.append(message)
            if message["reason"] == reason:
                return seen

    async def drain(self, quiet_s: float) -> list[dict[str, Any]]:
        """Everything published until the channel has been quiet for ``quiet_s``."""
        seen = []
        while (message := await self.next(quiet_s)) is not None:
            seen.append(message)
        return seen

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()
