from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.recon_impl_http_handlers_sms_finish_approval_body_outcome import (
    ReconImplHttpHandlersSmsFinishApprovalBodyOutcome,
)

T = TypeVar("T", bound="ReconImplHttpHandlersSmsFinishApprovalBody")


@_attrs_define
class ReconImplHttpHandlersSmsFinishApprovalBody:
    """
    Attributes:
        order_id (str):
        outcome (ReconImplHttpHandlersSmsFinishApprovalBodyOutcome):
    """

    order_id: str
    outcome: ReconImplHttpHandlersSmsFinishApprovalBodyOutcome

    def to_dict(self) -> dict[str, Any]:
        order_id = self.order_id

        outcome = self.outcome.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "order_id": order_id,
                "outcome": outcome,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        order_id = d.pop("order_id")

        outcome = ReconImplHttpHandlersSmsFinishApprovalBodyOutcome(d.pop("outcome"))

        recon_impl_http_handlers_sms_finish_approval_body = cls(
            order_id=order_id,
            outcome=outcome,
        )

        return recon_impl_http_handlers_sms_finish_approval_body
