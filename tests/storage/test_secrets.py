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
