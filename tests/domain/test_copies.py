"""Copies of one bank message through two channels, twin deposits, and the balance chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recon_impl.domain.copies import (
    Account,
    BankSms,
    ChainResult,
    CopyVerdict,
    account_of,
    check_chain,
    classify_copy,
    fingerprint,
    lookup_keys,
    same_deposit,
)

T0 = 1_733_200_020
AMOUNT = Decimal("500000")


def bank_sms(
    sms_id=1,
    sender="Vietcombank",
    amount=AMOUNT,
    at=T0,
    bank_time=None,
    card="6789",
    balance=None,
    ref=None,
    direction="income",
):
    return BankSms(
        sms_id=sms_id,
        sender=sender,
        amount=amount,
        received_at=at,
        direction=direction,
        card_tail=card,
        bank_time=bank_time,
        balance=balance,
        ref=ref,
    )


def test_the_same_sms_from_the_phone_and_from_pushbullet_is_one_deposit():
    """Same bank text, two channels, 40 s apart: same fingerprint, and the balance proves a copy."""
    phone = bank_sms(sms_id=1, sender="VIETCOMBANK", at=T0, bank_time=T0 - 20, balance=Decimal("1500000"))
    pushbullet = bank_sms(
        sms_id=2, sender="vietcombank", at=T0 + 40, bank_time=T0 - 20, balance=Decimal("1500000.00")
    )
    assert fingerprint(phone) == fingerprint(pushbullet)
    assert fingerprint(phone) in lookup_keys(pushbullet)
    assert classify_copy(pushbullet, [phone]) == CopyVerdict("copy", "balance", copy_of=1)


def test_two_genuine_deposits_of_the_same_amount_are_told_apart_by_the_balance():
    """Same amount, same minute, but the second balance continues the chain from the first."""
    first = bank_sms(sms_id=1, balance=Decimal("1500000"))
    second = bank_sms(sms_id=2, at=T0 + 30, balance=Decimal("2000000"))
    assert same_deposit(first, second)
    assert classify_copy(second, [first]) == CopyVerdict("distinct", "balance")
    assert check_chain(first.balance, second).kind == "ok"


# (what happens, the new SMS, the stored similar SMS, the verdict)
VERDICTS = [
    ("nothing stored", bank_sms(2), [], CopyVerdict("distinct", "nothing_similar")),
    (
        "same balance",
        bank_sms(2, balance=Decimal(7)),
        [bank_sms(1, balance=Decimal(7))],
        CopyVerdict("copy", "balance", copy_of=1),
    ),
    (
        "same ref, case and spaces aside",
        bank_sms(2, ref="ft24 001"),
        [bank_sms(1, ref="FT24001")],
        CopyVerdict("copy", "ref", copy_of=1),
    ),
    ("different ref", bank_sms(2, ref="FT1"), [bank_sms(1, ref="FT2")], CopyVerdict("distinct", "ref")),
    (
        "different balance",
        bank_sms(2, balance=Decimal(8)),
        [bank_sms(1, balance=Decimal(7))],
        CopyVerdict("distinct", "balance"),
    ),
    (
        "neither balance nor ref",
        bank_sms(2),
        [bank_sms(1)],
        CopyVerdict("suspected", "no_evidence", suspects=(1,)),
    ),
    (
        "a balance on one side only",
        bank_sms(2, balance=Decimal(7)),
        [bank_sms(1)],
        CopyVerdict("suspected", "no_evidence", suspects=(1,)),
    ),
    (
        "same ref but another balance",
        bank_sms(2, ref="FT1", balance=Decimal(8)),
        [bank_sms(1, ref="FT1", balance=Decimal(7))],
        CopyVerdict("suspected", "conflict", suspects=(1,)),
    ),
    (
        "131 s apart is not similar",
        bank_sms(2, at=T0 + 131),
        [bank_sms(1, at=T0)],
        CopyVerdict("distinct", "nothing_similar"),
    ),
    (
        "itself is not a copy of itself",
        bank_sms(1),
        [bank_sms(1)],
        CopyVerdict("distinct", "nothing_similar"),
    ),
    (
        "the copy is found among a twin",
        bank_sms(3, balance=Decimal(9)),
        [bank_sms(1, balance=Decimal(8)), bank_sms(2, balance=Decimal(9))],
        CopyVerdict("copy", "balance", copy_of=2),
    ),
    (
        "one unprovable stored SMS is enough for a person to look",
        bank_sms(3, balance=Decimal(9)),
        [bank_sms(2), bank_sms(1, balance=Decimal(8))],
        CopyVerdict("suspected", "no_evidence", suspects=(2,)),
    ),
]


@pytest.mark.parametrize(("_what", "new", "stored", "verdict"), VERDICTS, ids=[row[0] for row in VERDICTS])
def test_balance_and_ref_settle_a_suspected_copy_or_leave_it_to_a_person(_what, new, stored, verdict):
    """Evidence one way settles it; no evidence, or evidence both ways, is a suspect."""
    assert classify_copy(new, stored) == verdict


def test_a_suspected_copy_goes_to_need_check_as_a_duplicate_and_is_not_dropped():
    """Only a suspect carries the reason; a proven copy is linked, a distinct SMS goes on."""
    assert classify_copy(bank_sms(2), [bank_sms(1)]).reason == "duplicate"
    assert classify_copy(bank_sms(2, ref="A"), [bank_sms(1, ref="A")]).reason is None
    assert classify_copy(bank_sms(2, ref="A"), [bank_sms(1, ref="B")]).reason is None


@pytest.mark.parametrize(
    ("other", "linked"),
    [
        (bank_sms(2, at=T0 + 120), True),
        (bank_sms(2, at=T0 - 120), True),
        (bank_sms(2, at=T0 + 121), False),
        (bank_sms(2, sender="VCB"), False),
        (bank_sms(2, amount=AMOUNT + 1), False),
        (bank_sms(2, card="0000"), False),
        (bank_sms(2, card=None), False),
        (bank_sms(2, direction="expense"), False),
        (bank_sms(2, sender=" vietcom-bank "), True),
        (bank_sms(2, amount=Decimal("500000.00")), True),
    ],
)
def test_copies_share_sender_amount_card_direction_and_a_moment_within_120_s(other, linked):
    """same_deposit is the exact test behind the bucketed key."""
    assert same_deposit(bank_sms(1), other) is linked


def test_the_bank_time_links_copies_that_arrived_far_apart():
    """A Pushbullet sync 10 min late still links: the bank's own time is the same in both."""
    phone = bank_sms(1, at=T0, bank_time=T0 - 30)
    synced_late = bank_sms(2, at=T0 + 600, bank_time=T0 - 30)
    assert same_deposit(phone, synced_late)
    assert fingerprint(phone) == fingerprint(synced_late)


@given(st.integers(0, 4_000_000_000), st.integers(-120, 120))
def test_a_lookup_finds_every_sms_within_120_s(moment, offset):
    """Whatever the two moments, one bucket key of the newcomer is the stored SMS's key."""
    stored = bank_sms(1, at=moment)
    newcomer = bank_sms(2, at=moment + offset)
    assert fingerprint(stored) in lookup_keys(newcomer)
    assert same_deposit(stored, newcomer)


@given(st.integers(0, 4_000_000_000), st.integers(240, 100_000), st.sampled_from([-1, 1]))
def test_a_lookup_does_not_reach_sms_four_minutes_away(moment, distance, sign):
    """The three buckets span less than 6 min, so far-apart SMS never meet."""
    assert fingerprint(bank_sms(1, at=moment)) not in lookup_keys(bank_sms(2, at=moment + sign * distance))


# (what happens, previous balance, the SMS, the result)
CHAINS = [
    (
        "income continues the chain",
        Decimal(1000),
        bank_sms(balance=Decimal(1500), amount=Decimal(500)),
        ChainResult("ok", Decimal(1500), Decimal(0)),
    ),
    (
        "an expense subtracts",
        Decimal(1000),
        bank_sms(balance=Decimal(700), amount=Decimal(300), direction="expense"),
        ChainResult("ok", Decimal(700), Decimal(0)),
    ),
    (
        "a missed income shows as a positive gap",
        Decimal(1000),
        bank_sms(balance=Decimal(1700), amount=Decimal(500)),
        ChainResult("balance_gap", Decimal(1500), Decimal(200)),
    ),
    (
        "a missed expense shows as a negative gap",
        Decimal(1000),
        bank_sms(balance=Decimal("1250.50"), amount=Decimal(500)),
        ChainResult("balance_gap", Decimal(1500), Decimal("-249.50")),
    ),
    (
        "the first SMS of an account starts the chain",
        None,
        bank_sms(balance=Decimal(1500)),
        ChainResult("start"),
    ),
    (
        "an SMS without a balance says nothing",
        Decimal(1000),
        bank_sms(balance=None),
        ChainResult("no_balance"),
    ),
]


@pytest.mark.parametrize(("_what", "previous", "new", "result"), CHAINS, ids=[row[0] for row in CHAINS])
def test_the_balance_chain_reports_a_break_with_the_missing_amount(_what, previous, new, result):
    """previous + amount (an expense subtracts) must equal the reported balance."""
    assert check_chain(previous, new) == result
    assert check_chain(previous, new).reason == ("balance_gap" if result.kind == "balance_gap" else None)


def test_a_day_of_one_account_chains_through_income_twins_and_an_expense():
    """Walking an account's SMS in order finds exactly the one SMS we never received."""
    day = [
        bank_sms(1, amount=Decimal(100), balance=Decimal(1100)),
        bank_sms(2, amount=Decimal(100), balance=Decimal(1200)),
        bank_sms(3, amount=Decimal(50), balance=Decimal(1150), direction="expense"),
        # an income of 300 never arrived here
        bank_sms(5, amount=Decimal(100), balance=Decimal(1550)),
    ]
    previous = Decimal(1000)
    gaps = []
    for item in day:
        result = check_chain(previous, item)
        if result.kind == "balance_gap":
            gaps.append((item.sms_id, result.missing))
        previous = item.balance
    assert gaps == [(5, Decimal(300))]


@pytest.mark.parametrize(
    ("item", "account"),
    [
        (bank_sms(card="6789"), Account("VIETCOMBANK", "6789")),
        (BankSms(1, "8149", AMOUNT, T0, card_tail="11", bank_code="vcb"), Account("VCB", "11")),
    ],
)
def test_the_chain_runs_per_bank_and_card_tail(item, account):
    """The template's bank code names the bank when there is one, else the sender."""
    assert account_of(item) == account
