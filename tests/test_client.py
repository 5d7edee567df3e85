from __future__ import annotations

import email.utils
import socket

import pytest
import requests
import responses

from pytest_qatech.core.client import (
    Client,
    FinalError,
    RequestError,
    TransientError,
    _bounds,
    parse_retry_after,
)
from pytest_qatech.core.providers import qatech_start
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.secrets import Secret
from pytest_qatech.simulator import (
    DEFAULT_TOKEN,
    Answer,
    SimulatedProject,
    SimulatedRun,
    Simulator,
    case,
)

TOKEN = "t0ken-d0-not-leak"
BASE = "https://api.qa.tech"
URL = f"{BASE}/v1/run/abc123"
provider = QatechProvider(Secret(TOKEN), project=None, details="failed")
status_request = provider.status_request("abc123")
provider_for_simulator = QatechProvider(Secret(DEFAULT_TOKEN), project=None, details="failed")


@pytest.fixture
def client() -> Client:
    return Client(BASE, provider.auth_headers())


def fail(client: Client) -> RequestError:
    with pytest.raises(RequestError) as raised:
        client.fetch(status_request)
    assert TOKEN not in str(raised.value)
    return raised.value


@responses.activate
def test_sends_bearer_token_and_returns_json(client: Client) -> None:
    responses.get(URL, json={"status": "RUNNING"})
    assert client.fetch(status_request) == {"status": "RUNNING"}
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"].startswith("pytest-qatech/")


@responses.activate
def test_results_request_asks_for_all_test_cases(client: Client) -> None:
    responses.get(
        URL, json={}, match=[responses.matchers.query_param_matcher({"testCases": "all"})]
    )
    results_request = provider.results_request("abc123")
    assert results_request is not None
    assert client.fetch(results_request) == {}


@responses.activate
@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_final_and_carry_the_server_message(client: Client, status: int) -> None:
    responses.get(URL, status=status, json={"message": "Run not found"})
    error = fail(client)
    assert isinstance(error, FinalError)
    assert error.http_status == status
    assert f"HTTP {status}" in str(error)
    assert '"Run not found"' in str(error)
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_and_throttling_are_transient(client: Client, status: int) -> None:
    responses.get(URL, status=status, body="<html><body>Bad Gateway</body></html>")
    error = fail(client)
    assert isinstance(error, TransientError)
    assert f"HTTP {status}" in str(error)
    assert "Bad Gateway" in str(error)


@responses.activate
def test_retry_after_seconds_is_passed_on(client: Client) -> None:
    responses.get(URL, status=429, headers={"Retry-After": "7"})
    error = fail(client)
    assert isinstance(error, TransientError)
    assert error.retry_after == 7.0


def test_retry_after_as_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


@responses.activate
@pytest.mark.parametrize(
    "exception",
    [
        requests.ConnectionError("refused"),
        requests.ReadTimeout("slow"),
        requests.ConnectTimeout("x"),
    ],
)
def test_network_trouble_is_transient(client: Client, exception: Exception) -> None:
    responses.get(URL, body=exception)
    assert isinstance(fail(client), TransientError)


@responses.activate
def test_redirects_are_not_followed(client: Client) -> None:
    responses.get(URL, status=302, headers={"Location": "https://elsewhere.example/x"})
    error = fail(client)
    assert isinstance(error, FinalError)
    assert "redirected to https://elsewhere.example/x" in str(error)
    assert len(responses.calls) == 1


@responses.activate
def test_a_body_that_is_not_json_is_final(client: Client) -> None:
    responses.get(URL, body="<html>Sign in to the proxy</html>", content_type="text/html")
    error = fail(client)
    assert isinstance(error, FinalError)
    assert "not JSON (text/html" in str(error)
    assert "Sign in to the proxy" in str(error)
    # It was answered: a POST that gets it may have done its work.
    assert error.http_status == 200


@responses.activate
def test_huge_bodies_are_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pytest_qatech.core.client.MAX_BODY_BYTES", 1000)
    responses.get(URL, body=b"[" + b"1," * 1000 + b"1]", status=201)
    error = fail(client)
    assert "larger than" in str(error)
    assert isinstance(error, FinalError)
    assert error.http_status == 201


@pytest.mark.parametrize(
    ("size", "refused"), [(64 * 1024 * 1024, False), (64 * 1024 * 1024 + 1, True)], ids=str
)
@responses.activate
def test_the_body_cap_is_64_mib(client: Client, size: int, refused: bool) -> None:
    # The documentation's 64 MiB, unpatched: a body of exactly that is read (and then found to be no
    # JSON), one byte more is refused as it arrives.
    responses.get(URL, body=b"x" * size)
    error = fail(client)
    assert ("larger than 64 MiB" in str(error)) is refused
    assert isinstance(error, FinalError)


def test_one_request_takes_at_most_60_seconds() -> None:
    # The whole request's deadline, and its connect and read timeouts within it.
    assert _bounds(None) == _bounds(3600.0) == (60.0, (10.0, 30.0))
    assert _bounds(2.5) == (2.5, (2.5, 2.5))


def test_credentials_are_sent_only_over_https_or_to_loopback() -> None:
    with pytest.raises(ValueError, match="only over https"):
        Client("http://api.qa.tech", provider.auth_headers())
    assert (
        repr(Client("http://127.0.0.1:1", provider.auth_headers()))
        == "Client('http://127.0.0.1:1')"
    )


@responses.activate
def test_timeouts_never_outlive_the_wait(client: Client) -> None:
    responses.get(URL, json={})
    client.fetch(status_request)
    client.fetch(status_request, time_left=3600.0)
    client.fetch(status_request, time_left=2.5)
    sent = [call.request.req_kwargs["timeout"] for call in responses.calls]  # type: ignore[attr-defined]
    assert sent == [(10.0, 30.0), (10.0, 30.0), (2.5, 2.5)]


# The same client over a real socket, against faults a server or a proxy really produces.

READ_TIMEOUT = 0.3
SIMULATED_TRANSIENT = {
    "503": Answer(503, {"message": "Service Unavailable"}),
    "502 html from a proxy": Answer(502, "<html><h1>502 Bad Gateway</h1></html>"),
    "429": Answer(429, {"message": "Too many requests"}, {"Retry-After": "7"}),
    "dropped connection": Answer(drop=True),
    "slower than the read timeout": Answer(delay=READ_TIMEOUT * 4),
    "truncated body": Answer(200, {"padding": "x" * 2000}, truncate=True),
}


@pytest.mark.parametrize("fault", list(SIMULATED_TRANSIENT.values()), ids=list(SIMULATED_TRANSIENT))
def test_transient_faults_over_a_socket(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, fault: Answer
) -> None:
    monkeypatch.setattr("pytest_qatech.core.client.READ_TIMEOUT", READ_TIMEOUT)
    simulator.add(SimulatedRun("abc123", cases=[case("a")], answers={0: fault}))
    with Client(simulator.url, provider_for_simulator.auth_headers()) as client:
        with pytest.raises(TransientError) as raised:
            client.fetch(status_request)
        # The fault was one answer: the next request is answered.
        assert isinstance(client.fetch(status_request), dict)
    if fault.status == 429:
        assert raised.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(200, b'{"id": "u", "shortId": "abc1'), "the answer is not JSON (application/"),
        (Answer(200, b"\xff\xfe garbage"), "the answer is not JSON (application/octet-stream"),
        (
            Answer(200, "<html>Please sign in to the corporate proxy</html>"),
            "the answer is not JSON (text/html; charset=utf-8, 50 bytes): '<html>Please sign in",
        ),
        (
            Answer(302, None, {"Location": "http://127.0.0.1:9/v1/run/abc123"}),
            "HTTP 302: the API redirected to http://127.0.0.1:9/v1/run/abc123; redirects are "
            "not followed",
        ),
    ],
)
def test_final_faults_over_a_socket(simulator: Simulator, answer: Answer, message: str) -> None:
    simulator.add(SimulatedRun("abc123", answers={0: answer}))
    client = Client(simulator.url, provider_for_simulator.auth_headers())
    with client, pytest.raises(FinalError) as raised:
        client.fetch(status_request)
    assert str(raised.value).startswith(message)
    assert len(simulator.requests) == 1


def refusing_client() -> Client:
    """A client of a port on this machine that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    return Client(f"http://127.0.0.1:{closed_port}", provider.auth_headers())


def test_connection_refused_is_transient_and_names_the_reason() -> None:
    client = refusing_client()
    with client, pytest.raises(TransientError) as raised:
        client.fetch(status_request)
    assert str(raised.value) == (
        "connection failed (ConnectionError: [Errno 111] Connection refused)"
    )


# POSTs start runs: which failures may be repeated decides whether a second run is started.

rerun_request = qatech_start.rerun_request("abc123")


@responses.activate
def test_a_post_sends_its_json_body_with_the_token(client: Client) -> None:
    responses.post(URL, json={"success": True}, status=201)
    assert client.fetch(rerun_request) == {"success": True}
    sent = responses.calls[0].request
    assert sent.method == "POST"
    assert sent.body == b'{"failedOnly": true}'
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_refused_connection_may_be_repeated_as_nothing_was_sent() -> None:
    client = refusing_client()
    with client, pytest.raises(TransientError) as raised:
        client.fetch(rerun_request)
    assert raised.value.delivered is False
    assert raised.value.safe_to_repeat


@pytest.mark.starts_runs
@pytest.mark.parametrize(
    ("fault", "safe"),
    [
        (Answer(429, {"message": "Too many requests"}), True),
        (Answer(500, {"message": "Internal error"}), False),
        (Answer(503, {"message": "Service Unavailable"}), False),
        (Answer(drop=True), False),
        (Answer(delay=READ_TIMEOUT * 4), False),
    ],
    ids=["429", "500", "503", "dropped", "read timeout"],
)
def test_only_a_refusal_unread_may_be_repeated_once_a_post_reached_the_server(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, fault: Answer, safe: bool
) -> None:
    monkeypatch.setattr("pytest_qatech.core.client.READ_TIMEOUT", READ_TIMEOUT)
    simulator.add(SimulatedRun("abc123", result="FAILED", cases=[case("a", "FAILED")]))
    simulator.project = SimulatedProject(rerun_answers={0: fault})
    client = Client(simulator.url, provider_for_simulator.auth_headers())
    with client, pytest.raises(TransientError) as raised:
        client.fetch(rerun_request)
    assert raised.value.delivered is True
    assert raised.value.safe_to_repeat is safe
    assert [(r.method, r.path) for r in simulator.requests] == [("POST", "/v1/run/abc123")]


def test_a_request_over_leaves_no_watch_thread_behind() -> None:
    from pytest_qatech.core.deadline import Deadline

    for _ in range(20):
        with Deadline(30) as deadline:
            pass
        assert not deadline._watch.is_alive()
