from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ReconImplHttpHandlersPushbulletCreateAccountBody")


@_attrs_define
class ReconImplHttpHandlersPushbulletCreateAccountBody:
    """
    Attributes:
        nickname (str):
        phone (str):
        access_token (str): Never returned and never echoed in errors (no length limit here; the service caps it without
            echoing).
        device_iden (None | str | Unset):
    """

    nickname: str
    phone: str
    access_token: str
    device_iden: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        nickname = self.nickname

        phone = self.phone

        access_token = self.access_token

        device_iden: None | str | Unset
        if isinstance(self.device_iden, Unset):
            device_iden = UNSET
        else:
            device_iden = self.device_iden

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "nickname": nickname,
                "phone": phone,
                "access_token": access_token,
            }
        )
        if device_iden is not UNSET:
            field_dict["device_iden"] = device_iden

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        nickname = d.pop("nickname")

        phone = d.pop("phone")

        access_token = d.pop("access_token")

        def _parse_device_iden(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        device_iden = _parse_device_iden(d.pop("device_iden", UNSET))

        recon_impl_http_handlers_pushbullet_create_account_body = cls(
            nickname=nickname,
            phone=phone,
            access_token=access_token,
            device_iden=device_iden,
        )

        return recon_impl_http_handlers_pushbullet_create_account_body
