"""What every loop is given: settings, the stores behind a thread limiter, and its freshness beat.

trio cannot drive psycopg's or redis-py's async modes, so a loop reaches PostgreSQL and Redis
through the sync clients in worker threads: ``await ctx.db(fn)`` runs ``fn(session)`` in one
transaction on a thread, ``await ctx.redis_call(fn)`` runs ``fn(redis)``. The limiter is never
larger than the connection pool, so no thread waits on the pool instead of on the limiter, and
every statement carries the engine's statement timeout, so a cancelled loop is never held for long.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import trio
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from recon_impl.settings import Settings
from recon_impl.storage.db import transaction
from recon_worker.orders import OrderFeed

T = TypeVar("T")


@dataclass
class Beat:
    """A loop's freshness: ``beat()`` after every finished iteration (a listener: on every frame)."""

    name: str
    budget_s: float
    last: float | None = None  # trio.current_time() of the last beat; None before the first

    def beat(self) -> None:
        self.last = trio.current_time()

    def age(self, now: float) -> float | None:
        return None if self.last is None else now - self.last


@dataclass
class WorkerContext:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis
    worker_id: str
    limiter: trio.CapacityLimiter
    # Set by the outbox relay's waker and by ingest: "new work may be there" for event-driven loops.
    wakeups: dict[str, trio.Event] = field(default_factory=dict)
    # The wallet's pending orders as this process knows them (order_matching keeps it current).
    orders: OrderFeed = field(default_factory=OrderFeed)

    async def db(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in one committed transaction on a worker thread."""

        def run() -> T:
            with transaction(self.sessions) as session:
                return fn(session)

        return await trio.to_thread.run_sync(run, limiter=self.limiter)

    async def redis_call(self, fn: Callable[[Redis], T]) -> T:
        return await trio.to_thread.run_sync(fn, self.redis, limiter=self.limiter)

    def wake(self, topic: str) -> None:
        """Tell the loops waiting on ``topic`` that there may be new work."""
        event = self.wakeups.pop(topic, None)
        if event is not None:
            event.set()

    async def wait_for(self, topic: str, timeout_s: float) -> bool:
        """Sleep until ``wake(topic)`` or ``timeout_s`` (polling is the fallback); True if woken."""
        event = self.wakeups.setdefault(topic, trio.Event())
        with trio.move_on_after(timeout_s):
            await event.wait()
            return True
        return False


LoopFn = Callable[[WorkerContext, Beat], Awaitable[None]]
"""A loop runs until cancelled, calling ``beat.beat()`` after every iteration; an exception
makes the supervisor restart it after a capped, jittered backoff."""
