"""Template drift: money-looking SMS that no template parses, grouped by shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recon_impl.domain.drift import (
    NearMiss,
    NearMissGroup,
    group_near_misses,
    is_near_miss,
    looks_like_money,
    shape,
)

CORPUS = yaml.safe_load((Path(__file__).parent.parent / "data" / "sms_corpus.yaml").read_text("utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "TK ****3456 duoc ghi co 1,500,000 VND",
        "So du 1.500.000đ",
        "Rs.1,500.00 credited",
        "INR 1,50,000.00 deposited",
        "You have received Ksh1,500.00 from JOHN",
        "KES 250 received",
        "Tk 1,500.00 received",
        "BDT 500 sent",
        "收入人民币1,500.00元",
        "余额12,345.67元",
        "CNY 88.50",
        "RMB88",
        "Gutschrift 1.234,56 EUR",
        "€12.50 paid",
        "Crédit de 1\u202f234,56\u00a0€",
        "GD: +1,500,000 luc 10:00",
        "(-500) adjustment",
        "Balance: +1500000",
    ],
)
def test_an_amount_near_a_currency_or_a_sign_looks_like_money(text):
    assert looks_like_money(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ma OTP cua Quy khach la 123456.",
        "Ma OTP giao dich tren TK 0071000123456 la 123456",  # TK is an account, not taka
        "Your OTP is 482913. Do not share it.",
        "Call +84901234567 for help",
        "Meeting on 2024-03-05 at 10:00",
        "Ref 12-34-56",
        "Tkt 500 issued",  # not the Taka abbreviation
        "Version 2.1.0 released",
        "",
    ],
)
def test_text_without_an_amount_next_to_money_words_does_not_look_like_money(text):
    assert not looks_like_money(text)


@pytest.mark.parametrize(
    ("whitelisted", "parsed", "text", "near_miss"),
    [
        (True, False, "Ksh1,500.00 received from JOHN", True),
        (True, True, "Ksh1,500.00 received from JOHN", False),
        (False, False, "Ksh1,500.00 received from JOHN", False),
        (True, False, "Your OTP is 482913", False),
    ],
)
def test_a_near_miss_is_whitelisted_money_that_no_template_parsed(whitelisted, parsed, text, near_miss):
    assert is_near_miss(whitelisted=whitelisted, parsed=parsed, text=text) is near_miss


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "VCB: TK ****3456 duoc ghi co 1,500,000 VND vao 05/03/2024 10:15. ND: NGUYEN VAN A chuyen tien",
            "VCB: TK ****3456 duoc ghi co 20,000 VND vao 16/12/2024 09:05. ND: TRAN THI BICH NGOC chuyen tien",
        ),
        (
            "SC84LMNO5H Confirmed. Ksh2,000.00 received from PETER OTIENO 0733111222 on 7/3/24 at 4:10 PM.",
            "SD19ZZ1AB2 Confirmed. Ksh50.00 received from MARY WANJIKU KAMAU 0799000111 on 17/12/24 at 11:59 AM.",
        ),
        (
            "Payment Tk 1,200.00 to DARAZ BD (01700000000) successful. TrxID 5D4E3F2A1B at 07/03/2024 20:00",
            "Payment Tk 80.00 to FOODPANDA LTD (01811111111) successful. TrxID 9Z8Y7X6W5V at 17/03/2024 08:00",
        ),
        ("Rs.1,500.00 credited by VPA john.doe@okaxis", "Rs.75.50 credited by VPA 9876543210@ybl"),
        (
            "您尾号1234卡3月5日14:22收到转账1,500.00元，余额12,345.67元",  # noqa: RUF001
            "您尾号9876卡12月15日04:02收到转账88.50元，余额345.60元",  # noqa: RUF001
        ),
        ("Gutschrift 1.234,56 EUR von MAX MUSTERMANN", "Gutschrift 7,10 EUR von ERIKA ANNA MÜLLER"),
        ("  Paid 5 VND\n\nthanks ", "Paid 6 VND thanks"),
    ],
)
def test_two_sms_of_one_wording_with_different_values_have_one_shape(first, second):
    assert shape(first) == shape(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("TK ****3456 duoc ghi co 1,500,000 VND", "TK ****3456 bi tru 1,500,000 VND"),
        ("Ksh1,500.00 received from JOHN DOE", "Ksh1,500.00 sent to JOHN DOE"),
        ("Paid 1,500.00 EUR", "Paid 1,500 EUR"),
        ("Credit Alert! Rs.500 to a/c XX1234", "Debit Alert! Rs.500 to a/c XX1234"),
    ],
)
def test_different_wordings_have_different_shapes(first, second):
    assert shape(first) != shape(second)


def test_shape_takes_numbers_ids_and_names_out():
    text = "SC84LMNO5H Confirmed. Ksh2,000.00 received from PETER OTIENO 0733111222 on 7/3/24 at 4:10 PM."
    assert shape(text) == "# Confirmed. Ksh9.99 received from A 9 on 9/9/9 at 9:9 AM/PM."


def test_near_misses_group_by_sender_and_shape_largest_group_first():
    items = [
        NearMiss(
            1,
            "MPESA",
            "SC1AAAA1AA Confirmed. Ksh2,000.00 received from PETER OTIENO 0733111222 on 7/3/24 at 4:10 PM.",
        ),
        NearMiss(2, "VCB", "TK ****3456 duoc ghi co 1,500,000 VND"),
        NearMiss(
            3,
            "m-pesa",
            "SC2BBBB2BB Confirmed. Ksh50.00 received from MARY WANJIKU 0799000111 on 8/3/24 at 9:00 AM.",
        ),
        NearMiss(
            4,
            "MPESA",
            "SC3CCCC3CC Confirmed. Ksh7.00 received from ANN NJERI 0711000222 on 9/3/24 at 1:00 PM.",
        ),
        NearMiss(
            5, "MPESA", "SC4DDDD4DD Confirmed. Ksh8.00 received from JO KE 0711000333 on 9/3/24 at 2:00 PM."
        ),
        NearMiss(6, "TCB", "TK ****3456 duoc ghi co 1,500,000 VND"),
    ]
    groups = group_near_misses(items, examples=3)
    assert groups == [
        NearMissGroup("MPESA", "# Confirmed. Ksh9.99 received from A 9 on 9/9/9 at 9:9 AM/PM.", 4, (1, 3, 4)),
        NearMissGroup("TCB", "TK ****9 duoc ghi co 9 VND", 1, (6,)),
        NearMissGroup("VCB", "TK ****9 duoc ghi co 9 VND", 1, (2,)),
    ]


def test_no_near_misses_make_no_groups():
    assert group_near_misses([]) == []


def test_every_corpus_sms_from_a_bank_that_no_template_parses_but_talks_money_is_a_near_miss():
    """The reworded corpus SMS are near-misses; the OTP is not."""
    senders = {part.strip().upper() for t in CORPUS["templates"] for part in t["sender"].split(",")}
    misses = {
        m["name"]
        for m in CORPUS["messages"]
        if m["expect"] is None
        and is_near_miss(whitelisted=m["sender"].upper() in senders, parsed=False, text=m["text"])
    }
    assert {
        "vcb reworded sms that no template parses",
        "mpesa reworded received sms is not parsed",
        "hdfc new wording is not parsed",
        "boc reworded sms is not parsed",
    } <= misses
    assert "an otp from a bank sender is not a deposit" not in misses
