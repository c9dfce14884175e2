"""Architecture boundaries 2 and 3 (docs: architecture.md, "Boundaries"), checked on the source.

- Nothing in recon_impl or recon_worker can write to the wallet: no HTTP call to an approve path,
  no write-method HTTP call at all outside a reviewed list, and the two wallet clients only GET.
- admin_compat never imports recon_impl or recon_worker, not even through another first-party
  module.
- Reviewing an SMS (the legacy sms/check) through recon's internal API reads the wallet and
  never writes to it.
"""

from __future__ import annotations

import ast
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit import ROOT, SERVICE_TOKEN

RECON_PACKAGES = ("recon_impl", "recon_worker")
WALLET_CLIENTS = ("recon_impl/adapters/wallet.py", "recon_worker/orders.py")
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Calls that can send a request whatever its method: each must be reviewed.
ANY_METHOD = {"request", "stream", "send", "build_request"}
# Reviewed receivers of a write-shaped call that are not HTTP clients: (module, receiver).
NOT_HTTP = {
    ("recon_worker/health.py", "pipe"),  # a Redis pipeline: DEL of a health key
    ("recon_worker/health.py", "rds"),  # Redis: DEL of this worker's health key
}
READ_ONLY_CLIENT_METHODS = {"get", "close", "aclose"}
DYNAMIC_IMPORTS = {"importlib.import_module", "__import__"}


def modules(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))


def calls(tree: ast.AST) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def strings_in(node: ast.AST) -> Iterator[str]:
    """String literals in an expression, f-string parts included."""
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child.value


def test_no_recon_module_sends_anything_to_an_approve_path():
    """No call in recon_impl or recon_worker has an argument that names an ``/approve`` path."""
    found = [
        f"{name}:{call.lineno}: {ast.unparse(call)[:100]}"
        for name, tree in modules(*RECON_PACKAGES)
        for call in calls(tree)
        for argument in [*call.args, *(k.value for k in call.keywords)]
        if any("/approve" in text for text in strings_in(argument))
    ]
    assert found == []


def test_every_write_shaped_call_in_recon_is_on_a_reviewed_non_http_receiver():
    """POST/PUT/PATCH/DELETE (or a generic request/send) only on reviewed receivers such as Redis."""
    found = []
    for name, tree in modules(*RECON_PACKAGES):
        for call in calls(tree):
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in WRITE_METHODS | ANY_METHOD:
                continue
            if (name, ast.unparse(func.value)) not in NOT_HTTP:
                found.append(f"{name}:{call.lineno}: {ast.unparse(call)[:100]}")
    assert found == [], "a write-shaped call in recon: if it is not HTTP, review it into NOT_HTTP"


def test_only_the_two_wallet_clients_build_an_http_client_for_the_wallet():
    """An httpx client whose construction mentions the wallet exists only in the two read-only modules."""
    found = []
    for name, tree in modules(*RECON_PACKAGES):
        for call in calls(tree):
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in {"Client", "AsyncClient"}:
                text = ast.unparse(call).lower()
                if "wallet" in text or name in WALLET_CLIENTS:
                    found.append(name)
    assert set(found) <= set(WALLET_CLIENTS)
    assert "recon_worker/orders.py" in found  # the worker's client is built there, from wallet_url


@pytest.mark.parametrize("name", WALLET_CLIENTS)
def test_the_wallet_clients_only_call_get_on_their_http_client(name):
    """Every method the wallet client calls on its httpx client is a GET (or closing it)."""
    tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
    used = {
        call.func.attr
        for call in calls(tree)
        if isinstance(call.func, ast.Attribute) and ast.unparse(call.func.value) == "self._client"
    }
    assert "get" in used  # the check looks at the right object
    assert used <= READ_ONLY_CLIENT_METHODS, used - READ_ONLY_CLIENT_METHODS
    methods = [
        text.upper()
        for call in calls(tree)
        for argument in call.args
        for text in strings_in(argument)
        if text.upper() in {"POST", "PUT", "PATCH", "DELETE"}
    ]
    assert methods == []


# --- admin_compat reaches recon only over HTTP -------------------------------------------------


def first_party_file(module: str) -> Path | None:
    base = ROOT / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file() and ".venv" not in candidate.parts:
            return candidate
    return None


def imported_names(path: Path, module: str) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)  # a submodule, maybe
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in DYNAMIC_IMPORTS:
            yield from (text for arg in node.args[:1] for text in strings_in(arg))


def test_admin_compat_never_imports_recon_impl_or_recon_worker_even_indirectly():
    """Every admin_compat module (recon_api included) and the first-party modules they import."""
    start = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in sorted((ROOT / "admin_compat").rglob("*.py"))
    ]
    assert "admin_compat.recon_api.client" in start
    seen: set[str] = set()
    bad: list[str] = []
    todo = [(name, name) for name in start]
    while todo:
        module, via = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = first_party_file(module)
        if path is None:
            continue
        for name in imported_names(path, module):
            if name.split(".")[0] in RECON_PACKAGES:
                bad.append(f"{module} (from {via}) imports {name}")
            elif first_party_file(name) is not None:
                todo.append((name, via))
    assert bad == []


# --- sms/check alone never calls the wallet ----------------------------------------------------


class MethodLog:
    """ASGI wrapper recording (method, path) of every request the wallet double receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@pytest.fixture
def logged_wallet() -> Iterator[tuple[str, Any, MethodLog]]:
    """A wallet double of this test's own, behind a request log: (base URL, state, log)."""
    from infra.doubles.serving import serve_in_thread
    from infra.doubles.wallet import BASE_PATH, create_app, state_of

    app = create_app()
    log = MethodLog(app)
    root, stop = serve_in_thread(log)
    yield root + BASE_PATH, state_of(app), log
    stop()


def test_reviewing_an_sms_through_recons_internal_api_reads_the_wallet_and_never_writes_it(
    settings, logged_wallet, enrolled, device_post, db
):
    """Confirm and reject over real HTTP: recon GETs the order, the wallet sees no approval, no write."""
    from admin_compat.recon_api import AuthenticatedClient
    from admin_compat.recon_api.api.sms import recon_impl_http_handlers_sms_review_sms as review_sms
    from admin_compat.recon_api.models.recon_impl_http_handlers_sms_review_sms_body import (
        ReconImplHttpHandlersSmsReviewSmsBody as ReviewBody,
    )
    from admin_compat.recon_api.models.recon_impl_http_handlers_sms_review_sms_body_check_status import (
        ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus as CheckStatus,
    )
    from infra.doubles.serving import serve_in_thread
    from recon_impl.http.app import create_app

    wallet_url, wallet, log = logged_wallet
    order = f"R{uuid.uuid4().hex[:12]}"
    wallet.add_order(order, "1500000.00")
    device_id, secret = enrolled()
    now = int(time.time())
    messages = [{"seq": n, "sender": "VCB", "content": f"sms {n}", "received_at": now} for n in (1, 2)]
    device_post("/api/shooter/sms/report", device_id, secret, {"messages": messages})
    confirm_id, reject_id = (row[0] for row in db.execute("SELECT id FROM sms ORDER BY id"))
    db.execute("UPDATE sms SET amount = 1500000, status = 2")

    recon_settings = settings.model_copy(update={"wallet_url": wallet_url})
    root, stop = serve_in_thread(create_app(recon_settings, validate_responses=True))
    api = AuthenticatedClient(base_url=root + "/internal/recon/v1", token=SERVICE_TOKEN)
    try:
        log.requests.clear()
        confirmed = review_sms.sync_detailed(
            confirm_id,
            client=api,
            body=ReviewBody(check_status=CheckStatus.VALUE_1, order_id=order),
            x_actor="alice",
        )
        rejected = review_sms.sync_detailed(
            reject_id, client=api, body=ReviewBody(check_status=CheckStatus.VALUE_2), x_actor="alice"
        )
    finally:
        api.get_httpx_client().close()
        stop()

    assert confirmed.status_code == 200, confirmed.content
    sms = confirmed.parsed
    assert (sms.status, sms.check_status, sms.order_id) == (1, 1, order)
    assert rejected.status_code == 200, rejected.content
    assert rejected.parsed.status == 4
    assert wallet.approvals == []
    assert log.requests, "the confirm should have read the order from the wallet"
    assert {method for method, _ in log.requests} == {"GET"}
    assert all("/approve" not in path for _, path in log.requests)
    assert wallet.get_order(order)["status"] == "pending"  # the order was not touched either
