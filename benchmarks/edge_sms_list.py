"""Benchmark of ``shooter/sms/list`` through the admin edge next to the same query on recon directly.

Serves, each in its own process (spawned, uvicorn on loopback via ``serve_in_thread``):

* recon_service (``recon_impl.http.app.create_app``) on ``/internal/recon/v1``;
* the legacy admin edge (``admin_compat.app.create_app``) on ``/api/admin``, calling that recon
  through its ``ReconClient`` with the default ``ReconConfig`` (the edge is its own process in
  production too).

and measures from this process with ``httpx`` (one kept-alive client per target):

1. sequential: ``--requests`` calls of the same page query to (a) ``GET /internal/recon/v1/sms?
   status=1&page_size=20`` (service token) and (b) ``POST /api/admin/shooter/sms/list
   {"status": 1, "page_size": 20}`` (``X-Token`` of a super admin session), after a warm-up,
   interleaved in rounds (order rotated each round) so that drift hits both alike: p50/p90/p99,
   requests/s, and edge minus internal at p50 and p99;
2. concurrent: ``--clients`` threads per target for ``--seconds`` each: requests/s and p50/p99;
3. shed: recon is stopped, the edge is called until its breaker opens (``fail_max`` failing
   calls), then the edge's answers are timed while the breaker is open (within its reset
   timeout): each must be HTTP 200 with envelope code 5003.

Targets: the edge adds at most 5 ms at p50 and 15 ms at p99 (sequential); a 5003 while the
breaker is open takes under 5 ms (p99). The exit status is 1 when a target is missed.

Creates its own database ``recon_bench_edge_<pid>`` (migrated, filled with ``--rows`` SMS by
``sms_list.fill``'s bulk ``INSERT ... SELECT``, dropped at the end) on ``--database-url`` /
``RECON_DATABASE_URL``, and uses Redis database 12 of ``--redis-url`` / ``RECON_REDIS_URL``
(flushed at the end). Figures on a shared 2-core machine are noisy: compare within one run.

    .venv/bin/python benchmarks/edge_sms_list.py
    .venv/bin/python benchmarks/edge_sms_list.py --rows 200000 --requests 4000 --clients 8
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import multiprocessing
import os
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from admin_compat.legacy_auth import SUPER_ADMIN_ROLE, Session, create_session
from admin_compat.recon_client import ReconConfig
from recon_impl.storage.migrate import upgrade

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
REDIS_DB = 12  # never 0 (the application's); flushed at the end
TOKEN = "bench-service-token"
INTERNAL_BASE = "/internal/recon/v1"
ADMIN_BASE = "/api/admin"
STATUS = 1
PAGE_SIZE = 20
P50_TARGET_MS = 5.0  # edge minus internal
P99_TARGET_MS = 15.0  # edge minus internal
SHED_TARGET_MS = 5.0  # a 5003 while the breaker is open, p99
UNAVAILABLE = 5003
# Calls slower than this while opening the breaker were still trying recon (retries, backoff).
SHED_FAST_MS = 50.0


def _load_fill() -> Callable[[str, int], None]:
    """``fill`` of the SMS-list benchmark beside this file (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("_bench_sms_list", Path(__file__).with_name("sms_list.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    fill: Callable[[str, int], None] = module.fill
    return fill


# --------------------------------------------------------------------------------------------
# stores


def bench_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh ``recon_bench_edge_<pid>`` on the server (as testkit.fresh_database) and its drop."""
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


def redis_db_url(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return f"{url.split('?', maxsplit=1)[0]}?db={db}"
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}/{db}"


# --------------------------------------------------------------------------------------------
# servers, each in its own (spawned) process


def _serve(kind: str, options: dict[str, str], conn: Connection) -> None:
    """Child process: build the app, serve it on loopback, send the root URL, wait for "stop"."""
    # The edge logs a warning per 5003: keep the cost of a log line, not the noise on the terminal.
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    # connexion imports starlette's TestClient, which warns about httpx on every import.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from infra.doubles.serving import serve_in_thread  # noqa: PLC0415 - in the child only

    app: Any
    if kind == "recon":
        from recon_impl.http.app import create_app  # noqa: PLC0415
        from recon_impl.settings import Settings  # noqa: PLC0415

        app = create_app(
            Settings(
                database_url=options["database_url"],
                redis_url=options["redis_url"],
                service_tokens=[SecretStr(TOKEN)],
            )
        )
    else:
        from admin_compat.app import EdgeSettings  # noqa: PLC0415
        from admin_compat.app import create_app as create_edge  # noqa: PLC0415

        app = create_edge(
            EdgeSettings(
                recon_url=options["recon_url"],
                recon_token=SecretStr(TOKEN),
                redis_url=options["redis_url"],
            )
        )
    root, stop = serve_in_thread(app)
    conn.send(root)
    try:
        conn.recv()  # "stop", or EOFError when the parent went away
    except EOFError:
        pass
    finally:
        stop()


@dataclass
class Server:
    kind: str
    process: Any
    conn: Connection
    root: str

    def stop(self) -> None:
        if not self.process.is_alive():
            return
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.process.join(timeout=15)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


def start_server(kind: str, options: dict[str, str]) -> Server:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(kind, options, child), name=f"bench-{kind}", daemon=True)
    process.start()
    child.close()
    if not parent.poll(60):
        process.terminate()
        raise RuntimeError(f"{kind} did not start within 60 s")
    return Server(kind, process, parent, parent.recv())


# --------------------------------------------------------------------------------------------
# measuring


def pct(ordered: list[float], q: float) -> float:
    """The q-quantile (nearest rank) in ms of sorted samples in seconds."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1e3


@dataclass
class Figures:
    samples: list[float] = field(default_factory=list)
    elapsed: float = 0.0  # wall time the samples took (s)

    def ordered(self) -> list[float]:
        return sorted(self.samples)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1e3

    @property
    def p90(self) -> float:
        return pct(self.ordered(), 0.90)

    @property
    def p99(self) -> float:
        return pct(self.ordered(), 0.99)

    @property
    def worst(self) -> float:
        return max(self.samples) * 1e3

    @property
    def rate(self) -> float:
        return len(self.samples) / self.elapsed if self.elapsed else 0.0

    def line(self) -> str:
        return (
            f"p50 {self.p50:6.2f}  p90 {self.p90:6.2f}  p99 {self.p99:6.2f}  max {self.worst:7.2f} ms"
            f"  {self.rate:7.1f} req/s  (n={len(self.samples)})"
        )


@dataclass
class Target:
    name: str
    make_client: Callable[[], httpx.Client]
    send: Callable[[httpx.Client], httpx.Response]
    total: Callable[[httpx.Response], int]  # checks one answer; the query's total


def targets(recon_root: str, edge_root: str, admin_token: str) -> list[Target]:
    timeout = httpx.Timeout(10.0)

    def internal_client() -> httpx.Client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.Client(base_url=recon_root + INTERNAL_BASE, headers=headers, timeout=timeout)

    def edge_client() -> httpx.Client:
        return httpx.Client(
            base_url=edge_root + ADMIN_BASE, headers={"X-Token": admin_token}, timeout=timeout
        )

    def internal_total(answer: httpx.Response) -> int:
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        body = answer.json()
        assert len(body["items"]) == PAGE_SIZE, body
        return int(body["total"])

    def edge_total(answer: httpx.Response) -> int:
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        body = answer.json()
        assert body["code"] == 0, body
        assert len(body["data"]["list"]) == PAGE_SIZE, body
        return int(body["data"]["total"])

    query = {"status": STATUS, "page_size": PAGE_SIZE}
    return [
        Target("internal GET /sms", internal_client, lambda c: c.get("/sms", params=query), internal_total),
        Target(
            "edge POST shooter/sms/list",
            edge_client,
            lambda c: c.post("/shooter/sms/list", json=query),
            edge_total,
        ),
    ]


def sequential(cases: list[Target], requests: int, rounds: int, warmup: int) -> dict[str, Figures]:
    clients = {case.name: case.make_client() for case in cases}
    figures = {case.name: Figures() for case in cases}
    try:
        totals = set()
        for case in cases:  # warm up connections, pools, caches and prepared statements
            for _ in range(warmup):
                totals.add(case.total(case.send(clients[case.name])))
        assert len(totals) == 1, f"the two routes disagree on the total: {totals}"
        per_round = max(1, requests // rounds)
        for turn in range(rounds):
            order = cases[turn % len(cases) :] + cases[: turn % len(cases)]  # rotate the order
            for case in order:
                client, fig = clients[case.name], figures[case.name]
                began = time.perf_counter()
                for _ in range(per_round):
                    start = time.perf_counter()
                    answer = case.send(client)
                    fig.samples.append(time.perf_counter() - start)
                    case.total(answer)
                fig.elapsed += time.perf_counter() - began
    finally:
        for client in clients.values():
            client.close()
    return figures


def concurrent(case: Target, clients: int, seconds: float) -> Figures:
    """``clients`` threads, each with its own connection, sending as fast as answers come."""
    pool = [case.make_client() for _ in range(clients)]
    per_thread: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    start_line = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def work(index: int) -> None:
        client, samples = pool[index], per_thread[index]
        try:
            for _ in range(5):
                case.total(case.send(client))
            start_line.wait()
            while True:
                start = time.perf_counter()
                if start >= stop_at[0]:
                    return
                answer = case.send(client)
                samples.append(time.perf_counter() - start)
                case.total(answer)
        except BaseException as exc:
            errors.append(exc)
            start_line.abort()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        stop_at[0] = float("inf")
        start_line.wait()
        began = time.perf_counter()
        stop_at[0] = began + seconds
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        for client in pool:
            client.close()
    if errors:
        raise errors[0]
    return Figures([s for samples in per_thread for s in samples], elapsed)


def edge_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 200, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["code"] == UNAVAILABLE and body["data"] is None, body


def shed(case: Target, calls: int, config: ReconConfig) -> tuple[list[float], Figures]:
    """Open the edge's breaker (recon is down), then time its 5003s while the breaker is open."""
    client = case.make_client()
    try:
        opening: list[float] = []
        opened_at = 0.0
        for _ in range(2 * config.breaker_fail_max + 2):
            start = time.perf_counter()
            answer = case.send(client)
            took = time.perf_counter() - start
            edge_unavailable(answer)
            if len(opening) >= config.breaker_fail_max and took * 1e3 < SHED_FAST_MS:
                break  # answered at once: the breaker sheds
            opening.append(took)
            opened_at = time.perf_counter()
        else:
            raise AssertionError(f"the breaker did not open: calls took {opening}")
        # Shed only within the reset timeout: after it a half-open trial call tries recon again.
        deadline = opened_at + config.breaker_reset_s - 1.0
        fig = Figures()
        began = time.perf_counter()
        for _ in range(calls):
            start = time.perf_counter()
            if start >= deadline:
                break
            answer = case.send(client)
            fig.samples.append(time.perf_counter() - start)
            edge_unavailable(answer)
        fig.elapsed = time.perf_counter() - began
        return opening, fig
    finally:
        client.close()


# --------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--database-url", default=os.environ.get("RECON_DATABASE_URL") or DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=os.environ.get("RECON_REDIS_URL") or DEFAULT_REDIS)
    parser.add_argument("--rows", type=int, default=100_000, help="SMS rows to fill")
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests per target")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (sequential)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests per target first")
    parser.add_argument("--clients", type=int, default=4, help="threads per target (concurrent)")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration per target (concurrent)")
    parser.add_argument("--shed-calls", type=int, default=1500, help="calls while the breaker is open")
    args = parser.parse_args(argv)

    run_began = time.perf_counter()
    redis_url = redis_db_url(args.redis_url, REDIS_DB)
    store = redis.Redis.from_url(redis_url, decode_responses=True)
    database_url, dispose = bench_database(args.database_url)
    servers: list[Server] = []
    try:
        print(
            f"database {make_url(database_url).database}: migrating, filling {args.rows:,} rows", flush=True
        )
        upgrade(database_url)
        _load_fill()(database_url, args.rows)
        admin = Session(1, "bench-admin", SUPER_ADMIN_ROLE, (), int(time.time()))
        admin_token = create_session(store, admin)

        recon = start_server("recon", {"database_url": database_url, "redis_url": redis_url})
        servers.append(recon)
        recon_url = recon.root + INTERNAL_BASE
        edge = start_server("edge", {"recon_url": recon_url, "redis_url": redis_url})
        servers.append(edge)
        internal, through_edge = cases = targets(recon.root, edge.root, admin_token)
        with httpx.Client(timeout=10) as probe:
            total = internal.total(
                probe.get(
                    recon_url + "/sms",
                    params={"status": STATUS, "page_size": PAGE_SIZE},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
            )
        load = " ".join(f"{v:.2f}" for v in os.getloadavg())
        print(
            f"recon_service pid {recon.process.pid} at {recon.root}, edge pid {edge.process.pid} at"
            f" {edge.root} (each its own process, uvicorn on loopback; client: this process, httpx)"
        )
        print(
            f"query: status={STATUS} page_size={PAGE_SIZE} ({total:,} rows match); cpus {os.cpu_count()},"
            f" load average {load} (shared machine: figures are noisy)\n",
            flush=True,
        )

        seq = sequential(cases, args.requests, args.rounds, args.warmup)
        print(
            f"sequential, {args.requests} requests per target after {args.warmup} warm-up,"
            f" interleaved in {args.rounds} rounds, one kept-alive connection each:"
        )
        for name, fig in seq.items():
            print(f"  {name:<28} {fig.line()}")
        a, b = seq[internal.name], seq[through_edge.name]
        d50, d99 = b.p50 - a.p50, b.p99 - a.p99
        p50_ok, p99_ok = d50 <= P50_TARGET_MS, d99 <= P99_TARGET_MS
        print(
            f"  edge minus internal: p50 {d50:+6.2f} ms (target <= {P50_TARGET_MS:.0f} ms: {verdict(p50_ok)})"
        )
        print(
            f"  edge minus internal: p99 {d99:+6.2f} ms (target <= {P99_TARGET_MS:.0f} ms: {verdict(p99_ok)})"
        )
        print(f"  edge minus internal: p90 {b.p90 - a.p90:+6.2f} ms (no target)\n", flush=True)

        print(f"concurrent, {args.clients} client threads per target for {args.seconds:.0f} s each:")
        conc = {case.name: concurrent(case, args.clients, args.seconds) for case in cases}
        for name, fig in conc.items():
            print(f"  {name:<28} {fig.line()}")
        ratio = conc[through_edge.name].rate / conc[internal.name].rate
        print(f"  edge throughput / internal throughput: {ratio:.2f}\n", flush=True)

        config = ReconConfig(recon_url, TOKEN)  # what create_app builds from EdgeSettings
        recon.stop()
        print(
            f"recon stopped; opening the edge's breaker (fail_max {config.breaker_fail_max},"
            f" reset {config.breaker_reset_s:.0f} s, {config.attempts} attempts per idempotent call):"
        )
        opening, shed_fig = shed(through_edge, args.shed_calls, config)
        print(
            f"  5003 while recon is down, breaker closed: {', '.join(f'{t * 1e3:.0f}' for t in opening)} ms"
        )
        shed_ok = shed_fig.p99 < SHED_TARGET_MS
        print(f"  5003 (HTTP 200) while open: {shed_fig.line()}")
        print(
            f"  breaker open: p50 {shed_fig.p50:.2f} ms  p99 {shed_fig.p99:.2f} ms"
            f" (target p99 < {SHED_TARGET_MS:.0f} ms: {verdict(shed_ok)})"
        )
    finally:
        for server in reversed(servers):
            server.stop()
        dispose()
        store.flushdb()
        store.close()
    all_ok = p50_ok and p99_ok and shed_ok
    elapsed = time.perf_counter() - run_began
    print(f"\n{'all targets met' if all_ok else 'some targets missed'} ({elapsed:.0f} s)")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
