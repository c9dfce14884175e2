from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="WhitelistEntry")


@_attrs_define
class WhitelistEntry:
    """
    Attributes:
        id (int):
        phone (str):
        bank_code (None | str):
        remark (None | str):
        created_at (int):
    """

    id: int
    phone: str
    bank_code: None | str
    remark: None | str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        phone = self.phone

        bank_code: None | str
        bank_code = self.bank_code

        remark: None | str
        remark = self.remark

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "phone": phone,
                "bank_code": bank_code,
                "remark": remark,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        phone = d.pop("phone")

        def _parse_bank_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        bank_code = _parse_bank_code(d.pop("bank_code"))

        def _parse_remark(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        remark = _parse_remark(d.pop("remark"))

        created_at = d.pop("created_at")

        whitelist_entry = cls(
            id=id,
            phone=phone,
            bank_code=bank_code,
            remark=remark,
            created_at=created_at,
        )

        return whitelist_entry
