"""/templates"""

from __future__ import annotations

from typing import Any

from recon_impl.http.deps import Reply, actor, deps, header, ok, unit_of_work
from recon_impl.services import idempotency, templates
from recon_impl.services.views import page_view, template_view


def list_templates(page: int = 1, page_size: int = 20, bank_code: str | None = None) -> Reply:
    with unit_of_work() as session:
        return ok(page_view(templates.list_templates(session, page, page_size, bank_code), template_view))


def create_template(body: dict[str, Any]) -> Reply:
    who, key, tz = actor(), header("Idempotency-Key"), deps().settings.default_tz
    with unit_of_work() as session:
        answer = idempotency.once(
            session,
            "template.create",
            key,
            body,
            lambda: templates.create_template(session, who, body, tz),
        )
    return ok(answer, 201)


def backtest_template(body: dict[str, Any]) -> Reply:
    with unit_of_work() as session:
        return ok(templates.backtest_template(session, body, deps().settings.default_tz))


def get_template(template_id: int) -> Reply:
    with unit_of_work() as session:
        return ok(template_view(templates.get_template(session, template_id)))


def delete_template(template_id: int) -> tuple[None, int]:
    with unit_of_work() as session:
        templates.delete_template(session, actor(), template_id)
    return None, 204
