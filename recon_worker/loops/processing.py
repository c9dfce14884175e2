"""The SMS pipeline loops: order_matching (decide new SMS, follow the wallet), and the two catalog
watchers, whitelist_validation and template_parsing.

Deciding a new SMS applies the whitelist, the templates, the copy and balance checks and the
matching in one batch (``decide.decide_new``), because a batch that reads its inputs once is what
drains a backlog at thousands of SMS a second. The two watchers do the other half of their jobs:
when the whitelist or the templates change, recent SMS that the old catalog turned away
(``not_whitelisted``, ``no_template``) go back to the queue and are decided again. Every loop here
is splittable (claims use ``FOR UPDATE SKIP LOCKED``), so each replica runs them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import trio
from sqlalchemy import and_, select, text
from sqlalchemy.orm import Session

from recon_impl.domain.matching import MatchConfig, OrderBook
from recon_impl.settings import Settings
from recon_impl.storage.models import Sms, WhitelistEntry
from recon_worker.context import Beat, WorkerContext
from recon_worker.decide import (
    IGNORED,
    MATCHED,
    NEED_CHECK,
    Catalog,
    Settled,
    close_orders,
    decide_new,
    load_catalog,
    rematch,
    requeue,
    templates_version,
    whitelist_version,
)
from recon_worker.orders import OrderChanges, WalletFeedError, WalletOrders, open_wallet
from recon_worker.outbox import SMS_TOPIC

__all__ = [
    "match_config",
    "order_matching",
    "release_stale_holds",
    "requeue_no_template",
    "requeue_not_whitelisted",
    "template_parsing",
    "whitelist_validation",
]

log = logging.getLogger(__name__)
BATCH = 500
FALLBACK_S = 2.0  # poll for new SMS this often when no wake-up came (a lost NOTIFY)
RECHECK_LOOKBACK_S = 7 * 86400  # how far back a catalog change re-decides turned-away SMS
WATCH_S = 5.0


def match_config(settings: Settings) -> MatchConfig:
    return MatchConfig(
        window_before_s=settings.match_window_before_s,
        window_after_s=settings.match_window_after_s,
        margin=settings.match_margin,
        unmatched_expiry_s=settings.unmatched_expiry_s,
    )


# --------------------------------------------------------------------------- order_matching


async def order_matching(ctx: WorkerContext, beat: Beat, *, batch: int = BATCH) -> None:
    """LoopFn: decide new SMS as soon as they are committed (woken by the outbox NOTIFY), and
    follow the wallet's order changes every ``order_sync_interval_s``."""
    settings = ctx.settings
    config = match_config(settings)
    catalog: Catalog | None = None
    next_sync = trio.current_time()
    async with open_wallet(settings) as http:
        wallet = WalletOrders(http)
        while True:
            if trio.current_time() >= next_sync:
                await _follow_orders(ctx, wallet, config, batch)
                next_sync = trio.current_time() + settings.order_sync_interval_s
            armed = ctx.wakeups.setdefault(SMS_TOPIC, trio.Event())
            catalog, settled = await ctx.db(
                partial(_decide_batch, catalog=catalog, ctx=ctx, config=config, batch=batch)
            )
            beat.beat()
            if len(settled) >= batch or armed.is_set():
                await trio.lowlevel.checkpoint()
                continue
            await ctx.wait_for(SMS_TOPIC, max(0.0, min(FALLBACK_S, next_sync - trio.current_time())))


def _decide_batch(
    session: Session, catalog: Catalog | None, ctx: WorkerContext, config: MatchConfig, batch: int
) -> tuple[Catalog, Settled]:
    current = load_catalog(session, ctx.settings.default_tz, catalog)
    return current, decide_new(session, current, ctx.orders.book, config, int(time.time()), limit=batch)


async def _follow_orders(ctx: WorkerContext, wallet: WalletOrders, config: MatchConfig, batch: int) -> None:
    """Read the wallet's changes; release SMS whose order closed; retry SMS a new order may fit."""
    feed = ctx.orders
    was_fresh = feed.book.fresh
    try:
        changes = await feed.sync(wallet)
    except WalletFeedError as exc:
        log.warning("order feed: %s; matching waits on the last known orders", exc)
        return
    if not feed.book.fresh:
        return
    if not was_fresh:
        # Orders closed while no worker followed the feed are not in the first (pending-only) pass.
        await ctx.db(partial(release_stale_holds, book=feed.book.orders))
    await _apply_changes(ctx, changes, config, batch)


async def _apply_changes(ctx: WorkerContext, changes: OrderChanges, config: MatchConfig, batch: int) -> None:
    if changes.closed:
        await ctx.db(partial(close_orders, order_ids=changes.closed))
    amounts = changes.amounts
    while amounts:
        settled = await ctx.db(
            partial(
                rematch,
                book=ctx.orders.book,
                config=config,
                now=int(time.time()),
                amounts=amounts,
                limit=batch,
            )
        )
        if len(settled) < batch:
            break


def release_stale_holds(session: Session, book: OrderBook) -> Settled:
    """Matched SMS (no approval in flight) whose order is no longer pending go to a person."""
    held = session.scalars(
        select(Sms.order_id).where(
            Sms.status == MATCHED, Sms.order_id.is_not(None), Sms.approval_order_id.is_(None)
        )
    )
    return close_orders(session, [order_id for order_id in held if order_id and order_id not in book])


# --------------------------------------------------------------------------- catalog watchers


async def whitelist_validation(ctx: WorkerContext, beat: Beat, *, every_s: float = WATCH_S) -> None:
    """LoopFn: when the whitelist changes, re-decide recent SMS it had turned away."""
    await _watch(ctx, beat, every_s, "catalog:whitelist", whitelist_version, requeue_not_whitelisted)


async def template_parsing(ctx: WorkerContext, beat: Beat, *, every_s: float = WATCH_S) -> None:
    """LoopFn: when the templates change, re-parse recent SMS that no template read."""
    await _watch(ctx, beat, every_s, "catalog:templates", templates_version, requeue_no_template)


async def _watch(
    ctx: WorkerContext,
    beat: Beat,
    every_s: float,
    cursor: str,
    version_of: Callable[[Session], str],
    again: Callable[[Session, datetime], int],
) -> None:
    while True:
        requeued = await ctx.db(
            partial(_recheck_if_changed, cursor=cursor, version_of=version_of, again=again)
        )
        if requeued:
            log.info("%s changed: %d SMS sent back to the queue", cursor, requeued)
            ctx.wake(SMS_TOPIC)
        beat.beat()
        await trio.sleep(every_s)


_LOCK_CURSOR = text(
    "INSERT INTO source_cursors (name, value, updated_at) VALUES (:name, '', now())"
    " ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING value"
)
_SET_CURSOR = text("UPDATE source_cursors SET value = :value, updated_at = now() WHERE name = :name")


def _recheck_if_changed(
    session: Session,
    cursor: str,
    version_of: Callable[[Session], str],
    again: Callable[[Session, datetime], int],
) -> int:
    """Compare the catalog's version with the one last acted on (the row is locked, so replicas
    take turns); on a change, requeue and record the new version in the same transaction. The
    very first look (no version recorded: ``''``, which no version ever is) only records it."""
    seen = session.execute(_LOCK_CURSOR, {"name": cursor}).scalar_one()
    version = version_of(session)
    if version == seen:
        return 0
    requeued = again(session, datetime.now(UTC) - timedelta(seconds=RECHECK_LOOKBACK_S)) if seen else 0
    session.execute(_SET_CURSOR, {"name": cursor, "value": version})
    return requeued


def _requeue_all(session: Session, condition: object) -> int:
    total = 0
    while True:
        n = requeue(session, condition, limit=1000)
        total += n
        if n < 1000:
            return total


def requeue_not_whitelisted(session: Session, since: datetime) -> int:
    """SMS ignored as ``not_whitelisted`` since ``since`` whose sender is now whitelisted."""
    listed = select(WhitelistEntry.phone).where(WhitelistEntry.deleted_at.is_(None))
    return _requeue_all(
        session,
        and_(
            Sms.status == IGNORED,
            Sms.reason == "not_whitelisted",
            Sms.check_status == 0,
            Sms.received_at >= since,
            Sms.sender_norm.in_(listed.scalar_subquery()),
        ),
    )


def requeue_no_template(session: Session, since: datetime) -> int:
    """Unreviewed SMS since ``since`` that no template read (need_check or ignored)."""
    return _requeue_all(
        session,
        and_(
            Sms.status.in_((NEED_CHECK, IGNORED)),
            Sms.reason == "no_template",
            Sms.check_status == 0,
            Sms.approval_order_id.is_(None),
            Sms.received_at >= since,
        ),
    )
