"""Channel ingest (``store_incoming``) on real PostgreSQL: idempotent, journalled, any batch size."""

from __future__ import annotations

from datetime import UTC, datetime

from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.storage.db import make_engine, make_session_factory, transaction


def items(n: int, start: int = 0) -> list[Incoming]:
    now = datetime.now(UTC)
    return [Incoming("pushbullet", f"dev:318:{i}", "dev", "VCB", f"sms {i}", now) for i in range(start, start + n)]


def test_a_batch_larger_than_one_statement_can_carry_is_stored_whole_with_one_audit_row_each(settings, db):
    """6,000 SMS (84,000 values, over PostgreSQL's 65,535 parameters) in one call: all stored once."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        with transaction(sessions) as session:
            first = store_incoming(session, Actor("test"), items(6000))
        with transaction(sessions) as session:
            again = store_incoming(session, Actor("test"), items(6001))
    finally:
        engine.dispose()
    assert len(first.new_ids) == 6000 and first.duplicates == 0
    assert len(again.new_ids) == 1 and again.duplicates == 6000
    assert db.execute("SELECT count(*) FROM sms").fetchone() == (6001,)
    receipts = db.execute("SELECT count(*), count(DISTINCT entity_id) FROM audit_log WHERE action = 'sms.receive'")
    assert receipts.fetchone() == (6001, 6001)
    assert db.execute("SELECT count(*) FROM outbox").fetchone() == (2,)
