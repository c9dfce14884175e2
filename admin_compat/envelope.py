"""The legacy envelope ``{"code", "msg", "data"}`` and the one table from failures to codes
(legacy contract, section 1).

Everything that goes wrong on an admin route ends in ``register``'s handlers, which are
installed on the Connexion app so they also cover Connexion's own routing, security and
validation errors: a client mistake is never a 5xx, and a real fault is a 5000 envelope
without a stack trace.
"""

from __future__ import annotations

import json
import logging
import typing as t
from collections.abc import Mapping

from connexion.exceptions import BadRequestProblem, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, MediaTypeDict
from starlette.exceptions import HTTPException
from starlette.types import Scope

from admin_compat.auth import PermissionDenied
from admin_compat.recon_client import ReconUnavailable

__all__ = [
    "DUPLICATE",
    "INTERNAL",
    "INVALID",
    "NOT_FOUND",
    "STATE",
    "SUCCESS",
    "UNAVAILABLE",
    "VALIDATORS",
    "LegacyError",
    "error_for_problem",
    "register",
    "response",
    "success",
]

log = logging.getLogger(__name__)

SUCCESS = 0
INVALID = 1001
NOT_FOUND = 1002
DUPLICATE = 1003
STATE = 1004
UNAUTHORIZED = 401
FORBIDDEN = 403
INTERNAL = 5000
UNAVAILABLE = 5003

MESSAGES = {
    INVALID: "invalid parameter",
    NOT_FOUND: "record not found",
    DUPLICATE: "duplicate record",
    STATE: "state does not allow this action",
    INTERNAL: "internal error",
    UNAVAILABLE: "recon service unavailable, please retry later",
}

# recon's problem ``type`` -> legacy code (recon-internal.yaml, info.description)
PROBLEM_CODES = {
    "/problems/invalid": INVALID,
    "/problems/not-found": NOT_FOUND,
    "/problems/duplicate": DUPLICATE,
    "/problems/state-conflict": STATE,
    "/problems/idempotency-conflict": INVALID,
    "/problems/dependency-unavailable": UNAVAILABLE,
}
# the codes that keep recon's detail after their fixed message
_WITH_DETAIL = frozenset({INVALID, STATE})
# routes whose validation detail could echo a secret (the Pushbullet access token)
_SECRET_ROUTES = ("/pushbullet/device/add",)


class LegacyError(Exception):
    """A business or validation error: HTTP 200 with a non-zero code and data null."""

    def __init__(self, code: int, detail: str | None = None) -> None:
        msg = MESSAGES.get(code, "error")
        if detail and code in _WITH_DETAIL:
            # the first line only: recon's validation details go on with a schema dump
            msg = f"{msg}: {detail.strip().splitlines()[0]}"
        super().__init__(msg)
        self.code = code
        self.msg = msg


def success(data: t.Any = None) -> dict[str, t.Any]:
    """The success envelope."""
    return {"code": SUCCESS, "msg": "success", "data": data}


def response(status: int, code: int, msg: str, headers: Mapping[str, str] | None = None) -> ConnexionResponse:
    """An error envelope (``data`` null) with its HTTP status."""
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps({"code": code, "msg": msg, "data": None}),
        headers=dict(headers or {}),
    )


def error_for_problem(status: int, problem: Mapping[str, t.Any]) -> LegacyError | None:
    """The legacy error for one of recon's non-2xx answers; None when it is a fault of ours
    (recon refused our service token, or answered something undocumented)."""
    code = PROBLEM_CODES.get(str(problem.get("type", "")))
    if code is None and status == 400:
        code = INVALID  # recon's own request validation: type about:blank
    if code is None and status == 404:
        code = NOT_FOUND
    if code is None:
        return None
    detail = problem.get("detail")
    return LegacyError(code, detail if isinstance(detail, str) else None)


def _on_legacy(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, LegacyError)
    return response(200, exc.code, exc.msg)


def _on_denied(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, PermissionDenied)
    return response(exc.status, exc.code, exc.msg)


def _on_unavailable(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.warning("recon unavailable on %s %s: %s", request.method, request.url.path, exc)
    return response(200, UNAVAILABLE, MESSAGES[UNAVAILABLE])


def _on_http(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion's routing, security and validation errors, with their headers."""
    assert isinstance(exc, HTTPException)
    status, headers = exc.status_code, dict(exc.headers or {})
    if status == 401:
        return response(401, UNAUTHORIZED, "token invalid or expired", headers)
    if status == 403:
        return response(403, FORBIDDEN, "permission denied", headers)
    if status == 404:
        return response(404, INVALID, "route not found", headers)
    if status == 405:
        return response(405, INVALID, "method not allowed", headers)
    if status == 501:
        return response(500, INTERNAL, "route not implemented yet", headers)
    if status >= 500:
        log.error("server error %s on %s %s: %s", status, request.method, request.url.path, exc)
        return response(500, INTERNAL, MESSAGES[INTERNAL])
    detail = exc.detail if isinstance(exc, ProblemException) else None
    if request.url.path.endswith(_SECRET_ROUTES):
        detail = None
    return response(200, INVALID, LegacyError(INVALID, str(detail) if detail else None).msg)


def _on_unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return response(500, INTERNAL, MESSAGES[INTERNAL])


def register(app: t.Any) -> None:
    """Install the failure table on a Connexion app."""
    app.add_error_handler(LegacyError, _on_legacy)
    app.add_error_handler(PermissionDenied, _on_denied)
    app.add_error_handler(ReconUnavailable, _on_unavailable)
    app.add_error_handler(ProblemException, _on_http)
    app.add_error_handler(HTTPException, _on_http)
    app.add_error_handler(Exception, _on_unexpected)


class _Utf8JSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """A non-UTF-8 body is a 400 (hence 1001), not Connexion's 500 (upstream issue 1860);
    an empty body is ``{}`` (legacy contract, section 1)."""

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        body = b"".join([chunk async for chunk in stream])
        try:
            text = body.decode(self._encoding)
        except UnicodeDecodeError as exc:
            raise BadRequestProblem(detail=f"request body is not valid {self._encoding}") from exc
        if not text.strip():
            return {}
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise BadRequestProblem(detail="request body is not valid JSON") from exc
        if _has_lone_surrogate(parsed):
            # valid JSON, but no UTF-8 text can carry it on to recon
            raise BadRequestProblem(detail="request body has a string with an unpaired surrogate escape")
        return parsed


def _has_lone_surrogate(value: t.Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


VALIDATORS: dict[str, t.Any] = {
    **VALIDATOR_MAP,
    "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": _Utf8JSONBodyValidator}),
}
