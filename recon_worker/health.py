"""Health is freshness: each owned loop must have beaten within its budget.

The same figures go out three ways: ``GET /health`` served inside the worker's trio run (200
healthy, 503 stale), a Redis hash per worker with a TTL (``summarise`` reads the fleet for
recon_service), and ``python -m recon_worker.health [--url URL]`` for container healthchecks
(exit 0 healthy, 1 stale or unreachable).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import redis
import trio

from recon_impl.services.worker_health import HEALTH_KEY_PREFIX, summarise
from recon_impl.settings import Settings
from recon_worker.context import Beat, WorkerContext

__all__ = ["HEALTH_KEY_PREFIX", "Freshness", "LoopFreshness", "publish_health", "serve_health", "summarise"]

log = logging.getLogger("recon.worker.health")
_MAX_REQUEST = 8192


@dataclass(frozen=True, slots=True)
class LoopFreshness:
    name: str
    age_s: float | None  # since the last beat; None if it never beat
    budget_s: float
    fresh: bool
    silent_s: float  # since the last beat, or since the loop was taken on when it never beat

    def as_dict(self) -> dict[str, Any]:
        age = None if self.age_s is None else round(self.age_s, 3)
        return {"name": self.name, "age_s": age, "budget_s": self.budget_s, "fresh": self.fresh}


class Freshness:
    """The loops this worker owns (with their beats) and the leased ones it waits for."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._owned: dict[str, tuple[Beat, float]] = {}
        self._standby: set[str] = set()

    def own(self, beat: Beat) -> None:
        """Start judging ``beat`` from now: a loop that never beats is stale after its budget."""
        self._owned[beat.name] = (beat, trio.current_time())
        self._standby.discard(beat.name)

    def beat_of(self, name: str) -> Beat:
        return self._owned[name][0]

    def stand_by(self, name: str) -> None:
        """A leased loop that another replica runs: not judged here."""
        self._owned.pop(name, None)
        self._standby.add(name)

    def loops(self) -> list[LoopFreshness]:
        now = trio.current_time()
        out = []
        for beat, since in self._owned.values():
            age = beat.age(now)
            silent = now - since if age is None else age
            out.append(LoopFreshness(beat.name, age, beat.budget_s, silent <= beat.budget_s, silent))
        return sorted(out, key=lambda loop: loop.name)

    def report(self) -> dict[str, Any]:
        loops = self.loops()
        return {
            "worker_id": self.worker_id,
            "healthy": all(loop.fresh for loop in loops),
            "loops": [loop.as_dict() for loop in loops],
            "standby": sorted(self._standby),
        }


# -- HTTP --------------------------------------------------------------------------------------


async def serve_health(
    freshness: Freshness,
    host: str,
    port: int,
    *,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``GET /health`` until cancelled; reports the URL (``port`` 0 picks a free one)."""
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, partial(_answer, freshness), port, host=host))
        bound = listeners[0].socket.getsockname()[1]
        task_status.started(f"http://{host}:{bound}/health")


async def _answer(freshness: Freshness, stream: trio.SocketStream) -> None:
    with trio.move_on_after(5):
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = await stream.receive_some(4096)
            if not chunk or len(request) > _MAX_REQUEST:
                return
            request += chunk
        method, _, rest = request.partition(b" ")
        path = rest.split(b" ", 1)[0].split(b"?", 1)[0]
        if method == b"GET" and path == b"/health":
            report = freshness.report()
            status = "200 OK" if report["healthy"] else "503 Service Unavailable"
            body = json.dumps(report).encode()
        else:
            status, body = "404 Not Found", b'{"error": "not found"}'
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        await stream.send_all(head.encode() + body)


# -- Redis -------------------------------------------------------------------------------------


def write_health(rds: redis.Redis, report: dict[str, Any], ttl_s: int) -> None:
    """Replace this worker's health hash in one transaction and let it expire after ``ttl_s``."""
    key = HEALTH_KEY_PREFIX + report["worker_id"]
    fields = {
        "worker_id": report["worker_id"],
        "healthy": "1" if report["healthy"] else "0",
        "published_at": f"{time.time():.3f}",
        "loops": json.dumps(report["loops"]),
        "standby": json.dumps(report["standby"]),
    }
    with rds.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, ttl_s)
        pipe.execute()


async def publish_health(ctx: WorkerContext, freshness: Freshness, every_s: float) -> None:
    """Publish the report every ``every_s`` until cancelled, then remove it."""
    ttl_s = max(1, math.ceil(3 * every_s))
    try:
        while True:
            try:
                await ctx.redis_call(partial(write_health, report=freshness.report(), ttl_s=ttl_s))
            except (redis.RedisError, OSError) as exc:
                log.warning("health not published to Redis: %s", type(exc).__name__)
            await trio.sleep(every_s)
    finally:
        with trio.CancelScope(shield=True):
            try:
                await ctx.redis_call(lambda rds: rds.delete(HEALTH_KEY_PREFIX + ctx.worker_id))
            except (redis.RedisError, OSError) as exc:
                log.warning("health hash not removed: %s", type(exc).__name__)


# -- CLI ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    default_url = f"http://{settings.worker_health_host}:{settings.worker_health_port}/health"
    parser = argparse.ArgumentParser(prog="python -m recon_worker.health", description=__doc__)
    parser.add_argument("--url", default=default_url, help=f"the worker's health URL (default {default_url})")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the worker")
    args = parser.parse_args(argv)
    try:
        response = httpx.get(args.url, timeout=args.timeout)
        report = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        print(f"worker unreachable at {args.url}: {type(exc).__name__}", file=sys.stderr)
        return 1
    for loop in report.get("loops", []):
        age = "never" if loop["age_s"] is None else f"{loop['age_s']:.1f}s"
        state = "fresh" if loop["fresh"] else "STALE"
        print(f"{loop['name']:<28} age {age:>9}  budget {loop['budget_s']:g}s  {state}")
    for name in report.get("standby", []):
        print(f"{name:<28} standby (leased by another worker)")
    healthy = response.status_code == 200 and bool(report.get("healthy"))
    print(f"worker {report.get('worker_id')}: {'healthy' if healthy else 'STALE'}")
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
