"""The edge's wallet client against the real wallet double over loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from admin_compat.wallet_client import (
    WalletClient,
    WalletConfig,
    WalletRefused,
    WalletUnavailable,
)
from infra.doubles.wallet import DEFAULT_TOKEN
from infra.doubles.wallet_state import WalletState


def make_client(base_url: str, **overrides: Any) -> WalletClient:
    options: dict[str, Any] = {"read_s": 0.3, "attempts": 3, "retry_budget_s": 2.0, "breaker_fail_max": 5}
    options.update(overrides)
    return WalletClient(WalletConfig(base_url, DEFAULT_TOKEN, **options))


@pytest.fixture
def wallet(fresh_wallet: tuple[str, WalletState]) -> Iterator[tuple[WalletClient, WalletState]]:
    client = make_client(fresh_wallet[0])
    yield client, fresh_wallet[1]
    client.close()


def test_pending_counts_are_the_wallets_pending_recharge_and_withdraw_numbers(
    wallet: tuple[WalletClient, WalletState],
) -> None:
    """pending_counts reads both figures from /pending-counts."""
    client, state = wallet
    state.add_order("R-1", "100")
    state.add_order("R-2", "200")
    state.cancel("R-2")
    state.set_withdraw_pending(4)
    counts = client.pending_counts()
    assert (counts.recharge_pending_cnt, counts.withdraw_pending_cnt) == (1, 4)


def test_a_get_is_retried_after_transient_5xx_answers(wallet: tuple[WalletClient, WalletState]) -> None:
    """Two 503s in a row, then the real answer: the caller sees only the answer."""
    client, state = wallet
    state.set_withdraw_pending(2)
    state.fail_next(2)
    assert client.pending_counts().withdraw_pending_cnt == 2
    assert state.request_count == 3


def test_approve_credits_once_and_a_repeat_with_the_same_key_answers_the_same(
    wallet: tuple[WalletClient, WalletState],
) -> None:
    """The same Idempotency-Key twice: one credit, the same approved_at both times."""
    client, state = wallet
    state.add_order("R-1", "1500000")
    first = client.approve("R-1", "sms-7")
    again = client.approve("R-1", "sms-7")
    assert first == again
    assert first.order_id == "R-1"
    assert [(a.order_id, a.key) for a in state.approvals] == [("R-1", "sms-7")]


def test_approve_after_a_503_is_retried_with_the_same_key_and_credits_once(
    wallet: tuple[WalletClient, WalletState],
) -> None:
    """A proxy 503 before the wallet answers: the retry carries the same key, one credit."""
    client, state = wallet
    state.add_order("R-1", "100")
    state.fail_next(1)
    client.approve("R-1", "sms-1")
    assert state.request_count == 2
    assert [a.key for a in state.approvals] == ["sms-1"]


@pytest.mark.parametrize(
    ("setup", "order_id", "key", "status", "problem"),
    [
        (lambda s: s.cancel("R-1"), "R-1", "sms-1", 409, "urn:wallet:problem:order-not-pending"),
        (
            lambda s: s.approve("R-2", "sms-1"),
            "R-1",
            "sms-1",
            409,
            "urn:wallet:problem:idempotency-key-reused",
        ),
        (lambda s: None, "R-404", "sms-1", 404, "urn:wallet:problem:order-not-found"),
    ],
    ids=["not-pending", "key-reused", "unknown-order"],
)
def test_a_definitive_refusal_is_wallet_refused_with_the_problem_type(
    wallet: tuple[WalletClient, WalletState], setup: Any, order_id: str, key: str, status: int, problem: str
) -> None:
    """404 and 409 problems are refusals (not retried): nothing more is credited."""
    client, state = wallet
    state.add_order("R-1", "100")
    state.add_order("R-2", "200")
    setup(state)
    credits, requests = len(state.approvals), state.request_count
    with pytest.raises(WalletRefused) as refused:
        client.approve(order_id, key)
    assert (refused.value.status, refused.value.problem_type) == (status, problem)
    assert len(state.approvals) == credits
    assert state.request_count == requests + 1


def test_an_approve_that_outlasts_the_read_timeout_is_unavailable_though_the_wallet_credits(
    wallet: tuple[WalletClient, WalletState],
) -> None:
    """Every attempt times out (WalletUnavailable, outcome unknown); the wallet still credits once."""
    client, state = wallet
    state.add_order("R-1", "100")
    state.delay_seconds = 0.6
    started = time.monotonic()
    with pytest.raises(WalletUnavailable):
        client.approve("R-1", "sms-1")
    assert time.monotonic() - started < 3.0  # bounded by the retry budget
    state.delay_seconds = 0
    deadline = time.monotonic() + 5
    while not state.approvals and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.7)  # let the later attempts land too
    assert [a.key for a in state.approvals] == ["sms-1"]


def test_a_down_wallet_opens_the_breaker_and_later_calls_fail_without_a_request(
    fresh_wallet: tuple[str, WalletState],
) -> None:
    """After fail_max failed calls the breaker answers WalletUnavailable at once."""
    client = make_client(fresh_wallet[0], attempts=1, breaker_fail_max=2)
    state = fresh_wallet[1]
    state.down = True
    for _ in range(2):
        with pytest.raises(WalletUnavailable):
            client.pending_counts()
    requests = state.request_count
    with pytest.raises(WalletUnavailable, match="breaker"):
        client.pending_counts()
    assert state.request_count == requests
    client.close()


def test_refusals_do_not_open_the_breaker(fresh_wallet: tuple[str, WalletState]) -> None:
    """Many 409s in a row leave the breaker closed: the next good call goes through."""
    client = make_client(fresh_wallet[0], breaker_fail_max=2)
    state = fresh_wallet[1]
    state.add_order("R-1", "100")
    state.cancel("R-1")
    for _ in range(4):
        with pytest.raises(WalletRefused):
            client.approve("R-1", "sms-1")
    state.set_withdraw_pending(1)
    assert client.pending_counts().withdraw_pending_cnt == 1
    client.close()
