from enum import StrEnum


class HealthWorkerStatus(StrEnum):
    ABSENT = "absent"
    OK = "ok"
    STALE = "stale"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)
