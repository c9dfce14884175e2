"""The rule registry (every rule id the guard can report) and the `Finding` record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One breaking change: which rule, where (`METHOD /path ...: field`), and what changed."""

    rule: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.location}: {self.message}"


@dataclass(frozen=True)
class Rule:
    group: int
    summary: str


GROUPS: dict[int, str] = {
    1: "removed route (path) or method",
    2: "removed or renamed response field, or response field no longer required",
    3: "type changed (request/response property, parameter schema; nullability, see below)",
    4: "new required request field or parameter, or a request body that became required",
    5: "enum value removed from a request, or added to a response",
    6: "request constraint tightened (or the matching response constraint loosened)",
    7: "removed documented response (status), media type or response header",
    8: "new security requirement or removed security alternative",
    9: "envelope `code`/`msg`/`data` no longer required in a response",
    10: "request input no longer accepted (property or parameter removed)",
    11: "default of an optional request value changed (omitting it now means something else)",
}

# (id fragment, keyword, exclusive keyword, is an upper bound, types it applies to, floor is 0)
BOUNDS: tuple[tuple[str, str, str | None, bool, frozenset[str], bool], ...] = (
    ("max-length", "maxLength", None, True, frozenset({"string"}), True),
    ("min-length", "minLength", None, False, frozenset({"string"}), True),
    ("max", "maximum", "exclusiveMaximum", True, frozenset({"number", "integer"}), False),
    ("min", "minimum", "exclusiveMinimum", False, frozenset({"number", "integer"}), False),
    ("max-items", "maxItems", None, True, frozenset({"array"}), True),
    ("min-items", "minItems", None, False, frozenset({"array"}), True),
    ("max-properties", "maxProperties", None, True, frozenset({"object"}), True),
    ("min-properties", "minProperties", None, False, frozenset({"object"}), True),
)


def tightened_id(prefix: str, fragment: str, upper: bool) -> str:
    """`request-property-max-length-decreased`: a request bound made stricter."""
    return f"{prefix}-{fragment}-{'decreased' if upper else 'increased'}"


def loosened_id(fragment: str, upper: bool) -> str:
    """`response-property-max-length-increased`: a response bound made looser."""
    return f"response-property-{fragment}-{'increased' if upper else 'decreased'}"


def _registry() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}

    def add(group: int, rule_id: str, summary: str) -> None:
        rules[rule_id] = Rule(group, summary)

    add(1, "api-path-removed", "a path of the baseline is gone")
    add(1, "api-operation-removed", "a method of a baseline path is gone")
    add(2, "response-property-removed", "a response property is gone (removed or renamed)")
    add(2, "response-property-became-optional", "a required response property is no longer required")
    for prefix in ("request-property", "request-parameter", "response-property"):
        add(3, f"{prefix}-type-changed", "type changed (a request accepts less / a response returns more)")
    add(4, "new-required-request-property", "a new request property is required")
    add(4, "request-property-became-required", "an optional request property became required")
    add(4, "new-required-request-parameter", "a new parameter is required")
    add(4, "request-parameter-became-required", "an optional parameter became required")
    add(4, "request-body-became-required", "the request body became required (or a required one was added)")
    add(5, "request-property-enum-value-removed", "a request enum lost a value (or a request became an enum)")
    add(5, "request-parameter-enum-value-removed", "a parameter enum lost a value (or became an enum)")
    add(5, "response-property-enum-value-added", "a response enum gained a value (or lost its enum)")
    for prefix in ("request-property", "request-parameter"):
        for fragment, keyword, _, upper, _, _ in BOUNDS:
            add(6, tightened_id(prefix, fragment, upper), f"`{keyword}` made stricter on a request")
        add(6, f"{prefix}-pattern-changed", "a request `pattern` was added or changed")
        add(
            6,
            f"{prefix}-additional-properties-disallowed",
            "a request object no longer allows extra properties",
        )
    for fragment, keyword, _, upper, _, _ in BOUNDS:
        add(6, loosened_id(fragment, upper), f"`{keyword}` made looser on a response")
    add(6, "response-property-pattern-changed", "a response `pattern` was removed or changed")
    add(7, "response-status-removed", "a documented response status is gone")
    add(7, "response-media-type-removed", "a response media type is gone")
    add(7, "request-body-media-type-removed", "a request body media type is gone")
    add(7, "response-header-removed", "a documented response header is gone")
    add(7, "response-header-became-optional", "a required response header is no longer required")
    add(8, "security-requirement-added", "an operation open to anonymous callers now requires credentials")
    add(8, "security-alternative-removed", "credentials accepted by the baseline are no longer enough")
    add(8, "security-scheme-changed", "a security scheme's type, location, name or HTTP scheme changed")
    add(9, "response-envelope-field-not-required", "envelope `code`, `msg` or `data` no longer required")
    add(10, "request-property-removed", "a request property is gone (unknown body fields are rejected: 1001)")
    add(10, "request-parameter-removed", "a parameter is gone (it would be ignored from now on)")
    add(11, "request-property-default-changed", "the default of an optional request property changed")
    add(11, "request-parameter-default-changed", "the default of an optional parameter changed")
    return rules


RULES: dict[str, Rule] = _registry()
