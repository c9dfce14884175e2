"""The one normalizer for phone numbers and sender ids (legacy contract section 6), and for payer names."""

from __future__ import annotations

import re
import unicodedata

_STRIP = re.compile(r"[\s\-]+")


def normalize_sender(value: str) -> str:
    """Strip spaces, dashes and a leading ``+``; upper-case letters (``vcb`` == ``VCB``)."""
    cleaned = _STRIP.sub("", value)
    cleaned = cleaned.removeprefix("+")
    return cleaned.upper()


normalize_phone = normalize_sender


# Apostrophes join a name's parts ("O'Brien" is "OBrien"); other punctuation separates words.
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc`")
_D_WITH_STROKE = str.maketrans({"đ": "d", "Đ": "D"})
_NOT_WORD = re.compile(r"[\W_]+")


def normalize_name(text: str) -> str:
    """A payer name as a comparison key: no case, no diacritics, no punctuation, single spaces.

    ``"NGUYEN VAN A"`` and ``"Nguyễn  Văn A."`` both become ``"nguyen van a"``; ``đ``/``Đ``
    (which Unicode does not decompose) become ``d``.
    """
    # casefold before decomposing: it can itself produce combining marks ("İ" -> "i̇").
    folded = text.translate(_D_WITH_STROKE).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", bare.translate(_APOSTROPHES)).split())
