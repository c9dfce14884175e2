"""decision columns: balance-chain account, copy link, new-work queue index

Revision ID: 20261203_0002
Revises: 20261203_0001
Create Date: 2026-12-03 21:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0002"
down_revision: str | None = "20261203_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sms", sa.Column("account", sa.String(length=100), nullable=True))
    op.add_column("sms", sa.Column("copy_of", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_sms_copy_of_sms"), "sms", "sms", ["copy_of"], ["id"])
    op.create_index(
        "ix_sms_account_chain",
        "sms",
        ["account", "received_at", "id"],
        unique=False,
        postgresql_where=sa.text("account IS NOT NULL AND balance IS NOT NULL AND copy_of IS NULL"),
    )
    op.create_index(
        "ix_sms_new", "sms", ["id"], unique=False, postgresql_where=sa.text("status = 0 AND held = false")
    )


def downgrade() -> None:
    op.drop_index("ix_sms_new", table_name="sms")
    op.drop_index("ix_sms_account_chain", table_name="sms")
    op.drop_constraint(op.f("fk_sms_copy_of_sms"), "sms", type_="foreignkey")
    op.drop_column("sms", "copy_of")
    op.drop_column("sms", "account")
