"""shooter_gaps, the shooter half of missing_sms_sync: phones that lost SMS or went quiet.

A phone learns of its own gaps from the heartbeat (``resend_from``) and sends them again; this
loop finds what that does not fix. Per trusted phone: a ``seq`` gap inside what it has sent
(an SMS the phone numbered but recon never stored) that outlives ``GAP_GRACE_S``, and silence (no
heartbeat for ``SILENT_AFTER_S``, the way battery managers kill forwarders without a word). Each
is logged once when it appears and once when it clears, so a person watching the logs or an
alert on them sees every phone that needs a look; nothing is invented in place of a lost SMS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import trio
from sqlalchemy import select
from sqlalchemy.orm import Session

from recon_impl.services.devices import first_missing_seq
from recon_impl.storage.models import ShooterDevice
from recon_worker.context import Beat, WorkerContext

__all__ = ["PhoneState", "phone_states", "shooter_gaps"]

log = logging.getLogger(__name__)
EVERY_S = 60.0
SILENT_AFTER_S = 900.0
GAP_GRACE_S = 300.0


@dataclass(frozen=True, slots=True)
class PhoneState:
    device_id: str
    first_missing: int | None  # lowest seq not stored below the highest stored one
    silent_s: float | None  # seconds since the last heartbeat, when past SILENT_AFTER_S


def phone_states(session: Session, now: datetime, silent_after_s: float = SILENT_AFTER_S) -> list[PhoneState]:
    """Every trusted, live phone with its gap and silence (None where there is none)."""
    phones = session.scalars(
        select(ShooterDevice)
        .where(ShooterDevice.deleted_at.is_(None), ShooterDevice.trusted == 1)
        .order_by(ShooterDevice.id)
    )
    states = []
    for phone in phones:
        gap = None if phone.last_seq is None else first_missing_seq(session, phone.id, phone.last_seq)
        seen = phone.last_seen_at or phone.trusted_at or phone.created_at
        quiet = (now - seen).total_seconds()
        states.append(PhoneState(phone.device_id, gap, quiet if quiet >= silent_after_s else None))
    return states


async def shooter_gaps(
    ctx: WorkerContext,
    beat: Beat,
    *,
    every_s: float = EVERY_S,
    gap_grace_s: float = GAP_GRACE_S,
    silent_after_s: float = SILENT_AFTER_S,
) -> None:
    """LoopFn: every ``every_s``, log the phones whose gap or silence appeared or cleared."""
    gap_since: dict[str, tuple[int, float]] = {}  # device -> (first missing seq, first seen at)
    reported_gap: dict[str, int] = {}
    silent: set[str] = set()
    while True:
        now = trio.current_time()
        states = await ctx.db(partial(phone_states, now=datetime.now(UTC), silent_after_s=silent_after_s))
        for state in states:
            device = state.device_id
            if state.first_missing is None:
                gap_since.pop(device, None)
                if reported_gap.pop(device, None) is not None:
                    log.info("shooter %s: its seq gap is filled", device)
            else:
                seq, since = gap_since.get(device, (state.first_missing, now))
                if seq != state.first_missing:  # an older gap was filled, a later one remains
                    seq, since = state.first_missing, now
                gap_since[device] = (seq, since)
                if now - since >= gap_grace_s and reported_gap.get(device) != seq:
                    reported_gap[device] = seq
                    log.warning("shooter %s: seq %d never arrived (the phone did not resend it)", device, seq)
            if state.silent_s is not None and device not in silent:
                silent.add(device)
                log.warning("shooter %s: no heartbeat for %s", device, timedelta(seconds=int(state.silent_s)))
            elif state.silent_s is None and device in silent:
                silent.discard(device)
                log.info("shooter %s: heartbeats again", device)
        beat.beat()
        await trio.sleep(every_s)
