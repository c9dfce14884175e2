"""Constants and helpers shared by the test suites (imported by conftest.py and by tests)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from recon_impl.security import device_signature

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
