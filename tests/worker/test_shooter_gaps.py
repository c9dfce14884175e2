"""shooter_gaps on real PostgreSQL: seq gaps a phone never filled, and phones gone quiet."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import trio
from sqlalchemy import update
from sqlalchemy.orm import Session

from recon_impl.security import SecretBox
from recon_impl.services.context import Actor
from recon_impl.services.devices import live_device, register, report_sms, set_trust
from recon_impl.storage.models import ShooterDevice
from recon_worker.context import Beat, WorkerContext
from recon_worker.loops.shooter import phone_states, shooter_gaps


def enrol(session: Session, box: SecretBox, device_id: str, *, trusted: bool = True) -> None:
    register(session, box, {"device_id": device_id, "name": "p", "phone": "849", "app_version": "1"})
    phone = live_device(session, device_id)
    assert phone is not None
    if trusted:
        set_trust(session, Actor("alice"), phone.id, 1, 180)


def send(session: Session, device_id: str, *seqs: int) -> None:
    phone = live_device(session, device_id)
    assert phone is not None
    now = int(datetime.now(UTC).timestamp())
    messages = [
        {"seq": s, "sender": "VCB", "content": f"sms {s}", "received_at": now, "sim_slot": 1} for s in seqs
    ]
    report_sms(session, phone, messages)


@pytest.fixture
def ctx(make_ctx: Any) -> WorkerContext:
    return make_ctx("test-shooter")


def box_of(ctx: WorkerContext) -> SecretBox:
    return SecretBox([k.get_secret_value() for k in ctx.settings.secret_keys])


@pytest.mark.trio
async def test_a_gap_inside_what_a_phone_sent_is_found_and_an_untrusted_phone_is_not_watched(
    ctx: WorkerContext,
) -> None:
    """seq 1, 2, 4 stored: 3 is missing; phones nobody trusted are left alone."""
    box = box_of(ctx)
    await ctx.db(partial(enrol, box=box, device_id="phone-a"))
    await ctx.db(partial(enrol, box=box, device_id="phone-b", trusted=False))
    await ctx.db(lambda s: send(s, "phone-a", 1, 2, 4))
    await ctx.db(lambda s: send(s, "phone-b", 1, 5))
    states = await ctx.db(lambda s: phone_states(s, datetime.now(UTC)))
    assert [(p.device_id, p.first_missing, p.silent_s) for p in states] == [("phone-a", 3, None)]


@pytest.mark.trio
async def test_a_gap_that_outlives_its_grace_is_logged_once_and_its_filling_too(
    ctx: WorkerContext, caplog: pytest.LogCaptureFixture
) -> None:
    """One warning for the lost seq, however many passes see it; one note when it arrives."""
    box = box_of(ctx)
    await ctx.db(partial(enrol, box=box, device_id="phone-a"))
    await ctx.db(lambda s: send(s, "phone-a", 1, 2, 4))
    caplog.set_level(logging.INFO, logger="recon_worker.loops.shooter")
    beat = Beat("shooter_gaps", 60)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(shooter_gaps, every_s=0.05, gap_grace_s=0.2), ctx, beat)
        with trio.fail_after(10):
            while "seq 3 never arrived" not in caplog.text:
                await trio.sleep(0.05)
        await trio.sleep(0.3)  # several more passes
        await ctx.db(lambda s: send(s, "phone-a", 3))
        with trio.fail_after(10):
            while "gap is filled" not in caplog.text:
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    assert caplog.text.count("seq 3 never arrived") == 1


@pytest.mark.trio
async def test_a_trusted_phone_without_heartbeats_is_reported_silent(ctx: WorkerContext) -> None:
    """No heartbeat for longer than the silence limit: reported with how long it has been."""
    box = box_of(ctx)
    await ctx.db(partial(enrol, box=box, device_id="phone-a"))
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await ctx.db(
        lambda s: s.execute(update(ShooterDevice).values(last_seen_at=hour_ago, trusted_at=hour_ago))
    )
    states = await ctx.db(lambda s: phone_states(s, datetime.now(UTC), silent_after_s=900))
    assert len(states) == 1 and states[0].silent_s is not None and 3500 < states[0].silent_s < 3700
