"""ReconClient against a real recon_service on loopback: timeouts, retries, breaker, bulkhead.

recon is slowed, broken and cut by a tiny HTTP proxy of this module's own (`Proxy`), stopped and
restarted on the same port for the breaker cycle; recon's own code is never patched.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pybreaker
import pytest
import stamina

from admin_compat.recon_api.api.sms import (
    recon_impl_http_handlers_sms_list_sms as list_sms,
)
from admin_compat.recon_api.api.sms import (
    recon_impl_http_handlers_sms_review_sms as review_sms,
)
from admin_compat.recon_api.api.stats import recon_impl_http_handlers_stats_get_stats as get_stats
from admin_compat.recon_api.api.whitelist import (
    recon_impl_http_handlers_whitelist_create_entry as create_entry,
)
from admin_compat.recon_api.api.whitelist import (
    recon_impl_http_handlers_whitelist_get_entry as get_entry,
)
from admin_compat.recon_api.api.whitelist import (
    recon_impl_http_handlers_whitelist_list_entries as list_entries,
)
from admin_compat.recon_api.models.problem import Problem
from admin_compat.recon_api.models.recon_impl_http_handlers_sms_review_sms_body import (
    ReconImplHttpHandlersSmsReviewSmsBody as ReviewBody,
)
from admin_compat.recon_api.models.recon_impl_http_handlers_sms_review_sms_body_check_status import (
    ReconImplHttpHandlersSmsReviewSmsBodyCheckStatus as CheckStatus,
)
from admin_compat.recon_api.models.recon_impl_http_handlers_whitelist_create_entry_body import (
    ReconImplHttpHandlersWhitelistCreateEntryBody as WhitelistBody,
)
from admin_compat.recon_client import ReconClient, ReconConfig, ReconUnavailable
from infra.doubles.serving import serve_in_thread
from testkit import SERVICE_TOKEN

BASE_PATH = "/internal/recon/v1"
Plan = Callable[[int, str, str], str]  # (request number from 0, method, path) -> action


# --- a loopback proxy that can pass, delay, hang, drop or fail each request -----------------


class Proxy:
    """HTTP/1.1 proxy in front of ``upstream``; one request per connection (it answers with close).

    Actions: ``pass``; ``delay`` (wait ``delay_s``, then pass); ``hang`` (never answer, until
    ``stop``); ``drop`` (close without an answer); ``503`` / ``503-html`` / ``200-garbage`` (a
    canned answer, recon not asked). ``seen`` lists every request received, as (method, path).
    """

    def __init__(self, upstream: str, port: int = 0) -> None:
        host, _, up_port = upstream.removeprefix("http://").partition(":")
        self.upstream = (host, int(up_port))
        self.plan: Plan = lambda n, method, path: "pass"
        self.delay_s = 0.0
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: list[socket.socket] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, name="test-proxy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                conn.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = _read_request(conn)
            if request is None:
                return
            method, path = request.split(b" ", 2)[:2]
            with self._lock:
                number = len(self.seen)
                self.seen.append((method.decode(), path.decode()))
            action = self.plan(number, method.decode(), path.decode())
            if action == "hang":
                self._stopping.wait()
            elif action in CANNED:
                conn.sendall(CANNED[action])
            elif action in {"pass", "delay"}:
                if action == "delay" and self._stopping.wait(self.delay_s):
                    return
                conn.sendall(self._forward(request))
            # "drop" and anything else: close without an answer
        except OSError:
            pass
        finally:
            conn.close()

    def _forward(self, request: bytes) -> bytes:
        head, _, body = request.partition(b"\r\n\r\n")
        lines = [h for h in head.split(b"\r\n") if not h.lower().startswith(b"connection:")]
        request = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body
        with socket.create_connection(self.upstream, timeout=10) as up:
            up.sendall(request)
            chunks = []
            while chunk := up.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def _answer(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


CANNED = {
    "503": _answer(
        "503 Service Unavailable",
        "application/problem+json",
        b'{"type": "about:blank", "title": "Service Unavailable", "status": 503}',
    ),
    "503-html": _answer("503 Service Unavailable", "text/html", b"<html>upstream is down</html>"),
    "200-garbage": _answer("200 OK", "application/json", b"{not json"),
}


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class Counting:
    """ASGI wrapper counting the HTTP requests that reach recon_service itself."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


class Recon:
    """A real recon_service on a fixed loopback port that a test can stop and start again."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.app = Counting(self._fresh_app())
        self.root, self._stop = serve_in_thread(self.app)
        self.port = int(self.root.rsplit(":", 1)[1])

    def _fresh_app(self) -> Any:
        from recon_impl.http.app import create_app

        return create_app(self.settings)

    def stop(self) -> None:
        self._stop()

    def start(self) -> None:
        self.app.app = self._fresh_app()
        self.root, self._stop = serve_in_thread(self.app, port=self.port)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def real_retries() -> Iterator[None]:
    """These tests are about retries: stamina's testing switch must be off."""
    with stamina.set_testing(False):
        yield


@pytest.fixture
def recon(settings: Any) -> Iterator[Recon]:
    server = Recon(settings)
    yield server
    server.stop()


@pytest.fixture
def proxy(recon: Recon) -> Iterator[Proxy]:
    front = Proxy(recon.root)
    yield front
    front.stop()


@pytest.fixture
def make_client() -> Iterator[Callable[..., ReconClient]]:
    made: list[ReconClient] = []

    def make(root: str, **overrides: Any) -> ReconClient:
        client = ReconClient(ReconConfig(root + BASE_PATH, SERVICE_TOKEN, **overrides))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(result or the exception raised, seconds taken)."""
    start = time.monotonic()
    try:
        result = fn()
    except Exception as exc:
        result = exc
    return result, time.monotonic() - start


def in_thread(fn: Callable[[], Any]) -> threading.Thread:
    """Run ``fn`` in a started daemon thread, its outcome ignored (see ``timed``)."""
    thread = threading.Thread(target=timed, args=(fn,), daemon=True)
    thread.start()
    return thread


def review(sms_id: int = 1) -> dict[str, Any]:
    return {"sms_id": sms_id, "body": ReviewBody(check_status=CheckStatus.VALUE_2), "x_actor": "alice"}


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


# --- timeouts ----------------------------------------------------------------------------------


def test_every_httpx_timeout_is_the_configured_one(make_client):
    """connect, read, write and pool timeouts are all explicit, none left to httpx's default."""
    client = make_client("http://127.0.0.1:9", connect_s=0.1, read_s=0.2, write_s=0.3, pool_s=0.4)
    http = client._api.get_httpx_client()
    timeout = http.timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (0.1, 0.2, 0.3, 0.4)
    assert http._transport._pool._max_connections == 4 * client.config.pool_size  # limits kept


def test_a_black_holed_recon_is_unavailable_after_about_the_connect_timeout(make_client):
    """A listener whose accept queue is full drops SYNs: ConnectTimeout, then ReconUnavailable."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    fillers = []
    for _ in range(4):  # fill the accept queue; later SYNs are dropped, not refused
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(hole.getsockname())
        fillers.append(filler)
    time.sleep(0.1)
    try:
        client = make_client(f"http://127.0.0.1:{hole.getsockname()[1]}", connect_s=0.3, read_s=5.0)
        error, took = timed(lambda: client.call(list_entries.sync_detailed, idempotent=False))
    finally:
        for s in [*fillers, hole]:
            s.close()
    assert isinstance(error, ReconUnavailable)
    assert isinstance(error.__cause__, httpx.ConnectTimeout)
    assert 0.25 <= took < 2.0


def test_an_answer_later_than_read_s_is_unavailable_after_about_the_read_timeout(proxy, make_client):
    """recon answering 3 s late against read_s 0.3: ReadTimeout, then ReconUnavailable, well before 3 s."""
    proxy.plan = lambda n, method, path: "delay"
    proxy.delay_s = 3.0
    client = make_client(proxy.url, read_s=0.3)
    error, took = timed(lambda: client.call(list_entries.sync_detailed, idempotent=False))
    assert isinstance(error, ReconUnavailable)
    assert isinstance(error.__cause__, httpx.ReadTimeout)
    assert 0.25 <= took < 2.0


def test_an_answer_within_read_s_is_served(proxy, make_client):
    """A slow but timely recon (0.2 s against read_s 2) answers normally."""
    proxy.plan = lambda n, method, path: "delay"
    proxy.delay_s = 0.2
    client = make_client(proxy.url, read_s=2.0)
    assert client.call(list_entries.sync_detailed, idempotent=False).status_code == 200


def test_every_attempt_of_an_idempotent_call_fits_in_the_retry_budget(proxy, make_client):
    """read_s 2, budget 3, recon 5 s late: the second attempt is cut at the budget, not at 4+ s."""
    proxy.plan = lambda n, method, path: "delay"
    proxy.delay_s = 5.0
    # the backoff before attempt 2 is at most wait_max (0.5 s), so it starts with >= 0.5 s left
    client = make_client(proxy.url, read_s=2.0, attempts=3, retry_budget_s=3.0)
    error, took = timed(lambda: client.call(list_entries.sync_detailed, idempotent=True))
    assert isinstance(error, ReconUnavailable)
    assert len(proxy.seen) == 2
    assert 2.9 <= took < 3.6  # uncapped, the second attempt would end after 4 s or more


# --- retries -----------------------------------------------------------------------------------


def test_an_idempotent_get_is_retried_after_a_5xx_and_a_dropped_connection_then_succeeds(proxy, make_client):
    """First answer 503, second attempt dropped, third served: the caller sees the 200."""
    proxy.plan = lambda n, method, path: {0: "503", 1: "drop"}.get(n, "pass")
    client = make_client(proxy.url, attempts=3)
    answer = client.call(list_entries.sync_detailed, idempotent=True)
    assert answer.status_code == 200
    assert [method for method, _ in proxy.seen] == ["GET", "GET", "GET"]
    assert client.breaker.fail_counter == 0


def test_an_idempotent_get_gives_up_after_the_configured_attempts(proxy, make_client):
    """Always 503: exactly `attempts` requests, then ReconUnavailable, counted once by the breaker."""
    proxy.plan = lambda n, method, path: "503"
    client = make_client(proxy.url, attempts=3)
    with pytest.raises(ReconUnavailable):
        client.call(list_entries.sync_detailed, idempotent=True)
    assert len(proxy.seen) == 3
    assert client.breaker.fail_counter == 1


@pytest.mark.parametrize("failure", ["503", "drop"])
@pytest.mark.parametrize(
    ("endpoint", "kwargs"),
    [
        (create_entry.sync_detailed, {"body": WhitelistBody(phone="84901"), "x_actor": "alice"}),
        (review_sms.sync_detailed, review()),
    ],
    ids=["whitelist-create", "sms-review"],
)
def test_a_non_idempotent_post_is_sent_once_even_when_it_fails(proxy, make_client, endpoint, kwargs, failure):
    """A create or a review that fails (5xx or connection dropped) is never sent again."""
    proxy.plan = lambda n, method, path: failure
    client = make_client(proxy.url, attempts=3)
    with pytest.raises(ReconUnavailable):
        client.call(endpoint, idempotent=False, **kwargs)
    assert [method for method, _ in proxy.seen] == ["POST"]


def test_a_404_problem_is_returned_not_retried_and_not_counted_by_the_breaker(proxy, make_client):
    """recon's 404 problem reaches the caller after one request; even fail_max 1 stays closed."""
    client = make_client(proxy.url, attempts=3, breaker_fail_max=1)
    answer = client.call(get_entry.sync_detailed, idempotent=True, entry_id=999_999)
    assert answer.status_code == 404
    assert isinstance(answer.parsed, Problem) and answer.parsed.status == 404
    assert len(proxy.seen) == 1
    assert client.breaker.current_state == pybreaker.STATE_CLOSED
    assert client.breaker.fail_counter == 0


def test_a_wallet_outage_behind_recon_is_unavailable_but_does_not_trip_the_recon_breaker(
    settings, enrolled, device_post, db, make_client
):
    """recon's own 503 dependency-unavailable (wallet down): ReconUnavailable, one request, breaker closed."""
    with socket.socket() as probe:  # a port nobody listens on: the wallet is down
        probe.bind(("127.0.0.1", 0))
        dead_wallet = f"http://127.0.0.1:{probe.getsockname()[1]}/wallet/v1"
    device_id, secret = enrolled()
    message = {"seq": 1, "sender": "VCB", "content": "sms", "received_at": int(time.time())}
    device_post("/api/shooter/sms/report", device_id, secret, {"messages": [message]})
    (sms_id,) = db.execute("UPDATE sms SET amount = 100, status = 2 RETURNING id").fetchone()
    server = Recon(settings.model_copy(update={"wallet_url": dead_wallet}))
    front = Proxy(server.root)
    try:
        client = make_client(front.url, breaker_fail_max=1)
        body = ReviewBody(check_status=CheckStatus.VALUE_1, order_id="R-1")
        for _ in range(3):  # idempotent=True on purpose: even a retryable call is not retried
            with pytest.raises(ReconUnavailable, match="dependency"):
                client.call(review_sms.sync_detailed, idempotent=True, sms_id=sms_id, body=body, x_actor="a")
        assert len(front.seen) == 3  # one request per call: recon already tried the wallet
        assert client.breaker.current_state == pybreaker.STATE_CLOSED
        assert client.call(get_stats.sync_detailed, idempotent=True).status_code == 200
    finally:
        front.stop()
        server.stop()


def test_a_5xx_with_a_body_that_is_not_json_is_unavailable_not_a_parse_error(proxy, make_client):
    """A 503 HTML page (a load balancer's, say) is ReconUnavailable, not a JSONDecodeError."""
    proxy.plan = lambda n, method, path: "503-html"
    client = make_client(proxy.url)
    with pytest.raises(ReconUnavailable):
        client.call(review_sms.sync_detailed, idempotent=False, **review())
    assert client.breaker.fail_counter == 1


def test_an_unreadable_success_body_is_unavailable_counted_and_not_retried(proxy, make_client):
    """A 200 whose body is not JSON is ReconUnavailable (not ValueError), one request, one failure."""
    proxy.plan = lambda n, method, path: "200-garbage"
    client = make_client(proxy.url, attempts=3)
    with pytest.raises(ReconUnavailable):
        client.call(list_entries.sync_detailed, idempotent=True)
    assert len(proxy.seen) == 1
    assert client.breaker.fail_counter == 1


def test_a_programming_error_propagates_and_is_not_counted_by_the_breaker(proxy, make_client):
    """A wrong keyword argument is the caller's bug: TypeError, no request, no breaker failure."""
    client = make_client(proxy.url, breaker_fail_max=1)
    with pytest.raises(TypeError):
        client.call(list_entries.sync_detailed, idempotent=True, no_such_parameter=1)
    assert proxy.seen == []
    assert client.breaker.current_state == pybreaker.STATE_CLOSED


@pytest.mark.parametrize(
    ("endpoint", "kwargs"),
    [
        (list_sms.sync_detailed, {"page": 1, "page_size": 5, "status": 1, "keyword": "VCB"}),
        (get_entry.sync_detailed, {"entry_id": 999_999}),
        (create_entry.sync_detailed, {"body": WhitelistBody(phone="---"), "x_actor": "alice"}),
    ],
    ids=["query", "path-404", "json-body-400"],
)
def test_an_unparsed_call_sends_the_generated_request_and_returns_recons_bytes(
    proxy, make_client, endpoint, kwargs
):
    """parse=False: the same request (method, path, query, body) and the same answer, no models."""
    client = make_client(proxy.url)
    parsed = client.call(endpoint, idempotent=False, **kwargs)
    raw = client.call(endpoint, idempotent=False, parse=False, **kwargs)
    assert proxy.seen[0] == proxy.seen[1]
    assert raw.parsed is None and parsed.parsed is not None
    assert raw.status_code == parsed.status_code
    assert raw.content == parsed.content
    assert raw.headers["content-type"] == parsed.headers["content-type"]


def test_an_unparsed_call_keeps_the_failure_rules(proxy, make_client):
    """parse=False still retries a 5xx of an idempotent call, counts it, and refuses a bad argument."""
    proxy.plan = lambda n, method, path: "503" if n == 0 else "pass"
    client = make_client(proxy.url, attempts=2, breaker_fail_max=1)
    assert client.call(list_entries.sync_detailed, idempotent=True, parse=False).status_code == 200
    assert len(proxy.seen) == 2
    with pytest.raises(TypeError):
        client.call(list_entries.sync_detailed, idempotent=True, parse=False, no_such_parameter=1)
    with pytest.raises(TypeError, match="generated recon operation"):
        client.call(lambda client: None, idempotent=True, parse=False)
    assert len(proxy.seen) == 2


# --- the breaker's open / half-open / closed cycle ---------------------------------------------


def open_the_breaker(client: ReconClient, fail_max: int) -> None:
    for _ in range(fail_max):
        with pytest.raises(ReconUnavailable):
            client.call(get_stats.sync_detailed, idempotent=True)
    assert client.breaker.current_state == pybreaker.STATE_OPEN


def test_the_breaker_opens_on_a_stopped_recon_sheds_at_once_and_a_trial_closes_it_once_recon_is_back(
    recon, make_client
):
    """fail_max failures open it; open calls never reach recon; after reset_s one trial closes it."""
    client = make_client(recon.root, attempts=1, breaker_fail_max=3, breaker_reset_s=1.0, connect_s=1.0)
    assert client.call(get_stats.sync_detailed, idempotent=True).status_code == 200
    recon.stop()
    open_the_breaker(client, 3)

    recon.start()  # recon is back, but the breaker is still open: nothing may reach it
    recon.app.requests.clear()
    for _ in range(5):
        error, took = timed(lambda: client.call(get_stats.sync_detailed, idempotent=True))
        assert isinstance(error, ReconUnavailable) and took < 0.1  # connect_s is 1.0
    assert recon.app.requests == []
    assert client.breaker.current_state == pybreaker.STATE_OPEN

    time.sleep(1.1)  # reset_s passed: the next call is the half-open trial
    assert client.call(get_stats.sync_detailed, idempotent=True).status_code == 200
    assert recon.app.requests == [("GET", f"{BASE_PATH}/stats")]
    assert client.breaker.current_state == pybreaker.STATE_CLOSED
    assert client.call(get_stats.sync_detailed, idempotent=True).status_code == 200


def test_a_failed_half_open_trial_opens_the_breaker_again(recon, make_client):
    """With recon still down after reset_s, the one trial fails and the breaker is open again."""
    client = make_client(recon.root, attempts=1, breaker_fail_max=2, breaker_reset_s=0.5)
    recon.stop()
    open_the_breaker(client, 2)
    time.sleep(0.6)
    error, _ = timed(lambda: client.call(get_stats.sync_detailed, idempotent=True))
    assert isinstance(error, ReconUnavailable)
    assert isinstance(error.__cause__, pybreaker.CircuitBreakerError)  # the trial's failure re-opened it
    assert client.breaker.current_state == pybreaker.STATE_OPEN
    error, took = timed(lambda: client.call(get_stats.sync_detailed, idempotent=True))
    assert isinstance(error, ReconUnavailable) and took < 0.1


def test_while_the_half_open_trial_runs_other_calls_are_shed_at_once(proxy, make_client):
    """Only one trial call reaches recon; the others answer ReconUnavailable without a request."""
    proxy.plan = lambda n, method, path: "503" if n < 2 else "hang"
    client = make_client(proxy.url, attempts=1, breaker_fail_max=2, breaker_reset_s=0.3, read_s=1.0)
    open_the_breaker(client, 2)
    time.sleep(0.4)
    trial = in_thread(lambda: client.call(get_stats.sync_detailed, idempotent=True))
    wait_until(lambda: len(proxy.seen) == 3)
    for _ in range(3):
        error, took = timed(lambda: client.call(get_stats.sync_detailed, idempotent=True))
        assert isinstance(error, ReconUnavailable) and took < 0.1
    assert len(proxy.seen) == 3
    trial.join(timeout=5)
    assert client.breaker.current_state == pybreaker.STATE_OPEN  # the trial timed out


# --- the bulkhead ------------------------------------------------------------------------------


def test_a_full_lane_sheds_after_pool_s_while_another_lane_still_answers(proxy, make_client):
    """List calls hang and fill the default lane; top_info's lane answers at once, the full lane sheds."""
    proxy.plan = lambda n, method, path: "hang" if path.startswith(f"{BASE_PATH}/sms") else "pass"
    client = make_client(proxy.url, pool_size=2, pool_s=0.3, read_s=3.0, attempts=1)
    stuck = [in_thread(lambda: client.call(list_sms.sync_detailed, idempotent=True)) for _ in range(2)]
    wait_until(lambda: len(proxy.seen) == 2)

    answer, took = timed(lambda: client.call(get_stats.sync_detailed, idempotent=True, lane="top_info"))
    assert not isinstance(answer, Exception) and answer.status_code == 200
    assert took < 1.0
    error, took = timed(lambda: client.call(list_sms.sync_detailed, idempotent=True))
    assert isinstance(error, ReconUnavailable) and "busy" in str(error)
    assert 0.25 <= took < 1.5
    assert len(proxy.seen) == 3  # the shed call sent nothing
    assert client.breaker.fail_counter == 0  # shedding is not recon failing
    proxy.stop()  # the hung calls end now (connection closed)
    for thread in stuck:
        thread.join(timeout=5)


def test_an_open_breaker_answers_at_once_even_when_the_lane_is_full(proxy, make_client):
    """With every slot held by a hung call, an open breaker still sheds without waiting pool_s."""
    proxy.plan = lambda n, method, path: "hang" if n == 0 else "503"
    client = make_client(proxy.url, pool_size=1, pool_s=1.0, read_s=3.0, attempts=1, breaker_fail_max=1)
    hung = in_thread(lambda: client.call(list_sms.sync_detailed, idempotent=True))
    wait_until(lambda: len(proxy.seen) == 1)
    with pytest.raises(ReconUnavailable):  # another lane's 503 opens the breaker
        client.call(get_stats.sync_detailed, idempotent=True, lane="top_info")
    assert client.breaker.current_state == pybreaker.STATE_OPEN
    error, took = timed(lambda: client.call(list_sms.sync_detailed, idempotent=True))
    assert isinstance(error, ReconUnavailable) and "open" in str(error)
    assert took < 0.1
    proxy.stop()
    hung.join(timeout=5)
