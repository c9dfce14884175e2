"""What handlers need, built once by the app factory and reached through the Flask app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import flask
import redis
from sqlalchemy.orm import Session, sessionmaker

from recon_impl.security import SecretBox
from recon_impl.services.context import Actor
from recon_impl.services.sms import OrderReader
from recon_impl.settings import Settings
from recon_impl.storage.db import transaction

EXTENSION = "recon"


@dataclass
class Deps:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: redis.Redis
    box: SecretBox
    wallet: OrderReader


def deps() -> Deps:
    found: Deps = flask.current_app.extensions[EXTENSION]
    return found


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction for the current request."""
    with transaction(deps().sessions) as session:
        yield session


def actor() -> Actor:
    """The acting admin (``X-Actor``) and the request id that travels with the change."""
    headers = flask.request.headers
    return Actor(
        name=headers.get("X-Actor") or "unknown",
        request_id=headers.get("X-Request-Id") or uuid.uuid4().hex,
    )


def header(name: str) -> str | None:
    return flask.request.headers.get(name)


JSON = {"Content-Type": "application/json"}
Reply = tuple[Any, int, dict[str, str]]


def ok(body: Any, status: int = 200) -> Reply:
    """A JSON answer; the content type is explicit because the specs also declare problem+json."""
    return body, status, JSON
