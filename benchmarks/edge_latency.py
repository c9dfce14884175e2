"""Benchmark of the admin edge's recon client (``admin_compat.recon_client.ReconClient``).

Two figures:

* shed: how long a call takes to answer ``ReconUnavailable`` while the breaker is open (what a
  legacy route pays before it answers 5003). Target: p99 under 5 ms.
* wrapper alone: ``ReconClient.call`` around an endpoint stub that answers at once (no network).
* overhead: p50/p99 of ``GET /internal/recon/v1/stats`` on a real recon_service on loopback
  through plain ``httpx.Client.get``, through the generated client alone, and through
  ``ReconClient.call`` (generated client + bulkhead + breaker + stamina). The three run
  interleaved in rounds (their order rotated each round) over one kept-alive connection each,
  so drift hits them alike.

Creates its own database ``recon_bench_edge_<pid>`` (dropped afterwards) on
``--database-url`` / ``RECON_DATABASE_URL`` and uses ``RECON_REDIS_URL``; without them, embedded
servers are started (as the other benchmarks do).

    .venv/bin/python benchmarks/edge_latency.py
    .venv/bin/python benchmarks/edge_latency.py --calls 5000 --shed-calls 50000

The exit status is 1 when the shed target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import httpx
import psycopg
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from admin_compat.recon_api import AuthenticatedClient
from admin_compat.recon_api.api.stats import recon_impl_http_handlers_stats_get_stats as get_stats
from admin_compat.recon_api.types import Response
from admin_compat.recon_client import ReconClient, ReconConfig, ReconUnavailable
from infra.doubles.serving import serve_in_thread
from recon_impl.embedded import ensure_servers
from recon_impl.settings import Settings
from recon_impl.storage.migrate import upgrade

SHED_TARGET_MS = 5.0
TOKEN = "bench-service-token"
BASE_PATH = "/internal/recon/v1"


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """(p50, p99, max) in milliseconds of samples in seconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1e3, p99 * 1e3, ordered[-1] * 1e3


def refused_url() -> str:
    """A loopback URL nobody listens on (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{BASE_PATH}"


def measure_shed(calls: int) -> tuple[float, float, float]:
    config = ReconConfig(refused_url(), TOKEN, attempts=1, breaker_fail_max=1, breaker_reset_s=3600)
    client = ReconClient(config)
    try:
        with contextlib.suppress(ReconUnavailable):  # refused: the breaker opens
            client.call(get_stats.sync_detailed, idempotent=True)
        assert client.breaker.current_state == "open"
        samples = []
        for _ in range(calls):
            start = time.perf_counter()
            try:
                client.call(get_stats.sync_detailed, idempotent=True)
            except ReconUnavailable:
                samples.append(time.perf_counter() - start)
        assert len(samples) == calls
        return percentiles(samples)
    finally:
        client.close()


def measure_wrapper_alone(calls: int) -> dict[str, tuple[float, float, float]]:
    """The wrapper's own cost: ReconClient.call around an endpoint that answers at once."""
    client = ReconClient(ReconConfig(refused_url(), TOKEN))
    answer: Response[None] = Response(status_code=HTTPStatus.OK, content=b"", headers={}, parsed=None)

    def instant(**_: Any) -> Response[None]:
        return answer

    figures = {}
    try:
        for idempotent in (True, False):
            samples = []
            for _ in range(calls):
                start = time.perf_counter()
                client.call(instant, idempotent=idempotent)
                samples.append(time.perf_counter() - start)
            figures["idempotent" if idempotent else "not idempotent"] = percentiles(samples)
    finally:
        client.close()
    return figures


def measure_overhead(base_url: str, calls: int, rounds: int) -> dict[str, tuple[float, float, float]]:
    plain = httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=httpx.Timeout(3.0)
    )
    generated = AuthenticatedClient(base_url=base_url, token=TOKEN, timeout=httpx.Timeout(3.0))
    wrapped = ReconClient(ReconConfig(base_url, TOKEN))
    cases: dict[str, Callable[[], Any]] = {
        "plain httpx": lambda: plain.get("/stats").raise_for_status(),
        "generated client": lambda: get_stats.sync_detailed(client=generated),
        "ReconClient.call": lambda: wrapped.call(get_stats.sync_detailed, idempotent=True),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for fn in cases.values():  # warm up connections, pools and caches
            for _ in range(50):
                fn()
        per_round = max(1, calls // rounds)
        names = list(cases)
        for turn in range(rounds):
            for name in names[turn % len(names) :] + names[: turn % len(names)]:  # rotate the order
                fn = cases[name]
                for _ in range(per_round):
                    start = time.perf_counter()
                    answer = fn()
                    samples[name].append(time.perf_counter() - start)
                    status = getattr(answer, "status_code", 200)
                    assert int(status) == 200, status
    finally:
        plain.close()
        generated.get_httpx_client().close()
        wrapped.close()
    return {name: percentiles(values) for name, values in samples.items()}


def bench_database(server_url: str) -> tuple[str, Callable[[], None]]:
    parsed = make_url(server_url.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    name = f"recon_bench_edge_{os.getpid()}"
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def dispose() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(drop)

    return parsed.set(database=name).render_as_string(hide_password=False), dispose


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--database-url", default=os.environ.get("RECON_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("RECON_REDIS_URL"))
    parser.add_argument("--calls", type=int, default=2000, help="recon calls per client (overhead)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (overhead)")
    parser.add_argument("--shed-calls", type=int, default=20000, help="calls while the breaker is open")
    args = parser.parse_args(argv)

    p50, p99, worst = measure_shed(args.shed_calls)
    verdict = "ok" if p99 < SHED_TARGET_MS else "MISS"
    print(f"breaker open, answer ReconUnavailable: p50 {p50 * 1e3:.1f} us  p99 {p99 * 1e3:.1f} us", end="")
    print(f"  max {worst:.2f} ms  (target p99 < {SHED_TARGET_MS:.0f} ms: {verdict})")

    for name, (p50, p99, _) in measure_wrapper_alone(args.shed_calls).items():
        print(f"ReconClient.call alone, {name}: p50 {p50 * 1e3:.1f} us  p99 {p99 * 1e3:.1f} us")

    servers = ensure_servers(args.database_url, args.redis_url, tempfile.mkdtemp(prefix="recon-bench-edge-"))
    database_url, dispose = bench_database(servers.database_url)
    try:
        upgrade(database_url)
        from recon_impl.http.app import create_app  # noqa: PLC0415 - after the stores exist

        tokens = [SecretStr(TOKEN)]
        settings = Settings(database_url=database_url, redis_url=servers.redis_url, service_tokens=tokens)
        root, stop = serve_in_thread(create_app(settings))
        try:
            figures = measure_overhead(root + BASE_PATH, args.calls, args.rounds)
        finally:
            stop()
    finally:
        dispose()
        servers.stop()
    plain_p50 = figures["plain httpx"][0]
    print(f"GET /stats on loopback, {args.calls} calls each, interleaved in {args.rounds} rounds:")
    for name, (p50, p99, worst) in figures.items():
        extra = "" if name == "plain httpx" else f"  (p50 {p50 - plain_p50:+.2f} ms vs plain)"
        print(f"  {name:<17} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {worst:7.2f} ms{extra}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
