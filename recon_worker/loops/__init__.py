"""The registry of worker loops: ``default_specs`` lists every loop ``python -m recon_worker`` runs.

Each entry names the loop, its ``run`` function, its freshness budget (how long it may go without
finishing an iteration before the worker reports it stale: a few times its own period) and, for
fleet singletons, the lease that keeps a second replica from running it. ``--loops name,name``
picks a subset by name.
"""

from __future__ import annotations

from recon_impl.settings import Settings
from recon_worker.idsync import sms_id_sync
from recon_worker.loops.compensation import EVERY_S, compensation
from recon_worker.loops.processing import (
    FALLBACK_S,
    WATCH_S,
    order_matching,
    template_parsing,
    whitelist_validation,
)
from recon_worker.loops.shooter import EVERY_S as SHOOTER_EVERY_S
from recon_worker.loops.shooter import shooter_gaps
from recon_worker.outbox import DEFAULT_RELAY, listen_notifications, outbox_relay
from recon_worker.pushbullet import (
    RESCAN_S,
    SYNC_ACCOUNT_BUDGET_S,
    WATCHDOG_S,
    pushbullet_listen,
    pushbullet_sync,
)
from recon_worker.runtime import LoopSpec
from recon_worker.telegram import telegram_ingest


def default_specs(settings: Settings) -> list[LoopSpec]:
    """Every loop of the worker, with budgets derived from the periods they are configured with."""
    sync_s = settings.pushbullet_sync_interval_s
    wallet_s = settings.wallet_timeout_s
    return [
        # A listener beats on every stream frame (a nop every ~30 s), or every rescan when idle.
        LoopSpec(
            "pushbullet_listen", pushbullet_listen, 2 * max(WATCHDOG_S, RESCAN_S) + 10, "pushbullet_listen"
        ),
        LoopSpec("missing_sms_sync", pushbullet_sync, 2 * sync_s + SYNC_ACCOUNT_BUDGET_S, "missing_sms_sync"),
        LoopSpec(
            "telegram_ingest", telegram_ingest, 3 * settings.telegram_poll_timeout_s + 30, "telegram_ingest"
        ),
        LoopSpec("shooter_gaps", shooter_gaps, 3 * SHOOTER_EVERY_S + 30),
        LoopSpec("sms_id_sync", sms_id_sync, 180.0),
        LoopSpec("whitelist_validation", whitelist_validation, 6 * WATCH_S + 30),
        LoopSpec("template_parsing", template_parsing, 6 * WATCH_S + 30),
        LoopSpec("order_matching", order_matching, 10 * FALLBACK_S + 4 * wallet_s + 30),
        LoopSpec("compensation", compensation, 3 * EVERY_S + 20 * wallet_s + 30),
        LoopSpec("outbox_relay", outbox_relay, 3 * DEFAULT_RELAY.fallback_s),
        LoopSpec("outbox_listener", listen_notifications, 30.0),
    ]
