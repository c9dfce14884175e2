"""The compatibility guard: breaking changes between two OpenAPI 3.0/3.1 documents.

No maintained Python tool detects breaking OpenAPI changes, so this is a small, pure checker
modelled on oasdiff's breaking-change rules. It compares operations by (path, method) (path
parameter names do not matter: `/a/{id}` is `/a/{key}`), resolves local `$ref`s recursively
(a recursive schema is cut where it re-enters itself; a `$ref` chain that loops is an error),
and walks schemas through objects, arrays, `additionalProperties` values and composition
(`allOf` merged; `oneOf`/`anyOf` alternatives pooled per location, so a response's
`oneOf: [SuccessEnvelope, BusinessError]` is compared field by field, `data` included).

    python -m admin_compat.compat_guard <baseline.yaml> <current.yaml>

prints one line per breaking change, `[rule-id] location: message`, and exits 1 when there
is any, 0 when there is none, 2 when a spec cannot be read or resolved. CI runs it through
`tests/admin_compat/test_compat_guard.py` against `contract_tests/baseline/legacy-admin.yaml`.

Rule ids (`RULES`, grouped by `GROUPS`):
 1 api-path-removed, api-operation-removed
 2 response-property-removed (also a rename), response-property-became-optional
 3 {request-property,request-parameter,response-property}-type-changed
 4 new-required-request-property, request-property-became-required,
   new-required-request-parameter, request-parameter-became-required, request-body-became-required
 5 request-property-enum-value-removed, request-parameter-enum-value-removed,
   response-property-enum-value-added
 6 request-{property,parameter}-{max-length,max,max-items,max-properties}-decreased,
   request-{property,parameter}-{min-length,min,min-items,min-properties}-increased,
   request-{property,parameter}-pattern-changed (added or changed),
   request-{property,parameter}-additional-properties-disallowed,
   and, as oasdiff does, the mirror on responses: response-property-{max-length,max,max-items,
   max-properties}-increased, ...-{min-length,min,min-items,min-properties}-decreased,
   response-property-pattern-changed (removed or changed)
 7 response-status-removed, response-media-type-removed, request-body-media-type-removed,
   response-header-removed, response-header-became-optional
 8 security-requirement-added, security-alternative-removed, security-scheme-changed
 9 response-envelope-field-not-required (`code`/`msg`/`data` at the top of a response body)
10 request-property-removed, request-parameter-removed (this contract rejects unknown body
   fields with 1001; a dropped query parameter would silently stop filtering)
11 request-property-default-changed, request-parameter-default-changed (oasdiff: changing,
   setting or removing the default of an optional request value is breaking)

Decisions:
- Nullability is part of the type ("null" is one more type). Following oasdiff, a response
  property that *becomes* nullable is a type change (clients get a null they never handled),
  and so is a request property that *stops* being nullable (the front-end sends null for
  absent optional values). A response property that stops being nullable only narrows what
  is returned, like number -> integer, and passes; whether the implementation still returns
  the values the frozen contract names is for the contract tests, not for this guard.
- `integer` is a subset of `number`: number -> integer is a type change on a request only,
  integer -> number on a response only.
- Where several `oneOf`/`anyOf` alternatives reach one location, types, enum values and
  constraints are pooled (union, loosest constraint); presence and `required` are compared
  per alternative (matched by `$ref` component name, else by position) and pooled, so `msg`
  dropped from the success envelope is reported although BusinessError still has it.
- `readOnly` properties are ignored in requests and `writeOnly` ones in responses.
- Not checked: servers (oasdiff treats them as compatible), response header schemas,
  descriptions, examples, operationIds, tags, extensions, `format`, `deprecated`.
"""

from __future__ import annotations

from pathlib import Path

from admin_compat.compat_guard.operations import compare
from admin_compat.compat_guard.resolve import SpecError, load_spec
from admin_compat.compat_guard.rules import GROUPS, RULES, Finding, Rule

__all__ = ["GROUPS", "RULES", "Finding", "Rule", "SpecError", "check_files", "compare", "load_spec"]


def check_files(baseline: str | Path, current: str | Path) -> list[Finding]:
    """Load both specs and return the breaking changes from `baseline` to `current`."""
    return compare(load_spec(baseline), load_spec(current))
