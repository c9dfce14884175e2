"""Every admin route asks for the permission its spec names in x-permission (legacy contract,
section 2): without it HTTP 403 code 403, before recon is asked anything and before the body
is validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from edge import EXPOSE, REFRESH, Edge, err

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi" / "legacy-admin.yaml").read_text())
OPERATIONS = [
    (path, method, op["x-permission"])
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if isinstance(op, dict) and "x-permission" in op
]
POSTS = [(path, perm) for path, method, perm in OPERATIONS if method == "post"]
# a valid body per route, so that the answer is about the permission, not the input
BODIES: dict[str, dict[str, Any]] = {
    "/pushbullet/device/add": {"nickname": "n", "phone": "1", "access_token": "o.token-token"},
    "/shooter/template/add": {"bank_code": "VCB", "sender": "VCB", "content": "+{amount}", "type": 1},
    "/shooter/whitelist/add": {"phone": "VCB"},
    "/shooter/sms/check": {"id": 1, "check_status": 2},
    "/shooter/device/trust": {"id": 1, "trusted": 1},
    "/recharge/approve": {"id": 1},
}


def send(edge: Edge, path: str, method: str, token: str) -> Any:
    if method == "get":
        return edge.get(path, token=token)
    body = BODIES.get(path, {} if path.endswith("/list") else {"id": 1})
    return edge.post(path, body, token=token)


@pytest.mark.parametrize(("path", "method", "perm"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_a_session_without_the_routes_permission_is_403(
    edge: Edge, path: str, method: str, perm: str
) -> None:
    """Holding every other permission is not enough."""
    others = tuple(p for p in ("recon:view", "recon:edit", "recon:check", "recharge:approve") if p != perm)
    token = edge.login(others)
    answer = send(edge, path, method, token)
    if answer.status_code == 200 and answer.json()["code"] == 1001:
        pytest.fail(f"{path}: body validation answered before the permission check: {answer.text}")
    assert answer.status_code == 403
    assert answer.json() == err(403, "permission denied")


@pytest.mark.parametrize(("path", "method", "perm"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_the_super_admin_passes_every_route_without_perms(
    edge: Edge, path: str, method: str, perm: str
) -> None:
    """role_id 1 holds every permission."""
    token = edge.login((), role_id=1)
    answer = send(edge, path, method, token)
    assert answer.status_code == 200


def others_than(perm: str) -> tuple[str, ...]:
    return tuple(p for p in ("recon:view", "recon:edit", "recon:check", "recharge:approve") if p != perm)


@pytest.mark.parametrize(("path", "perm"), POSTS, ids=[p for p, _ in POSTS])
def test_an_invalid_body_from_a_session_without_the_permission_is_403_not_1001(
    edge: Edge, path: str, perm: str
) -> None:
    """The permission is checked before the body: malformed JSON and an unknown field both 403."""
    token = edge.login(others_than(perm))
    for content in (b'{"no_such_field": 1}', b"{not json"):
        answer = edge.post(path, token=token, content=content)
        assert answer.status_code == 403, (path, content, answer.text)
        assert answer.json() == err(403, "permission denied")


def test_a_403_still_carries_the_refresh_header_when_one_is_due(edge: Edge) -> None:
    """A refused request passed authentication, so a due refresh rides on it (contract, section 2)."""
    token = edge.login(("recon:view",), left=600)
    answer = edge.post("/shooter/whitelist/add", {"phone": "VCB"}, token=token)
    assert answer.status_code == 403
    fresh = answer.headers[REFRESH]
    assert len(fresh) == 32 and fresh != token
    assert answer.headers[EXPOSE] == REFRESH
    assert edge.post("/shooter/whitelist/list", {}, token=fresh).json()["code"] == 0
