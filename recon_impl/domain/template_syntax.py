"""The syntax of a template's ``content`` and ``time_format`` (legacy contract section 7).

``split_content`` cuts content into literal words, whitespace runs and placeholders;
``time_pattern`` turns a ``time_format`` (or the three default layouts) into regex source with
named groups plus the :class:`TimeLayout` that reads those groups back as Unix seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Literal
from zoneinfo import available_timezones

from recon_impl.domain.errors import InvalidInput

PLACEHOLDERS = frozenset({"amount", "balance", "card", "name", "time", "ref", "*"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_WHITESPACE = re.compile(r"(\s+)")
_ZONES = frozenset(available_timezones())
MAX_CONTENT = 2000

PieceKind = Literal["text", "space", "slot"]


def check_new_content(content: str) -> None:
    """What a new template's ``content`` must satisfy: at most ``MAX_CONTENT`` characters and the
    rules of ``check_content`` (the spec leaves all of them to the service: ``format: recon-template``)."""
    if len(content) > MAX_CONTENT:
        raise InvalidInput(f"content is longer than {MAX_CONTENT} characters")
    check_content(content)


def check_content(content: str) -> None:
    """Reject content without ``{amount}``, with unknown or repeated placeholders, or with a NUL."""
    if "\x00" in content:
        raise InvalidInput("content contains a NUL character (U+0000), which cannot be stored")
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


@dataclass(frozen=True, slots=True)
class Piece:
    """One part of a template: a literal word, a whitespace run or a placeholder name."""

    kind: PieceKind
    text: str

    def describe(self) -> str:
        if self.kind == "slot":
            return f"`{{{self.text}}}`"
        return "whitespace" if self.kind == "space" else f"`{self.text}`"


def split_content(content: str) -> tuple[Piece, ...]:
    """The pieces of checked ``content``; leading and trailing whitespace is ignored."""
    check_content(content)
    pieces: list[Piece] = []
    stripped = content.strip()
    cursor = 0
    for found in _PLACEHOLDER.finditer(stripped):
        pieces.extend(_literal_pieces(stripped[cursor : found.start()]))
        pieces.append(Piece("slot", found.group(1)))
        cursor = found.end()
    pieces.extend(_literal_pieces(stripped[cursor:]))
    return tuple(pieces)


def _literal_pieces(literal: str) -> list[Piece]:
    return [Piece("space" if part.isspace() else "text", part) for part in _WHITESPACE.split(literal) if part]


def literal_weight(pieces: tuple[Piece, ...]) -> int:
    """Literal characters, a whitespace run counting as one: the template priority."""
    return sum(1 if p.kind == "space" else len(p.text) for p in pieces if p.kind != "slot")


# Time layouts -----------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_NAMES = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
# code -> (field it fills or None, regex source of its value)
_CODES: dict[str, tuple[str | None, str]] = {
    "Y": ("year", "[0-9]{4}"),
    "y": ("year2", "[0-9]{2}"),
    "m": ("month", "[0-9]{1,2}"),
    "b": ("month_name", _MONTH_NAMES),
    "B": ("month_name", _MONTH_NAMES),
    "d": ("day", "[0-9]{1,2}"),
    "H": ("hour", "[0-9]{1,2}"),
    "I": ("hour12", "[0-9]{1,2}"),
    "p": ("ampm", r"[ap]\.?m\.?"),
    "M": ("minute", "[0-9]{2}"),
    "S": ("second", "[0-9]{2}"),
    "z": ("offset", "[+-][0-9]{2}:?[0-9]{2}|z"),
    "f": (None, "[0-9]{1,6}"),
    "a": (None, _DAY_NAMES),
    "A": (None, _DAY_NAMES),
}
_FORMAT_TOKEN = re.compile(r"%-?(.?)|\s+|[^%\s]+")
DEFAULT_LAYOUTS = ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M")  # each with optional :%S


_FIELDS = (
    "year",
    "year2",
    "month",
    "month_name",
    "day",
    "hour",
    "hour12",
    "ampm",
    "minute",
    "second",
    "offset",
)
_PLAIN = ("year", "month", "day", "hour", "minute", "second")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class TimeLayout:
    """Where one layout's fields sit among a match's named groups."""

    probe: str  # a group that is set exactly when this layout is the one that matched
    names: tuple[str, ...]  # the layout's group names (at least year, month and day)
    where: tuple[int, ...]  # per entry of _FIELDS: its index in ``names``, -1 when absent
    plain: bool = False  # names are %Y %m %d [%H [%M [%S]]] in this order: the fast path

    def read(self, match: re.Match[str], zone: tzinfo) -> int | None:
        """Unix seconds of the matched time, ``None`` when it is no valid date and time."""
        got: tuple[str | None, ...] = match.group(*self.names)
        if self.plain:
            size = len(got)
            hour = int(got[3] or 0) if size > 3 else 0
            minute = int(got[4] or 0) if size > 4 else 0
            second = int(got[5] or 0) if size > 5 else 0
            if hour > 23 or minute > 59 or second > 59:
                return None
            return _unix(zone, int(got[0] or 0), int(got[1] or 0), int(got[2] or 0), hour, minute, second)
        y4, y2, mo, mname, d, h24, h12, ampm, mi, sec, off = (got[i] if i >= 0 else None for i in self.where)
        if y4 is not None:
            year = int(y4)
        else:
            short = int(y2 or 0)
            year = short + (1900 if short >= 69 else 2000)  # the strptime pivot
        month = _MONTHS[mname.lower()] if mname else int(mo or 0)
        if h12 is not None:
            hour = int(h12)
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm and ampm[0] in "pP" else 0)
        else:
            hour = int(h24) if h24 else 0
        minute = int(mi) if mi else 0
        second = int(sec) if sec else 0
        if hour > 23 or minute > 59 or second > 59:
            return None
        return _unix(_fixed_offset(off) if off else zone, year, month, int(d or 0), hour, minute, second)


def _unix(zone: tzinfo, year: int, month: int, day: int, hour: int, minute: int, second: int) -> int | None:
    known = _local_day(zone, year, month, day)
    if known is None:
        return None
    midnight, offset = known
    if offset is None:  # the offset changes that day: let zoneinfo resolve this exact time
        return int(datetime(year, month, day, hour, minute, second, tzinfo=zone).timestamp())
    return midnight + hour * 3600 + minute * 60 + second - offset


@lru_cache(maxsize=4096)
def _local_day(zone: tzinfo, year: int, month: int, day: int) -> tuple[int, int | None] | None:
    """(local midnight as if UTC, the day's UTC offset or None when it changes); None: no such day.

    Reading a time is then arithmetic: zoneinfo is asked once per zone and day, not per SMS.
    """
    try:
        midnight = datetime(year, month, day, tzinfo=zone)
    except ValueError:
        return None
    first = midnight.utcoffset()
    last = midnight.replace(hour=23, minute=59, second=59).utcoffset()
    steady = int(first.total_seconds()) if first is not None and first == last else None
    return (midnight.toordinal() - _EPOCH_ORDINAL) * 86_400, steady


def _fixed_offset(text: str) -> tzinfo:
    if text in "zZ":
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-delta if text[0] == "-" else delta)


def time_pattern(time_format: str | None, prefix: str = "t") -> tuple[str, tuple[TimeLayout, ...]]:
    """Regex source (no lookarounds) matching a ``{time}`` and the layouts to read it with."""
    if time_format is not None:
        source, layout = _compile_layout(time_format.strip(), f"{prefix}0_", optional_seconds=False)
        return source, (layout,)
    sources: list[str] = []
    layouts: list[TimeLayout] = []
    for index, fmt in enumerate(DEFAULT_LAYOUTS):
        source, layout = _compile_layout(fmt, f"{prefix}{index}_", optional_seconds=True)
        sources.append(source)
        layouts.append(layout)
    return "(?:" + "|".join(sources) + ")", tuple(layouts)


def _compile_layout(fmt: str, prefix: str, *, optional_seconds: bool) -> tuple[str, TimeLayout]:
    parts: list[str] = []
    groups: list[tuple[str, str]] = []
    seen: set[str] = set()
    for token in _FORMAT_TOKEN.finditer(fmt):
        text = token.group(0)
        if text.isspace():
            parts.append(r"\s++")  # possessive: what follows never starts with whitespace
        elif not text.startswith("%"):
            parts.append(re.escape(text))
        elif token.group(1) == "%":
            parts.append("%")
        else:
            code = token.group(1)
            if code not in _CODES:
                supported = " ".join("%" + c for c in _CODES)
                raise InvalidInput(f"time_format {fmt!r}: {text!r} is not supported (use {supported} or %%)")
            field, source = _CODES[code]
            if field is None:
                parts.append(f"(?:{source})")
                continue
            if field in seen or (field in ("hour", "hour12") and seen & {"hour", "hour12"}):
                raise InvalidInput(f"time_format {fmt!r} gives the {field} twice")
            seen.add(field)
            groups.append((field, prefix + code))
            parts.append(f"(?P<{prefix}{code}>{source})")
    if not ({"year", "year2"} & seen and {"month", "month_name"} & seen and "day" in seen):
        raise InvalidInput(
            f"time_format {fmt!r} needs a year (%Y or %y), a month (%m or %b) and a day (%d); "
            "use {*} for a date the bank writes without a year"
        )
    if optional_seconds:
        parts.append(f"(?::(?P<{prefix}S>[0-9]{{2}}))?")
        groups.append(("second", prefix + "S"))
    by_field = dict(groups)
    plain = set(by_field) == set(_PLAIN[: len(by_field)])
    fields = list(_PLAIN[: len(by_field)]) if plain else [field for field, _ in groups]
    names = tuple(by_field[field] for field in fields)
    where = tuple(fields.index(field) if field in fields else -1 for field in _FIELDS)
    return "".join(parts), TimeLayout(probe=names[0], names=names, where=where, plain=plain)
