"""What the contract suites share: the Schemathesis configuration, the Hypothesis budget, the
in-process app proxies, OpenAPI-to-JSON-Schema conversion and a tally of the examples that were
sent."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import hypothesis
import schemathesis
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.core import NotSet
from schemathesis.specs.openapi.schemas import OpenApiSchema

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "openapi"
CONFIG_FILE = ROOT / "schemathesis.toml"

INTERNAL_BASE = "/internal/recon/v1"
DEVICE_BASE = "/api/shooter"

# Generated inputs per operation and per Hypothesis test (fuzzing phase). The explicit examples and
# the coverage phase add their own cases on top of this, a bounded number per operation.
MAX_EXAMPLES = 40
# Stateful run: scenarios (Hypothesis examples) x at most this many steps each.
STATEFUL_SCENARIOS = 30
STATEFUL_STEPS = 8

# One settings object for every test: deterministic (derandomize), no example database, no
# deadline (the database is real). `function_scoped_fixture` is suppressed on purpose: each test
# function starts from `clean_stores` once and state then accumulates across its examples, which
# is what an API fuzzer against a shared database expects. `too_slow` is a warning about input
# generation only (every example is a real HTTP round-trip through PostgreSQL and Redis).
CONTRACT_SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STATEFUL_SETTINGS = hypothesis.settings(
    max_examples=STATEFUL_SCENARIOS,
    stateful_step_count=STATEFUL_STEPS,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[hypothesis.Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# Schemathesis' default checks (all of them on for the internal API).
DEFAULT_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "ignored_auth",
    "object_level_authorization",
    "unsupported_method",
    "allow_header_conformance",
)

# Examples sent per suite, device answers per (path, HTTP status, envelope code) and admin edge
# answers per (operation, HTTP status, envelope code); printed at the end of the run (see
# contract_tests/conftest.py).
EXAMPLES: Counter[str] = Counter()
OUTCOMES: Counter[tuple[str, int, int]] = Counter()
LEGACY_OUTCOMES: Counter[tuple[str, int, int]] = Counter()
# What the admin edge's refresh check saw: "new" (a refresh was due and granted), "grace" (an old
# token in its grace got the same new token), "none" (no refresh due, no header).
LEGACY_REFRESHES: Counter[str] = Counter()


# Formats the internal spec names for rules JSON Schema cannot state exactly (``format`` is an
# open vocabulary in OpenAPI). Connexion ignores unknown formats and the service validates these
# values itself (400 when wrong); here they teach the generator the valid values, so schema-valid
# positive data is also valid for the service and ``positive_data_acceptance`` holds.
TEMPLATE_PLACEHOLDERS = ("balance", "card", "name", "time", "ref")
_TEMPLATE_TEXT = st.text(
    alphabet=st.characters(exclude_characters="{}\x00", exclude_categories=["Cs"]), max_size=40
)


@st.composite
def recon_templates(draw: st.DrawFn) -> str:
    """Template content (legacy contract section 7): ``{amount}`` once, other placeholders at most
    once each, ``{*}`` any number of times, literal text between them."""
    names = ["amount", *draw(st.lists(st.sampled_from(TEMPLATE_PLACEHOLDERS), unique=True))]
    names += ["*"] * draw(st.integers(min_value=0, max_value=2))
    parts = [draw(_TEMPLATE_TEXT)]
    for name in draw(st.permutations(names)):
        parts += ["{" + name + "}", draw(_TEMPLATE_TEXT)]
    return "".join(parts)


schemathesis.openapi.format("recon-template", recon_templates())
schemathesis.openapi.format("iana-time-zone", st.sampled_from(sorted(available_timezones())))


class AppProxy:
    """An ASGI app that forwards to recon_service once the session fixture has built it.

    The schemas are loaded at import time (``@schema.parametrize()`` needs them to collect one
    test per operation), before any fixture runs; recon_service needs the database fixtures. The
    schemas are therefore bound to this proxy, and ``contract_tests/conftest.py`` points it at the
    session app (``shared_app``), and to the service token of its settings. Requests still go
    in-process through Schemathesis' ASGI transport. (``schemathesis.pytest.from_fixture`` would
    avoid the proxy, but its lazy runner uses ``Function._nodeid``, which pytest 9 no longer has.)
    """

    def __init__(self, fixture: str = "contract_app") -> None:
        self.target: Any = None
        self.service_token = ""
        self.fixture = fixture

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.target is None:
            raise RuntimeError(f"the contract app proxy is not bound: use the `{self.fixture}` fixture")
        await self.target(scope, receive, send)


APP = AppProxy()
# The legacy admin edge (admin_compat), bound by the `legacy_edge` fixture the same way.
EDGE = AppProxy("legacy_edge")


def load_schema(spec: str, app: AppProxy = APP) -> OpenApiSchema:
    """One spec file, with its own fresh configuration, bound to an in-process app."""
    schema = schemathesis.openapi.from_path(SPECS / spec, config=load_config())
    schema.app = app
    return schema


def load_config() -> schemathesis.Config:
    """A fresh configuration from ``schemathesis.toml`` (fresh, so one suite's changes stay its own)."""
    return schemathesis.Config.from_path(str(CONFIG_FILE))


def count_example(suite: str) -> None:
    EXAMPLES[suite] += 1


IDEMPOTENCY_HEADER = "Idempotency-Key"


def pin_idempotency_key(case: Case[Any]) -> None:
    """Make a generated ``Idempotency-Key`` name one request body only.

    The contract says that a key reused with a *different* body is a 422 (idempotency conflict).
    Hypothesis happily reuses the spec's example key, or one short string, with many bodies,
    which would turn schema-valid requests into correct 422s and make ``positive_data_acceptance``
    fail for a reason that is not a defect. A real client draws a fresh key per distinct request,
    so a key that is valid for the schema is suffixed with a digest of the body: the same
    (key, body) pair still replays (that path is exercised), a new body gets a new key. A key that
    is itself the invalid part of a negative case is left untouched.
    """
    headers = case.headers
    if not headers or IDEMPOTENCY_HEADER not in headers:
        return
    key = headers[IDEMPOTENCY_HEADER]
    if not isinstance(key, str) or not 1 <= len(key) <= 200:
        return
    body = None if isinstance(case.body, NotSet) else case.body
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=repr).encode("utf-8")).hexdigest()[:32]
    headers[IDEMPOTENCY_HEADER] = f"{key[:160]}.{digest}"


def describe(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema draft 4 (``nullable`` becomes a ``null`` type)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    return converted
