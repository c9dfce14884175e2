"""The storage schema: models and migrations agree; the database enforces the invariants."""

from __future__ import annotations

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from recon_impl.storage.db import sqlalchemy_url
from recon_impl.storage.migrate import include_object
from recon_impl.storage.models import Base


def test_models_and_migrations_agree(stores):
    engine = create_engine(sqlalchemy_url(stores[0]))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": include_object, "compare_type": True, "compare_server_default": True},
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_downgrade_to_base_and_upgrade_again(stores):
    from recon_impl.storage.migrate import downgrade, upgrade
    from testkit import drop_database, fresh_database

    url = fresh_database(stores[0], prefix="recon_scratch")
    try:
        upgrade(url)
        downgrade(url, "base")
        upgrade(url)
    finally:
        drop_database(url)


def test_the_audit_log_refuses_update_and_delete(db):
    db.execute("INSERT INTO audit_log (actor, action, entity, entity_id) VALUES ('a', 'x', 'sms', '1')")
    for statement in ("UPDATE audit_log SET actor = 'b'", "DELETE FROM audit_log"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            db.execute(statement)
    assert db.execute("SELECT actor FROM audit_log").fetchone() == ("a",)


def test_amounts_are_numeric_and_times_are_timezone_aware(db):
    types = dict(
        db.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'sms'"
        ).fetchall()
    )
    assert types["amount"] == types["balance"] == "numeric"
    for column in ("received_at", "bank_time", "check_at", "created_at", "approved_at"):
        assert types[column] == "timestamp with time zone", column


def test_every_sms_list_filter_has_an_index(db):
    indexed = {
        row[0]
        for row in db.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = i.indkey[0] WHERE i.indrelid = 'sms'::regclass"
        )
    }
    assert {"status", "source", "received_at", "amount", "id"} <= indexed


def test_a_source_id_is_stored_once(db):
    row = ("shooter", "1:1", 0, "d", "VCB", "VCB", "x")
    insert = (
        "INSERT INTO sms (source, source_id, copy_no, device_id, sender, sender_norm, content,"
        " received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, now())"
    )
    db.execute(insert, row)
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(insert, row)
