"""Helpers for the admin edge's route tests: the edge app in front of a REAL recon_service on
loopback, sessions made through admin_compat.legacy_auth, and the legacy envelopes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis

import testkit
from admin_compat.app import EdgeSettings, create_app
from admin_compat.legacy_auth import Session, create_session, session_key
from admin_compat.recon_client import ReconClient, ReconConfig

ADMIN = "/api/admin"
ALL_PERMS = ("recon:view", "recon:edit", "recon:check")
EXPOSE = "Access-Control-Expose-Headers"
REFRESH = "X-Refresh-Token"


def ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": data}


def err(code: int, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": None}


UNAVAILABLE = err(5003, "recon service unavailable, please retry later")
NOT_FOUND = err(1002, "record not found")
DUPLICATE = err(1003, "duplicate record")


def order_id() -> str:
    return f"R{uuid.uuid4().hex[:12]}"


@dataclass
class Edge:
    """The edge app's test client plus a logged-in editor token (``token``)."""

    http: Any
    redis: redis.Redis
    recon_url: str
    token: str = ""
    username: str = "alice"
    extra: dict[str, Any] = field(default_factory=dict)

    def login(
        self,
        perms: tuple[str, ...] = ALL_PERMS,
        *,
        username: str = "alice",
        role_id: int = 2,
        left: int | None = None,
    ) -> str:
        """A new session token; ``left`` cuts its remaining TTL to that many seconds."""
        session = Session(
            admin_id=7, username=username, role_id=role_id, perms=perms, login_at=int(time.time()) - 60
        )
        token = create_session(self.redis, session)
        if left is not None:
            self.redis.expire(session_key(token), left)
        return token

    def post(self, route: str, body: Any = None, *, token: str | None = None, **kw: Any) -> Any:
        headers = {"X-Token": token or self.token, **kw.pop("headers", {})}
        if body is None and "content" not in kw:
            return self.http.post(ADMIN + route, headers=headers, **kw)
        if "content" in kw:
            headers.setdefault("Content-Type", "application/json")
            return self.http.post(ADMIN + route, headers=headers, **kw)
        return self.http.post(ADMIN + route, json=body, headers=headers, **kw)

    def get(self, route: str, *, token: str | None = None, **kw: Any) -> Any:
        headers = {"X-Token": token or self.token, **kw.pop("headers", {})}
        return self.http.get(ADMIN + route, headers=headers, **kw)

    def call(self, route: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        """POST and return the envelope, asserting the HTTP status is 200."""
        answer = self.post(route, body, **kw)
        assert answer.status_code == 200, answer.text
        envelope: dict[str, Any] = answer.json()
        return envelope


def build_edge(recon_url: str, redis_client: redis.Redis) -> Edge:
    """The edge app (response validation on) pointed at ``recon_url``."""
    config = EdgeSettings(recon_url=recon_url, validate_responses=True)
    recon = ReconClient(ReconConfig(recon_url, testkit.SERVICE_TOKEN, breaker_fail_max=50))
    app = create_app(config, recon=recon, redis_client=redis_client)
    edge = Edge(http=app.test_client(), redis=redis_client, recon_url=recon_url)
    edge.token = edge.login()
    return edge
