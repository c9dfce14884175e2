"""/devices"""

from __future__ import annotations

from typing import Any

from recon_impl.http.deps import Reply, actor, deps, ok, unit_of_work
from recon_impl.services import devices
from recon_impl.services.views import device_view, page_view, utcnow


def list_devices(page: int = 1, page_size: int = 20, trusted: int | None = None) -> Reply:
    now, online_s = utcnow(), deps().settings.device_online_s
    with unit_of_work() as session:
        result = devices.list_devices(session, page, page_size, trusted)
        return ok(page_view(result, lambda row: device_view(row, now, online_s)))


def get_device(device_pk: int) -> Reply:
    with unit_of_work() as session:
        row = devices.get_device(session, device_pk)
        return ok(device_view(row, utcnow(), deps().settings.device_online_s))


def set_trust(device_pk: int, body: dict[str, Any]) -> Reply:
    online_s = deps().settings.device_online_s
    with unit_of_work() as session:
        row = devices.set_trust(session, actor(), device_pk, body["trusted"], online_s)
        return ok(device_view(row, utcnow(), online_s))


def delete_device(device_pk: int) -> tuple[None, int]:
    with unit_of_work() as session:
        devices.delete_device(session, actor(), device_pk, deps().settings.device_online_s)
    return None, 204
