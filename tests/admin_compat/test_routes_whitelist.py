"""shooter/whitelist/list|add|delete through the edge onto a real recon_service."""

from __future__ import annotations

from typing import Any

from edge import DUPLICATE, NOT_FOUND, Edge, err, ok


def test_whitelist_add_stores_the_phone_normalized_and_answers_its_id(edge: Edge) -> None:
    """add answers {"id": int}; the list shows the entry normalized with null for absent values."""
    added = edge.call("/shooter/whitelist/add", {"phone": "+84 90-123 vcb"})
    assert added["code"] == 0 and isinstance(added["data"]["id"], int)
    listed = edge.call("/shooter/whitelist/list", {})
    (entry,) = listed["data"]["list"]
    assert listed == ok({"list": [entry], "total": 1, "page": 1, "page_size": 20})
    assert entry["id"] == added["data"]["id"]
    assert (entry["phone"], entry["bank_code"], entry["remark"]) == ("8490123VCB", None, None)
    assert isinstance(entry["created_at"], int)
    assert set(entry) == {"id", "phone", "bank_code", "remark", "created_at"}


def test_whitelist_list_is_newest_first_pages_and_filters_by_normalized_phone(edge: Edge) -> None:
    """page/page_size page the list newest first; phone filters after normalization."""
    ids = [
        edge.call("/shooter/whitelist/add", {"phone": p, "bank_code": "VCB"})["data"]["id"]
        for p in ("A1", "B2", "C3")
    ]
    second = edge.call("/shooter/whitelist/list", {"page": 2, "page_size": 2})["data"]
    assert ([e["id"] for e in second["list"]], second["total"], second["page"], second["page_size"]) == (
        [ids[0]],
        3,
        2,
        2,
    )
    first = edge.call("/shooter/whitelist/list", {"page_size": 2})["data"]
    assert [e["id"] for e in first["list"]] == [ids[2], ids[1]]
    only = edge.call("/shooter/whitelist/list", {"phone": "b2"})["data"]
    assert [e["id"] for e in only["list"]] == [ids[1]]


def test_a_duplicate_whitelist_entry_is_1003(edge: Edge) -> None:
    """The same normalized phone twice is code 1003 with data null."""
    assert edge.call("/shooter/whitelist/add", {"phone": "VCB"})["code"] == 0
    assert edge.call("/shooter/whitelist/add", {"phone": "vcb"}) == DUPLICATE


def test_whitelist_delete_hides_the_entry_and_an_unknown_id_is_1002(edge: Edge) -> None:
    """delete answers data null; the entry leaves the list; deleting it again is 1002."""
    entry_id = edge.call("/shooter/whitelist/add", {"phone": "ACB"})["data"]["id"]
    assert edge.call("/shooter/whitelist/delete", {"id": entry_id}) == ok(None)
    assert edge.call("/shooter/whitelist/list")["data"]["total"] == 0
    assert edge.call("/shooter/whitelist/delete", {"id": entry_id}) == NOT_FOUND


def test_whitelist_add_without_phone_is_1001(edge: Edge) -> None:
    """A missing required field is 1001 at HTTP 200."""
    answer: dict[str, Any] = edge.call("/shooter/whitelist/add", {"remark": "x"})
    assert answer["code"] == 1001 and answer["data"] is None
    assert answer["msg"].startswith("invalid parameter")
    assert edge.call("/shooter/whitelist/delete", {"id": "one"})["code"] == 1001
    assert err(1001, answer["msg"]) == answer
