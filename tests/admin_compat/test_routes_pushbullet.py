"""pushbullet/device/list|add|delete through the edge onto a real recon_service."""

from __future__ import annotations

import logging

import pytest
from edge import DUPLICATE, NOT_FOUND, Edge, ok

TOKEN = "o.AbCdEf1234567890GhIjKl9xYz"


def test_pushbullet_add_answers_the_id_and_the_list_shows_only_the_token_mask(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    """The token is never in a response or a log line; token_mask is first 4 + **** + last 4."""
    caplog.set_level(logging.DEBUG)
    added = edge.post(
        "/pushbullet/device/add", {"nickname": "Shop VCB 01", "phone": "0912345678", "access_token": TOKEN}
    )
    assert TOKEN not in added.text
    account_id = added.json()["data"]["id"]
    assert added.json() == ok({"id": account_id})
    listed = edge.post("/pushbullet/device/list", {"page": 1, "page_size": 20})
    assert TOKEN not in listed.text
    (device,) = listed.json()["data"]["list"]
    assert device["token_mask"] == "o.Ab****9xYz"
    assert {
        k: device[k]
        for k in ("id", "nickname", "device_iden", "status", "online", "last_sms_at", "last_sync_at")
    } == {
        "id": account_id,
        "nickname": "Shop VCB 01",
        "device_iden": None,
        "status": 1,
        "online": 0,
        "last_sms_at": None,
        "last_sync_at": None,
    }
    assert isinstance(device["created_at"], int) and isinstance(device["phone"], str)
    assert set(device) == {
        "id",
        "nickname",
        "phone",
        "device_iden",
        "token_mask",
        "status",
        "online",
        "last_sms_at",
        "last_sync_at",
        "created_at",
    }
    assert TOKEN not in caplog.text


def test_the_same_token_and_device_iden_twice_is_1003(edge: Edge) -> None:
    """The pair (access_token, device_iden) is unique."""
    body = {"nickname": "a", "phone": "1", "access_token": TOKEN, "device_iden": "ujpah72o0sjAoRtnM0jc"}
    assert edge.call("/pushbullet/device/add", body)["code"] == 0
    assert edge.call("/pushbullet/device/add", {**body, "nickname": "b"}) == DUPLICATE


def test_an_empty_access_token_is_1001_without_echoing_values(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    """access_token must be non-empty; a mistyped token is refused without being echoed or logged."""
    caplog.set_level(logging.DEBUG)
    empty = edge.call("/pushbullet/device/add", {"nickname": "a", "phone": "1", "access_token": ""})
    assert empty["code"] == 1001 and empty["data"] is None
    typed = edge.post("/pushbullet/device/add", {"nickname": "a", "phone": "1", "access_token": 987654321})
    assert typed.json()["code"] == 1001 and "987654321" not in typed.text
    assert "987654321" not in caplog.text


def test_pushbullet_list_filters_by_status(edge: Edge) -> None:
    """status 1 lists the enabled accounts, status 0 none of the new ones."""
    edge.call("/pushbullet/device/add", {"nickname": "a", "phone": "1", "access_token": TOKEN})
    assert edge.call("/pushbullet/device/list", {"status": 1})["data"]["total"] == 1
    assert edge.call("/pushbullet/device/list", {"status": 0})["data"]["total"] == 0
    assert edge.call("/pushbullet/device/list", {"status": 2})["code"] == 1001


def test_pushbullet_delete_hides_the_account_and_an_unknown_id_is_1002(edge: Edge) -> None:
    """delete answers data null; the account leaves the list; an unknown id is 1002."""
    account_id = edge.call("/pushbullet/device/add", {"nickname": "a", "phone": "1", "access_token": TOKEN})[
        "data"
    ]["id"]
    assert edge.call("/pushbullet/device/delete", {"id": account_id}) == ok(None)
    assert edge.call("/pushbullet/device/list")["data"]["total"] == 0
    assert edge.call("/pushbullet/device/delete", {"id": account_id + 1000}) == NOT_FOUND
