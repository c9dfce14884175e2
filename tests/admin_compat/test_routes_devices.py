"""shooter/device/list (POST body and GET query string), trust and delete through the edge
onto a real recon_service."""

from __future__ import annotations

from typing import Any

from edge import NOT_FOUND, Edge, ok

DEVICE_FIELDS = {
    "id",
    "device_id",
    "name",
    "phone",
    "trusted",
    "online",
    "last_seen_at",
    "app_version",
    "created_at",
}


def test_device_list_shows_the_enrolled_phone_untrusted(edge: Edge, enrolled: Any) -> None:
    """ShooterDevice carries exactly the contract's fields; a new phone is untrusted and offline."""
    device_id, _secret = enrolled()
    listed = edge.call("/shooter/device/list", {})
    (device,) = listed["data"]["list"]
    assert listed == ok({"list": [device], "total": 1, "page": 1, "page_size": 20})
    assert set(device) == DEVICE_FIELDS
    assert (device["device_id"], device["trusted"], device["online"], device["last_seen_at"]) == (
        device_id,
        0,
        0,
        None,
    )


def test_the_get_form_answers_the_same_as_the_post_form_and_ignores_unknown_params(
    edge: Edge, enrolled: Any
) -> None:
    """GET ?page=1&page_size=20&trusted=0&_t=... equals POST {page, page_size, trusted}."""
    enrolled()
    enrolled()
    posted = edge.post("/shooter/device/list", {"page": 1, "page_size": 20, "trusted": 0})
    got = edge.get(
        "/shooter/device/list", params={"page": 1, "page_size": 20, "trusted": 0, "_t": "1733200000"}
    )
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json()
    assert got.json()["data"]["total"] == 2
    assert edge.get("/shooter/device/list").json() == edge.post("/shooter/device/list").json()


def test_the_get_form_refuses_bad_values_with_1001(edge: Edge) -> None:
    """page_size 101 or a non-integer trusted in the query string is 1001 at HTTP 200."""
    for params in ({"page_size": 101}, {"trusted": "yes"}, {"page": 0}):
        answer = edge.get("/shooter/device/list", params=params)
        assert answer.status_code == 200
        assert answer.json()["code"] == 1001 and answer.json()["data"] is None


def test_trust_sets_the_flag_and_the_trusted_filter_sees_it(edge: Edge, enrolled: Any, db: Any) -> None:
    """trust answers data null; the GET form with trusted=1 then lists the phone; the actor is audited."""
    enrolled()
    (device,) = edge.call("/shooter/device/list")["data"]["list"]
    token = edge.login(username="frank")
    assert edge.call("/shooter/device/trust", {"id": device["id"], "trusted": 1}, token=token) == ok(None)
    trusted = edge.get("/shooter/device/list", params={"trusted": 1}).json()["data"]["list"]
    assert [(d["id"], d["trusted"]) for d in trusted] == [(device["id"], 1)]
    actors = [
        r[0] for r in db.execute("SELECT actor FROM audit_log WHERE entity_id=%s", (str(device["id"]),))
    ]
    assert "frank" in actors


def test_trust_refuses_a_bad_flag_and_an_unknown_id(edge: Edge) -> None:
    """trusted must be 0/1 (1001); an unknown id is 1002."""
    assert edge.call("/shooter/device/trust", {"id": 1, "trusted": 2})["code"] == 1001
    assert edge.call("/shooter/device/trust", {"id": 424242, "trusted": 1}) == NOT_FOUND


def test_delete_hides_the_phone_and_again_is_1002(edge: Edge, enrolled: Any) -> None:
    """delete answers data null; the phone leaves the list; deleting it again is 1002."""
    enrolled()
    (device,) = edge.call("/shooter/device/list")["data"]["list"]
    assert edge.call("/shooter/device/delete", {"id": device["id"]}) == ok(None)
    assert edge.call("/shooter/device/list")["data"]["total"] == 0
    assert edge.call("/shooter/device/delete", {"id": device["id"]}) == NOT_FOUND
