"""The internal API's service-token check (the spec's ``x-bearerInfoFunc``)."""

from __future__ import annotations

from typing import Any

from recon_impl.security import secret_equals

_tokens: list[str] = []


def configure(tokens: list[str]) -> None:
    """Set the accepted service tokens (several, so a token can be rotated)."""
    _tokens[:] = tokens


def service_token_info(token: str) -> dict[str, Any] | None:
    if _tokens and secret_equals(token, _tokens):
        return {"sub": "service"}
    return None
