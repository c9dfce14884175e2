"""A real, freshly flushed Redis database for each admin_compat test."""

from __future__ import annotations

from collections.abc import Iterator

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
