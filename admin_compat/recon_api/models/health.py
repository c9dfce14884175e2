from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.health_database import HealthDatabase
from ..models.health_redis import HealthRedis
from ..models.health_status import HealthStatus

if TYPE_CHECKING:
    from ..models.health_worker import HealthWorker


T = TypeVar("T", bound="Health")


@_attrs_define
class Health:
    """
    Attributes:
        status (HealthStatus): Readiness: both stores reachable.
        database (HealthDatabase):
        redis (HealthRedis):
        worker (HealthWorker): The worker fleet's loop freshness, as each recon_worker publishes it. Reported, not part
            of readiness (`status`) - a stale worker is restarted by its own watchdog and healthcheck while recon_service
            keeps serving. `absent` = no worker has published, `unknown` = Redis cannot be read.
    """

    status: HealthStatus
    database: HealthDatabase
    redis: HealthRedis
    worker: HealthWorker

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        database = self.database.value

        redis = self.redis.value

        worker = self.worker.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
                "database": database,
                "redis": redis,
                "worker": worker,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.health_worker import HealthWorker

        d = dict(src_dict)
        status = HealthStatus(d.pop("status"))

        database = HealthDatabase(d.pop("database"))

        redis = HealthRedis(d.pop("redis"))

        worker = HealthWorker.from_dict(d.pop("worker"))

        health = cls(
            status=status,
            database=database,
            redis=redis,
            worker=worker,
        )

        return health
