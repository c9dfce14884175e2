"""The supervisor: restarts with capped backoff, clean stops on signals, the hard-limit watchdog,
and ``python -m recon_worker`` as a real process."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
import trio

from recon_impl.settings import Settings
from recon_worker.context import Beat, WorkerContext
from recon_worker.leases import acquire
from recon_worker.loops import default_specs
from recon_worker.runtime import EXIT_STUCK, Backoff, HardLimitExceeded, LoopSpec, run_worker
from recon_worker.supervise import supervise
from testkit import ROOT

FAST = Backoff(base_s=0.01, cap_s=0.05)


async def beating(ctx: WorkerContext, beat: Beat) -> None:
    while True:
        beat.beat()
        await trio.sleep(0.02)


def test_backoff_doubles_from_its_base_up_to_its_cap() -> None:
    """Without jitter the delays double and stop at the cap; jitter keeps them within [half, full]."""
    backoff = Backoff(base_s=0.5, cap_s=4.0)
    assert [backoff.delay(n, rand=lambda: 1.0) for n in range(1, 8)] == [0.5, 1, 2, 4, 4, 4, 4]
    assert [backoff.delay(n, rand=lambda: 0.0) for n in range(1, 5)] == [0.25, 0.5, 1, 2]
    assert backoff.delay(10_000) <= 4.0


@pytest.mark.trio
async def test_restarts_of_a_crashing_loop_are_spaced_by_the_capped_backoff(
    make_ctx: Callable[[str], WorkerContext], autojump_clock: Any
) -> None:
    """In virtual time, each gap between restarts lies within the jittered, capped exponential delay."""
    starts: list[float] = []

    async def crashing(ctx: WorkerContext, beat: Beat) -> None:
        starts.append(trio.current_time())
        raise RuntimeError("secret-token-in-message")

    backoff = Backoff(base_s=1.0, cap_s=8.0)
    spec = LoopSpec("crashing", crashing, budget_s=60)
    with trio.move_on_after(200):
        await supervise(make_ctx("w"), spec, Beat("crashing", 60), backoff)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) > 10
    for n, gap in enumerate(gaps, start=1):
        full = min(8.0, 2.0 ** (n - 1))
        assert full / 2 <= gap <= full
    assert max(gaps) <= 8.0


@pytest.mark.trio
async def test_a_crashing_loop_is_restarted_while_the_others_keep_beating(
    make_ctx: Callable[[str], WorkerContext], wait_until: Any, caplog: Any
) -> None:
    """A crash restarts only that loop; its neighbour keeps beating and stays fresh; the log names
    the error type but not its message."""
    starts = 0

    async def crashing(ctx: WorkerContext, beat: Beat) -> None:
        nonlocal starts
        starts += 1
        beat.beat()
        await trio.sleep(0.01)
        raise RuntimeError("secret-token-in-message")

    specs = [LoopSpec("crashing", crashing, 5), LoopSpec("steady", beating, 5)]
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(
            partial(run_worker, make_ctx("w"), specs, backoff=FAST, handle_signals=False)
        )
        await wait_until(lambda: starts >= 5)
        loops = {loop.name: loop for loop in handle.freshness.loops()}
        assert loops["steady"].fresh and loops["steady"].age_s is not None
        assert loops["steady"].age_s < 5
        handle.stop()
    crash_lines = [r.getMessage() for r in caplog.records if "crashing crashed" in r.getMessage()]
    assert crash_lines and "RuntimeError" in crash_lines[0]
    assert not any("secret-token" in r.getMessage() for r in caplog.records)


@pytest.mark.trio
async def test_sigterm_cancels_every_loop_and_releases_leases_within_the_grace_period(
    make_ctx: Callable[[str], WorkerContext], wait_until: Any, db: Any, rds: Any
) -> None:
    """SIGTERM cancels plain and leased loops, releases the lease and removes the health hash;
    run_worker then returns normally."""
    cancelled: list[str] = []

    def remembering(name: str) -> Any:
        async def loop(ctx: WorkerContext, beat: Beat) -> None:
            try:
                await beating(ctx, beat)
            finally:
                cancelled.append(name)

        return loop

    ctx = make_ctx("w")
    specs = [
        LoopSpec("plain", remembering("plain"), 5),
        LoopSpec("single", remembering("single"), 5, "single"),
    ]
    with trio.fail_after(ctx.settings.worker_grace_s + 5):
        async with trio.open_nursery() as nursery:
            handle = await nursery.start(partial(run_worker, ctx, specs))
            await wait_until(lambda: len(handle.freshness.loops()) == 2)
            await wait_until(lambda: rds.exists("recon:worker:health:w") == 1)
            signal.raise_signal(signal.SIGTERM)
    assert sorted(cancelled) == ["plain", "single"]
    assert db.execute("SELECT holder FROM worker_leases WHERE name = 'single'").fetchone() == (None,)
    assert rds.exists("recon:worker:health:w") == 0


@pytest.mark.trio
async def test_the_watchdog_ends_the_worker_when_a_loop_overstays_its_hard_limit(
    make_ctx: Callable[[str], WorkerContext],
) -> None:
    """A loop that beats once and then hangs (not crashed) trips the hard limit: exit status 70."""

    async def hanging(ctx: WorkerContext, beat: Beat) -> None:
        beat.beat()
        await trio.sleep_forever()

    specs = [LoopSpec("hanging", hanging, budget_s=0.2), LoopSpec("steady", beating, 5)]
    with trio.fail_after(10), pytest.raises(HardLimitExceeded) as raised:
        await run_worker(make_ctx("w"), specs, hard_limit_factor=3, handle_signals=False)
    assert raised.value.code == EXIT_STUCK
    assert raised.value.loop == "hanging"
    assert raised.value.silent_s > 0.6


@pytest.mark.trio
async def test_a_standby_leased_loop_is_not_judged_by_the_watchdog(
    make_ctx: Callable[[str], WorkerContext],
) -> None:
    """A leased loop held by another replica never counts as stale here."""
    ctx = make_ctx("w")
    await ctx.db(partial(acquire, name="single", holder="other", ttl_s=60))
    specs = [LoopSpec("single", beating, budget_s=0.1, lease="single")]
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(
            partial(run_worker, ctx, specs, hard_limit_factor=2, handle_signals=False)
        )
        await trio.sleep(0.5)
        assert handle.freshness.report() == {
            "worker_id": "w",
            "healthy": True,
            "loops": [],
            "standby": ["single"],
        }
        handle.stop()


# -- the real process --------------------------------------------------------------------------


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.database_url and settings.redis_url
    return {
        **os.environ,
        "RECON_DATABASE_URL": settings.database_url,
        "RECON_REDIS_URL": settings.redis_url,
        "RECON_WORKER_HEALTH_PORT": "0",
        **extra,
    }


def wait_for_health_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"health on (http://\S+/health)", line)
        if found:
            return found.group(1)
    raise AssertionError(f"worker exited ({proc.wait()}) before serving health")


def test_python_m_recon_worker_serves_health_and_stops_cleanly_on_sigterm(settings: Settings) -> None:
    """The real command starts, answers /health and the health CLI, and exits 0 on SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "recon_worker"],
        cwd=ROOT,
        env=worker_env(settings),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = wait_for_health_url(proc)
        answer = httpx.get(url, timeout=5)
        assert answer.status_code == 200
        report = answer.json()
        assert report["healthy"] is True
        every_loop = {spec.name for spec in default_specs(settings)}
        assert {loop["name"] for loop in report["loops"]} | set(report["standby"]) == every_loop
        cli = subprocess.run(
            [sys.executable, "-m", "recon_worker.health", "--url", url],
            cwd=ROOT,
            capture_output=True,
            check=False,
            text=True,
        )
        assert cli.returncode == 0, cli.stdout + cli.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
        proc.wait()


def test_python_m_recon_worker_refuses_unknown_loop_names(settings: Settings) -> None:
    """``--loops`` with a name no loop has is a usage error (status 2)."""
    done = subprocess.run(
        [sys.executable, "-m", "recon_worker", "--loops", "no_such_loop"],
        cwd=ROOT,
        env=worker_env(settings),
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown loops: no_such_loop" in done.stderr


STUCK_IN_A_THREAD = """
import time, trio
from recon_impl.logs import configure_logging
from recon_impl.settings import Settings
from recon_worker.runtime import LoopSpec, build_context, run_worker

async def stuck(ctx, beat):
    beat.beat()
    await trio.to_thread.run_sync(time.sleep, 600)  # cannot be cancelled

configure_logging()
trio.run(run_worker, build_context(Settings()), [LoopSpec("stuck", stuck, budget_s=60)])
"""


def test_a_loop_stuck_in_a_thread_past_the_grace_period_ends_the_process_with_70(settings: Settings) -> None:
    """When a stop cannot finish within the grace period, the process exits 70 anyway."""
    env = worker_env(settings, RECON_WORKER_GRACE_S="0.5")
    proc = subprocess.Popen(
        [sys.executable, "-c", STUCK_IN_A_THREAD], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_health_url(proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == EXIT_STUCK
    finally:
        proc.kill()
        proc.wait()
