"""The legacy envelope ``{"code", "msg", "data"}`` used by the device routes."""

from __future__ import annotations

from typing import Any

SUCCESS = 0
INVALID = 1001
NOT_FOUND = 1002
DUPLICATE = 1003
STATE = 1004
UNAUTHORIZED = 401
INTERNAL = 5000
UNAVAILABLE = 5003


def envelope(code: int, msg: str, data: Any = None) -> dict[str, Any]:
    """Build the envelope; ``data`` is always null on errors."""
    return {"code": code, "msg": msg, "data": data if code == SUCCESS else None}


def success(data: Any) -> dict[str, Any]:
    return envelope(SUCCESS, "success", data)
