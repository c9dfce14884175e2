from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.recon_impl_http_handlers_sms_review_sms_body_check_status import (
    ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="ReconImplHttpHandlersSmsReviewSmsBody")


@_attrs_define
class ReconImplHttpHandlersSmsReviewSmsBody:
    """
    Attributes:
        check_status (ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus):
        order_id (None | str | Unset):
        remark (None | str | Unset):
    """

    check_status: ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus
    order_id: None | str | Unset = UNSET
    remark: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        check_status = self.check_status.value

        order_id: None | str | Unset
        if isinstance(self.order_id, Unset):
            order_id = UNSET
        else:
            order_id = self.order_id

        remark: None | str | Unset
        if isinstance(self.remark, Unset):
            remark = UNSET
        else:
            remark = self.remark

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "check_status": check_status,
            }
        )
        if order_id is not UNSET:
            field_dict["order_id"] = order_id
        if remark is not UNSET:
            field_dict["remark"] = remark

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        check_status = ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus(
            d.pop("check_status")
        )

        def _parse_order_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        order_id = _parse_order_id(d.pop("order_id", UNSET))

        def _parse_remark(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        remark = _parse_remark(d.pop("remark", UNSET))

        recon_impl_http_handlers_sms_review_sms_body = cls(
            check_status=check_status,
            order_id=order_id,
            remark=remark,
        )

        return recon_impl_http_handlers_sms_review_sms_body
