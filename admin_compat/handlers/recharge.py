"""Deposit approval (legacy route 18): the use case lives in ``admin_compat.approval``."""

from __future__ import annotations

from typing import Any

from admin_compat import approval
from admin_compat.handlers import actor, known_id, success
from admin_compat.wallet_client import default_wallet


def approve(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recharge:approve")
    result = approval.approve(
        default_wallet(), sms_id=known_id(body["sms_id"]), order_id=body["order_id"], **audit
    )
    return success(result)
