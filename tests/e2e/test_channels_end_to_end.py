"""End to end, every process for real: recon_service over HTTP, the whole worker (every loop of
``default_specs``) and the three doubles on loopback, real PostgreSQL and Redis, real time.

One SMS per channel (a signed shooter report, an SMS arriving on the Pushbullet phone, a post in
the Telegram channel) must each end matched to the order it pays, exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import trio
from pydantic import SecretStr

from infra.demo import DEMO_CHAT_ID, DemoTraffic, Endpoints, seed
from infra.doubles.pushbullet import DEMO_TOKEN, seed_demo
from infra.doubles.pushbullet import create_app as create_pushbullet
from infra.doubles.pushbullet_state import PushbulletState
from infra.doubles.serving import serve_in_thread
from infra.doubles.telegram import create_app as create_telegram
from infra.doubles.telegram_state import DEFAULT_TOKEN, TelegramState
from infra.doubles.wallet import BASE_PATH
from infra.doubles.wallet import create_app as create_wallet
from infra.doubles.wallet_state import WalletState
from recon_impl.http.app import DEVICE_BASE, INTERNAL_BASE, create_app
from recon_impl.settings import Settings
from recon_worker.loops import default_specs
from recon_worker.runtime import build_context, close_context, run_worker
from testkit import ENROLL_KEY, SERVICE_TOKEN


@pytest.fixture
def system(settings: Settings) -> Iterator[dict[str, Any]]:
    wallet = WalletState()
    wallet_url, stop_wallet = serve_in_thread(create_wallet(wallet))
    pushbullet = PushbulletState()
    _user, phone = seed_demo(pushbullet, DEMO_TOKEN)
    pushbullet_url, stop_pushbullet = serve_in_thread(create_pushbullet(pushbullet))
    telegram = TelegramState(token=DEFAULT_TOKEN)
    telegram_url, stop_telegram = serve_in_thread(create_telegram(telegram))
    full = settings.model_copy(
        update={
            "wallet_url": wallet_url + BASE_PATH,
            "pushbullet_api_url": pushbullet_url,
            "pushbullet_stream_url": pushbullet_url.replace("http://", "ws://") + "/websocket",
            "pushbullet_sync_interval_s": 5.0,
            "telegram_api_url": telegram_url,
            "telegram_bot_token": SecretStr(DEFAULT_TOKEN),
            "telegram_chat_ids": [DEMO_CHAT_ID],
            "telegram_poll_timeout_s": 2,
            "order_sync_interval_s": 0.3,
            "worker_health_port": 0,
            "worker_lease_s": 3.0,
            "worker_hard_limit_factor": 100.0,
        }
    )
    recon_url, stop_recon = serve_in_thread(create_app(full))
    endpoints = Endpoints(
        internal=recon_url + INTERNAL_BASE,
        device=recon_url + DEVICE_BASE,
        service_token=SERVICE_TOKEN,
        enroll_key=ENROLL_KEY,
        pushbullet_token=DEMO_TOKEN,
        pushbullet_phone=phone,
    )
    yield {
        "settings": full,
        "endpoints": endpoints,
        "wallet": wallet,
        "pushbullet": pushbullet,
        "telegram": telegram,
    }
    stop_recon()
    stop_telegram()
    stop_pushbullet()
    stop_wallet()


def demo_sms(database_url: str) -> list[tuple[int, str, str, str, int]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, source, order_id, content, status FROM sms WHERE content LIKE '%chuyen tien D%'"
            " ORDER BY id"
        ).fetchall()
    return [(int(i), str(s), str(o), str(c), int(st)) for i, s, o, c, st in rows]


@pytest.mark.trio
async def test_an_sms_through_each_channel_is_matched_to_the_order_it_pays_exactly_once(
    system: dict[str, Any],
) -> None:
    """Shooter, Pushbullet and Telegram: each SMS ends in status 1 with its own order, stored once."""
    settings: Settings = system["settings"]
    assert settings.database_url
    phone = await trio.to_thread.run_sync(seed, system["endpoints"])
    traffic = DemoTraffic(
        system["endpoints"], phone, system["wallet"], system["pushbullet"], system["telegram"], every_s=3600
    )
    system["telegram"].add_chat(DEMO_CHAT_ID, chat_type="channel", title="Bank SMS")
    ctx = build_context(settings)
    try:
        async with trio.open_nursery() as nursery:
            handle = await nursery.start(
                lambda task_status: run_worker(
                    ctx, default_specs(settings), handle_signals=False, task_status=task_status
                )
            )
            for n in (1, 2, 3):  # 1 = pushbullet, 2 = telegram, 3 = shooter (n % 3)
                await trio.to_thread.run_sync(traffic.send, n)

            def done() -> bool:
                return sum(1 for row in demo_sms(settings.database_url or "") if row[4] == 1) >= 3

            with trio.fail_after(60):  # a deadline, not a speed claim
                while not done():
                    await trio.sleep(0.2)
            await trio.sleep(1.5)  # room for a second, wrong delivery to show up
            async with httpx.AsyncClient(timeout=5) as client:  # served by this very trio run
                report = (await client.get(handle.health_url)).json()
            handle.stop()
    finally:
        close_context(ctx)
    rows = demo_sms(settings.database_url)
    assert sorted(row[1] for row in rows) == ["pushbullet", "shooter", "telegram"]
    api = system["endpoints"]
    for sms_id, source, order_id, content, status in rows:
        assert status == 1, (source, content)
        assert content.endswith(f"chuyen tien {order_id}"), (source, order_id, content)
        detail = httpx.get(
            f"{api.internal}/sms/{sms_id}", headers={"Authorization": f"Bearer {api.service_token}"}
        ).json()
        assert detail["order_id"] == order_id and detail["reason"] is None
        assert [c["order_id"] for c in detail["candidates"]] == [order_id]
    assert report["healthy"] is True, report
