"""Storing SMS that arrive through Pushbullet or Telegram (shooter phones go through ``devices``).

An SMS is identified by ``(source, source_id)`` (contract section 6): storing the same one again
is a no-op, so a listener and a catch-up sync may both deliver it. A message whose text cannot be
kept as it is (empty, over-long, a NUL) is still stored, in need_check with reason ``invalid``,
so it is never lost and never retried forever. The SMS, its audit rows and the outbox row commit
together in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from recon_impl.domain.normalize import normalize_sender
from recon_impl.services.context import Actor
from recon_impl.services.journal import announce_refresh
from recon_impl.services.views import utcnow
from recon_impl.storage.models import AuditLog, Sms

MAX_SENDER = 64
MAX_CONTENT = 4000
MAX_SOURCE_ID = 255


@dataclass(frozen=True, slots=True)
class Incoming:
    """One SMS as a channel delivered it."""

    source: Literal["pushbullet", "telegram"]
    source_id: str
    device_id: str
    sender: str
    content: str
    received_at: datetime
    pushbullet_account_id: int | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """What a batch did: the ids of the rows it created and how many were already stored."""

    new_ids: tuple[int, ...]
    duplicates: int


def _problem(item: Incoming) -> str | None:
    if not item.content.strip():
        return "empty content"
    if "\x00" in item.content or "\x00" in item.sender:
        return "NUL character"
    if len(item.content) > MAX_CONTENT:
        return f"content longer than {MAX_CONTENT}"
    if not item.sender.strip():
        return "empty sender"
    if len(item.sender) > MAX_SENDER:
        return f"sender longer than {MAX_SENDER}"
    return None


def store_incoming(session: Session, actor: Actor, items: Sequence[Incoming]) -> Stored:
    """Insert what is new (``ON CONFLICT DO NOTHING`` on the source identity) and journal it."""
    if not items:
        return Stored((), 0)
    if any(item.received_at.tzinfo is None for item in items):
        raise ValueError("received_at must be timezone-aware")
    now = utcnow()
    rows = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        key = (item.source, item.source_id[:MAX_SOURCE_ID])
        if key in seen:
            continue
        seen.add(key)
        problem = _problem(item)
        sender = item.sender.replace("\x00", "\ufffd").strip()[:MAX_SENDER] or "?"
        rows.append(
            {
                "source": item.source,
                "source_id": key[1],
                "copy_no": 0,
                "device_id": item.device_id[:128],
                "pushbullet_account_id": item.pushbullet_account_id,
                "sender": sender,
                "sender_norm": normalize_sender(sender)[:MAX_SENDER],
                "content": item.content.replace("\x00", "\ufffd")[:MAX_CONTENT],
                "received_at": item.received_at,
                "status": 2 if problem else 0,
                "reason": "invalid" if problem else None,
                "remark": problem,
                "created_at": now,
                "updated_at": now,
            }
        )
    # An executemany: SQLAlchemy sends it in cached pages ("insertmanyvalues"), so a catch-up of
    # thousands of SMS neither recompiles one giant statement nor overflows the parameter limit.
    statement = (
        insert(Sms)
        .on_conflict_do_nothing(index_elements=["source", "source_id", "copy_no"])
        .returning(Sms.id, Sms.source_id, Sms.status, Sms.reason)
    )
    created = session.execute(statement, rows).all()
    if created:
        session.execute(
            insert(AuditLog),
            [
                {
                    "actor": actor.name,
                    "action": "sms.receive",
                    "entity": "sms",
                    "entity_id": str(row_id),
                    "after": {"status": status, "reason": reason, "source_id": source_id},
                    "request_id": actor.request_id,
                }
                for row_id, source_id, status, reason in created
            ],
        )
        announce_refresh(session, "sms_received")
    return Stored(tuple(sorted(r[0] for r in created)), len(items) - len(created))


def stored_source_ids(session: Session, source: str, source_ids: Sequence[str]) -> set[str]:
    """Which of these source ids are already stored (for catch-up syncs that skip known SMS)."""
    if not source_ids:
        return set()
    found = session.scalars(
        select(Sms.source_id).where(Sms.source == source, Sms.source_id.in_(list(source_ids)))
    )
    return set(found)
