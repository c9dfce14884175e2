"""A real, freshly flushed Redis database for each admin_compat test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis


@pytest.fixture
def redis_url(stores: tuple[str, str]) -> str:
    """The test Redis database of the root ``stores`` fixture, emptied."""
    url = stores[1]
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        yield client


# --------------------------------------------------------------------------- the admin edge
# (fixtures for the test_routes_* files; helpers in edge.py beside this file)


@pytest.fixture(scope="session")
def recon_url(shared_app: Any) -> Iterator[str]:
    """A real recon_service on loopback (the root conftest's app), its internal API base."""
    from infra.doubles.serving import serve_in_thread

    url, stop = serve_in_thread(shared_app)
    yield url + "/internal/recon/v1"
    stop()


@pytest.fixture
def edge(recon_url: str, app: Any, redis_client: redis.Redis) -> Any:
    """The edge app in front of recon over emptied stores, with an editor's token."""
    from edge import build_edge

    return build_edge(recon_url, redis_client)


@pytest.fixture
def stored_sms(enrolled: Any, device_post: Any, db: Any) -> Any:
    """Store SMS through recon's real device route, then set their parsed fields directly;
    returns ``store(*contents, amount=, status=, order=) -> [sms ids]``."""
    import time

    device_id, secret = enrolled()

    def store(
        *contents: str, amount: str | None = None, status: int | None = None, order: str | None = None
    ) -> list[int]:
        start = db.execute("SELECT coalesce(max(seq), 0) FROM sms").fetchone()[0]
        messages = [
            {"seq": start + n + 1, "sender": "VCB", "content": text, "received_at": int(time.time())}
            for n, text in enumerate(contents)
        ]
        device_post("/api/shooter/sms/report", device_id, secret, {"messages": messages})
        ids = [row[0] for row in db.execute("SELECT id FROM sms WHERE seq > %s ORDER BY id", (start,))]
        if amount is not None or status is not None:
            db.execute(
                "UPDATE sms SET amount = coalesce(%s, amount), status = coalesce(%s, status),"
                " order_id = %s WHERE id = ANY(%s)",
                (amount, status, order, ids),
            )
        return ids

    return store
