"""The audit log and the outbox, written in the caller's transaction with the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from recon_impl.services.context import Actor
from recon_impl.storage.legacy_keys import REFRESH_CHANNEL
from recon_impl.storage.models import AuditLog, OutboxEvent

REFRESH_TOPIC = REFRESH_CHANNEL  # the outbox relay publishes each topic on the channel of its name


def audit(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit row; it commits or rolls back with the change it records."""
    session.add(
        AuditLog(
            actor=actor.name,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
            request_id=actor.request_id,
        )
    )


def announce_refresh(session: Session, reason: str) -> None:
    """Queue a forced top-bar refresh; the outbox relay publishes it after the commit."""
    session.add(OutboxEvent(topic=REFRESH_TOPIC, payload={"type": "top_info", "reason": reason}))
