"""Loopback double of wallet_service, served from `openapi/wallet.yaml` by Connexion.

    app = create_app(state := WalletState())
    root_url, stop = serve_in_thread(app)      # then call f"{root_url}{BASE_PATH}/..."

Run it on its own with `python -m infra.doubles.wallet --port 8791 --demo`.

The handlers below are named by the spec's `operationId`s. They are thin: each calls one
`WalletState` method; refusals are `WalletError`s turned into problem+json by one handler
registered in `create_app`. The state lives on the Flask app, not in module globals, so
several doubles can run side by side in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeAlias, TypeVar, cast

import connexion
import flask
import uvicorn
from connexion.exceptions import OAuthProblem, ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.problem import problem
from connexion.security import NO_VALUE
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from infra.doubles.serving import serve_in_thread
from infra.doubles.wallet_state import (
    ApprovalDict,
    OrderDict,
    OrderPage,
    OrderStatus,
    PendingCounts,
    WalletError,
    WalletState,
)

__all__ = [
    "BASE_PATH",
    "DEFAULT_TOKEN",
    "SPEC_PATH",
    "WalletState",
    "create_app",
    "main",
    "seed_demo",
    "serve_in_thread",
    "state_of",
]

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "wallet.yaml"
BASE_PATH = "/wallet/v1"
DEFAULT_TOKEN = "wallet-dev-token"  # noqa: S105 - a well-known local token, not a secret
_STATE_KEY = "recon.wallet_double.state"
_HTTP_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# -- handlers (named by operationId) -------------------------------------------------------

_Body = TypeVar("_Body")
_JsonAnswer: TypeAlias = tuple[_Body, int, dict[str, str]]


def list_recharge_orders(
    limit: int = 500, status: OrderStatus | None = None, updated_since: str | None = None
) -> _JsonAnswer[OrderPage]:
    """GET /recharge-orders."""
    return _ok(_state().list_orders(status=status, updated_since=updated_since, limit=limit))


def get_recharge_order(order_id: str) -> _JsonAnswer[OrderDict]:
    """GET /recharge-orders/{order_id}."""
    return _ok(_state().get_order(order_id))


def approve_recharge_order(
    order_id: str, body: dict[str, Any] | None = None
) -> _JsonAnswer[ApprovalDict]:
    """POST /recharge-orders/{order_id}/approve (the spec makes the key required)."""
    del body  # the spec allows only `{}`, which a missing body defaults to
    key = flask.request.headers["Idempotency-Key"]
    return _ok(_state().approve(order_id, key))


def get_pending_counts() -> _JsonAnswer[PendingCounts]:
    """GET /pending-counts."""
    return _ok(_state().pending_counts())


def _ok(body: _Body) -> _JsonAnswer[_Body]:
    # The operations declare problem+json too, so Connexion needs the media type spelled out.
    return body, 200, {"Content-Type": "application/json"}


def _state() -> WalletState:
    return cast(WalletState, flask.current_app.extensions[_STATE_KEY])


# -- app factory ---------------------------------------------------------------------------


def create_app(state: WalletState | None = None, token: str = DEFAULT_TOKEN) -> connexion.FlaskApp:
    """Build the Connexion FlaskApp serving the wallet spec over `state` (a new one if None).

    Request and response validation are on; unknown query parameters are rejected. Only
    `Authorization: Bearer <token>` passes.
    """
    if not token:
        raise ValueError("token must not be empty")
    state = WalletState() if state is None else state
    app = connexion.FlaskApp(__name__, security_map={"bearer": partial(_BearerTokenCheck, token)})
    app.add_api(SPEC_PATH, name="wallet", strict_validation=True, validate_responses=True)
    app.app.extensions[_STATE_KEY] = state
    app.add_middleware(_FaultMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, state=state)
    app.add_error_handler(WalletError, _wallet_error_problem)
    app.add_error_handler(ProblemException, _connexion_problem)
    app.add_error_handler(HTTPException, _http_exception_problem)
    return app


def state_of(app: connexion.FlaskApp) -> WalletState:
    """The WalletState a `create_app` app serves."""
    return cast(WalletState, app.app.extensions[_STATE_KEY])


class _BearerTokenCheck:
    """Connexion `security_map` handler for `bearerAuth`: exactly one token passes."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def get_fn(
        self, security_scheme: dict[str, Any], required_scopes: list[str]
    ) -> Callable[[ConnexionRequest], object]:
        del security_scheme, required_scopes
        return self._verify

    def _verify(self, request: ConnexionRequest) -> object:
        scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer":
            return NO_VALUE  # Connexion answers "No authorization token provided"
        if not hmac.compare_digest(value.strip().encode(), self._token):
            raise OAuthProblem(detail="Provided token is not valid")
        return {"sub": "wallet-client"}


class _FaultMiddleware:
    """Outermost ASGI layer applying the state's fault switches before anything else runs."""

    def __init__(self, app: ASGIApp, state: WalletState) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        delay = self._state.delay_seconds
        if delay > 0:
            await asyncio.sleep(delay)
        status = self._state.admit_request()
        if status is None:
            await self._app(scope, receive, send)
            return
        await _fault_response(status)(scope, receive, send)


def _fault_response(status: int) -> Response:
    phrase = _HTTP_PHRASES.get(status, "Error")
    if status >= 500:
        # What a proxy in front of a failing service sends: not JSON.
        html = f"<html><body><h1>{status} {phrase}</h1></body></html>"
        return Response(html, status_code=status, media_type="text/html")
    headers = {"Retry-After": "1"} if status == 429 else None
    body = {"type": "about:blank", "title": phrase, "status": status, "detail": "injected fault"}
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def _problem(
    status: int,
    title: str | None,
    detail: str | None,
    type_: str | None = None,
    headers: dict[str, str] | None = None,
) -> ConnexionResponse:
    title = title or _HTTP_PHRASES.get(status, "Error")
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem(status, title, detail or title, type=type_ or "about:blank", headers=headers)


def _wallet_error_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    err = cast(WalletError, exc)
    return _problem(err.status, err.title, err.detail, err.type)


def _connexion_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    err = cast(ProblemException, exc)
    return _problem(err.status, err.title, err.detail, err.type, err.headers)


def _http_exception_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    err = cast(HTTPException, exc)
    return _problem(err.status_code, None, err.detail, None, dict(err.headers or {}))


# -- local runs ----------------------------------------------------------------------------


def seed_demo(state: WalletState) -> None:
    """A few pending orders and a withdraw count, for trying the system by hand."""
    state.add_order("D1001", "1500000.00", payer_name="NGUYEN VAN A", card_tail="6789")
    state.add_order("D1002", "500000", user_id="u2")
    state.add_order("D1003", "250000.50", payer_name="TRAN THI B", card_tail="1234", user_id="u3")
    state.set_withdraw_pending(2)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m infra.doubles.wallet`."""
    parser = argparse.ArgumentParser(
        prog="python -m infra.doubles.wallet", description="Run the wallet_service double."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bearer token to accept")
    parser.add_argument("--demo", action="store_true", help="seed a few pending orders")
    args = parser.parse_args(argv)

    state = WalletState()
    if args.demo:
        seed_demo(state)
    app = create_app(state, token=args.token)
    shown_token = args.token if args.token == DEFAULT_TOKEN else "<--token>"
    print(
        f"wallet double: http://{args.host}:{args.port}{BASE_PATH} "
        f"(Authorization: Bearer {shown_token}; UI at {BASE_PATH}/ui/)",
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
