"""Money values: ``Decimal`` throughout, formatted as the legacy two-decimal string."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from recon_impl.domain.errors import InvalidInput

AMOUNT_PATTERN = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
_CENT = Decimal("0.01")


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
