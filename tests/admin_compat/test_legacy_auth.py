"""admin_compat.legacy_auth on a real Redis: sessions, credentials and the header refresh."""

from __future__ import annotations

import json
import multiprocessing
import re
import threading
import time
from typing import Any

import pytest
import redis

from admin_compat.legacy_auth import (
    GRACE_TTL,
    SESSION_TTL,
    AuthResult,
    Session,
    authenticate,
    create_session,
    credential_from_headers,
    has_permission,
    refreshed_key,
    session_key,
)

NOW = 1_780_000_000
DEMO = Session(admin_id=7, username="demo", role_id=2, perms=("recon:view", "recon:edit"), login_at=NOW - 600)


def session_tokens(client: redis.Redis) -> set[str]:
    """Tokens of every stored session (refresh markers left out)."""
    return {
        key.removeprefix("admin:token:")
        for key in client.scan_iter("admin:token:*")
        if not key.startswith("admin:token:refreshed:")
    }


def due_token(client: redis.Redis, session: Session = DEMO, left: int = 1000) -> str:
    """A session created at login with ``left`` seconds of its TTL remaining."""
    token = create_session(client, session)
    client.expire(session_key(token), left)
    return token


# --------------------------------------------------------------------------- sessions


def test_create_session_stores_the_legacy_json_for_7200_seconds(redis_client: redis.Redis) -> None:
    """A login stores admin:token:<32 hex> as the contract's JSON with a 7200 s TTL."""
    token = create_session(redis_client, DEMO)
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    stored = json.loads(redis_client.get(f"admin:token:{token}"))
    assert stored == {
        "admin_id": 7,
        "username": "demo",
        "role_id": 2,
        "perms": ["recon:view", "recon:edit"],
        "login_at": NOW - 600,
    }
    assert SESSION_TTL - 2 <= redis_client.ttl(f"admin:token:{token}") <= SESSION_TTL


def test_a_stored_session_authenticates_and_an_unknown_token_does_not(redis_client: redis.Redis) -> None:
    """authenticate returns the stored session for its token and None for any other."""
    token = create_session(redis_client, DEMO)
    assert authenticate(redis_client, token, NOW) == AuthResult(DEMO, None)
    assert authenticate(redis_client, "0" * 32, NOW).session is None
    assert authenticate(redis_client, "", NOW).session is None


def test_tokens_that_address_other_keys_are_refused(redis_client: redis.Redis) -> None:
    """A header value such as refreshed:<token> never reads a key that is not a session."""
    old = due_token(redis_client)
    authenticate(redis_client, old, NOW)
    assert authenticate(redis_client, f"refreshed:{old}", NOW).session is None
    assert authenticate(redis_client, "a b", NOW).session is None


def test_a_malformed_stored_session_is_refused(redis_client: redis.Redis) -> None:
    """A value that is not the session JSON counts as no session."""
    for raw in ("not json", "[]", json.dumps({"admin_id": "7", "username": "x"})):
        redis_client.set("admin:token:" + "ab" * 16, raw, ex=100)
        assert authenticate(redis_client, "ab" * 16, NOW).session is None


def test_authentication_works_on_a_client_that_returns_bytes(redis_url: str) -> None:
    """The caller's client may or may not decode responses."""
    with redis.Redis.from_url(redis_url) as raw_client:
        token = due_token(raw_client)
        result = authenticate(raw_client, token, NOW)
    assert result.session == DEMO
    assert isinstance(result.refresh_token, str)


def test_use_does_not_extend_the_ttl(redis_client: redis.Redis) -> None:
    """Authenticating again and again leaves the session's TTL running down."""
    token = due_token(redis_client, left=5000)
    for _ in range(5):
        assert authenticate(redis_client, token, NOW).session == DEMO
    assert 4990 <= redis_client.ttl(session_key(token)) <= 5000


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Token": "xtok"}, "xtok"),
        ({"Authorization": "Bearer btok"}, "btok"),
        ({"authorization": "bearer btok"}, "btok"),
        ({"X-Token": "xtok", "Authorization": "Bearer btok"}, "xtok"),
        ({"X-Token": "", "Authorization": "Bearer btok"}, ""),
        ({"x-token": "bad", "Authorization": "Bearer btok"}, "bad"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, None),
        ({"Authorization": "Bearer"}, ""),
        ({}, None),
    ],
)
def test_x_token_when_present_is_the_only_credential(headers: dict[str, str], expected: str | None) -> None:
    """X-Token, even empty or bad, hides the Bearer; else the Bearer token; else nothing."""
    assert credential_from_headers(headers) == expected


def test_permissions_come_from_perms_and_the_super_admin_has_all() -> None:
    """role_id 1 passes every check; others need the permission in perms."""
    assert has_permission(DEMO, "recon:edit")
    assert not has_permission(DEMO, "recharge:approve")
    root = Session(admin_id=1, username="root", role_id=1, perms=(), login_at=NOW)
    assert has_permission(root, "recharge:approve")


# --------------------------------------------------------------------------- header refresh


def test_no_refresh_while_1800_seconds_or_more_are_left(redis_client: redis.Redis) -> None:
    """A session with 1801 s left is not refreshed and keeps its TTL."""
    token = due_token(redis_client, left=1801)
    assert authenticate(redis_client, token, NOW).refresh_token is None
    assert redis_client.ttl(session_key(token)) > 1790
    assert session_tokens(redis_client) == {token}
    assert not redis_client.exists(refreshed_key(token))


def test_refresh_below_1800_seconds_mints_a_new_token_and_shortens_the_old_one(
    redis_client: redis.Redis,
) -> None:
    """Under 1800 s left: a new 32-hex token with the same session for 7200 s; old key 60 s."""
    old = due_token(redis_client, left=1799)
    new = authenticate(redis_client, old, NOW).refresh_token
    assert new is not None and re.fullmatch(r"[0-9a-f]{32}", new) and new != old
    assert redis_client.get(session_key(new)) == redis_client.get(session_key(old))
    assert SESSION_TTL - 2 <= redis_client.ttl(session_key(new)) <= SESSION_TTL
    assert GRACE_TTL - 2 <= redis_client.ttl(session_key(old)) <= GRACE_TTL
    assert redis_client.get(refreshed_key(old)) == new
    assert GRACE_TTL - 2 <= redis_client.ttl(refreshed_key(old)) <= GRACE_TTL
    assert authenticate(redis_client, new, NOW) == AuthResult(DEMO, None)


def test_later_requests_with_the_old_token_get_the_same_new_token(redis_client: redis.Redis) -> None:
    """Inside the grace the old token still passes and always gets the first new token back."""
    old = due_token(redis_client)
    first = authenticate(redis_client, old, NOW)
    again = [authenticate(redis_client, old, NOW + i) for i in range(3)]
    assert all(result == first for result in again)
    assert session_tokens(redis_client) == {old, first.refresh_token}


def test_a_refresh_never_lengthens_an_old_token_with_under_60_seconds_left(
    redis_client: redis.Redis,
) -> None:
    """The old key's TTL is only ever shortened to 60 s."""
    old = due_token(redis_client, left=20)
    assert authenticate(redis_client, old, NOW).refresh_token is not None
    assert redis_client.ttl(session_key(old)) <= 20


def test_no_refresh_more_than_24_hours_after_login(redis_client: redis.Redis) -> None:
    """Past 24 h from login_at the session passes but simply runs out."""
    stale = Session(7, "demo", 2, ("recon:view",), login_at=NOW - 86400 - 1)
    token = due_token(redis_client, stale, left=100)
    assert authenticate(redis_client, token, NOW) == AuthResult(stale, None)
    assert session_tokens(redis_client) == {token}
    assert 90 <= redis_client.ttl(session_key(token)) <= 100


def test_a_refresh_is_still_granted_at_exactly_24_hours(redis_client: redis.Redis) -> None:
    """The limit is "more than 24 h ago": a login exactly 86400 s ago still refreshes."""
    edge = Session(7, "demo", 2, ("recon:view",), login_at=NOW - 86400)
    token = due_token(redis_client, edge, left=100)
    assert authenticate(redis_client, token, NOW).refresh_token is not None


def test_threads_refreshing_the_same_token_mint_exactly_one(redis_client: redis.Redis) -> None:
    """Many threads released together with the same due token all get one and the same new token."""
    old = due_token(redis_client)
    threads = 16
    barrier = threading.Barrier(threads)
    results: list[str | None] = []

    def refresh() -> None:
        barrier.wait(timeout=30)
        results.append(authenticate(redis_client, old, NOW).refresh_token)

    workers = [threading.Thread(target=refresh) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert len(results) == threads
    assert len(set(results)) == 1 and results[0] is not None
    assert session_tokens(redis_client) == {old, results[0]}


def _refresh_in_process(url: str, token: str, barrier: Any, threads: int, out: Any) -> None:
    """Child process: ``threads`` threads wait on the shared barrier, then refresh ``token``."""
    client = redis.Redis.from_url(url, decode_responses=True)
    results: list[str | None] = []

    def refresh() -> None:
        barrier.wait(timeout=30)
        results.append(authenticate(client, token, NOW).refresh_token)

    workers = [threading.Thread(target=refresh) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    out.put(results)


def test_two_processes_refreshing_the_same_token_mint_exactly_one(
    redis_url: str, redis_client: redis.Redis
) -> None:
    """Two processes (several threads each) released together agree on a single new token."""
    old = due_token(redis_client)
    ctx = multiprocessing.get_context("spawn")
    threads = 8
    barrier = ctx.Barrier(2 * threads)
    out = ctx.Queue()
    processes = [
        ctx.Process(target=_refresh_in_process, args=(redis_url, old, barrier, threads, out))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    results = [token for _ in processes for token in out.get(timeout=60)]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert len(results) == 2 * threads
    assert len(set(results)) == 1 and results[0] is not None
    assert session_tokens(redis_client) == {old, results[0]}


def test_the_old_token_stops_working_when_its_grace_ends(redis_client: redis.Redis) -> None:
    """After the 60 s grace the old token and its marker are gone; the new token goes on."""
    old = due_token(redis_client)
    new = authenticate(redis_client, old, NOW).refresh_token
    assert new is not None
    # stand-in for 60 s passing: both keys carry the same expiry
    redis_client.pexpire(session_key(old), 1)
    redis_client.pexpire(refreshed_key(old), 1)
    time.sleep(0.01)
    assert authenticate(redis_client, old, NOW).session is None
    assert authenticate(redis_client, new, NOW).session == DEMO
