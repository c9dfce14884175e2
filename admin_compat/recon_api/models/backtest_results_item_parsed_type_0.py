from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.backtest_results_item_parsed_type_0_type import (
    BacktestResultsItemParsedType0Type,
)

T = TypeVar("T", bound="BacktestResultsItemParsedType0")


@_attrs_define
class BacktestResultsItemParsedType0:
    """
    Attributes:
        type_ (BacktestResultsItemParsedType0Type):
        amount (str):
        balance (None | str):
        card_tail (None | str):
        payer_name (None | str):
        ref (None | str):
        bank_time (int | None):
    """

    type_: BacktestResultsItemParsedType0Type
    amount: str
    balance: None | str
    card_tail: None | str
    payer_name: None | str
    ref: None | str
    bank_time: int | None

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        amount = self.amount

        balance: None | str
        balance = self.balance

        card_tail: None | str
        card_tail = self.card_tail

        payer_name: None | str
        payer_name = self.payer_name

        ref: None | str
        ref = self.ref

        bank_time: int | None
        bank_time = self.bank_time

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
                "amount": amount,
                "balance": balance,
                "card_tail": card_tail,
                "payer_name": payer_name,
                "ref": ref,
                "bank_time": bank_time,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = BacktestResultsItemParsedType0Type(d.pop("type"))

        amount = d.pop("amount")

        def _parse_balance(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        balance = _parse_balance(d.pop("balance"))

        def _parse_card_tail(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        card_tail = _parse_card_tail(d.pop("card_tail"))

        def _parse_payer_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        payer_name = _parse_payer_name(d.pop("payer_name"))

        def _parse_ref(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ref = _parse_ref(d.pop("ref"))

        def _parse_bank_time(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        bank_time = _parse_bank_time(d.pop("bank_time"))

        backtest_results_item_parsed_type_0 = cls(
            type_=type_,
            amount=amount,
            balance=balance,
            card_tail=card_tail,
            payer_name=payer_name,
            ref=ref,
            bank_time=bank_time,
        )

        return backtest_results_item_parsed_type_0
