"""Received SMS and their review (legacy routes 10-13). ``check_sms`` is recon's review
operation: review state only; it never approves and never calls the wallet's approve."""

from __future__ import annotations

from typing import Any

from admin_compat.handlers import (
    actor,
    call,
    clean,
    known_id,
    not_empty,
    page,
    paging,
    pick,
    require,
    success,
)
from admin_compat.recon_api.api.sms import recon_impl_http_handlers_sms_get_sms as get_one
from admin_compat.recon_api.api.sms import recon_impl_http_handlers_sms_list_sms as list_all
from admin_compat.recon_api.api.sms import recon_impl_http_handlers_sms_reset_sms as reset_one
from admin_compat.recon_api.api.sms import recon_impl_http_handlers_sms_review_sms as review_one
from admin_compat.recon_api.models import (
    ReconImplHttpHandlersSmsListSmsSource,
    ReconImplHttpHandlersSmsReviewSmsBody,
)

FIELDS = (
    "id",
    "source",
    "device_id",
    "sender",
    "content",
    "received_at",
    "amount",
    "balance",
    "card_tail",
    "payer_name",
    "ref",
    "bank_time",
    "template_id",
    "status",
    "order_id",
    "check_status",
    "check_admin",
    "check_at",
    "remark",
    "created_at",
)
CANDIDATE_FIELDS = ("order_id", "amount", "created_at", "score")


def list_sms(body: dict[str, Any] | None = None) -> dict[str, Any]:
    require("recon:view")
    query = clean(body)
    filters = clean(
        {
            "status": query.get("status"),
            "start_time": query.get("start_time"),
            "end_time": query.get("end_time"),
            "keyword": not_empty(query.get("keyword")),
            "amount": query.get("amount"),
        }
    )
    if "source" in query:
        filters["source"] = ReconImplHttpHandlersSmsListSmsSource(query["source"])
    result = call(list_all.sync_detailed, idempotent=True, **paging(query), **filters)
    return success(page(result, FIELDS))


def get_sms(body: dict[str, Any]) -> dict[str, Any]:
    require("recon:view")
    found = call(get_one.sync_detailed, idempotent=True, sms_id=known_id(body["id"]))
    detail = pick(found, FIELDS)
    detail["reason"] = found.get("reason")
    detail["candidates"] = [pick(c, CANDIDATE_FIELDS) for c in found.get("candidates") or []]
    return success(detail)


def reset_sms(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    call(reset_one.sync_detailed, idempotent=False, sms_id=known_id(body["id"]), **audit)
    return success(None)


def check_sms(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:check")
    model = ReconImplHttpHandlersSmsReviewSmsBody.from_dict(clean(body, "id"))
    call(review_one.sync_detailed, idempotent=False, sms_id=known_id(body["id"]), body=model, **audit)
    return success(None)
