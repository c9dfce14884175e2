"""The legacy admin session: Redis keys, credentials, authentication and the header refresh.

Pure logic over a ``redis.Redis`` client passed in (``authenticate_async``: a
``redis.asyncio.Redis``); the current time is a parameter. No web
framework here, so admin_service can reuse the module as is (legacy contract, section 2).

The refresh is one Lua script: reading the session, granting the refresh and writing the new
key, the grace TTL and the ``admin:token:refreshed:<old>`` marker happen in a single atomic
step on the Redis server, so concurrent requests, threads or processes holding the same old
token can never mint two new tokens, and no request can see a marker whose session is not
written yet. (A script touches keys of different hash slots: it needs a single Redis, not a
Redis Cluster, like the legacy key names themselves.)
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio

__all__ = [
    "GRACE_TTL",
    "MAX_REFRESH_AGE",
    "REFRESH_BELOW",
    "SESSION_TTL",
    "SUPER_ADMIN_ROLE",
    "AuthResult",
    "Session",
    "authenticate",
    "authenticate_async",
    "create_session",
    "credential_from_headers",
    "has_permission",
    "new_token",
    "refreshed_key",
    "session_key",
]

SESSION_TTL = 7200  # s, set at login (and on a refreshed token); use never extends it
REFRESH_BELOW = 1800  # s: a request finding less than this left gets a new token
GRACE_TTL = 60  # s left to the old token (and its refresh marker) after a refresh
MAX_REFRESH_AGE = 86400  # s after login_at beyond which no refresh is granted
SUPER_ADMIN_ROLE = 1

_SESSION_PREFIX = "admin:token:"
_REFRESHED_PREFIX = "admin:token:refreshed:"
# Anything a login could have minted (32 hex today); keeps odd header values such as
# "refreshed:<token>" from addressing keys that are not sessions.
_PLAUSIBLE_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")

# KEYS: session of the presented token, its refresh marker, session of a candidate new token.
# ARGV: candidate token, now (Unix s), refresh threshold (ms), session TTL (s), grace (s),
#       max age of login_at for a refresh (s).
# Returns {session JSON or false, new token or false}.
_AUTHENTICATE_LUA = """
local raw = redis.call('GET', KEYS[1])
if not raw then return {false, false} end
local minted = redis.call('GET', KEYS[2])
if minted then return {raw, minted} end
local left = redis.call('PTTL', KEYS[1])
if left < 0 or left >= tonumber(ARGV[3]) then return {raw, false} end
local ok, session = pcall(cjson.decode, raw)
if not ok or type(session) ~= 'table' or type(session['login_at']) ~= 'number' then
  return {raw, false}
end
if tonumber(ARGV[2]) - session['login_at'] > tonumber(ARGV[6]) then return {raw, false} end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[5]) then
  return {raw, redis.call('GET', KEYS[2])}
end
redis.call('SET', KEYS[3], raw, 'EX', ARGV[4])
local grace_ms = tonumber(ARGV[5]) * 1000
if left > grace_ms then redis.call('PEXPIRE', KEYS[1], grace_ms) end
return {raw, ARGV[1]}
"""


@dataclass(frozen=True, slots=True)
class Session:
    """An admin session as stored under ``admin:token:<token>``."""

    admin_id: int
    username: str
    role_id: int
    perms: tuple[str, ...]
    login_at: int

    def to_json(self) -> str:
        return json.dumps(
            {
                "admin_id": self.admin_id,
                "username": self.username,
                "role_id": self.role_id,
                "perms": list(self.perms),
                "login_at": self.login_at,
            }
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Session | None:
        """The session, or None when the stored value is not a well-formed session."""
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None
        ints = [value.get(name) for name in ("admin_id", "role_id", "login_at")]
        perms = value.get("perms")
        username = value.get("username")
        if (
            not all(isinstance(i, int) and not isinstance(i, bool) for i in ints)
            or not isinstance(username, str)
            or not isinstance(perms, list)
            or not all(isinstance(p, str) for p in perms)
        ):
            return None
        return cls(value["admin_id"], username, value["role_id"], tuple(perms), value["login_at"])


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome of one authentication: the session (None: 401) and the token to hand back
    in ``X-Refresh-Token`` when a refresh was granted or had already been granted."""

    session: Session | None
    refresh_token: str | None = None


def session_key(token: str) -> str:
    return _SESSION_PREFIX + token


def refreshed_key(old_token: str) -> str:
    return _REFRESHED_PREFIX + old_token


def new_token() -> str:
    """A random session token: 32 lowercase hex characters."""
    return secrets.token_hex(16)


def create_session(client: redis.Redis, session: Session, ttl: int = SESSION_TTL) -> str:
    """Store ``session`` under a new token with ``ttl`` seconds to live; return the token."""
    while True:
        token = new_token()
        if client.set(session_key(token), session.to_json(), ex=ttl, nx=True):
            return token


def credential_from_headers(headers: Mapping[str, str]) -> str | None:
    """The token a request presents: ``X-Token`` whenever that header is present (even empty
    or invalid: it is then the only credential looked at), else ``Authorization: Bearer``."""
    first: dict[str, str] = {}
    for name, value in headers.items():
        first.setdefault(name.lower(), value)
    if "x-token" in first:
        return first["x-token"].strip()
    scheme, _, token = first.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def authenticate(client: redis.Redis, token: str, now: float) -> AuthResult:
    """Look the token up and grant the header refresh when it is due (see the module doc).

    Reading a session never extends its TTL. A refresh is due when less than
    ``REFRESH_BELOW`` s are left and ``login_at`` is at most ``MAX_REFRESH_AGE`` s before
    ``now``; it happens once per old token, and every later request with that old token gets
    the same new token back while the old one is in its grace.
    """
    if not _PLAUSIBLE_TOKEN.fullmatch(token):
        return AuthResult(None)
    keys, args = _script_input(token, now)
    return _auth_result(client.register_script(_AUTHENTICATE_LUA)(keys=keys, args=args))


async def authenticate_async(client: redis.asyncio.Redis, token: str, now: float) -> AuthResult:
    """``authenticate`` over an asyncio Redis client: the same script, keys and result."""
    if not _PLAUSIBLE_TOKEN.fullmatch(token):
        return AuthResult(None)
    keys, args = _script_input(token, now)
    return _auth_result(await client.register_script(_AUTHENTICATE_LUA)(keys=keys, args=args))


def _script_input(token: str, now: float) -> tuple[list[str], list[Any]]:
    candidate = new_token()
    keys = [session_key(token), refreshed_key(token), session_key(candidate)]
    return keys, [candidate, int(now), REFRESH_BELOW * 1000, SESSION_TTL, GRACE_TTL, MAX_REFRESH_AGE]


def _auth_result(reply: list[Any]) -> AuthResult:
    raw, refreshed = reply
    session = Session.from_json(raw) if raw is not None else None
    if session is None:
        return AuthResult(None)
    return AuthResult(session, _text(refreshed) if refreshed is not None else None)


def has_permission(session: Session, perm: str) -> bool:
    """The super admin (``role_id`` 1) passes every check; others need ``perm`` in ``perms``."""
    return session.role_id == SUPER_ADMIN_ROLE or perm in session.perms


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
