"""The whole approval/top-info path on loopback for the edge's end-to-end tests: a real
recon_service (PostgreSQL, Redis) and the admin edge, each served by uvicorn in a thread, the
test's own wallet double behind both, and a legacy admin session."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import redis
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

import recon_impl.http.app
from admin_compat.app import EdgeSettings
from admin_compat.app import create_app as create_edge
from admin_compat.app import deps as edge_deps
from admin_compat.legacy_auth import Session as AdminSession
from admin_compat.legacy_auth import create_session
from admin_compat.wallet_client import WalletClient, WalletConfig, set_wallet
from infra.doubles.serving import serve_in_thread
from infra.doubles.wallet import DEFAULT_TOKEN
from infra.doubles.wallet_state import WalletState
from recon_impl.domain.matching import OrderBook, PendingOrder
from recon_impl.services.catalog import create_whitelist_entry
from recon_impl.services.context import Actor
from recon_impl.services.ingest import Incoming, store_incoming
from recon_impl.services.templates import create_template
from recon_impl.settings import Settings
from recon_impl.storage.db import make_engine, make_session_factory, transaction
from recon_impl.storage.models import Sms
from recon_worker.decide import Book, decide_new, load_catalog
from recon_worker.loops.processing import match_config
from testkit import SERVICE_TOKEN

RECON_BASE = "/internal/recon/v1"
ADMIN_BASE = "/api/admin"
TEMPLATE = {
    "bank_code": "VCB",
    "sender": "VCB",
    "content": "TK {card} +{amount}VND tu {name}. Ref {ref}",
    "type": 1,
    "decimal_sep": ".",
}
ALL_PERMS = ("recon:view", "recon:edit", "recon:check", "recharge:approve")


@dataclass
class Stack:
    settings: Settings
    wallet: WalletState
    recon_url: str
    edge_url: str
    token: str
    sessions: sessionmaker[Session]
    redis: redis.Redis
    stop_recon: Callable[[], None]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10.0))
    _catalog_ready: bool = False

    def admin(self, route: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
        """POST a legacy admin route; the envelope."""
        headers = {"X-Token": token or self.token}
        answer = self.http.post(f"{self.edge_url}/{route}", json=body or {}, headers=headers)
        return answer.json()

    def admin_get(self, route: str, params: dict[str, Any] | None = None) -> Any:
        answer = self.http.get(f"{self.edge_url}/{route}", params=params, headers={"X-Token": self.token})
        return answer.json()

    def recon(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """Call recon's internal API directly, as admin_service would."""
        headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-Actor": "alice"}
        return self.http.request(method, f"{self.recon_url}{path}", json=body, headers=headers)

    def sms_row(self, sms_id: int) -> dict[str, Any]:
        with transaction(self.sessions) as session:
            row = session.get(Sms, sms_id)
            assert row is not None
            return {
                "status": row.status,
                "check_status": row.check_status,
                "order_id": row.order_id,
                "approval_order_id": row.approval_order_id,
            }

    def stored_sms(self, text: str) -> int:
        """Store an SMS from the whitelisted, templated sender VCB; its id (status 0)."""
        actor = Actor("alice")
        with transaction(self.sessions) as session:
            if not self._catalog_ready:
                create_whitelist_entry(session, actor, {"phone": "VCB", "bank_code": "VCB"})
                create_template(session, actor, dict(TEMPLATE), self.settings.default_tz)
                self._catalog_ready = True
            item = Incoming(
                source="telegram",
                source_id=f"c:{uuid.uuid4().hex}",
                device_id="-1001",
                sender="VCB",
                content=text,
                received_at=datetime.now(UTC),
            )
            return store_incoming(session, Actor("test"), [item]).new_ids[0]

    def decide(self, *orders: PendingOrder) -> None:
        """Run the worker's decide path once over the new SMS, with ``orders`` pending."""
        now = int(time.time())
        with transaction(self.sessions) as session:
            catalog = load_catalog(session, self.settings.default_tz)
            book = Book(OrderBook(orders), fresh=True)
            decide_new(session, catalog, book, match_config(self.settings), now)

    def matched_sms(self, order_id: str, amount: str) -> int:
        """A stored SMS of ``amount`` that the worker's decide path matched to a new order."""
        self.wallet.add_order(order_id, amount, payer_name="NGUYEN VAN A", card_tail="6789")
        text = f"TK ****6789 +{Decimal(amount):,.0f}VND tu NGUYEN VAN A. Ref {uuid.uuid4().hex[:8]}"
        sms_id = self.stored_sms(text)
        self.decide(
            PendingOrder(
                order_id,
                Decimal(amount),
                created_at=int(time.time()),
                card_tail="6789",
                payer_name="NGUYEN VAN A",
            )
        )
        row = self.sms_row(sms_id)
        assert (row["status"], row["order_id"]) == (1, order_id), row
        return sms_id

    def need_check_sms(self) -> int:
        """An SMS that looks like money but that no template reads: need_check (status 2)."""
        sms_id = self.stored_sms(f"VCB: so du tang +{uuid.uuid4().int % 900000 + 100000:,}VND luc 10:00")
        self.decide()
        assert self.sms_row(sms_id)["status"] == 2
        return sms_id

    def confirmed_sms(self, order_id: str, amount: str) -> int:
        """A matched SMS that a person confirmed through recon's internal review operation."""
        sms_id = self.matched_sms(order_id, amount)
        answer = self.recon("POST", f"/sms/{sms_id}/review", {"check_status": 1})
        assert answer.status_code == 200, answer.text
        return sms_id


def admin_token(client: redis.Redis, perms: tuple[str, ...] = ALL_PERMS) -> str:
    session = AdminSession(admin_id=7, username="alice", role_id=2, perms=perms, login_at=int(time.time()))
    return create_session(client, session)


def wallet_client(base_url: str, **overrides: Any) -> WalletClient:
    options: dict[str, Any] = {"read_s": 1.0, "attempts": 2, "retry_budget_s": 3.0}
    options.update(overrides)
    return WalletClient(WalletConfig(base_url, DEFAULT_TOKEN, **options))


@contextmanager
def edge_stack(
    settings: Settings, fresh_wallet: tuple[str, WalletState], **wallet_options: Any
) -> Iterator[Stack]:
    """recon_service and the edge on loopback over the test's stores and wallet double."""
    assert settings.database_url and settings.redis_url
    recon_settings = settings.model_copy(update={"wallet_url": fresh_wallet[0]})
    recon_root, stop_recon = serve_in_thread(
        recon_impl.http.app.create_app(recon_settings, validate_responses=True)
    )
    recon_url = recon_root + RECON_BASE
    edge_settings = EdgeSettings(
        recon_url=recon_url,
        recon_token=SecretStr(SERVICE_TOKEN),
        redis_url=settings.redis_url,
        validate_responses=True,
    )
    wallet = wallet_client(fresh_wallet[0], **wallet_options)
    set_wallet(wallet)
    edge = create_edge(edge_settings)
    edge_root, stop_edge = serve_in_thread(edge)
    engine = make_engine(settings.database_url, pool_size=2)
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    stack = Stack(
        settings=recon_settings,
        wallet=fresh_wallet[1],
        recon_url=recon_url,
        edge_url=edge_root + ADMIN_BASE,
        token=admin_token(client),
        sessions=make_session_factory(engine),
        redis=client,
        stop_recon=stop_recon,
    )
    # The first request to a new app pays its warm-up (pools, lazy imports): not the budget's.
    assert stack.recon("GET", "/stats").status_code == 200
    try:
        yield stack
    finally:
        stack.http.close()
        stop_edge()
        edge_deps().recon.close()
        stop_recon()
        set_wallet(None)
        wallet.close()
        client.close()
        engine.dispose()
