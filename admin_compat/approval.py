"""Approving a deposit (legacy ``recharge/approve``, contract section 3): the only path that
credits money, and the only caller of the wallet's approve operation.

The steps, in order:

1. ``start`` in recon records that approving this order is in flight. recon refuses (409,
   legacy 1004) unless the SMS is confirmed for that same order; from here on check and reset
   answer 1004. If the SMS is already approved, recon says so and the wallet is not called:
   the caller gets the same answer as the first success.
2. The wallet approves the order with ``Idempotency-Key: sms-<sms id>``: a repeat (a retry,
   a second click, a concurrent request) credits nothing more.
3. ``finish`` in recon with the wallet's outcome: ``approved`` marks the SMS approved (status
   3); a definitive refusal (order not pending, key reused, unknown order) is ``refused``,
   which clears the in-flight record, and the route answers 1004.

When the wallet's outcome is unknown (timeout, outage, breaker open) or recon cannot record
it, the route answers 5003 and the in-flight record stays: recon_worker's compensation asks
the wallet later and settles it, and a retry of this route converges on the same answer.
"""

from __future__ import annotations

import logging
from typing import Any

from admin_compat.envelope import STATE, UNAVAILABLE, LegacyError
from admin_compat.handlers import call
from admin_compat.recon_api.api.sms import recon_impl_http_handlers_sms_finish_approval as finish_op
from admin_compat.recon_api.api.sms import recon_impl_http_handlers_sms_start_approval as start_op
from admin_compat.recon_api.models import (
    ReconImplHttpHandlersSmsFinishApprovalBody,
    ReconImplHttpHandlersSmsStartApprovalBody,
)
from admin_compat.wallet_client import WalletClient, WalletRefused, WalletUnavailable

__all__ = ["DependencyDown", "approve", "idempotency_key"]

log = logging.getLogger(__name__)


class DependencyDown(LegacyError):
    """5003 naming the dependency that failed (the envelope's default names recon)."""

    def __init__(self, what: str) -> None:
        super().__init__(UNAVAILABLE)
        self.msg = f"{what} unavailable, please retry later"


def idempotency_key(sms_id: int) -> str:
    """The wallet key of an SMS's approval (contract section 3)."""
    return f"sms-{sms_id}"


def approve(
    wallet: WalletClient, *, sms_id: int, order_id: str, x_actor: str, x_request_id: str
) -> dict[str, Any]:
    """Run the three steps; the legacy ``data`` of the success, or raise a ``LegacyError``."""
    audit = {"x_actor": x_actor, "x_request_id": x_request_id}
    start = ReconImplHttpHandlersSmsStartApprovalBody.from_dict({"order_id": order_id})
    record = call(start_op.sync_detailed, idempotent=True, sms_id=sms_id, body=start, **audit)
    if record["state"] == "approved":
        return _approved(order_id)
    try:
        wallet.approve(order_id, idempotency_key(sms_id))
    except WalletRefused as refused:
        log.info("wallet refused approving order %s for sms %s: %s", order_id, sms_id, refused.detail)
        _finish(sms_id, order_id, "refused", audit)
        raise LegacyError(STATE, refused.detail) from refused
    except WalletUnavailable as exc:
        log.warning("approval of sms %s left in flight: %s", sms_id, exc)
        raise DependencyDown("wallet") from exc
    _finish(sms_id, order_id, "approved", audit)
    return _approved(order_id)


def _finish(sms_id: int, order_id: str, outcome: str, audit: dict[str, str]) -> None:
    body = ReconImplHttpHandlersSmsFinishApprovalBody.from_dict({"order_id": order_id, "outcome": outcome})
    call(finish_op.sync_detailed, idempotent=True, sms_id=sms_id, body=body, **audit)


def _approved(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "status": "approved"}
