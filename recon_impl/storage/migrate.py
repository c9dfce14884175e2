"""Apply Alembic migrations from code (run command, tests, ``python -m recon_impl.storage.migrate``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


# Indexes that exist only where the pg_trgm extension does; the models do not describe them.
OPTIONAL_INDEX_PREFIX = "ix_sms_trgm_"


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave the optional trigram indexes out of model/migration comparisons."""
    return not (type_ == "index" and name is not None and name.startswith(OPTIONAL_INDEX_PREFIX))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "file_template",
        "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(slug)s",
    )
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


if __name__ == "__main__":  # pragma: no cover - operator entry point
    url = os.environ.get("RECON_DATABASE_URL")
    if not url:
        sys.exit("RECON_DATABASE_URL is not set")
    upgrade(url, sys.argv[1] if len(sys.argv) > 1 else "head")
