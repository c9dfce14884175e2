from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.template_created_decimal_sep import TemplateCreatedDecimalSep
from ..models.template_created_status import TemplateCreatedStatus
from ..models.template_created_type import TemplateCreatedType

if TYPE_CHECKING:
    from ..models.template_created_collisions import TemplateCreatedCollisions


T = TypeVar("T", bound="TemplateCreated")


@_attrs_define
class TemplateCreated:
    """
    Attributes:
        id (int):
        bank_code (str):
        sender (str):
        content (str):
        type_ (TemplateCreatedType):
        decimal_sep (TemplateCreatedDecimalSep):
        time_format (None | str):
        tz (None | str):
        status (TemplateCreatedStatus):
        sample (None | str):
        created_at (int):
        collisions (TemplateCreatedCollisions):
    """

    id: int
    bank_code: str
    sender: str
    content: str
    type_: TemplateCreatedType
    decimal_sep: TemplateCreatedDecimalSep
    time_format: None | str
    tz: None | str
    status: TemplateCreatedStatus
    sample: None | str
    created_at: int
    collisions: TemplateCreatedCollisions

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

        collisions = self.collisions.to_dict()

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
                "collisions": collisions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.template_created_collisions import TemplateCreatedCollisions

        d = dict(src_dict)
        id = d.pop("id")

        bank_code = d.pop("bank_code")

        sender = d.pop("sender")

        content = d.pop("content")

        type_ = TemplateCreatedType(d.pop("type"))

        decimal_sep = TemplateCreatedDecimalSep(d.pop("decimal_sep"))

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

        status = TemplateCreatedStatus(d.pop("status"))

        def _parse_sample(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sample = _parse_sample(d.pop("sample"))

        created_at = d.pop("created_at")

        collisions = TemplateCreatedCollisions.from_dict(d.pop("collisions"))

        template_created = cls(
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
            collisions=collisions,
        )

        return template_created
