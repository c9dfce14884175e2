from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ReconImplHttpHandlersWhitelistCreateEntryBody")


@_attrs_define
class ReconImplHttpHandlersWhitelistCreateEntryBody:
    """
    Attributes:
        phone (str): Must keep a character once spaces, dashes and one leading `+` are removed.
        bank_code (None | str | Unset):
        remark (None | str | Unset):
    """

    phone: str
    bank_code: None | str | Unset = UNSET
    remark: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        phone = self.phone

        bank_code: None | str | Unset
        if isinstance(self.bank_code, Unset):
            bank_code = UNSET
        else:
            bank_code = self.bank_code

        remark: None | str | Unset
        if isinstance(self.remark, Unset):
            remark = UNSET
        else:
            remark = self.remark

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "phone": phone,
            }
        )
        if bank_code is not UNSET:
            field_dict["bank_code"] = bank_code
        if remark is not UNSET:
            field_dict["remark"] = remark

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        phone = d.pop("phone")

        def _parse_bank_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        bank_code = _parse_bank_code(d.pop("bank_code", UNSET))

        def _parse_remark(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        remark = _parse_remark(d.pop("remark", UNSET))

        recon_impl_http_handlers_whitelist_create_entry_body = cls(
            phone=phone,
            bank_code=bank_code,
            remark=remark,
        )

        return recon_impl_http_handlers_whitelist_create_entry_body
