"""Typed settings read once from ``RECON_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr, field_validator
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

    pushbullet_api_url: str = "https://api.pushbullet.com"
    pushbullet_stream_url: str = "wss://stream.pushbullet.com/websocket"
    pushbullet_sync_interval_s: float = 60.0
    # Pushbullet end-to-end encryption passwords, each tried in turn (no per-account column yet).
    pushbullet_e2e_passwords: Annotated[list[SecretStr], NoDecode, BeforeValidator(_split_csv)] = Field(
        default_factory=list
    )

    # Telegram ingest: the bot that reads the forwarders' chat. No token = the loop stays idle.
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: SecretStr | None = None
    telegram_chat_ids: Annotated[list[int], NoDecode, BeforeValidator(_split_csv)] = Field(
        default_factory=list
    )
    # Which line of a forwarded post holds the SMS sender (0 = the first); the rest is the text.
    telegram_sender_line: int = 0
    telegram_poll_timeout_s: int = 25
    # Coexistence cutover switch: only one poller per bot may run (the old server's or ours).
    telegram_poller_enabled: bool = True

    # Matching (recon_impl.domain.matching.MatchConfig) and the order sync with the wallet.
    match_window_before_s: int = 1800
    match_window_after_s: int = 300
    match_margin: float = 1.0
    unmatched_expiry_s: int = 900
    order_sync_interval_s: float = 5.0
    approval_settle_after_s: float = 60.0  # an approval in flight longer than this is settled

    max_body_bytes: int = 256 * 1024
    signature_window_s: int = 300
    register_rate_limit: str = "10/minute"
    device_online_s: int = 180
    default_tz: str = "Asia/Ho_Chi_Minh"
    db_pool_size: int = 10
    statement_timeout_ms: int = 5000

    # recon_worker runtime: empty worker_id = "<hostname>-<pid>"; health port 0 picks a free one.
    worker_id: str = ""
    worker_health_host: str = "127.0.0.1"
    worker_health_port: int = 8792
    worker_health_publish_s: float = 5.0  # Redis health hash refresh; its TTL is three times this
    worker_grace_s: float = 10.0  # shutdown grace before a forced exit
    worker_hard_limit_factor: float = 3.0  # a loop staler than budget x this makes the process exit
    worker_lease_s: float = 30.0  # fleet-singleton lease time, renewed every third of it
    worker_redis_timeout_s: float = 5.0

    @field_validator("service_tokens", "enrollment_keys", "secret_keys", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
