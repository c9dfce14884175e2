"""Template drift: whitelisted SMS that look like money but no template parses.

A bank that rewords its SMS makes every message of the new wording a near-miss. ``shape`` reduces
an SMS to its wording with the values taken out (numbers, ids, names), so the near-misses of one
new wording fall into one :class:`NearMissGroup` and one new template fixes the whole group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from recon_impl.domain.normalize import normalize_sender

# Currency words need a non-letter on both sides ("Rs.500", "500VND", not "Tkt" or "bdtx") and are
# case-sensitive: Vietnamese "TK 0071..." is an account ("tai khoan"), bKash's "Tk 500" is taka.
_CURRENCY_WORDS = (
    "VND|vnd|VNĐ|đ|đồng|dong|INR|Rs|RS|KES|Kshs|Ksh|KSh|KSH|Tk|Taka|BDT|CNY|RMB|EUR|USD|GBP|CHF|PHP|IDR|Rp|"
    "THB|NGN|GHS"
)
_CURRENCY_SIGNS = "人民币|元|€|₫|₹|৳|¥|\\$|£|₱|₦"
_CURRENCY = rf"(?:(?<![^\W\d_])(?:{_CURRENCY_WORDS})(?![^\W\d_])|{_CURRENCY_SIGNS})"
_NUMBER = "[0-9](?:[0-9]|[.,'\u00a0\u202f ][0-9])*"
_NEAR_CURRENCY = re.compile(rf"{_CURRENCY}[\s.:]{{0,3}}{_NUMBER}|{_NUMBER}\s{{0,2}}{_CURRENCY}")
# "+1,500,000": a sign at the start of a word; a long bare digit run after "+" is a phone number.
_SIGNED = re.compile(rf"(?:^|(?<=[\s(:]))[+-]({_NUMBER})")
_PHONE_DIGITS = 9

_VPA = re.compile(r"\S+@\S+")
_ASCII_ALNUM = re.compile("[A-Za-z0-9]+")
_CURRENCY_AFFIX = re.compile(rf"^(?:{_CURRENCY_WORDS})?[0-9]+(?:{_CURRENCY_WORDS})?$", re.IGNORECASE)
_SHAPE_NUMBER = re.compile("[0-9]+(?:[.,'\u00a0\u202f ][0-9]+)*")
_FRACTION = re.compile(r"[.,][0-9]{1,2}$")
_WORD_RUN = re.compile(r"(?<![^\W\d_])[^\W\d_]+(?:[ \t]+[^\W\d_]+)*(?![^\W\d_])")
_SPACES = re.compile(r"\s+")
_CLOCK_HALF = re.compile(r"(?<=[0-9])\s?[AaPp](?:\.[Mm]\.|[Mm])(?![^\W\d_])")


def looks_like_money(text: str) -> bool:
    """An amount next to a currency word or sign, or written with a ``+``/``-`` sign."""
    if _NEAR_CURRENCY.search(text):
        return True
    for found in _SIGNED.finditer(text):
        token = found.group(1)
        if not token.isdigit() or len(token) <= _PHONE_DIGITS:
            return True
    return False


def is_near_miss(*, whitelisted: bool, parsed: bool, text: str) -> bool:
    """A whitelisted SMS about money that no template parsed: a sign of template drift."""
    return whitelisted and not parsed and looks_like_money(text)


def _id_or_word(found: re.Match[str]) -> str:
    token = found.group(0)
    if not (token.isdigit() or token.isalpha()) and not _CURRENCY_AFFIX.match(token):
        return "#"
    return token


def _number_class(found: re.Match[str]) -> str:
    fraction = _FRACTION.search(found.group(0))
    return "9" + fraction.group(0)[0] + "99" if fraction else "9"


def _names(found: re.Match[str]) -> str:
    """Collapse each stretch of two or more all-capital words in a run of words to ``A``.

    Banks write account holders' names in capitals. Title-case runs stay ("Credit Alert" and
    "Debit Alert" need different templates), so a title-case name splits a group: the safe side.
    """
    out: list[str] = []
    stretch: list[str] = []
    for word in found.group(0).split():
        if word.isupper():
            stretch.append(word)
            continue
        out.extend(["A"] if len(stretch) > 1 else stretch)
        stretch = []
        out.append(word)
    out.extend(["A"] if len(stretch) > 1 else stretch)
    return " ".join(out)


def shape(text: str) -> str:
    """The wording of an SMS with its values taken out.

    Addresses (``x@y``) become ``@``; tokens mixing letters and digits (references, masked
    accounts) ``#``; numbers ``9`` or ``9.99``/``9,99`` when they end in a one- or two-digit
    fraction; AM/PM after a time ``AM/PM``; runs of two or more all-capital words (names) ``A``;
    whitespace one space.
    """
    reduced = _VPA.sub("@", text.strip())
    reduced = _CLOCK_HALF.sub(" AM/PM", reduced)
    reduced = _ASCII_ALNUM.sub(_id_or_word, reduced)
    reduced = _SHAPE_NUMBER.sub(_number_class, reduced)
    reduced = _WORD_RUN.sub(_names, reduced)
    return _SPACES.sub(" ", reduced)


@dataclass(frozen=True, slots=True)
class NearMiss:
    """An SMS that looked like money but matched no template."""

    sms_id: int
    sender: str
    text: str


@dataclass(frozen=True, slots=True)
class NearMissGroup:
    """Near-misses of one sender with one shape: one template change should fix them all."""

    sender: str  # normalized
    shape: str
    count: int
    example_ids: tuple[int, ...]


def group_near_misses(items: Iterable[NearMiss], examples: int = 3) -> list[NearMissGroup]:
    """Group by normalized sender and shape, the largest group first."""
    counts: dict[tuple[str, str], int] = {}
    samples: dict[tuple[str, str], list[int]] = {}
    for item in items:
        key = (normalize_sender(item.sender), shape(item.text))
        counts[key] = counts.get(key, 0) + 1
        kept = samples.setdefault(key, [])
        if len(kept) < examples:
            kept.append(item.sms_id)
    ordered = sorted(counts, key=lambda key: (-counts[key], key))
    return [NearMissGroup(key[0], key[1], counts[key], tuple(samples[key])) for key in ordered]
