"""Every spec is valid OpenAPI 3.0 and every operationId recon_service serves is a real function."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator

SPECS = Path(__file__).resolve().parents[2] / "openapi"
ALL_SPECS = ["legacy-admin.yaml", "recon-internal.yaml", "shooter-device.yaml", "wallet.yaml"]
SERVED_BY_RECON = ["recon-internal.yaml", "shooter-device.yaml"]
METHODS = {"get", "put", "post", "delete", "patch", "options", "head"}


def load(name: str) -> dict:
    return yaml.safe_load((SPECS / name).read_text())


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.mark.parametrize("name", ALL_SPECS)
def test_the_spec_is_valid_openapi_3_0(name):
    spec = load(name)
    assert spec["openapi"].startswith("3.0.")
    OpenAPIV30SpecValidator(spec).validate()


@pytest.mark.parametrize("name", SERVED_BY_RECON)
def test_every_operation_id_resolves_to_a_function(name):
    for path, method, operation in operations(load(name)):
        module_name, _, attribute = operation["operationId"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute, None)
        assert callable(handler), f"{method.upper()} {path}: {operation['operationId']}"


def resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        for part in node["$ref"].lstrip("#/").split("/"):
            spec = spec[part]
        node = spec
    return node


@pytest.mark.parametrize("name", SERVED_BY_RECON)
def test_every_request_and_response_body_has_an_example(name):
    spec = load(name)
    for path, method, operation in operations(spec):
        bodies = [("request", operation.get("requestBody"))]
        bodies += [(status, resolve(spec, response)) for status, response in operation["responses"].items()]
        for where, body in bodies:
            for media in ((body or {}).get("content") or {}).values():
                assert "example" in media or "examples" in media, f"{method.upper()} {path} {where}"


@pytest.mark.parametrize("name", SERVED_BY_RECON)
def test_every_request_body_rejects_unknown_fields(name):
    for path, method, operation in operations(load(name)):
        body = operation.get("requestBody")
        if body:
            schema = body["content"]["application/json"]["schema"]
            assert schema.get("additionalProperties") is False, f"{method.upper()} {path}"


def test_security_schemes_name_real_functions():
    scheme = load("recon-internal.yaml")["components"]["securitySchemes"]["serviceToken"]
    module_name, _, attribute = scheme["x-bearerInfoFunc"].rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))


def test_creates_declare_links_for_a_create_get_delete_walk():
    spec = load("recon-internal.yaml")
    for path in ("/pushbullet-accounts", "/templates", "/whitelist"):
        links = spec["paths"][path]["post"]["responses"]["201"]["links"]
        targets = {link["operationId"].rsplit(".", 1)[1].split("_")[0] for link in links.values()}
        assert targets == {"get", "delete"}, path


def test_no_route_exists_that_the_specs_do_not_declare(app, client):
    client.get("/internal/recon/v1/health")  # Connexion registers the routes on first use
    declared = set()
    for name, base in (
        ("recon-internal.yaml", "/internal/recon/v1"),
        ("shooter-device.yaml", "/api/shooter"),
    ):
        for path, method, _ in operations(load(name)):
            declared.add((method.upper(), base + path.replace("{", "<").replace("}", ">")))
    flask_app = app.app
    served = set()
    for rule in flask_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            path = rule.rule
            for converter in ("int:", "string:", "path:", "float:"):
                path = path.replace("<" + converter, "<")
            served.add((method, path))
    assert served <= declared, served - declared
    assert declared <= served, declared - served
