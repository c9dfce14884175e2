"""Pushbullet accounts and the whitelist: create, read, list, soft-delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recon_impl.domain.errors import Duplicate, InvalidInput, NotFound
from recon_impl.domain.normalize import normalize_phone
from recon_impl.security import SecretBox, token_fingerprint, token_mask
from recon_impl.services.context import Actor
from recon_impl.services.journal import audit
from recon_impl.services.paging import Page, paginate
from recon_impl.services.views import pushbullet_view, utcnow, whitelist_view
from recon_impl.storage.models import Base, PushbulletAccount, WhitelistEntry

MAX_TOKEN = 512


def _live(session: Session, model: type[Any], row_id: int, label: str) -> Any:
    row = session.get(model, row_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(f"{label} {row_id} does not exist")
    return row


def _insert(session: Session, row: Base, duplicate_message: str) -> None:
    """Insert under a savepoint so a unique violation becomes ``Duplicate``."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Duplicate(duplicate_message) from exc


def _soft_delete(session: Session, actor: Actor, row: Any, entity: str, view: dict[str, Any]) -> None:
    row.deleted_at = utcnow()
    audit(session, actor, f"{entity}.delete", entity, row.id, before=view)


# Pushbullet accounts ---------------------------------------------------------------------------


def list_accounts(session: Session, page: int, page_size: int, status: int | None) -> Page[Any]:
    query = select(PushbulletAccount).where(PushbulletAccount.deleted_at.is_(None))
    if status is not None:
        query = query.where(PushbulletAccount.status == status)
    return paginate(session, query.order_by(PushbulletAccount.id.desc()), page, page_size)


def get_account(session: Session, account_id: int) -> PushbulletAccount:
    row: PushbulletAccount = _live(session, PushbulletAccount, account_id, "pushbullet account")
    return row


def create_account(session: Session, box: SecretBox, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    token: str = body["access_token"]
    if len(token) > MAX_TOKEN:
        raise InvalidInput(f"access_token is longer than {MAX_TOKEN} characters")
    row = PushbulletAccount(
        nickname=body["nickname"],
        phone=normalize_phone(body["phone"]),
        device_iden=body.get("device_iden"),
        token_ciphertext=box.seal(token),
        token_fingerprint=token_fingerprint(token),
        token_mask=token_mask(token),
        status=1,
    )
    _insert(session, row, "this access_token and device_iden are already registered")
    view = pushbullet_view(row, utcnow())
    audit(session, actor, "pushbullet.add", "pushbullet_account", row.id, after=view)
    return view


def delete_account(session: Session, actor: Actor, account_id: int) -> None:
    row = get_account(session, account_id)
    _soft_delete(session, actor, row, "pushbullet_account", pushbullet_view(row, utcnow()))


# Whitelist -------------------------------------------------------------------------------------


def list_whitelist(session: Session, page: int, page_size: int, phone: str | None) -> Page[Any]:
    query = select(WhitelistEntry).where(WhitelistEntry.deleted_at.is_(None))
    if phone is not None:
        query = query.where(WhitelistEntry.phone == normalize_phone(phone))
    return paginate(session, query.order_by(WhitelistEntry.id.desc()), page, page_size)


def get_whitelist_entry(session: Session, entry_id: int) -> WhitelistEntry:
    row: WhitelistEntry = _live(session, WhitelistEntry, entry_id, "whitelist entry")
    return row


def create_whitelist_entry(session: Session, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    phone = normalize_phone(body["phone"])
    if not phone:
        raise InvalidInput("phone is empty once spaces, dashes and '+' are removed")
    row = WhitelistEntry(phone=phone, bank_code=body.get("bank_code"), remark=body.get("remark"))
    _insert(session, row, f"{phone} is already whitelisted")
    view = whitelist_view(row)
    audit(session, actor, "whitelist.add", "whitelist", row.id, after=view)
    return view


def delete_whitelist_entry(session: Session, actor: Actor, entry_id: int) -> None:
    row = get_whitelist_entry(session, entry_id)
    _soft_delete(session, actor, row, "whitelist", whitelist_view(row))
