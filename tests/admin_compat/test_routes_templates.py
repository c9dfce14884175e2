"""shooter/template/list|add|delete through the edge onto a real recon_service."""

from __future__ import annotations

from edge import NOT_FOUND, Edge, ok

CONTENT = "TK {card} +{amount}VND luc {time} SD {balance}VND Ref {ref} ND {name} chuyen tien{*}"
SAMPLE = (
    "TK xxxx3456 +1,500,000VND luc 03-12-2026 10:15:32 SD 25,300,000VND Ref 5213IBT1bJ2XBK9W"
    " ND NGUYEN VAN A chuyen tien nap 88001"
)
TEMPLATE = {"bank_code": "VCB", "sender": "VCB,Vietcombank", "content": CONTENT, "type": 1}


def test_template_add_answers_the_id_and_the_list_shows_every_field(edge: Edge) -> None:
    """Absent optional fields come back null (decimal_sep defaults to ".")."""
    added = edge.call("/shooter/template/add", {**TEMPLATE, "tz": "Asia/Ho_Chi_Minh", "sample": SAMPLE})
    template_id = added["data"]["id"]
    assert added == ok({"id": template_id})
    (template,) = edge.call("/shooter/template/list", {"bank_code": "VCB"})["data"]["list"]
    created_at = template["created_at"]
    assert isinstance(created_at, int)
    assert template == {
        "id": template_id,
        "bank_code": "VCB",
        "sender": "VCB,Vietcombank",
        "content": CONTENT,
        "type": 1,
        "decimal_sep": ".",
        "time_format": None,
        "tz": "Asia/Ho_Chi_Minh",
        "status": 1,
        "sample": SAMPLE,
        "created_at": created_at,
    }
    assert edge.call("/shooter/template/list", {"bank_code": "ACB"})["data"]["total"] == 0


def test_a_sample_that_does_not_parse_is_1001_naming_the_failing_part(edge: Edge) -> None:
    """recon's explanation of the mismatch becomes the 1001 message."""
    answer = edge.call("/shooter/template/add", {**TEMPLATE, "sample": "TK xxxx3456 +abcVND"})
    assert answer["code"] == 1001 and answer["data"] is None
    assert answer["msg"].startswith("invalid parameter: ") and len(answer["msg"]) > len("invalid parameter: ")


def test_template_add_refuses_content_without_amount_and_a_bad_type(edge: Edge) -> None:
    """content must hold {amount}; type is 1 or 2; decimal_sep "." or ","."""
    assert edge.call("/shooter/template/add", {**TEMPLATE, "content": "TK {card}"})["code"] == 1001
    assert edge.call("/shooter/template/add", {**TEMPLATE, "type": 3})["code"] == 1001
    assert edge.call("/shooter/template/add", {**TEMPLATE, "decimal_sep": ";"})["code"] == 1001


def test_template_delete_hides_it_and_an_unknown_id_is_1002(edge: Edge) -> None:
    """delete answers data null, the list no longer shows it, again is 1002."""
    template_id = edge.call("/shooter/template/add", TEMPLATE)["data"]["id"]
    assert edge.call("/shooter/template/delete", {"id": template_id}) == ok(None)
    assert edge.call("/shooter/template/list")["data"]["total"] == 0
    assert edge.call("/shooter/template/delete", {"id": template_id}) == NOT_FOUND
