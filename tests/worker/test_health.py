"""Health is freshness: stuck loops turn the endpoint, the CLI and the Redis summary red."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
import trio

from recon_worker.context import Beat, WorkerContext
from recon_worker.health import Freshness, summarise
from recon_worker.runtime import LoopSpec, run_worker
from testkit import ROOT

BUDGET_S = 0.5


async def beating(ctx: WorkerContext, beat: Beat) -> None:
    while True:
        beat.beat()
        await trio.sleep(0.02)


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(url)


async def health_cli(url: str) -> tuple[int, str]:
    done = await trio.run_process(
        [sys.executable, "-m", "recon_worker.health", "--url", url],
        cwd=ROOT,
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).decode()


@pytest.mark.trio
async def test_a_loop_that_never_beats_is_stale_once_its_budget_has_elapsed(autojump_clock: Any) -> None:
    """Before its first beat a loop is fresh for one budget (age None), then stale; a beat refreshes it."""
    freshness = Freshness("w")
    beat = Beat("slow", budget_s=10)
    freshness.own(beat)
    await trio.sleep(9)
    assert [loop.as_dict() for loop in freshness.loops()] == [
        {"name": "slow", "age_s": None, "budget_s": 10, "fresh": True}
    ]
    await trio.sleep(2)
    assert freshness.report()["healthy"] is False
    beat.beat()
    await trio.sleep(1)
    assert freshness.loops()[0].as_dict() == {"name": "slow", "age_s": 1.0, "budget_s": 10, "fresh": True}


@pytest.mark.trio
@pytest.mark.parametrize("where", ["trio", "thread"])
async def test_a_stuck_loop_turns_health_red_within_its_budget(
    make_ctx: Callable[[str], WorkerContext], wait_until: Any, rds: Any, where: str
) -> None:
    """A loop stuck (not crashed) in trio or in a thread goes stale after its budget: the endpoint
    answers 503, the CLI exits 1 naming it, and the Redis summary lists it."""
    go_stuck = trio.Event()
    release = threading.Event()

    async def sticky(ctx: WorkerContext, beat: Beat) -> None:
        while not go_stuck.is_set():
            beat.beat()
            await trio.sleep(0.02)
        if where == "trio":
            await trio.sleep_forever()
        await trio.to_thread.run_sync(release.wait, abandon_on_cancel=True)

    specs = [LoopSpec("sticky", sticky, BUDGET_S), LoopSpec("steady", beating, BUDGET_S)]
    try:
        async with trio.open_nursery() as nursery:
            handle = await nursery.start(partial(run_worker, make_ctx("w"), specs, handle_signals=False))
            answer = await get(handle.health_url)
            assert answer.status_code == 200 and answer.json()["healthy"] is True
            code, text = await health_cli(handle.health_url)
            assert code == 0, text
            assert "sticky" in text and "steady" in text and "STALE" not in text

            stuck_at = trio.current_time()
            go_stuck.set()
            await wait_until(lambda: not handle.freshness.report()["healthy"])
            assert trio.current_time() - stuck_at >= BUDGET_S - 0.05  # not before its budget (last beat)

            answer = await get(handle.health_url)
            assert answer.status_code == 503
            loops = {loop["name"]: loop for loop in answer.json()["loops"]}
            assert loops["sticky"]["fresh"] is False and loops["sticky"]["age_s"] > BUDGET_S
            assert loops["steady"]["fresh"] is True
            code, text = await health_cli(handle.health_url)
            assert code == 1
            assert "sticky" in text and "STALE" in text

            await wait_until(lambda: summarise(rds)["stale_loops"] == ["w/sticky"])
            assert summarise(rds)["healthy"] is False
            handle.stop()
    finally:
        release.set()


@pytest.mark.trio
async def test_health_is_published_to_redis_while_running_and_removed_on_stop(
    make_ctx: Callable[[str], WorkerContext], wait_until: Any, rds: Any
) -> None:
    """Each worker writes a hash with a TTL; summarise reads the fleet; a stopped worker disappears."""
    assert summarise(rds) == {"healthy": False, "workers": [], "stale_loops": []}
    async with trio.open_nursery() as nursery:
        handles = [
            await nursery.start(
                partial(run_worker, make_ctx(worker), [LoopSpec("steady", beating, 5)], handle_signals=False)
            )
            for worker in ("w1", "w2")
        ]
        await wait_until(lambda: len(summarise(rds)["workers"]) == 2)
        summary = summarise(rds)
        assert summary["healthy"] is True and summary["stale_loops"] == []
        assert [w["worker_id"] for w in summary["workers"]] == ["w1", "w2"]
        assert summary["workers"][0]["loops"][0]["name"] == "steady"
        assert 0 < rds.ttl("recon:worker:health:w1") <= 1  # three publish periods of 0.2 s, rounded up
        assert json.loads(rds.hget("recon:worker:health:w1", "loops"))[0]["fresh"] is True
        handles[0].stop()
        await wait_until(lambda: [w["worker_id"] for w in summarise(rds)["workers"]] == ["w2"])
        handles[1].stop()
    assert summarise(rds)["workers"] == []


@pytest.mark.trio
async def test_the_endpoint_answers_404_off_its_path(make_ctx: Callable[[str], WorkerContext]) -> None:
    """Only GET /health is served."""
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(partial(run_worker, make_ctx("w"), [], handle_signals=False))
        answer = await get(handle.health_url.replace("/health", "/other"))
        assert answer.status_code == 404
        handle.stop()


@pytest.mark.trio
async def test_the_cli_fails_when_the_worker_cannot_be_reached() -> None:
    """No worker listening: exit 1 with a message."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, text = await health_cli(f"http://127.0.0.1:{port}/health")
    assert code == 1
    assert "unreachable" in text
