from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.template_decimal_sep import TemplateDecimalSep
from ..models.template_status import TemplateStatus
from ..models.template_type import TemplateType

T = TypeVar("T", bound="Template")


@_attrs_define
class Template:
    """
    Attributes:
        id (int):
        bank_code (str):
        sender (str):
        content (str):
        type_ (TemplateType):
        decimal_sep (TemplateDecimalSep):
        time_format (None | str):
        tz (None | str):
        status (TemplateStatus):
        sample (None | str):
        created_at (int):
    """

    id: int
    bank_code: str
    sender: str
    content: str
    type_: TemplateType
    decimal_sep: TemplateDecimalSep
    time_format: None | str
    tz: None | str
    status: TemplateStatus
    sample: None | str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        bank_code = self.bank_code

        sender = self.sender

        content = self.content

        type_ = self.type_.value

        decimal_sep = self.decimal_sep.value

        time_format: None | str
        time_format = self.time_format

        tz: None | str
        tz = self.tz

        status = self.status.value

        sample: None | str
        sample = self.sample

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "bank_code": bank_code,
                "sender": sender,
                "content": content,
                "type": type_,
                "decimal_sep": decimal_sep,
                "time_format": time_format,
                "tz": tz,
                "status": status,
                "sample": sample,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        bank_code = d.pop("bank_code")

        sender = d.pop("sender")

        content = d.pop("content")

        type_ = TemplateType(d.pop("type"))

        decimal_sep = TemplateDecimalSep(d.pop("decimal_sep"))

        def _parse_time_format(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        time_format = _parse_time_format(d.pop("time_format"))

        def _parse_tz(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        tz = _parse_tz(d.pop("tz"))

        status = TemplateStatus(d.pop("status"))

        def _parse_sample(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sample = _parse_sample(d.pop("sample"))

        created_at = d.pop("created_at")

        template = cls(
            id=id,
            bank_code=bank_code,
            sender=sender,
            content=content,
            type_=type_,
            decimal_sep=decimal_sep,
            time_format=time_format,
            tz=tz,
            status=status,
            sample=sample,
            created_at=created_at,
        )

        return template
