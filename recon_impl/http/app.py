"""The recon_service app factory: one Connexion FlaskApp serving the internal and device specs."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import connexion
import redis
import yaml
from connexion.middleware import MiddlewarePosition
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from recon_impl.adapters.wallet import WalletReader
from recon_impl.http import auth, errors
from recon_impl.http.deps import EXTENSION, Deps
from recon_impl.http.middleware import BodyLimit, DeviceGate
from recon_impl.http.validation import VALIDATORS
from recon_impl.logs import RequestId
from recon_impl.security import SecretBox, secret_equals, signature_matches
from recon_impl.services import devices
from recon_impl.services.sms import OrderReader
from recon_impl.settings import Settings, get_settings
from recon_impl.storage.db import make_engine, make_session_factory, transaction

SPECS = Path(__file__).resolve().parents[2] / "openapi"
INTERNAL_BASE = "/internal/recon/v1"
DEVICE_BASE = "/api/shooter"


def limits_storage_url(redis_url: str) -> str:
    """``limits`` spells a unix-socket Redis ``redis+unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def create_app(
    settings: Settings | None = None,
    *,
    validate_responses: bool = False,
    wallet: OrderReader | None = None,
) -> connexion.FlaskApp:
    """Build recon_service; ``settings.database_url``/``redis_url`` must be set."""
    settings = settings or get_settings()
    if not settings.database_url or not settings.redis_url:
        raise ValueError("recon_service needs RECON_DATABASE_URL and RECON_REDIS_URL")
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        statement_timeout_ms=settings.statement_timeout_ms,
    )
    sessions = make_session_factory(engine)
    redis_client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
    )
    box = SecretBox([key.get_secret_value() for key in settings.secret_keys])
    deps = Deps(
        settings=settings,
        sessions=sessions,
        redis=redis_client,
        box=box,
        wallet=wallet
        or WalletReader(
            settings.wallet_url, settings.wallet_token.get_secret_value(), settings.wallet_timeout_s
        ),
    )
    auth.configure([token.get_secret_value() for token in settings.service_tokens])

    # Connexion logs validation failures with the offending value (an SMS body, a token):
    # keep those at DEBUG so they never reach a production log.
    logging.getLogger("connexion.validators").setLevel(logging.WARNING)
    app = connexion.FlaskApp(__name__, specification_dir=str(SPECS))
    app.app.extensions[EXTENSION] = deps
    app.app.json.sort_keys = False
    options: dict[str, Any] = {
        "validate_responses": validate_responses,
        "validator_map": VALIDATORS,
        "strict_validation": True,
    }
    app.add_api("recon-internal.yaml", base_path=INTERNAL_BASE, name="internal", **options)
    app.add_api("shooter-device.yaml", base_path=DEVICE_BASE, name="device", **options)
    app.add_middleware(RequestId, MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(BodyLimit, MiddlewarePosition.BEFORE_SECURITY, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        DeviceGate,
        MiddlewarePosition.BEFORE_SECURITY,
        enroll_key_ok=_enroll_checker(settings),
        register_allowed=_register_limiter(settings),
        authenticate=_authenticator(deps),
        window_s=settings.signature_window_s,
    )
    errors.register(
        app,
        errors.route_table(
            (base, yaml.safe_load((SPECS / name).read_text(encoding="utf-8")))
            for name, base in (("recon-internal.yaml", INTERNAL_BASE), ("shooter-device.yaml", DEVICE_BASE))
        ),
    )
    return app


def _enroll_checker(settings: Settings) -> Any:
    keys = [key.get_secret_value() for key in settings.enrollment_keys]
    return lambda presented: secret_equals(presented, keys)


def _register_limiter(settings: Settings) -> Any:
    assert settings.redis_url is not None
    limiter = MovingWindowRateLimiter(storage_from_string(limits_storage_url(settings.redis_url)))
    rate = parse(settings.register_rate_limit)

    def allowed(client: str) -> int | None:
        if limiter.hit(rate, "shooter-register", client):
            return None
        reset_at, _remaining = limiter.get_window_stats(rate, "shooter-register", client)
        return max(1, int(reset_at - time.time()))

    return allowed


def _authenticator(deps: Deps) -> Any:
    def authenticate(device_id: str, stamp: bytes, body: bytes, signature: str) -> tuple[int | None, str]:
        with transaction(deps.sessions) as session:
            device = devices.live_device(session, device_id)
            if device is None:
                return None, "unknown device"
            secret = deps.box.open(device.secret_ciphertext)
            if not signature_matches(secret, stamp, body, signature):
                return None, "signature does not match"
            return device.id, "ok"

    return authenticate
