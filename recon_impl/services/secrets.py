"""Key rotation for secrets at rest: re-encrypt every stored secret under the newest key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recon_impl.security import SecretBox
from recon_impl.services.context import Actor
from recon_impl.services.journal import audit
from recon_impl.storage.models import PushbulletAccount, ShooterDevice


def rotate_secrets(session: Session, box: SecretBox, actor: Actor) -> int:
    """Re-seal Pushbullet tokens and device secrets with the first configured key.

    Put the new key first in ``RECON_SECRET_KEYS`` (keeping the old ones), run this, then the
    old keys can be removed. Returns how many secrets were re-encrypted.
    """
    count = 0
    for account in session.scalars(select(PushbulletAccount).with_for_update()):
        account.token_ciphertext = box.rotate(account.token_ciphertext)
        count += 1
    for device in session.scalars(select(ShooterDevice).with_for_update()):
        device.secret_ciphertext = box.rotate(device.secret_ciphertext)
        count += 1
    audit(session, actor, "secrets.rotate", "secrets", "*", after={"rotated": count})
    return count


def main() -> int:
    """``python -m recon_impl.services.secrets``: rotate with the configured keys."""
    from recon_impl.settings import get_settings  # noqa: PLC0415 - CLI only
    from recon_impl.storage.db import make_engine, make_session_factory, transaction  # noqa: PLC0415

    settings = get_settings()
    if not settings.database_url:
        raise SystemExit("RECON_DATABASE_URL is not set")
    box = SecretBox([key.get_secret_value() for key in settings.secret_keys])
    with transaction(make_session_factory(make_engine(settings.database_url))) as session:
        count = rotate_secrets(session, box, Actor("rotate-secrets"))
    print(f"re-encrypted {count} secrets with the first key")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
