from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Clash")


@_attrs_define
class Clash:
    """
    Attributes:
        sample_of (int): The template whose sample it is.
        other (int): The other template that parses it too.
        winner (int): The one the most-literal-characters rule picks.
    """

    sample_of: int
    other: int
    winner: int

    def to_dict(self) -> dict[str, Any]:
        sample_of = self.sample_of

        other = self.other

        winner = self.winner

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sample_of": sample_of,
                "other": other,
                "winner": winner,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        sample_of = d.pop("sample_of")

        other = d.pop("other")

        winner = d.pop("winner")

        clash = cls(
            sample_of=sample_of,
            other=other,
            winner=winner,
        )

        return clash
