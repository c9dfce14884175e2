"""top/info end to end: wallet counts and recon's need-check count, fetched concurrently within
a time budget, with the last good values in Redis ``admin:top_info:cache`` as the fallback."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from edge_stack import Stack, edge_stack, wallet_client
from sqlalchemy import text

from admin_compat.app import deps
from admin_compat.top_info import CACHE_KEY, Sources, configured, top_info
from infra.doubles.wallet_state import WalletState
from recon_impl.settings import Settings

SLOW_S = 1.5  # a slow source's delay, far beyond the budget
# Budgets: generous where a test expects fresh values (a loaded two-core CI box must not turn
# them into cached ones), and the default 0.3 s where it proves the route does not wait.
FRESH_BUDGET_S = "2.0"


@pytest.fixture
def stack(settings: Settings, fresh_wallet: tuple[str, WalletState]) -> Iterator[Stack]:
    with edge_stack(settings, fresh_wallet) as running:
        yield running


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """``budget("2.0")`` sets ADMIN_TOP_INFO_BUDGET_S for the edge; the default comes back after."""

    def set_budget(seconds: str) -> None:
        monkeypatch.setenv("ADMIN_TOP_INFO_BUDGET_S", seconds)
        configured.cache_clear()

    set_budget(FRESH_BUDGET_S)
    yield set_budget
    monkeypatch.delenv("ADMIN_TOP_INFO_BUDGET_S")
    configured.cache_clear()


def seed(stack: Stack, *, recharge: int, withdraw: int, need_check: int) -> None:
    for n in range(recharge):
        stack.wallet.add_order(f"R-{n}", "100")
    stack.wallet.add_order("R-closed", "100")
    stack.wallet.cancel("R-closed")
    stack.wallet.set_withdraw_pending(withdraw)
    for _ in range(need_check):
        stack.need_check_sms()


def counters(stack: Stack) -> dict[str, Any]:
    answer = stack.admin("top/info")
    assert (answer["code"], answer["msg"]) == (0, "success"), answer
    return dict(answer["data"])


def info(recharge: int, withdraw: int, need_check: int) -> dict[str, int]:
    return {
        "recharge_pending_cnt": recharge,
        "withdraw_pending_cnt": withdraw,
        "sms_need_check_cnt": need_check,
    }


def test_with_every_source_up_the_counters_are_fresh_and_cached(
    stack: Stack, budget: Callable[[str], None]
) -> None:
    """Wallet pending counts and recon's status-2 count, and the cache hash holds the same."""
    seed(stack, recharge=2, withdraw=4, need_check=3)
    assert counters(stack) == info(2, 4, 3)
    assert stack.redis.hgetall(CACHE_KEY) == {
        "recharge_pending_cnt": "2",
        "withdraw_pending_cnt": "4",
        "sms_need_check_cnt": "3",
    }
    assert stack.redis.ttl(CACHE_KEY) == -1  # no TTL


def test_a_down_wallet_is_served_from_the_cache_while_recon_stays_fresh(
    stack: Stack, budget: Callable[[str], None]
) -> None:
    """Wallet 503s: its two fields are the last good values; recon's field still moves."""
    seed(stack, recharge=2, withdraw=4, need_check=1)
    assert counters(stack) == info(2, 4, 1)
    stack.wallet.set_withdraw_pending(9)
    stack.wallet.down = True
    stack.need_check_sms()
    assert counters(stack) == info(2, 4, 2)


def test_a_down_wallet_with_nothing_cached_reads_zero(stack: Stack, budget: Callable[[str], None]) -> None:
    """No last good value yet: the wallet's fields are 0, and the route still answers code 0."""
    seed(stack, recharge=2, withdraw=4, need_check=1)
    stack.wallet.down = True
    assert counters(stack) == info(0, 0, 1)


def test_a_stopped_recon_is_served_from_the_cache_else_zero(
    stack: Stack, budget: Callable[[str], None]
) -> None:
    """recon_service stopped: sms_need_check_cnt is the cached value, then 0 once the cache is gone."""
    seed(stack, recharge=1, withdraw=2, need_check=2)
    assert counters(stack) == info(1, 2, 2)
    stack.stop_recon()
    stack.wallet.set_withdraw_pending(5)
    assert counters(stack) == info(1, 5, 2)
    stack.redis.delete(CACHE_KEY)
    assert counters(stack) == info(1, 5, 0)


def test_a_slow_wallet_does_not_hold_the_answer_past_the_budget(
    stack: Stack, budget: Callable[[str], None]
) -> None:
    """The wallet takes 1.5 s: with the default 0.3 s budget the route answers well before,
    the wallet fields from the cache."""
    seed(stack, recharge=1, withdraw=4, need_check=1)
    assert counters(stack) == info(1, 4, 1)
    budget("0.3")
    stack.wallet.set_withdraw_pending(8)
    stack.wallet.delay_seconds = SLOW_S
    started = time.monotonic()
    got = counters(stack)
    elapsed = time.monotonic() - started
    assert got == info(1, 4, 1)
    assert elapsed < SLOW_S - 0.3, elapsed


def test_a_slow_recon_does_not_hold_the_answer_past_the_budget(
    stack: Stack, budget: Callable[[str], None]
) -> None:
    """recon's /stats waits on a table lock the test holds: the route answers within its
    budget (0.6 s here), sms_need_check_cnt from the cache, the wallet's fields fresh."""
    seed(stack, recharge=1, withdraw=1, need_check=2)
    assert counters(stack) == info(1, 1, 2)
    budget("0.6")
    stack.wallet.set_withdraw_pending(6)
    with stack.sessions() as session, session.begin():
        session.execute(text("LOCK TABLE sms IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        got = counters(stack)
        elapsed = time.monotonic() - started
        time.sleep(1.0)
    assert got == info(1, 6, 2)
    assert elapsed < 1.4, elapsed  # the lock is held far longer: only the budget ends the wait


def test_the_get_form_answers_the_same_as_the_post_form(stack: Stack, budget: Callable[[str], None]) -> None:
    """GET /top/info and POST /top/info give the same envelope."""
    seed(stack, recharge=3, withdraw=1, need_check=1)
    posted = stack.admin("top/info")
    assert posted["code"] == 0
    assert stack.admin_get("top/info") == posted


def test_the_get_form_ignores_a_cache_buster_query_parameter(
    stack: Stack, budget: Callable[[str], None]
) -> None:
    """GET /top/info?_t=... answers the same as without the cache-buster."""
    seed(stack, recharge=3, withdraw=1, need_check=1)
    busted = stack.admin_get("top/info", {"_t": "1733200000"})
    assert busted["code"] == 0, busted
    assert busted == stack.admin_get("top/info")


def test_a_late_answer_still_refreshes_the_cache_and_polls_share_one_call(stack: Stack) -> None:
    """Five polls at once while the wallet takes 0.8 s: one wallet request, all answer from the
    cache within the budget, and the late answer lands in the cache for the next poll."""
    seed(stack, recharge=1, withdraw=3, need_check=0)
    wallet = wallet_client(stack.settings.wallet_url, read_s=3.0)
    sources = Sources(deps().recon, wallet, stack.redis, wallet_timeout_s=3.0)
    assert top_info(sources, 2.0) == info(1, 3, 0)
    stack.wallet.set_withdraw_pending(7)
    stack.wallet.delay_seconds = 0.8
    requests = stack.wallet.request_count
    answers: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: answers.append(top_info(sources, 0.2))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == [info(1, 3, 0)] * 5
    deadline = time.monotonic() + 5
    while stack.redis.hget(CACHE_KEY, "withdraw_pending_cnt") != "7" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stack.redis.hget(CACHE_KEY, "withdraw_pending_cnt") == "7"
    assert stack.wallet.request_count == requests + 1
    wallet.close()
