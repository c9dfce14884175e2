"""/stats and /health"""

from __future__ import annotations

from sqlalchemy import text

from recon_impl.http.deps import Reply, deps, ok, unit_of_work
from recon_impl.services import sms, worker_health


def get_stats() -> Reply:
    with unit_of_work() as session:
        counts = sms.status_counts(session)
    return ok(
        {
            "sms_need_check_cnt": counts.get(sms.NEED_CHECK, 0),
            "sms_by_status": {str(status): counts.get(status, 0) for status in range(7)},
        }
    )


def health() -> Reply:
    checks = {"database": _probe_database(), "redis": _probe_redis()}
    healthy = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if healthy else "down", **checks, "worker": _worker_freshness()}
    return ok(body, 200 if healthy else 503)


def _worker_freshness() -> dict[str, object]:
    try:
        fleet = worker_health.summarise(deps().redis)
    except Exception:
        return {"status": "unknown", "workers": 0, "stale_loops": []}
    status = "ok" if fleet["healthy"] else "stale"
    if not fleet["workers"]:
        status = "absent"
    return {"status": status, "workers": len(fleet["workers"]), "stale_loops": fleet["stale_loops"]}


def _probe_database() -> str:
    try:
        with unit_of_work() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        return "down"
    return "ok"


def _probe_redis() -> str:
    try:
        deps().redis.ping()
    except Exception:
        return "down"
    return "ok"
