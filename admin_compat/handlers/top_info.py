"""The header bar's counters (legacy route 17), POST and the polling GET form alike."""

from __future__ import annotations

from typing import Any

from admin_compat.app import deps
from admin_compat.handlers import require, success
from admin_compat.top_info import Sources, configured, top_info
from admin_compat.wallet_client import default_wallet


def get_top_info(body: dict[str, Any] | None = None) -> dict[str, Any]:
    del body  # always {} (the spec refuses any field)
    require("recon:view")
    edge, settings = deps(), configured()
    sources = Sources(edge.recon, default_wallet(), edge.redis, settings.wallet_timeout_s)
    return success(top_info(sources, settings.budget_s))


def get_top_info_get() -> dict[str, Any]:
    return get_top_info(None)
