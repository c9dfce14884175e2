from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.backtest_results_item_parsed_type_0 import (
        BacktestResultsItemParsedType0,
    )


T = TypeVar("T", bound="BacktestResultsItem")


@_attrs_define
class BacktestResultsItem:
    """
    Attributes:
        sms_id (int):
        current_template_id (int | None):
        parsed (BacktestResultsItemParsedType0 | None):
    """

    sms_id: int
    current_template_id: int | None
    parsed: BacktestResultsItemParsedType0 | None

    def to_dict(self) -> dict[str, Any]:
        from ..models.backtest_results_item_parsed_type_0 import (
            BacktestResultsItemParsedType0,
        )

        sms_id = self.sms_id

        current_template_id: int | None
        current_template_id = self.current_template_id

        parsed: dict[str, Any] | None
        if isinstance(self.parsed, BacktestResultsItemParsedType0):
            parsed = self.parsed.to_dict()
        else:
            parsed = self.parsed

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sms_id": sms_id,
                "current_template_id": current_template_id,
                "parsed": parsed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.backtest_results_item_parsed_type_0 import (
            BacktestResultsItemParsedType0,
        )

        d = dict(src_dict)
        sms_id = d.pop("sms_id")

        def _parse_current_template_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        current_template_id = _parse_current_template_id(d.pop("current_template_id"))

        def _parse_parsed(data: object) -> BacktestResultsItemParsedType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                parsed_type_0 = BacktestResultsItemParsedType0.from_dict(data)

                return parsed_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BacktestResultsItemParsedType0 | None, data)

        parsed = _parse_parsed(d.pop("parsed"))

        backtest_results_item = cls(
            sms_id=sms_id,
            current_template_id=current_template_id,
            parsed=parsed,
        )

        return backtest_results_item
