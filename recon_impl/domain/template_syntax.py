"""Structural checks of a template's ``content`` (legacy contract section 7)."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from recon_impl.domain.errors import InvalidInput

PLACEHOLDERS = frozenset({"amount", "balance", "card", "name", "time", "ref", "*"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ZONES = frozenset(available_timezones())


def check_content(content: str) -> None:
    """Reject content without ``{amount}``, with unknown or repeated placeholders."""
    names = _PLACEHOLDER.findall(content)
    unknown = sorted({name for name in names if name not in PLACEHOLDERS})
    if unknown:
        listed = ", ".join("{" + name + "}" for name in unknown)
        raise InvalidInput(f"content has unknown placeholder(s) {listed}")
    if "amount" not in names:
        raise InvalidInput("content must contain {amount}")
    repeated = sorted({name for name in names if name != "*" and names.count(name) > 1})
    if repeated:
        raise InvalidInput(f"content repeats placeholder {{{repeated[0]}}}")


def check_time_zone(tz: str | None) -> None:
    if tz is not None and tz not in _ZONES:
        raise InvalidInput(f"tz {tz!r} is not an IANA time zone")
