"""Thin legacy handlers: check the permission, call one recon operation, reshape its answer.

The helpers here are the handlers' whole toolkit: ``call`` runs a generated recon operation
through the edge's ``ReconClient`` and turns any non-2xx answer into a ``LegacyError`` (the
mapping lives in ``admin_compat.envelope``); ``actor`` gives the ``x_actor``/``x_request_id``
pair every mutation sends; ``page``/``pick`` reshape recon's objects to the legacy ones (the
field names are the same, so reshaping is choosing them: absent values become null).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connexion import request
from connexion.context import context

from admin_compat.app import deps
from admin_compat.auth import require
from admin_compat.envelope import NOT_FOUND, LegacyError, error_for_problem, success

__all__ = [
    "actor",
    "call",
    "clean",
    "known_id",
    "not_empty",
    "page",
    "paging",
    "pick",
    "request_id",
    "require",
    "success",
]

log = logging.getLogger(__name__)
_REQUEST_ID = "admin_request_id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# recon's ids are PostgreSQL bigints; the legacy spec leaves ids unbounded (frozen contract).
_MAX_RECORD_ID = 2**63 - 1


def request_id() -> str:
    """The request's ``X-Request-Id``, or one generated once for this request."""
    found = context.get(_REQUEST_ID)
    if isinstance(found, str):
        return found
    value = (request.headers.get("X-Request-Id") or "").strip()
    if not _SAFE_REQUEST_ID.fullmatch(value):
        value = uuid.uuid4().hex  # absent, or not something to put in a header and a log
    context[_REQUEST_ID] = value
    return value


def actor(perm: str) -> dict[str, str]:
    """Require ``perm``; the audit headers a mutation sends to recon."""
    session = require(perm)
    return {"x_actor": session.username, "x_request_id": request_id()}


def call(endpoint: Callable[..., Any], *, idempotent: bool, **kwargs: Any) -> Any:
    """Run a recon operation; its JSON answer (None for 204), or raise the legacy error."""
    answer = deps().recon.call(endpoint, idempotent=idempotent, parse=False, **kwargs)
    status = int(answer.status_code)
    body = _json(answer.content)
    if 200 <= status < 300:
        return body
    error = error_for_problem(status, body if isinstance(body, Mapping) else {})
    if error is None:
        log.error("recon answered HTTP %s unexpectedly", status)
        raise RuntimeError(f"recon answered HTTP {status}")
    raise error


def known_id(value: int) -> int:
    """A record id to send to recon; one beyond recon's id range names no record (1002), it
    is not an invalid parameter (the legacy spec puts no maximum on ids)."""
    if value > _MAX_RECORD_ID:
        raise LegacyError(NOT_FOUND)
    return value


def clean(body: Mapping[str, Any] | None, *drop: str) -> dict[str, Any]:
    """The body without null values (null counts as absent) and without ``drop``."""
    return {k: v for k, v in (body or {}).items() if v is not None and k not in drop}


def pick(item: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The legacy object: exactly ``fields``, null when recon left one out."""
    return {name: item.get(name) for name in fields}


def page(result: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """recon's ``{items, total, page, page_size}`` as the legacy ``{list, total, page, page_size}``."""
    names = tuple(fields)
    return {
        "list": [pick(item, names) for item in result.get("items", [])],
        "total": result["total"],
        "page": result["page"],
        "page_size": result["page_size"],
    }


def paging(body: Mapping[str, Any]) -> dict[str, int]:
    """The legacy pagination fields with their defaults."""
    return {"page": body.get("page", 1), "page_size": body.get("page_size", 20)}


def not_empty(value: Any) -> Any:
    """An empty text filter means "all" (what an empty search box sends)."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _json(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None
