"""Secrets at rest, the device request signature and token masks: each exists only here."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretBox:
    """Encrypts secrets with the first key and decrypts with any, so keys can be rotated."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one secret key is required")
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def open(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode("utf-8")
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with any configured key") from exc

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt under the current first key (after a new key was put in front)."""
        return self._fernet.rotate(ciphertext)


def new_device_secret() -> str:
    """64 lowercase hex characters, as the register route returns them."""
    return secrets.token_hex(32)


def device_signature(secret: str, timestamp: bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 keyed by the secret's ASCII bytes over ``timestamp + b"." + body``."""
    return hmac.new(secret.encode("ascii"), timestamp + b"." + body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, timestamp: bytes, body: bytes, presented: str) -> bool:
    """Constant-time, case-insensitive comparison of a presented hex signature."""
    expected = device_signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), presented.strip().lower().encode("ascii", "replace"))


def token_mask(token: str) -> str:
    """First 4 and last 4 characters joined by ``****`` (contract section 3). A NUL, which a
    PostgreSQL text column cannot hold, shows as U+FFFD (the token itself is stored encrypted)."""
    return f"{token[:4]}****{token[-4:]}".replace("\x00", "\ufffd")


def token_fingerprint(token: str) -> str:
    """A stable, non-reversible identity for duplicate checks on encrypted tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def secret_equals(presented: str, candidates: list[str]) -> bool:
    """True when ``presented`` equals one of ``candidates``, compared in constant time."""
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(presented.encode("utf-8"), candidate.encode("utf-8"))
    return matched
