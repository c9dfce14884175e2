"""Money values: ``Decimal`` throughout, formatted as the legacy two-decimal string."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from recon_impl.domain.errors import InvalidInput

AMOUNT_PATTERN = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
_CENT = Decimal("0.01")

DECIMAL_SEPARATORS = (".", ",")
# Besides the other one of ``.``/``,``: banks group digits with these (no-break spaces included).
SPACE_SEPARATORS = " \u00a0\u202f"
MAX_INTEGER_DIGITS = 15  # the stored column is NUMERIC(17, 2)

_PATTERNS: dict[str, str] = {}
_STRIP_TABLES: dict[str, dict[int, int | None]] = {}
_CHECKERS: dict[str, re.Pattern[str]] = {}


def format_amount(value: Decimal | None) -> str | None:
    """``Decimal('75.5')`` -> ``'75.50'``; ``None`` stays ``None``."""
    if value is None:
        return None
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def parse_request_amount(text: str) -> Decimal:
    """An amount string as the API accepts it (``"500"`` equals ``"500.00"``)."""
    if not AMOUNT_PATTERN.fullmatch(text):
        raise InvalidInput(f"amount {text!r} must look like 1500000 or 1500000.00")
    try:
        return Decimal(text).quantize(_CENT)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise InvalidInput(f"amount {text!r} is not a number") from exc


def check_decimal_sep(decimal_sep: str) -> None:
    if decimal_sep not in DECIMAL_SEPARATORS:
        raise InvalidInput(f"decimal_sep {decimal_sep!r} must be '.' or ','")


def thousands_separators(decimal_sep: str) -> str:
    """The characters that group digits when ``decimal_sep`` is the decimal point."""
    check_decimal_sep(decimal_sep)
    other = "," if decimal_sep == "." else "."
    return other + "'" + SPACE_SEPARATORS


def amount_pattern(decimal_sep: str) -> str:
    """Regex source of one SMS amount (contract section 7), with no capture groups.

    Digits, single thousands separators between digit groups (sizes unchecked) and an optional
    one- or two-digit fraction. The lookarounds stop a match from starting or ending inside a
    longer number, so with ``.`` as the decimal point ``1.500`` yields no amount at all.
    """
    cached = _PATTERNS.get(decimal_sep)
    if cached is not None:
        return cached
    groups = re.escape(thousands_separators(decimal_sep))
    dec = re.escape(decimal_sep)
    glued = "[.,'\u00a0\u202f]"  # separators that cannot also be a gap between two numbers
    pattern = (
        f"(?<![0-9])(?<![0-9]{glued})"
        f"[0-9]+(?:[{groups}][0-9]+)*(?:{dec}[0-9]{{1,2}})?"
        f"(?![0-9])(?!{glued}[0-9])"
    )
    _PATTERNS[decimal_sep] = pattern
    return pattern


def read_amount(raw: str, decimal_sep: str) -> Decimal | None:
    """The value of text that already matched :func:`amount_pattern`; ``None`` when too large."""
    table = _STRIP_TABLES.get(decimal_sep)
    if table is None:
        table = {ord(ch): None for ch in thousands_separators(decimal_sep)}
        table[ord(decimal_sep)] = ord(".")
        _STRIP_TABLES[decimal_sep] = table
    plain = raw.translate(table)
    if len(plain.partition(".")[0]) > MAX_INTEGER_DIGITS:
        return None
    return Decimal(plain).quantize(_CENT)


def parse_amount(text: str, decimal_sep: str) -> Decimal:
    """A bank-written amount (``1,500,000``, ``1.234,56``, ``1 500 000``, ``1'500.00``) as cents.

    ``decimal_sep`` names the decimal point; the other of ``.``/``,``, spaces (also U+00A0 and
    U+202F) and ``'`` group thousands. Anything else raises :class:`InvalidInput`.
    """
    checker = _CHECKERS.get(decimal_sep)
    if checker is None:
        checker = re.compile(amount_pattern(decimal_sep))
        _CHECKERS[decimal_sep] = checker
    stripped = text.strip()
    if not checker.fullmatch(stripped):
        raise InvalidInput(
            f"{text!r} is not an amount with {decimal_sep!r} as the decimal point "
            "(digits, thousands separators, at most two decimals)"
        )
    value = read_amount(stripped, decimal_sep)
    if value is None:
        raise InvalidInput(f"{text!r} has more than {MAX_INTEGER_DIGITS} integer digits")
    return value
