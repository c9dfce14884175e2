"""Matching an income SMS to a pending order: window, narrowing, margin, expiry, the order book."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recon_impl.domain.matching import (
    Candidate,
    Exclusion,
    IncomeSms,
    MatchConfig,
    OrderBook,
    PendingOrder,
    ScoreParts,
    ScoreWeights,
    decide,
)

T0 = 1_733_200_000
AMOUNT = Decimal("500000")
DEFAULT = MatchConfig()


def sms(amount=AMOUNT, at=T0, card=None, name=None, sms_id=1):
    return IncomeSms(sms_id=sms_id, amount=amount, received_at=at, card_tail=card, payer_name=name)


def order(order_id, at=T0 - 60, amount=AMOUNT, card=None, name=None):
    return PendingOrder(order_id=order_id, amount=amount, created_at=at, card_tail=card, payer_name=name)


# (what happens, the SMS, the pending orders, taken, kind, order matched, reason)
DECISIONS = [
    ("one order in the window is matched", sms(), [order("A")], set(), "matched", "A", None),
    ("an exact tie is ambiguous", sms(), [order("A"), order("B")], set(), "need_check", None, "ambiguous"),
    (
        "time alone never separates two orders",
        sms(),
        [order("A", at=T0 - 5), order("B", at=T0 - 1795)],
        set(),
        "need_check",
        None,
        "ambiguous",
    ),
    (
        "another amount is not a candidate",
        sms(),
        [order("A", amount=Decimal("500001"))],
        set(),
        "unmatched",
        None,
        None,
    ),
    (
        "500 equals 500.00",
        sms(amount=Decimal("500.00")),
        [order("A", amount=Decimal("500"))],
        set(),
        "matched",
        "A",
        None,
    ),
    (
        "an agreeing card tail wins over a nearer order",
        sms(card="1234"),
        [order("A", at=T0 - 1200, card="1234"), order("B", at=T0 - 10)],
        set(),
        "matched",
        "A",
        None,
    ),
    (
        "a card tail agrees with a longer tail of the same account",
        sms(card="1234"),
        [order("A", card="**001234"), order("B", at=T0 - 10)],
        set(),
        "matched",
        "A",
        None,
    ),
    (
        "a contradicting card tail excludes the only order",
        sms(card="1234"),
        [order("A", card="9999")],
        set(),
        "unmatched",
        None,
        None,
    ),
    (
        "a payer name written with diacritics agrees with the bank's upper case",
        sms(name="NGUYEN VAN A"),
        [order("A", at=T0 - 1500, name="Nguyễn Văn A"), order("B", at=T0 - 10)],
        set(),
        "matched",
        "A",
        None,
    ),
    (
        "a contradicting payer name excludes the only order",
        sms(name="TRAN THI B"),
        [order("A", name="Nguyễn Văn A")],
        set(),
        "unmatched",
        None,
        None,
    ),
    (
        "a contradicting name leaves the other order alone in the race",
        sms(name="TRAN THI B"),
        [order("A", at=T0 - 10, name="Nguyen Van A"), order("B", at=T0 - 1700)],
        set(),
        "matched",
        "B",
        None,
    ),
    (
        "two orders agreeing on the card are ambiguous",
        sms(card="1234"),
        [order("A", at=T0 - 10, card="1234"), order("B", at=T0 - 900, card="1234")],
        set(),
        "need_check",
        None,
        "ambiguous",
    ),
    (
        "card on one order and name on the other is a draw",
        sms(card="1234", name="LE VAN C"),
        [order("A", card="1234"), order("B", name="Lê Văn C")],
        set(),
        "need_check",
        None,
        "ambiguous",
    ),
    (
        "a field only one side has is neutral",
        sms(card="1234"),
        [order("A", name="Le Van C"), order("B", at=T0 - 600)],
        set(),
        "need_check",
        None,
        "ambiguous",
    ),
    ("an order taken by another SMS is no candidate", sms(), [order("A")], {"A"}, "unmatched", None, None),
    (
        "the other order is matched when one is taken",
        sms(),
        [order("A"), order("B", at=T0 - 900)],
        {"A"},
        "matched",
        "B",
        None,
    ),
    (
        "a late SMS does not reach its old order",
        sms(),
        [order("A", at=T0 - 1801)],
        set(),
        "unmatched",
        None,
        None,
    ),
    (
        "an order on the window's early edge counts",
        sms(),
        [order("A", at=T0 - 1800)],
        set(),
        "matched",
        "A",
        None,
    ),
    (
        "an order created just after the SMS counts",
        sms(),
        [order("A", at=T0 + 300)],
        set(),
        "matched",
        "A",
        None,
    ),
    (
        "an order created long after the SMS does not",
        sms(),
        [order("A", at=T0 + 301)],
        set(),
        "unmatched",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("_what", "income", "orders", "taken", "kind", "order_id", "reason"),
    DECISIONS,
    ids=[row[0] for row in DECISIONS],
)
def test_each_situation_ends_in_the_decision_the_rules_give(
    _what, income, orders, taken, kind, order_id, reason
):
    """The table above: window, narrowing, exclusion, margin and taken orders."""
    decision = decide(income, OrderBook(orders), DEFAULT, now=T0, taken=taken)
    assert (decision.kind, decision.order_id, decision.reason) == (kind, order_id, reason)


@pytest.mark.parametrize(
    ("margin", "kind"),
    [(0.0, "matched"), (0.3, "matched"), (0.4, "need_check"), (1.0, "need_check")],
)
def test_the_margin_is_how_far_the_best_must_lead_the_second(margin, kind):
    """Scores 0.5 (1 s before) and ~0.167 (1200 s before): a lead of ~0.333."""
    book = OrderBook([order("A", at=T0 - 1), order("B", at=T0 - 1200)])
    decision = decide(sms(), book, MatchConfig(margin=margin), now=T0)
    assert decision.kind == kind
    assert [c.order_id for c in decision.candidates] == ["A", "B"]


def test_a_tie_is_never_matched_even_without_a_margin():
    """Unique means strictly ahead: margin 0 still refuses equal scores."""
    decision = decide(sms(), OrderBook([order("A"), order("B")]), MatchConfig(margin=0), now=T0)
    assert decision.reason == "ambiguous"


def test_an_ambiguous_sms_keeps_the_ranked_candidates_in_the_contract_shape():
    """Best first, with the parts of each score; the contract item has a two-decimal amount."""
    book = OrderBook(
        [order("far", at=T0 - 900), order("near", at=T0 - 90, name="x y"), order("mid", at=T0 - 450)]
    )
    decision = decide(sms(), book, DEFAULT, now=T0)
    assert decision.reason == "ambiguous"
    assert [c.order_id for c in decision.candidates] == ["near", "mid", "far"]
    assert decision.candidates[0] == Candidate("near", AMOUNT, T0 - 90, 0.475, ScoreParts(0.95, None, None))
    assert decision.candidates[0].to_contract() == {
        "order_id": "near",
        "amount": "500000.00",
        "created_at": T0 - 90,
        "score": 0.475,
    }


def test_a_matched_sms_shows_its_card_and_name_agreement_in_the_score():
    """Score = time weight x proximity + card weight + name weight."""
    book = OrderBook([order("A", at=T0, card="1234", name="Lê Văn C")])
    decision = decide(sms(card="1234", name="LE VAN C"), book, DEFAULT, now=T0)
    assert decision.candidates == (Candidate("A", AMOUNT, T0, 4.5, ScoreParts(1.0, True, True)),)


def test_excluded_orders_are_listed_for_the_reviewer_with_the_reason():
    """Nothing in the window disappears silently: taken and contradicting orders are named."""
    book = OrderBook(
        [
            order("taken", at=T0 - 10),
            order("card", at=T0 - 20, card="9999"),
            order("name", at=T0 - 30, name="B"),
        ]
    )
    decision = decide(sms(card="1234", name="A"), book, DEFAULT, now=T0, taken={"taken"})
    assert decision.kind == "unmatched"
    assert decision.excluded == (
        Exclusion("taken", "taken"),
        Exclusion("card", "card_mismatch"),
        Exclusion("name", "name_mismatch"),
    )


@pytest.mark.parametrize(
    ("now", "kind", "reason", "status"),
    [
        (T0, "unmatched", None, 6),
        (T0 + 899, "unmatched", None, 6),
        (T0 + 900, "need_check", "no_order", 2),
        (T0 + 86_400, "need_check", "no_order", 2),
    ],
)
def test_an_sms_without_an_order_waits_then_expires_to_no_order(now, kind, reason, status):
    """Unmatched (status 6) until received_at + expiry <= now, then need_check / no_order."""
    decision = decide(sms(), OrderBook(), DEFAULT, now=now)
    assert (decision.kind, decision.reason, decision.status) == (kind, reason, status)


def test_an_sms_before_its_order_exists_is_matched_when_the_order_appears_on_retry():
    """The worker retries unmatched SMS as orders arrive; the order may even be newer."""
    book = OrderBook()
    first = decide(sms(), book, DEFAULT, now=T0)
    assert (first.kind, first.expires_at) == ("unmatched", T0 + 900)
    book.add(order("A", at=T0 + 120))
    retry = decide(sms(), book, DEFAULT, now=T0 + 130)
    assert (retry.kind, retry.order_id, retry.status) == ("matched", "A", 1)


def test_one_order_is_matched_by_at_most_one_sms():
    """The second SMS of the same amount finds the order held and waits for its own."""
    book = OrderBook([order("A")])
    first = decide(sms(sms_id=1), book, DEFAULT, now=T0)
    assert first.order_id == "A"
    second = decide(sms(sms_id=2, at=T0 + 5), book, DEFAULT, now=T0 + 5, taken={"A"})
    assert (second.kind, second.order_id) == ("unmatched", None)


def test_the_candidate_list_is_capped_but_keeps_the_best():
    """A flood of same-amount orders keeps max_candidates, nearest first."""
    book = OrderBook([order(f"o{i:03}", at=T0 - 10 * i) for i in range(100)])
    decision = decide(sms(), book, MatchConfig(max_candidates=5), now=T0)
    assert [c.order_id for c in decision.candidates] == ["o000", "o001", "o002", "o003", "o004"]


@pytest.mark.parametrize(
    "settings",
    [
        {"window_before_s": -1},
        {"margin": -0.1},
        {"weights": ScoreWeights(card=-1)},
        {"unmatched_expiry_s": 60, "window_after_s": 300},
        {"max_candidates": 1},
    ],
)
def test_a_config_that_could_not_work_is_refused(settings):
    """Negative windows or weights, an expiry before a late order could arrive, no second."""
    with pytest.raises(ValueError):
        MatchConfig(**settings)


def test_the_order_book_adds_replaces_and_removes_orders():
    """add is an upsert keyed by order id; removing an unknown id does nothing."""
    book = OrderBook([order("A", at=T0), order("B", at=T0 + 10)])
    book.add(order("A", at=T0 + 20, amount=Decimal("100000")))
    assert len(book) == 2
    assert book.between(AMOUNT, T0 - 100, T0 + 100) == [order("B", at=T0 + 10)]
    assert book.between(Decimal("100000"), T0 + 20, T0 + 20) == [
        order("A", at=T0 + 20, amount=Decimal("100000"))
    ]
    assert book.remove("B") == order("B", at=T0 + 10)
    assert book.remove("B") is None
    assert "B" not in book
    assert book.get("A") is not None
    assert book.between(AMOUNT, 0, 2 * T0) == []


orders_strategy = st.lists(
    st.builds(
        PendingOrder,
        order_id=st.sampled_from([f"o{i}" for i in range(30)]),
        amount=st.sampled_from([Decimal("100000"), Decimal("200000"), Decimal("100000.00")]),
        created_at=st.integers(T0 - 50, T0 + 50),
    ),
    max_size=60,
)


@given(
    orders_strategy,
    st.lists(st.sampled_from([f"o{i}" for i in range(30)]), max_size=20),
    st.integers(T0 - 60, T0 + 60),
    st.integers(0, 60),
)
def test_the_order_book_window_equals_a_brute_force_filter(orders, removed, start, length):
    """After any adds, replacements and removals, a window query is the plain filter."""
    book = OrderBook(orders[: len(orders) // 2])
    for item in orders[len(orders) // 2 :]:
        book.add(item)
    for order_id in removed:
        book.remove(order_id)
    alive = {o.order_id: o for o in orders}
    for order_id in removed:
        alive.pop(order_id, None)
    for amount in (Decimal("100000"), Decimal("200000"), Decimal("300000")):
        expected = sorted(
            (o for o in alive.values() if o.amount == amount and start <= o.created_at <= start + length),
            key=lambda o: (o.created_at, o.order_id),
        )
        assert book.between(amount, start, start + length) == expected
    assert len(book) == len(alive)


decide_orders = st.lists(
    st.builds(
        PendingOrder,
        order_id=st.text("abcdef", min_size=1, max_size=3),
        amount=st.sampled_from([AMOUNT, Decimal("100000")]),
        created_at=st.integers(T0 - 2000, T0 + 400),
        card_tail=st.sampled_from([None, "1234", "9999"]),
        payer_name=st.sampled_from([None, "Nguyễn Văn A", "TRAN THI B"]),
    ),
    max_size=25,
    unique_by=lambda o: o.order_id,
)


@given(
    decide_orders,
    st.sampled_from([None, "1234"]),
    st.sampled_from([None, "NGUYEN VAN A"]),
    st.sets(st.text("abcdef", min_size=1, max_size=3), max_size=5),
    st.randoms(use_true_random=False),
)
def test_a_match_is_always_a_free_order_of_the_same_amount_in_the_window(
    orders, card, name, taken, rnd: random.Random
):
    """Whatever the book, a matched order obeys every rule, and the insertion order is irrelevant."""
    income = sms(card=card, name=name)
    decision = decide(income, OrderBook(orders), DEFAULT, now=T0, taken=taken)
    shuffled = list(orders)
    rnd.shuffle(shuffled)
    assert decide(income, OrderBook(shuffled), DEFAULT, now=T0, taken=taken) == decision
    scores = [c.score for c in decision.candidates]
    assert scores == sorted(scores, reverse=True)
    if decision.kind == "matched":
        chosen = next(o for o in orders if o.order_id == decision.order_id)
        assert chosen.amount == AMOUNT
        assert T0 - 1800 <= chosen.created_at <= T0 + 300
        assert chosen.order_id not in taken
        assert card is None or chosen.card_tail in (None, card)
        assert len(scores) == 1 or scores[0] - scores[1] >= DEFAULT.margin
