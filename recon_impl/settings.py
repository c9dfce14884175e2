"""Typed settings read once from ``RECON_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A development-only Fernet key: local runs work out of the box, production must set its own.
DEV_SECRET_KEY = "dGhpcy1pcy1hLWRldi1vbmx5LWtleS0zMi1ieXRlcyE="  # noqa: S105


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting has a safe local default; lists are comma-separated in the environment."""

    model_config = SettingsConfigDict(env_prefix="RECON_", extra="ignore")

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: str = ".data"

    service_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr("recon-dev-service-token")]
    )
    enrollment_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr("recon-dev-enroll-key")]
    )
    # Fernet keys, newest first: the first encrypts, all of them decrypt (rotation).
    secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=lambda: [SecretStr(DEV_SECRET_KEY)]
    )

    wallet_url: str = "http://127.0.0.1:8791/wallet/v1"
    wallet_token: SecretStr = SecretStr("wallet-dev-token")
    wallet_timeout_s: float = 3.0

    max_body_bytes: int = 256 * 1024
    signature_window_s: int = 300
    register_rate_limit: str = "10/minute"
    device_online_s: int = 180
    default_tz: str = "Asia/Ho_Chi_Minh"
    db_pool_size: int = 10
    statement_timeout_ms: int = 5000

    @field_validator("service_tokens", "enrollment_keys", "secret_keys", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
