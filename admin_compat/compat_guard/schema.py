"""Flattening a schema into facts per location, so two versions can be compared.

A location is a tuple of segments from the schema root: property names, `[]` for array
items, `{}` for additionalProperties values. `oneOf`/`anyOf` alternatives are walked at the
same location, so a location gathers one `Occurrence` per alternative that reaches it; the
rules pool them for types, values and constraints (union, loosest constraint) and compare
presence and `required` per alternative (its `branch`: the component name of a `$ref`
alternative, else its position). `allOf` is merged first.
Recursive schemas are cut where a `$ref` re-enters itself (the occurrence is marked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from admin_compat.compat_guard.resolve import Resolver, as_list, as_map, canonical

Location = tuple[str, ...]
ITEMS = "[]"
VALUES = "{}"
MAX_DEPTH = 64

_JSON_TYPES: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}


@dataclass(frozen=True)
class Occurrence:
    """One (allOf-merged) schema at one location."""

    schema: Mapping[str, Any]
    types: frozenset[str] | None  # None: any JSON type; "null" is a type here (nullable)
    enum: frozenset[str] | None  # canonical JSON of the non-null values; None: unrestricted
    required: bool  # listed in its parent's `required` (the root and array items count as required)
    branch: tuple[str, ...] = ()  # the oneOf/anyOf alternatives taken to get here (`IdOk`, `oneOf[1]`)
    recursive: bool = False  # the walk stopped here because a $ref re-entered itself


Flat = dict[Location, list[Occurrence]]


def render(location: Location) -> str:
    """`data.list[].id`; the root is `(root)`."""
    out = ""
    for seg in location:
        out += seg if seg in (ITEMS, VALUES) or not out else f".{seg}"
    return out or "(root)"


def schema_types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    raw = schema.get("type")
    if isinstance(raw, str):
        types = {raw}
    elif isinstance(raw, list):
        types = {t for t in raw if isinstance(t, str)}
    elif isinstance(schema.get("enum"), list):
        types = {_JSON_TYPES.get(type(v), "object") for v in schema["enum"]}
    else:
        return None
    if schema.get("nullable") is True:
        types.add("null")
    return frozenset(types)


def _enum(schema: Mapping[str, Any]) -> frozenset[str] | None:
    values = schema.get("enum")
    if not isinstance(values, list):
        return None
    return frozenset(canonical(v) for v in values if v is not None)


def flatten(resolver: Resolver, schema: Any, *, request: bool) -> Flat:
    """Every location of `schema` with its occurrences. `readOnly` properties are left out of
    a request and `writeOnly` ones out of a response (they are not sent that way)."""
    out: Flat = {}
    _Walker(resolver, "readOnly" if request else "writeOnly", out).walk(schema, (), True, frozenset(), ())
    return out


class _Walker:
    def __init__(self, resolver: Resolver, skip_flag: str, out: Flat) -> None:
        self.r = resolver
        self.skip_flag = skip_flag
        self.out = out

    def merged(self, node: Any, stack: frozenset[str]) -> tuple[dict[str, Any], frozenset[str], bool]:
        """The schema `node` stands for, with `allOf` folded in; the refs on the path so far;
        whether a ref re-entered itself."""
        target, refs = self.r.deref(node)
        if stack.intersection(refs):
            return {}, stack, True
        inner = stack.union(refs)
        schema = dict(as_map(target))
        seen, recursive = inner, False
        for part in as_list(schema.pop("allOf", None)):
            sub, sub_seen, rec = self.merged(part, inner)
            seen, recursive = seen | sub_seen, recursive or rec
            _merge_into(schema, sub)
        return schema, seen, recursive

    def walk(
        self, node: Any, loc: Location, required: bool, stack: frozenset[str], branch: tuple[str, ...]
    ) -> None:
        if len(loc) > MAX_DEPTH:
            return
        schema, stack, recursive = self.merged(node, stack)
        if schema.get(self.skip_flag) is True:
            return
        if recursive:
            self.out.setdefault(loc, []).append(Occurrence({}, None, None, required, branch, recursive=True))
            return
        alternatives = [
            (f"{key}[{i}]", alt)
            for key in ("oneOf", "anyOf")
            for i, alt in enumerate(as_list(schema.pop(key, None)))
        ]
        if alternatives:
            for position, alt in alternatives:
                ref = alt.get("$ref") if isinstance(alt, dict) else None
                label = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else position
                self.walk({"allOf": [schema, alt]}, loc, required, stack, (*branch, label))
            return
        types = schema_types(schema)
        self.out.setdefault(loc, []).append(Occurrence(schema, types, _enum(schema), required, branch))
        if types is None or "object" in types:
            required_names = {n for n in as_list(schema.get("required")) if isinstance(n, str)}
            for name, sub in as_map(schema.get("properties")).items():
                self.walk(sub, (*loc, str(name)), name in required_names, stack, branch)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                self.walk(extra, (*loc, VALUES), False, stack, branch)
        if (types is None or "array" in types) and "items" in schema:
            self.walk(schema["items"], (*loc, ITEMS), True, stack, branch)


def _merge_into(schema: dict[str, Any], sub: Mapping[str, Any]) -> None:
    """Fold one `allOf` part into `schema`: properties and required are united (a property in
    both becomes their `allOf`), other keywords keep the first value seen (so of two parts that
    both carry `oneOf`, the first one's alternatives are walked: an approximation)."""
    for key, value in sub.items():
        if key == "properties":
            props = dict(as_map(schema.get("properties")))
            for name, prop in as_map(value).items():
                props[name] = {"allOf": [props[name], prop]} if name in props else prop
            schema["properties"] = props
        elif key == "required":
            schema["required"] = [*as_list(schema.get("required")), *as_list(value)]
        else:
            schema.setdefault(key, value)
