"""recharge/approve end to end: the edge, a real recon_service on PostgreSQL and Redis, the
wallet double, and recon_worker's compensation for approvals left in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import trio
from edge_stack import Stack, admin_token, edge_stack

from infra.doubles.wallet_state import WalletState
from recon_impl.settings import Settings
from recon_worker.loops.compensation import settle_approval
from recon_worker.orders import WalletOrders, open_wallet
from recon_worker.runtime import build_context, close_context

APPROVED = {"code": 0, "msg": "success", "data": {"order_id": "R-1", "status": "approved"}}


@pytest.fixture
def stack(settings: Settings, fresh_wallet: tuple[str, WalletState]) -> Iterator[Stack]:
    with edge_stack(settings, fresh_wallet) as running:
        yield running


def approve(stack: Stack, sms_id: int, order_id: str = "R-1") -> Any:
    return stack.admin("recharge/approve", {"order_id": order_id, "sms_id": sms_id})


def credits(stack: Stack) -> list[tuple[str, str]]:
    return [(a.order_id, a.key) for a in stack.wallet.approvals]


def test_approving_a_confirmed_sms_credits_the_order_once_and_marks_the_sms_approved(stack: Stack) -> None:
    """Happy path: code 0 with the order, one wallet credit under sms-<id>, SMS status 3."""
    sms_id = stack.confirmed_sms("R-1", "1500000")
    assert approve(stack, sms_id) == APPROVED
    assert credits(stack) == [("R-1", f"sms-{sms_id}")]
    row = stack.sms_row(sms_id)
    assert (row["status"], row["approval_order_id"]) == (3, None)


def test_approving_again_credits_nothing_more_and_answers_the_same(stack: Stack) -> None:
    """A second and third approve of an approved SMS: same answer, still one credit, no wallet call."""
    sms_id = stack.confirmed_sms("R-1", "1500000")
    first = approve(stack, sms_id)
    requests = stack.wallet.request_count
    assert approve(stack, sms_id) == first == APPROVED
    assert approve(stack, sms_id) == first
    assert len(stack.wallet.approvals) == 1
    assert stack.wallet.request_count == requests  # recon said "approved": the wallet was not asked


def test_concurrent_approvals_of_one_sms_credit_once_and_all_succeed(stack: Stack) -> None:
    """Six simultaneous approves of the same SMS: every answer is the success, one credit."""
    sms_id = stack.confirmed_sms("R-1", "1500000")
    answers: list[Any] = []
    barrier = threading.Barrier(6)

    def click() -> None:
        barrier.wait()
        answers.append(approve(stack, sms_id))

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [APPROVED] * 6
    assert credits(stack) == [("R-1", f"sms-{sms_id}")]
    assert stack.sms_row(sms_id)["status"] == 3


def test_an_sms_not_confirmed_for_that_order_is_1004_and_the_wallet_is_not_called(stack: Stack) -> None:
    """Matched but unreviewed, or confirmed for another order: 1004, no wallet request, nothing in flight."""
    matched = stack.matched_sms("R-1", "1500000")
    confirmed = stack.confirmed_sms("R-2", "250000")
    requests = stack.wallet.request_count
    for sms_id, order_id in ((matched, "R-1"), (confirmed, "R-1")):
        answer = approve(stack, sms_id, order_id)
        assert (answer["code"], answer["data"]) == (1004, None), answer
        assert stack.sms_row(sms_id)["approval_order_id"] is None
    assert stack.wallet.request_count == requests
    assert stack.wallet.approvals == []


def test_a_wallet_refusal_is_1004_and_clears_the_in_flight_record(stack: Stack) -> None:
    """The order was cancelled in the wallet after the review: 1004, SMS still confirmed, nothing in flight."""
    sms_id = stack.confirmed_sms("R-1", "1500000")
    stack.wallet.cancel("R-1")
    answer = approve(stack, sms_id)
    assert answer["code"] == 1004 and answer["data"] is None
    assert "cancelled" in answer["msg"]
    row = stack.sms_row(sms_id)
    assert (row["status"], row["check_status"], row["approval_order_id"]) == (1, 1, None)
    assert stack.wallet.approvals == []
    # nothing is stuck: the SMS can be reset now (reset answers 1004 while in flight)
    assert stack.admin("shooter/sms/reset", {"id": sms_id})["code"] == 0


def test_a_wallet_timeout_after_crediting_is_5003_and_the_worker_settles_it_without_a_second_credit(
    settings: Settings, fresh_wallet: tuple[str, WalletState]
) -> None:
    """The edge times out while the wallet credits: 5003, the in-flight record stays, check and
    reset answer 1004; compensation then marks the SMS approved; a repeat answers the success."""
    with edge_stack(settings, fresh_wallet, read_s=0.3, attempts=1) as stack:
        sms_id = stack.confirmed_sms("R-1", "1500000")
        stack.wallet.delay_seconds = 1.0
        answer = approve(stack, sms_id)
        assert (answer["code"], answer["data"]) == (5003, None), answer
        stack.wallet.delay_seconds = 0
        deadline = time.monotonic() + 5
        while not stack.wallet.approvals and time.monotonic() < deadline:
            time.sleep(0.05)
        assert credits(stack) == [("R-1", f"sms-{sms_id}")]  # the wallet did credit
        row = stack.sms_row(sms_id)
        assert (row["status"], row["approval_order_id"]) == (1, "R-1")
        assert stack.admin("shooter/sms/reset", {"id": sms_id})["code"] == 1004
        assert stack.admin("shooter/sms/check", {"id": sms_id, "check_status": 2})["code"] == 1004

        assert trio.run(settle, stack.settings, sms_id, "R-1") == "approved"
        row = stack.sms_row(sms_id)
        assert (row["status"], row["approval_order_id"]) == (3, None)
        assert len(stack.wallet.approvals) == 1
        assert approve(stack, sms_id) == APPROVED
        assert len(stack.wallet.approvals) == 1


async def settle(settings: Settings, sms_id: int, order_id: str) -> str | None:
    """recon_worker's compensation step for one in-flight approval."""
    ctx = build_context(settings.model_copy(update={"db_pool_size": 2}))
    try:
        async with open_wallet(settings) as http:
            return await settle_approval(ctx, WalletOrders(http), sms_id, order_id)
    finally:
        close_context(ctx)


def test_a_down_wallet_is_5003_and_after_the_worker_clears_it_a_new_approve_succeeds(
    settings: Settings, fresh_wallet: tuple[str, WalletState]
) -> None:
    """Wallet 503s throughout: 5003, in flight; compensation finds the order still pending and
    clears the record; approving again then credits exactly once."""
    with edge_stack(settings, fresh_wallet, attempts=2, retry_budget_s=1.0) as stack:
        sms_id = stack.confirmed_sms("R-1", "1500000")
        stack.wallet.down = True
        answer = approve(stack, sms_id)
        assert (answer["code"], answer["data"]) == (5003, None), answer
        assert "wallet" in answer["msg"]
        assert stack.sms_row(sms_id)["approval_order_id"] == "R-1"
        stack.wallet.down = False
        assert trio.run(settle, stack.settings, sms_id, "R-1") == "not_approved"
        row = stack.sms_row(sms_id)
        assert (row["status"], row["check_status"], row["approval_order_id"]) == (1, 1, None)
        assert stack.wallet.approvals == []
        assert approve(stack, sms_id) == APPROVED
        assert credits(stack) == [("R-1", f"sms-{sms_id}")]


def test_a_stopped_recon_is_5003_and_the_wallet_is_never_asked(stack: Stack) -> None:
    """recon cannot record the in-flight approval: 5003 before any wallet request."""
    sms_id = stack.confirmed_sms("R-1", "1500000")
    requests = stack.wallet.request_count
    stack.stop_recon()
    answer = approve(stack, sms_id)
    assert (answer["code"], answer["data"]) == (5003, None), answer
    assert stack.wallet.request_count == requests
    assert stack.wallet.approvals == []


def test_approving_needs_the_recharge_approve_permission(stack: Stack) -> None:
    """A reviewer without ``recharge:approve``: HTTP 403 code 403, nothing in flight, no wallet call."""
    sms_id = stack.confirmed_sms("R-1", "1500000")
    token = admin_token(stack.redis, perms=("recon:view", "recon:check"))
    answer = stack.http.post(
        f"{stack.edge_url}/recharge/approve",
        json={"order_id": "R-1", "sms_id": sms_id},
        headers={"X-Token": token},
    )
    assert (answer.status_code, answer.json()["code"]) == (403, 403)
    assert stack.sms_row(sms_id)["approval_order_id"] is None
    assert stack.wallet.approvals == []
