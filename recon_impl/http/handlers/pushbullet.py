"""/pushbullet-accounts"""

from __future__ import annotations

from typing import Any

from recon_impl.http.deps import Reply, actor, deps, header, ok, unit_of_work
from recon_impl.services import catalog, idempotency
from recon_impl.services.views import page_view, pushbullet_view, utcnow


def list_accounts(page: int = 1, page_size: int = 20, status: int | None = None) -> Reply:
    now = utcnow()
    with unit_of_work() as session:
        result = catalog.list_accounts(session, page, page_size, status)
        return ok(page_view(result, lambda row: pushbullet_view(row, now)))


def create_account(body: dict[str, Any]) -> Reply:
    box, who, key = deps().box, actor(), header("Idempotency-Key")
    with unit_of_work() as session:
        answer = idempotency.once(
            session,
            "pushbullet.create",
            key,
            body,
            lambda: catalog.create_account(session, box, who, body),
        )
    return ok(answer, 201)


def get_account(account_id: int) -> Reply:
    with unit_of_work() as session:
        return ok(pushbullet_view(catalog.get_account(session, account_id), utcnow()))


def delete_account(account_id: int) -> tuple[None, int]:
    with unit_of_work() as session:
        catalog.delete_account(session, actor(), account_id)
    return None, 204
