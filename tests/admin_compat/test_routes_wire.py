"""The wire conventions every admin route shares (legacy contract, sections 1-2): the envelope
for every kind of invalid input, routing errors, CORS, auth, header refresh, dependencies
down, real faults, and the audit trail reaching recon."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path
from typing import Any

import pytest
import redis
from edge import ADMIN, EXPOSE, REFRESH, UNAVAILABLE, Edge, build_edge, err, ok

import admin_compat
from admin_compat.app import EdgeSettings, create_app
from admin_compat.recon_client import ReconClient, ReconConfig


def assert_invalid(answer: Any) -> None:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == 1001 and body["data"] is None and set(body) == {"code", "msg", "data"}
    assert body["msg"].startswith("invalid parameter")


# --------------------------------------------------------------------------- invalid input


def test_malformed_json_is_1001(edge: Edge) -> None:
    """A body that is not JSON is HTTP 200 code 1001, never a 4xx/5xx."""
    assert_invalid(edge.post("/shooter/whitelist/add", content=b'{"phone": "VCB"'))


def test_a_non_utf8_body_is_1001(edge: Edge) -> None:
    """Bytes that are not UTF-8 are 1001 (Connexion alone would answer 500)."""
    assert_invalid(edge.post("/shooter/whitelist/add", content=b'{"phone": "\xff\xfe"}'))


def test_a_lone_surrogate_escape_is_1001(edge: Edge) -> None:
    """Valid JSON that no UTF-8 text can carry on to recon is 1001, not a 5000."""
    assert_invalid(edge.post("/shooter/whitelist/add", content=b'{"phone": "\\ud800"}'))


def test_a_body_without_content_type_is_still_validated_as_json(edge: Edge) -> None:
    """The old server read every body as JSON: unknown fields are refused, good bodies work."""
    headers = {"X-Token": edge.token}
    bad = edge.http.post(ADMIN + "/shooter/sms/list", content=b'{"stauts": 1}', headers=headers)
    assert_invalid(bad)
    good = edge.http.post(ADMIN + "/shooter/sms/list", content=b'{"page": 1}', headers=headers)
    assert good.json()["code"] == 0


def test_an_oversized_body_is_1001(edge: Edge) -> None:
    """A body over the edge's size cap is refused before it is parsed."""
    answer = edge.post("/shooter/whitelist/add", {"phone": "V" * 70000})
    assert answer.status_code == 200
    assert answer.json() == err(1001, "request body exceeds 65536 bytes")


def test_recons_validation_detail_becomes_a_one_line_message(edge: Edge) -> None:
    """A filter recon refuses is 1001 with the first line of its reason, no schema dump."""
    answer = edge.post("/shooter/sms/list", {"keyword": "k" * 101})
    assert_invalid(answer)
    assert "\n" not in answer.json()["msg"] and "Failed validating" not in answer.json()["msg"]


def test_an_unknown_body_field_is_1001(edge: Edge) -> None:
    """Unknown fields are rejected, on lists and on mutations."""
    assert_invalid(edge.post("/shooter/whitelist/add", {"phone": "VCB", "phnoe": "x"}))
    assert_invalid(edge.post("/shooter/sms/list", {"page": 1, "stauts": 1}))


@pytest.mark.parametrize("paging", [{"page_size": 101}, {"page_size": 0}, {"page": 0}, {"page": "1"}])
def test_out_of_range_or_mistyped_pagination_is_1001(edge: Edge, paging: dict[str, Any]) -> None:
    """page >= 1 and page_size 1..100, integers only."""
    assert_invalid(edge.post("/shooter/template/list", paging))


def test_a_missing_or_empty_body_means_an_empty_object(edge: Edge) -> None:
    """A list without a body answers the first page of 20."""
    expected = ok({"list": [], "total": 0, "page": 1, "page_size": 20})
    assert edge.post("/pushbullet/device/list").json() == expected
    assert edge.post("/pushbullet/device/list", content=b"").json() == expected


def test_a_null_optional_field_counts_as_absent(edge: Edge) -> None:
    """{"status": null} lists everything."""
    assert edge.call("/shooter/sms/list", {"status": None, "keyword": None})["code"] == 0


# --------------------------------------------------------------------------- routing, CORS


def test_an_unknown_route_is_404_with_the_envelope(edge: Edge) -> None:
    """HTTP 404, code 1001, and the expose header."""
    answer = edge.post("/no/such/route", {})
    assert answer.status_code == 404
    assert answer.json() == err(1001, "route not found")
    assert answer.headers[EXPOSE] == REFRESH


def test_a_wrong_method_is_405_with_the_envelope_and_allow(edge: Edge) -> None:
    """GET on a POST-only route: HTTP 405, code 1001, Allow names POST."""
    answer = edge.get("/shooter/whitelist/list")
    assert answer.status_code == 405
    assert answer.json() == err(1001, "method not allowed")
    assert "POST" in answer.headers["Allow"]


def test_no_api_explorer_is_served_under_the_admin_base(edge: Edge) -> None:
    """The old server had none: the Swagger UI and the spec are unknown routes here."""
    for path in ("/ui/", "/openapi.json"):
        answer = edge.get(path)
        assert answer.status_code == 404
        assert answer.json() == err(1001, "route not found")


def test_answers_are_compact_json(edge: Edge) -> None:
    """Whitespace is free (contract, section 1); indented JSON costs the slow encoder."""
    answer = edge.post("/shooter/sms/list", {"page": 1})
    assert answer.json()["code"] == 0
    assert b"\n " not in answer.content
    assert answer.content.startswith(b'{"code":')


def test_flask_runs_behind_the_buffered_bridge_with_a_thread_per_recon_slot(
    redis_client: redis.Redis,
) -> None:
    """One thread hop per request (admin_compat.wsgi_bridge), 16 threads: both recon lanes full
    (8 calls each) still leave none of them waiting for a thread."""
    from admin_compat.wsgi_bridge import BufferedWSGI

    recon = ReconClient(ReconConfig("http://127.0.0.1:9/internal/recon/v1", "token"))
    edge_app = create_app(EdgeSettings(), recon=recon, redis_client=redis_client)
    bridge = edge_app._middleware_app.asgi_app
    assert isinstance(bridge, BufferedWSGI)
    assert bridge.executor._max_workers == 2 * recon.config.pool_size
    recon.close()


def test_a_cors_preflight_is_204_naming_the_admin_headers(edge: Edge) -> None:
    """OPTIONS answers 204 before authentication, allowing X-Token, Authorization, Content-Type."""
    answer = edge.http.options(
        ADMIN + "/shooter/sms/list",
        headers={"Origin": "https://bo.example", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status_code == 204
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"x-token", "authorization", "content-type"} <= allowed
    assert answer.headers[EXPOSE] == REFRESH


def test_an_answer_to_a_cross_origin_call_names_the_origin(edge: Edge) -> None:
    """The browser may read the answer: Access-Control-Allow-Origin echoes the Origin."""
    answer = edge.post("/shooter/sms/list", {}, headers={"Origin": "https://bo.example"})
    assert answer.json()["code"] == 0
    assert answer.headers["Access-Control-Allow-Origin"] == "https://bo.example"
    assert answer.headers[EXPOSE] == REFRESH


# --------------------------------------------------------------------------- auth and refresh


def test_no_token_is_401_and_a_bad_one_too(edge: Edge) -> None:
    """401 with code 401 and no refresh header."""
    answer = edge.http.post(ADMIN + "/shooter/sms/list", json={})
    assert (answer.status_code, answer.json()) == (401, err(401, "token missing"))
    answer = edge.post("/shooter/sms/list", {}, token="0" * 32)
    assert (answer.status_code, answer.json()) == (401, err(401, "token invalid or expired"))
    assert REFRESH not in answer.headers


def test_a_bearer_token_is_accepted(edge: Edge) -> None:
    """Authorization: Bearer works without X-Token."""
    answer = edge.http.post(
        ADMIN + "/shooter/sms/list", json={}, headers={"Authorization": f"Bearer {edge.token}"}
    )
    assert answer.json()["code"] == 0


def test_a_business_error_still_carries_the_refresh_header(edge: Edge) -> None:
    """A session near expiry gets X-Refresh-Token on a 1002 and on a 1001 alike."""
    token = edge.login(left=600)
    answer = edge.post("/shooter/sms/get", {"id": 999999}, token=token)
    assert answer.json() == err(1002, "record not found")
    new_token = answer.headers[REFRESH]
    assert len(new_token) == 32 and new_token != token
    again = edge.post("/shooter/sms/get", {"id": "x"}, token=token)
    assert again.json()["code"] == 1001
    assert again.headers[REFRESH] == new_token  # one refresh per old token
    assert again.headers[EXPOSE] == REFRESH
    assert edge.post("/shooter/sms/list", {}, token=new_token).json()["code"] == 0


def test_a_session_with_time_to_spare_gets_no_refresh_header(edge: Edge) -> None:
    """Expose header always, X-Refresh-Token only when due."""
    answer = edge.post("/shooter/sms/list", {})
    assert answer.headers[EXPOSE] == REFRESH
    assert REFRESH not in answer.headers


# --------------------------------------------------------------------------- dependencies, faults


def test_recon_stopped_is_5003_at_http_200(settings: Any, redis_client: redis.Redis) -> None:
    """While recon answers the route works; once recon is stopped it is code 5003."""
    from infra.doubles.serving import serve_in_thread
    from recon_impl.http.app import create_app as create_recon

    url, stop = serve_in_thread(create_recon(settings))
    try:
        edge = build_edge(url + "/internal/recon/v1", redis_client)
        assert edge.call("/shooter/whitelist/list")["code"] == 0
    finally:
        stop()
    assert edge.call("/shooter/whitelist/list") == UNAVAILABLE
    assert edge.call("/shooter/whitelist/add", {"phone": "VCB"}) == UNAVAILABLE


def test_a_real_fault_is_5000_at_http_500_without_a_stack_trace(
    recon_url: str, app: Any, redis_client: redis.Redis
) -> None:
    """recon refusing the edge's own service token is our fault: 5000, no traceback."""
    recon = ReconClient(ReconConfig(recon_url, "wrong-service-token"))
    edge_app = create_app(
        EdgeSettings(recon_url=recon_url, validate_responses=True), recon=recon, redis_client=redis_client
    )
    edge = Edge(
        http=edge_app.test_client(raise_server_exceptions=False), redis=redis_client, recon_url=recon_url
    )
    edge.token = edge.login()
    answer = edge.post("/shooter/whitelist/list", {})
    assert answer.status_code == 500
    assert answer.json() == err(5000, "internal error")
    assert "Traceback" not in answer.text


# --------------------------------------------------------------------------- audit trail


def test_the_actor_and_request_id_reach_recons_audit_log(edge: Edge, db: Any) -> None:
    """The session's username is x_actor and the caller's X-Request-Id is recorded with it."""
    token = edge.login(username="carol")
    answer = edge.post(
        "/shooter/whitelist/add", {"phone": "TCB"}, token=token, headers={"X-Request-Id": "edge-req-7"}
    )
    entry_id = answer.json()["data"]["id"]
    row = db.execute(
        "SELECT actor, request_id, entity FROM audit_log WHERE entity_id = %s", (str(entry_id),)
    ).fetchone()
    assert row == ("carol", "edge-req-7", "whitelist")


@pytest.mark.parametrize("sent", [None, "no spaces allowed", "x" * 65])
def test_a_request_id_is_generated_when_the_caller_sends_none_or_an_unsafe_one(
    edge: Edge, db: Any, sent: str | None
) -> None:
    """Without a usable X-Request-Id the audit row still gets one (32 hex) from the edge."""
    headers = {} if sent is None else {"X-Request-Id": sent}
    assert edge.call("/shooter/whitelist/add", {"phone": "MBB"}, headers=headers)["code"] == 0
    (request_id,) = db.execute("SELECT request_id FROM audit_log").fetchone()
    assert isinstance(request_id, str) and len(request_id) == 32 and request_id != sent


# --------------------------------------------------------------------------- boundaries


def test_admin_compat_never_imports_recon_impl_or_recon_worker() -> None:
    """Every module of the package (recon_api included) imports neither service package."""
    root = Path(admin_compat.__file__).resolve().parent
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in {"recon_impl", "recon_worker"}]
    assert [
        m.name for m in pkgutil.walk_packages([str(root)], "admin_compat.") if m.name.endswith("recon_api")
    ]
    assert offenders == []
