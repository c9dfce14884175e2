"""The small pure helpers every layer shares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recon_impl.domain.errors import InvalidInput
from recon_impl.domain.money import format_amount, parse_request_amount
from recon_impl.domain.normalize import normalize_sender
from recon_impl.security import device_signature, signature_matches

VECTOR_SECRET = "3f2a9c4e8b1d7f6a5c0e9b8a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c"
VECTOR_BODY = b'{"app_version": "1.0", "battery": 80, "last_seq": 5}'
VECTOR_SIGNATURE = "0b9a43062c4417bce7c8bc2831b2eb69a1763b4333805d3e28dc44286475cf0c"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("vcb", "VCB"),
        ("+84 901-234-567", "84901234567"),
        (" Vietcombank ", "VIETCOMBANK"),
        ("+", ""),
        ("8490", "8490"),
    ],
)
def test_senders_and_phones_normalize_as_the_contract_says(raw, normalized):
    assert normalize_sender(raw) == normalized


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("75.5"), "75.50"),
        (Decimal("1500000"), "1500000.00"),
        (None, None),
        (Decimal("0.005"), "0.01"),
    ],
)
def test_amounts_are_formatted_with_two_decimals(value, text):
    assert format_amount(value) == text


def test_request_amounts_compare_numerically_and_garbage_is_refused():
    assert parse_request_amount("500") == parse_request_amount("500.00")
    for bad in ("1.234", "-5", "1e3", "", "1,000"):
        with pytest.raises(InvalidInput):
            parse_request_amount(bad)


def test_the_contract_signature_test_vector():
    assert device_signature(VECTOR_SECRET, b"1733200000", VECTOR_BODY) == VECTOR_SIGNATURE
    assert signature_matches(VECTOR_SECRET, b"1733200000", VECTOR_BODY, VECTOR_SIGNATURE.upper())
    assert not signature_matches(VECTOR_SECRET, b"1733200001", VECTOR_BODY, VECTOR_SIGNATURE)
    assert not signature_matches(VECTOR_SECRET, b"1733200000", VECTOR_BODY + b" ", VECTOR_SIGNATURE)
    assert not signature_matches(VECTOR_SECRET, b"1733200000", VECTOR_BODY, "zz" * 32)
