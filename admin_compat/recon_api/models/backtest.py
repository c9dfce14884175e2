from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.backtest_results_item import BacktestResultsItem


T = TypeVar("T", bound="Backtest")


@_attrs_define
class Backtest:
    """
    Attributes:
        checked (int):
        parsed (int):
        results (list[BacktestResultsItem]):
    """

    checked: int
    parsed: int
    results: list[BacktestResultsItem]

    def to_dict(self) -> dict[str, Any]:
        checked = self.checked

        parsed = self.parsed

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "checked": checked,
                "parsed": parsed,
                "results": results,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.backtest_results_item import BacktestResultsItem

        d = dict(src_dict)
        checked = d.pop("checked")

        parsed = d.pop("parsed")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = BacktestResultsItem.from_dict(results_item_data)

            results.append(results_item)

        backtest = cls(
            checked=checked,
            parsed=parsed,
            results=results,
        )

        return backtest
