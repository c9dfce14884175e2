"""ORM rows turned into the API's values: Unix seconds, two-decimal strings, 0/1 flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from recon_impl.domain.money import format_amount
from recon_impl.storage.models import (
    PushbulletAccount,
    ShooterDevice,
    Sms,
    Template,
    WhitelistEntry,
)

STREAM_FRESH = timedelta(seconds=60)


def unix(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def pushbullet_view(row: PushbulletAccount, now: datetime) -> dict[str, Any]:
    fresh = row.stream_seen_at is not None and now - row.stream_seen_at < STREAM_FRESH
    return {
        "id": row.id,
        "nickname": row.nickname,
        "phone": row.phone,
        "device_iden": row.device_iden,
        "token_mask": row.token_mask,
        "status": row.status,
        "online": int(fresh and row.status == 1),
        "last_sms_at": unix(row.last_sms_at),
        "last_sync_at": unix(row.last_sync_at),
        "created_at": unix(row.created_at),
    }


def template_view(row: Template) -> dict[str, Any]:
    return {
        "id": row.id,
        "bank_code": row.bank_code,
        "sender": row.sender,
        "content": row.content,
        "type": row.type,
        "decimal_sep": row.decimal_sep,
        "time_format": row.time_format,
        "tz": row.tz,
        "status": row.status,
        "sample": row.sample,
        "created_at": unix(row.created_at),
    }


def whitelist_view(row: WhitelistEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "phone": row.phone,
        "bank_code": row.bank_code,
        "remark": row.remark,
        "created_at": unix(row.created_at),
    }


def device_view(row: ShooterDevice, now: datetime, online_s: int) -> dict[str, Any]:
    online = row.last_seen_at is not None and now - row.last_seen_at <= timedelta(seconds=online_s)
    return {
        "id": row.id,
        "device_id": row.device_id,
        "name": row.name,
        "phone": row.phone,
        "trusted": row.trusted,
        "online": int(online),
        "last_seen_at": unix(row.last_seen_at),
        "app_version": row.app_version,
        "created_at": unix(row.created_at),
    }


def sms_view(row: Sms) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "device_id": row.device_id,
        "sender": row.sender,
        "content": row.content,
        "received_at": unix(row.received_at),
        "amount": format_amount(row.amount),
        "balance": format_amount(row.balance),
        "card_tail": row.card_tail,
        "payer_name": row.payer_name,
        "ref": row.ref,
        "bank_time": unix(row.bank_time),
        "template_id": row.template_id,
        "status": row.status,
        "order_id": row.order_id,
        "check_status": row.check_status,
        "check_admin": row.check_admin,
        "check_at": unix(row.check_at),
        "remark": row.remark,
        "created_at": unix(row.created_at),
    }


def approval_view(row: Sms) -> dict[str, Any] | None:
    """The approval in flight or done, or None when the SMS has none."""
    if row.status == 3 and row.order_id is not None:
        return {
            "sms_id": row.id,
            "order_id": row.order_id,
            "state": "approved",
            "idempotency_key": approval_key(row.id),
            "started_at": unix(row.approval_started_at),
            "approved_at": unix(row.approved_at),
        }
    if row.approval_order_id is None:
        return None
    return {
        "sms_id": row.id,
        "order_id": row.approval_order_id,
        "state": "in_flight",
        "idempotency_key": approval_key(row.id),
        "started_at": unix(row.approval_started_at),
        "approved_at": None,
    }


def sms_detail_view(row: Sms) -> dict[str, Any]:
    return {
        **sms_view(row),
        "reason": row.reason,
        "candidates": list(row.candidates or []),
        "approval": approval_view(row),
    }


def approval_key(sms_id: int) -> str:
    """The wallet Idempotency-Key of an SMS's approval (legacy contract section 3)."""
    return f"sms-{sms_id}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def page_view(page: Any, view: Any) -> dict[str, Any]:
    """A ``Page`` as the API's ``{items, total, page, page_size}``."""
    return {
        "items": [view(row) for row in page.items],
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
    }
