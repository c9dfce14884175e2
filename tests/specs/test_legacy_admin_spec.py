"""Static checks of openapi/legacy-admin.yaml (the frozen legacy admin contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "legacy-admin.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))

H = "admin_compat.handlers"
VIEW, EDIT, CHECK, APPROVE = "recon:view", "recon:edit", "recon:check", "recharge:approve"

# (method, path) -> (operationId, permission)
EXPECTED_OPERATIONS = {
    ("post", "/pushbullet/device/list"): (f"{H}.pushbullet.list_devices", VIEW),
    ("post", "/pushbullet/device/add"): (f"{H}.pushbullet.add_device", EDIT),
    ("post", "/pushbullet/device/delete"): (f"{H}.pushbullet.delete_device", EDIT),
    ("post", "/shooter/template/list"): (f"{H}.templates.list_templates", VIEW),
    ("post", "/shooter/template/add"): (f"{H}.templates.add_template", EDIT),
    ("post", "/shooter/template/delete"): (f"{H}.templates.delete_template", EDIT),
    ("post", "/shooter/whitelist/list"): (f"{H}.whitelist.list_entries", VIEW),
    ("post", "/shooter/whitelist/add"): (f"{H}.whitelist.add_entry", EDIT),
    ("post", "/shooter/whitelist/delete"): (f"{H}.whitelist.delete_entry", EDIT),
    ("post", "/shooter/sms/list"): (f"{H}.sms.list_sms", VIEW),
    ("post", "/shooter/sms/get"): (f"{H}.sms.get_sms", VIEW),
    ("post", "/shooter/sms/reset"): (f"{H}.sms.reset_sms", EDIT),
    ("post", "/shooter/sms/check"): (f"{H}.sms.check_sms", CHECK),
    ("post", "/shooter/device/list"): (f"{H}.devices.list_devices", VIEW),
    ("get", "/shooter/device/list"): (f"{H}.devices.list_devices_get", VIEW),
    ("post", "/shooter/device/trust"): (f"{H}.devices.trust_device", EDIT),
    ("post", "/shooter/device/delete"): (f"{H}.devices.delete_device", EDIT),
    ("post", "/top/info"): (f"{H}.top_info.get_top_info", VIEW),
    ("get", "/top/info"): (f"{H}.top_info.get_top_info_get", VIEW),
    ("post", "/recharge/approve"): (f"{H}.recharge.approve", APPROVE),
}

ERROR_RESPONSES = {"401": 401, "403": 403, "404": 1001, "405": 1001, "500": 5000}
BUSINESS_CODES = {1001, 1002, 1003, 1004, 5003}
AMOUNT_PATTERN = r"^\d{1,15}(\.\d{1,2})?$"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def deref(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """Return a copy of `node` with every local $ref inlined (fails on a cycle)."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), f"non-local $ref {ref}"
            assert ref not in seen, f"recursive $ref {ref}"
            target: Any = SPEC
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return deref(target, (*seen, ref))
        return {k: deref(v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [deref(v, seen) for v in node]
    return node


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in SPEC["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


OPS_RAW = [(m, p, deref(op)) for m, p, op in operations()]
OPS = [pytest.param(m, p, op, id=f"{m.upper()} {p}") for m, p, op in OPS_RAW]


def object_schemas(schema: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every schema below `schema` (inclusive) that describes a JSON object."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(schema, dict):
        return found
    if schema.get("type") == "object" or "properties" in schema:
        found.append((where, schema))
    for name, sub in schema.get("properties", {}).items():
        found += object_schemas(sub, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        found += object_schemas(schema["items"], f"{where}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        found += object_schemas(schema["additionalProperties"], f"{where}.*")
    for key in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            found += object_schemas(sub, f"{where}.{key}[{i}]")
    return found


def request_schemas(op: dict[str, Any]) -> list[dict[str, Any]]:
    body = op.get("requestBody")
    return [media["schema"] for media in body["content"].values()] if body else []


def response_media(op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (status, media)
        for status, resp in op["responses"].items()
        for media in resp.get("content", {}).values()
    ]


def media_examples(media: dict[str, Any]) -> list[Any]:
    values = [ex["value"] for ex in media.get("examples", {}).values()]
    if "example" in media:
        values.append(media["example"])
    return values


def test_spec_is_valid_openapi_30() -> None:
    assert SPEC["openapi"] == "3.0.3"
    OpenAPIV30SpecValidator(SPEC).validate()


def test_base_path() -> None:
    assert [s["url"] for s in SPEC["servers"]] == ["/api/admin"]


def test_exactly_the_frozen_routes() -> None:
    found = {(m, p): (op["operationId"], op.get("x-permission")) for m, p, op in operations()}
    assert found == EXPECTED_OPERATIONS
    assert not any(m == "options" for m, _, _ in operations()), "preflight is middleware"


@pytest.mark.parametrize(("method", "path", "op"), OPS)
def test_security_either_scheme(method: str, path: str, op: dict[str, Any]) -> None:
    assert op.get("security", SPEC.get("security")) == [{"xToken": []}, {"bearerAuth": []}]
    assert op["x-permission"] in op["description"]


def test_security_schemes() -> None:
    schemes = SPEC["components"]["securitySchemes"]
    assert schemes["xToken"] == {
        **schemes["xToken"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Token",
        "x-apikeyInfoFunc": "admin_compat.auth.token_info",
    }
    assert schemes["bearerAuth"] == {
        **schemes["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
        "x-bearerInfoFunc": "admin_compat.auth.bearer_info",
    }


@pytest.mark.parametrize(("method", "path", "op"), OPS)
def test_request_shape(method: str, path: str, op: dict[str, Any]) -> None:
    if method == "get":
        assert "requestBody" not in op
        return
    schemas = request_schemas(op)
    assert schemas, "POST routes take a JSON body"
    assert list(op["requestBody"]["content"]) == ["application/json"]
    for schema in schemas:
        for where, obj in object_schemas(schema, "body"):
            assert "allOf" not in obj, f"{where}: inline request schemas, no allOf"
            assert obj.get("additionalProperties") is False, where


@pytest.mark.parametrize(("method", "path", "op"), OPS)
def test_response_objects_closed_and_complete(method: str, path: str, op: dict[str, Any]) -> None:
    for status, media in response_media(op):
        for where, obj in object_schemas(media["schema"], f"{status}"):
            assert obj.get("additionalProperties") is False, where
            # absent optional values are null, never omitted
            assert set(obj.get("required", [])) == set(obj.get("properties", {})), where


def test_component_objects_closed() -> None:
    for name, schema in SPEC["components"]["schemas"].items():
        for where, obj in object_schemas(deref(schema), name):
            assert obj.get("additionalProperties") is False, where


@pytest.mark.parametrize(("method", "path", "op"), OPS)
def test_error_responses_documented(method: str, path: str, op: dict[str, Any]) -> None:
    responses = op["responses"]
    for status, code in ERROR_RESPONSES.items():
        assert status in responses, status
        media = responses[status]["content"]["application/json"]
        props = media["schema"]["properties"]
        assert set(media["schema"]["required"]) == {"code", "msg", "data"}
        assert props["code"]["enum"] == [code], status
        assert [ex["code"] for ex in media_examples(media)] == [code], status


@pytest.mark.parametrize(("method", "path", "op"), OPS)
def test_every_response_carries_the_refresh_headers(
    method: str, path: str, op: dict[str, Any]
) -> None:
    expected = SPEC["components"]["headers"]
    for status, resp in op["responses"].items():
        headers = resp.get("headers", {})
        expose = headers.get("Access-Control-Expose-Headers")
        assert headers.get("X-Refresh-Token") == expected["XRefreshToken"], status
        assert expose == expected["AccessControlExposeHeaders"], status


@pytest.mark.parametrize(("method", "path", "op"), OPS)
def test_examples_present_and_valid(method: str, path: str, op: dict[str, Any]) -> None:
    if method == "get":
        for param in op.get("parameters", []):
            assert "example" in param, param["name"]
            OAS30Validator(param["schema"]).validate(param["example"])
    else:
        media = op["requestBody"]["content"]["application/json"]
        examples = media_examples(media)
        assert examples, "request example"
        for ex in examples:
            OAS30Validator(media["schema"]).validate(ex)
    ok = op["responses"]["200"]["content"]["application/json"]
    assert ok["examples"]["success"]["value"]["code"] == 0
    assert ok["examples"]["success"]["value"]["msg"] == "success"
    for status, media in response_media(op):
        examples = media_examples(media)
        assert examples, f"{status} example"
        for ex in examples:
            OAS30Validator(media["schema"]).validate(ex)


@pytest.mark.parametrize(("method", "path", "op"), OPS)
def test_200_documents_success_and_business_errors(
    method: str, path: str, op: dict[str, Any]
) -> None:
    ok = op["responses"]["200"]
    assert "code 0" in ok["description"].lower()
    branches = ok["content"]["application/json"]["schema"]["oneOf"]
    codes = [b["properties"]["code"]["enum"] for b in branches]
    assert codes[0] == [0]
    assert set(codes[1]) == BUSINESS_CODES
    assert branches[1]["properties"]["data"]["enum"] == [None]
    for ex in media_examples(ok["content"]["application/json"]):
        assert ex["code"] == 0 or ex["data"] is None
        assert str(ex["code"]) in ok["description"] or ex["code"] == 0


def test_all_business_codes_have_examples() -> None:
    shown = {
        ex["code"]
        for _, _, op in OPS_RAW
        for ex in media_examples(op["responses"]["200"]["content"]["application/json"])
    }
    assert shown == {0} | BUSINESS_CODES


def test_amount_filter_pattern() -> None:
    body = deref(SPEC["paths"]["/shooter/sms/list"]["post"]["requestBody"])
    amount = body["content"]["application/json"]["schema"]["properties"]["amount"]
    assert amount["type"] == "string"
    assert amount["pattern"] == AMOUNT_PATTERN


def test_pagination_fields() -> None:
    schemas = SPEC["components"]["schemas"]
    assert schemas["PageNumber"] == {"type": "integer", "minimum": 1, "default": 1}
    assert schemas["PageSize"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    for (method, path), _ in EXPECTED_OPERATIONS.items():
        if not path.endswith("/list"):
            continue
        op = deref(SPEC["paths"][path][method])
        if method == "get":
            fields = {p["name"]: p["schema"] for p in op["parameters"]}
        else:
            fields = request_schemas(op)[0]["properties"]
        assert fields["page"] == schemas["PageNumber"], path
        assert fields["page_size"] == schemas["PageSize"], path
        data = op["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"][0]
        assert set(data["properties"]["data"]["required"]) == {"list", "total", "page", "page_size"}


def test_get_form_parameters() -> None:
    op = SPEC["paths"]["/shooter/device/list"]["get"]
    assert [p["name"] for p in op["parameters"]] == ["page", "page_size", "trusted"]
    assert all(p["in"] == "query" and not p.get("required") for p in op["parameters"])
    assert "ignored" in op["description"]
    assert "parameters" not in SPEC["paths"]["/top/info"]["get"]


def test_sms_detail_extends_sms() -> None:
    schemas = SPEC["components"]["schemas"]
    sms, detail = schemas["Sms"], schemas["SmsDetail"]
    extra = {"reason", "candidates"}
    assert {k: v for k, v in detail["properties"].items() if k not in extra} == sms["properties"]
    assert set(detail["required"]) == set(sms["required"]) | extra


def test_rules_on_money_routes() -> None:
    check = SPEC["paths"]["/shooter/sms/check"]["post"]["description"]
    assert "moves no money" in check
    approve = SPEC["paths"]["/recharge/approve"]["post"]["description"]
    assert "Idempotency-Key: sms-<sms_id>" in approve
    assert "in flight" in approve


def test_info_description_covers_conventions() -> None:
    text = SPEC["info"]["description"]
    for needle in (
        "X-Refresh-Token",
        "Access-Control-Expose-Headers",
        "OPTIONS",
        "recon:view",
        "recon:edit",
        "recon:check",
        "recharge:approve",
        "role_id",
        *(str(c) for c in (1001, 1002, 1003, 1004, 401, 403, 5000, 5003)),
    ):
        assert needle in text, needle
