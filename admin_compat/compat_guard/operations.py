"""Comparing two specs: routes, operations (by path and method), parameters, request bodies,
responses and security."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from admin_compat.compat_guard.resolve import Resolver, as_list, as_map
from admin_compat.compat_guard.rules import Finding
from admin_compat.compat_guard.schema import flatten
from admin_compat.compat_guard.schema_diff import Side, compare_schemas

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{[^}/]*\}")
Alternative = dict[str, frozenset[str]]  # security scheme name -> scopes


class _Pair:
    """The two documents and their resolvers."""

    def __init__(self, base: Mapping[str, Any], cur: Mapping[str, Any]) -> None:
        self.base, self.cur = base, cur
        self.rb, self.rc = Resolver(base), Resolver(cur)


def compare(base: Mapping[str, Any], cur: Mapping[str, Any]) -> list[Finding]:
    """Every breaking change from `base` to `cur`, sorted by location (pure: no I/O)."""
    pair = _Pair(base, cur)
    findings: list[Finding] = []
    cur_paths = _paths(pair.rc, cur)
    for key, (raw, b_item) in _paths(pair.rb, base).items():
        if key not in cur_paths:
            findings.append(Finding("api-path-removed", raw, "path removed"))
            continue
        c_item = cur_paths[key][1]
        for method in METHODS:
            if method not in b_item:
                continue
            loc = f"{method.upper()} {raw}"
            if method not in c_item:
                findings.append(Finding("api-operation-removed", loc, "operation removed"))
                continue
            findings += _operation(pair, loc, b_item, c_item, method)
    findings += _security_schemes(pair)
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda f: (f.location, f.rule, f.message))


def _paths(r: Resolver, doc: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Path items keyed by their template with parameter names blanked (`/a/{}`)."""
    return {
        _TEMPLATE.sub("{}", str(raw)): (str(raw), r.mapping(item))
        for raw, item in as_map(doc.get("paths")).items()
    }


def _operation(
    pair: _Pair, loc: str, b_item: dict[str, Any], c_item: dict[str, Any], method: str
) -> list[Finding]:
    b_op, c_op = pair.rb.mapping(b_item[method]), pair.rc.mapping(c_item[method])
    findings = _parameters(pair, loc, _params(pair.rb, b_item, b_op), _params(pair.rc, c_item, c_op))
    findings += _request_body(pair, loc, pair.rb.mapping(b_op.get("requestBody")), c_op.get("requestBody"))
    findings += _responses(pair, loc, as_map(b_op.get("responses")), as_map(c_op.get("responses")))
    findings += _security(loc, _effective_security(pair.base, b_op), _effective_security(pair.cur, c_op))
    return findings


def _params(
    r: Resolver, item: Mapping[str, Any], op: Mapping[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Path-level parameters overridden by operation-level ones, keyed by (in, name)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*as_list(item.get("parameters")), *as_list(op.get("parameters"))]:
        param = r.mapping(raw)
        where, name = str(param.get("in", "")), str(param.get("name", ""))
        out[(where, name.lower() if where == "header" else name)] = param
    return out


def _param_schema(param: Mapping[str, Any]) -> Any:
    if "schema" in param:
        return param["schema"]
    for media in as_map(param.get("content")).values():
        return as_map(media).get("schema", {})
    return {}


def _param_required(param: Mapping[str, Any]) -> bool:
    return param.get("required") is True or param.get("in") == "path"


def _parameters(
    pair: _Pair,
    loc: str,
    base: dict[tuple[str, str], dict[str, Any]],
    cur: dict[tuple[str, str], dict[str, Any]],
) -> list[Finding]:
    findings: list[Finding] = []
    for (where, name), added in cur.items():
        if (where, name) not in base and _param_required(added):
            ploc = f"{loc} parameter {where} {name}"
            findings.append(Finding("new-required-request-parameter", ploc, "new required parameter"))
    for (where, name), b_param in base.items():
        ploc = f"{loc} parameter {where} {name}"
        c_param = cur.get((where, name))
        if c_param is None:
            findings.append(
                Finding("request-parameter-removed", ploc, "parameter removed: it would be ignored")
            )
            continue
        if _param_required(c_param) and not _param_required(b_param):
            findings.append(
                Finding("request-parameter-became-required", ploc, "optional parameter became required")
            )
        side = Side("request-parameter", ploc, root_optional=not _param_required(c_param))
        b_flat = flatten(pair.rb, _param_schema(b_param), request=True)
        c_flat = flatten(pair.rc, _param_schema(c_param), request=True)
        findings += compare_schemas(b_flat, c_flat, side)
    return findings


def _request_body(pair: _Pair, loc: str, base: dict[str, Any], cur_raw: Any) -> list[Finding]:
    cur = pair.rc.mapping(cur_raw)
    findings: list[Finding] = []
    if cur.get("required") is True and base.get("required") is not True:
        message = "request body became required" if base else "a required request body was added"
        findings.append(Finding("request-body-became-required", f"{loc} request", message))
    c_content = _content(cur)
    for media, b_media in _content(base).items():
        mloc = f"{loc} request {media}"
        if media not in c_content:
            findings.append(Finding("request-body-media-type-removed", mloc, "request media type removed"))
            continue
        b_flat = flatten(pair.rb, as_map(b_media).get("schema", {}), request=True)
        c_flat = flatten(pair.rc, as_map(c_content[media]).get("schema", {}), request=True)
        findings += compare_schemas(b_flat, c_flat, Side("request-property", mloc))
    return findings


def _content(holder: Mapping[str, Any]) -> dict[str, Any]:
    return {str(media).lower(): value for media, value in as_map(holder.get("content")).items()}


def _responses(pair: _Pair, loc: str, base: dict[str, Any], cur: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    cur_by_status = {str(status).upper(): value for status, value in cur.items()}
    for status_raw, b_raw in base.items():
        status = str(status_raw).upper()
        sloc = f"{loc} response {status.lower() if status == 'DEFAULT' else status}"
        if status not in cur_by_status:
            findings.append(Finding("response-status-removed", sloc, "documented response removed"))
            continue
        b_resp, c_resp = pair.rb.mapping(b_raw), pair.rc.mapping(cur_by_status[status])
        findings += _headers(pair, sloc, as_map(b_resp.get("headers")), as_map(c_resp.get("headers")))
        c_content = _content(c_resp)
        for media, b_media in _content(b_resp).items():
            mloc = f"{sloc} {media}"
            if media not in c_content:
                findings.append(Finding("response-media-type-removed", mloc, "response media type removed"))
                continue
            b_flat = flatten(pair.rb, as_map(b_media).get("schema", {}), request=False)
            c_flat = flatten(pair.rc, as_map(c_content[media]).get("schema", {}), request=False)
            findings += compare_schemas(b_flat, c_flat, Side("response-property", mloc))
    return findings


def _headers(pair: _Pair, loc: str, base: dict[str, Any], cur: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    cur_by_name = {str(name).lower(): pair.rc.mapping(value) for name, value in cur.items()}
    for name, b_raw in base.items():
        hloc = f"{loc} header {name}"
        c_header = cur_by_name.get(str(name).lower())
        if c_header is None:
            findings.append(Finding("response-header-removed", hloc, "response header removed"))
        elif pair.rb.mapping(b_raw).get("required") is True and c_header.get("required") is not True:
            findings.append(
                Finding("response-header-became-optional", hloc, "required header became optional")
            )
    return findings


def _effective_security(doc: Mapping[str, Any], op: Mapping[str, Any]) -> list[Alternative]:
    """The operation's alternatives (any one suffices); `[{}]` when anonymous calls pass."""
    reqs = op["security"] if "security" in op else doc.get("security")
    alternatives = [
        {str(k): frozenset(map(str, as_list(v))) for k, v in as_map(r).items()} for r in as_list(reqs)
    ]
    return alternatives or [{}]


def _satisfies(have: Alternative, need: Alternative) -> bool:
    """Credentials meeting `have` also meet `need`."""
    return all(name in have and scopes <= have[name] for name, scopes in need.items())


def _fmt_alternative(alt: Alternative) -> str:
    return " + ".join(sorted(alt)) or "no credentials"


def _security(loc: str, base: list[Alternative], cur: list[Alternative]) -> list[Finding]:
    findings: list[Finding] = []
    accepted = " or ".join(_fmt_alternative(a) for a in cur)
    for alt in base:
        if any(_satisfies(alt, need) for need in cur):
            continue
        if not alt:
            message = f"anonymous calls were allowed; now requires {accepted}"
            findings.append(Finding("security-requirement-added", f"{loc} security", message))
        else:
            message = f"callers using {_fmt_alternative(alt)} are refused; now requires {accepted}"
            findings.append(Finding("security-alternative-removed", f"{loc} security", message))
    return findings


def _scheme_identity(scheme: Mapping[str, Any]) -> tuple[str, str, str, str]:
    where = str(scheme.get("in", ""))
    name = str(scheme.get("name", ""))
    return (
        str(scheme.get("type", "")),
        where,
        name.lower() if where == "header" else name,
        str(scheme.get("scheme", "")).lower(),
    )


def _security_schemes(pair: _Pair) -> list[Finding]:
    findings: list[Finding] = []
    base = as_map(as_map(pair.base.get("components")).get("securitySchemes"))
    cur = as_map(as_map(pair.cur.get("components")).get("securitySchemes"))
    for name, b_raw in base.items():
        if name not in cur:
            continue
        b_id, c_id = _scheme_identity(pair.rb.mapping(b_raw)), _scheme_identity(pair.rc.mapping(cur[name]))
        if b_id != c_id:
            message = f"type/in/name/scheme {'/'.join(b_id)} -> {'/'.join(c_id)}"
            findings.append(Finding("security-scheme-changed", f"components.securitySchemes.{name}", message))
    return findings
