"""compensation: settle approvals left in flight, expire unmatched SMS, retry failed decisions.

(The outbox relay, the third part of compensation in the architecture, is its own pair of loops
in ``recon_worker.outbox``: it is event-driven and must not wait behind a wallet call here.)

- An approval is in flight from the moment the admin edge recorded it until it marked the SMS
  approved (legacy contract section 3). If the edge died or timed out in between, the wallet's
  answer decides: approved there means approved here (status 3, never a second call to the
  wallet: recon cannot write to it); still pending or unknown means it did not happen, and the
  in-flight record is cleared so a person can approve again, with the same idempotency key;
  cancelled or expired also clears it, and the SMS goes to a person (``order_closed``).
- Unmatched SMS (status 6) past their expiry are decided one last time: matched if an order
  fits now, else need_check ``no_order``.
- SMS whose decision raised (need_check ``processing_error``, never reviewed) are sent back to
  the queue with a capped exponential backoff on their attempts, then left to a person.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import trio
from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import Session

from recon_impl.adapters.wallet import WalletOrder
from recon_impl.services.context import Actor
from recon_impl.services.sms import finish_approval
from recon_impl.storage.models import AuditLog, Sms
from recon_worker.context import Beat, WorkerContext
from recon_worker.decide import NEED_CHECK, NEW, close_orders, rematch, requeue
from recon_worker.loops.processing import match_config
from recon_worker.orders import WalletFeedError, WalletOrders, open_wallet
from recon_worker.outbox import SMS_TOPIC

__all__ = ["RETRY", "Retry", "compensation", "in_flight_approvals", "retry_failed", "settle_approval"]

log = logging.getLogger(__name__)
ACTOR = Actor("recon_worker:compensation")
EVERY_S = 10.0
STUCK_NEW_S = 120.0


@dataclass(frozen=True, slots=True)
class Retry:
    """Backoff of failed decisions: ``base_s * 2**(attempt-1)`` capped, at most ``attempts``."""

    base_s: float = 60.0
    cap_s: float = 3600.0
    attempts: int = 5


RETRY = Retry()


async def compensation(
    ctx: WorkerContext, beat: Beat, *, every_s: float = EVERY_S, retry: Retry = RETRY
) -> None:
    """LoopFn: every ``every_s``, the three repairs of the module docstring."""
    config = match_config(ctx.settings)
    async with open_wallet(ctx.settings) as http:
        wallet = WalletOrders(http)
        while True:
            settle_before = datetime.now(UTC) - timedelta(seconds=ctx.settings.approval_settle_after_s)
            for sms_id, order_id in await ctx.db(partial(in_flight_approvals, before=settle_before)):
                await settle_approval(ctx, wallet, sms_id, order_id)
            if ctx.orders.book.fresh:
                await ctx.db(
                    partial(
                        rematch, book=ctx.orders.book, config=config, now=int(time.time()), expired_only=True
                    )
                )
            if await ctx.db(partial(retry_failed, retry=retry, now=datetime.now(UTC))):
                ctx.wake(SMS_TOPIC)
            stuck = await ctx.db(_stuck_new)
            if stuck:
                log.warning(
                    "%d SMS have waited more than %.0f s for their first decision", stuck, STUCK_NEW_S
                )
            beat.beat()
            await trio.sleep(every_s)


def in_flight_approvals(session: Session, before: datetime) -> list[tuple[int, str]]:
    """(sms id, order id) of approvals started before ``before`` and not finished."""
    rows = session.execute(
        select(Sms.id, Sms.approval_order_id)
        .where(Sms.approval_order_id.is_not(None), Sms.approval_started_at < before)
        .order_by(Sms.id)
        .limit(100)
    )
    return [(int(sms_id), str(order_id)) for sms_id, order_id in rows]


async def settle_approval(ctx: WorkerContext, wallet: WalletOrders, sms_id: int, order_id: str) -> str | None:
    """Ask the wallet how approving ``order_id`` ended and record it; the outcome, or None."""
    try:
        order = await wallet.get_order(order_id)
    except WalletFeedError as exc:
        log.warning("approval of sms %s not settled yet: %s", sms_id, exc)
        return None
    outcome = _outcome(order)
    await ctx.db(partial(_record_outcome, sms_id=sms_id, order_id=order_id, outcome=outcome))
    log.info("approval of sms %s for order %s settled as %s", sms_id, order_id, outcome)
    return outcome


def _outcome(order: WalletOrder | None) -> str:
    if order is None or order.status == "pending":
        return "not_approved"
    return "approved" if order.status == "approved" else "order_closed"


def _record_outcome(session: Session, sms_id: int, order_id: str, outcome: str) -> None:
    row = session.get(Sms, sms_id, with_for_update=True)
    if row is None or row.approval_order_id != order_id:
        return  # the edge finished it meanwhile
    finish_approval(session, ACTOR, sms_id, order_id, "approved" if outcome == "approved" else "refused")
    if outcome == "order_closed":
        close_orders(session, [order_id], actor=ACTOR)


def retry_failed(session: Session, retry: Retry, now: datetime) -> int:
    """Requeue the ``processing_error`` SMS whose backoff has run out; returns how many."""
    attempts = (
        select(func.count())
        .where(
            AuditLog.entity == "sms",
            AuditLog.entity_id == cast(Sms.id, String),
            AuditLog.action == "sms.decide",
            AuditLog.after["reason"].astext == "processing_error",
        )
        .scalar_subquery()
    )
    candidates = session.execute(
        select(Sms.id, Sms.updated_at, attempts)
        .where(Sms.status == NEED_CHECK, Sms.reason == "processing_error", Sms.check_status == 0)
        .order_by(Sms.id)
        .limit(200)
    ).all()
    due = [
        sms_id
        for sms_id, updated_at, tried in candidates
        if tried < retry.attempts
        and updated_at + timedelta(seconds=min(retry.cap_s, retry.base_s * 2 ** max(tried - 1, 0))) <= now
    ]
    if not due:
        return 0
    return requeue(session, and_(Sms.id.in_(due), Sms.status == NEED_CHECK), actor=ACTOR)


def _stuck_new(session: Session) -> int:
    cutoff = datetime.now(UTC) - timedelta(seconds=STUCK_NEW_S)
    query = select(func.count()).where(Sms.status == NEW, Sms.held.is_(False), Sms.created_at < cutoff)
    return int(session.scalar(query) or 0)
