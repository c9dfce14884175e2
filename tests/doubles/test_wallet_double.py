"""The wallet double, spoken to over real HTTP on loopback, and the spec it serves."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator

from infra.doubles.wallet import (
    BASE_PATH,
    DEFAULT_TOKEN,
    SPEC_PATH,
    WalletState,
    create_app,
    serve_in_thread,
    state_of,
)
from infra.doubles.wallet_state import OrderNotPending

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


class FakeClock:
    """A wall clock the tests set by hand (Unix seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock(1_733_200_000.0)


@pytest.fixture(scope="module")
def state(clock: FakeClock) -> WalletState:
    return WalletState(clock=clock)


@pytest.fixture(scope="module")
def root_url(state: WalletState) -> Iterator[str]:
    url, stop = serve_in_thread(create_app(state))
    yield url
    stop()


@pytest.fixture(scope="module")
def client(root_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=root_url + BASE_PATH, headers=AUTH, timeout=5.0) as http:
        yield http


@pytest.fixture(autouse=True)
def _faults_off(state: WalletState) -> Iterator[None]:
    state.reset_faults()
    yield
    state.reset_faults()


def drain(
    client: httpx.Client, cursor: str = "", **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Follow next_cursor until a page comes back empty; return every item and the last cursor."""
    items: list[dict[str, Any]] = []
    while True:
        answer = client.get("/recharge-orders", params={"updated_since": cursor, **params})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        if not page["items"]:
            assert page["next_cursor"] == cursor
            return items, cursor
        items.extend(page["items"])
        cursor = page["next_cursor"]


def approve(client: httpx.Client, order_id: str, key: str) -> httpx.Response:
    return client.post(f"/recharge-orders/{order_id}/approve", headers={"Idempotency-Key": key})


# -- the spec ----------------------------------------------------------------------------


def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.safe_load(handle)
    return spec


def test_spec_is_a_valid_openapi_30_document() -> None:
    """openapi/wallet.yaml passes the OpenAPI 3.0 validator that Connexion's loader relies on."""
    spec = load_spec()
    errors = [str(error) for error in OpenAPIV30SpecValidator(spec).iter_errors()]
    assert errors == []
    assert spec["openapi"] == "3.0.3"
    assert spec["servers"][0]["url"] == "/wallet/v1"


def test_spec_declares_the_agreed_operations() -> None:
    """Paths, methods and handler operationIds are the ones other code is written against."""
    spec = load_spec()
    found = {
        (path, method): operation["operationId"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert found == {
        ("/recharge-orders", "get"): "infra.doubles.wallet.list_recharge_orders",
        ("/recharge-orders/{order_id}", "get"): "infra.doubles.wallet.get_recharge_order",
        (
            "/recharge-orders/{order_id}/approve",
            "post",
        ): "infra.doubles.wallet.approve_recharge_order",
        ("/pending-counts", "get"): "infra.doubles.wallet.get_pending_counts",
    }


def _media_examples(node: Any) -> Iterator[tuple[dict[str, Any], Any]]:
    """Yield (schema, example) for every media type or parameter that carries examples."""
    if isinstance(node, dict):
        if "schema" in node and ("example" in node or "examples" in node):
            if "example" in node:
                yield node["schema"], node["example"]
            for example in node.get("examples", {}).values():
                yield node["schema"], example["value"]
        for value in node.values():
            yield from _media_examples(value)
    elif isinstance(node, list):
        for value in node:
            yield from _media_examples(value)


def test_every_example_in_the_spec_matches_its_schema() -> None:
    """Examples are documentation clients copy: each one validates against its own schema."""
    spec = load_spec()
    pairs = list(_media_examples(spec["paths"])) + list(_media_examples(spec["components"]))
    assert len(pairs) > 15
    for schema, example in pairs:
        OAS30Validator({**schema, "components": spec["components"]}).validate(example)
    for schema in spec["components"]["schemas"].values():
        if "example" in schema:
            validator = OAS30Validator({**schema, "components": spec["components"]})
            validator.validate(schema["example"])


def test_every_operation_has_examples_and_declares_401() -> None:
    """Each operation shows an example answer and documents the 400 and 401 problems."""
    spec = load_spec()
    for item in spec["paths"].values():
        for method in ("get", "post"):
            if method not in item:
                continue
            responses = item[method]["responses"]
            ok = responses["200"]["content"]["application/json"]
            assert "example" in ok or "examples" in ok
            assert {"400", "401"} <= set(responses)


# -- listing with a cursor ---------------------------------------------------------------


def test_list_after_a_cursor_returns_only_later_changes(
    client: httpx.Client, state: WalletState, clock: FakeClock
) -> None:
    """Orders changed before the cursor are not repeated; new and changed ones come in order."""
    _, cursor = drain(client)
    clock.now += 10
    state.add_order("L-1", "100.00")
    state.add_order("L-2", "200")
    items, cursor = drain(client, cursor)
    assert [item["order_id"] for item in items] == ["L-1", "L-2"]
    assert items[1]["amount"] == "200.00"
    clock.now += 10
    state.cancel("L-1")
    items, _ = drain(client, cursor)
    assert [(item["order_id"], item["status"]) for item in items] == [("L-1", "cancelled")]


def test_changes_within_the_same_second_are_never_missed(
    client: httpx.Client, state: WalletState, clock: FakeClock
) -> None:
    """A second change in the same second to an order with a smaller id is still delivered."""
    _, cursor = drain(client)
    clock.now += 10
    state.add_order("S-b", "1.00")
    state.add_order("S-c", "2.00")
    items, cursor = drain(client, cursor)
    assert [item["order_id"] for item in items] == ["S-b", "S-c"]
    # Same second: an id that sorts before the cursor's item changes, then another is created.
    state.add_order("S-a", "3.00")
    state.expire("S-b")
    items, _ = drain(client, cursor)
    assert [(item["order_id"], item["status"]) for item in items] == [
        ("S-a", "pending"),
        ("S-b", "expired"),
    ]
    assert {item["updated_at"] for item in items} == {int(clock.now)}


def test_limit_pages_through_changes_in_order(
    client: httpx.Client, state: WalletState, clock: FakeClock
) -> None:
    """`limit` cuts the page; passing next_cursor back continues exactly where it stopped."""
    _, cursor = drain(client)
    clock.now += 10
    for n in range(5):
        state.add_order(f"P-{n}", "10.00")
    first = client.get("/recharge-orders", params={"updated_since": cursor, "limit": 2}).json()
    assert [item["order_id"] for item in first["items"]] == ["P-0", "P-1"]
    rest, _ = drain(client, first["next_cursor"], limit=2)
    assert [item["order_id"] for item in rest] == ["P-2", "P-3", "P-4"]


def test_status_filters_and_omitting_it_returns_every_status(
    client: httpx.Client, state: WalletState, clock: FakeClock
) -> None:
    """Without `status` a poller sees closed orders too; with it only that status."""
    _, cursor = drain(client)
    clock.now += 10
    state.add_order("F-1", "10.00")
    state.add_order("F-2", "10.00")
    state.cancel("F-2")
    everything, _ = drain(client, cursor)
    assert [(i["order_id"], i["status"]) for i in everything] == [
        ("F-1", "pending"),
        ("F-2", "cancelled"),
    ]
    pending, _ = drain(client, cursor, status="pending")
    assert [i["order_id"] for i in pending] == ["F-1"]


def test_an_empty_page_echoes_the_cursor_or_answers_an_empty_one() -> None:
    """With no items next_cursor is the request's cursor, or "" when none was given."""
    url, stop = serve_in_thread(create_app())
    try:
        with httpx.Client(base_url=url + BASE_PATH, headers=AUTH, timeout=5.0) as http:
            assert http.get("/recharge-orders").json() == {"items": [], "next_cursor": ""}
            echoed = http.get("/recharge-orders", params={"updated_since": "1733200000:7"})
            assert echoed.json() == {"items": [], "next_cursor": "1733200000:7"}
    finally:
        stop()


@pytest.mark.parametrize(
    "params",
    [
        {"updated_since": "yesterday"},
        {"limit": 0},
        {"limit": 1001},
        {"status": "paid"},
        {"page": 1},
    ],
)
def test_bad_list_parameters_are_a_400_problem(
    client: httpx.Client, params: dict[str, Any]
) -> None:
    """Malformed cursor, out-of-range limit, unknown status or unknown parameter: 400."""
    answer = client.get("/recharge-orders", params=params)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 400


# -- reading one order -------------------------------------------------------------------


def test_get_returns_the_order_as_served(client: httpx.Client, state: WalletState) -> None:
    """GET by id answers every field, nulls included, with the amount as a string."""
    created = state.add_order(
        "G-1", "1500000", payer_name="NGUYEN VAN A", card_tail="6789", created_at=1_733_100_000
    )
    answer = client.get("/recharge-orders/G-1")
    assert answer.status_code == 200
    assert answer.json() == created
    assert created["amount"] == "1500000.00"
    assert created["approved_at"] is None
    assert created["created_at"] == 1_733_100_000


def test_get_of_an_unknown_order_is_a_404_problem(client: httpx.Client) -> None:
    """An unknown id is 404 with the order-not-found problem type."""
    answer = client.get("/recharge-orders/NOPE")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:wallet:problem:order-not-found"


# -- approving ---------------------------------------------------------------------------


def test_approving_twice_with_the_same_key_credits_once(
    client: httpx.Client, state: WalletState, clock: FakeClock
) -> None:
    """The same key for the same order answers the same 200 and records one approval."""
    state.add_order("A-1", "50.00")
    first = approve(client, "A-1", "sms-1")
    clock.now += 30
    again = client.post(
        "/recharge-orders/A-1/approve", headers={"Idempotency-Key": "sms-1"}, json={}
    )
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["status"] == "approved"
    records = [(a.key, a.at) for a in state.approvals if a.order_id == "A-1"]
    assert records == [("sms-1", first.json()["approved_at"])]
    order = client.get("/recharge-orders/A-1").json()
    assert order["status"] == "approved"
    assert order["approved_at"] == first.json()["approved_at"]


def test_a_key_used_for_another_order_is_a_409(client: httpx.Client, state: WalletState) -> None:
    """A key that already approved one order cannot approve a second one."""
    state.add_order("K-1", "10.00")
    state.add_order("K-2", "10.00")
    assert approve(client, "K-1", "sms-k").status_code == 200
    answer = approve(client, "K-2", "sms-k")
    assert answer.status_code == 409
    assert answer.json()["type"] == "urn:wallet:problem:idempotency-key-reused"
    assert client.get("/recharge-orders/K-2").json()["status"] == "pending"
    assert [a.order_id for a in state.approvals if a.key == "sms-k"] == ["K-1"]


@pytest.mark.parametrize(("close", "closed"), [("cancel", "cancelled"), ("expire", "expired")])
def test_approving_a_closed_order_is_a_409(
    client: httpx.Client, state: WalletState, close: str, closed: str
) -> None:
    """A cancelled or expired order cannot be approved; the detail says why."""
    order_id = f"C-{close}"
    state.add_order(order_id, "10.00")
    getattr(state, close)(order_id)
    answer = approve(client, order_id, f"sms-{close}")
    assert answer.status_code == 409
    body = answer.json()
    assert body["type"] == "urn:wallet:problem:order-not-pending"
    assert f"is {closed}, not pending" in body["detail"]
    assert not [a for a in state.approvals if a.order_id == order_id]


def test_an_order_approved_under_another_key_is_a_409(
    client: httpx.Client, state: WalletState
) -> None:
    """A second key for an already approved order is refused and credits nothing."""
    state.add_order("D-1", "10.00")
    assert approve(client, "D-1", "sms-first").status_code == 200
    answer = approve(client, "D-1", "sms-second")
    assert answer.status_code == 409
    assert "different Idempotency-Key" in answer.json()["detail"]
    assert len([a for a in state.approvals if a.order_id == "D-1"]) == 1


def test_approving_an_unknown_order_is_a_404(client: httpx.Client) -> None:
    """Approve of an id the wallet does not know is 404."""
    assert approve(client, "NOPE", "sms-nope").status_code == 404


@pytest.mark.parametrize(
    ("headers", "body"),
    [({}, None), ({"Idempotency-Key": ""}, None), ({"Idempotency-Key": "sms-x"}, {"x": 1})],
)
def test_approve_needs_a_key_and_no_body_fields(
    client: httpx.Client, headers: dict[str, str], body: Any
) -> None:
    """A missing or empty Idempotency-Key, or any body field, is a 400 problem."""
    answer = client.post("/recharge-orders/G-1/approve", headers=headers, json=body)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"


def test_concurrent_approvals_with_different_keys_credit_once(
    client: httpx.Client, state: WalletState
) -> None:
    """Racing approvals of one order: exactly one wins, the rest are 409."""
    state.add_order("R-1", "10.00")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: approve(client, "R-1", f"sms-r{n}"), range(8)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert len([a for a in state.approvals if a.order_id == "R-1"]) == 1


# -- counts ------------------------------------------------------------------------------


def test_pending_counts_follow_the_orders(client: httpx.Client, state: WalletState) -> None:
    """recharge_pending_cnt counts pending orders; withdraw_pending_cnt is what tests set."""
    before = client.get("/pending-counts").json()["recharge_pending_cnt"]
    state.add_order("N-1", "10.00")
    state.add_order("N-2", "10.00")
    state.set_withdraw_pending(7)
    assert client.get("/pending-counts").json() == {
        "recharge_pending_cnt": before + 2,
        "withdraw_pending_cnt": 7,
    }
    state.cancel("N-1")
    assert approve(client, "N-2", "sms-n2").status_code == 200
    assert client.get("/pending-counts").json()["recharge_pending_cnt"] == before


# -- authentication ----------------------------------------------------------------------

OPERATIONS = [
    ("GET", "/recharge-orders"),
    ("GET", "/recharge-orders/G-1"),
    ("POST", "/recharge-orders/G-1/approve"),
    ("GET", "/pending-counts"),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {DEFAULT_TOKEN}"])
def test_every_operation_needs_the_service_token(
    root_url: str, method: str, path: str, authorization: str | None
) -> None:
    """Without the right bearer token every operation is a 401 problem naming Bearer."""
    headers = {"Idempotency-Key": "sms-auth"}
    if authorization is not None:
        headers["Authorization"] = authorization
    answer = httpx.request(method, root_url + BASE_PATH + path, headers=headers, timeout=5.0)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["status"] == 401


# -- fault switches ----------------------------------------------------------------------


def test_fail_next_answers_non_json_5xx_then_recovers(
    client: httpx.Client, state: WalletState
) -> None:
    """fail_next(2) fails exactly the next two requests with a body that is not JSON."""
    state.fail_next(2)
    failed = [client.get("/pending-counts") for _ in range(2)]
    assert [a.status_code for a in failed] == [503, 503]
    for answer in failed:
        assert answer.headers["content-type"].startswith("text/html")
        with pytest.raises(ValueError):
            answer.json()
    assert client.get("/pending-counts").status_code == 200


def test_fail_next_with_a_4xx_answers_a_problem(client: httpx.Client, state: WalletState) -> None:
    """A 429 fault is problem+json with Retry-After, as a rate limiter would send."""
    state.fail_next(1, status=429)
    answer = client.get("/pending-counts")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["status"] == 429


def test_down_answers_503_to_everything_until_back_up(
    client: httpx.Client, root_url: str, state: WalletState
) -> None:
    """While down every request, authenticated or not, is a 503; afterwards all is normal."""
    state.down = True
    assert client.get("/pending-counts").status_code == 503
    assert approve(client, "G-1", "sms-down").status_code == 503
    assert httpx.get(root_url + BASE_PATH + "/recharge-orders", timeout=5.0).status_code == 503
    state.down = False
    assert client.get("/pending-counts").status_code == 200


def test_delay_makes_a_short_client_timeout_fire(client: httpx.Client, state: WalletState) -> None:
    """delay_seconds holds every answer back, so client timeouts can be exercised."""
    state.delay_seconds = 0.5
    with pytest.raises(httpx.ReadTimeout):
        client.get("/pending-counts", timeout=0.1)
    state.delay_seconds = 0
    assert client.get("/pending-counts", timeout=2.0).status_code == 200


def test_request_count_includes_faulted_requests(client: httpx.Client, state: WalletState) -> None:
    """Every HTTP request is counted, so retry behaviour can be asserted."""
    before = state.request_count
    state.fail_next(1)
    client.get("/pending-counts")
    client.get("/pending-counts")
    assert state.request_count == before + 2


# -- state and serving helpers -----------------------------------------------------------


def test_updated_at_never_goes_backwards_when_the_clock_does() -> None:
    """A clock stepping back does not make a later change look older."""
    clock = FakeClock(2_000_000_000.0)
    state = WalletState(clock=clock)
    first = state.add_order("T-1", "1.00")
    clock.now -= 3600
    second = state.add_order("T-2", "1.00")
    assert second["updated_at"] == first["updated_at"]
    page = state.list_orders(status=None, updated_since=None, limit=10)
    assert [item["order_id"] for item in page["items"]] == ["T-1", "T-2"]


@pytest.mark.parametrize("amount", ["1.005", "-1", "0", "abc", "1e3", "1234567890123456"])
def test_add_order_refuses_amounts_the_wire_cannot_carry(amount: str) -> None:
    """Seeding with a sub-cent, non-positive, non-numeric or oversized amount fails early."""
    with pytest.raises(ValueError):
        WalletState().add_order("X", amount)


def test_closing_a_non_pending_order_is_refused() -> None:
    """cancel/expire only act on pending orders, like the wallet's own back office."""
    state = WalletState()
    state.add_order("X", "1.00")
    state.cancel("X")
    with pytest.raises(OrderNotPending):
        state.expire("X")


def test_serve_in_thread_reports_a_real_port_and_stop_releases_it() -> None:
    """Port 0 picks a free port that accepts connections; after stop() nothing listens there."""
    app = create_app(token="other-token")
    assert isinstance(state_of(app), WalletState)
    url, stop = serve_in_thread(app)
    port = int(url.rsplit(":", 1)[1])
    assert port > 0
    answer = httpx.get(
        url + BASE_PATH + "/pending-counts",
        headers={"Authorization": "Bearer other-token"},
        timeout=5.0,
    )
    assert answer.status_code == 200
    stop()
    stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1.0):
        pass
