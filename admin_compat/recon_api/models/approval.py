from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.approval_state import ApprovalState

T = TypeVar("T", bound="Approval")


@_attrs_define
class Approval:
    """
    Attributes:
        sms_id (int):
        order_id (str):
        state (ApprovalState): `refused` only in the answer to a refused finish.
        idempotency_key (str): The key the wallet must be called with: sms-<sms_id>.
        started_at (int | None):
        approved_at (int | None):
    """

    sms_id: int
    order_id: str
    state: ApprovalState
    idempotency_key: str
    started_at: int | None
    approved_at: int | None

    def to_dict(self) -> dict[str, Any]:
        sms_id = self.sms_id

        order_id = self.order_id

        state = self.state.value

        idempotency_key = self.idempotency_key

        started_at: int | None
        started_at = self.started_at

        approved_at: int | None
        approved_at = self.approved_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sms_id": sms_id,
                "order_id": order_id,
                "state": state,
                "idempotency_key": idempotency_key,
                "started_at": started_at,
                "approved_at": approved_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        sms_id = d.pop("sms_id")

        order_id = d.pop("order_id")

        state = ApprovalState(d.pop("state"))

        idempotency_key = d.pop("idempotency_key")

        def _parse_started_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_approved_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        approved_at = _parse_approved_at(d.pop("approved_at"))

        approval = cls(
            sms_id=sms_id,
            order_id=order_id,
            state=state,
            idempotency_key=idempotency_key,
            started_at=started_at,
            approved_at=approved_at,
        )

        return approval
