"""Payer names compare without case, diacritics, punctuation or extra spaces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recon_impl.domain.normalize import normalize_name, normalize_sender

VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
# "Nguyen Van A" in full-width letters, as some phone keyboards type it
FULL_WIDTH_NAME = "".join(" " if char == " " else chr(ord(char) + 0xFEE0) for char in "Nguyen Van A")


@pytest.mark.parametrize(
    ("written", "as_the_bank_writes_it"),
    [
        ("Nguyễn Văn A", "NGUYEN VAN A"),
        ("ĐẶNG THỊ ĐÀO", "DANG THI DAO"),
        ("đỗ đức độ", "DO DUC DO"),
        ("Trần  Thị\tBích", "TRAN THI BICH"),
        ("  Lê Văn Ân. ", "LE VAN AN"),
        ("Phạm-Ngọc Ánh", "PHAM NGOC ANH"),
        ("Hoàng,Thị Ư", "HOANG THI U"),
        ("O\u2019Brien", "OBRIEN"),  # a typographic apostrophe
        (FULL_WIDTH_NAME, "NGUYEN VAN A"),
    ],
)
def test_a_name_with_diacritics_equals_its_plain_upper_case_spelling(written, as_the_bank_writes_it):
    """Case, Vietnamese marks, đ/Đ, punctuation and whitespace runs make no difference."""
    assert normalize_name(written) == normalize_name(as_the_bank_writes_it)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("NGUYEN VAN A", "NGUYEN VAN AN"),
        ("NGUYEN VAN", "NGUYEN VAN A"),
        ("TRAN THI B", "TRAN THI C"),
        ("LE VAN A", "LE VAN A 2"),
        ("NGUYEN VANA", "NGUYEN VAN A"),
    ],
)
def test_different_names_stay_different(one, other):
    """Normalizing forgives spelling, not a different letter, word or word boundary."""
    assert normalize_name(one) != normalize_name(other)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Nguyễn  Văn A.", "nguyen van a"),
        ("", ""),
        (" .,- ", ""),
        ("İSTANBUL", "istanbul"),
    ],
)
def test_the_comparison_key_is_lower_case_words_separated_by_one_space(raw, key):
    """The key itself: plain lower-case letters and digits, single spaces, nothing at the ends."""
    assert normalize_name(raw) == key


def test_the_sender_normalizer_is_untouched_by_the_name_normalizer():
    """Senders keep their own rule (upper case, no spaces or dashes), names theirs."""
    assert normalize_sender("+84 90-1") == "84901"
    assert normalize_name("+84 90-1") == "84 90 1"


vietnamese_text = st.text(alphabet=VIETNAMESE_LETTERS + " .,-'\t", max_size=40)


@given(vietnamese_text)
def test_normalizing_twice_changes_nothing(name):
    """The key is a fixed point."""
    assert normalize_name(normalize_name(name)) == normalize_name(name)


@given(vietnamese_text)
def test_upper_and_lower_case_vietnamese_give_one_plain_ascii_key(name):
    """Any Vietnamese spelling folds to plain a-z words, whatever its case."""
    key = normalize_name(name)
    assert key == normalize_name(name.upper())
    assert all(char == " " or "a" <= char <= "z" for char in key)
    assert "  " not in key
    assert key == key.strip()
