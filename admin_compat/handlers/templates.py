"""Bank SMS templates (legacy routes 4-6). recon compiles the template and checks the sample;
its 400 detail names the part that failed and becomes the 1001 message."""

from __future__ import annotations

from typing import Any

from admin_compat.handlers import actor, call, clean, known_id, not_empty, page, paging, require, success
from admin_compat.recon_api.api.templates import (
    recon_impl_http_handlers_templates_create_template as create_template,
)
from admin_compat.recon_api.api.templates import (
    recon_impl_http_handlers_templates_delete_template as remove_template,
)
from admin_compat.recon_api.api.templates import (
    recon_impl_http_handlers_templates_list_templates as list_all,
)
from admin_compat.recon_api.models import ReconImplHttpHandlersTemplatesCreateTemplateBody

FIELDS = (
    "id",
    "bank_code",
    "sender",
    "content",
    "type",
    "decimal_sep",
    "time_format",
    "tz",
    "status",
    "sample",
    "created_at",
)


def list_templates(body: dict[str, Any] | None = None) -> dict[str, Any]:
    require("recon:view")
    query = clean(body)
    filters = clean({"bank_code": not_empty(query.get("bank_code"))})
    result = call(list_all.sync_detailed, idempotent=True, **paging(query), **filters)
    return success(page(result, FIELDS))


def add_template(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    model = ReconImplHttpHandlersTemplatesCreateTemplateBody.from_dict(clean(body))
    created = call(create_template.sync_detailed, idempotent=False, body=model, **audit)
    return success({"id": created["id"]})


def delete_template(body: dict[str, Any]) -> dict[str, Any]:
    audit = actor("recon:edit")
    call(remove_template.sync_detailed, idempotent=True, template_id=known_id(body["id"]), **audit)
    return success(None)
