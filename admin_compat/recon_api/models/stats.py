from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.stats_sms_by_status import StatsSmsByStatus


T = TypeVar("T", bound="Stats")


@_attrs_define
class Stats:
    """
    Attributes:
        sms_need_check_cnt (int):
        sms_by_status (StatsSmsByStatus):
    """

    sms_need_check_cnt: int
    sms_by_status: StatsSmsByStatus

    def to_dict(self) -> dict[str, Any]:
        sms_need_check_cnt = self.sms_need_check_cnt

        sms_by_status = self.sms_by_status.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sms_need_check_cnt": sms_need_check_cnt,
                "sms_by_status": sms_by_status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.stats_sms_by_status import StatsSmsByStatus

        d = dict(src_dict)
        sms_need_check_cnt = d.pop("sms_need_check_cnt")

        sms_by_status = StatsSmsByStatus.from_dict(d.pop("sms_by_status"))

        stats = cls(
            sms_need_check_cnt=sms_need_check_cnt,
            sms_by_status=sms_by_status,
        )

        return stats
