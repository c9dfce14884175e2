"""Recharge templates: list, read, add (compiled, sample-checked, collision report), delete, and
the backtest dry run over stored SMS."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recon_impl.domain import template_syntax
from recon_impl.domain.errors import NotFound
from recon_impl.domain.money import format_amount
from recon_impl.domain.templates import (
    CollisionReport,
    ParsedSms,
    TemplateSpec,
    backtest,
    collisions,
    compile_template,
    validate_sample,
)
from recon_impl.services.context import Actor
from recon_impl.services.journal import audit
from recon_impl.services.paging import Page, paginate
from recon_impl.services.views import template_view, utcnow
from recon_impl.storage.models import Sms, Template

NEW_ID = 0  # the id a template has before it is stored


def list_templates(session: Session, page: int, page_size: int, bank_code: str | None) -> Page[Any]:
    query = select(Template).where(Template.deleted_at.is_(None))
    if bank_code is not None:
        query = query.where(Template.bank_code == bank_code)
    return paginate(session, query.order_by(Template.id.desc()), page, page_size)


def get_template(session: Session, template_id: int) -> Template:
    row = session.get(Template, template_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"template {template_id} does not exist")
    return row


def spec_of(row: Template) -> TemplateSpec:
    return TemplateSpec(
        id=row.id,
        bank_code=row.bank_code,
        sender=row.sender,
        content=row.content,
        type=row.type,
        decimal_sep=row.decimal_sep,
        time_format=row.time_format,
        tz=row.tz,
        status=row.status,
        sample=row.sample,
    )


def spec_from_body(body: dict[str, Any]) -> TemplateSpec:
    return TemplateSpec(
        id=NEW_ID,
        bank_code=body.get("bank_code") or "",
        sender=body["sender"],
        content=body["content"],
        type=body["type"],
        decimal_sep=body.get("decimal_sep") or ".",
        time_format=body.get("time_format") or None,
        tz=body.get("tz") or None,
        sample=body.get("sample") or None,
    )


def checked_spec(body: dict[str, Any], default_tz: str) -> TemplateSpec:
    """The body as a template the engine accepts; its sample must parse (else ``InvalidInput``)."""
    template_syntax.check_new_content(body["content"])
    template_syntax.check_time_zone(body.get("tz"))
    spec = spec_from_body(body)
    compile_template(spec, default_tz)
    if spec.sample is not None:
        validate_sample(spec, default_tz)
    return spec


def create_template(session: Session, actor: Actor, body: dict[str, Any], default_tz: str) -> dict[str, Any]:
    """Store a template once it compiles and parses its sample; report overlaps with others."""
    spec = checked_spec(body, default_tz)
    row = Template(
        bank_code=spec.bank_code,
        sender=spec.sender,
        content=spec.content,
        type=spec.type,
        decimal_sep=spec.decimal_sep,
        time_format=spec.time_format,
        tz=spec.tz,
        status=1,
        sample=spec.sample,
    )
    session.add(row)
    session.flush()
    live = session.scalars(select(Template).where(Template.deleted_at.is_(None), Template.id != row.id))
    report = collisions(replace(spec, id=row.id), [spec_of(other) for other in live], default_tz)
    view = template_view(row)
    audit(session, actor, "template.add", "template", row.id, after=view)
    return {**view, "collisions": collisions_view(report)}


def delete_template(session: Session, actor: Actor, template_id: int) -> None:
    row = get_template(session, template_id)
    row.deleted_at = utcnow()
    audit(session, actor, "template.delete", "template", row.id, before=template_view(row))


def collisions_view(report: CollisionReport) -> dict[str, Any]:
    def clash(items: Any) -> list[dict[str, int]]:
        return [{"sample_of": c.sample_of, "other": c.other, "winner": c.winner} for c in items]

    return {
        "on_new_sample": clash(report.on_new_sample),
        "on_existing_samples": clash(report.on_existing_samples),
    }


def parsed_view(parsed: ParsedSms | None) -> dict[str, Any] | None:
    if parsed is None:
        return None
    return {
        "type": parsed.type,
        "amount": format_amount(parsed.amount),
        "balance": format_amount(parsed.balance),
        "card_tail": parsed.card_tail,
        "payer_name": parsed.payer_name,
        "ref": parsed.ref,
        "bank_time": parsed.bank_time,
    }


def backtest_template(session: Session, body: dict[str, Any], default_tz: str) -> dict[str, Any]:
    """Dry run: what the template in ``body`` would extract from the newest stored SMS of its
    senders. Nothing is written."""
    spec = checked_spec(body, default_tz)
    limit = int(body.get("limit") or 200)
    rows = session.execute(
        select(Sms.id, Sms.sender, Sms.content, Sms.template_id)
        .where(Sms.sender_norm.in_(sorted(spec.senders())))
        .order_by(Sms.id.desc())
        .limit(limit)
    ).all()
    results = backtest(spec, [(row.sender, row.content) for row in rows], default_tz)
    items = [
        {"sms_id": row.id, "current_template_id": row.template_id, "parsed": parsed_view(parsed)}
        for row, parsed in zip(rows, results, strict=True)
    ]
    return {
        "checked": len(items),
        "parsed": sum(item["parsed"] is not None for item in items),
        "results": items,
    }
