"""Benchmark of matching one SMS against the pending-order book (``recon_impl.domain.matching``).

    .venv/bin/python benchmarks/domain_match.py
    .venv/bin/python benchmarks/domain_match.py --sizes 1000 100000 --sms 5000 --interval 2

The book grows by history, not by density: one order every ``--interval`` seconds (3 s: 28,800
a day, a busy desk), so a bigger book covers a longer past while the default window (30 min
before, 5 min after) holds about the same few hundred orders. The index must make the book's
size irrelevant; what an SMS costs is proportional to the same-amount orders in its window
(the ``in window`` column), which no index can avoid scoring.

Amounts are realistic: most orders share a few round amounts (100,000 / 200,000 / 500,000 /
1,000,000 VND), the rest spread over other round and odd amounts; some orders and SMS carry a
card tail or a payer name, and 1% of the orders are held by other SMS.

Targets: median time for one SMS against 100,000 orders under 1 ms; median flat within 1.5x
from 1,000 to 1,000,000 orders. Exit status 1 on any MISS.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

from recon_impl.domain.matching import IncomeSms, MatchConfig, OrderBook, PendingOrder, decide

TARGET_MS = 1.0
TARGET_SIZE = 100_000
FLATNESS = 1.5
START = 1_780_000_000
COMMON = [(Decimal(a), w) for a, w in ((100_000, 25), (200_000, 20), (500_000, 20), (1_000_000, 10))]
OTHER_ROUND = [Decimal(a) for a in (50_000, 150_000, 300_000, 2_000_000, 3_000_000, 5_000_000)]
NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Ngọc Dung", "Đặng Minh Đức"]


@dataclass(frozen=True, slots=True)
class Row:
    size: int
    build_s: float
    median_us: float
    p99_us: float
    in_window: float
    matched: float


def random_amount(rng: random.Random) -> Decimal:
    roll = rng.random() * 100
    for amount, weight in COMMON:
        if roll < weight:
            return amount
        roll -= weight
    if roll < 15:
        return rng.choice(OTHER_ROUND)
    return Decimal(rng.randrange(10, 10_000) * 1000)


def make_orders(size: int, interval: int, rng: random.Random) -> list[PendingOrder]:
    return [
        PendingOrder(
            order_id=f"R{START + i:012d}",
            amount=random_amount(rng),
            created_at=START + i * interval + rng.randrange(interval),
            card_tail=f"{rng.randrange(10_000):04d}" if rng.random() < 0.3 else None,
            payer_name=rng.choice(NAMES) if rng.random() < 0.3 else None,
        )
        for i in range(size)
    ]


def make_sms(count: int, newest: int, rng: random.Random) -> list[IncomeSms]:
    """SMS arriving during the last 10 minutes of the book, so every window is full."""
    return [
        IncomeSms(
            sms_id=i,
            amount=random_amount(rng),
            received_at=newest - rng.randrange(600),
            card_tail=f"{rng.randrange(10_000):04d}" if rng.random() < 0.3 else None,
            payer_name=rng.choice(NAMES).upper() if rng.random() < 0.3 else None,
        )
        for i in range(count)
    ]


def measure(size: int, sms_count: int, interval: int, config: MatchConfig) -> Row:
    orders = make_orders(size, interval, random.Random(size))
    started = time.perf_counter()
    book = OrderBook(orders)
    build_s = time.perf_counter() - started
    newest = orders[-1].created_at
    taken = {order.order_id for order in random.Random(1).sample(orders, size // 100)}
    # the same SMS mix for every size (seeded alike), relative to the book's newest order
    messages = make_sms(sms_count, newest, random.Random(7))
    for message in messages[:200]:
        decide(message, book, config, newest, taken)
    gc.collect()
    timings: list[int] = []
    kinds: list[str] = []  # not the decisions: a worker drops each one once it is stored
    for message in messages:
        before = time.perf_counter_ns()
        decision = decide(message, book, config, newest, taken)
        timings.append(time.perf_counter_ns() - before)
        kinds.append(decision.kind)
    timings.sort()
    window = config.window_before_s, config.window_after_s
    in_window = [
        len(book.between(m.amount, m.received_at - window[0], m.received_at + window[1])) for m in messages
    ]
    return Row(
        size=size,
        build_s=build_s,
        median_us=statistics.median(timings) / 1000,
        p99_us=timings[int(len(timings) * 0.99)] / 1000,
        in_window=statistics.mean(in_window),
        matched=kinds.count("matched") / len(kinds),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--sms", type=int, default=3000, help="SMS matched per size")
    parser.add_argument("--interval", type=int, default=3, help="seconds between two new orders")
    args = parser.parse_args(argv)
    config = MatchConfig()
    print(
        f"matching one SMS; window -{config.window_before_s}s/+{config.window_after_s}s, "
        f"one order every {args.interval}s, {args.sms} SMS per size"
    )
    print(f"{'orders':>10} {'build':>8} {'median':>10} {'p99':>10} {'in window':>10} {'matched':>8}")
    rows = []
    for size in args.sizes:
        row = measure(size, args.sms, args.interval, config)
        rows.append(row)
        print(
            f"{row.size:>10,} {row.build_s:>7.2f}s {row.median_us:>8.1f}us {row.p99_us:>8.1f}us "
            f"{row.in_window:>10.1f} {row.matched:>8.0%}"
        )
    ok = True
    at_target = [row for row in rows if row.size == TARGET_SIZE]
    if at_target:
        median_ms = at_target[0].median_us / 1000
        passed = median_ms < TARGET_MS
        ok &= passed
        verdict = "PASS" if passed else "MISS"
        print(
            f"{verdict}  one SMS against {TARGET_SIZE:,} orders: {median_ms:.3f} ms (target < {TARGET_MS} ms)"
        )
    if len(rows) > 1:
        medians = [row.median_us for row in rows]
        growth = max(medians) / min(medians)
        passed = growth <= FLATNESS
        ok &= passed
        verdict = "PASS" if passed else "MISS"
        span = f"{rows[0].size:,} to {rows[-1].size:,}"
        print(f"{verdict}  growth from {span} orders: {growth:.2f}x (target <= {FLATNESS}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
