"""/templates"""

from __future__ import annotations

from typing import Any

from recon_impl.http.deps import Reply, actor, header, ok, unit_of_work
from recon_impl.services import catalog, idempotency
from recon_impl.services.views import page_view, template_view


def list_templates(page: int = 1, page_size: int = 20, bank_code: str | None = None) -> Reply:
    with unit_of_work() as session:
        return ok(page_view(catalog.list_templates(session, page, page_size, bank_code), template_view))


def create_template(body: dict[str, Any]) -> Reply:
    who, key = actor(), header("Idempotency-Key")
    with unit_of_work() as session:
        answer = idempotency.once(
            session,
            "template.create",
            key,
            body,
            lambda: catalog.create_template(session, who, body),
        )
    return ok(answer, 201)


def get_template(template_id: int) -> Reply:
    with unit_of_work() as session:
        return ok(template_view(catalog.get_template(session, template_id)))


def delete_template(template_id: int) -> tuple[None, int]:
    with unit_of_work() as session:
        catalog.delete_template(session, actor(), template_id)
    return None, 204
