"""The one normalizer for phone numbers and sender ids (legacy contract section 6)."""

from __future__ import annotations

import re

_STRIP = re.compile(r"[\s\-]+")


def normalize_sender(value: str) -> str:
    """Strip spaces, dashes and a leading ``+``; upper-case letters (``vcb`` == ``VCB``)."""
    cleaned = _STRIP.sub("", value)
    cleaned = cleaned.removeprefix("+")
    return cleaned.upper()


normalize_phone = normalize_sender
