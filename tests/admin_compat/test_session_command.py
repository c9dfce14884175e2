"""``python -m admin_compat.session`` creates a real session through legacy_auth."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import redis

from admin_compat.legacy_auth import SESSION_TTL, authenticate, session_key


def run_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "admin_compat.session", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_prints_a_token_that_authenticates(redis_url: str, redis_client: redis.Redis) -> None:
    """The printed token names a 7200 s session with the given username, perms and role."""
    done = run_command(
        "--username", "demo",
        "--perms", "recon:view,recon:edit,recon:check,recharge:approve",
        "--role-id", "1",
        "--redis-url", redis_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    stored = json.loads(redis_client.get(session_key(token)))
    assert stored["username"] == "demo" and stored["role_id"] == 1
    assert stored["perms"] == ["recon:view", "recon:edit", "recon:check", "recharge:approve"]
    assert abs(stored["login_at"] - time.time()) < 60
    assert SESSION_TTL - 5 <= redis_client.ttl(session_key(token)) <= SESSION_TTL
    session = authenticate(redis_client, token, time.time()).session
    assert session is not None and session.username == "demo"


def test_the_command_defaults_to_an_ordinary_role(redis_url: str, redis_client: redis.Redis) -> None:
    """Without --role-id the session is not a super admin."""
    done = run_command("--username", "viewer", "--perms", "recon:view", "--redis-url", redis_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(redis_client.get(session_key(done.stdout.strip())))["role_id"] != 1


def test_the_command_fails_cleanly_without_redis() -> None:
    """An unreachable Redis is exit status 1 with a message, no traceback."""
    done = run_command("--username", "demo", "--redis-url", "redis://127.0.0.1:1/0")
    assert done.returncode == 1
    assert "cannot store the session" in done.stderr and "Traceback" not in done.stderr
