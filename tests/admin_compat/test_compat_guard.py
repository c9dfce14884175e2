"""The compatibility guard (admin_compat.compat_guard): one test per rule on a mutated copy of
the frozen baseline, compatible changes that must pass, and THE guard test: the current
openapi/legacy-admin.yaml has no breaking change against contract_tests/baseline/."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator

from admin_compat.compat_guard import RULES, Finding, SpecError, compare, load_spec
from admin_compat.compat_guard.rules import BOUNDS, loosened_id, tightened_id

ROOT = Path(__file__).resolve().parents[2]
BASELINE_PATH = ROOT / "contract_tests" / "baseline" / "legacy-admin.yaml"
CURRENT_PATH = ROOT / "openapi" / "legacy-admin.yaml"
BASELINE: dict[str, Any] = load_spec(BASELINE_PATH)

Mutation = Callable[[dict[str, Any]], Any]


def spec() -> dict[str, Any]:
    return copy.deepcopy(BASELINE)


def check(base: dict[str, Any], cur: dict[str, Any]) -> list[Finding]:
    findings = compare(base, cur)
    unknown = {f.rule for f in findings} - RULES.keys()
    assert not unknown, f"rule ids missing from RULES: {unknown}"
    return findings


def mutated(mutation: Mutation) -> list[Finding]:
    cur = spec()
    mutation(cur)
    return check(BASELINE, cur)


def op(s: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    result: dict[str, Any] = s["paths"][path][method]
    return result


def schemas(s: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = s["components"]["schemas"]
    return result


def body(s: dict[str, Any], path: str) -> dict[str, Any]:
    result: dict[str, Any] = op(s, path)["requestBody"]["content"]["application/json"]["schema"]
    return result


def props(s: dict[str, Any], path: str) -> dict[str, Any]:
    result: dict[str, Any] = body(s, path)["properties"]
    return result


def query(s: dict[str, Any], name: str) -> dict[str, Any]:
    params = op(s, "/shooter/device/list", "get")["parameters"]
    return next(p for p in params if p["name"] == name)


def assert_fires(findings: list[Finding], rule: str, where: str) -> None:
    hits = [f for f in findings if f.rule == rule]
    assert hits, f"{rule} did not fire; got {[str(f) for f in findings]}"
    assert any(where in f.location for f in hits), f"{rule} not at {where!r}: {[str(f) for f in hits]}"


# ----------------------------------------------------------------- the guard itself


def test_current_spec_has_no_breaking_change_against_the_frozen_baseline() -> None:
    """THE guard: fails CI when openapi/legacy-admin.yaml breaks the frozen legacy contract."""
    findings = check(BASELINE, load_spec(CURRENT_PATH))
    assert findings == [], "breaking changes against the frozen baseline:\n" + "\n".join(map(str, findings))


def test_baseline_is_a_valid_openapi_30_document() -> None:
    assert BASELINE["openapi"] == "3.0.3"
    OpenAPIV30SpecValidator(BASELINE).validate()


def test_baseline_against_itself_passes() -> None:
    assert check(BASELINE, spec()) == []


# ----------------------------------------------------------------- one case per rule, on the baseline

EMPTY_OBJECT: dict[str, Any] = {"type": "object"}

CASES: list[tuple[str, Mutation, str]] = [
    # 1 removed route or method
    ("api-path-removed", lambda s: s["paths"].pop("/pushbullet/device/add"), "/pushbullet/device/add"),
    ("api-operation-removed", lambda s: s["paths"]["/top/info"].pop("get"), "GET /top/info"),
    # 2 removed / renamed response field (inside the envelope's data, through $refs and arrays)
    (
        "response-property-removed",
        lambda s: schemas(s)["PushbulletDevice"]["properties"].pop("nickname"),
        "POST /pushbullet/device/list response 200 application/json: data.list[].nickname",
    ),
    (
        "response-property-removed",  # a rename is a removal (plus a compatible addition)
        lambda s: schemas(s)["IdOk"]["properties"]["data"].update(
            properties={"new_id": {"$ref": "#/components/schemas/Id"}}, required=["new_id"]
        ),
        "POST /shooter/whitelist/add response 200 application/json: data.id",
    ),
    (
        "response-property-removed",
        lambda s: schemas(s)["Candidate"]["properties"].pop("score"),
        "POST /shooter/sms/get response 200 application/json: data.candidates[].score",
    ),
    (
        "response-property-became-optional",
        lambda s: schemas(s)["Template"]["required"].remove("sample"),
        "POST /shooter/template/list response 200 application/json: data.list[].sample",
    ),
    # 3 type changes
    (
        "request-property-type-changed",
        lambda s: props(s, "/pushbullet/device/add")["phone"].update(type="integer"),
        "POST /pushbullet/device/add request application/json: phone",
    ),
    (
        "request-property-type-changed",  # no longer nullable in a request: null is rejected
        lambda s: props(s, "/shooter/sms/list")["keyword"].pop("nullable"),
        "POST /shooter/sms/list request application/json: keyword",
    ),
    (
        "response-property-type-changed",
        lambda s: schemas(s)["Sms"]["properties"]["device_id"].update(type="integer"),
        "POST /shooter/sms/list response 200 application/json: data.list[].device_id",
    ),
    (
        "response-property-type-changed",  # becoming nullable in a response
        lambda s: schemas(s)["ShooterDevice"]["properties"]["name"].update(nullable=True),
        "GET /shooter/device/list response 200 application/json: data.list[].name",
    ),
    (
        "response-property-type-changed",  # integer -> number widens a response
        lambda s: schemas(s)["Count"].update(type="number"),
        "POST /top/info response 200 application/json: data.sms_need_check_cnt",
    ),
    (
        "request-parameter-type-changed",
        lambda s: query(s, "trusted").update(schema={"type": "string", "enum": ["0", "1"]}),
        "GET /shooter/device/list parameter query trusted",
    ),
    # 4 new required request field / parameter
    (
        "new-required-request-property",
        lambda s: (
            props(s, "/shooter/whitelist/add").update(operator={"type": "string"}),
            body(s, "/shooter/whitelist/add")["required"].append("operator"),
        ),
        "POST /shooter/whitelist/add request application/json: operator",
    ),
    (
        "request-property-became-required",
        lambda s: body(s, "/shooter/whitelist/add")["required"].append("remark"),
        "POST /shooter/whitelist/add request application/json: remark",
    ),
    (
        "new-required-request-property",  # through components.requestBodies
        lambda s: s["components"]["requestBodies"]["ById"]["content"]["application/json"]["schema"].update(
            properties={"id": {"$ref": "#/components/schemas/Id"}, "reason": {"type": "string"}},
            required=["id", "reason"],
        ),
        "POST /shooter/sms/reset request application/json: reason",
    ),
    (
        "new-required-request-parameter",
        lambda s: op(s, "/shooter/device/list", "get")["parameters"].append(
            {"name": "sig", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        "GET /shooter/device/list parameter query sig",
    ),
    (
        "request-parameter-became-required",
        lambda s: query(s, "page").update(required=True),
        "GET /shooter/device/list parameter query page",
    ),
    (
        "request-body-became-required",
        lambda s: op(s, "/top/info")["requestBody"].update(required=True),
        "POST /top/info request",
    ),
    (
        "request-body-became-required",  # a required body where there was none
        lambda s: op(s, "/top/info", "get").update(
            requestBody={"required": True, "content": {"application/json": {"schema": EMPTY_OBJECT}}}
        ),
        "GET /top/info request",
    ),
    # 5 enums
    (
        "request-property-enum-value-removed",
        lambda s: props(s, "/shooter/sms/check")["check_status"].update(enum=[1]),
        "POST /shooter/sms/check request application/json: check_status",
    ),
    (
        "request-property-enum-value-removed",  # a free request string becoming an enum
        lambda s: props(s, "/shooter/template/list")["bank_code"].update(enum=["VCB", "ACB"]),
        "POST /shooter/template/list request application/json: bank_code",
    ),
    (
        "request-parameter-enum-value-removed",
        lambda s: query(s, "trusted")["schema"].update(enum=[1]),
        "GET /shooter/device/list parameter query trusted",
    ),
    (
        "response-property-enum-value-added",
        lambda s: schemas(s)["SmsStatus"]["enum"].append(7),
        "POST /shooter/sms/list response 200 application/json: data.list[].status",
    ),
    (
        "response-property-enum-value-added",  # the envelope's error codes are an enum too
        lambda s: schemas(s)["BusinessError"]["properties"]["code"]["enum"].append(1005),
        "POST /recharge/approve response 200 application/json: code",
    ),
    # 6 tightened request constraints (and loosened response ones)
    (
        "request-property-max-length-decreased",
        lambda s: props(s, "/pushbullet/device/add")["nickname"].update(maxLength=32),
        "POST /pushbullet/device/add request application/json: nickname",
    ),
    (
        "request-property-min-length-increased",
        lambda s: props(s, "/pushbullet/device/add")["access_token"].update(minLength=8),
        "POST /pushbullet/device/add request application/json: access_token",
    ),
    (
        "request-property-max-decreased",
        lambda s: schemas(s)["PageSize"].update(maximum=50),
        "POST /shooter/sms/list request application/json: page_size",
    ),
    (
        "request-parameter-max-decreased",
        lambda s: schemas(s)["PageSize"].update(maximum=50),
        "GET /shooter/device/list parameter query page_size",
    ),
    (
        "request-property-min-increased",
        lambda s: props(s, "/shooter/sms/list")["start_time"].update(minimum=1),
        "POST /shooter/sms/list request application/json: start_time",
    ),
    (
        "request-property-min-increased",  # OpenAPI 3.0 exclusiveMinimum: 0 allowed before, not now
        lambda s: props(s, "/shooter/sms/list")["end_time"].update(exclusiveMinimum=True),
        "POST /shooter/sms/list request application/json: end_time",
    ),
    (
        "request-property-pattern-changed",
        lambda s: props(s, "/shooter/sms/list")["amount"].update(pattern=r"^\d{1,15}\.\d{2}$"),
        "POST /shooter/sms/list request application/json: amount",
    ),
    (
        "request-property-pattern-changed",  # a pattern where there was none
        lambda s: props(s, "/shooter/whitelist/add")["phone"].update(pattern="^[0-9A-Z]+$"),
        "POST /shooter/whitelist/add request application/json: phone",
    ),
    (
        "response-property-pattern-changed",  # a response amount may no longer be "1500000.00"-shaped
        lambda s: schemas(s)["Money"].pop("pattern"),
        "POST /shooter/sms/get response 200 application/json: data.candidates[].amount",
    ),
    (
        "response-property-max-increased",
        lambda s: schemas(s)["PageSize"].update(maximum=500),
        "POST /shooter/sms/list response 200 application/json: data.page_size",
    ),
    # 7 removed documented response, media type or header
    (
        "response-status-removed",
        lambda s: op(s, "/recharge/approve")["responses"].pop("403"),
        "POST /recharge/approve response 403",
    ),
    (
        "response-media-type-removed",
        lambda s: s["components"]["responses"]["Unauthorized"].update(
            content={"text/plain": {"schema": {"type": "string"}}}
        ),
        "POST /shooter/sms/check response 401 application/json",
    ),
    (
        "request-body-media-type-removed",
        lambda s: op(s, "/recharge/approve")["requestBody"].update(
            content={"application/x-www-form-urlencoded": {"schema": EMPTY_OBJECT}}
        ),
        "POST /recharge/approve request application/json",
    ),
    (
        "response-header-removed",
        lambda s: s["components"]["responses"]["NullOk"]["headers"].pop("X-Refresh-Token"),
        "POST /shooter/device/trust response 200 header X-Refresh-Token",
    ),
    (
        "response-header-became-optional",
        lambda s: s["components"]["headers"]["Allow"].update(required=False),
        "POST /top/info response 405 header Allow",
    ),
    # 8 security
    (
        "security-alternative-removed",  # Bearer callers (the newer views) locked out
        lambda s: op(s, "/recharge/approve").update(security=[{"xToken": []}]),
        "POST /recharge/approve security",
    ),
    (
        "security-alternative-removed",  # both credentials now needed together
        lambda s: op(s, "/top/info", "get").update(security=[{"xToken": [], "bearerAuth": []}]),
        "GET /top/info security",
    ),
    (
        "security-scheme-changed",
        lambda s: s["components"]["securitySchemes"]["xToken"].update(name="X-Auth-Token"),
        "components.securitySchemes.xToken",
    ),
    # 9 envelope no longer required
    (
        "response-envelope-field-not-required",
        lambda s: schemas(s)["IdOk"].update(required=["code", "msg"]),
        "POST /pushbullet/device/add response 200 application/json: data",
    ),
    (
        "response-envelope-field-not-required",
        lambda s: schemas(s)["AuthError"].update(required=["msg", "data"]),
        "POST /shooter/sms/list response 401 application/json: code",
    ),
    (
        "response-envelope-field-not-required",  # removed outright
        lambda s: (
            schemas(s)["NullOk"]["properties"].pop("msg"),
            schemas(s)["NullOk"].update(required=["code", "data"]),
        ),
        "POST /shooter/sms/reset response 200 application/json: msg",
    ),
    # 10 request input no longer accepted
    (
        "request-property-removed",
        lambda s: props(s, "/shooter/sms/check").pop("remark"),
        "POST /shooter/sms/check request application/json: remark",
    ),
    (
        "request-parameter-removed",
        lambda s: op(s, "/shooter/device/list", "get")["parameters"].remove(query(s, "trusted")),
        "GET /shooter/device/list parameter query trusted",
    ),
    # 11 defaults of optional request values
    (
        "request-property-default-changed",
        lambda s: schemas(s)["PageSize"].update(default=50),
        "POST /shooter/template/list request application/json: page_size",
    ),
    (
        "request-parameter-default-changed",
        lambda s: schemas(s)["PageSize"].update(default=50),
        "GET /shooter/device/list parameter query page_size",
    ),
]


@pytest.mark.parametrize(
    ("rule", "mutation", "where"), CASES, ids=[f"{i:02d}-{c[0]}" for i, c in enumerate(CASES)]
)
def test_rule_fires(rule: str, mutation: Mutation, where: str) -> None:
    assert_fires(mutated(mutation), rule, where)


def test_removed_route_reports_the_route_not_every_field() -> None:
    findings = mutated(lambda s: s["paths"].pop("/recharge/approve"))
    assert [(f.rule, f.location) for f in findings] == [("api-path-removed", "/recharge/approve")]


def test_removed_response_object_is_reported_once_at_its_top() -> None:
    findings = mutated(lambda s: schemas(s)["SmsDetail"]["properties"].pop("candidates"))
    where = [f.location for f in findings if "/shooter/sms/get" in f.location]
    assert where == ["POST /shooter/sms/get response 200 application/json: data.candidates"]


def test_security_requirement_added_where_anonymous_calls_passed() -> None:
    base = spec()
    op(base, "/top/info", "get")["security"] = []
    assert_fires(check(base, spec()), "security-requirement-added", "GET /top/info security")


def test_global_security_requirement_added() -> None:
    base, cur = spec(), spec()
    for s in (base, cur):
        for item in s["paths"].values():
            for operation in item.values():
                operation.pop("security", None)
    base.pop("security")
    findings = check(base, cur)
    assert {f.rule for f in findings} == {"security-requirement-added"}
    assert len(findings) == sum(len(item) for item in base["paths"].values())


# ----------------------------------------------------------------- every bound, in both directions

TYPE_FOR = {"string": "string", "number": "integer", "array": "array", "object": "object"}


def _bounded(family: frozenset[str], keyword: str, value: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": TYPE_FOR[sorted(family)[-1]], keyword: value}
    if schema["type"] == "array":
        schema["items"] = {"type": "string"}
    return schema


def _mini(value_schema: dict[str, Any]) -> dict[str, Any]:
    """One operation using `value_schema` as a query parameter, a request and a response property."""
    ok = {"type": "object", "required": ["v"], "properties": {"v": value_schema}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "mini", "version": "1"},
        "paths": {
            "/x": {
                "post": {
                    "parameters": [{"name": "q", "in": "query", "schema": value_schema}],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"v": value_schema}}
                            }
                        }
                    },
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": ok}}}
                    },
                }
            }
        },
    }


@pytest.mark.parametrize("bound", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_every_bound_tightened_on_requests_and_loosened_on_responses(bound: tuple[Any, ...]) -> None:
    fragment, keyword, _, upper, family, _ = bound
    loose, strict = (10, 5) if upper else (5, 10)
    base, tighter = _mini(_bounded(family, keyword, loose)), _mini(_bounded(family, keyword, strict))
    rules = {f.rule for f in check(base, tighter)}
    assert rules == {
        tightened_id("request-property", fragment, upper),
        tightened_id("request-parameter", fragment, upper),
    }
    assert {f.rule for f in check(tighter, base)} == {loosened_id(fragment, upper)}


def test_removing_a_bound_loosens_a_response_and_adding_one_tightens_a_request() -> None:
    bounded, free = _mini({"type": "string", "maxLength": 10}), _mini({"type": "string"})
    assert {f.rule for f in check(bounded, free)} == {"response-property-max-length-increased"}
    assert {f.rule for f in check(free, bounded)} == {
        "request-property-max-length-decreased",
        "request-parameter-max-length-decreased",
    }


def test_openapi_31_numeric_exclusive_bounds() -> None:
    base, cur = _mini({"type": "integer", "maximum": 10}), _mini({"type": "integer", "exclusiveMaximum": 10})
    assert {f.rule for f in check(base, cur)} == {
        "request-property-max-decreased",
        "request-parameter-max-decreased",
    }


def test_pattern_and_additional_properties_on_parameters_and_request_objects() -> None:
    base = _mini({"type": "object", "properties": {"a": {"type": "string"}}})
    cur = _mini(
        {
            "type": "object",
            "properties": {"a": {"type": "string", "pattern": "^a$"}},
            "additionalProperties": False,
        }
    )
    assert {f.rule for f in check(base, cur)} == {
        "request-property-pattern-changed",
        "request-parameter-pattern-changed",
        "request-property-additional-properties-disallowed",
        "request-parameter-additional-properties-disallowed",
    }


def test_request_body_that_allowed_extra_fields_now_rejects_them() -> None:
    base = spec()
    body(base, "/shooter/whitelist/add").pop("additionalProperties")
    assert_fires(
        check(base, spec()),
        "request-property-additional-properties-disallowed",
        "POST /shooter/whitelist/add request application/json: (root)",
    )


def test_array_items_are_compared() -> None:
    base = _mini({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}})
    cur = _mini({"type": "array", "items": {"type": "string", "enum": ["a"]}})
    findings = check(base, cur)
    assert_fires(findings, "request-property-enum-value-removed", "request application/json: v[]")
    assert_fires(check(cur, base), "response-property-enum-value-added", "response 200 application/json: v[]")


# ----------------------------------------------------------------- compatible changes pass

COMPATIBLE: list[tuple[str, Mutation]] = [
    (
        "new optional request field",
        lambda s: props(s, "/shooter/whitelist/add").update(tag={"type": "string", "nullable": True}),
    ),
    (
        "new optional query parameter",
        lambda s: op(s, "/shooter/device/list", "get")["parameters"].append(
            {"name": "_t", "in": "query", "schema": {"type": "integer"}}
        ),
    ),
    (
        "new route",
        lambda s: s["paths"].update(
            {"/shooter/device/rename": copy.deepcopy(s["paths"]["/shooter/device/trust"])}
        ),
    ),
    (
        "new method on a route",
        lambda s: s["paths"]["/recharge/approve"].update(get=copy.deepcopy(op(s, "/top/info", "get"))),
    ),
    (
        "new response field",
        lambda s: (
            schemas(s)["ShooterDevice"]["properties"].update(battery={"type": "integer"}),
            schemas(s)["ShooterDevice"]["required"].append("battery"),
        ),
    ),
    (
        "relaxed request maximum (PageSize inlined for one request only)",
        lambda s: props(s, "/shooter/sms/list").update(
            page_size={"type": "integer", "minimum": 1, "maximum": 200, "default": 20}
        ),
    ),
    ("relaxed request minimum", lambda s: props(s, "/shooter/sms/list")["start_time"].pop("minimum")),
    ("relaxed minLength", lambda s: props(s, "/pushbullet/device/add")["nickname"].pop("minLength")),
    ("request pattern removed", lambda s: props(s, "/shooter/sms/list")["amount"].pop("pattern")),
    ("request enum value added", lambda s: props(s, "/shooter/sms/check")["check_status"]["enum"].append(3)),
    ("response enum value removed", lambda s: schemas(s)["SmsSource"]["enum"].remove("telegram")),
    (
        "request field became optional",
        lambda s: body(s, "/pushbullet/device/add")["required"].remove("phone"),
    ),
    (
        "request field became nullable",
        lambda s: props(s, "/pushbullet/device/add")["nickname"].update(nullable=True),
    ),
    (
        "response field no longer nullable (decision)",
        lambda s: schemas(s)["Sms"]["properties"]["remark"].pop("nullable"),
    ),
    (
        "response number -> integer",
        lambda s: schemas(s)["Candidate"]["properties"]["score"].update(type="integer"),
    ),
    (
        "new documented response",
        lambda s: op(s, "/recharge/approve")["responses"].update({"409": {"description": "conflict"}}),
    ),
    (
        "new media type",
        lambda s: op(s, "/recharge/approve")["requestBody"]["content"].update({"text/plain": {}}),
    ),
    (
        "new security alternative",
        lambda s: op(s, "/top/info").update(security=[{"xToken": []}, {"bearerAuth": []}, {}]),
    ),
    ("description and example edits", lambda s: op(s, "/top/info").update(description="x", summary="y")),
    (
        "$ref inlined",
        lambda s: props(s, "/recharge/approve").update(sms_id={"type": "integer", "minimum": 1}),
    ),
    (
        "required body became optional",
        lambda s: op(s, "/recharge/approve")["requestBody"].update(required=False),
    ),
]


@pytest.mark.parametrize(("name", "mutation"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_change_passes(name: str, mutation: Mutation) -> None:
    findings = mutated(mutation)
    assert findings == [], "\n".join(map(str, findings))


def test_path_parameter_names_do_not_matter() -> None:
    base, cur = _mini({"type": "string"}), _mini({"type": "string"})
    base["paths"]["/x/{id}"] = base["paths"].pop("/x")
    cur["paths"]["/x/{item_id}"] = cur["paths"].pop("/x")
    assert check(base, cur) == []


# ----------------------------------------------------------------- $ref resolution


def test_recursive_schemas_are_walked_safely() -> None:
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    base = _mini({"$ref": "#/components/schemas/Node"})
    base["components"] = {"schemas": {"Node": node}}
    assert check(base, copy.deepcopy(base)) == []
    cur = copy.deepcopy(base)
    cur["components"]["schemas"]["Node"]["properties"].pop("name")
    assert_fires(check(base, cur), "response-property-removed", "response 200 application/json: v.name")


def test_ref_chains_resolve_and_a_looping_chain_is_an_error() -> None:
    base = _mini({"$ref": "#/components/schemas/A"})
    base["components"] = {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"type": "string"}}}
    cur = copy.deepcopy(base)
    cur["components"]["schemas"]["B"] = {"type": "integer"}
    assert_fires(check(base, cur), "response-property-type-changed", ": v")
    cur["components"]["schemas"]["B"] = {"$ref": "#/components/schemas/A"}
    with pytest.raises(SpecError, match="cycle"):
        compare(base, cur)


def test_non_local_ref_is_an_error() -> None:
    cur = _mini({"$ref": "https://example.com/schemas.yaml#/Thing"})
    with pytest.raises(SpecError, match="only local"):
        compare(_mini({"type": "string"}), cur)


def test_allof_is_merged_and_oneof_alternatives_are_pooled() -> None:
    base = _mini(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"type": "integer"}}},
            ]
        }
    )
    cur = _mini(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"properties": {"b": {"type": "integer"}}},
            ]
        }
    )
    assert_fires(check(base, cur), "response-property-became-optional", "response 200 application/json: v.a")
    one_of = _mini({"oneOf": [{"type": "string"}, {"type": "integer"}]})
    assert {f.rule for f in check(one_of, _mini({"type": "string"}))} == {
        "request-property-type-changed",
        "request-parameter-type-changed",
    }


# ----------------------------------------------------------------- registry and CLI

COVERED = (
    {rule for rule, _, _ in CASES}
    | {tightened_id(p, b[0], b[3]) for p in ("request-property", "request-parameter") for b in BOUNDS}
    | {loosened_id(b[0], b[3]) for b in BOUNDS}
    | {
        "security-requirement-added",
        "request-property-additional-properties-disallowed",
        "request-parameter-pattern-changed",
        "request-parameter-additional-properties-disallowed",
    }
)


def test_every_registered_rule_has_a_test() -> None:
    assert set(RULES) == COVERED
    assert {r.group for r in RULES.values()} == set(range(1, 12))


def test_finding_line_names_rule_location_and_message() -> None:
    finding = Finding("api-path-removed", "/recharge/approve", "path removed")
    assert str(finding) == "[api-path-removed] /recharge/approve: path removed"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "admin_compat.compat_guard", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_cli_exit_0_when_compatible() -> None:
    result = _cli(str(BASELINE_PATH), str(CURRENT_PATH))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no breaking change" in result.stdout


def test_cli_exit_1_and_prints_each_breaking_change(tmp_path: Path) -> None:
    cur = spec()
    cur["paths"].pop("/pushbullet/device/add")
    cur["paths"]["/top/info"].pop("get")
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cur, sort_keys=False), encoding="utf-8")
    result = _cli(str(BASELINE_PATH), str(changed))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "[api-path-removed] /pushbullet/device/add: path removed" in lines
    assert "[api-operation-removed] GET /top/info: operation removed" in lines
    assert lines[-1].startswith("compat_guard: 2 breaking change(s)")


def test_cli_exit_2_on_unreadable_input(tmp_path: Path) -> None:
    result = _cli(str(BASELINE_PATH), str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    not_a_spec = tmp_path / "list.yaml"
    not_a_spec.write_text("- just\n- a list\n", encoding="utf-8")
    assert _cli(str(BASELINE_PATH), str(not_a_spec)).returncode == 2


def test_oneof_alternatives_are_compared_one_by_one() -> None:
    """`msg` still exists in BusinessError, but the success envelope lost it."""
    findings = mutated(lambda s: schemas(s)["SuccessMsg"].update(type="integer", enum=[0]))
    assert_fires(
        findings, "response-property-type-changed", "POST /top/info response 200 application/json: msg"
    )
    findings = mutated(lambda s: schemas(s)["TopInfoOk"]["properties"].pop("msg"))
    assert_fires(findings, "response-property-removed", "POST /top/info response 200 application/json: msg")
    assert any("TopInfoOk" in f.message for f in findings)


def test_required_compared_per_alternative() -> None:
    base = _mini(
        {
            "oneOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
            ]
        }
    )
    cur = _mini(
        {
            "oneOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "properties": {"a": {"type": "string"}}},
            ]
        }
    )
    assert_fires(check(base, cur), "response-property-became-optional", "response 200 application/json: v.a")


def test_inlining_a_oneof_alternative_is_compatible() -> None:
    def inline(s: dict[str, Any]) -> None:
        one_of = op(s, "/recharge/approve")["responses"]["200"]["content"]["application/json"]["schema"][
            "oneOf"
        ]
        one_of[0] = copy.deepcopy(schemas(s)["ApproveOk"])

    assert mutated(inline) == []
