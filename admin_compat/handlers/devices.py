"""Shooter phones (legacy routes 14-16), with the old ``ShooterDevicesView``'s GET form of
the list, which answers the same as the POST form."""

from __future__ import annotations

from typing import Any

from admin_compat.handlers import actor, call, clean, known_id, page, paging, require, success
from admin_compat.recon_api.api.devices import (
    recon_impl_http_handlers_devices_delete_device as remove_device,
)
from admin_compat.recon_api.api.devices import (
    recon_impl_http_handlers_devices_list_devices as list_all,
)
from admin_compat.recon_api.api.devices import (
    recon_impl_http_handlers_devices_set_trust as set_trust,
)
from admin_compat.recon_api.models import (
    ReconImplHttpHandlersDevicesListDevicesTrusted,
    ReconImplHttpHandlersDevicesSetTrustBody,
)

FIELDS = (
    "id",
    "device_id",
    "name",
    "phone",
    "trusted",
    "online",
    "last_seen_at",
    "app_version",
    "created_at",
)


def list_devices(body: dict[str, Any] | None = None) -> dict[str, Any]:
    require("recon:view")
    query = clean(body)
    filters: dict[str, Any] = {}
    if "trusted" in query:
        filters["trusted"] = ReconImplHttpHandlersDevicesListDevicesTrusted(query["trusted"])
    result = call(list_all.sync_detailed, idempotent=True, **paging(query), **filters)
    return success(page(result, FIELDS))


def list_devices_get(page: int = 1, page_size: int = 20, trusted: int | None = None) -> dict[str, Any]:
    return list_devices({"page": page, "page_size": page_size, "trusted": trusted})


def trust_device(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    model = ReconImplHttpHandlersDevicesSetTrustBody.from_dict({"trusted": body["trusted"]})
    call(set_trust.sync_detailed, idempotent=True, device_pk=known_id(body["id"]), body=model, **audit)
    return success(None)


def delete_device(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    call(remove_device.sync_detailed, idempotent=True, device_pk=known_id(body["id"]), **audit)
    return success(None)
