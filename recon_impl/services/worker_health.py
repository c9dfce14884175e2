"""The worker fleet's freshness as recon_service sees it: the health hashes workers publish.

Each ``recon_worker`` process replaces ``recon:worker:health:<worker id>`` (a Redis hash with a
TTL of three publishing periods) with its loops' freshness; a worker that stops or dies simply
drops out. Written by ``recon_worker.health``, read here, so neither package imports the other.
"""

from __future__ import annotations

import json
from typing import Any, cast

import redis

__all__ = ["HEALTH_KEY_PREFIX", "summarise"]

HEALTH_KEY_PREFIX = "recon:worker:health:"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def summarise(rds: redis.Redis) -> dict[str, Any]:
    """The fleet's worker health from Redis; not healthy when no worker has published."""
    workers = []
    for key in rds.scan_iter(match=HEALTH_KEY_PREFIX + "*", count=100):
        raw = cast("dict[Any, Any]", rds.hgetall(key))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        if not fields:  # expired between SCAN and HGETALL
            continue
        workers.append(
            {
                "worker_id": fields.get("worker_id", _text(key).removeprefix(HEALTH_KEY_PREFIX)),
                "healthy": fields.get("healthy") == "1",
                "published_at": float(fields.get("published_at", "0")),
                "loops": json.loads(fields.get("loops", "[]")),
                "standby": json.loads(fields.get("standby", "[]")),
            }
        )
    workers.sort(key=lambda worker: worker["worker_id"])
    stale = [f"{w['worker_id']}/{loop['name']}" for w in workers for loop in w["loops"] if not loop["fresh"]]
    return {
        "healthy": bool(workers) and all(w["healthy"] for w in workers),
        "workers": workers,
        "stale_loops": stale,
    }
