"""Benchmark of the SMS list (``GET /sms``): page and page+total times at 1,000,000 rows.

Creates its own database (``recon_bench`` by default: dropped and created again), applies the
Alembic migrations, fills ``sms`` with realistic rows in one ``INSERT ... SELECT
generate_series`` (the secondary indexes are dropped for the load and rebuilt from their own
definitions), then VACUUM ANALYZE. Each case runs the real code over an engine made by
``recon_impl.storage.db.make_engine`` as the service makes it:

* page: ``sms.fetch_page`` -- what ``list_sms`` runs to find the page (the LIMIT/OFFSET of
  ``filtered_query``; for a time range or a keyword first a probe of the newest rows, then a
  search through the filter's indexes when the probe cannot fill the page);
* page+total: ``sms.list_sms`` -- the page, then ``paginate``'s exact ``count(*)`` when the
  page did not already give the total.

The plans column shows EXPLAIN (ANALYZE, BUFFERS off) of every statement one ``list_sms`` call
sent, in order, reduced to the nodes under the Limit/Aggregate on top.

    .venv/bin/python benchmarks/sms_list.py                # fill 1,000,000 rows and measure
    .venv/bin/python benchmarks/sms_list.py --keep         # reuse the filled database
    .venv/bin/python benchmarks/sms_list.py --rows 200000 --database-url postgresql://...

Targets (2 cores): a page under 20 ms; page plus total under 50 ms when at most 50,000 rows
match, under 250 ms in the worst case. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from recon_impl.services.sms import SmsFilter, fetch_page, list_sms
from recon_impl.storage.db import make_engine
from recon_impl.storage.migrate import upgrade

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGE_TARGET_MS = 20.0
TOTAL_TARGET_SMALL_MS = 50.0  # page + total when at most SMALL_MATCH rows match
TOTAL_TARGET_WORST_MS = 250.0
SMALL_MATCH = 50_000
DAYS = 180
# The data ends here (fixed, so every run of the benchmark measures the same data).
END = datetime(2026, 12, 1, tzinfo=UTC)
START = END - timedelta(days=DAYS)
RARE_NAME = "Tran Van Hung"
COMMON_WORD = "VND"
AMOUNT = "1500000"


# --------------------------------------------------------------------------------------------
# database set-up


def server_url(cli_url: str | None) -> str:
    return cli_url or os.environ.get("RECON_DATABASE_URL") or DEFAULT_SERVER


def with_database(url: str, name: str) -> str:
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_exists(admin_url: str, name: str) -> bool:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def sms_count(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('sms') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        result = conn.execute("SELECT count(*) FROM sms").fetchone()
        return int(result[0]) if result else 0


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


SURNAMES = (
    # Rough frequencies of Vietnamese family names, repeated to weight the pick.
    ["NGUYEN"] * 38
    + ["TRAN"] * 11
    + ["LE"] * 9
    + ["PHAM"] * 7
    + ["HOANG"] * 4
    + ["HUYNH"] * 4
    + ["PHAN"] * 3
    + ["VU"] * 3
    + ["VO"] * 3
    + ["DANG"] * 2
    + ["BUI"] * 2
    + ["DO"] * 2
    + ["HO", "NGO", "DUONG", "LY", "TRINH", "DINH", "LAM", "MAI", "TRUONG", "CAO"]
)
MIDDLES = (
    ["VAN"] * 6
    + ["THI"] * 6
    + ["MINH"] * 2
    + ["DUC"] * 2
    + ["THANH"] * 2
    + ["NGOC"] * 2
    + ["QUOC", "HOANG", "HUU", "XUAN", "ANH", "KIM", "GIA", "BAO", "TUAN", "HAI", "DINH", "CONG"]
)
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
    "QUYEN",
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
# Popular transfer amounts (VND), most used first; the rest of the amounts are random.
POPULAR_AMOUNTS = [
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
    4_000_000,
    20_000_000,
    350_000,
    450_000,
    900_000,
    1_200_000,
    7_000_000,
    120_000,
    6_000_000,
    8_000_000,
    15_000_000,
    30_000_000,
    1_800_000,
    3_500_000,
    50_000_000,
    9_000_000,
    12_000_000,
] + [v * 10_000 for v in range(1, 100) if v * 10_000 not in (50_000, 100_000, 150_000)]
# The shop's receiving accounts: (bank sender, account number).
ACCOUNTS = [
    ("VCB", "0071000123456"),
    ("VCB", "0451000987654"),
    ("VCB", "1012345678"),
    ("TCB", "19034567890123"),
    ("TCB", "19036677889900"),
    ("MBBANK", "0123456789"),
    ("MBBANK", "9704229988776"),
    ("MBBANK", "0868123456"),
    ("ACB", "24681357"),
    ("ACB", "13572468"),
    ("BIDV", "21510003456789"),
    ("VPBANK", "188123456"),
]


def fill_sql(rows: int) -> str:
    """One INSERT ... SELECT generating ``rows`` SMS, oldest first (ids grow with time)."""
    span = DAYS * 86400
    amounts = "ARRAY[" + ", ".join(str(a) for a in POPULAR_AMOUNTS) + "]::numeric[]"
    senders = _sql_array([a[0] for a in ACCOUNTS])
    accts = _sql_array([a[1] for a in ACCOUNTS])
    return f"""
    INSERT INTO sms (
        id, source, source_id, copy_no, device_id, shooter_device_id, pushbullet_account_id,
        seq, sim_slot, sender, sender_norm, content, received_at, amount, balance, card_tail,
        payer_name, ref, bank_time, fingerprint, status, reason, candidates, held, pre_trust,
        order_id, check_status, check_admin, check_at, remark, approved_at, created_at,
        updated_at)
    SELECT
        id, source,
        CASE source
            WHEN 'shooter' THEN 'shooter-' || (1 + id % 12) || ':' || (id / 12)
            WHEN 'pushbullet' THEN 'ujx' || substr(md5(id::text), 1, 19)
            ELSE '-100' || (1712345678 + id % 3) || ':' || id
        END,
        0,
        CASE source
            WHEN 'shooter' THEN 'android-' || substr(md5((1 + id % 12)::text), 1, 16)
            WHEN 'pushbullet' THEN 'pb-' || substr(md5('pb' || (1 + id % 6)), 1, 22)
            ELSE 'telegram-bot'
        END,
        CASE WHEN source = 'shooter' THEN 1 + id % 12 END,
        CASE WHEN source = 'pushbullet' THEN 1 + id % 6 END,
        CASE WHEN source = 'shooter' THEN id / 12 END,
        CASE WHEN source = 'shooter' THEN (id % 2)::smallint END,
        sender, upper(sender),
        CASE
            WHEN kind = 'otp' THEN sender || ': Ma OTP cua Quy khach la '
                || lpad((id * 7919 % 1000000)::text, 6, '0')
                || '. Tuyet doi KHONG cung cap ma OTP cho bat ky ai.'
            WHEN kind = 'promo' THEN sender || ': Uu dai hoan tien 10% khi thanh toan QR tai '
                || 'cac cua hang tien loi den het thang. Chi tiet LH 1900 1234.'
            WHEN kind = 'debit' THEN sender || ': TK ' || acct || ' -' || amt_txt || 'VND luc '
                || to_char(received_at, 'DD-MM-YYYY HH24:MI:SS') || '. SD ' || bal_txt
                || 'VND. Ref ' || ref || ' thanh toan hoa don'
            WHEN sender = 'VCB' THEN 'SD TK ' || acct || ' +' || amt_txt || 'VND luc '
                || to_char(received_at, 'DD-MM-YYYY HH24:MI:SS') || '. SD ' || bal_txt
                || 'VND. Ref MBVCB.' || ref || '.' || payer || ' chuyen tien'
            WHEN sender = 'TCB' THEN 'TK ' || acct || E'\\nSo tien GD:+' || amt_txt
                || E'\\nSo du:' || bal_txt || E'\\n' || payer || ' chuyen tien FT' || ref
            WHEN sender = 'MBBANK' THEN 'TK ' || left(acct, 2) || 'xxx' || card_tail || '|GD: +'
                || amt_txt || 'VND ' || to_char(received_at, 'DD/MM/YY HH24:MI') || '|SD: '
                || bal_txt || 'VND|ND: ' || payer || ' chuyen khoan ' || ref
            WHEN sender = 'ACB' THEN 'ACB: TK ' || acct || '(VND) + ' || amt_txt || ' luc '
                || to_char(received_at, 'HH24:MI DD/MM/YYYY') || '. So du ' || bal_txt
                || '. GD: ' || payer || ' CK ' || ref
            WHEN sender = 'BIDV' THEN 'BIDV: ' || to_char(received_at, 'HH24:MI DD/MM/YYYY')
                || ' TK' || acct || ' tai BIDV +' || amt_txt || 'VND; SD: ' || bal_txt
                || 'VND; ND: ' || payer || ' chuyen tien ' || ref
            ELSE 'TK VPBank ' || acct || ' tang ' || amt_txt || 'VND luc '
                || to_char(received_at, 'DD-MM-YY HH24:MI') || '. So du ' || bal_txt
                || 'VND. ND: ' || payer || ' CK ' || ref
        END,
        received_at,
        CASE WHEN kind = 'credit' THEN amt END,
        CASE WHEN kind IN ('credit', 'debit') THEN bal END,
        CASE WHEN kind = 'credit' THEN card_tail END,
        CASE WHEN kind = 'credit' THEN payer END,
        CASE WHEN kind = 'credit' THEN ref END,
        CASE WHEN kind = 'credit' THEN received_at - interval '3 seconds' END,
        CASE WHEN kind = 'credit' THEN md5(acct || amt::text || ref) END,
        status,
        CASE status WHEN 2 THEN 'multiple_orders' WHEN 6 THEN 'no_order'
            WHEN 5 THEN CASE WHEN kind = 'credit' THEN 'not_whitelisted' ELSE 'not_payment' END
        END,
        CASE WHEN status = 2 THEN jsonb_build_array(
            jsonb_build_object('order_id', 'D' || (id * 2), 'amount', amt::text),
            jsonb_build_object('order_id', 'D' || (id * 2 + 1), 'amount', amt::text))
        END,
        false, false,
        CASE WHEN status IN (1, 3) THEN 'D' || lpad(id::text, 10, '0') END,
        CASE status WHEN 4 THEN 2 WHEN 1 THEN (id % 2) ELSE (CASE WHEN status = 3 AND id % 20 = 0
            THEN 1 ELSE 0 END) END,
        CASE WHEN status = 4 OR (status = 3 AND id % 20 = 0) OR (status = 1 AND id % 2 = 1)
            THEN 'admin' || (1 + id % 4) END,
        CASE WHEN status = 4 OR (status = 3 AND id % 20 = 0) OR (status = 1 AND id % 2 = 1)
            THEN received_at + interval '10 minutes' END,
        CASE WHEN status = 4 THEN 'khong co don hang tuong ung' END,
        CASE WHEN status = 3 THEN received_at + interval '20 seconds' END,
        received_at + interval '2 seconds',
        received_at + CASE WHEN status = 0 THEN interval '2 seconds' ELSE interval '30 seconds' END
    FROM (
        SELECT
            c.*,
            CASE
                WHEN id > {rows} - 40 THEN 0                  -- the newest few: not processed yet
                WHEN kind <> 'credit' THEN 5                 -- ignored: not a payment
                WHEN r_status < 0.012 THEN 1                 -- matched, not approved yet
                WHEN r_status < 0.0165 THEN 2                -- needs a person
                WHEN r_status < 0.9 THEN 3                   -- approved
                WHEN r_status < 0.915 THEN 4                 -- rejected
                WHEN r_status < 0.95 THEN 6                  -- no order found
                ELSE 5                                       -- ignored (sender not whitelisted)
            END AS status,
            to_char(amt, 'FM999,999,999,990') AS amt_txt,
            to_char(bal, 'FM999,999,999,990') AS bal_txt
        FROM (
            SELECT
                b.*,
                ({senders})[1 + a] AS sender,
                ({accts})[1 + a] AS acct,
                right(({accts})[1 + a], 4) AS card_tail,
                CASE
                    WHEN r_kind < 0.64 THEN 'credit'
                    WHEN r_kind < 0.90 THEN 'debit'
                    WHEN r_kind < 0.97 THEN 'otp'
                    ELSE 'promo'
                END AS kind,
                CASE WHEN r_amt < 0.7
                    THEN ({amounts})[1 + floor(power(r_amt2, 2.2) * {len(POPULAR_AMOUNTS)})::int]
                    ELSE (10 + floor(power(r_amt2, 3) * 30000)::int) * 1000
                END AS amt,
                (floor(r_bal * 500000) * 1000)::numeric AS bal,
                ({_sql_array(SURNAMES)})[1 + floor(r_n1 * {len(SURNAMES)})::int] || ' '
                    || ({_sql_array(MIDDLES)})[1 + floor(r_n2 * {len(MIDDLES)})::int] || ' '
                    || ({_sql_array(GIVENS)})[1 + floor(r_n3 * {len(GIVENS)})::int] AS payer,
                lpad((id * 104729 % 10000000000)::text, 10, '0') AS ref
            FROM (
                SELECT
                    g AS id,
                    CASE WHEN r_src < 0.6 THEN 'shooter'
                         WHEN r_src < 0.9 THEN 'pushbullet' ELSE 'telegram' END AS source,
                    timestamptz '{START.isoformat()}'
                        + ((g - 1)::float8 * {span} / {rows} + r_jit * 90) * interval '1 second'
                        AS received_at,
                    floor(power(r_acct, 1.5) * {len(ACCOUNTS)})::int AS a,
                    r_kind, r_status, r_amt, r_amt2, r_bal, r_n1, r_n2, r_n3
                FROM (
                    SELECT g, random() AS r_src, random() AS r_jit, random() AS r_acct,
                        random() AS r_kind, random() AS r_status, random() AS r_amt,
                        random() AS r_amt2, random() AS r_bal, random() AS r_n1, random() AS r_n2,
                        random() AS r_n3
                    FROM generate_series(1::bigint, {rows}) AS g
                ) r
            ) b
        ) c
    ) d
    ORDER BY id
    """


def fill(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SELECT setseed(0.42)")
        with conn.transaction():
            conn.execute(
                "INSERT INTO shooter_devices (id, device_id, name, phone, app_version,"
                " secret_ciphertext, trusted, trusted_at)"
                " SELECT i, 'android-' || substr(md5(i::text), 1, 16), 'Shooter ' || i,"
                " '09' || lpad((i * 7654321)::text, 8, '0'), '2.4.1', '\\x00'::bytea, 1, now()"
                " FROM generate_series(1, 12) i"
            )
            conn.execute(
                "INSERT INTO pushbullet_accounts (id, nickname, phone, device_iden,"
                " token_ciphertext, token_fingerprint, token_mask)"
                " SELECT i, 'pb' || i, '09' || lpad((i * 1234567)::text, 8, '0'),"
                " 'pb-' || substr(md5('pb' || i), 1, 22), '\\x00'::bytea, md5('tok' || i),"
                " 'o.****' || i FROM generate_series(1, 6) i"
            )
            # Secondary indexes are rebuilt after the load, from their own definitions.
            indexes = conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() AND tablename = 'sms'"
                " AND indexname <> 'pk_sms'"
            ).fetchall()
            for name, _ in indexes:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            began = time.perf_counter()
            conn.execute(fill_sql(rows))
            print(f"  inserted {rows:,} rows in {time.perf_counter() - began:.1f} s", flush=True)
            began = time.perf_counter()
            for _, definition in indexes:
                conn.execute(definition)
            print(
                f"  rebuilt {len(indexes)} indexes in {time.perf_counter() - began:.1f} s",
                flush=True,
            )
            conn.execute("SELECT setval(pg_get_serial_sequence('sms', 'id'), max(id)) FROM sms")
            conn.execute("SELECT setval(pg_get_serial_sequence('shooter_devices', 'id'), 12)")
            conn.execute("SELECT setval(pg_get_serial_sequence('pushbullet_accounts', 'id'), 6)")
        began = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - began:.1f} s", flush=True)


def describe_data(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        lines = []
        statuses = conn.execute("SELECT status, count(*) FROM sms GROUP BY 1 ORDER BY 1").fetchall()
        lines.append("status: " + ", ".join(f"{s}={n:,}" for s, n in statuses))
        sources = conn.execute("SELECT source, count(*) FROM sms GROUP BY 1 ORDER BY 1").fetchall()
        lines.append("source: " + ", ".join(f"{s}={n:,}" for s, n in sources))
        size = conn.execute(
            "SELECT pg_size_pretty(pg_table_size('sms')), pg_size_pretty(pg_indexes_size('sms')),"
            " min(received_at), max(received_at) FROM sms"
        ).fetchone()
        assert size is not None
        lines.append(
            f"table {size[0]}, indexes {size[1]}, received_at {size[2]:%Y-%m-%d} .. {size[3]:%Y-%m-%d}"
        )
        trgm = conn.execute(
            "SELECT string_agg(indexname, ', ' ORDER BY indexname) FROM pg_indexes"
            " WHERE tablename = 'sms' AND indexname LIKE 'ix_sms_trgm_%'"
        ).fetchone()
        lines.append("trigram indexes: " + ((trgm[0] if trgm else None) or "none (no pg_trgm)"))
        settings = conn.execute(
            "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)"
            " FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'jit',"
            " 'max_parallel_workers_per_gather', 'random_page_cost', 'server_version')"
        ).fetchone()
        lines.append("server: " + (settings[0] if settings else ""))
        return lines


# --------------------------------------------------------------------------------------------
# measuring


@dataclass
class Case:
    name: str
    flt: SmsFilter
    page: int = 1


@dataclass
class Result:
    case: Case
    total: int
    page_ms: float
    total_ms: float
    plans: str
    generic: bool

    @property
    def page_ok(self) -> bool:
        return self.page_ms < PAGE_TARGET_MS

    @property
    def total_target(self) -> float:
        return TOTAL_TARGET_SMALL_MS if self.total <= SMALL_MATCH else TOTAL_TARGET_WORST_MS

    @property
    def total_ok(self) -> bool:
        return self.total_ms < self.total_target


def cases(url: str) -> list[Case]:
    with psycopg.connect(url, autocommit=True) as conn:
        bounds = conn.execute(
            "SELECT floor(extract(epoch FROM min(received_at)))::bigint,"
            " ceil(extract(epoch FROM max(received_at)))::bigint FROM sms"
        ).fetchone()
        # A transfer reference from the middle of the data: what is pasted to trace one payment.
        found = conn.execute(
            "SELECT ref FROM sms WHERE ref IS NOT NULL AND id >= (SELECT max(id) / 2 FROM sms)"
            " ORDER BY id LIMIT 1"
        ).fetchone()
    assert bounds is not None and bounds[0] is not None
    lo, hi = int(bounds[0]), int(bounds[1])
    ref = str(found[0]) if found else "0000000000"
    mid = lo + (hi - lo) // 2  # a day and a week in the middle: the hard case for "newest first"
    return [
        Case("no filter", SmsFilter()),
        Case("no filter, page 50", SmsFilter(), page=50),
        Case("status=2 (need check)", SmsFilter(status=2)),
        Case("status=3 (approved)", SmsFilter(status=3)),
        Case("source=telegram", SmsFilter(source="telegram")),
        Case("time: one day (mid)", SmsFilter(start_time=mid, end_time=mid + 86400 - 1)),
        Case("time: one week (mid)", SmsFilter(start_time=mid, end_time=mid + 7 * 86400 - 1)),
        Case("time: whole range", SmsFilter(start_time=lo, end_time=hi)),
        Case(f"keyword rare '{RARE_NAME}'", SmsFilter(keyword=RARE_NAME)),
        Case(f"keyword common '{COMMON_WORD}'", SmsFilter(keyword=COMMON_WORD)),
        Case(f"keyword ref '{ref}'", SmsFilter(keyword=ref)),
        Case(f"amount={AMOUNT}", SmsFilter(amount=AMOUNT)),
    ]


def timed(fn: Callable[[], Any], warmup: int, runs: int) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def summarize_plan(node: dict[str, Any]) -> str:
    kind = str(node["Node Type"])
    if node.get("Parallel Aware"):
        kind = "Parallel " + kind
    if node.get("Scan Direction") == "Backward":
        kind += " Backward"
    if "Index Name" in node:
        joiner = "on" if node["Node Type"] == "Bitmap Index Scan" else "using"
        kind += f" {joiner} {node['Index Name']}"
    elif "Relation Name" in node:
        kind += f" on {node['Relation Name']}"
    if node["Node Type"] == "Gather":
        kind += f" ({node.get('Workers Launched', 0)} workers)"
    if kind.startswith("Sort") and "Sort Method" in node:
        kind += f" ({node['Sort Method']})"
    children = [summarize_plan(child) for child in node.get("Plans", [])]
    if not children:
        return kind
    if len(children) == 1:
        return f"{kind} > {children[0]}"
    return f"{kind} > [{'; '.join(children)}]"


def top_of(plan: dict[str, Any]) -> dict[str, Any]:
    """Below the Limit/Aggregate/Sort-free wrappers every such query has on top."""
    while plan["Node Type"] in ("Limit", "Aggregate") and len(plan.get("Plans", [])) == 1:
        plan = plan["Plans"][0]
    return plan


def statement_role(statement: str) -> str:
    if "count(*) OVER" in statement:
        return "search+total"
    if statement.lstrip().startswith("SELECT count(*)"):
        return "count"
    if "AS recent" in statement:
        return "probe"
    return "page"


class Recorder:
    """The statements the real code sends, captured so that each can be EXPLAINed afterwards."""

    def __init__(self, engine: Engine) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.on = False
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on:
            self.statements.append((statement, parameters))


def explain_statements(engine: Engine, statements: list[tuple[str, Any]]) -> str:
    parts = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            row = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS off, FORMAT JSON) " + statement, parameters
            ).fetchone()
            assert row is not None
            plan = row[0][0]["Plan"]
            parts.append(f"{statement_role(statement)}: {summarize_plan(top_of(plan))}")
    return " | ".join(parts)


def used_generic_plans(engine: Engine) -> bool:
    """Whether psycopg's automatically prepared statements switched to a generic plan."""
    with engine.connect() as conn:
        value = conn.exec_driver_sql(
            "SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements"
        ).scalar()
    return bool(value)


def measure(url: str, case: Case, page_size: int, warmup: int, runs: int) -> Result:
    # A fresh single-connection engine per case, made as the service makes it, so that
    # prepared statements (psycopg prepares a query after 5 runs) do not leak between cases.
    engine = make_engine(url, pool_size=1, statement_timeout_ms=60_000)
    recorder = Recorder(engine)
    offset = (case.page - 1) * page_size
    try:

        def page_only() -> None:  # what list_sms runs to find the page
            with Session(engine) as session:
                fetch_page(session, case.flt, page_size, offset)

        result: dict[str, int] = {}

        def page_and_total() -> None:  # the whole list_sms: the page and its exact total
            with Session(engine) as session:
                result["total"] = list_sms(session, case.flt, case.page, page_size).total

        page_ms = timed(page_only, warmup, runs)
        total_ms = timed(page_and_total, warmup, runs)
        generic = used_generic_plans(engine)
        recorder.on = True
        page_and_total()
        recorder.on = False
        plans = explain_statements(engine, recorder.statements)
        return Result(case, result["total"], page_ms, total_ms, plans, generic)
    finally:
        engine.dispose()


def print_table(results: list[Result]) -> bool:
    header = (
        f"{'case':<34} {'matched':>9} {'page ms':>8} {'pg+tot ms':>9} {'target ms':>9}"
        f" {'result':<10}  plans of the statements one list_sms call ran (EXPLAIN ANALYZE)"
    )
    print(header)
    print("-" * len(header))
    all_ok = True
    for r in results:
        all_ok &= r.page_ok and r.total_ok
        missed = [name for name, ok in (("page", r.page_ok), ("total", r.total_ok)) if not ok]
        verdict = "MISS " + "+".join(missed) if missed else "PASS"
        target = f"{PAGE_TARGET_MS:.0f} / {r.total_target:.0f}"
        note = " (generic plan)" if r.generic else ""
        print(
            f"{r.case.name:<34} {r.total:>9,} {r.page_ms:>8.1f} {r.total_ms:>9.1f} {target:>9}"
            f" {verdict:<10}  {r.plans}{note}"
        )
    return all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in sms (default 1e6)")
    parser.add_argument("--keep", action="store_true", help="reuse a filled database")
    parser.add_argument(
        "--database-url",
        help=f"the server to use (any database on it; default RECON_DATABASE_URL or {DEFAULT_SERVER})",
    )
    parser.add_argument("--db-name", default="recon_bench", help="database to (re)create")
    parser.add_argument("--runs", type=int, default=9, help="measured runs per case (median)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs first")
    parser.add_argument("--page-size", type=int, default=20)
    args = parser.parse_args(argv)

    admin_url = server_url(args.database_url)
    bench_url = with_database(admin_url, args.db_name)
    existing = sms_count(bench_url) if args.keep and database_exists(admin_url, args.db_name) else 0
    if existing:
        print(f"reusing {args.db_name} ({existing:,} rows; --rows ignored)")
    else:
        print(f"creating {args.db_name} with {args.rows:,} rows", flush=True)
        recreate_database(admin_url, args.db_name)
        upgrade(bench_url)
        fill(bench_url, args.rows)
    for line in describe_data(bench_url):
        print("  " + line)
    print(
        f"median of {args.runs} runs after {args.warmup} warm-up runs; page size "
        f"{args.page_size}; targets: page < {PAGE_TARGET_MS:.0f} ms, page+total < "
        f"{TOTAL_TARGET_SMALL_MS:.0f} ms (<= {SMALL_MATCH:,} rows) or < "
        f"{TOTAL_TARGET_WORST_MS:.0f} ms\n"
    )
    results = [measure(bench_url, case, args.page_size, args.warmup, args.runs) for case in cases(bench_url)]
    all_ok = print_table(results)
    print(f"\n{'all targets met' if all_ok else 'some targets missed'}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
