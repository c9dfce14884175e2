"""The header bar's counters (legacy TopInfo): always answered, within a time budget.

``recharge_pending_cnt`` and ``withdraw_pending_cnt`` come from the wallet's
``/pending-counts``, ``sms_need_check_cnt`` from recon's ``/stats`` (lane ``top_info``, so
slow list routes cannot take its slots). Both sources are asked concurrently; whatever has
not answered when the budget runs out, or failed, is served from the last good values in the
Redis hash ``admin:top_info:cache`` (decimal strings, no TTL), else 0.

A source's call is not abandoned when the budget runs out: it finishes in its thread and, if it
succeeds, refreshes the cache for the next poll. At most one call per source is in flight
(single flight): a poll that finds one running waits on it instead of starting another, so a
slow source cannot pile up threads however often the header bar polls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import redis
from pydantic_settings import BaseSettings, SettingsConfigDict

from admin_compat.recon_api.api.stats import recon_impl_http_handlers_stats_get_stats as get_stats
from admin_compat.recon_api.models import Stats
from admin_compat.recon_client import ReconClient, ReconUnavailable
from admin_compat.wallet_client import WalletClient, WalletUnavailable

__all__ = ["CACHE_KEY", "FIELDS", "Sources", "TopInfoSettings", "configured", "top_info"]

log = logging.getLogger(__name__)

CACHE_KEY = "admin:top_info:cache"
FIELDS = ("recharge_pending_cnt", "withdraw_pending_cnt", "sms_need_check_cnt")
LANE = "top_info"


class TopInfoSettings(BaseSettings):
    """``ADMIN_TOP_INFO_*`` environment."""

    model_config = SettingsConfigDict(env_prefix="ADMIN_TOP_INFO_", extra="ignore")

    budget_s: float = 0.3  # the whole answer, cache fallback included
    wallet_timeout_s: float = 1.0  # one wallet attempt; it may finish after the budget


@cache
def configured() -> TopInfoSettings:
    """The process's settings, read from the environment once (``configured.cache_clear()``
    makes the next call read it again)."""
    return TopInfoSettings()


@dataclass(frozen=True, slots=True)
class Sources:
    """Where the counters come from."""

    recon: ReconClient
    wallet: WalletClient
    redis: redis.Redis
    wallet_timeout_s: float = 1.0


_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="top-info")
_inflight: dict[tuple[str, int], Future[dict[str, int]]] = {}
_inflight_lock = threading.Lock()


def top_info(sources: Sources, budget_s: float) -> dict[str, int]:
    """The three counters, fresh where a source answered within ``budget_s``, else cached or 0."""
    deadline = time.monotonic() + budget_s
    fetches = [
        _single_flight("wallet", sources.wallet, lambda: _from_wallet(sources)),
        _single_flight("recon", sources.recon, lambda: _from_recon(sources)),
    ]
    done, _ = wait_futures(fetches, timeout=max(0.0, deadline - time.monotonic()))
    values: dict[str, int] = {}
    for fetch in fetches:
        if fetch not in done:
            continue
        error = fetch.exception()
        if error is None:
            values.update(fetch.result())
        elif not isinstance(error, WalletUnavailable | ReconUnavailable):
            log.error("top-info: a source failed unexpectedly", exc_info=error)
    if len(values) < len(FIELDS):
        cached = _cached(sources.redis)
        for name in FIELDS:
            values.setdefault(name, cached.get(name, 0))
    return {name: values[name] for name in FIELDS}


def _single_flight(name: str, client: object, fetch: Callable[[], dict[str, int]]) -> Future[dict[str, int]]:
    # Keyed by the client object too: the future holds the client, so its id stays unique.
    key = (name, id(client))
    with _inflight_lock:
        running = _inflight.get(key)
        if running is not None and not running.done():
            return running
        future = _executor.submit(fetch)
        _inflight[key] = future
    future.add_done_callback(lambda f: _forget(key, f))
    return future


def _forget(key: tuple[str, int], future: Future[dict[str, int]]) -> None:
    with _inflight_lock:
        if _inflight.get(key) is future:
            del _inflight[key]


def _from_wallet(sources: Sources) -> dict[str, int]:
    try:
        counts = sources.wallet.pending_counts(timeout_s=sources.wallet_timeout_s)
    except WalletUnavailable as exc:
        log.info("top-info: wallet counts unavailable: %s", exc)
        raise
    values = {
        "recharge_pending_cnt": counts.recharge_pending_cnt,
        "withdraw_pending_cnt": counts.withdraw_pending_cnt,
    }
    _remember(sources.redis, values)
    return values


def _from_recon(sources: Sources) -> dict[str, int]:
    try:
        answer = sources.recon.call(get_stats.sync_detailed, idempotent=True, lane=LANE)
    except ReconUnavailable as exc:
        log.info("top-info: recon stats unavailable: %s", exc)
        raise
    stats = answer.parsed
    if int(answer.status_code) != 200 or not isinstance(stats, Stats):
        raise ReconUnavailable(f"recon answered HTTP {int(answer.status_code)} to /stats")
    values = {"sms_need_check_cnt": int(stats.sms_need_check_cnt)}
    _remember(sources.redis, values)
    return values


def _remember(client: redis.Redis, values: Mapping[str, int]) -> None:
    try:
        client.hset(CACHE_KEY, mapping={name: str(value) for name, value in values.items()})
    except redis.RedisError:
        log.warning("top-info: cannot write %s", CACHE_KEY, exc_info=True)


def _cached(client: redis.Redis) -> dict[str, int]:
    try:
        raw = cast(dict[Any, Any], client.hgetall(CACHE_KEY))
    except redis.RedisError:
        log.warning("top-info: cannot read %s", CACHE_KEY, exc_info=True)
        return {}
    cached: dict[str, int] = {}
    for name, value in raw.items():
        key = name.decode() if isinstance(name, bytes) else str(name)
        try:
            cached[key] = max(0, int(value))
        except (TypeError, ValueError):
            continue
    return cached
