"""The template engine: compile a template's ``content`` once, parse SMS with it.

Contract section 7 is the specification. A template compiles to one anchored regex; the
:class:`TemplateIndex` keeps, per normalized sender, the enabled templates in priority order
(most literal characters first, then the lowest id), so parsing an SMS is a dictionary lookup and
a few regex matches. Everything here is pure: the default time zone comes in as a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from recon_impl.domain.errors import InvalidInput
from recon_impl.domain.money import amount_pattern, check_decimal_sep, read_amount
from recon_impl.domain.normalize import normalize_sender
from recon_impl.domain.template_syntax import (
    Piece,
    TimeLayout,
    check_time_zone,
    literal_weight,
    split_content,
    time_pattern,
)

INCOME = 1
EXPENSE = 2
ENABLED = 1
_FLAGS = re.IGNORECASE | re.DOTALL
_SNIPPET = 24
# Longer text is never parsed (it goes to a person as unparsed). Lazy placeholders backtrack, so a
# crafted text costs time polynomial in its length; real SMS, even 10-part ones, stay well below.
MAX_SMS_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """A stored template as the engine needs it; ``id`` is also the creation order."""

    id: int
    bank_code: str
    sender: str  # comma-separated sender ids
    content: str
    type: int  # 1 income, 2 expense
    decimal_sep: str = "."
    time_format: str | None = None
    tz: str | None = None
    status: int = ENABLED
    sample: str | None = None

    def senders(self) -> frozenset[str]:
        """The normalized entries of ``sender``."""
        return frozenset(filter(None, (normalize_sender(part) for part in self.sender.split(","))))


@dataclass(frozen=True, slots=True)
class ParsedSms:
    """What a template extracted from one SMS."""

    template_id: int
    type: int
    amount: Decimal
    balance: Decimal | None = None
    card_tail: str | None = None
    payer_name: str | None = None
    ref: str | None = None
    bank_time: int | None = None  # Unix seconds


def _slot_source(name: str, decimal_sep: str, time_source: str) -> str:
    if name in ("amount", "balance"):
        return f"(?P<{name}>{amount_pattern(decimal_sep)})"
    if name == "card":
        return r"[*xX.]*(?<![0-9])(?P<card>[0-9]{3,6})(?![0-9])"
    if name == "name":
        return r"(?P<name>.+?)"
    if name == "time":
        return f"(?<![0-9])(?P<time>{time_source})(?![0-9])"
    if name == "ref":
        return r"(?P<ref>\S+)"
    return ".*?"  # {*}


def _piece_source(piece: Piece, decimal_sep: str, time_source: str) -> str:
    if piece.kind == "space":
        return r"\s++"  # possessive: what follows never starts with whitespace, so never backtrack
    if piece.kind == "text":
        return re.escape(piece.text)
    return _slot_source(piece.text, decimal_sep, time_source)


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """A template ready to parse SMS text."""

    spec: TemplateSpec
    senders: frozenset[str]
    weight: int  # literal characters, a whitespace run counting as one
    pieces: tuple[Piece, ...]
    sources: tuple[str, ...]  # regex source of each piece, for diagnostics
    pattern: re.Pattern[str]
    zone: ZoneInfo
    time_layouts: tuple[TimeLayout, ...]
    slots: frozenset[str]

    @property
    def priority(self) -> tuple[int, int]:
        """Sort key: the most literal characters first, then the oldest template."""
        return (-self.weight, self.spec.id)

    def parse(self, text: str) -> ParsedSms | None:
        """The extraction from ``text``, ``None`` when this template does not apply."""
        return self.parse_stripped(text.strip())

    def parse_stripped(self, text: str) -> ParsedSms | None:
        match = self.pattern.fullmatch(text) if len(text) <= MAX_SMS_CHARS else None
        if match is None:
            return None
        raw_amount, raw_balance, card, name, ref = match.group(*_VALUE_GROUPS)
        sep = self.spec.decimal_sep
        amount = read_amount(raw_amount, sep)
        balance = None if raw_balance is None else read_amount(raw_balance, sep)
        if amount is None or (balance is None and raw_balance is not None):
            return None
        bank_time = None
        if self.time_layouts:
            bank_time = self.read_time(match)
            if bank_time is None:
                return None
        return ParsedSms(
            template_id=self.spec.id,
            type=self.spec.type,
            amount=amount,
            balance=balance,
            card_tail=card,
            payer_name=(name.strip() or None) if name else None,
            ref=ref,
            bank_time=bank_time,
        )

    def read_time(self, match: re.Match[str]) -> int | None:
        layouts = self.time_layouts
        if len(layouts) == 1:
            return layouts[0].read(match, self.zone)
        for layout in layouts:
            if match.group(layout.probe) is not None:
                return layout.read(match, self.zone)
        return None  # pragma: no cover - one layout always matched


_VALUE_GROUPS = ("amount", "balance", "card", "name", "ref")


def _absent_groups(slots: frozenset[str]) -> str:
    """Never-matching groups for the values a template lacks, so one ``group()`` call reads all."""
    return "".join(f"(?P<{name}>){{0}}" for name in _VALUE_GROUPS if name not in slots)


def _zone(tz: str) -> ZoneInfo:
    check_time_zone(tz)
    return ZoneInfo(tz)


def compile_template(spec: TemplateSpec, default_tz: str) -> CompiledTemplate:
    """Compile ``spec`` once; raise :class:`InvalidInput` saying what is wrong with it."""
    pieces = split_content(spec.content)
    check_decimal_sep(spec.decimal_sep)
    if spec.type not in (INCOME, EXPENSE):
        raise InvalidInput(f"type {spec.type!r} must be 1 (income) or 2 (expense)")
    senders = spec.senders()
    if not senders:
        raise InvalidInput("sender must name at least one sender id")
    zone = _zone(spec.tz or default_tz)
    slots = frozenset(p.text for p in pieces if p.kind == "slot")
    # An empty time_format (as a form may send it) means none: the default layouts apply.
    time_source, layouts = time_pattern(spec.time_format or None) if "time" in slots else ("", ())
    sources = tuple(_piece_source(p, spec.decimal_sep, time_source) for p in pieces)
    return CompiledTemplate(
        spec=spec,
        senders=senders,
        weight=literal_weight(pieces),
        pieces=pieces,
        sources=sources,
        pattern=re.compile("".join(sources) + _absent_groups(slots), _FLAGS),
        zone=zone,
        time_layouts=layouts,
        slots=slots,
    )


Screened = tuple[tuple[CompiledTemplate, str], ...]
_sender_key = lru_cache(maxsize=4096)(normalize_sender)


@dataclass(frozen=True, slots=True)
class TemplateIndex:
    """The enabled templates by normalized sender, each list in priority order."""

    by_sender: Mapping[str, tuple[CompiledTemplate, ...]]
    rejected: tuple[tuple[int, str], ...] = ()  # (template id, why it did not compile)
    # Per sender, each template with a literal word that tells it from its neighbours: when an
    # ASCII SMS lacks that word (a plain substring test), the regex need not run at all.
    screened: Mapping[str, Screened] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, specs: Iterable[TemplateSpec], default_tz: str) -> TemplateIndex:
        """Index the enabled templates; one that does not compile is left out and reported."""
        _zone(default_tz)
        grouped: dict[str, list[CompiledTemplate]] = {}
        rejected: list[tuple[int, str]] = []
        for spec in specs:
            if spec.status != ENABLED:
                continue
            try:
                compiled = compile_template(spec, default_tz)
            except InvalidInput as exc:
                rejected.append((spec.id, exc.detail))
                continue
            for sender in compiled.senders:
                grouped.setdefault(sender, []).append(compiled)
        ordered = {s: tuple(sorted(ts, key=lambda t: t.priority)) for s, ts in grouped.items()}
        screened = {s: _screen(ts) for s, ts in ordered.items()}
        return cls(by_sender=ordered, rejected=tuple(rejected), screened=screened)

    def templates_for(self, sender: str) -> tuple[CompiledTemplate, ...]:
        return self.by_sender.get(normalize_sender(sender), ())

    def parse(self, sender: str, text: str) -> ParsedSms | None:
        """Parse with the winning template for ``sender``; ``None`` when none applies."""
        candidates = self.screened.get(_sender_key(sender))
        if not candidates:
            return None
        stripped = text.strip()
        # ASCII only: there, a case-insensitive regex literal matches exactly its lower-case form.
        lowered = stripped.lower() if stripped.isascii() else None
        for template, word in candidates:
            if lowered is not None and word not in lowered:
                continue
            parsed = template.parse_stripped(stripped)
            if parsed is not None:
                return parsed
        return None


def _screen(templates: tuple[CompiledTemplate, ...]) -> Screened:
    """Pair each template with its ASCII literal word that the most neighbours lack ("" if none)."""
    words = [{p.text.lower() for p in t.pieces if p.kind == "text" and p.text.isascii()} for t in templates]
    screened = []
    for template, own in zip(templates, words, strict=True):
        lacking = {word: sum(word not in other for other in words) for word in own}
        best = max(sorted(lacking), key=lambda word: (lacking[word], len(word)), default="")
        screened.append((template, best if lacking.get(best) else ""))
    return tuple(screened)


# Authoring aids: sample validation, collisions, backtests ----------------------------------------


def validate_sample(spec: TemplateSpec, default_tz: str) -> ParsedSms:
    """Parse the spec's own sample or raise :class:`InvalidInput` naming the part that failed."""
    compiled = compile_template(spec, default_tz)
    if spec.sample is None or not spec.sample.strip():
        raise InvalidInput("sample is required to check the template")
    sample = spec.sample
    lead = len(sample) - len(sample.lstrip())
    text = sample.strip()
    if len(text) > MAX_SMS_CHARS:
        raise InvalidInput(f"sample is longer than {MAX_SMS_CHARS} characters")
    parsed = compiled.parse_stripped(text)
    if parsed is not None:
        return parsed
    match = compiled.pattern.fullmatch(text)
    if match is not None:  # the shape fits but a value does not
        for slot in ("time", "amount", "balance"):
            if slot in compiled.slots and _bad_value(compiled, match, slot):
                where = _position(sample, lead + match.start(slot))
                raise InvalidInput(
                    f"`{{{slot}}}` at {where} is not a valid {_WHAT[slot]}: `{match.group(slot)}`"
                )
    matched, end = _longest_prefix(compiled, text)
    found = text[end:].split(None, 1)[0][:_SNIPPET] if text[end:].strip() else ""
    shown = f"`{found}`" if found else "the end of the text"
    where = _position(sample, lead + end)
    if matched == len(compiled.pieces):
        raise InvalidInput(f"the template ends at {where} but the sample goes on with {shown}")
    expected = compiled.pieces[matched].describe()
    raise InvalidInput(f"{expected} expected at {where}, found {shown}")


_WHAT = {"time": "date and time", "amount": "amount", "balance": "amount"}


def _bad_value(compiled: CompiledTemplate, match: re.Match[str], slot: str) -> bool:
    if slot == "time":
        return compiled.read_time(match) is None
    return read_amount(match.group(slot), compiled.spec.decimal_sep) is None


def _longest_prefix(compiled: CompiledTemplate, text: str) -> tuple[int, int]:
    """How many pieces match the start of ``text`` and where that match ends."""
    for count in range(len(compiled.pieces), 0, -1):
        found = re.compile("".join(compiled.sources[:count]), _FLAGS).match(text)
        if found is not None:
            return count, found.end()
    return 0, 0


def _position(sample: str, offset: int) -> str:
    line = sample.count("\n", 0, offset) + 1
    column = offset - (sample.rfind("\n", 0, offset) + 1) + 1
    return f"column {column}" if "\n" not in sample else f"line {line}, column {column}"


@dataclass(frozen=True, slots=True)
class SampleClash:
    """Two templates that both parse one template's sample."""

    sample_of: int  # the template whose sample it is
    other: int  # the other template that parses it too
    winner: int  # the one the priority rule picks


@dataclass(frozen=True, slots=True)
class CollisionReport:
    """Overlaps of a new template with the existing templates of its senders."""

    template_id: int
    on_new_sample: tuple[SampleClash, ...]  # existing templates that also parse the new sample
    on_existing_samples: tuple[SampleClash, ...]  # existing samples the new template parses

    @property
    def clear(self) -> bool:
        return not (self.on_new_sample or self.on_existing_samples)


def collisions(new: TemplateSpec, existing: list[TemplateSpec], default_tz: str) -> CollisionReport:
    """Which enabled templates sharing a sender with ``new`` overlap it, judged on samples."""
    fresh = compile_template(new, default_tz)
    on_new: list[SampleClash] = []
    on_old: list[SampleClash] = []
    for spec in sorted(existing, key=lambda s: s.id):
        if spec.id == new.id or spec.status != ENABLED or not (spec.senders() & fresh.senders):
            continue
        try:
            old = compile_template(spec, default_tz)
        except InvalidInput:
            continue  # it parses nothing, so it collides with nothing
        winner = min(fresh, old, key=lambda t: t.priority).spec.id
        if new.sample is not None and old.parse(new.sample) is not None:
            on_new.append(SampleClash(sample_of=new.id, other=spec.id, winner=winner))
        if spec.sample is not None and fresh.parse(spec.sample) is not None:
            on_old.append(SampleClash(sample_of=spec.id, other=new.id, winner=winner))
    return CollisionReport(new.id, tuple(on_new), tuple(on_old))


def backtest(spec: TemplateSpec, messages: list[tuple[str, str]], default_tz: str) -> list[ParsedSms | None]:
    """What ``spec`` alone would extract from each ``(sender, text)``, whatever its status."""
    compiled = compile_template(spec, default_tz)
    senders = compiled.senders
    return [
        compiled.parse(text) if normalize_sender(sender) in senders else None for sender, text in messages
    ]
