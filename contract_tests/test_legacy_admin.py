"""Schemathesis over every operation of legacy-admin.yaml (the admin edge, admin_compat), in-process,
in front of a real recon_service on loopback, with envelope semantics checked by custom checks.

The legacy API answers invalid input and business errors with HTTP 200 and a non-zero ``code``, so
the default checks that expect a 4xx for every invalid request (``negative_data_rejection``,
``missing_required_header``, ``ignored_auth``, ``unsupported_method``) are switched off for this
spec in ``schemathesis.toml`` and replaced by ``legacy_envelope`` and ``refresh_header_when_due``
below, which decide from the request as sent what the contract demands. Every other default check
stays on.

Every request carries a session token (``LegacySessions``, the schema's auth provider), made with
``admin_compat.legacy_auth.create_session``. Part of the run uses sessions near expiry (refresh due
on their first use), their old tokens again inside the grace (the same new token comes back),
sessions whose login is over 24 h old (no refresh), and a viewer without ``recon:edit`` (403).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import hypothesis
import pytest
import requests
import schemathesis
import yaml
from jsonschema import Draft4Validator  # type: ignore[import-untyped]
from schemathesis import AuthContext, Case, CheckContext, HookContext, Response

from admin_compat.legacy_auth import (
    MAX_REFRESH_AGE,
    REFRESH_BELOW,
    SESSION_TTL,
    Session,
    create_session,
    credential_from_headers,
    has_permission,
    refreshed_key,
    session_key,
)
from contract_tests._support import (
    CONTRACT_SETTINGS,
    DEFAULT_CHECKS,
    EDGE,
    LEGACY_OUTCOMES,
    LEGACY_REFRESHES,
    SPECS,
    STATEFUL_SETTINGS,
    count_example,
    describe,
    json_schema,
    load_schema,
)

SPEC_FILE = "legacy-admin.yaml"
RAW_SPEC: dict[str, Any] = yaml.safe_load((SPECS / SPEC_FILE).read_text(encoding="utf-8"))
SPEC_TITLE = RAW_SPEC["info"]["title"]
JSON_MEDIA_TYPE = "application/json"
REFRESH_HEADER = "X-Refresh-Token"
NEW_TOKEN = re.compile(r"[0-9a-f]{32}")
EDITOR_PERMS = ("recon:view", "recon:edit", "recon:check", "recharge:approve")
NEAR_EXPIRY_TTL = 1000  # s left: under REFRESH_BELOW, so the first use refreshes
EDGE_LIMITS = {"max_body_bytes": 65536}  # set from the edge's settings by the fixture

schema = load_schema(SPEC_FILE, app=EDGE)

# What a valid, permitted request may answer besides 0 while recon and the wallet are up (legacy
# contract, section 3): ids drawn at random name no record (1002); an add may repeat one (1003);
# a template whose `sample` does not parse, or whose `tz`/`time_format` is not one the engine reads,
# is 1001 (no JSON Schema can say "parses with this template"); check and reset depend on the SMS's
# state (1004), and confirm without any order id is 1001. 5003 is never acceptable here.
BUSINESS_ANSWERS: dict[str, frozenset[int]] = {
    "/pushbullet/device/add": frozenset({1003}),
    "/pushbullet/device/delete": frozenset({1002}),
    "/shooter/template/add": frozenset({1001}),
    "/shooter/template/delete": frozenset({1002}),
    "/shooter/whitelist/add": frozenset({1003}),
    "/shooter/whitelist/delete": frozenset({1002}),
    "/shooter/sms/get": frozenset({1002}),
    "/shooter/sms/reset": frozenset({1002, 1004}),
    "/shooter/sms/check": frozenset({1001, 1002, 1004}),
    "/shooter/device/trust": frozenset({1002}),
    "/shooter/device/delete": frozenset({1002}),
    "/recharge/approve": frozenset({1002, 1004}),
}
# Twice the other suites' scenarios: three collections share one run, and one add in three (template
# adds: a random `tz` or `sample` is a correct 1001) yields no id to walk on from.
LEGACY_STATEFUL_SETTINGS = hypothesis.settings(
    STATEFUL_SETTINGS, max_examples=2 * STATEFUL_SETTINGS.max_examples
)

# Ranges the legacy spec leaves open (it is frozen: a new maximum would be a breaking change for
# the compatibility guard) and recon, the system of record, closes (recon-internal.yaml). The edge
# forwards such values and reports recon's 400 as 1001 "invalid parameter" (the contract's "out of
# range"), so for a body that goes beyond one of them 1001 is an accepted answer too.
RECON_TEXT_LIMITS = {
    "nickname": 100,
    "phone": 32,
    "device_iden": 64,
    "bank_code": 32,
    "sender": 255,
    "content": 2000,
    "time_format": 64,
    "sample": 2000,
    "remark": 255,
    "order_id": 64,
    "keyword": 100,
}
# (Ids beyond recon's bigints are not among them: such an id names no record, 1002.)
RECON_INT_LIMITS = {"page": 1_000_000, "start_time": 253_402_300_799, "end_time": 253_402_300_799}
# The add -> list -> delete walks the spec's OpenAPI links declare (stateful run).
LINKED = {
    "pushbullet": ("/pushbullet/device/add", "/pushbullet/device/list", "/pushbullet/device/delete"),
    "templates": ("/shooter/template/add", "/shooter/template/list", "/shooter/template/delete"),
    "whitelist": ("/shooter/whitelist/add", "/shooter/whitelist/list", "/shooter/whitelist/delete"),
}
FILTERS = {
    "/pushbullet/device/list": "status",
    "/shooter/template/list": "bank_code",
    "/shooter/whitelist/list": "phone",
}


# Reading the spec ------------------------------------------------------------------------------


def _resolved(node: Any) -> Any:
    """``node`` with every local ``$ref`` replaced by its target (the spec has no cycles)."""
    if isinstance(node, list):
        return [_resolved(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = RAW_SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolved(target)
    return {key: _resolved(value) for key, value in node.items()}


@dataclass(frozen=True)
class Operation:
    """What the oracle needs to know about one operation of the spec."""

    permission: str
    body: Draft4Validator | None  # None: the operation takes no body (the GET forms)
    query: dict[str, Draft4Validator]


def _operation(definition: dict[str, Any]) -> Operation:
    request_body = _resolved(definition.get("requestBody"))
    body = None
    if request_body is not None:
        body = Draft4Validator(json_schema(request_body["content"][JSON_MEDIA_TYPE]["schema"]))
    query = {
        parameter["name"]: Draft4Validator(json_schema(parameter["schema"]))
        for parameter in _resolved(definition.get("parameters", []))
        if parameter["in"] == "query"
    }
    return Operation(definition["x-permission"], body, query)


OPERATIONS: dict[tuple[str, str], Operation] = {
    (method.upper(), path): _operation(definition)
    for path, item in RAW_SPEC["paths"].items()
    for method, definition in item.items()
}


def _operation_of(method: str, path: str) -> Operation | None:
    """The spec's operation a request reaches (HEAD is routed wherever GET is)."""
    method = method.upper()
    return OPERATIONS.get(("GET" if method == "HEAD" else method, path))


def _is_legacy_case(case: Case[Any]) -> bool:
    info = case.operation.schema.raw_schema.get("info") or {}
    return info.get("title") == SPEC_TITLE


# Sessions: the auth provider and what each request's session said before the call ------------


@dataclass(frozen=True)
class Before:
    """What Redis said about the request's credential just before the request was sent."""

    session: Session | None  # None: the edge must answer 401
    refresh: str | None  # None: no refresh due; "new": a new token is due; else the token minted before


@dataclass
class LegacySessions:
    """The tokens the run uses, made through ``admin_compat.legacy_auth.create_session``.

    Most requests use an editor session with its full TTL (no refresh due). In every cycle of
    eight, two requests get a new session with ``NEAR_EXPIRY_TTL`` left (refresh due on first use),
    the request after a refresh reuses the old token inside its 60 s grace (the same new token must
    come back), one gets a near-expiry session whose login is 25 h old (no refresh: it runs out),
    and one a viewer without ``recon:edit`` (403 on the edit routes).
    """

    redis: Any = None
    editor: str = ""
    viewer: str = ""
    calls: int = 0
    grace: list[str] = field(default_factory=list)  # old tokens just refreshed, to reuse once
    before: dict[str, Before] = field(default_factory=dict)  # by case id

    def start(self, client: Any) -> None:
        """New sessions over emptied stores (Redis was just flushed)."""
        self.redis, self.calls = client, 0
        self.grace.clear()
        self.before.clear()
        self.editor = self.login(EDITOR_PERMS)
        self.viewer = self.login(("recon:view",), username="viewer")

    def login(
        self, perms: tuple[str, ...], *, username: str = "alice", ttl: int = SESSION_TTL, age: int = 60
    ) -> str:
        session = Session(
            admin_id=7, username=username, role_id=2, perms=perms, login_at=int(time.time()) - age
        )
        return create_session(self.redis, session, ttl=ttl)

    def next_token(self) -> str:
        if self.redis is None:
            raise RuntimeError("no legacy sessions: legacy tests need the `sessions` fixture")
        self.calls += 1
        if self.grace:
            return self.grace.pop()
        turn = self.calls % 8
        if turn in (1, 5):
            return self.login(EDITOR_PERMS, ttl=NEAR_EXPIRY_TTL)
        if turn == 3:
            return self.login(EDITOR_PERMS, ttl=NEAR_EXPIRY_TTL, age=MAX_REFRESH_AGE + 3600)
        if turn == 7:
            return self.viewer
        return self.editor

    def look(self, token: str | None) -> Before:
        """The session and the refresh the contract's section 2 says this token gets now."""
        if token is None:
            return Before(None, None)
        raw, marker, left_ms = (
            self.redis.pipeline()
            .get(session_key(token))
            .get(refreshed_key(token))
            .pttl(session_key(token))
            .execute()
        )
        session = Session.from_json(raw) if raw is not None else None
        if session is None:
            return Before(None, None)
        if marker is not None:
            return Before(session, marker)
        due = 0 <= left_ms < REFRESH_BELOW * 1000 and time.time() - session.login_at <= MAX_REFRESH_AGE
        return Before(session, "new" if due else None)


SESSIONS = LegacySessions()


@pytest.fixture
def sessions(legacy_edge: Any) -> Iterator[LegacySessions]:
    SESSIONS.start(legacy_edge.redis)
    yield SESSIONS
    SESSIONS.redis = None


# Explicit examples are generated when the tests are collected, long before any session exists, so
# the provider puts this placeholder on the case and ``before_call`` swaps in a live token.
SESSION_PLACEHOLDER = "session-token-at-call-time"


@schema.auth()
class SessionToken:
    """``X-Token`` on every generated request. Registered as the schema's auth provider, so
    Schemathesis knows the credential is explicit; the placeholder is replaced at call time by a
    token from ``LegacySessions`` (the token changes from one request to the next)."""

    def get(self, case: Case[Any], ctx: AuthContext) -> str:
        return SESSION_PLACEHOLDER

    def set(self, case: Case[Any], data: str, ctx: AuthContext) -> None:
        case.headers["X-Token"] = data


def _sent_headers(case: Case[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, Any] = case.as_transport_kwargs(headers=kwargs.get("headers"))["headers"]
    return headers


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """Record what the request's session says just before the call (the hook is global; it
    leaves other specs alone)."""
    if not _is_legacy_case(case):
        return
    if case.headers and case.headers.get("X-Token") == SESSION_PLACEHOLDER:
        case.headers["X-Token"] = SESSIONS.next_token()
    headers = {str(k): str(v) for k, v in _sent_headers(case, kwargs).items()}
    if _operation_of(case.method, case.operation.path) is None:
        # a method the route lacks: no authentication happens (405), so no refresh either
        SESSIONS.before[case.id] = Before(None, None)
        return
    SESSIONS.before[case.id] = SESSIONS.look(credential_from_headers(headers))


@schemathesis.hook
def after_call(context: HookContext, case: Case[Any], response: Response) -> None:
    """Like the front-end: an old token that was just refreshed is used once more, in its grace."""
    if not _is_legacy_case(case):
        return
    before = SESSIONS.before.get(case.id)
    if before is not None and before.refresh == "new" and REFRESH_HEADER.lower() in response.headers:
        token = _header(response.request, "X-Token")
        if token is not None:
            SESSIONS.grace.append(token)


# The oracle ------------------------------------------------------------------------------------


def _header(request: requests.PreparedRequest, name: str) -> str | None:
    value = request.headers.get(name)
    return None if value is None else str(value)


def _sent_body(response: Response) -> bytes:
    body = response.request.body
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _label(case: Case[Any]) -> str:
    return f"{case.method.upper()} {case.operation.path}"


def _query_problem(operation: Operation, url: str) -> str | None:
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        validator = operation.query.get(name)
        if validator is None:
            continue  # unknown query parameters are ignored (cache-busters)
        try:
            number = int(value)
        except ValueError:
            return f"query {name}={value!r} is not an integer"
        error = next(iter(validator.iter_errors(number)), None)
        if error is not None:
            return f"query {name}: {error.message}"
    return None


def _beyond_recon(path: str, document: Any) -> str | None:
    """Which of recon's closed ranges (``RECON_TEXT_LIMITS``...) a valid body goes beyond."""
    if not isinstance(document, dict):
        return None
    for name, value in document.items():
        if isinstance(value, str):
            if "\x00" in value or (name == "keyword" and "\x1f" in value):
                return f"{name} holds a character recon does not store"
            if len(value) > RECON_TEXT_LIMITS.get(name, 10**6):
                return f"{name} longer than recon's {RECON_TEXT_LIMITS[name]}"
            if path == "/shooter/whitelist/add" and name == "phone" and re.fullmatch(r"[\s+-]*", value):
                return "a phone that normalizes to nothing"
        elif isinstance(value, int) and name in RECON_INT_LIMITS and value > RECON_INT_LIMITS[name]:
            return f"{name} beyond recon's range"
    return None


def _document(request: requests.PreparedRequest, body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeError, ValueError):
        return None


def _body_problem(operation: Operation, request: requests.PreparedRequest, body: bytes) -> str | None:
    """Why the body is invalid for the spec (None when valid); a missing or empty body is ``{}``."""
    if operation.body is None:
        return None
    document: Any = {}
    if body.strip():
        media_type = (_header(request, "Content-Type") or JSON_MEDIA_TYPE).split(";")[0].strip().lower()
        if media_type != JSON_MEDIA_TYPE:
            return f"media type {media_type!r}"
        try:
            document = json.loads(body.decode("utf-8"))
            json.dumps(document, ensure_ascii=False).encode("utf-8")  # no lone surrogate
        except (UnicodeError, ValueError):
            return "the body is not UTF-8 JSON"
    error = next(iter(operation.body.iter_errors(document)), None)
    return None if error is None else error.message


def expected(case: Case[Any], response: Response, before: Before) -> tuple[int, frozenset[int], str]:
    """(HTTP status, acceptable envelope codes, why) the contract demands for this request."""
    request = response.request
    path = case.operation.path
    operation = _operation_of(request.method or "", path)
    if (request.method or "").upper() == "OPTIONS":
        return 204, frozenset(), "a CORS preflight"
    if operation is None:
        return 405, frozenset({1001}), "a method the route does not have"
    if before.session is None:
        return 401, frozenset({401}), "a token that is missing, invalid or expired"
    if not has_permission(before.session, operation.permission):  # checked before the input
        return 403, frozenset({403}), f"a session without {operation.permission}"
    body = _sent_body(response)
    if len(body) > EDGE_LIMITS["max_body_bytes"]:
        return 200, frozenset({1001}), "a body over the size limit"
    problem = _query_problem(operation, request.url or "") or _body_problem(operation, request, body)
    if problem is not None:
        return 200, frozenset({1001}), f"invalid input ({problem})"
    codes = frozenset({0}) | BUSINESS_ANSWERS.get(path, frozenset())
    document = _document(request, body)
    if operation.body is None:  # the GET forms: the query is the input
        document = {
            k: int(v) for k, v in parse_qsl(urlsplit(request.url or "").query) if k in operation.query
        }
    beyond = _beyond_recon(path, document)
    if beyond is not None:
        return 200, codes | {1001}, f"a valid, permitted request ({beyond})"
    return 200, codes, "a valid, permitted request"


def _envelope(response: Response) -> dict[str, Any]:
    try:
        envelope = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"the body is not JSON: {describe(response.content)}") from exc
    assert isinstance(envelope, dict) and set(envelope) == {"code", "msg", "data"}, (
        f"not the envelope: {describe(envelope)}"
    )
    assert isinstance(envelope["code"], int) and not isinstance(envelope["code"], bool), describe(envelope)
    assert isinstance(envelope["msg"], str) and envelope["msg"], f"msg is not a text: {describe(envelope)}"
    return envelope


def _before(case: Case[Any]) -> Before:
    before = SESSIONS.before.get(case.id)
    assert before is not None, "the before_call hook did not record the session state"
    return before


# The custom checks ------------------------------------------------------------------------------


@schemathesis.check
def legacy_envelope(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The legacy envelope semantics (contract section 1) of every admin answer.

    Never a 5xx; the body is exactly ``{code, msg, data}``; ``code`` is 0 (with ``msg``
    ``"success"``) exactly when the request was valid, authenticated and permitted, and otherwise
    the code the contract names: 1001 at HTTP 200 for invalid input (whatever the generation mode
    said, decided from the bytes sent), 401 at HTTP 401 for a bad token, 403 at HTTP 403 for a
    missing permission, and for valid input only the business codes the operation documents
    (``BUSINESS_ANSWERS``); ``data`` is null whenever ``code`` != 0.
    """
    if not _is_legacy_case(case):
        return None
    assert response.status_code < 500, f"HTTP {response.status_code}: {describe(response.content)}"
    status, codes, why = expected(case, response, _before(case))
    assert response.status_code == status, (
        f"{why}: expected HTTP {status}, got {response.status_code} {describe(response.content)}"
    )
    if status == 204:
        allowed = {
            part.strip().lower()
            for part in ",".join(response.headers.get("access-control-allow-headers", [])).split(",")
        }
        assert {"x-token", "authorization", "content-type"} <= allowed, f"preflight allows only {allowed}"
        return None
    if (response.request.method or "").upper() == "HEAD":
        return None  # no body to read
    if status == 405:
        allow = ",".join(response.headers.get("allow", []))
        assert "POST" in allow or "GET" in allow, f"405 without the route's methods in Allow ({allow!r})"
    envelope = _envelope(response)
    code = envelope["code"]
    LEGACY_OUTCOMES[(_label(case), response.status_code, code)] += 1
    assert code in codes, f"{why}: expected code {sorted(codes)}, got {describe(envelope)}"
    if code == 0:
        assert envelope["msg"] == "success", f"code 0 with msg {envelope['msg']!r}"
    else:
        assert envelope["data"] is None, f"code {code} with data: {describe(envelope)}"
    return None


@schemathesis.check
def refresh_header_when_due(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """``X-Refresh-Token`` exactly when a refresh was due (contract section 2).

    Due means: the token's session had under 1800 s left and a login under 24 h old (a new
    32-hex token, stored with a fresh 7200 s TTL, the old key cut to at most 60 s), or the token
    had been refreshed already (the same new token again). Never on a 401; on any other answer
    that passed authentication, errors included. ``Access-Control-Expose-Headers`` names the
    header on every answer.
    """
    if not _is_legacy_case(case):
        return None
    exposed = ",".join(response.headers.get("access-control-expose-headers", []))
    assert REFRESH_HEADER.lower() in exposed.lower(), f"Access-Control-Expose-Headers is {exposed!r}"
    before = _before(case)
    sent = response.headers.get(REFRESH_HEADER.lower(), [])
    if response.status_code == 401 or before.refresh is None:
        LEGACY_REFRESHES["none"] += 1
        assert not sent, f"X-Refresh-Token {sent} on HTTP {response.status_code} though no refresh was due"
        return None
    assert len(sent) == 1, f"a refresh was due ({before.refresh}) but X-Refresh-Token is {sent}"
    token = sent[0]
    old = _header(response.request, "X-Token") or ""
    if before.refresh != "new":
        LEGACY_REFRESHES["grace"] += 1
        assert token == before.refresh, f"the old token in its grace got {token}, not {before.refresh}"
        return None
    LEGACY_REFRESHES["new"] += 1
    assert NEW_TOKEN.fullmatch(token) and token != old, f"not a new 32-hex token: {token!r}"
    client = SESSIONS.redis
    assert client.get(refreshed_key(old)) == token, "admin:token:refreshed:<old> does not name the new token"
    assert client.get(session_key(token)) == client.get(session_key(old)), "the new key holds another session"
    assert client.ttl(session_key(token)) > SESSION_TTL - 60, "the new token has no fresh 7200 s TTL"
    assert 0 < client.ttl(session_key(old)) <= 60, "the old token's TTL was not cut to the 60 s grace"
    return None


# The suites --------------------------------------------------------------------------------------


@pytest.fixture
def legacy(sessions: LegacySessions, legacy_edge: Any) -> LegacySessions:
    EDGE_LIMITS["max_body_bytes"] = legacy_edge.max_body_bytes
    return sessions


@schema.parametrize()
@CONTRACT_SETTINGS
def test_legacy_admin_api(case: Case[Any], legacy: LegacySessions) -> None:
    """Examples, coverage and fuzzing phases; positive and negative data; envelope checks."""
    count_example("legacy")
    case.call_and_validate()


def test_the_legacy_project_replaces_only_the_4xx_checks() -> None:
    """The named project in schemathesis.toml switches off exactly the four 4xx-assuming checks,
    and both envelope checks are on."""
    checks = schema.config.checks
    disabled = {name for name in DEFAULT_CHECKS if not checks.get_by_name(name=name).enabled}
    assert disabled == {
        "negative_data_rejection",
        "missing_required_header",
        "ignored_auth",
        "unsupported_method",
    }
    assert checks.get_by_name(name="legacy_envelope").enabled
    assert checks.get_by_name(name="refresh_header_when_due").enabled


@dataclass
class Collections:
    """The model of the stateful run: the ids each collection holds, and the walks seen."""

    live: dict[str, set[int]] = field(default_factory=dict)
    walked: Counter[tuple[str, str]] = field(default_factory=Counter)

    def reset(self) -> None:
        self.live = {name: set() for name in LINKED}

    def observe(self, case: Case[Any], response: Response) -> None:
        """Hold the edge to the model: an added id is listed until deleted, then it is gone."""
        if not _is_legacy_case(case):
            return
        status, codes, _ = expected(case, response, _before(case))
        if status != 200 or 0 not in codes:
            return  # invalid input or a viewer's session: the model does not move (legacy_envelope holds it)
        envelope = json.loads(response.content)
        body = case.body if isinstance(case.body, dict) else {}
        for name, (add, listing, delete) in LINKED.items():
            live = self.live[name]
            path = case.operation.path
            if path == add and envelope["code"] == 0:
                live.add(envelope["data"]["id"])
                self.walked[(name, "add")] += 1
            elif path == listing and envelope["code"] == 0:
                self._listed(name, body, envelope["data"])
            elif path == delete and isinstance(body.get("id"), int) and not isinstance(body["id"], bool):
                if body["id"] in live:
                    assert envelope["code"] == 0, f"deleting listed {name} {body['id']}: {envelope}"
                    live.remove(body["id"])
                    self.walked[(name, "delete")] += 1
                else:
                    assert envelope["code"] in (1001, 1002), (
                        f"deleting unknown {name} {body['id']}: {envelope}"
                    )

    def _listed(self, name: str, body: dict[str, Any], data: dict[str, Any]) -> None:
        live = self.live[name]
        ids = [item["id"] for item in data["list"]]
        assert set(ids) <= live, f"{name} lists ids never added or already deleted: {set(ids) - live}"
        assert ids == sorted(ids, reverse=True), f"{name} list is not newest first: {ids}"
        unfiltered = body.get(FILTERS[LINKED[name][1]]) in (None, "")
        if unfiltered and data["page"] == 1 and data["page_size"] >= len(live):
            assert data["total"] == len(live) and set(ids) == live, f"{name}: listed {ids}, added {live}"
            if live:
                self.walked[(name, "list")] += 1


def test_legacy_admin_stateful(legacy: LegacySessions, empty_stores: Callable[[], None]) -> None:
    """add -> list -> delete chains over the spec's OpenAPI links (Pushbullet accounts, templates,
    whitelist), with every check on, the envelope checks included, and a model of each collection:
    an added id is listed (newest first) until it is deleted, deleting it answers 0, and deleting
    it again answers 1002."""
    model = Collections()
    refreshes_before = LEGACY_REFRESHES.copy()
    linked = schema.include(name=[f"POST {path}" for paths in LINKED.values() for path in paths])
    base = linked.as_state_machine()

    class LegacyLinks(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            empty_stores()  # every scenario starts from the same (empty) state
            legacy.start(legacy.redis)  # the flush dropped the sessions
            model.reset()

        def before_call(self, case: Case[Any]) -> None:
            count_example("legacy-stateful")
            if case.operation.path == LINKED["templates"][0] and isinstance(case.body, dict):
                # A random `tz`, `time_format` or `sample` is a correct 1001 (the fuzzing suite
                # sends plenty); the walk needs templates that exist, so those three are dropped.
                for name in ("tz", "time_format", "sample"):
                    case.body.pop(name, None)

        def after_call(self, response: Response, case: Case[Any]) -> None:
            super().after_call(response, case)
            model.observe(case, response)

    LegacyLinks.run(settings=LEGACY_STATEFUL_SETTINGS)

    # The run must really have walked every link, not only drawn random ids.
    for name in LINKED:
        walked = {step: model.walked[(name, step)] for step in ("add", "list", "delete")}
        assert all(walked.values()), (name, walked)
    # ... and the refresh check must have met every case of section 2.
    seen = LEGACY_REFRESHES - refreshes_before
    assert all(seen[kind] for kind in ("new", "grace", "none")), seen
