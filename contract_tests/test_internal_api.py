"""Schemathesis over every operation of recon-internal.yaml, in-process, every default check on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from schemathesis import AuthContext, Case, Response

from contract_tests._support import (
    APP,
    CONTRACT_SETTINGS,
    DEFAULT_CHECKS,
    STATEFUL_SETTINGS,
    count_example,
    load_schema,
    pin_idempotency_key,
)

schema = load_schema("recon-internal.yaml")

# The create -> get -> delete walks the spec's OpenAPI links declare.
LINKED = {
    "/pushbullet-accounts": "{account_id}",
    "/templates": "{template_id}",
    "/whitelist": "{entry_id}",
}


@schema.auth()
class ServiceToken:
    """``Authorization: Bearer <service token>`` on every generated request.

    Registered as the schema's auth provider, so Schemathesis knows the credentials are explicit:
    a negative case that deliberately breaks ``Authorization`` keeps its broken value, and the
    ``ignored_auth`` check probes each operation without a token and with a wrong one.
    """

    def get(self, case: Case[Any], ctx: AuthContext) -> str:
        return APP.service_token  # conftest's SERVICE_TOKEN, from the session settings

    def set(self, case: Case[Any], data: str, ctx: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


def test_every_default_check_is_on_for_the_internal_api() -> None:
    checks = schema.config.checks
    assert [name for name in DEFAULT_CHECKS if not checks.get_by_name(name=name).enabled] == []


@schema.parametrize()
@CONTRACT_SETTINGS
def test_internal_api(case: Case[Any], contract_app: Any) -> None:
    """Examples, coverage and fuzzing phases; positive and negative data; all default checks."""
    pin_idempotency_key(case)
    count_example("internal")
    case.call_and_validate()


def test_internal_api_stateful(contract_app: Any, empty_stores: Callable[[], None]) -> None:
    """Create -> get -> delete chains over the spec's OpenAPI links (pushbullet accounts,
    templates, whitelist), with every default check, including the stateful ones
    (``use_after_free``, ``ensure_resource_availability``)."""
    answers: Counter[tuple[str, int]] = Counter()
    # Only the linked operations. Schemathesis' dependency analysis reads the `X-Request-Id` header
    # as a reference to an "XRequest" resource nobody creates, which demotes the creates from
    # scenario roots; the list endpoints would then be the only roots and no scenario would ever
    # start with a create. Without the lists, the creates start the scenarios and the links lead on.
    linked = schema.include(
        name=[
            label
            for collection, item in LINKED.items()
            for label in (f"POST {collection}", f"GET {collection}/{item}", f"DELETE {collection}/{item}")
        ]
    )
    base = linked.as_state_machine()

    class InternalLinks(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            empty_stores()  # every scenario starts from the same (empty) state

        def before_call(self, case: Case[Any]) -> None:
            pin_idempotency_key(case)
            count_example("internal-stateful")

        def after_call(self, response: Response, case: Case[Any]) -> None:
            super().after_call(response, case)
            answers[(case.operation.label, response.status_code)] += 1

    InternalLinks.run(settings=STATEFUL_SETTINGS)

    # The run must really have walked every link, not only drawn random ids.
    for collection, item in LINKED.items():
        walked = {
            "create": answers[(f"POST {collection}", 201)],
            "get": answers[(f"GET {collection}/{item}", 200)],
            "delete": answers[(f"DELETE {collection}/{item}", 204)],
        }
        assert all(walked.values()), (collection, walked)
