"""Fixtures of the contract suites."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import redis
from pydantic import SecretStr

from contract_tests._support import (
    APP,
    EDGE,
    EXAMPLES,
    INTERNAL_BASE,
    LEGACY_OUTCOMES,
    LEGACY_REFRESHES,
    OUTCOMES,
)


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


@pytest.fixture(scope="session")
def recon_on_loopback(shared_app: Any) -> Iterator[str]:
    """The session's recon_service served by uvicorn on loopback: the admin edge reaches recon
    only over HTTP (admin_compat/recon_client.py), as in production. Its internal API base URL."""
    from infra.doubles.serving import serve_in_thread

    root, stop = serve_in_thread(shared_app)
    yield root + INTERNAL_BASE
    stop()


@dataclass(frozen=True)
class LegacyStack:
    """The admin edge (response validation on) and what a suite needs beside it."""

    app: Any
    deps: Any  # admin_compat.app.Deps of this edge
    wallet: Any  # admin_compat.wallet_client.WalletClient
    redis: redis.Redis  # decode_responses=True, the edge's own client
    max_body_bytes: int


@pytest.fixture(scope="session")
def legacy_stack(
    recon_on_loopback: str, stores: tuple[str, str], wallet_server: tuple[str, Any]
) -> Iterator[LegacyStack]:
    """The admin edge in front of the loopback recon_service, built once per run: Redis and the
    wallet double are the ones recon_service itself uses (``base_settings``)."""
    from admin_compat.app import EdgeSettings, create_app, deps
    from admin_compat.recon_client import ReconClient, ReconConfig
    from admin_compat.wallet_client import WalletClient, WalletConfig
    from infra.doubles.wallet import DEFAULT_TOKEN
    from testkit import SERVICE_TOKEN

    redis_url = stores[1]
    config = EdgeSettings(
        recon_url=recon_on_loopback,
        recon_token=SecretStr(SERVICE_TOKEN),
        redis_url=redis_url,
        validate_responses=True,
    )
    # A breaker that a fuzzing burst cannot open (the routes' 5003 would then be noise).
    recon = ReconClient(ReconConfig(recon_on_loopback, SERVICE_TOKEN, breaker_fail_max=1000))
    wallet = WalletClient(
        WalletConfig(wallet_server[0], DEFAULT_TOKEN, read_s=1.0, attempts=2, retry_budget_s=3.0)
    )
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    app = create_app(config, recon=recon, redis_client=client)
    yield LegacyStack(app=app, deps=deps(), wallet=wallet, redis=client, max_body_bytes=config.max_body_bytes)
    recon.close()
    wallet.close()
    client.close()


@pytest.fixture
def legacy_edge(
    legacy_stack: LegacyStack, clean_stores: tuple[str, str], wallet: Any
) -> Iterator[LegacyStack]:
    """The admin edge behind the legacy schema's app proxy, over freshly emptied stores; state then
    accumulates across the examples of one test function. The process-wide handles the handlers
    use (``admin_compat.app.deps``, the wallet client) are pointed at this edge again, in case a
    test built another edge in between."""
    from admin_compat.app import set_deps
    from admin_compat.wallet_client import set_wallet

    set_deps(legacy_stack.deps)
    set_wallet(legacy_stack.wallet)
    EDGE.target = legacy_stack.app
    yield legacy_stack
    EDGE.target = None
    set_wallet(None)


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
    if LEGACY_OUTCOMES:
        answers = ", ".join(
            f"{operation} HTTP {status} code {code}: {count}"
            for (operation, status, code), count in sorted(LEGACY_OUTCOMES.items())
        )
        terminalreporter.write_line(f"legacy admin answers: {answers}")
    if LEGACY_REFRESHES:
        seen = ", ".join(f"{kind}: {count}" for kind, count in sorted(LEGACY_REFRESHES.items()))
        terminalreporter.write_line(f"legacy admin X-Refresh-Token checks: {seen}")
