"""Shooter phones: enrolment, signed-request identity, SMS reports, heartbeats, trust."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recon_impl.domain.errors import Duplicate, NotFound
from recon_impl.domain.normalize import normalize_phone, normalize_sender
from recon_impl.security import SecretBox, new_device_secret
from recon_impl.services.context import Actor
from recon_impl.services.journal import announce_refresh, audit
from recon_impl.services.paging import Page, paginate
from recon_impl.services.views import device_view, utcnow
from recon_impl.storage.models import ShooterDevice, Sms

MAX_SENDER = 64
MAX_CONTENT = 4000
EARLIEST_RECEIVED = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
NUL, REPLACEMENT = "\x00", "\ufffd"


def live_device(session: Session, device_id: str) -> ShooterDevice | None:
    """The live registration of a phone's ``device_id``, or None."""
    return session.scalar(
        select(ShooterDevice).where(ShooterDevice.device_id == device_id, ShooterDevice.deleted_at.is_(None))
    )


def register(session: Session, box: SecretBox, body: dict[str, Any]) -> str:
    """Enrol a phone (untrusted) and return its signing secret; shown only this once."""
    secret = new_device_secret()
    row = ShooterDevice(
        device_id=body["device_id"],
        name=body["name"],
        phone=normalize_phone(body["phone"]),
        app_version=body["app_version"],
        secret_ciphertext=box.seal(secret),
        trusted=0,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Duplicate(f"device_id {body['device_id']} is already registered") from exc
    audit(
        session,
        device_actor(row),
        "device.register",
        "shooter_device",
        row.id,
        after=device_view(row, utcnow(), 0),
    )
    return secret


def device_actor(device: ShooterDevice) -> Actor:
    """The audit actor of a phone's own actions: its numeric id, which always fits the actor column
    (a ``device_id`` may be 128 characters long)."""
    return Actor(f"device:{device.id}")


@dataclass(frozen=True, slots=True)
class Report:
    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class _Message:
    seq: int
    sender: str
    content: str
    received_at: datetime
    sim_slot: int | None
    invalid: str | None


def _checked(raw: dict[str, Any], now: datetime) -> _Message:
    """Validate one message on its own; a bad one is kept with the reason it is invalid."""
    sender, content = str(raw["sender"]).strip(), str(raw["content"])
    problem = None
    if NUL in sender or NUL in content:
        # PostgreSQL text cannot hold U+0000: keep the message, marked invalid, NUL replaced.
        problem = "sender or content contains a NUL character"
        sender, content = sender.replace(NUL, REPLACEMENT), content.replace(NUL, REPLACEMENT)
    elif not sender:
        problem = "empty sender"
    elif len(sender) > MAX_SENDER:
        problem = f"sender longer than {MAX_SENDER}"
    elif not content.strip():
        problem = "empty content"
    elif len(content) > MAX_CONTENT:
        problem = f"content longer than {MAX_CONTENT}"
    received = None
    stamp = int(raw["received_at"])
    if EARLIEST_RECEIVED.timestamp() <= stamp <= (now + FUTURE_SLACK).timestamp():
        received = datetime.fromtimestamp(stamp, UTC)
    elif problem is None:
        problem = "received_at is not a plausible time"
    return _Message(
        seq=int(raw["seq"]),
        sender=sender[:MAX_SENDER],
        content=content,
        received_at=received or now,
        sim_slot=raw.get("sim_slot"),
        invalid=problem,
    )


def report_sms(session: Session, device: ShooterDevice, messages: Sequence[dict[str, Any]]) -> Report:
    """Store a batch; a retried ``(device, seq)`` is acknowledged and stored once."""
    now = utcnow()
    batch = [_checked(raw, now) for raw in messages]
    keys = {f"{device.id}:{m.seq}" for m in batch}
    known: dict[str, list[Sms]] = {}
    for row in session.scalars(select(Sms).where(Sms.source == "shooter", Sms.source_id.in_(keys))):
        known.setdefault(row.source_id, []).append(row)
    actor = device_actor(device)
    accepted = duplicates = 0
    for message in batch:
        source_id = f"{device.id}:{message.seq}"
        copies = known.setdefault(source_id, [])
        if any(copy.content == message.content for copy in copies):
            duplicates += 1
            continue
        row = _new_sms(device, message, source_id, copy_no=len(copies), now=now)
        session.add(row)
        session.flush()
        copies.append(row)
        accepted += 1
        audit(
            session,
            actor,
            "sms.receive",
            "sms",
            row.id,
            after={"status": row.status, "reason": row.reason, "source_id": source_id},
        )
    if accepted:
        announce_refresh(session, "sms_received")
    top_seq = max(m.seq for m in batch)
    device.last_seq = max(device.last_seq or 0, top_seq)
    device.last_seen_at = now
    return Report(accepted, duplicates)


def _new_sms(device: ShooterDevice, m: _Message, source_id: str, copy_no: int, now: datetime) -> Sms:
    if m.invalid is not None:
        status, reason = 2, "invalid"
    elif copy_no > 0:
        status, reason = 2, "seq_conflict"
    else:
        status, reason = 0, None
    return Sms(
        source="shooter",
        source_id=source_id,
        copy_no=copy_no,
        device_id=device.device_id,
        shooter_device_id=device.id,
        seq=m.seq,
        sim_slot=m.sim_slot,
        sender=m.sender,
        sender_norm=normalize_sender(m.sender)[:MAX_SENDER],
        content=m.content,
        received_at=m.received_at,
        status=status,
        reason=reason,
        held=device.trusted == 0,
        created_at=now,
        updated_at=now,
    )


def heartbeat(session: Session, device: ShooterDevice, body: dict[str, Any]) -> int | None:
    """Refresh liveness and answer the first missing ``seq`` up to ``last_seq``."""
    device.last_seen_at = utcnow()
    device.app_version = body["app_version"]
    device.battery = body.get("battery")
    return first_missing_seq(session, device.id, int(body["last_seq"]))


_FIRST_GAP = text(
    """
    SELECT s.seq + 1 FROM sms s
    WHERE s.shooter_device_id = :device AND s.seq < :last_seq
      AND NOT EXISTS (
          SELECT 1 FROM sms n WHERE n.shooter_device_id = :device AND n.seq = s.seq + 1)
    ORDER BY s.seq
    LIMIT 1
    """
)


def first_missing_seq(session: Session, device_pk: int, last_seq: int) -> int | None:
    """Lowest seq between the device's first stored seq and ``last_seq`` that is not stored."""
    gap = session.scalar(_FIRST_GAP, {"device": device_pk, "last_seq": last_seq})
    return None if gap is None else int(gap)


def list_devices(session: Session, page: int, page_size: int, trusted: int | None) -> Page[Any]:
    query = select(ShooterDevice).where(ShooterDevice.deleted_at.is_(None))
    if trusted is not None:
        query = query.where(ShooterDevice.trusted == trusted)
    return paginate(session, query.order_by(ShooterDevice.id.desc()), page, page_size)


def get_device(session: Session, device_pk: int, *, lock: bool = False) -> ShooterDevice:
    row = session.get(ShooterDevice, device_pk, with_for_update=lock)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"device {device_pk} does not exist")
    return row


def set_trust(session: Session, actor: Actor, device_pk: int, trusted: int, online_s: int) -> ShooterDevice:
    """Trust or distrust a phone; trusting releases its held SMS as ``pre_trust``."""
    row = get_device(session, device_pk, lock=True)
    now = utcnow()
    before = device_view(row, now, online_s)
    if row.trusted == trusted:
        return row
    row.trusted = trusted
    row.trusted_at = now if trusted else None
    released = 0
    if trusted:
        result = session.execute(
            update(Sms)
            .where(Sms.shooter_device_id == row.id, Sms.held.is_(True))
            .values(held=False, pre_trust=True, updated_at=now)
        )
        released = int(getattr(result, "rowcount", 0) or 0)
    after = {**device_view(row, now, online_s), "released_sms": released}
    audit(
        session,
        actor,
        "device.trust" if trusted else "device.distrust",
        "shooter_device",
        row.id,
        before=before,
        after=after,
    )
    announce_refresh(session, "device_trusted")
    return row


def delete_device(session: Session, actor: Actor, device_pk: int, online_s: int) -> None:
    row = get_device(session, device_pk, lock=True)
    row.deleted_at = utcnow()
    audit(
        session,
        actor,
        "device.delete",
        "shooter_device",
        row.id,
        before=device_view(row, row.deleted_at, online_s),
    )
    announce_refresh(session, "device_deleted")


def count_need_check(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Sms).where(Sms.status == 2)) or 0)
