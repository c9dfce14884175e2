"""Schemathesis over every operation of shooter-device.yaml, in-process, with signed requests.

The legacy device contract answers invalid input with HTTP 200 and ``code`` 1001 (and broken
credentials with HTTP 401 / code 401), so the default checks that expect a 4xx for every invalid
request (``negative_data_rejection``, ``missing_required_header``, ``ignored_auth``,
``unsupported_method``) are switched off for this spec in ``schemathesis.toml`` and replaced by
``device_envelope`` below. Every other default check stays on.

Requests are signed in a ``before_call`` hook, over the exact bytes that are sent: the hook
serializes the body the way the transport would, pins those bytes as the request body, and signs
them with the secret of a phone enrolled through the real register route.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
import yaml
from jsonschema import Draft4Validator  # type: ignore[import-untyped]
from schemathesis import Case, CheckContext, HookContext, Response

from contract_tests._support import (
    CONTRACT_SETTINGS,
    DEFAULT_CHECKS,
    DEVICE_BASE,
    OUTCOMES,
    SPECS,
    count_example,
    describe,
    json_schema,
    load_schema,
)
from recon_impl.security import device_signature, signature_matches

SPEC_FILE = "shooter-device.yaml"
SPEC_TITLE = "Shooter device API"
REGISTER = "/device/register"
SIGNED = frozenset({"/sms/report", "/device/heartbeat"})
ENROLL_HEADER = "X-Enroll-Key"
JSON_MEDIA_TYPE = "application/json"

schema = load_schema(SPEC_FILE)
RAW_SPEC: dict[str, Any] = yaml.safe_load((SPECS / SPEC_FILE).read_text(encoding="utf-8"))


# The phone the suite signs with, and what the service is expected to know --------------------


@dataclass
class DeviceState:
    """Credentials of the enrolled phone and the settings the oracle needs (set per test)."""

    device_id: str = ""
    secret: str = ""
    enrollment_keys: tuple[str, ...] = ()  # conftest's keys (ENROLL_KEY among them)
    window_s: int = 300
    max_body_bytes: int = 256 * 1024
    registered: set[str] = field(default_factory=set)

    @property
    def ready(self) -> bool:
        return bool(self.device_id and self.secret)

    @property
    def enroll_key(self) -> str:
        """The newest enrollment key (the settings list older keys first, for rotation)."""
        return self.enrollment_keys[-1]


DEVICE = DeviceState()


@pytest.fixture
def enrolled_device(contract_app: Any, base_settings: Any) -> Iterator[DeviceState]:
    """Enrol one phone through the real register route (once per test, on emptied stores)."""
    DEVICE.enrollment_keys = tuple(key.get_secret_value() for key in base_settings.enrollment_keys)
    device_id = "contract-phone"  # fixed: the stores are emptied before every test
    answer = contract_app.test_client().post(
        f"{DEVICE_BASE}{REGISTER}",
        json={"device_id": device_id, "name": "Contract phone", "phone": "+84 90 000", "app_version": "1.0"},
        headers={ENROLL_HEADER: DEVICE.enroll_key},
    )
    envelope = answer.json()
    assert answer.status_code == 200 and envelope["code"] == 0, envelope
    DEVICE.device_id, DEVICE.secret = device_id, envelope["data"]["secret"]
    DEVICE.window_s = base_settings.signature_window_s
    DEVICE.max_body_bytes = base_settings.max_body_bytes
    DEVICE.registered = {device_id}
    yield DEVICE
    DEVICE.device_id = DEVICE.secret = ""


# Reading the spec ------------------------------------------------------------------------------


def _header_validators(path: str) -> dict[str, Draft4Validator]:
    operation = RAW_SPEC["paths"][path]["post"]
    validators = {}
    for declared in operation.get("parameters", []):
        parameter = declared
        if "$ref" in declared:
            parameter = RAW_SPEC["components"]["parameters"][declared["$ref"].rsplit("/", 1)[1]]
        if parameter["in"] == "header":
            validators[parameter["name"]] = Draft4Validator(json_schema(parameter["schema"]))
    return validators


BODY_VALIDATORS = {
    path: Draft4Validator(json_schema(item["post"]["requestBody"]["content"][JSON_MEDIA_TYPE]["schema"]))
    for path, item in RAW_SPEC["paths"].items()
}
HEADER_VALIDATORS = {path: _header_validators(path) for path in RAW_SPEC["paths"]}


def _is_device_case(case: Case[Any]) -> bool:
    info = case.operation.schema.raw_schema.get("info") or {}
    return info.get("title") == SPEC_TITLE


# Signing hook ----------------------------------------------------------------------------------


def _wire_body(case: Case[Any], kwargs: Mapping[str, Any]) -> bytes | None:
    """The body bytes the transport would send for ``case``: serialized exactly as the transport
    serializes it (``as_transport_kwargs``), then encoded by ``requests`` as it will be."""
    serialized = case.as_transport_kwargs(headers=kwargs.get("headers"))
    if not any(key in serialized for key in ("json", "data", "files")):
        return None
    prepared = requests.Request(
        method=serialized["method"],
        url=serialized["url"],
        headers=serialized["headers"],
        json=serialized.get("json"),
        data=serialized.get("data"),
        files=serialized.get("files"),
    ).prepare()
    return _as_bytes(prepared.body)


def _as_bytes(body: object) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    raise TypeError(f"a streamed request body cannot be signed: {type(body).__name__}")


def _sign(case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Put valid credentials on the request, except where the generated case broke them.

    A credential header that is present and valid for the schema is replaced by the real value
    (the enrolled phone's id, the current time, the signature; the enrollment key). One that the
    generator removed or made schema-invalid (negative data, the coverage phase's missing-header
    cases) is left as generated, so the service must answer 401.
    """
    path = case.operation.path
    headers = case.headers
    validators = HEADER_VALIDATORS.get(path, {})

    def intact(name: str) -> bool:
        return name in headers and validators[name].is_valid(headers[name])

    if path == REGISTER:
        if intact(ENROLL_HEADER):
            headers[ENROLL_HEADER] = DEVICE.enroll_key
        return
    if path not in SIGNED:
        return
    body = _wire_body(case, kwargs)
    if body is not None:
        kwargs["data"] = body  # pin the signed bytes: what was signed is what is sent
    stamp = str(int(time.time()))
    if intact("X-Device-Id"):
        headers["X-Device-Id"] = DEVICE.device_id
    if intact("X-Timestamp"):
        headers["X-Timestamp"] = stamp
    if intact("X-Signature"):
        sent_stamp = headers.get("X-Timestamp", stamp)
        headers["X-Signature"] = device_signature(DEVICE.secret, str(sent_stamp).encode(), body or b"")


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Sign every device request (the hook is global; it leaves other specs alone)."""
    if not _is_device_case(case):
        return
    if not DEVICE.ready:
        raise RuntimeError("no enrolled phone: device tests need the `enrolled_device` fixture")
    _sign(case, kwargs)


# The envelope check ----------------------------------------------------------------------------


def _sent_body(response: Response) -> bytes:
    return _as_bytes(response.request.body) or b""


def _header(request: requests.PreparedRequest, name: str) -> str | None:
    value = request.headers.get(name)
    return None if value is None else str(value)


def _credentials_ok(path: str, request: requests.PreparedRequest, body: bytes) -> bool:
    """Would the service accept these credentials? (Decided from the request as sent.)"""
    if path == REGISTER:
        return _header(request, ENROLL_HEADER) in DEVICE.enrollment_keys
    device_id = _header(request, "X-Device-Id")
    stamp = _header(request, "X-Timestamp")
    signature = _header(request, "X-Signature")
    if device_id is None or stamp is None or signature is None:
        return False
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return False
    if abs(time.time() - int(stamp)) > DEVICE.window_s:
        return False
    return device_id == DEVICE.device_id and signature_matches(DEVICE.secret, stamp.encode(), body, signature)


def _body_problem(path: str, request: requests.PreparedRequest, body: bytes) -> str | None:
    """Why the request is invalid for the spec (None when it is valid)."""
    if urlsplit(request.url or "").query:
        return "query parameters are not declared"
    media_type = (_header(request, "Content-Type") or "").split(";")[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        return f"media type {media_type!r}"
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "the body is not JSON"
    error = next(iter(BODY_VALIDATORS[path].iter_errors(document)), None)
    return None if error is None else error.message


def _expected(case: Case[Any], response: Response) -> tuple[int, set[int], str]:
    """(HTTP status, acceptable envelope codes, why) the contract demands for this request."""
    request = response.request
    path = case.operation.path
    body = _sent_body(response)
    if (request.method or "").upper() != "POST":
        return 405, {1001}, "a method the route does not have"
    if len(body) > DEVICE.max_body_bytes:
        return 200, {1001}, "a body over the size limit"
    if not _credentials_ok(path, request, body):
        return 401, {401}, "credentials the service must refuse"
    problem = _body_problem(path, request, body)
    if problem is not None:
        return 200, {1001}, f"an invalid request ({problem})"
    if path == REGISTER:
        document = json.loads(body)
        if document["device_id"] in DEVICE.registered:
            return 200, {1003}, "a device_id that is already registered"
    return 200, {0}, "a valid, correctly signed request"


@schemathesis.check
def device_envelope(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The legacy envelope semantics of the device routes.

    Never a 5xx; the body is ``{code, msg, data}``; ``data`` is null whenever ``code`` != 0;
    ``code`` is 0 exactly when the request was valid and correctly signed; invalid input is code
    1001 at HTTP 200; broken credentials are code 401 at HTTP 401; a duplicate ``device_id`` on
    register is code 1003; a method the route lacks is HTTP 405 (envelope 1001, ``Allow: POST``).
    """
    if not _is_device_case(case):
        return None
    assert response.status_code < 500, f"HTTP {response.status_code}: {describe(response.content)}"
    status, codes, why = _expected(case, response)
    if case.meta is not None and case.meta.generation.mode.is_positive and status != 405:
        # Guards the hook itself: schema-valid data always carries intact credential headers, so
        # the signature must verify over the bytes that were actually sent.
        assert status != 401, f"the signing hook left a positive case unauthenticated ({why})"
    assert response.status_code == status, (
        f"{why}: expected HTTP {status}, got {response.status_code} {describe(response.content)}"
    )
    if (response.request.method or "").upper() == "HEAD":
        return None  # no body to read
    if status == 405:
        allow = ",".join(response.headers.get("allow", []))
        assert "POST" in allow, f"405 without `Allow: POST` (Allow: {allow!r})"
    try:
        envelope = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"the body is not JSON: {describe(response.content)}") from exc
    assert isinstance(envelope, dict) and set(envelope) == {"code", "msg", "data"}, (
        f"not the envelope: {describe(envelope)}"
    )
    assert isinstance(envelope["msg"], str), f"msg is not a string: {describe(envelope)}"
    code = envelope["code"]
    OUTCOMES[(case.operation.path, response.status_code, code)] += 1
    assert code in codes, f"{why}: expected code {sorted(codes)}, got {describe(envelope)}"
    if code == 0:
        assert envelope["data"] is not None, f"code 0 without data: {describe(envelope)}"
        if case.operation.path == REGISTER:
            DEVICE.registered.add(json.loads(_sent_body(response))["device_id"])
    else:
        assert envelope["data"] is None, f"code {code} with data: {describe(envelope)}"
    return None


# The suite -------------------------------------------------------------------------------------


@schema.parametrize()
@CONTRACT_SETTINGS
def test_device_api(case: Case[Any], enrolled_device: DeviceState) -> None:
    """Examples, coverage and fuzzing phases; positive and negative data; signed in the hook."""
    count_example("device")
    case.call_and_validate()


def test_the_device_project_replaces_only_the_4xx_checks() -> None:
    """The named project in schemathesis.toml switches off exactly the four 4xx-assuming checks."""
    checks = schema.config.checks
    disabled = {name for name in DEFAULT_CHECKS if not checks.get_by_name(name=name).enabled}
    assert disabled == {
        "negative_data_rejection",
        "missing_required_header",
        "ignored_auth",
        "unsupported_method",
    }
    assert checks.get_by_name(name="device_envelope").enabled
