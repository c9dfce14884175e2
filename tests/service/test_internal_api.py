"""The internal API on real PostgreSQL: resources, errors as problem+json, audit and outbox."""

from __future__ import annotations

import json
import time
import uuid

import pytest

BASE = "/internal/recon/v1"
REPORT = "/api/shooter/sms/report"


def order_id() -> str:
    return f"R{uuid.uuid4().hex[:12]}"


def test_health_needs_no_token_and_reports_both_stores(client):
    answer = client.get(f"{BASE}/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "worker": {"status": "absent", "workers": 0, "stale_loops": []},
    }


def test_health_summarises_the_freshness_the_workers_publish_without_failing_readiness(client, settings):
    """A stale loop in one worker shows as worker status stale with its name; recon stays ready."""
    import redis

    from recon_worker.health import write_health

    rds = redis.Redis.from_url(settings.redis_url)
    fresh = {"name": "order_matching", "age_s": 1.0, "budget_s": 60.0, "fresh": True}
    write_health(rds, {"worker_id": "w1", "healthy": True, "loops": [fresh], "standby": []}, ttl_s=30)
    assert client.get(f"{BASE}/health").json()["worker"] == {"status": "ok", "workers": 1, "stale_loops": []}
    stale = {**fresh, "name": "telegram_ingest", "age_s": 400.0, "fresh": False}
    write_health(rds, {"worker_id": "w2", "healthy": False, "loops": [fresh, stale], "standby": []}, ttl_s=30)
    answer = client.get(f"{BASE}/health")
    assert answer.status_code == 200
    assert answer.json()["worker"] == {"status": "stale", "workers": 2, "stale_loops": ["w2/telegram_ingest"]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
def test_every_other_operation_needs_the_service_token(client, headers):
    answer = client.get(f"{BASE}/sms", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_whitelist_is_stored_normalized_and_a_duplicate_is_a_409_duplicate_problem(client, admin_headers, db):
    created = client.post(
        f"{BASE}/whitelist", json={"phone": "+84 90-123", "remark": "x"}, headers=admin_headers
    )
    assert created.status_code == 201 and created.json()["phone"] == "8490123"
    again = client.post(f"{BASE}/whitelist", json={"phone": "8490123"}, headers=admin_headers)
    assert again.status_code == 409 and again.json()["type"] == "/problems/duplicate"
    listed = client.get(f"{BASE}/whitelist", params={"phone": "+84 90 123"}, headers=admin_headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == created.json()["id"]
    actor, action, request_id = db.execute("SELECT actor, action, request_id FROM audit_log").fetchone()
    assert (actor, action, request_id) == ("alice", "whitelist.add", admin_headers["X-Request-Id"])


def test_deletes_are_soft_hidden_from_lists_and_gets_but_kept_in_the_table(client, admin_headers, db):
    entry = client.post(f"{BASE}/whitelist", json={"phone": "VCB"}, headers=admin_headers).json()
    assert client.delete(f"{BASE}/whitelist/{entry['id']}", headers=admin_headers).status_code == 204
    assert client.get(f"{BASE}/whitelist/{entry['id']}", headers=admin_headers).status_code == 404
    assert client.get(f"{BASE}/whitelist", headers=admin_headers).json()["total"] == 0
    assert db.execute("SELECT deleted_at IS NOT NULL FROM whitelist").fetchone() == (True,)
    # a deleted sender may be whitelisted again
    assert client.post(f"{BASE}/whitelist", json={"phone": "vcb"}, headers=admin_headers).status_code == 201


def test_pushbullet_token_is_encrypted_masked_and_never_returned(client, admin_headers, db, caplog):
    token = "o.AbCdEfGhIjKlMnOpQrStUv9xYz"
    created = client.post(
        f"{BASE}/pushbullet-accounts",
        headers=admin_headers,
        json={"nickname": "VCB", "phone": "+84 90", "access_token": token},
    )
    assert created.status_code == 201
    assert created.json()["token_mask"] == "o.Ab****9xYz"
    listed = client.get(f"{BASE}/pushbullet-accounts", headers=admin_headers)
    for text in (created.text, listed.text):
        assert token not in text
    stored = db.execute("SELECT token_ciphertext FROM pushbullet_accounts").fetchone()[0]
    assert token.encode() not in bytes(stored)
    assert not any(token in record.getMessage() for record in caplog.records)
    audit = db.execute("SELECT after::text FROM audit_log").fetchone()[0]
    assert token not in audit


def test_the_same_token_and_device_pair_twice_is_a_duplicate(client, admin_headers):
    body = {"nickname": "a", "phone": "1", "access_token": "o.token-1", "device_iden": "dev1"}
    assert client.post(f"{BASE}/pushbullet-accounts", json=body, headers=admin_headers).status_code == 201
    assert client.post(f"{BASE}/pushbullet-accounts", json=body, headers=admin_headers).status_code == 409
    other = {**body, "device_iden": "dev2"}
    assert client.post(f"{BASE}/pushbullet-accounts", json=other, headers=admin_headers).status_code == 201


def test_an_idempotency_key_replays_the_first_create_and_refuses_another_body(client, admin_headers, db):
    headers = {**admin_headers, "Idempotency-Key": "k-1"}
    body = {"bank_code": "VCB", "sender": "VCB", "content": "+{amount}VND", "type": 1}
    first = client.post(f"{BASE}/templates", json=body, headers=headers)
    second = client.post(f"{BASE}/templates", json=body, headers=headers)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert db.execute("SELECT count(*) FROM templates").fetchone()[0] == 1
    changed = client.post(f"{BASE}/templates", json={**body, "type": 2}, headers=headers)
    assert changed.status_code == 422 and changed.json()["type"] == "/problems/idempotency-conflict"


@pytest.mark.parametrize(
    ("content", "tz", "message"),
    [
        ("no amount here", None, "{amount}"),
        ("{amount} {bogus}", None, "{bogus}"),
        ("{amount} {amount}", None, "repeats"),
        ("+{amount}", "Mars/Olympus", "IANA"),
    ],
)
def test_template_add_refuses_bad_content_with_a_clear_message(client, admin_headers, content, tz, message):
    body = {"bank_code": "VCB", "sender": "VCB", "content": content, "type": 1, "tz": tz}
    answer = client.post(f"{BASE}/templates", json=body, headers=admin_headers)
    assert answer.status_code == 400 and message in answer.json()["detail"]


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (json.dumps({"phone": 5}).encode(), "application/json"),
        (json.dumps({"phone": "1", "unknown": 1}).encode(), "application/json"),
        (b"", "application/json"),
        (b'{"phone": "\\ud800"}', "application/json"),
        (b'{"phone": "1", "remark": "a\\u0000b"}', "application/json"),
    ],
)
def test_client_mistakes_are_400_problems_never_500(client, admin_headers, raw, content_type):
    answer = client.post(
        f"{BASE}/whitelist", content=raw, headers={**admin_headers, "Content-Type": content_type}
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"]


def test_an_oversized_body_is_a_413_problem(client, admin_headers, settings):
    big = json.dumps({"phone": "1", "remark": "x" * (settings.max_body_bytes + 1)})
    answer = client.post(
        f"{BASE}/whitelist", content=big, headers={**admin_headers, "Content-Type": "application/json"}
    )
    assert answer.status_code == 413 and "exceeds" in answer.json()["detail"]


def test_unknown_ids_are_404_problems(client, admin_headers):
    for path in ("sms/999", "templates/999", "whitelist/999", "pushbullet-accounts/999", "devices/999"):
        answer = client.get(f"{BASE}/{path}", headers=admin_headers)
        assert answer.status_code == 404 and answer.json()["type"] == "/problems/not-found", path


def test_mutations_without_an_actor_are_refused(client, admin_headers):
    headers = {k: v for k, v in admin_headers.items() if k != "X-Actor"}
    assert client.post(f"{BASE}/whitelist", json={"phone": "1"}, headers=headers).status_code == 400


def test_swagger_ui_is_served_for_both_specs(client):
    assert client.get(f"{BASE}/ui/").status_code == 200
    assert client.get("/api/shooter/ui/").status_code == 200
    assert client.get(f"{BASE}/openapi.json").json()["info"]["title"] == "recon_service internal API"


# --- SMS ---------------------------------------------------------------------------------------


@pytest.fixture
def stored_sms(enrolled, device_post, db):
    """Store SMS through the device route; returns a function that sets their parsed fields."""
    device_id, secret = enrolled()

    def store(*contents, amount=None, status=None, order=None, received_at=None):
        start = db.execute("SELECT coalesce(max(seq), 0) FROM sms").fetchone()[0]
        messages = [
            {
                "seq": start + n + 1,
                "sender": "VCB",
                "content": text,
                "received_at": received_at or int(time.time()),
            }
            for n, text in enumerate(contents)
        ]
        device_post(REPORT, device_id, secret, {"messages": messages})
        ids = [row[0] for row in db.execute("SELECT id FROM sms WHERE seq > %s ORDER BY id", (start,))]
        if amount is not None or status is not None:
            db.execute(
                "UPDATE sms SET amount = coalesce(%s, amount), status = coalesce(%s, status),"
                " order_id = %s WHERE id = ANY(%s)",
                (amount, status, order, ids),
            )
        return ids

    return store


def test_sms_list_applies_every_legacy_filter(client, admin_headers, stored_sms, db):
    old = int(time.time()) - 86400 * 3
    (a,) = stored_sms("Nguyen Van A chuyen +1,500,000", amount="1500000", status=2, received_at=old)
    (b,) = stored_sms("100% sure 50_000 +500", amount="500", status=6)
    (c,) = stored_sms("plain text", status=5)
    db.execute("UPDATE sms SET payer_name = 'TRAN THI B' WHERE id = %s", (c,))

    def ids(**params):
        answer = client.get(f"{BASE}/sms", params=params, headers=admin_headers)
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert ids() == [c, b, a]  # newest first
    assert ids(status=2) == [a]
    assert ids(source="shooter") == [c, b, a] and ids(source="telegram") == []
    assert ids(start_time=old, end_time=old) == [a]  # bounds are inclusive
    assert ids(start_time=old + 1) == [c, b]
    assert ids(keyword="nguyen van") == [a]
    assert ids(keyword="vcb") == [c, b, a]  # sender
    assert ids(keyword="tran thi") == [c]  # payer_name
    assert ids(keyword="100%") == [b] and ids(keyword="50_0") == [b]  # LIKE wildcards are literal
    assert ids(amount="500.00") == [b] and ids(amount="500") == [b] and ids(amount="1500000.0") == [a]
    assert ids(status=2, amount="500") == []


def test_sms_list_pages_carry_the_exact_total(client, admin_headers, stored_sms):
    stored_sms(*[f"sms {n}" for n in range(25)])
    page = client.get(f"{BASE}/sms", params={"page": 2, "page_size": 10}, headers=admin_headers).json()
    assert (page["total"], page["page"], page["page_size"], len(page["items"])) == (25, 2, 10, 10)
    last = client.get(f"{BASE}/sms", params={"page": 3, "page_size": 10}, headers=admin_headers).json()
    assert len(last["items"]) == 5 and last["total"] == 25
    beyond = client.get(f"{BASE}/sms", params={"page": 9, "page_size": 10}, headers=admin_headers).json()
    assert beyond["items"] == [] and beyond["total"] == 25


def test_sms_get_returns_amount_strings_reason_candidates_and_approval(client, admin_headers, stored_sms, db):
    (sms_id,) = stored_sms("text", amount="75.5", status=2)
    db.execute(
        "UPDATE sms SET reason='ambiguous', candidates=%s WHERE id=%s",
        (json.dumps([{"order_id": "R1", "amount": "75.50", "created_at": 1, "score": 0.5}]), sms_id),
    )
    detail = client.get(f"{BASE}/sms/{sms_id}", headers=admin_headers).json()
    assert detail["amount"] == "75.50" and detail["balance"] is None
    assert detail["reason"] == "ambiguous" and detail["candidates"][0]["order_id"] == "R1"
    assert detail["approval"] is None


def test_reset_clears_review_fields_audits_the_old_values_and_announces(
    client, admin_headers, stored_sms, db
):
    (sms_id,) = stored_sms("text", amount="10", status=4, order="R-old")
    db.execute(
        "UPDATE sms SET check_status=2, check_admin='bob', check_at=now(), reason='x' WHERE id=%s", (sms_id,)
    )
    answer = client.post(f"{BASE}/sms/{sms_id}/reset", headers=admin_headers)
    assert answer.status_code == 200
    body = answer.json()
    assert (
        body["status"],
        body["check_status"],
        body["order_id"],
        body["check_admin"],
        body["check_at"],
    ) == (0, 0, None, None, None)
    before = db.execute("SELECT before FROM audit_log WHERE action='sms.reset'").fetchone()[0]
    assert before["order_id"] == "R-old" and before["check_admin"] == "bob" and before["reason"] == "x"
    assert db.execute("SELECT count(*) FROM outbox WHERE payload->>'reason'='sms_reset'").fetchone()[0] == 1


def test_confirm_checks_the_wallet_records_the_review_and_moves_no_money(
    client, admin_headers, stored_sms, wallet, db
):
    oid = order_id()
    wallet.add_order(oid, "1500000.00")
    (sms_id,) = stored_sms("text", amount="1500000", status=2)
    approvals_before = len(wallet.approvals)
    answer = client.post(
        f"{BASE}/sms/{sms_id}/review",
        headers=admin_headers,
        json={"check_status": 1, "order_id": oid, "remark": "ok"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["check_status"], body["order_id"], body["check_admin"], body["remark"]) == (
        1,
        1,
        oid,
        "alice",
        "ok",
    )
    assert len(wallet.approvals) == approvals_before  # review only
    assert db.execute("SELECT count(*) FROM outbox WHERE payload->>'reason'='sms_check'").fetchone()[0] == 1


def test_confirm_uses_the_matched_order_when_the_body_has_none(client, admin_headers, stored_sms, wallet):
    oid = order_id()
    wallet.add_order(oid, "200.00")
    (sms_id,) = stored_sms("text", amount="200", status=1, order=oid)
    answer = client.post(f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 1})
    assert answer.status_code == 200 and answer.json()["order_id"] == oid


def test_confirm_without_any_order_is_invalid(client, admin_headers, stored_sms):
    (sms_id,) = stored_sms("text", amount="200", status=2)
    answer = client.post(f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 1})
    assert answer.status_code == 400 and "order_id" in answer.json()["detail"]


def test_confirm_refuses_a_closed_order_another_amount_or_an_order_already_held(
    client, admin_headers, stored_sms, wallet
):
    closed, other_amount, held = order_id(), order_id(), order_id()
    wallet.add_order(closed, "100.00")
    wallet.cancel(closed)
    wallet.add_order(other_amount, "999.00")
    wallet.add_order(held, "100.00")
    holder, sms_id = stored_sms("a", "b", amount="100", status=2)
    assert (
        client.post(
            f"{BASE}/sms/{holder}/review", headers=admin_headers, json={"check_status": 1, "order_id": held}
        ).status_code
        == 200
    )
    for oid in (closed, other_amount, held, "no-such-order"):
        answer = client.post(
            f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 1, "order_id": oid}
        )
        assert answer.status_code == 409 and answer.json()["type"] == "/problems/state-conflict", oid


def test_confirm_answers_503_when_the_wallet_is_down(client, admin_headers, stored_sms, wallet):
    oid = order_id()
    wallet.add_order(oid, "100.00")
    (sms_id,) = stored_sms("a", amount="100", status=2)
    wallet.fail_next(5, status=503)
    answer = client.post(
        f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 1, "order_id": oid}
    )
    assert answer.status_code == 503 and answer.json()["type"] == "/problems/dependency-unavailable"


def test_reject_moves_the_sms_to_status_4(client, admin_headers, stored_sms):
    (sms_id,) = stored_sms("a", status=6)
    answer = client.post(f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 2})
    assert answer.status_code == 200 and (answer.json()["status"], answer.json()["check_status"]) == (4, 2)


@pytest.mark.parametrize("status", [0, 3, 4, 5])
def test_review_from_a_status_the_contract_does_not_allow_is_a_state_conflict(
    client, admin_headers, stored_sms, status
):
    (sms_id,) = stored_sms("a", amount="1", status=status, order="R-x" if status == 3 else None)
    answer = client.post(f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 2})
    assert answer.status_code == 409


def _confirmed(client, admin_headers, stored_sms, wallet, amount="100.00"):
    oid = order_id()
    wallet.add_order(oid, amount)
    (sms_id,) = stored_sms("a", amount=amount, status=2)
    assert (
        client.post(
            f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 1, "order_id": oid}
        ).status_code
        == 200
    )
    return sms_id, oid


def test_approval_steps_record_in_flight_then_approved_and_repeat_answers_the_same(
    client, admin_headers, stored_sms, wallet, db
):
    sms_id, oid = _confirmed(client, admin_headers, stored_sms, wallet)
    start = client.post(f"{BASE}/sms/{sms_id}/approval", headers=admin_headers, json={"order_id": oid})
    assert start.status_code == 200
    assert start.json()["state"] == "in_flight" and start.json()["idempotency_key"] == f"sms-{sms_id}"
    assert (
        client.post(f"{BASE}/sms/{sms_id}/approval", headers=admin_headers, json={"order_id": oid}).json()
        == start.json()
    )
    # while in flight, review and reset are refused
    assert client.post(f"{BASE}/sms/{sms_id}/reset", headers=admin_headers).status_code == 409
    assert (
        client.post(
            f"{BASE}/sms/{sms_id}/review", headers=admin_headers, json={"check_status": 2}
        ).status_code
        == 409
    )
    done = client.post(
        f"{BASE}/sms/{sms_id}/approval/finish",
        headers=admin_headers,
        json={"order_id": oid, "outcome": "approved"},
    )
    assert done.status_code == 200 and done.json()["state"] == "approved"
    again = client.post(f"{BASE}/sms/{sms_id}/approval", headers=admin_headers, json={"order_id": oid})
    assert again.json()["state"] == "approved"
    assert client.get(f"{BASE}/sms/{sms_id}", headers=admin_headers).json()["status"] == 3
    assert client.post(f"{BASE}/sms/{sms_id}/reset", headers=admin_headers).status_code == 409
    actions = [
        row[0]
        for row in db.execute(
            "SELECT action FROM audit_log WHERE entity='sms' AND action LIKE 'sms.appro%' ORDER BY id"
        )
    ]
    assert actions == ["sms.approval_start", "sms.approve"]


def test_approval_needs_a_confirmation_for_that_same_order(client, admin_headers, stored_sms, wallet):
    sms_id, _ = _confirmed(client, admin_headers, stored_sms, wallet)
    answer = client.post(f"{BASE}/sms/{sms_id}/approval", headers=admin_headers, json={"order_id": "other"})
    assert answer.status_code == 409
    (unconfirmed,) = stored_sms("b", amount="5", status=1, order="R-5")
    assert (
        client.post(
            f"{BASE}/sms/{unconfirmed}/approval", headers=admin_headers, json={"order_id": "R-5"}
        ).status_code
        == 409
    )


def test_a_refused_approval_clears_the_in_flight_record(client, admin_headers, stored_sms, wallet):
    sms_id, oid = _confirmed(client, admin_headers, stored_sms, wallet)
    client.post(f"{BASE}/sms/{sms_id}/approval", headers=admin_headers, json={"order_id": oid})
    refused = client.post(
        f"{BASE}/sms/{sms_id}/approval/finish",
        headers=admin_headers,
        json={"order_id": oid, "outcome": "refused"},
    )
    assert refused.json()["state"] == "refused"
    detail = client.get(f"{BASE}/sms/{sms_id}", headers=admin_headers).json()
    assert detail["approval"] is None and (detail["status"], detail["check_status"]) == (1, 1)


def test_one_order_is_held_by_at_most_one_sms_even_when_the_database_is_written_directly(stored_sms, db):
    import psycopg

    a, b = stored_sms("a", "b", amount="1", status=2)
    db.execute("UPDATE sms SET status=1, order_id='R-1' WHERE id=%s", (a,))
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute("UPDATE sms SET status=3, order_id='R-1' WHERE id=%s", (b,))
    db.execute("UPDATE sms SET status=4, order_id='R-1' WHERE id=%s", (b,))  # a rejected one may keep it


# --- devices and stats -------------------------------------------------------------------------


def test_trusting_a_device_releases_its_held_sms_as_pre_trust_and_announces(
    client, admin_headers, enrolled, device_post, db
):
    device_id, secret = enrolled()
    device_post(
        REPORT,
        device_id,
        secret,
        {"messages": [{"seq": 1, "sender": "VCB", "content": "x", "received_at": int(time.time())}]},
    )
    pk = db.execute("SELECT id FROM shooter_devices WHERE device_id=%s", (device_id,)).fetchone()[0]
    listed = client.get(f"{BASE}/devices", params={"trusted": 0}, headers=admin_headers).json()
    assert [d["id"] for d in listed["items"]] == [pk]
    answer = client.put(f"{BASE}/devices/{pk}/trust", json={"trusted": 1}, headers=admin_headers)
    assert answer.status_code == 200 and answer.json()["trusted"] == 1
    assert db.execute("SELECT held, pre_trust FROM sms").fetchone() == (False, True)
    assert (
        db.execute("SELECT count(*) FROM outbox WHERE payload->>'reason'='device_trusted'").fetchone()[0] == 1
    )
    device_post(
        REPORT,
        device_id,
        secret,
        {"messages": [{"seq": 2, "sender": "VCB", "content": "y", "received_at": int(time.time())}]},
    )
    assert db.execute("SELECT held, pre_trust FROM sms WHERE seq=2").fetchone() == (False, False)


def test_a_deleted_device_can_no_longer_sign_and_may_enrol_again(
    client, admin_headers, enrolled, device_post, db
):
    device_id, secret = enrolled()
    pk = db.execute("SELECT id FROM shooter_devices WHERE device_id=%s", (device_id,)).fetchone()[0]
    assert client.delete(f"{BASE}/devices/{pk}", headers=admin_headers).status_code == 204
    beat = {"app_version": "1", "last_seq": 0}
    assert device_post("/api/shooter/device/heartbeat", device_id, secret, beat).status_code == 401
    new_id, new_secret = enrolled(device_id)
    assert new_id == device_id and new_secret != secret


def test_a_device_is_online_after_a_heartbeat(client, admin_headers, enrolled, device_post, db):
    device_id, secret = enrolled()
    pk = db.execute("SELECT id FROM shooter_devices WHERE device_id=%s", (device_id,)).fetchone()[0]
    assert client.get(f"{BASE}/devices/{pk}", headers=admin_headers).json()["online"] == 0
    device_post("/api/shooter/device/heartbeat", device_id, secret, {"app_version": "1", "last_seq": 0})
    assert client.get(f"{BASE}/devices/{pk}", headers=admin_headers).json()["online"] == 1


def test_stats_count_sms_in_need_check(client, admin_headers, stored_sms):
    stored_sms("a", "b", "c", status=2)
    stored_sms("d", status=5)
    stats = client.get(f"{BASE}/stats", headers=admin_headers).json()
    assert stats["sms_need_check_cnt"] == 3
    assert stats["sms_by_status"]["5"] == 1 and stats["sms_by_status"]["0"] == 0


def test_a_refused_token_is_neither_echoed_nor_logged(client, admin_headers, caplog):
    caplog.set_level("DEBUG")
    token = "o.refused-" + "s" * 600
    answer = client.post(f"{BASE}/pushbullet-accounts", headers=admin_headers,
                         json={"nickname": "a", "phone": "1", "access_token": token, "device_iden": 5})
    assert answer.status_code == 400
    too_long = client.post(f"{BASE}/pushbullet-accounts", headers=admin_headers,
                           json={"nickname": "a", "phone": "1", "access_token": token})
    assert too_long.status_code == 400 and "longer than" in too_long.json()["detail"]
    assert token not in answer.text + too_long.text
    assert not any(token in r.getMessage() for r in caplog.records if r.levelno > 10)


def test_the_callers_request_id_is_echoed_and_recorded_with_the_audit_row(client, admin_headers, db):
    answer = client.post(f"{BASE}/whitelist", json={"phone": "ACB"}, headers={**admin_headers, "X-Request-Id": "edge-42"})
    assert answer.headers["X-Request-Id"] == "edge-42"
    assert db.execute("SELECT request_id FROM audit_log").fetchone() == ("edge-42",)
    generated = client.get(f"{BASE}/health").headers["X-Request-Id"]
    assert len(generated) == 32
    unsafe = client.get(f"{BASE}/health", headers={"X-Request-Id": "bad id\nwith newline"}).headers["X-Request-Id"]
    assert unsafe != "bad id\nwith newline" and len(unsafe) == 32


def test_log_lines_are_json_with_the_request_id():
    import json
    import logging

    from recon_impl.logs import JsonFormatter, request_id_var

    token = request_id_var.set("req-7")
    try:
        record = logging.LogRecord("recon", logging.INFO, __file__, 1, "stored %s sms", (3,), None)
        from recon_impl.logs import RequestIdFilter

        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "stored 3 sms" and line["request_id"] == "req-7" and line["level"] == "INFO"
