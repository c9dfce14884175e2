"""/sms"""

from __future__ import annotations

from typing import Any

from recon_impl.http.deps import Reply, actor, deps, ok, unit_of_work
from recon_impl.services import sms
from recon_impl.services.views import page_view, sms_detail_view, sms_view


def list_sms(
    page: int = 1,
    page_size: int = 20,
    status: int | None = None,
    source: str | None = None,
    start_time: int | None = None,
    end_time: int | None = None,
    keyword: str | None = None,
    amount: str | None = None,
) -> Reply:
    flt = sms.SmsFilter(status, source, start_time, end_time, keyword, amount)
    with unit_of_work() as session:
        return ok(page_view(sms.list_sms(session, flt, page, page_size), sms_view))


def get_sms(sms_id: int) -> Reply:
    with unit_of_work() as session:
        return ok(sms_detail_view(sms.get_sms(session, sms_id)))


def reset_sms(sms_id: int) -> Reply:
    with unit_of_work() as session:
        return ok(sms_view(sms.reset_sms(session, actor(), sms_id)))


def review_sms(sms_id: int, body: dict[str, Any]) -> Reply:
    wallet = deps().wallet
    with unit_of_work() as session:
        row = sms.review_sms(
            session,
            actor(),
            wallet,
            sms_id,
            body["check_status"],
            body.get("order_id"),
            body.get("remark"),
        )
        return ok(sms_view(row))


def start_approval(sms_id: int, body: dict[str, Any]) -> Reply:
    with unit_of_work() as session:
        return ok(sms.start_approval(session, actor(), sms_id, body["order_id"]))


def finish_approval(sms_id: int, body: dict[str, Any]) -> Reply:
    with unit_of_work() as session:
        return ok(sms.finish_approval(session, actor(), sms_id, body["order_id"], body["outcome"]))
