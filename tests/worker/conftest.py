"""Worker fixtures: contexts on the real test stores, with short leases and a free health port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
import trio

from recon_impl.settings import Settings
from recon_worker.context import WorkerContext
from recon_worker.runtime import build_context, close_context

LEASE_S = 1.5


@pytest.fixture
def worker_settings(settings: Settings) -> Settings:
    """Settings for a worker under test: health on a free port, quick publishing and leases."""
    return settings.model_copy(
        update={
            "worker_health_port": 0,
            "worker_health_publish_s": 0.2,
            "worker_lease_s": LEASE_S,
            "worker_grace_s": 5.0,
            "worker_hard_limit_factor": 100.0,
            "db_pool_size": 4,
        }
    )


@pytest.fixture
def make_ctx(worker_settings: Settings) -> Iterator[Callable[[str], WorkerContext]]:
    """Build worker contexts (one per simulated replica); all closed after the test."""
    made: list[WorkerContext] = []

    def make(worker_id: str) -> WorkerContext:
        ctx = build_context(worker_settings.model_copy(update={"worker_id": worker_id}))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        close_context(ctx)


async def _wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0, poll_s: float = 0.02) -> None:
    """Poll until ``predicate()`` holds; fail after ``timeout_s`` (a deadline, not a speed claim)."""
    with trio.fail_after(timeout_s):
        while not predicate():
            await trio.sleep(poll_s)


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    """``await wait_until(predicate, timeout_s=10)``: poll until it holds, fail after the deadline."""
    return _wait_until
