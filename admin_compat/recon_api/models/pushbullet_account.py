from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.pushbullet_account_online import PushbulletAccountOnline
from ..models.pushbullet_account_status import PushbulletAccountStatus

T = TypeVar("T", bound="PushbulletAccount")


@_attrs_define
class PushbulletAccount:
    """
    Attributes:
        id (int):
        nickname (str):
        phone (str):
        device_iden (None | str):
        token_mask (str):
        status (PushbulletAccountStatus):
        online (PushbulletAccountOnline):
        last_sms_at (int | None):
        last_sync_at (int | None):
        created_at (int):
    """

    id: int
    nickname: str
    phone: str
    device_iden: None | str
    token_mask: str
    status: PushbulletAccountStatus
    online: PushbulletAccountOnline
    last_sms_at: int | None
    last_sync_at: int | None
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        nickname = self.nickname

        phone = self.phone

        device_iden: None | str
        device_iden = self.device_iden

        token_mask = self.token_mask

        status = self.status.value

        online = self.online.value

        last_sms_at: int | None
        last_sms_at = self.last_sms_at

        last_sync_at: int | None
        last_sync_at = self.last_sync_at

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "nickname": nickname,
                "phone": phone,
                "device_iden": device_iden,
                "token_mask": token_mask,
                "status": status,
                "online": online,
                "last_sms_at": last_sms_at,
                "last_sync_at": last_sync_at,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        nickname = d.pop("nickname")

        phone = d.pop("phone")

        def _parse_device_iden(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        device_iden = _parse_device_iden(d.pop("device_iden"))

        token_mask = d.pop("token_mask")

        status = PushbulletAccountStatus(d.pop("status"))

        online = PushbulletAccountOnline(d.pop("online"))

        def _parse_last_sms_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_sms_at = _parse_last_sms_at(d.pop("last_sms_at"))

        def _parse_last_sync_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_sync_at = _parse_last_sync_at(d.pop("last_sync_at"))

        created_at = d.pop("created_at")

        pushbullet_account = cls(
            id=id,
            nickname=nickname,
            phone=phone,
            device_iden=device_iden,
            token_mask=token_mask,
            status=status,
            online=online,
            last_sms_at=last_sms_at,
            last_sync_at=last_sync_at,
            created_at=created_at,
        )

        return pushbullet_account
