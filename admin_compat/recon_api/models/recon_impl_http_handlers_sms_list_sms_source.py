from enum import StrEnum


class ReconImplHttpHandlersSmsListSmsSource(StrEnum):
    PUSHBULLET = "pushbullet"
    SHOOTER = "shooter"
    TELEGRAM = "telegram"

    def __str__(self) -> str:
        return str(self.value)
