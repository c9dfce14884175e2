"""Forced top-bar refresh: every admin change made through the edge is announced on
``admin:ws:refresh`` exactly once, by the worker's outbox relay, after it is committed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
import trio
from edge_stack import Stack, edge_stack

from infra.doubles.wallet_state import WalletState
from recon_impl.settings import Settings
from recon_impl.storage.models import ShooterDevice
from recon_worker.context import Beat, WorkerContext
from recon_worker.outbox import RelayConfig, listen_notifications, outbox_relay
from testkit import ENROLL_KEY, RefreshChannel, worker_context

QUIET_S = 1.0  # no second message within this window after the first
DEADLINE_S = 10.0


@dataclass(frozen=True)
class Change:
    """An admin action through the edge, the reason it is announced with, and how to see it stored."""

    act: Callable[[], Any]
    reason: str
    stored: Callable[[], bool]


def sms_check(stack: Stack) -> Change:
    sms_id = stack.matched_sms("R-1", "1500000")
    return Change(
        act=lambda: stack.admin("shooter/sms/check", {"id": sms_id, "check_status": 1}),
        reason="sms_check",
        stored=lambda: stack.sms_row(sms_id)["check_status"] == 1,
    )


def sms_reset(stack: Stack) -> Change:
    sms_id = stack.matched_sms("R-1", "1500000")
    return Change(
        act=lambda: stack.admin("shooter/sms/reset", {"id": sms_id}),
        reason="sms_reset",
        stored=lambda: stack.sms_row(sms_id)["status"] == 0,
    )


def recharge_approve(stack: Stack) -> Change:
    sms_id = stack.confirmed_sms("R-1", "1500000")
    return Change(
        act=lambda: stack.admin("recharge/approve", {"order_id": "R-1", "sms_id": sms_id}),
        reason="sms_approved",
        stored=lambda: stack.sms_row(sms_id)["status"] == 3,
    )


def _device(stack: Stack) -> int:
    root = stack.recon_url.removesuffix("/internal/recon/v1")
    body = {"device_id": "phone-1", "name": "Shooter", "phone": "0901", "app_version": "1.0"}
    answer = stack.http.post(
        f"{root}/api/shooter/device/register", json=body, headers={"X-Enroll-Key": ENROLL_KEY}
    ).json()
    assert answer["code"] == 0, answer
    listed = stack.admin("shooter/device/list")["data"]["list"]
    return int(listed[0]["id"])


def _device_row(stack: Stack, device_pk: int) -> tuple[int, bool]:
    with stack.sessions() as session:
        row = session.get(ShooterDevice, device_pk)
        assert row is not None
        return int(row.trusted), row.deleted_at is not None


def device_trust(stack: Stack) -> Change:
    device_pk = _device(stack)
    return Change(
        act=lambda: stack.admin("shooter/device/trust", {"id": device_pk, "trusted": 1}),
        reason="device_trusted",
        stored=lambda: _device_row(stack, device_pk) == (1, False),
    )


def device_delete(stack: Stack) -> Change:
    device_pk = _device(stack)
    return Change(
        act=lambda: stack.admin("shooter/device/delete", {"id": device_pk}),
        reason="device_deleted",
        stored=lambda: _device_row(stack, device_pk)[1],
    )


@pytest.fixture
def stack(settings: Settings, fresh_wallet: tuple[str, WalletState]) -> Iterator[Stack]:
    with edge_stack(settings, fresh_wallet) as running:
        yield running


@pytest.fixture
def ctx(settings: Settings) -> Iterator[WorkerContext]:
    with worker_context(settings, "test-forced-refresh") as context:
        yield context


async def _started(nursery: trio.Nursery, loop: Any, ctx: WorkerContext, name: str) -> None:
    beat = Beat(name, 60.0)
    nursery.start_soon(loop, ctx, beat)
    with trio.fail_after(DEADLINE_S):
        while beat.last is None:
            await trio.sleep(0.02)


@pytest.mark.trio
@pytest.mark.parametrize("change", [sms_check, sms_reset, recharge_approve, device_trust, device_delete])
async def test_an_admin_change_is_announced_once_and_only_once_it_is_committed(
    stack: Stack, ctx: WorkerContext, change: Callable[[Stack], Change]
) -> None:
    """One message with the change's reason and the next outbox id; the change is already
    visible in PostgreSQL when the message arrives; nothing else follows."""
    assert stack.settings.redis_url
    planned = change(stack)  # setup (ingest, decide, register) announces too: drained below
    channel = RefreshChannel(stack.settings.redis_url)
    try:
        async with trio.open_nursery() as nursery:
            await _started(nursery, listen_notifications, ctx, "outbox_listen")
            await _started(nursery, partial(outbox_relay, config=RelayConfig(fallback_s=60.0)), ctx, "relay")
            before = await channel.drain(QUIET_S)
            assert not planned.stored()
            answers: list[Any] = []

            async def act() -> None:
                answers.append(await trio.to_thread.run_sync(planned.act))

            nursery.start_soon(act)
            started = time.monotonic()
            message = await channel.next(DEADLINE_S)
            assert message is not None, "no refresh was published"
            visible = await trio.to_thread.run_sync(planned.stored)
            later = await channel.drain(QUIET_S)
            nursery.cancel_scope.cancel()
    finally:
        channel.close()
    assert answers and answers[0]["code"] == 0, answers
    assert message["type"] == "top_info" and message["reason"] == planned.reason, message
    assert visible, "the refresh arrived before its change was committed"
    assert later == [], later
    assert all(message["id"] > earlier["id"] for earlier in before)
    assert time.monotonic() - started < DEADLINE_S
