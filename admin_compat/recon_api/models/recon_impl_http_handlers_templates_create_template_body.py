from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.recon_impl_http_handlers_templates_create_template_body_decimal_sep import (
    ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep,
)
from ..models.recon_impl_http_handlers_templates_create_template_body_type import (
    ReconImplHttpHandlersTemplatesCreateTemplateBodyType,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="ReconImplHttpHandlersTemplatesCreateTemplateBody")


@_attrs_define
class ReconImplHttpHandlersTemplatesCreateTemplateBody:
    """
    Attributes:
        bank_code (str):
        sender (str): Comma-separated sender ids.
        content (str): Template syntax (legacy contract section 7): 1 to 2000 characters of literal text and the
            placeholders `{amount}` (required), `{balance}`, `{card}`, `{name}`, `{time}`, `{ref}` (each at most once) and
            `{*}`; no U+0000. The service checks all of it and refuses content that breaks a rule with a 400 that names the
            rule.
        type_ (ReconImplHttpHandlersTemplatesCreateTemplateBodyType): 1 income, 2 expense.
        decimal_sep (ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep | Unset):  Default:
            ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep.VALUE_0.
        time_format (None | str | Unset):
        tz (None | str | Unset): IANA zone name known to the server (for example `Asia/Ho_Chi_Minh`); any other value is
            a 400. null = the configured default.
        sample (None | str | Unset):
    """

    bank_code: str
    sender: str
    content: str
    type_: ReconImplHttpHandlersTemplatesCreateTemplateBodyType
    decimal_sep: ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep | Unset = (
        ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep.VALUE_0
    )
    time_format: None | str | Unset = UNSET
    tz: None | str | Unset = UNSET
    sample: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        bank_code = self.bank_code

        sender = self.sender

        content = self.content

        type_ = self.type_.value

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

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "bank_code": bank_code,
                "sender": sender,
                "content": content,
                "type": type_,
            }
        )
        if decimal_sep is not UNSET:
            field_dict["decimal_sep"] = decimal_sep
        if time_format is not UNSET:
            field_dict["time_format"] = time_format
        if tz is not UNSET:
            field_dict["tz"] = tz
        if sample is not UNSET:
            field_dict["sample"] = sample

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bank_code = d.pop("bank_code")

        sender = d.pop("sender")

        content = d.pop("content")

        type_ = ReconImplHttpHandlersTemplatesCreateTemplateBodyType(d.pop("type"))

        _decimal_sep = d.pop("decimal_sep", UNSET)
        decimal_sep: ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep | Unset
        if isinstance(_decimal_sep, Unset):
            decimal_sep = UNSET
        else:
            decimal_sep = ReconImplHttpHandlersTemplatesCreateTemplateBodyDecimalSep(
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

        recon_impl_http_handlers_templates_create_template_body = cls(
            bank_code=bank_code,
            sender=sender,
            content=content,
            type_=type_,
            decimal_sep=decimal_sep,
            time_format=time_format,
            tz=tz,
            sample=sample,
        )

        return recon_impl_http_handlers_templates_create_template_body
