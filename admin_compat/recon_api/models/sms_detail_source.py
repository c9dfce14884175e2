from enum import StrEnum


class SmsDetailSource(StrEnum):
    PUSHBULLET = "pushbullet"
    SHOOTER = "shooter"
    TELEGRAM = "telegram"

    def __str__(self) -> str:
        return str(self.value)
