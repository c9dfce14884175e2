from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.sms_check_status import SmsCheckStatus
from ..models.sms_source import SmsSource

T = TypeVar("T", bound="Sms")


@_attrs_define
class Sms:
    """
    Attributes:
        id (int):
        source (SmsSource):
        device_id (str): The shooter phone's own device_id, the Pushbullet device_iden or the Telegram chat id.
        sender (str):
        content (str):
        received_at (int):
        amount (None | str):
        balance (None | str):
        card_tail (None | str):
        payer_name (None | str):
        ref (None | str):
        bank_time (int | None):
        template_id (int | None):
        status (int):
        order_id (None | str):
        check_status (SmsCheckStatus):
        check_admin (None | str):
        check_at (int | None):
        remark (None | str):
        created_at (int):
    """

    id: int
    source: SmsSource
    device_id: str
    sender: str
    content: str
    received_at: int
    amount: None | str
    balance: None | str
    card_tail: None | str
    payer_name: None | str
    ref: None | str
    bank_time: int | None
    template_id: int | None
    status: int
    order_id: None | str
    check_status: SmsCheckStatus
    check_admin: None | str
    check_at: int | None
    remark: None | str
    created_at: int

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        source = self.source.value

        device_id = self.device_id

        sender = self.sender

        content = self.content

        received_at = self.received_at

        amount: None | str
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

        template_id: int | None
        template_id = self.template_id

        status = self.status

        order_id: None | str
        order_id = self.order_id

        check_status = self.check_status.value

        check_admin: None | str
        check_admin = self.check_admin

        check_at: int | None
        check_at = self.check_at

        remark: None | str
        remark = self.remark

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "source": source,
                "device_id": device_id,
                "sender": sender,
                "content": content,
                "received_at": received_at,
                "amount": amount,
                "balance": balance,
                "card_tail": card_tail,
                "payer_name": payer_name,
                "ref": ref,
                "bank_time": bank_time,
                "template_id": template_id,
                "status": status,
                "order_id": order_id,
                "check_status": check_status,
                "check_admin": check_admin,
                "check_at": check_at,
                "remark": remark,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        source = SmsSource(d.pop("source"))

        device_id = d.pop("device_id")

        sender = d.pop("sender")

        content = d.pop("content")

        received_at = d.pop("received_at")

        def _parse_amount(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        amount = _parse_amount(d.pop("amount"))

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

        def _parse_template_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        template_id = _parse_template_id(d.pop("template_id"))

        status = d.pop("status")

        def _parse_order_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        order_id = _parse_order_id(d.pop("order_id"))

        check_status = SmsCheckStatus(d.pop("check_status"))

        def _parse_check_admin(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        check_admin = _parse_check_admin(d.pop("check_admin"))

        def _parse_check_at(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        check_at = _parse_check_at(d.pop("check_at"))

        def _parse_remark(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        remark = _parse_remark(d.pop("remark"))

        created_at = d.pop("created_at")

        sms = cls(
            id=id,
            source=source,
            device_id=device_id,
            sender=sender,
            content=content,
            received_at=received_at,
            amount=amount,
            balance=balance,
            card_tail=card_tail,
            payer_name=payer_name,
            ref=ref,
            bank_time=bank_time,
            template_id=template_id,
            status=status,
            order_id=order_id,
            check_status=check_status,
            check_admin=check_admin,
            check_at=check_at,
            remark=remark,
            created_at=created_at,
        )

        return sms
