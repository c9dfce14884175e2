"""The one table from failures to responses: problem+json on the internal API, the legacy
envelope on the device API. Registered on the Connexion app so it also covers errors raised by
Connexion's own routing, security and validation middleware."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from connexion import ConnexionMiddleware
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.problem import problem
from starlette.exceptions import HTTPException

from recon_impl.domain import errors
from recon_impl.http import envelope as env

log = logging.getLogger(__name__)

DEVICE_PREFIX = "/api/shooter"

# exception class -> (HTTP status, problem type, title, legacy code)
DOMAIN_ERRORS: dict[type[errors.ReconError], tuple[int, str, str, int]] = {
    errors.InvalidInput: (400, "/problems/invalid", "Invalid request", env.INVALID),
    errors.NotFound: (404, "/problems/not-found", "Not found", env.NOT_FOUND),
    errors.Duplicate: (409, "/problems/duplicate", "Duplicate", env.DUPLICATE),
    errors.StateConflict: (409, "/problems/state-conflict", "State conflict", env.STATE),
    errors.IdempotencyConflict: (
        422,
        "/problems/idempotency-conflict",
        "Idempotency key reused",
        env.INVALID,
    ),
    errors.DependencyUnavailable: (
        503,
        "/problems/dependency-unavailable",
        "Dependency unavailable",
        env.UNAVAILABLE,
    ),
}


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# (full path pattern, value of ``Allow``) for every path the specs declare.
Routes = list[tuple[re.Pattern[str], str]]


def route_table(apis: Iterable[tuple[str, Mapping[str, Any]]]) -> Routes:
    """The methods of every declared path, from ``(base path, spec)`` pairs.

    A 405 must list every method of the resource. Connexion adds one Starlette route per
    operation, and Starlette's 405 names only the methods of the first route whose path
    matched (``GET /templates`` hides ``POST /templates``), so ``Allow`` is rebuilt from this.
    """
    routes: Routes = []
    for base_path, spec in apis:
        for path, item in spec.get("paths", {}).items():
            methods = {method.upper() for method in item if method in HTTP_METHODS}
            if "GET" in methods:
                methods.add("HEAD")  # Starlette answers HEAD wherever GET is routed
            pattern = "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}/]+\})", base_path + path)
            )
            routes.append((re.compile(pattern), ", ".join(sorted(methods))))
    return routes


def _allow(routes: Routes, path: str) -> str | None:
    for pattern, allow in routes:
        if pattern.fullmatch(path):
            return allow
    return None


def is_device_path(path: str) -> bool:
    return path == DEVICE_PREFIX or path.startswith(DEVICE_PREFIX + "/")


def device_error(
    status: int, code: int, msg: str, headers: dict[str, str] | None = None
) -> ConnexionResponse:
    """An envelope error: HTTP 200 except authentication (401) and server faults (500)."""
    http_status = status if status in (401, 500) else 200
    if status in (404, 405):
        http_status = status
    return ConnexionResponse(
        status_code=http_status,
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps(env.envelope(code, msg)),
        headers=headers or {},
    )


def on_domain_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, errors.ReconError)
    status, type_, title, code = DOMAIN_ERRORS[type(exc)]
    if is_device_path(request.url.path):
        return device_error(status, code, exc.detail)
    return problem(status=status, title=title, detail=exc.detail, type=type_)


def on_http_error(
    request: ConnexionRequest, exc: Exception, routes: Routes | None = None
) -> ConnexionResponse:
    """Connexion's routing/security/validation errors, with their headers (``Allow`` on 405)."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = getattr(exc, "detail", None) or ""
    headers = dict(exc.headers or {})
    if status == 405:
        headers["Allow"] = _allow(routes or [], request.url.path) or headers.get("Allow", "")
    if is_device_path(request.url.path):
        code = env.UNAUTHORIZED if status == 401 else env.INVALID
        return device_error(status, code, str(detail) or "invalid request", headers)
    if isinstance(exc, ProblemException):
        return problem(status=status, title=exc.title, detail=exc.detail, type=exc.type, headers=headers)
    return problem(status=status, title=_title(status), detail=str(detail), headers=headers)


def on_unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_device_path(request.url.path):
        return device_error(500, env.INTERNAL, "internal error")
    return problem(status=500, title="Internal Server Error", detail="internal error")


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def register(app: ConnexionMiddleware, routes: Routes | None = None) -> None:
    """Install the handlers; ``routes`` (see ``route_table``) corrects ``Allow`` on a 405."""
    table = routes or []

    def on_connexion_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        return on_http_error(request, exc, table)

    for exc_class in DOMAIN_ERRORS:
        app.add_error_handler(exc_class, on_domain_error)
    app.add_error_handler(ProblemException, on_connexion_error)
    app.add_error_handler(HTTPException, on_connexion_error)
    app.add_error_handler(Exception, on_unexpected)
