"""Whitelisted SMS senders (legacy routes 7-9). recon normalizes the phone and answers a
duplicate with its 409 ``/problems/duplicate`` (1003)."""

from __future__ import annotations

from typing import Any

from admin_compat.handlers import actor, call, clean, known_id, not_empty, page, paging, require, success
from admin_compat.recon_api.api.whitelist import (
    recon_impl_http_handlers_whitelist_create_entry as create_entry,
)
from admin_compat.recon_api.api.whitelist import (
    recon_impl_http_handlers_whitelist_delete_entry as remove_entry,
)
from admin_compat.recon_api.api.whitelist import (
    recon_impl_http_handlers_whitelist_list_entries as list_all,
)
from admin_compat.recon_api.models import ReconImplHttpHandlersWhitelistCreateEntryBody

FIELDS = ("id", "phone", "bank_code", "remark", "created_at")


def list_entries(body: dict[str, Any] | None = None) -> dict[str, Any]:
    require("recon:view")
    query = clean(body)
    filters = clean({"phone": not_empty(query.get("phone"))})
    result = call(list_all.sync_detailed, idempotent=True, **paging(query), **filters)
    return success(page(result, FIELDS))


def add_entry(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    model = ReconImplHttpHandlersWhitelistCreateEntryBody.from_dict(clean(body))
    created = call(create_entry.sync_detailed, idempotent=False, body=model, **audit)
    return success({"id": created["id"]})


def delete_entry(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    call(remove_entry.sync_detailed, idempotent=True, entry_id=known_id(body["id"]), **audit)
    return success(None)
