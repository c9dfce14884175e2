"""Fixtures of the contract suites."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import redis

from contract_tests._support import APP, EXAMPLES, OUTCOMES


@pytest.fixture
def empty_stores(stores: tuple[str, str]) -> Callable[[], None]:
    """Empty the database and the test Redis database again, as ``clean_stores`` does before a
    test; the stateful suite calls it before every scenario so each one starts from the same state
    (Hypothesis replays a scenario's choices and needs the same answers to them)."""
    database_url, redis_url = stores

    def empty() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT quote_ident(tablename) FROM pg_tables"
                    " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            ]
            conn.execute("SET session_replication_role = replica")  # the audit log's trigger
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        redis.Redis.from_url(redis_url).flushdb()

    return empty


@pytest.fixture
def contract_app(shared_app: Any, base_settings: Any, clean_stores: tuple[str, str]) -> Iterator[Any]:
    """The session's recon_service (response validation on) behind the schemas' app proxy, over
    freshly emptied stores; state then accumulates across the examples of one test function."""
    APP.target = shared_app
    APP.service_token = base_settings.service_tokens[0].get_secret_value()
    yield shared_app


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if EXAMPLES:
        parts = ", ".join(f"{suite}: {count}" for suite, count in sorted(EXAMPLES.items()))
        terminalreporter.write_line(f"contract examples sent: {sum(EXAMPLES.values())} ({parts})")
    if OUTCOMES:
        answers = ", ".join(
            f"{path} HTTP {status} code {code}: {count}"
            for (path, status, code), count in sorted(OUTCOMES.items())
        )
        terminalreporter.write_line(f"device answers: {answers}")
