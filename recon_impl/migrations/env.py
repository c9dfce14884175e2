"""Alembic environment: online migrations only, with lock and statement timeouts."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from recon_impl.storage.db import sqlalchemy_url
from recon_impl.storage.migrate import include_object
from recon_impl.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set RECON_DATABASE_URL or pass database_url to the Alembic config")
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SET lock_timeout = '5s'"))
        connection.execute(text("SET statement_timeout = '120s'"))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
            compare_server_default=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
