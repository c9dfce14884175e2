from enum import StrEnum


class SmsDetailApprovalType0State(StrEnum):
    APPROVED = "approved"
    IN_FLIGHT = "in_flight"
    REFUSED = "refused"

    def __str__(self) -> str:
        return str(self.value)
