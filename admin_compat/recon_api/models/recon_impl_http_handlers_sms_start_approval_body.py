from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ReconImplHttpHandlersSmsStartApprovalBody")


@_attrs_define
class ReconImplHttpHandlersSmsStartApprovalBody:
    """
    Attributes:
        order_id (str):
    """

    order_id: str

    def to_dict(self) -> dict[str, Any]:
        order_id = self.order_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "order_id": order_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        order_id = d.pop("order_id")

        recon_impl_http_handlers_sms_start_approval_body = cls(
            order_id=order_id,
        )

        return recon_impl_http_handlers_sms_start_approval_body
