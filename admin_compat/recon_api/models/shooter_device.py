from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.shooter_device_online import ShooterDeviceOnline
from ..models.shooter_device_trusted import ShooterDeviceTrusted

T = TypeVar("T", bound="ShooterDevice")


@_attrs_define
class ShooterDevice:
    """
    Attributes:
        id (int):
        device_id (str):
        name (str):
        phone (str):
        trusted (ShooterDeviceTrusted):
        online (ShooterDeviceOnline): 1 when a heartbeat arrived within the last 180 s.
        last_seen_at (int | None):
        app_version (str):
        created_at (int):
    """

    id: int
    device_id: str
    name: str
    phone: str
    trusted: ShooterDeviceTrusted
    online: ShooterDeviceOnline
    last_seen_at: int | None
    app_version: str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        device_id = self.device_id

        name = self.name

        phone = self.phone

        trusted = self.trusted.value

        online = self.online.value

        last_seen_at: int | None
        last_seen_at = self.last_seen_at

        app_version = self.app_version

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "device_id": device_id,
                "name": name,
                "phone": phone,
                "trusted": trusted,
                "online": online,
                "last_seen_at": last_seen_at,
                "app_version": app_version,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        device_id = d.pop("device_id")

        name = d.pop("name")

        phone = d.pop("phone")

        trusted = ShooterDeviceTrusted(d.pop("trusted"))

        online = ShooterDeviceOnline(d.pop("online"))

        def _parse_last_seen_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_seen_at = _parse_last_seen_at(d.pop("last_seen_at"))

        app_version = d.pop("app_version")

        created_at = d.pop("created_at")

        shooter_device = cls(
            id=id,
            device_id=device_id,
            name=name,
            phone=phone,
            trusted=trusted,
            online=online,
            last_seen_at=last_seen_at,
            app_version=app_version,
            created_at=created_at,
        )

        return shooter_device
