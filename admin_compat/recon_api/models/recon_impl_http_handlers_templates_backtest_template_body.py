from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.recon_impl_http_handlers_templates_backtest_template_body_decimal_sep import (
    ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep,
)
from ..models.recon_impl_http_handlers_templates_backtest_template_body_type import (
    ReconImplHttpHandlersTemplatesBacktestTemplateBodyType,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="ReconImplHttpHandlersTemplatesBacktestTemplateBody")


@_attrs_define
class ReconImplHttpHandlersTemplatesBacktestTemplateBody:
    """
    Attributes:
        sender (str): Comma-separated sender ids.
        content (str): Template syntax as for add.
        type_ (ReconImplHttpHandlersTemplatesBacktestTemplateBodyType):
        bank_code (None | str | Unset):
        decimal_sep (ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep | Unset):  Default:
            ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep.VALUE_0.
        time_format (None | str | Unset):
        tz (None | str | Unset):
        sample (None | str | Unset):
        limit (int | Unset):  Default: 200.
    """

    sender: str
    content: str
    type_: ReconImplHttpHandlersTemplatesBacktestTemplateBodyType
    bank_code: None | str | Unset = UNSET
    decimal_sep: (
        ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep | Unset
    ) = ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep.VALUE_0
    time_format: None | str | Unset = UNSET
    tz: None | str | Unset = UNSET
    sample: None | str | Unset = UNSET
    limit: int | Unset = 200

    def to_dict(self) -> dict[str, Any]:
        sender = self.sender

        content = self.content

        type_ = self.type_.value

        bank_code: None | str | Unset
        if isinstance(self.bank_code, Unset):
            bank_code = UNSET
        else:
            bank_code = self.bank_code

        decimal_sep: str | Unset = UNSET
        if not isinstance(self.decimal_sep, Unset):
            decimal_sep = self.decimal_sep.value

        time_format: None | str | Unset
        if isinstance(self.time_format, Unset):
            time_format = UNSET
        else:
            time_format = self.time_format

        tz: None | str | Unset
        if isinstance(self.tz, Unset):
            tz = UNSET
        else:
            tz = self.tz

        sample: None | str | Unset
        if isinstance(self.sample, Unset):
            sample = UNSET
        else:
            sample = self.sample

        limit = self.limit

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sender": sender,
                "content": content,
                "type": type_,
            }
        )
        if bank_code is not UNSET:
            field_dict["bank_code"] = bank_code
        if decimal_sep is not UNSET:
            field_dict["decimal_sep"] = decimal_sep
        if time_format is not UNSET:
            field_dict["time_format"] = time_format
        if tz is not UNSET:
            field_dict["tz"] = tz
        if sample is not UNSET:
            field_dict["sample"] = sample
        if limit is not UNSET:
            field_dict["limit"] = limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        sender = d.pop("sender")

        content = d.pop("content")

        type_ = ReconImplHttpHandlersTemplatesBacktestTemplateBodyType(d.pop("type"))

        def _parse_bank_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        bank_code = _parse_bank_code(d.pop("bank_code", UNSET))

        _decimal_sep = d.pop("decimal_sep", UNSET)
        decimal_sep: (
            ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep | Unset
        )
        if isinstance(_decimal_sep, Unset):
            decimal_sep = UNSET
        else:
            decimal_sep = ReconImplHttpHandlersTemplatesBacktestTemplateBodyDecimalSep(
                _decimal_sep
            )

        def _parse_time_format(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        time_format = _parse_time_format(d.pop("time_format", UNSET))

        def _parse_tz(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tz = _parse_tz(d.pop("tz", UNSET))

        def _parse_sample(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sample = _parse_sample(d.pop("sample", UNSET))

        limit = d.pop("limit", UNSET)

        recon_impl_http_handlers_templates_backtest_template_body = cls(
            sender=sender,
            content=content,
            type_=type_,
            bank_code=bank_code,
            decimal_sep=decimal_sep,
            time_format=time_format,
            tz=tz,
            sample=sample,
            limit=limit,
        )

        return recon_impl_http_handlers_templates_backtest_template_body
