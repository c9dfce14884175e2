"""SQLAlchemy 2 typed models: the single description of recon's schema.

Alembic revisions under ``recon_impl/migrations`` must agree with these models (checked by a test).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(17, 2)
TZ = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: TZ, dict[str, Any]: JSONB, Decimal: Money}  # noqa: RUF012


def _created() -> Mapped[datetime]:
    return mapped_column(TZ, server_default=func.now())


class PushbulletAccount(Base):
    __tablename__ = "pushbullet_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    nickname: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    device_iden: Mapped[str | None] = mapped_column(String(64))
    token_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    token_fingerprint: Mapped[str] = mapped_column(String(64))
    token_mask: Mapped[str] = mapped_column(String(16))
    status: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    stream_seen_at: Mapped[datetime | None]
    auth_failed_at: Mapped[datetime | None]
    last_sms_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status IN (0, 1)", name="status"),
        Index(
            "uq_pushbullet_accounts_live_token",
            "token_fingerprint",
            text("coalesce(device_iden, '')"),
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_pushbullet_accounts_live_id",
            "status",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class Template(Base):
    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    type: Mapped[int] = mapped_column(SmallInteger)
    decimal_sep: Mapped[str] = mapped_column(String(1), server_default=".")
    time_format: Mapped[str | None] = mapped_column(String(64))
    tz: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    sample: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("type IN (1, 2)", name="type"),
        CheckConstraint("decimal_sep IN ('.', ',')", name="decimal_sep"),
        CheckConstraint("status IN (0, 1)", name="status"),
        Index(
            "ix_templates_live_bank", "bank_code", "id", postgresql_where=text("deleted_at IS NULL")
        ),
    )


class WhitelistEntry(Base):
    __tablename__ = "whitelist"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phone: Mapped[str] = mapped_column(String(64))
    bank_code: Mapped[str | None] = mapped_column(String(32))
    remark: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = _created()
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_whitelist_live_phone",
            "phone",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class ShooterDevice(Base):
    __tablename__ = "shooter_devices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    app_version: Mapped[str] = mapped_column(String(32))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    trusted: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    trusted_at: Mapped[datetime | None]
    battery: Mapped[int | None] = mapped_column(SmallInteger)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("trusted IN (0, 1)", name="trusted"),
        Index(
            "uq_shooter_devices_live_device_id",
            "device_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_shooter_devices_live_trusted",
            "trusted",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class Sms(Base):
    """One received SMS. ``(source, source_id, copy_no)`` is its identity (contract section 6)."""

    __tablename__ = "sms"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # What the keyword filter searches (``sms._conditions``): content, sender and payer name
    # lower-cased and joined by the unit separator U+001F (chr(31)), which a keyword may not
    # contain, so that no match spans two fields. LIKE on it with the keyword put through the
    # same ``lower`` matches what ILIKE on each field matches: in a UTF-8 database ILIKE
    # lower-cases both sides with ``lower``. Second in the row, so that a count's sequential
    # scan reaches it without stepping over the other columns; deferred: nothing reads it back.
    search_text: Mapped[str] = mapped_column(
        Text,
        Computed(
            "lower(content || chr(31) || sender || chr(31) || coalesce(payer_name, ''))",
            persisted=True,
        ),
        deferred=True,
    )
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(255))
    # 0 for the first copy; a conflicting copy of the same source id gets the next number.
    copy_no: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    device_id: Mapped[str] = mapped_column(String(128))
    shooter_device_id: Mapped[int | None] = mapped_column(ForeignKey("shooter_devices.id"))
    pushbullet_account_id: Mapped[int | None] = mapped_column(ForeignKey("pushbullet_accounts.id"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    sim_slot: Mapped[int | None] = mapped_column(SmallInteger)
    sender: Mapped[str] = mapped_column(String(64))
    sender_norm: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    amount: Mapped[Decimal | None]
    balance: Mapped[Decimal | None]
    card_tail: Mapped[str | None] = mapped_column(String(8))
    payer_name: Mapped[str | None] = mapped_column(String(255))
    ref: Mapped[str | None] = mapped_column(String(128))
    bank_time: Mapped[datetime | None]
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id"))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The account whose balance chain this SMS continues: "<bank code>|<card tail>" (copies.account_of).
    account: Mapped[str | None] = mapped_column(String(100))
    # A proven copy of another channel's SMS (same bank message): linked to it, never matched again.
    copy_of: Mapped[int | None] = mapped_column(ForeignKey("sms.id"))
    status: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    reason: Mapped[str | None] = mapped_column(String(32))
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # Sent by an untrusted device: stored, not processed until a person trusts the device.
    held: Mapped[bool] = mapped_column(server_default=text("false"))
    # Sent before its device was trusted: processed, then sent to a person (``pre_trust``).
    pre_trust: Mapped[bool] = mapped_column(server_default=text("false"))
    order_id: Mapped[str | None] = mapped_column(String(64))
    check_status: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    check_admin: Mapped[str | None] = mapped_column(String(64))
    check_at: Mapped[datetime | None]
    remark: Mapped[str | None] = mapped_column(String(500))
    approval_order_id: Mapped[str | None] = mapped_column(String(64))
    approval_started_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint("source IN ('shooter', 'pushbullet', 'telegram')", name="source"),
        CheckConstraint("status BETWEEN 0 AND 6", name="status"),
        CheckConstraint("check_status IN (0, 1, 2)", name="check_status"),
        CheckConstraint("status <> 3 OR order_id IS NOT NULL", name="approved_has_order"),
        Index("uq_sms_source_identity", "source", "source_id", "copy_no", unique=True),
        # One order is held by at most one matched (incl. confirmed) or approved SMS.
        Index(
            "uq_sms_held_order", "order_id", unique=True, postgresql_where=text("status IN (1, 3)")
        ),
        Index("ix_sms_status_id", "status", "id"),
        Index("ix_sms_source_id_desc", "source", "id"),
        # (received_at, id): a time range's matching ids come from the index alone (sms.fetch_page).
        Index("ix_sms_received_at_id", "received_at", "id"),
        Index("ix_sms_amount_id", "amount", "id"),
        Index(
            "ix_sms_shooter_seq",
            "shooter_device_id",
            "seq",
            postgresql_where=text("shooter_device_id IS NOT NULL"),
        ),
        Index(
            "ix_sms_fingerprint", "fingerprint", postgresql_where=text("fingerprint IS NOT NULL")
        ),
        # The previous balance of an account: the newest earlier SMS with a balance, copies excluded.
        Index(
            "ix_sms_account_chain",
            "account",
            "received_at",
            "id",
            postgresql_where=text("account IS NOT NULL AND balance IS NOT NULL AND copy_of IS NULL"),
        ),
        # The queue of new work: SMS waiting for their first decision.
        Index("ix_sms_new", "id", postgresql_where=text("status = 0 AND held = false")),
    )


class AuditLog(Base):
    """Append-only: a trigger refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = _created()
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id", "id"),)


class OutboxEvent(Base):
    """Transactional outbox: written with the change it announces, relayed after commit."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _created()
    published_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )


class WorkerLease(Base):
    """A fenced lease for fleet-wide singleton work; ``token`` grows on every takeover."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))
    token: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    expires_at: Mapped[datetime | None]
    acquired_at: Mapped[datetime | None]


class SourceCursor(Base):
    """Per-source high-water marks (Pushbullet timestamps, Telegram offset, wallet cursor)."""

    __tablename__ = "source_cursors"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = _created()


class IdempotencyRecord(Base):
    """The stored answer of a create request, replayed when its Idempotency-Key comes back."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _created()
