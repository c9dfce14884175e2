"""Secrets at rest: encrypted with the first key, readable with any, re-encrypted on rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from recon_impl.security import SecretBox, token_mask


def test_a_sealed_secret_is_not_readable_and_opens_back():
    box = SecretBox([Fernet.generate_key().decode()])
    sealed = box.seal("o.secret-token")
    assert b"secret-token" not in sealed and box.open(sealed) == "o.secret-token"


def test_keys_rotate_old_ciphertexts_stay_readable_and_rotate_to_the_new_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_with_old = SecretBox([old]).seal("device-secret")
    rotated_box = SecretBox([new, old])
    assert rotated_box.open(sealed_with_old) == "device-secret"
    rotated = rotated_box.rotate(sealed_with_old)
    assert SecretBox([new]).open(rotated) == "device-secret"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox([new]).open(sealed_with_old)


def test_token_mask_shows_only_the_first_and_last_four_characters():
    assert token_mask("o.AbCdEfGhIjKlMnOpQrStUv9xYz") == "o.Ab****9xYz"


def test_rotation_re_encrypts_stored_secrets_and_devices_still_sign_in(
    client, enrolled, device_post, settings, db
):
    from recon_impl.http.app import create_app
    from recon_impl.services.context import Actor
    from recon_impl.services.secrets import rotate_secrets
    from recon_impl.storage.db import make_engine, make_session_factory, transaction

    device_id, secret = enrolled()
    new_key = Fernet.generate_key().decode()
    keys = [new_key] + [k.get_secret_value() for k in settings.secret_keys]
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        assert rotate_secrets(session, SecretBox(keys), Actor("ops")) == 1
    engine.dispose()
    stored = bytes(db.execute("SELECT secret_ciphertext FROM shooter_devices").fetchone()[0])
    assert SecretBox([new_key]).open(stored) == secret  # readable with the new key alone
    from pydantic import SecretStr

    only_new = settings.model_copy(update={"secret_keys": [SecretStr(new_key)]})
    from testkit import signed_headers

    body = b'{"app_version": "1", "last_seq": 0}'
    answer = (
        create_app(only_new)
        .test_client()
        .post("/api/shooter/device/heartbeat", content=body, headers=signed_headers(device_id, secret, body))
    )
    assert answer.status_code == 200 and answer.json()["code"] == 0
