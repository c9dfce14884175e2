"""/stats and /health"""

from __future__ import annotations

from sqlalchemy import text

from recon_impl.http.deps import Reply, deps, ok, unit_of_work
from recon_impl.services import sms


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
    return ok({"status": "ok" if healthy else "down", **checks}, 200 if healthy else 503)


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
