from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.shooter_device import ShooterDevice


T = TypeVar("T", bound="ReconImplHttpHandlersDevicesListDevicesResponse200")


@_attrs_define
class ReconImplHttpHandlersDevicesListDevicesResponse200:
    """
    Attributes:
        total (int):
        page (int):
        page_size (int):
        items (list[ShooterDevice]):
    """

    total: int
    page: int
    page_size: int
    items: list[ShooterDevice]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        page = self.page

        page_size = self.page_size

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "page": page,
                "page_size": page_size,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.shooter_device import ShooterDevice

        d = dict(src_dict)
        total = d.pop("total")

        page = d.pop("page")

        page_size = d.pop("page_size")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = ShooterDevice.from_dict(items_item_data)

            items.append(items_item)

        recon_impl_http_handlers_devices_list_devices_response_200 = cls(
            total=total,
            page=page,
            page_size=page_size,
            items=items,
        )

        recon_impl_http_handlers_devices_list_devices_response_200.additional_properties = d
        return recon_impl_http_handlers_devices_list_devices_response_200

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
