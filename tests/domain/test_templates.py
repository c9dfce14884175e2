"""The template engine against contract section 7, table by table, and the whole SMS corpus."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from recon_impl.domain import template_syntax
from recon_impl.domain.errors import InvalidInput
from recon_impl.domain.money import format_amount
from recon_impl.domain.templates import (
    MAX_SMS_CHARS,
    ParsedSms,
    SampleClash,
    TemplateIndex,
    TemplateSpec,
    backtest,
    collisions,
    compile_template,
    validate_sample,
)

UTC = "UTC"
CORPUS = yaml.safe_load((Path(__file__).parent.parent / "data" / "sms_corpus.yaml").read_text("utf-8"))
FIELDS = ("template_id", "type", "amount", "balance", "card_tail", "payer_name", "ref", "bank_time")


def spec(content: str, template_id: int = 1, **fields) -> TemplateSpec:
    """A template for sender BANK with the given content; other fields as given."""
    return TemplateSpec(
        id=template_id,
        bank_code="B",
        sender=fields.pop("sender", "BANK"),
        content=content,
        type=fields.pop("type", 1),
        **fields,
    )


def unix(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def extracted(parsed: ParsedSms | None) -> dict | None:
    """The parse result as plain values (amounts as legacy strings) for table comparisons."""
    if parsed is None:
        return None
    values = {field: getattr(parsed, field) for field in FIELDS}
    for money in ("amount", "balance"):
        values[money] = format_amount(values[money])
    return values


def expected(template_id: int = 1, **fields) -> dict:
    values = dict.fromkeys(FIELDS)
    values.update(template_id=template_id, type=1)
    values.update(fields)
    if isinstance(values["bank_time"], str):
        values["bank_time"] = unix(values["bank_time"])
    return values


# Placeholders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "text", "want"),
    [
        (spec("Paid {amount} VND"), "Paid 1,500,000 VND", expected(amount="1500000.00")),
        (spec("Paid {amount} VND", decimal_sep=","), "Paid 1.500.000 VND", expected(amount="1500000.00")),
        (spec("Paid {amount} VND"), "Paid 1 500 000 VND", expected(amount="1500000.00")),
        (spec("Paid {amount} CHF"), "Paid 1'500.05 CHF", expected(amount="1500.05")),
        (spec("Paid {amount} INR"), "Paid 1,50,000 INR", expected(amount="150000.00")),
        (spec("Paid {amount}"), "Paid 75.5", expected(amount="75.50")),
        (spec("Paid {amount} VND"), "Paid 1.500 VND", None),
        (spec("Paid {amount}{*}"), "Paid 1.500 VND", None),
        (spec("Paid {*}{amount} VND"), "Paid 1.500 VND", None),
        (spec("Paid {amount} VND"), "Paid 1,500.123 VND", None),
        (spec("Paid {amount} VND"), "Paid abc VND", None),
        (spec("Paid {amount} VND"), "Paid 1234567890123456 VND", None),
        (
            spec("Paid {amount}, bal {balance}"),
            "Paid 10, bal 1,010.5",
            expected(amount="10.00", balance="1010.50"),
        ),
        (spec("{amount} to {card}"), "5 to ****1234", expected(amount="5.00", card_tail="1234")),
        (spec("{amount} to {card}"), "5 to xx123", expected(amount="5.00", card_tail="123")),
        (spec("{amount} to {card}"), "5 to X.123456", expected(amount="5.00", card_tail="123456")),
        (spec("{amount} to {card}"), "5 to 4321", expected(amount="5.00", card_tail="4321")),
        (spec("{amount} to {card}"), "5 to ****12", None),
        (spec("{amount} to {card}"), "5 to ****1234567", None),
        (spec("{amount} to {card}"), "5 to 12**34", None),
        (
            spec("From {name} amount {amount}"),
            "From   JOHN  DOE   amount 5",
            expected(amount="5.00", payer_name="JOHN  DOE"),
        ),
        (
            spec("From {name} amount {amount}"),
            "From JOHN\nDOE amount 5",
            expected(amount="5.00", payer_name="JOHN\nDOE"),
        ),
        (
            spec("From {name} ref {ref} {amount}"),
            "From A ref B ref C 5",
            expected(amount="5.00", payer_name="A ref B", ref="C"),
        ),
        (spec("Ref:{ref}. {amount}"), "Ref:ABC-123/9. 5", expected(amount="5.00", ref="ABC-123/9")),
        (spec("Ref {ref} {amount}"), "Ref AB C 5", None),
        (spec("Got {*}{amount}"), "Got 5", expected(amount="5.00")),
        (spec("Got {*} {amount}"), "Got lots of\nlines here 5", expected(amount="5.00")),
        (spec("Got {amount}{*}"), "Got 5", expected(amount="5.00")),
    ],
)
def test_each_placeholder_matches_and_stores_what_the_contract_says(template, text, want):
    assert extracted(compile_template(template, UTC).parse(text)) == want


@pytest.mark.parametrize(
    ("content", "text", "parses"),
    [
        ("Paid {amount} VND", "  Paid 5 VND \n", True),
        ("Paid {amount} VND", "PAID 5 vnd", True),
        ("Paid {amount} VND", "Paid\t\t5\n\nVND", True),
        ("Paid {amount} VND", "Paid\u00a05\u202fVND", True),
        ("Paid    {amount}   VND", "Paid 5 VND", True),
        ("Paid {amount}VND", "Paid 5 VND", False),
        ("Paid {amount} VND", "Paid 5VND", False),
        ("Paid {amount} VND", "Paid 5 VND extra", False),
        ("Paid {amount} VND", "Note: Paid 5 VND", False),
        ("Crédit {amount} €", "CRÉDIT 5 €", True),
        ("  Paid {amount}  ", "Paid 5", True),
        ("Paid (a+b)* {amount} [x]?", "paid (A+B)* 5 [X]?", True),
    ],
)
def test_literals_ignore_case_and_any_whitespace_run_matches_any_whitespace_run(content, text, parses):
    assert (compile_template(spec(content), UTC).parse(text) is not None) is parses


# Times ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_format", "tz", "written", "iso"),
    [
        (None, None, "2024-03-05 10:15", "2024-03-05T10:15:00+00:00"),
        (None, None, "2024-03-05 10:15:30", "2024-03-05T10:15:30+00:00"),
        (None, None, "05/03/2024 10:15", "2024-03-05T10:15:00+00:00"),
        (None, None, "05/03/2024\n10:15:30", "2024-03-05T10:15:30+00:00"),
        (None, None, "05-03-2024 23:59:59", "2024-03-05T23:59:59+00:00"),
        (None, "Asia/Ho_Chi_Minh", "05-03-2024 10:15", "2024-03-05T10:15:00+07:00"),
        ("%d-%m-%Y %H:%M:%S", "Asia/Kolkata", "05-03-2024    10:15:30", "2024-03-05T10:15:30+05:30"),
        ("%d-%b-%y", "Asia/Kolkata", "05-MAR-24", "2024-03-05T00:00:00+05:30"),
        ("%d %B %Y, %H:%M", None, "5 march 2024, 07:00", "2024-03-05T07:00:00+00:00"),
        ("%d%b%y", None, "29Feb24", "2024-02-29T00:00:00+00:00"),
        ("%d/%m/%y at %I:%M %p", "Africa/Nairobi", "5/3/24 at 2:15 PM", "2024-03-05T14:15:00+03:00"),
        ("%d/%m/%y at %I:%M %p", "Africa/Nairobi", "5/3/24 at 12:15 am", "2024-03-05T00:15:00+03:00"),
        ("%d/%m/%y at %I:%M %p", "Africa/Nairobi", "5/3/24 at 12:15 PM", "2024-03-05T12:15:00+03:00"),
        ("%Y-%m-%dT%H:%M:%S%z", "Asia/Tokyo", "2024-03-05T10:15:30+0700", "2024-03-05T10:15:30+07:00"),
        ("%Y-%m-%dT%H:%M:%S%z", "Asia/Tokyo", "2024-03-05T10:15:30Z", "2024-03-05T10:15:30+00:00"),
        ("%a %d.%m.%Y %H:%M", "Europe/Berlin", "Sun 31.03.2024 03:30", "2024-03-31T03:30:00+02:00"),
        ("%Y年%m月%d日%H:%M", "Asia/Shanghai", "2024年3月5日9:05", "2024-03-05T09:05:00+08:00"),
        ("%-d/%-m/%Y %H:%M", None, "5/3/2024 09:05", "2024-03-05T09:05:00+00:00"),
        ("  %d/%m/%Y %H:%M ", None, "05/03/2024 09:05", "2024-03-05T09:05:00+00:00"),
        ("", None, "05/03/2024 09:05", "2024-03-05T09:05:00+00:00"),
        ("%d/%m/%Y %H:%M 100%%", None, "05/03/2024 09:05 100%", "2024-03-05T09:05:00+00:00"),
    ],
)
def test_times_are_read_in_the_template_zone_as_unix_seconds(time_format, tz, written, iso):
    template = spec("Paid {amount} at {time}.", time_format=time_format, tz=tz)
    parsed = compile_template(template, UTC).parse(f"Paid 5 at {written}.")
    assert parsed is not None
    assert parsed.bank_time == unix(iso)


@pytest.mark.parametrize(
    ("time_format", "written"),
    [
        (None, "2024-13-05 10:15"),
        (None, "31/02/2024 10:15"),
        (None, "05/03/2024 24:00"),
        (None, "05/03/2024 10:60"),
        (None, "05/03/2024"),
        (None, "05.03.2024 10:15"),
        (None, "5 March 2024 10:15"),
        ("%d-%b-%y", "05-XYZ-24"),
        ("%d/%m/%y at %I:%M %p", "5/3/24 at 13:15 PM"),
        ("%d/%m/%y at %I:%M %p", "5/3/24 at 0:15 AM"),
        ("%d%b%y", "29Feb23"),
    ],
)
def test_a_time_that_does_not_parse_means_the_template_does_not_apply(time_format, written):
    template = spec("Paid {amount} at {time}.", time_format=time_format)
    assert compile_template(template, UTC).parse(f"Paid 5 at {written}.") is None


def test_the_default_time_zone_applies_when_the_template_has_none():
    template = spec("Paid {amount} at {time}")
    assert compile_template(template, "Asia/Dhaka").parse("Paid 5 at 2024-03-05 12:00").bank_time == unix(
        "2024-03-05T12:00:00+06:00"
    )


# Choosing the template ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("templates", "sender", "text", "winner"),
    [
        # more literal characters win
        ([spec("Paid {amount} {*}", 7), spec("Paid {amount} from {name}", 9)], "BANK", "Paid 5 from X", 9),
        # a whitespace run counts as one character (counted per character, 1 would win)
        (
            [spec("Paid {amount}        VND{*}", 1), spec("Paid {amount} VND {*}", 2)],
            "BANK",
            "Paid 5 VND ok",
            2,
        ),
        # a tie goes to the oldest template, whatever the list order
        ([spec("Paid {amount}{*}", 5), spec("Paid {*}{amount}", 3)], "BANK", "Paid 5", 3),
        # a disabled template never competes
        (
            [spec("Paid {amount} {*}", 1), spec("Paid {amount} from {name}", 2, status=0)],
            "BANK",
            "Paid 5 from X",
            1,
        ),
        # the winner's time does not parse: it does not apply, the next one does
        (
            [spec("Paid {amount} at {time}", 1), spec("Paid {amount} at {*}", 2)],
            "BANK",
            "Paid 5 at 2024-02-30 10:00",
            2,
        ),
        # senders are normalized on both sides and a template may list several
        ([spec("Paid {amount}", 1, sender=" vcb , +84-901 234 ")], "84901234", "Paid 5", 1),
        ([spec("Paid {amount}", 1, sender="VCB,Vietcombank")], "VIETCOMBANK", "Paid 5", 1),
        ([spec("Paid {amount}", 1, sender="VCB")], "v-c-b", "Paid 5", 1),
        # another sender's template never applies
        ([spec("Paid {amount}", 1, sender="VCB")], "TCB", "Paid 5", None),
        ([spec("Paid {amount}", 1)], "BANK", "Received 5", None),
    ],
)
def test_the_enabled_template_with_the_most_literal_characters_wins(templates, sender, text, winner):
    parsed = TemplateIndex.build(templates, UTC).parse(sender, text)
    assert (parsed.template_id if parsed else None) == winner


def test_an_expense_template_reports_type_two():
    parsed = TemplateIndex.build([spec("Spent {amount}", 4, type=2)], UTC).parse("BANK", "Spent 9")
    assert parsed == ParsedSms(template_id=4, type=2, amount=Decimal("9.00"))


def test_a_template_that_does_not_compile_is_left_out_of_the_index_and_reported():
    index = TemplateIndex.build(
        [spec("Paid {amount}", 1), spec("Paid {amout}", 2), spec("x {amount}", 3, tz="Nowhere")], UTC
    )
    assert [template_id for template_id, _ in index.rejected] == [2, 3]
    assert index.parse("BANK", "Paid 5").template_id == 1


# Compile errors and sample checks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (spec("Paid 5 VND"), "must contain {amount}"),
        (spec("Paid {amount} {foo}"), "unknown placeholder(s) {foo}"),
        (spec("Paid {amount} {amount}"), "repeats placeholder {amount}"),
        (spec("Paid {amount}", tz="Mars/Olympus"), "not an IANA time zone"),
        (spec("Paid {amount}", decimal_sep=";"), "decimal_sep"),
        (spec("Paid {amount}", type=3), "must be 1 (income) or 2 (expense)"),
        (spec("Paid {amount}", sender=" , "), "at least one sender"),
        (spec("Paid {amount} at {time}", time_format="%d/%m/%Y %Q"), "'%Q' is not supported"),
        (spec("Paid {amount} at {time}", time_format="%d/%m/%Y %"), "is not supported"),
        (spec("Paid {amount} at {time}", time_format="%d/%m %H:%M"), "needs a year"),
        (spec("Paid {amount} at {time}", time_format="%H:%M"), "needs a year"),
        (spec("Paid {amount} at {time}", time_format="%d/%m/%Y %d"), "gives the day twice"),
        (spec("Paid {amount} at {time}", time_format="%d/%m/%Y %H %I"), "twice"),
    ],
)
def test_a_template_that_cannot_work_is_refused_with_a_clear_message(template, message):
    with pytest.raises(InvalidInput) as raised:
        compile_template(template, UTC)
    assert message in raised.value.detail


def test_a_bad_default_time_zone_is_refused():
    with pytest.raises(InvalidInput, match="IANA"):
        TemplateIndex.build([], "Nowhere/Special")


@pytest.mark.parametrize(
    ("content", "sample"),
    [("Paid {amount}", "Paid 5"), ("{foo} {amount}", None), ("no amount", None)],
)
def test_catalog_syntax_checks_agree_with_the_engine(content, sample):
    """template_syntax.check_content (used by the catalog) accepts exactly what compiles."""
    try:
        template_syntax.check_content(content)
    except InvalidInput:
        with pytest.raises(InvalidInput):
            compile_template(spec(content), UTC)
    else:
        assert compile_template(spec(content), UTC).parse(sample) is not None


VCB = "SD TK {card} +{amount}VND luc {time}. SD {balance}VND. Ref {ref} {*}"


@pytest.mark.parametrize(
    ("content", "sample", "message"),
    [
        (
            VCB,
            "SD TK ****3456 +abcVND luc 05-03-2024 10:15:30. SD 1VND. Ref A b",
            "`{amount}` expected at column 17, found `abcVND`",
        ),
        (
            VCB,
            "SD TK ****3456 +1.500VND luc 05-03-2024 10:15:30. SD 1VND. Ref A b",
            "`{amount}` expected at column 17, found `1.500VND`",
        ),
        (
            VCB,
            "SD TK 0071***456 +1VND luc 05-03-2024 10:15:30. SD 1VND. Ref A b",
            "whitespace expected at column 11, found `***456`",
        ),
        (
            VCB,
            "SD TK ****3456 +1VND at 05-03-2024 10:15:30. SD 1VND. Ref A b",
            "`luc` expected at column 22, found `at`",
        ),
        (
            VCB,
            "SD TK ****3456 +1VND luc 05/03/2024 10:15:30. SD 1VND. Ref A b",
            "`{time}` expected at column 26, found `05/03/2024`",
        ),
        (
            VCB,
            "SD TK ****3456 +1VND luc 30-02-2024 10:15:30. SD 1VND. Ref A b",
            "`{time}` at column 26 is not a valid date and time: `30-02-2024 10:15:30`",
        ),
        (
            VCB,
            "SD TK ****3456 +1VND luc 05-03-2024 10:15:30. SD 1VND.",
            "whitespace expected at column 55, found the end of the text",
        ),
        (
            VCB,
            "SD TK ****3456 +1VND luc 05-03-2024 10:15:30.SD 1VND. Ref A b",
            "whitespace expected at column 46, found `SD`",
        ),
        ("Paid {amount}", "Paid 5 VND", "the template ends at column 7 but the sample goes on with `VND`"),
        (
            "Paid {amount}\nFrom {name}\nOn {time}",
            "Paid 5\nFrom X\nAt 2024-03-05 10:00",
            "`On` expected at line 3, column 1, found `At`",
        ),
        (
            "Paid {amount} {balance}",
            "  Paid 5 9999999999999999",
            "`{balance}` at column 10 is not a valid amount: `9999999999999999`",
        ),
    ],
)
def test_a_sample_that_does_not_parse_is_refused_saying_which_part_failed(content, sample, message):
    with pytest.raises(InvalidInput) as raised:
        validate_sample(
            spec(content, time_format="%d-%m-%Y %H:%M:%S" if "luc" in content else None, sample=sample), UTC
        )
    assert raised.value.detail == message


def test_a_good_sample_gives_its_extraction():
    template = spec(
        VCB,
        8,
        time_format="%d-%m-%Y %H:%M:%S",
        tz="Asia/Ho_Chi_Minh",
        sample="SD TK ****3456 +1,500,000VND luc 05-03-2024 10:15:30. SD 12,345,678VND. Ref FT1 memo",
    )
    assert extracted(validate_sample(template, UTC)) == expected(
        8,
        amount="1500000.00",
        balance="12345678.00",
        card_tail="3456",
        ref="FT1",
        bank_time="2024-03-05T10:15:30+07:00",
    )


def test_text_longer_than_the_limit_is_never_parsed_so_crafted_text_cannot_stall_the_worker():
    template = spec("Paid {amount} from {*}. Ref {*}. Fee {*}. end")
    crafted = "Paid 5 from " + "x. Ref x. Fee x. " * 200 + "not the end"
    assert len(crafted) > MAX_SMS_CHARS
    assert compile_template(template, UTC).parse(crafted) is None
    head, tail = "Paid 5 from ", ". Ref y. Fee z. end"
    fits = head + "x" * (MAX_SMS_CHARS - len(head) - len(tail)) + tail
    assert len(fits) == MAX_SMS_CHARS
    assert compile_template(template, UTC).parse(fits) is not None
    with pytest.raises(InvalidInput, match="longer than"):
        validate_sample(replace(template, sample=crafted), UTC)


@pytest.mark.parametrize("sample", [None, "", "   "])
def test_a_template_without_a_sample_cannot_be_checked(sample):
    with pytest.raises(InvalidInput, match="sample is required"):
        validate_sample(spec("Paid {amount}", sample=sample), UTC)


# Collisions and backtests ---------------------------------------------------------------------


def test_collisions_name_the_templates_that_parse_each_others_samples():
    new = spec("Paid {amount} from {name}", 10, sender="BANK,OTHER", sample="Paid 5 from X")
    existing = [
        spec("Paid {amount} {*}", 1, sample="Paid 5 from Y"),  # parses the new sample; new parses its sample
        spec("Paid {amount}", 2, sample="Paid 5"),  # no overlap
        spec("Paid {amount} from {*}", 3, sender="other", sample="Paid 7 from Z"),  # shares sender OTHER
        spec("Paid {amount} {*}", 4, sender="ELSEWHERE", sample="Paid 5 from Y"),  # other sender
        spec("Paid {amount} {*}", 5, status=0, sample="Paid 5 from Y"),  # disabled
        spec("Paid {amount} {*}", 10, sample="Paid 5 from Y"),  # the template being edited itself
    ]
    report = collisions(new, existing, UTC)
    assert report.on_new_sample == (
        SampleClash(sample_of=10, other=1, winner=10),
        SampleClash(sample_of=10, other=3, winner=3),
    )
    assert report.on_existing_samples == (
        SampleClash(sample_of=1, other=10, winner=10),
        SampleClash(sample_of=3, other=10, winner=3),
    )
    assert not report.clear


def test_a_template_that_overlaps_nothing_has_a_clear_collision_report():
    new = spec("Received {amount}", 10, sample="Received 5")
    assert collisions(new, [spec("Paid {amount}", 1, sample="Paid 5")], UTC).clear


def test_a_backtest_parses_only_the_templates_own_senders_whatever_its_status():
    template = spec("Paid {amount}", 3, sender="VCB", status=0)
    results = backtest(
        template, [("VCB", "Paid 5"), ("vcb", "paid 6"), ("TCB", "Paid 5"), ("VCB", "Sent 5")], UTC
    )
    assert [r.amount if r else None for r in results] == [Decimal("5.00"), Decimal("6.00"), None, None]


# The corpus -----------------------------------------------------------------------------------

CORPUS_INDEX = TemplateIndex.build([TemplateSpec(**t) for t in CORPUS["templates"]], CORPUS["default_tz"])


def corpus_expectation(expect: dict | None) -> dict | None:
    return None if expect is None else expected(**expect)


@pytest.mark.parametrize("message", CORPUS["messages"], ids=[m["name"] for m in CORPUS["messages"]])
def test_every_corpus_sms_gives_its_expected_extraction(message):
    parsed = CORPUS_INDEX.parse(message["sender"], message["text"])
    assert extracted(parsed) == corpus_expectation(message["expect"])


def test_the_corpus_is_broad_enough():
    """At least 50 SMS, six formats, every template compiling, expenses and misses included."""
    messages = CORPUS["messages"]
    parsed = [m["expect"] for m in messages if m["expect"]]
    assert len(messages) >= 50
    assert CORPUS_INDEX.rejected == ()
    assert len({t["bank_code"] for t in CORPUS["templates"]}) >= 6
    assert {e["template_id"] for e in parsed} >= {
        t["id"] for t in CORPUS["templates"] if t.get("status", 1) == 1
    }
    assert any(e["type"] == 2 for e in parsed)
    assert sum(1 for m in messages if m["expect"] is None) >= 10


def test_every_corpus_template_accepts_its_corpus_messages_as_sample():
    """Each parsed corpus SMS also passes validate_sample for its winning template."""
    by_id = {t["id"]: TemplateSpec(**t) for t in CORPUS["templates"]}
    for message in CORPUS["messages"]:
        if message["expect"]:
            template = replace(by_id[message["expect"]["template_id"]], sample=message["text"])
            assert extracted(validate_sample(template, CORPUS["default_tz"])) == corpus_expectation(
                message["expect"]
            )
