from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.health_worker_status import HealthWorkerStatus

T = TypeVar("T", bound="HealthWorker")


@_attrs_define
class HealthWorker:
    """The worker fleet's loop freshness, as each recon_worker publishes it. Reported, not part of readiness (`status`) - a
    stale worker is restarted by its own watchdog and healthcheck while recon_service keeps serving. `absent` = no
    worker has published, `unknown` = Redis cannot be read.

        Attributes:
            status (HealthWorkerStatus):
            workers (int): Worker processes that published.
            stale_loops (list[str]): `<worker id>/<loop>` past its budget.
    """

    status: HealthWorkerStatus
    workers: int
    stale_loops: list[str]

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        workers = self.workers

        stale_loops = self.stale_loops

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
                "workers": workers,
                "stale_loops": stale_loops,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        status = HealthWorkerStatus(d.pop("status"))

        workers = d.pop("workers")

        stale_loops = cast(list[str], d.pop("stale_loops"))

        health_worker = cls(
            status=status,
            workers=workers,
            stale_loops=stale_loops,
        )

        return health_worker
