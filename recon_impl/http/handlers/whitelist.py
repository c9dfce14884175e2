"""/whitelist"""

from __future__ import annotations

from typing import Any

from recon_impl.http.deps import Reply, actor, header, ok, unit_of_work
from recon_impl.services import catalog, idempotency
from recon_impl.services.views import page_view, whitelist_view


def list_entries(page: int = 1, page_size: int = 20, phone: str | None = None) -> Reply:
    with unit_of_work() as session:
        return ok(page_view(catalog.list_whitelist(session, page, page_size, phone), whitelist_view))


def create_entry(body: dict[str, Any]) -> Reply:
    who, key = actor(), header("Idempotency-Key")
    with unit_of_work() as session:
        answer = idempotency.once(
            session,
            "whitelist.create",
            key,
            body,
            lambda: catalog.create_whitelist_entry(session, who, body),
        )
    return ok(answer, 201)


def get_entry(entry_id: int) -> Reply:
    with unit_of_work() as session:
        return ok(whitelist_view(catalog.get_whitelist_entry(session, entry_id)))


def delete_entry(entry_id: int) -> tuple[None, int]:
    with unit_of_work() as session:
        catalog.delete_whitelist_entry(session, actor(), entry_id)
    return None, 204
