"""Comparing two flattened schemas (a request body, a parameter or a response body).

Direction matters, as in oasdiff: a request may come to accept more but never less (types,
enum values, constraints, required fields); a response may come to return less but never more
(types, enum values, constraints) and must keep every property it documented, required ones
required. Nullability is part of the type: `nullable` added on a response ("may now return
null") and `nullable` removed on a request ("null is now rejected") are type changes; the
other two directions are compatible (see the package docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

from admin_compat.compat_guard.resolve import canonical
from admin_compat.compat_guard.rules import BOUNDS, Finding, loosened_id, tightened_id
from admin_compat.compat_guard.schema import ITEMS, VALUES, Flat, Location, Occurrence, render

ENVELOPE = frozenset({"code", "msg", "data"})
Occs = list[Occurrence]
# A bound as a looseness key: a larger key is looser. None is "no bound" (the loosest).
Key = tuple[float, int]


@dataclass(frozen=True)
class Side:
    """What is compared: `prefix` names the rule family, `location` the place in the spec."""

    prefix: str  # "request-property", "request-parameter" or "response-property"
    location: str  # e.g. "POST /shooter/sms/list request application/json"
    root_optional: bool = False  # an optional parameter: its default matters

    @property
    def request(self) -> bool:
        return self.prefix.startswith("request")


def compare_schemas(base: Flat, cur: Flat, side: Side) -> list[Finding]:
    findings: list[Finding] = []
    cut: set[Location] = set()  # removed or retyped: nothing below is reported again
    cur_branches = {o.branch for occs in cur.values() for o in occs}
    for loc in sorted(base.keys() | cur.keys(), key=lambda item: (len(item), item)):
        if any(loc[:i] in cut for i in range(len(loc))):
            continue
        where = (
            side.location
            if not loc and side.prefix == "request-parameter"
            else f"{side.location}: {render(loc)}"
        )
        out = _compare_location(loc, base.get(loc), cur.get(loc), side, base, cur_branches)
        if any(rule.endswith(("-removed", "-type-changed")) and "enum" not in rule for rule, _ in out):
            cut.add(loc)
        findings.extend(Finding(rule, where, message) for rule, message in out)
    return findings


def _compare_location(
    loc: Location,
    b: Occs | None,
    c: Occs | None,
    side: Side,
    base: Flat,
    cur_branches: set[tuple[str, ...]],
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if b is not None:
        lost = _lost_branches(b, c, cur_branches)
        if c is None or lost:
            return _removed(loc, b if c is None else [o for o in b if o.branch in lost], side, lost)
    if c is not None and b is None:
        if side.request and loc[-1] not in (ITEMS, VALUES) and _required(c) and loc[:-1] in base:
            out.append(("new-required-request-property", "new property is required"))
        return out
    if b is None or c is None or any(o.recursive for o in b + c):
        return out
    out += _required_change(loc, b, c, side)
    out += _type_change(b, c, side)
    if out and out[-1][0].endswith("-type-changed"):
        return out
    out += _enum_change(b, c, side)
    out += _constraint_changes(b, c, side)
    if side.request and (not _required(c) if loc else side.root_optional):
        out += _default_change(b, c, side)
    return out


def _lost_branches(b: Occs, c: Occs | None, cur_branches: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Alternatives that still exist in the current schema but no longer reach this location."""
    here = {o.branch for o in c or []}
    return {o.branch for o in b if o.branch not in here and o.branch in cur_branches}


def _removed(loc: Location, b: Occs, side: Side, lost: set[tuple[str, ...]]) -> list[tuple[str, str]]:
    where = "".join(f" from the `{'/'.join(branch)}` alternative" for branch in sorted(lost))
    if side.request:
        if loc[-1] in (ITEMS, VALUES):
            return []
        return [
            (
                f"{side.prefix}-removed",
                f"property removed{where}: clients that still send it are refused (unknown field) or ignored",
            )
        ]
    out = [("response-property-removed", f"property removed (or renamed){where}")]
    if _is_envelope(loc) and _required(b):
        out.append(("response-envelope-field-not-required", f"envelope field `{loc[0]}` removed{where}"))
    return out


def _is_envelope(loc: Location) -> bool:
    return len(loc) == 1 and loc[0] in ENVELOPE


def _required(occs: Occs) -> bool:
    return all(o.required for o in occs)


def _required_by_branch(occs: Occs) -> dict[tuple[str, ...], bool]:
    out: dict[tuple[str, ...], bool] = {}
    for o in occs:
        out[o.branch] = out.get(o.branch, True) and o.required
    return out


def _required_change(loc: Location, b: Occs, c: Occs, side: Side) -> list[tuple[str, str]]:
    """Compared per alternative (where both versions have it) and pooled over all of them."""
    if not loc:
        return []
    rb, rc = _required_by_branch(b), _required_by_branch(c)
    pairs = [(rb[k], rc[k]) for k in rb.keys() & rc.keys()] + [(_required(b), _required(c))]
    if side.request and any(now and not before for before, now in pairs):
        return [("request-property-became-required", "optional property became required")]
    if not side.request and any(before and not now for before, now in pairs):
        if _is_envelope(loc):
            return [("response-envelope-field-not-required", f"envelope field `{loc[0]}` no longer required")]
        return [("response-property-became-optional", "required response property became optional")]
    return []


def _types(occs: Occs) -> frozenset[str] | None:
    if any(o.types is None for o in occs):
        return None
    return frozenset[str]().union(*(o.types or frozenset() for o in occs))


def _covers(types: frozenset[str] | None, t: str) -> bool:
    return types is None or t in types or (t == "integer" and "number" in types)


def _extra(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> list[str]:
    """What `wide` allows that `narrow` does not."""
    if narrow is None:
        return []
    if wide is None:
        return ["any type"]
    return sorted(t for t in wide if not _covers(narrow, t))


def _fmt_types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types))


def _type_change(b: Occs, c: Occs, side: Side) -> list[tuple[str, str]]:
    bt, ct = _types(b), _types(c)
    if side.request:
        lost = _extra(bt, ct)
        if lost == ["null"]:
            return [(f"{side.prefix}-type-changed", "became not nullable: null is now rejected")]
        if lost:
            what = f"type {_fmt_types(bt)} -> {_fmt_types(ct)}: {', '.join(lost)} no longer accepted"
            return [(f"{side.prefix}-type-changed", what)]
        return []
    gained = _extra(ct, bt)
    if gained == ["null"]:
        return [("response-property-type-changed", "became nullable: null may now be returned")]
    if gained:
        what = f"type {_fmt_types(bt)} -> {_fmt_types(ct)}: {', '.join(gained)} may now be returned"
        return [("response-property-type-changed", what)]
    return []


def _enum(occs: Occs) -> frozenset[str] | None:
    if any(o.enum is None for o in occs):
        return None
    return frozenset[str]().union(*(o.enum or frozenset() for o in occs))


def _enum_change(b: Occs, c: Occs, side: Side) -> list[tuple[str, str]]:
    be, ce = _enum(b), _enum(c)
    if side.request:
        if ce is None:
            return []
        rule = f"{side.prefix}-enum-value-removed"
        if be is None:
            return [(rule, f"now restricted to the enum [{', '.join(sorted(ce))}]")]
        lost = sorted(be - ce)
        return [(rule, f"enum value(s) removed: {', '.join(lost)}")] if lost else []
    if be is None:
        return []
    if ce is None:
        return [("response-property-enum-value-added", "enum dropped: any value may now be returned")]
    gained = sorted(ce - be)
    return (
        [("response-property-enum-value-added", f"enum value(s) added: {', '.join(gained)}")]
        if gained
        else []
    )


def _relevant(occs: Occs, family: frozenset[str]) -> Occs:
    return [o for o in occs if o.types is None or o.types & family]


def _bound_key(occ: Occurrence, keyword: str, exclusive: str | None, upper: bool, floor: bool) -> Key | None:
    """The tightest bound one schema sets (OpenAPI 3.0 boolean or 3.1 numeric exclusives)."""
    schema, sign = occ.schema, 1.0 if upper else -1.0
    keys: list[Key] = []
    value = schema.get(keyword)
    if isinstance(value, int | float) and not isinstance(value, bool):
        keys.append((sign * value, 0 if exclusive and schema.get(exclusive) is True else 1))
    excl = schema.get(exclusive) if exclusive else None
    if isinstance(excl, int | float) and not isinstance(excl, bool):
        keys.append((sign * excl, 0))
    if not keys and floor and not upper:
        keys.append((0.0, 1))
    return min(keys) if keys else None


def _loosest(occs: Occs, keyword: str, exclusive: str | None, upper: bool, floor: bool) -> Key | None:
    keys = [_bound_key(o, keyword, exclusive, upper, floor) for o in occs]
    if any(k is None for k in keys):
        return None
    return max(k for k in keys if k is not None)


def _fmt_key(key: Key | None, upper: bool) -> str:
    if key is None:
        return "none"
    value = key[0] if upper else -key[0]
    return f"{value:g}{' (exclusive)' if key[1] == 0 else ''}"


def _stricter(new: Key | None, old: Key | None) -> bool:
    return new is not None and (old is None or new < old)


def _constraint_changes(b: Occs, c: Occs, side: Side) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for fragment, keyword, exclusive, upper, family, floor in BOUNDS:
        rb, rc = _relevant(b, family), _relevant(c, family)
        if not rb or not rc:
            continue
        bk, ck = (
            _loosest(rb, keyword, exclusive, upper, floor),
            _loosest(rc, keyword, exclusive, upper, floor),
        )
        change = f"`{keyword}` {_fmt_key(bk, upper)} -> {_fmt_key(ck, upper)}"
        if side.request and _stricter(ck, bk):
            out.append((tightened_id(side.prefix, fragment, upper), change))
        elif not side.request and _stricter(bk, ck):
            out.append((loosened_id(fragment, upper), change))
    out += _pattern_change(b, c, side)
    if side.request:
        rb, rc = _relevant(b, frozenset({"object"})), _relevant(c, frozenset({"object"}))
        if rb and rc and _closed(rc) and not _closed(rb):
            rule = f"{side.prefix}-additional-properties-disallowed"
            out.append((rule, "additionalProperties is now false: extra properties are rejected"))
    return out


def _closed(occs: Occs) -> bool:
    return all(o.schema.get("additionalProperties") is False for o in occs)


def _patterns(occs: Occs) -> frozenset[str] | None:
    patterns = [o.schema.get("pattern") for o in occs]
    if any(not isinstance(p, str) for p in patterns):
        return None
    return frozenset(p for p in patterns if isinstance(p, str))


def _pattern_change(b: Occs, c: Occs, side: Side) -> list[tuple[str, str]]:
    rb, rc = _relevant(b, frozenset({"string"})), _relevant(c, frozenset({"string"}))
    if not rb or not rc:
        return []
    bp, cp = _patterns(rb), _patterns(rc)
    strict, loose = (cp, bp) if side.request else (bp, cp)
    # Breaking when the stricter side is constrained and the looser side lost an alternative.
    if strict is None or (loose is not None and loose <= strict):
        return []
    message = f"pattern {_fmt_patterns(bp)} -> {_fmt_patterns(cp)}"
    return [(f"{side.prefix}-pattern-changed", message)]


def _fmt_patterns(patterns: frozenset[str] | None) -> str:
    return "none" if patterns is None else " | ".join(repr(p) for p in sorted(patterns))


def _defaults(occs: Occs) -> frozenset[str]:
    return frozenset(canonical(o.schema["default"]) if "default" in o.schema else "(none)" for o in occs)


def _default_change(b: Occs, c: Occs, side: Side) -> list[tuple[str, str]]:
    bd, cd = _defaults(b), _defaults(c)
    if bd == cd:
        return []
    message = f"default {', '.join(sorted(bd))} -> {', '.join(sorted(cd))}"
    return [(f"{side.prefix}-default-changed", message)]
