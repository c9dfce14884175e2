"""initial schema

Revision ID: 20261203_0001
Revises:
Create Date: 2026-12-03 19:04:16.516516
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id", "id"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "pushbullet_accounts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("nickname", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("device_iden", sa.String(length=64), nullable=True),
        sa.Column("token_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("token_mask", sa.String(length=16), nullable=False),
        sa.Column("status", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("stream_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auth_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sms_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN (0, 1)", name=op.f("ck_pushbullet_accounts_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushbullet_accounts")),
    )
    op.create_index(
        "ix_pushbullet_accounts_live_id",
        "pushbullet_accounts",
        ["status", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_pushbullet_accounts_live_token",
        "pushbullet_accounts",
        ["token_fingerprint", sa.literal_column("coalesce(device_iden, '')")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "shooter_devices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("app_version", sa.String(length=32), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("trusted", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("trusted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("battery", sa.SmallInteger(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("trusted IN (0, 1)", name=op.f("ck_shooter_devices_trusted")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shooter_devices")),
    )
    op.create_index(
        "ix_shooter_devices_live_trusted",
        "shooter_devices",
        ["trusted", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_shooter_devices_live_device_id",
        "shooter_devices",
        ["device_id"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "source_cursors",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_source_cursors")),
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("type", sa.SmallInteger(), nullable=False),
        sa.Column("decimal_sep", sa.String(length=1), server_default=".", nullable=False),
        sa.Column("time_format", sa.String(length=64), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("status", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("sample", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("decimal_sep IN ('.', ',')", name=op.f("ck_templates_decimal_sep")),
        sa.CheckConstraint("status IN (0, 1)", name=op.f("ck_templates_status")),
        sa.CheckConstraint("type IN (1, 2)", name=op.f("ck_templates_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
    )
    op.create_index(
        "ix_templates_live_bank",
        "templates",
        ["bank_code", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "whitelist",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("bank_code", sa.String(length=32), nullable=True),
        sa.Column("remark", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whitelist")),
    )
    op.create_index(
        "uq_whitelist_live_phone",
        "whitelist",
        ["phone"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "worker_leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("token", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_leases")),
    )
    op.create_table(
        "sms",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "lower(content || chr(31) || sender || chr(31) || coalesce(payer_name, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("copy_no", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("shooter_device_id", sa.BigInteger(), nullable=True),
        sa.Column("pushbullet_account_id", sa.BigInteger(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("sim_slot", sa.SmallInteger(), nullable=True),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("sender_norm", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(precision=17, scale=2), nullable=True),
        sa.Column("balance", sa.Numeric(precision=17, scale=2), nullable=True),
        sa.Column("card_tail", sa.String(length=8), nullable=True),
        sa.Column("payer_name", sa.String(length=255), nullable=True),
        sa.Column("ref", sa.String(length=128), nullable=True),
        sa.Column("bank_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("template_id", sa.BigInteger(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("status", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("candidates", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("held", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("pre_trust", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("check_status", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("check_admin", sa.String(length=64), nullable=True),
        sa.Column("check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remark", sa.String(length=500), nullable=True),
        sa.Column("approval_order_id", sa.String(length=64), nullable=True),
        sa.Column("approval_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('shooter', 'pushbullet', 'telegram')", name=op.f("ck_sms_source")
        ),
        sa.CheckConstraint("check_status IN (0, 1, 2)", name=op.f("ck_sms_check_status")),
        sa.CheckConstraint(
            "status <> 3 OR order_id IS NOT NULL", name=op.f("ck_sms_approved_has_order")
        ),
        sa.CheckConstraint("status BETWEEN 0 AND 6", name=op.f("ck_sms_status")),
        sa.ForeignKeyConstraint(
            ["pushbullet_account_id"],
            ["pushbullet_accounts.id"],
            name=op.f("fk_sms_pushbullet_account_id_pushbullet_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["shooter_device_id"],
            ["shooter_devices.id"],
            name=op.f("fk_sms_shooter_device_id_shooter_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"], ["templates.id"], name=op.f("fk_sms_template_id_templates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms")),
    )
    op.create_index("ix_sms_amount_id", "sms", ["amount", "id"], unique=False)
    op.create_index(
        "ix_sms_fingerprint",
        "sms",
        ["fingerprint"],
        unique=False,
        postgresql_where=sa.text("fingerprint IS NOT NULL"),
    )
    op.create_index("ix_sms_received_at_id", "sms", ["received_at", "id"], unique=False)
    op.create_index(
        "ix_sms_shooter_seq",
        "sms",
        ["shooter_device_id", "seq"],
        unique=False,
        postgresql_where=sa.text("shooter_device_id IS NOT NULL"),
    )
    op.create_index("ix_sms_source_id_desc", "sms", ["source", "id"], unique=False)
    op.create_index("ix_sms_status_id", "sms", ["status", "id"], unique=False)
    op.create_index(
        "uq_sms_held_order",
        "sms",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("status IN (1, 3)"),
    )
    op.create_index(
        "uq_sms_source_identity", "sms", ["source", "source_id", "copy_no"], unique=True
    )
    _create_extras()


def downgrade() -> None:
    _drop_extras()
    op.drop_index("uq_sms_source_identity", table_name="sms")
    op.drop_index(
        "uq_sms_held_order", table_name="sms", postgresql_where=sa.text("status IN (1, 3)")
    )
    op.drop_index("ix_sms_status_id", table_name="sms")
    op.drop_index("ix_sms_source_id_desc", table_name="sms")
    op.drop_index(
        "ix_sms_shooter_seq",
        table_name="sms",
        postgresql_where=sa.text("shooter_device_id IS NOT NULL"),
    )
    op.drop_index("ix_sms_received_at_id", table_name="sms")
    op.drop_index(
        "ix_sms_fingerprint", table_name="sms", postgresql_where=sa.text("fingerprint IS NOT NULL")
    )
    op.drop_index("ix_sms_amount_id", table_name="sms")
    op.drop_table("sms")
    op.drop_table("worker_leases")
    op.drop_index(
        "uq_whitelist_live_phone",
        table_name="whitelist",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("whitelist")
    op.drop_index(
        "ix_templates_live_bank",
        table_name="templates",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("templates")
    op.drop_table("source_cursors")
    op.drop_index(
        "uq_shooter_devices_live_device_id",
        table_name="shooter_devices",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_shooter_devices_live_trusted",
        table_name="shooter_devices",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("shooter_devices")
    op.drop_index(
        "uq_pushbullet_accounts_live_token",
        table_name="pushbullet_accounts",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_pushbullet_accounts_live_id",
        table_name="pushbullet_accounts",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("pushbullet_accounts")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")


TRGM_INDEXES = {"ix_sms_trgm_search_text": "search_text"}


def _create_extras() -> None:
    """What autogenerate cannot describe: the audit trigger, the outbox wake-up, trigram search."""
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
        """
    )
    # The relay is woken by the commit: NOTIFY is delivered only when the transaction commits.
    op.execute(
        """
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('recon_outbox', NEW.id::text);
            RETURN NEW;
        END $$;
        CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
            FOR EACH ROW EXECUTE FUNCTION outbox_notify();
        """
    )
    # Keyword search: a trigram index on sms.search_text where pg_trgm is available (Debian's
    # PostgreSQL has it, the embedded pgserver does not); without it the keyword filter still
    # works, unindexed.
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).first()
    if available is None:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRGM_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON sms USING gin ({column} gin_trgm_ops)")


def _drop_extras() -> None:
    for name in TRGM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
