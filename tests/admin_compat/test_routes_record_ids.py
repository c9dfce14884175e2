"""Record ids beyond recon's id range (PostgreSQL bigint) on the legacy routes: the legacy spec
puts no maximum on ids, so such an id is a record that does not exist (1002), not an invalid
parameter (found by contract_tests/test_legacy_admin.py)."""

from __future__ import annotations

from typing import Any

import pytest
from edge import NOT_FOUND

HUGE = 2**63  # one past the largest bigint

ROUTES = [
    ("/pushbullet/device/delete", {"id": HUGE}),
    ("/shooter/template/delete", {"id": HUGE}),
    ("/shooter/whitelist/delete", {"id": HUGE}),
    ("/shooter/sms/get", {"id": HUGE}),
    ("/shooter/sms/reset", {"id": HUGE}),
    ("/shooter/sms/check", {"id": HUGE, "check_status": 2}),
    ("/shooter/device/trust", {"id": HUGE, "trusted": 1}),
    ("/shooter/device/delete", {"id": HUGE}),
    ("/recharge/approve", {"sms_id": HUGE, "order_id": "R1"}),
]


@pytest.mark.parametrize(("route", "body"), ROUTES, ids=[route for route, _ in ROUTES])
def test_an_id_beyond_recons_range_is_record_not_found(edge: Any, route: str, body: dict[str, Any]) -> None:
    """The id names no record: 1002 at HTTP 200, as for any other unknown id."""
    token = edge.login(("recon:view", "recon:edit", "recon:check", "recharge:approve"))
    assert edge.call(route, body, token=token) == NOT_FOUND


def test_the_permission_is_still_checked_before_the_id(edge: Any) -> None:
    """A viewer deleting with such an id is refused (403), not told the record is missing."""
    answer = edge.post("/shooter/whitelist/delete", {"id": HUGE}, token=edge.login(("recon:view",)))
    assert answer.status_code == 403 and answer.json()["code"] == 403
