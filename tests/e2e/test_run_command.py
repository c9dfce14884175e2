"""The README's run command starts recon_service, the worker, the doubles, the legacy admin edge
and the demo traffic, and stops all of it on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import redis

from admin_compat.legacy_auth import Session, create_session
from testkit import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, deadline_s: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_run_command_serves_both_specs_their_swagger_ui_and_stops_cleanly_on_ctrl_c(clean_stores):
    """Both specs and their UIs are served, the worker is healthy, demo SMS get matched and show through
    the legacy admin edge, Ctrl-C ends all."""
    # Emptied stores: SMS left matched by earlier tests would pass for the demo's (and then be
    # released by the worker, whose wallet never had their orders).
    stores = clean_stores
    port, wallet_port, health_port, admin_port = free_port(), free_port(), free_port(), free_port()
    env = {**os.environ, "RECON_DATABASE_URL": stores[0], "RECON_REDIS_URL": stores[1]}
    ports = ["--port", str(port), "--wallet-port", str(wallet_port), "--worker-health-port", str(health_port)]
    ports += ["--admin-port", str(admin_port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "recon_impl.devrun", *ports, "--demo-every", "0.5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/internal/recon/v1/health").json()["status"] == "ok"
        for spec in ("/internal/recon/v1", "/api/shooter"):
            assert httpx.get(f"{base}{spec}/ui/").status_code == 200
            assert httpx.get(f"{base}{spec}/openapi.json").json()["openapi"].startswith("3.0")
        counts = httpx.get(
            f"http://127.0.0.1:{wallet_port}/wallet/v1/pending-counts",
            headers={"Authorization": "Bearer wallet-dev-token"},
        ).json()
        assert counts["recharge_pending_cnt"] >= 1
        auth = {"Authorization": "Bearer recon-dev-service-token"}
        deadline = time.monotonic() + 60  # a deadline, not a speed claim
        while True:
            matched = httpx.get(f"{base}/internal/recon/v1/sms", params={"status": 1}, headers=auth).json()
            try:  # the worker is a process of its own: its port opens a little later
                healthy = httpx.get(f"http://127.0.0.1:{health_port}/health", timeout=5).status_code == 200
            except httpx.TransportError:
                healthy = False
            sources = {item["source"] for item in matched["items"]}
            if healthy and sources == {"shooter", "pushbullet", "telegram"}:
                break
            assert time.monotonic() < deadline, (healthy, matched)
            time.sleep(0.5)
        # The legacy edge answers the old front-end's routes for an admin session.
        with redis.Redis.from_url(stores[1]) as client:
            token = create_session(client, Session(1, "tester", 1, (), int(time.time())))
        edge = f"http://127.0.0.1:{admin_port}/api/admin"
        listed = httpx.post(f"{edge}/shooter/sms/list", json={"status": 1}, headers={"X-Token": token}).json()
        assert listed["code"] == 0 and listed["data"]["total"] >= 3, listed
        top = httpx.get(f"{edge}/top/info", headers={"X-Token": token}).json()
        assert top["code"] == 0 and top["data"]["recharge_pending_cnt"] >= 1, top
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "worker" in output and "stopped" in output, output
    assert f"http://127.0.0.1:{admin_port}/api/admin  (X-Token: " in output
    assert f"{base}/internal/recon/v1/ui/" in output and f"{base}/api/shooter/ui/" in output
