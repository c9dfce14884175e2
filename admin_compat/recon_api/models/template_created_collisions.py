from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.clash import Clash


T = TypeVar("T", bound="TemplateCreatedCollisions")


@_attrs_define
class TemplateCreatedCollisions:
    """
    Attributes:
        on_new_sample (list[Clash]): Existing templates that also parse the new template's sample.
        on_existing_samples (list[Clash]): Existing samples the new template parses.
    """

    on_new_sample: list[Clash]
    on_existing_samples: list[Clash]

    def to_dict(self) -> dict[str, Any]:
        on_new_sample = []
        for on_new_sample_item_data in self.on_new_sample:
            on_new_sample_item = on_new_sample_item_data.to_dict()
            on_new_sample.append(on_new_sample_item)

        on_existing_samples = []
        for on_existing_samples_item_data in self.on_existing_samples:
            on_existing_samples_item = on_existing_samples_item_data.to_dict()
            on_existing_samples.append(on_existing_samples_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "on_new_sample": on_new_sample,
                "on_existing_samples": on_existing_samples,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.clash import Clash

        d = dict(src_dict)
        on_new_sample = []
        _on_new_sample = d.pop("on_new_sample")
        for on_new_sample_item_data in _on_new_sample:
            on_new_sample_item = Clash.from_dict(on_new_sample_item_data)

            on_new_sample.append(on_new_sample_item)

        on_existing_samples = []
        _on_existing_samples = d.pop("on_existing_samples")
        for on_existing_samples_item_data in _on_existing_samples:
            on_existing_samples_item = Clash.from_dict(on_existing_samples_item_data)

            on_existing_samples.append(on_existing_samples_item)

        template_created_collisions = cls(
            on_new_sample=on_new_sample,
            on_existing_samples=on_existing_samples,
        )

        return template_created_collisions
