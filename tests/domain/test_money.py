"""Amounts as banks write them: every separator style in, ``Decimal`` out, garbage refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recon_impl.domain.errors import InvalidInput
from recon_impl.domain.money import format_amount, parse_amount

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("text", "decimal_sep", "value"),
    [
        ("1,500,000", ".", "1500000.00"),
        ("1.500.000", ",", "1500000.00"),
        ("1 500 000", ".", "1500000.00"),
        ("1 500 000", ",", "1500000.00"),
        ("1'500.00", ".", "1500.00"),
        ("1'500,00", ",", "1500.00"),
        ("1500000", ".", "1500000.00"),
        ("12,345.67", ".", "12345.67"),
        ("1.234,56", ",", "1234.56"),
        (f"1{NBSP}234,56", ",", "1234.56"),
        (f"1{NNBSP}234{NNBSP}567,8", ",", "1234567.80"),
        ("1,50,000", ".", "150000.00"),
        ("1,50,000.5", ".", "150000.50"),
        ("75.5", ".", "75.50"),
        ("0,07", ",", "0.07"),
        ("1,500", ".", "1500.00"),
        ("1.500", ",", "1500.00"),
        ("  42  ", ".", "42.00"),
        ("999999999999999.99", ".", "999999999999999.99"),
    ],
)
def test_every_bank_separator_style_parses_to_the_same_decimal(text, decimal_sep, value):
    assert parse_amount(text, decimal_sep) == Decimal(value)
    assert format_amount(parse_amount(text, decimal_sep)) == value


@pytest.mark.parametrize(
    ("text", "decimal_sep"),
    [
        ("1.500", "."),  # three digits after the decimal point: not an amount
        ("1,500", ","),
        ("12,345.678", "."),
        ("", "."),
        ("   ", "."),
        ("abc", "."),
        ("1,,500", "."),
        ("1  500", "."),
        ("1,", "."),
        (",5", "."),
        (".5", "."),
        ("1.5.5", "."),
        ("1,500.00.00", "."),
        ("-5", "."),
        ("+5", "."),
        ("1e3", "."),
        ("1_000", "."),
        ("١٢٣", "."),  # Arabic-Indic digits
        ("\uff11\uff12\uff13", "."),  # full-width digits
        ("1\t500", "."),
        ("1\n500", "."),
        ("5 VND", "."),
        ("1234567890123456", "."),  # more than the 15 integer digits the column holds
    ],
)
def test_text_that_is_not_an_amount_is_refused(text, decimal_sep):
    with pytest.raises(InvalidInput):
        parse_amount(text, decimal_sep)


@pytest.mark.parametrize("decimal_sep", ["", ";", " ", "'", ".,"])
def test_only_a_point_or_a_comma_can_be_the_decimal_separator(decimal_sep):
    with pytest.raises(InvalidInput, match="decimal_sep"):
        parse_amount("100", decimal_sep)


# Property-based: render a value the way some bank would, parse it back. ------------------------

THOUSANDS_FOR = {".": [",", " ", "'", NBSP, NNBSP], ",": [".", " ", "'", NBSP, NNBSP]}


@st.composite
def written_amounts(draw):
    """(value, text, decimal_sep): ``value`` written with random bank conventions."""
    cents = draw(st.integers(min_value=0, max_value=10**17 - 1))
    decimals = draw(st.sampled_from([0, 1, 2]))
    if decimals == 0:
        cents -= cents % 100
    elif decimals == 1:
        cents -= cents % 10
    value = Decimal(cents).scaleb(-2)
    decimal_sep = draw(st.sampled_from([".", ","]))
    group = draw(st.sampled_from([None, 2, 3, 4]))
    thousands = draw(st.sampled_from(THOUSANDS_FOR[decimal_sep]))
    whole = str(cents // 100)
    if group is not None:
        chunks = []
        while whole:
            chunks.insert(0, whole[-group:])
            whole = whole[:-group]
        whole = thousands.join(chunks)
    fraction = f"{cents % 100:02d}"[:decimals]
    text = whole + (decimal_sep + fraction if decimals else "")
    return value, text, decimal_sep


@given(written_amounts())
def test_any_written_amount_round_trips_through_parse_and_format(case):
    """format -> write in any style -> parse gives back the same value and the same legacy string."""
    value, text, decimal_sep = case
    parsed = parse_amount(text, decimal_sep)
    assert parsed == value
    assert format_amount(parsed) == format_amount(value)


@given(written_amounts(), st.data())
def test_a_written_amount_with_a_foreign_character_inserted_is_refused(case, data):
    """Letters, signs and doubled separators never slip through."""
    _, text, decimal_sep = case
    junk = data.draw(st.sampled_from([*"aXe-+_/$€\t\n", "..", ",,", "  "]))
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    broken = text[:at] + junk + text[at:]
    if at in (0, len(text)) and junk.isspace():
        return  # surrounding whitespace is ignored, not an error
    with pytest.raises(InvalidInput):
        parse_amount(broken, decimal_sep)


@given(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=999),
    st.sampled_from([".", ","]),
)
def test_three_digits_after_the_decimal_separator_are_never_an_amount(whole, fraction, decimal_sep):
    with pytest.raises(InvalidInput):
        parse_amount(f"{whole}{decimal_sep}{fraction:03d}", decimal_sep)


GRAMMAR = {
    sep: re.compile(
        "[0-9]+(?:["
        + re.escape("".join(THOUSANDS_FOR[sep]))
        + "][0-9]+)*(?:"
        + re.escape(sep)
        + "[0-9]{1,2})?"
    )
    for sep in (".", ",")
}


@given(st.text(alphabet="0123456789.,' \u00a0\u202fa-", max_size=12), st.sampled_from([".", ","]))
def test_arbitrary_text_is_accepted_exactly_when_it_fits_the_contract_grammar(text, decimal_sep):
    stripped = text.strip()
    fits = GRAMMAR[decimal_sep].fullmatch(stripped) is not None
    try:
        value = parse_amount(text, decimal_sep)
    except InvalidInput:
        assert not fits
    else:
        assert fits
        digits = "".join(ch for ch in stripped if ch.isdigit())
        assert value == Decimal(digits).scaleb(
            -len(stripped.rpartition(decimal_sep)[2]) if decimal_sep in stripped else 0
        )
