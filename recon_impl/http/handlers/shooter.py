"""/api/shooter: the phones' routes (credentials were checked by ``DeviceGate``)."""

from __future__ import annotations

from typing import Any

from connexion import context

from recon_impl.domain.errors import NotFound
from recon_impl.http.deps import deps, unit_of_work
from recon_impl.http.envelope import success
from recon_impl.services import devices
from recon_impl.services.views import utcnow
from recon_impl.storage.legacy_keys import set_device_heartbeat
from recon_impl.storage.models import ShooterDevice


def _device(session: Any) -> ShooterDevice:
    device_pk = context.context.get("device_pk")
    if device_pk is None:  # DeviceGate sets it on every signed route
        raise NotFound("device is not authenticated")
    return devices.get_device(session, int(device_pk), lock=True)


def register(body: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work() as session:
        secret = devices.register(session, deps().box, body)
    return success({"secret": secret})


def report_sms(body: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work() as session:
        result = devices.report_sms(session, _device(session), body["messages"])
    # Committed above: only now is the batch acknowledged.
    return success({"accepted": result.accepted, "duplicates": result.duplicates})


def heartbeat(body: dict[str, Any]) -> dict[str, Any]:
    with unit_of_work() as session:
        device = _device(session)
        resend_from = devices.heartbeat(session, device, body)
        device_id = device.device_id
    set_device_heartbeat(deps().redis, device_id, int(utcnow().timestamp()))
    return success({"resend_from": resend_from})
