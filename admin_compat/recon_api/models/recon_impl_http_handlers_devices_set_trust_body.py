from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.recon_impl_http_handlers_devices_set_trust_body_trusted import (
    ReconImplHttpHandlersDevicesSetTrustBodyTrusted,
)

T = TypeVar("T", bound="ReconImplHttpHandlersDevicesSetTrustBody")


@_attrs_define
class ReconImplHttpHandlersDevicesSetTrustBody:
    """
    Attributes:
        trusted (ReconImplHttpHandlersDevicesSetTrustBodyTrusted):
    """

    trusted: ReconImplHttpHandlersDevicesSetTrustBodyTrusted

    def to_dict(self) -> dict[str, Any]:
        trusted = self.trusted.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "trusted": trusted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        trusted = ReconImplHttpHandlersDevicesSetTrustBodyTrusted(d.pop("trusted"))

        recon_impl_http_handlers_devices_set_trust_body = cls(
            trusted=trusted,
        )

        return recon_impl_http_handlers_devices_set_trust_body
