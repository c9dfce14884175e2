"""shooter/sms/list|get|reset|check through the edge onto a real recon_service."""

from __future__ import annotations

import json
from typing import Any

from edge import NOT_FOUND, Edge, ok, order_id

SMS_FIELDS = {
    "id",
    "source",
    "device_id",
    "sender",
    "content",
    "received_at",
    "amount",
    "balance",
    "card_tail",
    "payer_name",
    "ref",
    "bank_time",
    "template_id",
    "status",
    "order_id",
    "check_status",
    "check_admin",
    "check_at",
    "remark",
    "created_at",
}


def test_sms_list_shows_every_field_with_amounts_as_two_decimal_strings(edge: Edge, stored_sms: Any) -> None:
    """Sms objects carry exactly the contract's fields; absent values are null, never omitted."""
    (sms_id,) = stored_sms("TK +1,500,000VND", amount="1500000", status=2)
    listed = edge.call("/shooter/sms/list", {})
    (sms,) = listed["data"]["list"]
    assert listed == ok({"list": [sms], "total": 1, "page": 1, "page_size": 20})
    assert set(sms) == SMS_FIELDS
    assert (sms["id"], sms["source"], sms["sender"], sms["amount"], sms["status"]) == (
        sms_id,
        "shooter",
        "VCB",
        "1500000.00",
        2,
    )
    assert (sms["balance"], sms["order_id"], sms["check_status"], sms["check_admin"]) == (None, None, 0, None)
    assert isinstance(sms["received_at"], int) and isinstance(sms["device_id"], str)


def test_sms_list_filters_by_status_amount_and_keyword(edge: Edge, stored_sms: Any) -> None:
    """amount compares numerically ("500" = "500.00"); keyword matches inside content."""
    (a,) = stored_sms("Nguyen Van A chuyen tien", amount="500", status=2)
    (b,) = stored_sms("Tran Thi B nap tien", amount="750.50", status=6)

    def ids(**filters: Any) -> list[int]:
        return [s["id"] for s in edge.call("/shooter/sms/list", filters)["data"]["list"]]

    assert ids() == [b, a]
    assert ids(status=6) == [b]
    assert ids(amount="500.00") == [a]
    assert ids(amount="750.5") == [b]
    assert ids(keyword="thi b") == [b]
    assert ids(source="telegram") == []
    assert edge.call("/shooter/sms/list", {"amount": "1.234"})["code"] == 1001
    assert edge.call("/shooter/sms/list", {"status": 7})["code"] == 1001


def test_sms_get_answers_the_detail_with_reason_and_candidates(edge: Edge, stored_sms: Any, db: Any) -> None:
    """SmsDetail = Sms + reason + candidates [{order_id, amount, created_at, score}]."""
    (sms_id,) = stored_sms("TK +2,000,000VND", amount="2000000", status=2)
    candidates = [{"order_id": "R9", "amount": "2000000.00", "created_at": 1796267400, "score": 0.5}]
    db.execute(
        "UPDATE sms SET reason='ambiguous', candidates=%s WHERE id=%s", (json.dumps(candidates), sms_id)
    )
    detail = edge.call("/shooter/sms/get", {"id": sms_id})
    assert detail["code"] == 0
    data = detail["data"]
    assert set(data) == SMS_FIELDS | {"reason", "candidates"}
    assert (data["id"], data["amount"], data["reason"]) == (sms_id, "2000000.00", "ambiguous")
    assert data["candidates"] == candidates


def test_sms_get_of_an_unknown_id_is_1002(edge: Edge) -> None:
    """Internal 404 -> 1002."""
    assert edge.call("/shooter/sms/get", {"id": 424242}) == NOT_FOUND


def test_sms_reset_sends_the_sms_back_to_status_0_and_audits_the_actor(
    edge: Edge, stored_sms: Any, db: Any
) -> None:
    """reset clears the review fields; the audit row names the session's username."""
    (sms_id,) = stored_sms("text", amount="100", status=2)
    db.execute("UPDATE sms SET check_status=2, check_admin='bob', check_at=now() WHERE id=%s", (sms_id,))
    token = edge.login(username="dave")
    assert edge.call("/shooter/sms/reset", {"id": sms_id}, token=token) == ok(None)
    row = db.execute(
        "SELECT status, check_status, check_admin, order_id FROM sms WHERE id=%s", (sms_id,)
    ).fetchone()
    assert row == (0, 0, None, None)
    actors = [r[0] for r in db.execute("SELECT actor FROM audit_log WHERE entity_id=%s", (str(sms_id),))]
    assert "dave" in actors


def test_sms_reset_of_an_approved_sms_is_1004_and_unknown_is_1002(edge: Edge, stored_sms: Any) -> None:
    """Status 3 does not allow a reset."""
    (sms_id,) = stored_sms("text", amount="100", status=3, order="R-approved")
    answer = edge.call("/shooter/sms/reset", {"id": sms_id})
    assert answer["code"] == 1004 and answer["data"] is None
    assert answer["msg"].startswith("state does not allow this action")
    assert edge.call("/shooter/sms/reset", {"id": 424242}) == NOT_FOUND


def test_sms_check_confirm_records_the_review_and_moves_no_money(
    edge: Edge, stored_sms: Any, wallet: Any, db: Any
) -> None:
    """Confirm stores check_status 1, the reviewer and the order; the wallet approves nothing."""
    oid = order_id()
    wallet.add_order(oid, "1500000.00")
    (sms_id,) = stored_sms("text", amount="1500000", status=2)
    approvals = len(wallet.approvals)
    token = edge.login(("recon:check",), username="erin")
    body = {"id": sms_id, "check_status": 1, "order_id": oid, "remark": "ok"}
    assert edge.call("/shooter/sms/check", body, token=token) == ok(None)
    row = db.execute(
        "SELECT status, check_status, check_admin, order_id, remark FROM sms WHERE id=%s", (sms_id,)
    ).fetchone()
    assert row == (1, 1, "erin", oid, "ok")
    assert len(wallet.approvals) == approvals


def test_sms_check_reject_moves_the_sms_to_status_4(edge: Edge, stored_sms: Any, db: Any) -> None:
    """check_status 2 rejects."""
    (sms_id,) = stored_sms("text", amount="100", status=6)
    assert edge.call("/shooter/sms/check", {"id": sms_id, "check_status": 2}) == ok(None)
    assert db.execute("SELECT status, check_status FROM sms WHERE id=%s", (sms_id,)).fetchone() == (4, 2)


def test_sms_check_errors_1001_1002_1004(edge: Edge, stored_sms: Any, wallet: Any) -> None:
    """No order at all is 1001, an unknown SMS 1002, an approved SMS or a wrong amount 1004."""
    (bare,) = stored_sms("text", amount="100", status=2)
    assert edge.call("/shooter/sms/check", {"id": bare, "check_status": 1})["code"] == 1001
    assert edge.call("/shooter/sms/check", {"id": bare, "check_status": 3})["code"] == 1001
    assert edge.call("/shooter/sms/check", {"id": 424242, "check_status": 2}) == NOT_FOUND
    (approved,) = stored_sms("text", amount="100", status=3, order="R-x")
    assert edge.call("/shooter/sms/check", {"id": approved, "check_status": 2})["code"] == 1004
    oid = order_id()
    wallet.add_order(oid, "999.00")
    answer = edge.call("/shooter/sms/check", {"id": bare, "check_status": 1, "order_id": oid})
    assert answer["code"] == 1004 and answer["data"] is None


def test_sms_check_is_5003_when_the_wallet_is_down(edge: Edge, stored_sms: Any, wallet: Any, db: Any) -> None:
    """recon's 503 (the wallet did not answer) is code 5003 and the SMS keeps its review state."""
    oid = order_id()
    wallet.add_order(oid, "100.00")
    (sms_id,) = stored_sms("a", amount="100", status=2)
    wallet.fail_next(5, status=503)
    answer = edge.call("/shooter/sms/check", {"id": sms_id, "check_status": 1, "order_id": oid})
    assert answer["code"] == 5003 and answer["data"] is None
    assert db.execute("SELECT status, check_status FROM sms WHERE id=%s", (sms_id,)).fetchone() == (2, 0)
