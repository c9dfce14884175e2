"""Two real ``python -m recon_worker`` processes on one database (real PostgreSQL and Redis, the
wallet and Telegram doubles on loopback, real time): splittable work is decided once, and a fleet
singleton runs in one process and moves to the other when its holder is killed.

Every wait is a deadline, not a speed claim. Each worker logs to a file (a pipe nobody reads would
fill up and block it); the log tails are printed when an assertion fails, and every process is
killed when the test ends, however it ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.orm import Session

from infra.doubles.serving import serve_in_thread
from infra.doubles.telegram import create_app as create_telegram
from infra.doubles.telegram_state import TelegramState
from infra.doubles.wallet_state import WalletState
from recon_impl.services.catalog import create_whitelist_entry
from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.services.templates import create_template
from recon_impl.settings import Settings
from recon_impl.storage.db import make_engine, make_session_factory, transaction
from testkit import ROOT

LEASE_S = 3.0
# After a SIGKILL the lease expires at most LEASE_S after its last renewal, and the standby asks
# again every LEASE_S / 3 at most; the rest is room for two busy cores.
TAKEOVER_DEADLINE_S = LEASE_S + LEASE_S / 3 + 2.0
CHANNEL = -1_001_234_567_890
BACKLOG = 300
ADMIN = Actor("alice")
TEMPLATE = {
    "bank_code": "VCB",
    "sender": "VCB",
    "content": "TK {card} +{amount}VND tu {name}. Ref {ref}",
    "type": 1,
    "decimal_sep": ".",
}


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.1) -> float:
    """Poll until ``predicate()`` holds; return the seconds it took, fail after ``timeout_s``."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"not within {timeout_s:.1f}s: {what}")
        time.sleep(poll_s)
    return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- the worker processes ----------------------------------------------------------------------


@dataclass
class Replica:
    """One ``python -m recon_worker`` process and where to look at it."""

    worker_id: str
    proc: subprocess.Popen[bytes]
    health_url: str
    log: Path

    def health(self) -> dict[str, Any] | None:
        """The worker's ``GET /health`` report (200 or 503 alike); None while it does not answer."""
        try:
            report: dict[str, Any] = httpx.get(self.health_url, timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return None
        return report

    def owned(self) -> set[str]:
        report = self.health() or {}
        return {loop["name"] for loop in report.get("loops", [])}

    def beaten(self, loop: str) -> bool:
        report = self.health() or {}
        return any(entry["name"] == loop and entry["age_s"] is not None for entry in report.get("loops", []))

    def standby(self) -> set[str]:
        return set((self.health() or {}).get("standby", []))

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.worker_id} (exit {self.proc.poll()}) ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class Fleet:
    settings: Settings
    workdir: Path
    env: dict[str, str]
    replicas: list[Replica]

    def start(self, worker_id: str, loops: str) -> Replica:
        port = free_port()
        env = {
            **self.env,
            "RECON_WORKER_ID": worker_id,
            "RECON_WORKER_HEALTH_PORT": str(port),
        }
        log = self.workdir / f"{worker_id}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "recon_worker", "--loops", loops],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        replica = Replica(worker_id, proc, f"http://127.0.0.1:{port}/health", log)
        self.replicas.append(replica)
        return replica

    def wait(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
        """``wait_until``, with the workers' log tails in the failure."""
        try:
            return wait_until(predicate, timeout_s, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    def wait_serving(self, *replicas: Replica) -> None:
        for replica in replicas:
            self.wait(partial(_answers_or_exited, replica), 30, f"{replica.worker_id} serves /health")
            assert replica.proc.poll() is None, self.logs()

    def logs(self) -> str:
        return "\n".join(replica.tail() for replica in self.replicas)


def _answers_or_exited(replica: Replica) -> bool:
    return replica.proc.poll() is not None or replica.health() is not None


@pytest.fixture
def wallet(fresh_wallet: tuple[str, WalletState]) -> tuple[str, WalletState]:
    return fresh_wallet


@pytest.fixture
def telegram() -> Iterator[tuple[str, TelegramState]]:
    state = TelegramState()
    state.add_chat(CHANNEL, chat_type="channel", title="Bank SMS")
    root, stop = serve_in_thread(create_telegram(state))
    yield root, state
    stop()


@pytest.fixture
def fleet(
    settings: Settings,
    wallet: tuple[str, WalletState],
    telegram: tuple[str, TelegramState],
    tmp_path: Path,
) -> Iterator[Fleet]:
    """Start worker processes on the test stores and the doubles; every one is killed at the end."""
    assert settings.database_url and settings.redis_url
    base = {key: value for key, value in os.environ.items() if not key.startswith("RECON_")}
    env = {
        **base,
        "RECON_DATABASE_URL": settings.database_url,
        "RECON_REDIS_URL": settings.redis_url,
        "RECON_WALLET_URL": wallet[0],
        "RECON_ORDER_SYNC_INTERVAL_S": "0.5",
        "RECON_TELEGRAM_API_URL": telegram[0],
        "RECON_TELEGRAM_BOT_TOKEN": telegram[1].token,
        "RECON_TELEGRAM_CHAT_IDS": str(CHANNEL),
        "RECON_TELEGRAM_POLL_TIMEOUT_S": "1",
        "RECON_WORKER_LEASE_S": str(LEASE_S),
        "RECON_WORKER_HEALTH_PUBLISH_S": "1",
        "RECON_WORKER_GRACE_S": "3",
        "RECON_DB_POOL_SIZE": "3",
    }
    started = Fleet(settings, tmp_path, env, [])
    try:
        yield started
    finally:
        for replica in started.replicas:
            if replica.proc.poll() is None:
                replica.proc.kill()
            replica.proc.wait(timeout=10)


def count(db: psycopg.Connection[Any], sql: str, *params: object) -> int:
    row = db.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


# -- splittable work: order_matching in both --------------------------------------------------


def sms_text(n: int) -> str:
    return f"TK ****6789 +{100_000 + n:,}VND tu NGUYEN VAN A. Ref FT{n}"


def test_two_worker_processes_decide_a_backlog_of_sms_exactly_once(
    fleet: Fleet, wallet: tuple[str, WalletState], db: psycopg.Connection[Any]
) -> None:
    """Two processes running order_matching (woken by the same NOTIFYs) give every SMS of a
    300-SMS backlog one ``sms.decide`` audit row, each its own order, no order held twice."""
    for n in range(BACKLOG):
        wallet[1].add_order(f"R-{n}", str(100_000 + n))
    assert fleet.settings.database_url
    engine = make_engine(fleet.settings.database_url, pool_size=1)
    sessions = make_session_factory(engine)
    try:
        with transaction(sessions) as session:
            create_whitelist_entry(session, ADMIN, {"phone": "VCB", "bank_code": "VCB"})
            create_template(session, ADMIN, dict(TEMPLATE), "Asia/Ho_Chi_Minh")
        a = fleet.start("replica-a", "order_matching,outbox_listener")
        b = fleet.start("replica-b", "order_matching,outbox_listener")
        fleet.wait_serving(a, b)
        # Both have read the wallet's orders and finished a first (empty) round.
        fleet.wait(lambda: a.beaten("order_matching") and b.beaten("order_matching"), 30, "first rounds")

        def fill(session: Session, first: int) -> None:
            items = [
                Incoming("telegram", f"{CHANNEL}:{n}", str(CHANNEL), "VCB", sms_text(n), datetime.now(UTC))
                for n in range(first, first + 50)
            ]
            store_incoming(session, Actor("test"), items)

        for first in range(0, BACKLOG, 50):  # six commits, six notifications both processes hear
            with transaction(sessions) as session:
                fill(session, first)
            time.sleep(0.05)
        fleet.wait(lambda: count(db, "SELECT count(*) FROM sms WHERE status = 0") == 0, 30, "backlog drained")
    finally:
        engine.dispose()

    per_sms = db.execute(
        "SELECT entity_id, count(*) FROM audit_log WHERE action = 'sms.decide' GROUP BY entity_id"
    ).fetchall()
    assert len(per_sms) == BACKLOG, fleet.logs()
    assert {n for _, n in per_sms} == {1}
    assert db.execute("SELECT status, count(*) FROM sms GROUP BY status").fetchall() == [(1, BACKLOG)]
    assert count(db, "SELECT count(DISTINCT order_id) FROM sms WHERE status = 1") == BACKLOG
    for replica in (a, b):  # both stayed up and kept their loops fresh the whole time
        report = replica.health()
        assert replica.proc.poll() is None and report is not None and report["healthy"], fleet.logs()
        assert {"order_matching", "outbox_listener"} <= replica.owned()


# -- a fleet singleton: telegram_ingest under a lease ------------------------------------------


def lease_row(db: psycopg.Connection[Any]) -> tuple[str | None, int, datetime, datetime] | None:
    row = db.execute(
        "SELECT holder, token, acquired_at, expires_at FROM worker_leases WHERE name = 'telegram_ingest'"
    ).fetchone()
    return None if row is None else (row[0], int(row[1]), row[2], row[3])


def telegram_sms(db: psycopg.Connection[Any]) -> list[str]:
    rows = db.execute("SELECT source_id FROM sms WHERE source = 'telegram' ORDER BY id").fetchall()
    return [str(row[0]) for row in rows]


def test_a_leased_loop_runs_in_one_process_and_moves_to_the_other_when_its_holder_is_killed(
    fleet: Fleet, telegram: tuple[str, TelegramState], db: psycopg.Connection[Any]
) -> None:
    """telegram_ingest runs in exactly one of two processes; after a SIGKILL of that one the other
    takes the lease (higher token, only once it expired) within the lease time plus a margin and
    stores the next post, each post once."""
    state = telegram[1]
    a = fleet.start("replica-a", "telegram_ingest")
    b = fleet.start("replica-b", "telegram_ingest")
    fleet.wait_serving(a, b)
    by_id = {a.worker_id: a, b.worker_id: b}
    fleet.wait(lambda: (lease_row(db) or (None,))[0] in by_id, 30, "a holder for telegram_ingest")
    first_lease = lease_row(db)
    assert first_lease is not None
    holder = by_id[str(first_lease[0])]
    other = b if holder is a else a
    fleet.wait(lambda: "telegram_ingest" in holder.owned(), 10, "the holder reports the loop")
    fleet.wait(lambda: "telegram_ingest" in other.standby(), 10, "the other reports it on standby")

    state.post(CHANNEL, "VCB\nTK ****6789 +100,000VND tu NGUYEN VAN A. Ref FT1")
    fleet.wait(lambda: len(telegram_sms(db)) == 1, 15, "the first post stored")
    for _ in range(5):  # and it stays that way: one runner, one holder
        assert "telegram_ingest" in holder.owned() and "telegram_ingest" not in other.owned()
        assert "telegram_ingest" in other.standby()
        assert (lease_row(db) or (None,))[0] == holder.worker_id
        time.sleep(0.2)

    holder.proc.send_signal(signal.SIGKILL)
    holder.proc.wait(timeout=10)
    dead_lease = lease_row(db)  # as the dead holder last renewed it: nothing can extend it now
    assert dead_lease is not None and dead_lease[0] == holder.worker_id
    took = fleet.wait(
        lambda: (lease_row(db) or (None,))[0] == other.worker_id, TAKEOVER_DEADLINE_S, "the takeover"
    )
    taken = lease_row(db)
    assert taken is not None
    assert taken[1] > dead_lease[1], (dead_lease, taken)  # a higher fencing token
    assert taken[2] >= dead_lease[3], (dead_lease, taken)  # not before the dead holder's lease ended
    assert took <= TAKEOVER_DEADLINE_S
    fleet.wait(lambda: "telegram_ingest" in other.owned(), 10, "the new holder reports the loop")

    state.post(CHANNEL, "VCB\nTK ****6789 +200,000VND tu NGUYEN VAN B. Ref FT2")
    fleet.wait(lambda: len(telegram_sms(db)) == 2, 15, "the post after the takeover stored")
    time.sleep(1.5)  # room for a second delivery to show up
    assert telegram_sms(db) == [f"{CHANNEL}:1", f"{CHANNEL}:2"]
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = 'sms.receive'") == 2
    assert not state.pending()  # both confirmed at the double
    assert other.proc.poll() is None, fleet.logs()
