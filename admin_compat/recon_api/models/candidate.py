from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Candidate")


@_attrs_define
class Candidate:
    """
    Attributes:
        order_id (str):
        amount (str):
        created_at (int):
        score (float):
    """

    order_id: str
    amount: str
    created_at: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        order_id = self.order_id

        amount = self.amount

        created_at = self.created_at

        score = self.score

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "order_id": order_id,
                "amount": amount,
                "created_at": created_at,
                "score": score,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        order_id = d.pop("order_id")

        amount = d.pop("amount")

        created_at = d.pop("created_at")

        score = d.pop("score")

        candidate = cls(
            order_id=order_id,
            amount=amount,
            created_at=created_at,
            score=score,
        )

        return candidate
