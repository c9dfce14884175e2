"""Template add validates with the compiled engine and reports collisions; backtest is a dry run."""

from __future__ import annotations

import time

BASE = "/internal/recon/v1"
VCB = "TK {card} +{amount}VND luc {time}. SD {balance}VND"
VCB_SAMPLE = "TK xxxx3456 +1,500,000VND luc 03-12-2026 10:15:00. SD 9,500,000VND"


def add(client, headers, **fields):
    body = {"bank_code": "VCB", "sender": "VCB", "type": 1, "decimal_sep": ".", **fields}
    return client.post(f"{BASE}/templates", json=body, headers=headers)


def test_a_sample_that_does_not_parse_is_refused_naming_the_part_that_failed(client, admin_headers, db):
    answer = add(client, admin_headers, content=VCB, sample="TK xxxx3456 +abcVND luc 03-12-2026 10:15:00. SD 1VND")
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "{amount}" in detail and "abc" in detail and "column" in detail
    assert db.execute("SELECT count(*) FROM templates").fetchone()[0] == 0


def test_a_bad_time_format_is_refused_when_the_template_is_added(client, admin_headers):
    answer = add(client, admin_headers, content="+{amount} at {time}", time_format="%Q nonsense")
    assert answer.status_code == 400 and answer.json()["detail"]


def test_a_template_whose_sample_parses_is_stored_with_an_empty_collision_report(client, admin_headers):
    answer = add(client, admin_headers, content=VCB, sample=VCB_SAMPLE)
    assert answer.status_code == 201, answer.text
    assert answer.json()["collisions"] == {"on_new_sample": [], "on_existing_samples": []}
    assert answer.json()["sample"] == VCB_SAMPLE


def test_overlapping_templates_of_one_sender_are_reported_with_the_winner(client, admin_headers):
    generic = add(client, admin_headers, content="TK {*} +{amount}VND {*}", sample=VCB_SAMPLE).json()
    specific = add(client, admin_headers, content=VCB, sample=VCB_SAMPLE).json()
    clashes = specific["collisions"]["on_new_sample"]
    assert clashes == [{"sample_of": specific["id"], "other": generic["id"], "winner": specific["id"]}]
    assert specific["collisions"]["on_existing_samples"] == [
        {"sample_of": generic["id"], "other": specific["id"], "winner": specific["id"]}
    ]


def test_backtest_shows_what_a_template_would_extract_and_stores_nothing(client, admin_headers, enrolled, device_post, db):
    device_id, secret = enrolled()
    now = int(time.time())
    texts = [VCB_SAMPLE, "TK xxxx9999 +200,000VND luc 04-12-2026 08:00:00. SD 9,700,000VND", "hello"]
    device_post("/api/shooter/sms/report", device_id, secret,
                {"messages": [{"seq": n, "sender": "vcb", "content": t, "received_at": now} for n, t in enumerate(texts, 1)]})
    audit_before = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    answer = client.post(f"{BASE}/templates/backtest", headers=admin_headers,
                         json={"sender": "VCB", "content": VCB, "type": 1, "limit": 10})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["checked"], report["parsed"]) == (3, 2)
    newest_first = [r["parsed"] for r in report["results"]]
    assert newest_first[0] is None
    assert newest_first[1]["amount"] == "200000.00" and newest_first[1]["card_tail"] == "9999"
    assert newest_first[2]["amount"] == "1500000.00" and newest_first[2]["balance"] == "9500000.00"
    assert db.execute("SELECT count(*) FROM templates").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == audit_before
