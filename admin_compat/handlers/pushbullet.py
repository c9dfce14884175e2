"""Pushbullet accounts (legacy routes 1-3). The access token goes to recon once and never
comes back: recon stores it encrypted and answers only ``token_mask``."""

from __future__ import annotations

from typing import Any

from admin_compat.handlers import actor, call, clean, known_id, page, paging, require, success
from admin_compat.recon_api.api.pushbullet import (
    recon_impl_http_handlers_pushbullet_create_account as create_account,
)
from admin_compat.recon_api.api.pushbullet import (
    recon_impl_http_handlers_pushbullet_delete_account as delete_account,
)
from admin_compat.recon_api.api.pushbullet import (
    recon_impl_http_handlers_pushbullet_list_accounts as list_accounts,
)
from admin_compat.recon_api.models import (
    ReconImplHttpHandlersPushbulletCreateAccountBody,
    ReconImplHttpHandlersPushbulletListAccountsStatus,
)

FIELDS = (
    "id",
    "nickname",
    "phone",
    "device_iden",
    "token_mask",
    "status",
    "online",
    "last_sms_at",
    "last_sync_at",
    "created_at",
)


def list_devices(body: dict[str, Any] | None = None) -> dict[str, Any]:
    require("recon:view")
    query = clean(body)
    filters: dict[str, Any] = {}
    if "status" in query:
        filters["status"] = ReconImplHttpHandlersPushbulletListAccountsStatus(query["status"])
    result = call(list_accounts.sync_detailed, idempotent=True, **paging(query), **filters)
    return success(page(result, FIELDS))


def add_device(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    model = ReconImplHttpHandlersPushbulletCreateAccountBody.from_dict(clean(body))
    created = call(create_account.sync_detailed, idempotent=False, body=model, **audit)
    return success({"id": created["id"]})


def delete_device(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    call(delete_account.sync_detailed, idempotent=True, account_id=known_id(body["id"]), **audit)
    return success(None)
