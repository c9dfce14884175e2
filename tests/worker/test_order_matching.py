"""The SMS pipeline loops on real PostgreSQL and Redis and a real wallet double, in real time:
order_matching (decide, follow the wallet), the catalog watchers and compensation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import psycopg
import pytest
import trio
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.doubles.wallet_state import WalletState
from recon_impl.adapters.wallet import WalletReader
from recon_impl.services.catalog import create_whitelist_entry, delete_whitelist_entry
from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.services.sms import review_sms, start_approval
from recon_impl.services.templates import create_template
from recon_impl.settings import Settings
from recon_impl.storage.models import AuditLog
from recon_worker.context import Beat, WorkerContext
from recon_worker.loops.compensation import Retry, compensation
from recon_worker.loops.processing import order_matching, template_parsing, whitelist_validation
from recon_worker.outbox import SMS_TOPIC

ADMIN = Actor("alice")
TEMPLATE = {
    "bank_code": "VCB",
    "sender": "VCB",
    "content": "TK {card} +{amount}VND tu {name}. Ref {ref}",
    "type": 1,
    "decimal_sep": ".",
}


@pytest.fixture
def wallet(fresh_wallet: tuple[str, WalletState]) -> tuple[str, WalletState]:
    return fresh_wallet


@pytest.fixture
def ctx(
    worker_settings: Settings, wallet: tuple[str, WalletState], make_ctx: Callable[[str], WorkerContext]
) -> WorkerContext:
    settings = worker_settings.model_copy(
        update={"wallet_url": wallet[0], "order_sync_interval_s": 0.2, "approval_settle_after_s": 0.0}
    )
    context = make_ctx("test-matching")
    context.settings = settings
    return context


def sms_text(amount: str, name: str = "NGUYEN VAN A", ref: str = "FT1") -> str:
    return f"TK ****6789 +{amount}VND tu {name}. Ref {ref}"


def store(
    session: Session, content: str, *, source_id: str, sender: str = "VCB", at: datetime | None = None
) -> int:
    item = Incoming(
        source="telegram",
        source_id=source_id,
        device_id="-1001",
        sender=sender,
        content=content,
        received_at=at or datetime.now(UTC),
    )
    return store_incoming(session, Actor("test"), [item]).new_ids[0]


def with_catalog(session: Session, *, whitelist: bool = True, template: bool = True) -> None:
    if whitelist:
        create_whitelist_entry(session, ADMIN, {"phone": "VCB", "bank_code": "VCB"})
    if template:
        create_template(session, ADMIN, dict(TEMPLATE), "Asia/Ho_Chi_Minh")


def row(db: psycopg.Connection[Any], sms_id: int) -> dict[str, Any]:
    cur = db.execute(
        "SELECT status, reason, order_id, candidates, amount::text, payer_name FROM sms WHERE id = %s",
        (sms_id,),
    )
    status, reason, order_id, candidates, amount, payer = cur.fetchone() or (None,) * 6
    return {
        "status": status,
        "reason": reason,
        "order_id": order_id,
        "candidates": candidates,
        "amount": amount,
        "payer_name": payer,
    }


@pytest.fixture
def db(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        yield conn


async def until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll until ``predicate()`` holds; a deadline, not a speed claim."""
    with trio.fail_after(timeout_s):
        while not predicate():
            await trio.sleep(0.05)


@asynccontextmanager
async def running(ctx: WorkerContext, *loops: Any) -> AsyncIterator[list[Beat]]:
    """Run ``loops`` (LoopFns) until the block ends; yields their beats, after each beat once."""
    beats = [Beat(getattr(loop, "__name__", "loop"), 60.0) for loop in loops]
    async with trio.open_nursery() as nursery:
        for loop, beat in zip(loops, beats, strict=True):
            nursery.start_soon(loop, ctx, beat)
        await until(lambda: all(b.last is not None for b in beats))
        yield beats
        nursery.cancel_scope.cancel()


@pytest.mark.trio
async def test_an_sms_with_one_fitting_order_is_matched_to_it_with_its_candidate(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """A parsed income SMS and one pending order of its amount: status 1, that order, one candidate."""
    wallet[1].add_order("R-1", "1500000", payer_name="Nguyễn Văn A")
    wallet[1].add_order("R-2", "99000")
    await ctx.db(with_catalog)
    async with running(ctx, order_matching):
        sms_id = await ctx.db(partial(store, content=sms_text("1,500,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 1)
    got = row(db, sms_id)
    assert got["order_id"] == "R-1"
    assert got["amount"] == "1500000.00"
    assert got["payer_name"] == "NGUYEN VAN A"
    assert [c["order_id"] for c in got["candidates"]] == ["R-1"]


@pytest.mark.trio
async def test_two_orders_of_the_same_amount_send_the_sms_to_a_person_as_ambiguous(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """No card tail or name tells two equal orders apart: need_check ``ambiguous``, both ranked."""
    wallet[1].add_order("R-1", "500000")
    wallet[1].add_order("R-2", "500000")
    await ctx.db(with_catalog)
    async with running(ctx, order_matching):
        sms_id = await ctx.db(partial(store, content=sms_text("500,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 2)
    got = row(db, sms_id)
    assert got["reason"] == "ambiguous"
    assert sorted(c["order_id"] for c in got["candidates"]) == ["R-1", "R-2"]


@pytest.mark.trio
async def test_an_sms_before_its_order_waits_unmatched_and_is_matched_when_the_order_arrives(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """Status 6 while no order fits; the wallet's new order is picked up by the feed and matched."""
    await ctx.db(with_catalog)
    async with running(ctx, order_matching):
        sms_id = await ctx.db(partial(store, content=sms_text("750,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 6)
        wallet[1].add_order("R-late", "750000")
        await until(lambda: row(db, sms_id)["status"] == 1)
    assert row(db, sms_id)["order_id"] == "R-late"


@pytest.mark.trio
async def test_an_order_cancelled_in_the_wallet_sends_its_matched_sms_to_a_person(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """Closed elsewhere while held by a status-1 SMS: status 2 with reason ``order_closed``."""
    wallet[1].add_order("R-1", "120000")
    await ctx.db(with_catalog)
    async with running(ctx, order_matching):
        sms_id = await ctx.db(partial(store, content=sms_text("120,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 1)
        wallet[1].cancel("R-1")
        await until(lambda: row(db, sms_id)["status"] == 2)
    assert row(db, sms_id)["reason"] == "order_closed"


@pytest.mark.trio
async def test_a_worker_that_starts_after_an_order_closed_releases_the_sms_holding_it(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """The first (pending-only) pass cannot see a closed order: held SMS are checked against it."""
    wallet[1].add_order("R-1", "120000")
    await ctx.db(with_catalog)
    async with running(ctx, order_matching):
        sms_id = await ctx.db(partial(store, content=sms_text("120,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 1)
    wallet[1].expire("R-1")
    ctx.orders.book.fresh = False  # a restarted worker knows no orders yet
    ctx.orders.cursor = ""
    async with running(ctx, order_matching):
        await until(lambda: row(db, sms_id)["status"] == 2)
    assert row(db, sms_id)["reason"] == "order_closed"


@pytest.mark.trio
async def test_while_the_wallet_is_down_sms_wait_unmatched_and_never_expire_on_no_view(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """No trustworthy order view: status 6, not need_check; matched once the wallet answers."""
    wallet[1].down = True
    wallet[1].add_order("R-1", "300000")
    await ctx.db(with_catalog)
    old = datetime.now(UTC) - timedelta(hours=2)  # long past the unmatched expiry
    async with running(ctx, order_matching):
        sms_id = await ctx.db(partial(store, content=sms_text("300,000"), source_id="c:1", at=old))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 6)
        await trio.sleep(0.5)  # a few failed syncs
        assert row(db, sms_id)["status"] == 6
        wallet[1].down = False
    # An SMS received two hours ago matches no order window any more: after recovery it expires.
    async with running(ctx, order_matching, compensation):
        await until(lambda: row(db, sms_id)["status"] == 2)
    assert row(db, sms_id)["reason"] == "no_order"


@pytest.mark.trio
async def test_adding_the_sender_to_the_whitelist_re_decides_its_recently_ignored_sms(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """not_whitelisted before the change; after it, the same SMS is parsed and matched."""
    wallet[1].add_order("R-1", "200000")
    await ctx.db(partial(with_catalog, whitelist=False))
    async with running(ctx, order_matching, partial(whitelist_validation, every_s=0.1)):
        sms_id = await ctx.db(partial(store, content=sms_text("200,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 5)
        assert row(db, sms_id)["reason"] == "not_whitelisted"
        await ctx.db(lambda s: create_whitelist_entry(s, ADMIN, {"phone": "vcb"}))
        await until(lambda: row(db, sms_id)["status"] == 1)
    assert row(db, sms_id)["order_id"] == "R-1"


@pytest.mark.trio
async def test_a_whitelist_removal_requeues_nothing_and_an_unlisted_sender_stays_ignored(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """Only SMS whose sender is now listed go back to the queue."""
    await ctx.db(partial(with_catalog, whitelist=False))
    entry = await ctx.db(lambda s: create_whitelist_entry(s, ADMIN, {"phone": "OTHER"}))
    async with running(ctx, order_matching, partial(whitelist_validation, every_s=0.1)) as beats:
        sms_id = await ctx.db(partial(store, content=sms_text("200,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 5)
        await ctx.db(lambda s: delete_whitelist_entry(s, ADMIN, entry["id"]))
        seen = beats[1].last
        await until(lambda: beats[1].last != seen)
        await until(lambda: beats[1].last != seen)
    decided = await ctx.db(
        lambda s: s.scalar(
            select(AuditLog.id).where(
                AuditLog.entity_id == str(sms_id),
                AuditLog.action == "sms.decide",
                AuditLog.after["status"].astext == "0",
            )
        )
    )
    assert decided is None
    assert row(db, sms_id)["status"] == 5


@pytest.mark.trio
async def test_a_new_template_re_parses_recent_sms_that_no_template_read(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """Money-looking text no template reads is need_check ``no_template``; a template fixes it."""
    wallet[1].add_order("R-1", "640000")
    await ctx.db(partial(with_catalog, template=False))
    async with running(ctx, order_matching, partial(template_parsing, every_s=0.1)):
        sms_id = await ctx.db(partial(store, content=sms_text("640,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 2)
        assert row(db, sms_id)["reason"] == "no_template"
        await ctx.db(lambda s: create_template(s, ADMIN, dict(TEMPLATE), "Asia/Ho_Chi_Minh"))
        await until(lambda: row(db, sms_id)["status"] == 1)
    assert row(db, sms_id)["order_id"] == "R-1"


async def _confirmed_in_flight(ctx: WorkerContext, wallet: WalletState, db: psycopg.Connection[Any]) -> int:
    """An SMS matched to R-1, confirmed by a person, with an approval recorded as in flight."""
    wallet.add_order("R-1", "880000")
    await ctx.db(with_catalog)
    async with running(ctx, order_matching):
        sms_id = await ctx.db(partial(store, content=sms_text("880,000"), source_id="c:1"))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 1)
    reader = WalletReader(ctx.settings.wallet_url, ctx.settings.wallet_token.get_secret_value())
    await ctx.db(lambda s: review_sms(s, ADMIN, reader, sms_id, 1, None, None))
    reader.close()
    await ctx.db(lambda s: start_approval(s, ADMIN, sms_id, "R-1"))
    return sms_id


def approval(db: psycopg.Connection[Any], sms_id: int) -> tuple[int, str | None]:
    cur = db.execute("SELECT status, approval_order_id FROM sms WHERE id = %s", (sms_id,))
    status, order_id = cur.fetchone() or (None, None)
    return int(status), order_id


@pytest.mark.trio
async def test_an_approval_the_wallet_made_but_recon_never_marked_is_settled_as_approved(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """The edge died after the wallet's success: compensation marks the SMS approved, no new credit."""
    sms_id = await _confirmed_in_flight(ctx, wallet[1], db)
    wallet[1].approve("R-1", f"sms-{sms_id}")
    async with running(ctx, partial(compensation, every_s=0.1)):
        await until(lambda: approval(db, sms_id) == (3, None))
    assert len(wallet[1].approvals) == 1


@pytest.mark.trio
async def test_an_approval_the_wallet_never_made_is_cleared_so_a_person_can_approve_again(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """The order is still pending in the wallet: the in-flight record goes, the SMS stays confirmed."""
    sms_id = await _confirmed_in_flight(ctx, wallet[1], db)
    async with running(ctx, partial(compensation, every_s=0.1)):
        await until(lambda: approval(db, sms_id) == (1, None))
    assert wallet[1].approvals == []


@pytest.mark.trio
async def test_an_approval_whose_order_was_cancelled_goes_to_a_person_as_order_closed(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """Cancelled in the wallet while the approval was in flight: need_check ``order_closed``."""
    sms_id = await _confirmed_in_flight(ctx, wallet[1], db)
    wallet[1].cancel("R-1")
    async with running(ctx, partial(compensation, every_s=0.1)):
        await until(lambda: approval(db, sms_id) == (2, None))
    assert row(db, sms_id)["reason"] == "order_closed"


@pytest.mark.trio
async def test_a_failed_decision_is_retried_after_its_backoff(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """need_check ``processing_error`` goes back to the queue once its backoff ran out."""
    wallet[1].add_order("R-1", "410000")
    await ctx.db(with_catalog)
    sms_id = await ctx.db(partial(store, content=sms_text("410,000"), source_id="c:1"))
    db.execute(
        "UPDATE sms SET status = 2, reason = 'processing_error', updated_at = now() - interval '1 hour'"
        " WHERE id = %s",
        (sms_id,),
    )
    db.execute(
        "INSERT INTO audit_log (actor, action, entity, entity_id, after)"
        " VALUES ('recon_worker', 'sms.decide', 'sms', %s, '{\"status\": 2, \"reason\": \"processing_error\"}')",
        (str(sms_id),),
    )
    retry = Retry(base_s=60.0, attempts=3)
    async with running(ctx, order_matching, partial(compensation, every_s=0.1, retry=retry)):
        await until(lambda: row(db, sms_id)["status"] == 1)


@pytest.mark.trio
async def test_two_workers_on_one_database_decide_every_sms_exactly_once(
    worker_settings: Settings,
    wallet: tuple[str, WalletState],
    make_ctx: Callable[[str], WorkerContext],
    db: psycopg.Connection[Any],
) -> None:
    """Claims skip locked rows: 400 SMS, two replicas, one decision (audit row) per SMS."""
    settings = worker_settings.model_copy(update={"wallet_url": wallet[0], "order_sync_interval_s": 0.2})
    first, second = make_ctx("replica-a"), make_ctx("replica-b")
    first.settings = second.settings = settings
    for n in range(200):
        wallet[1].add_order(f"R-{n}", str(100000 + n))
    await first.db(with_catalog)

    def fill(session: Session) -> None:
        items = [
            Incoming(
                "telegram",
                f"c:{n}",
                "-1001",
                "VCB",
                sms_text(f"{100000 + n % 250:,}", ref=f"F{n}"),
                datetime.now(UTC),
            )
            for n in range(400)
        ]
        store_incoming(session, Actor("test"), items)

    async with (
        running(first, partial(order_matching, batch=50)),
        running(second, partial(order_matching, batch=50)),
    ):
        await first.db(fill)
        first.wake(SMS_TOPIC)
        second.wake(SMS_TOPIC)
        await until(lambda: db.execute("SELECT count(*) FROM sms WHERE status = 0").fetchone() == (0,), 30)
    per_sms = db.execute(
        "SELECT entity_id, count(*) FROM audit_log WHERE action = 'sms.decide' GROUP BY entity_id"
    ).fetchall()
    assert len(per_sms) == 400
    assert {count for _, count in per_sms} == {1}
    holders = db.execute(
        "SELECT order_id, count(*) FROM sms WHERE status IN (1, 3) GROUP BY order_id HAVING count(*) > 1"
    ).fetchall()
    assert holders == []


@pytest.mark.trio
async def test_sms_a_phone_sent_before_it_was_trusted_are_parsed_then_sent_to_a_person_as_pre_trust(
    ctx: WorkerContext, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """Held while untrusted; after trust they are parsed (amount read) but never matched."""
    from recon_impl.security import SecretBox
    from recon_impl.services.devices import live_device, register, report_sms, set_trust

    wallet[1].add_order("R-1", "330000")
    await ctx.db(with_catalog)
    box = SecretBox([k.get_secret_value() for k in ctx.settings.secret_keys])
    body = {"device_id": "phone-a", "name": "p", "phone": "849", "app_version": "1"}
    await ctx.db(lambda s: register(s, box, body))

    def send(session: Session) -> None:
        phone = live_device(session, "phone-a")
        assert phone is not None
        now = int(datetime.now(UTC).timestamp())
        report_sms(
            session, phone, [{"seq": 1, "sender": "VCB", "content": sms_text("330,000"), "received_at": now}]
        )

    await ctx.db(send)
    sms_id = int(db.execute("SELECT id FROM sms WHERE source = 'shooter'").fetchone()[0])  # type: ignore[index]
    async with running(ctx, order_matching):
        ctx.wake(SMS_TOPIC)
        await trio.sleep(0.5)
        assert row(db, sms_id)["status"] == 0  # held back: the phone is not trusted
        phone_pk = int(db.execute("SELECT id FROM shooter_devices").fetchone()[0])  # type: ignore[index]
        await ctx.db(lambda s: set_trust(s, ADMIN, phone_pk, 1, 180))
        ctx.wake(SMS_TOPIC)
        await until(lambda: row(db, sms_id)["status"] == 2)
    got = row(db, sms_id)
    assert got["reason"] == "pre_trust"
    assert got["amount"] == "330000.00"
    assert got["order_id"] is None
