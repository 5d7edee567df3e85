from __future__ import annotations

import email.utils

import pytest
import requests
import responses

from pytest_qatech.client import (
    Client,
    FinalError,
    RequestError,
    TransientError,
    parse_retry_after,
)
from pytest_qatech.providers.qatech import QatechProvider
from pytest_qatech.settings import Secret

TOKEN = "t0ken-d0-not-leak"
BASE = "https://api.qa.tech"
URL = f"{BASE}/v1/run/abc123"
provider = QatechProvider(Secret(TOKEN))
status_request = provider.status_request("abc123")


@pytest.fixture
def client() -> Client:
    return Client(BASE, provider.auth_headers())


def fail(client: Client) -> RequestError:
    with pytest.raises(RequestError) as raised:
        client.get_json(status_request)
    assert TOKEN not in str(raised.value)
    return raised.value


@responses.activate
def test_sends_bearer_token_and_returns_json(client: Client) -> None:
    responses.get(URL, json={"status": "RUNNING"})
    assert client.get_json(status_request) == {"status": "RUNNING"}
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"].startswith("pytest-qatech/")


@responses.activate
def test_results_request_asks_for_all_test_cases(client: Client) -> None:
    responses.get(
        URL, json={}, match=[responses.matchers.query_param_matcher({"testCases": "all"})]
    )
    assert client.get_json(provider.results_request("abc123")) == {}


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


@responses.activate
def test_huge_bodies_are_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pytest_qatech.client.MAX_BODY_BYTES", 1000)
    responses.get(URL, body=b"[" + b"1," * 1000 + b"1]")
    assert "larger than" in str(fail(client))


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
    client.get_json(status_request)
    client.get_json(status_request, time_left=3600.0)
    client.get_json(status_request, time_left=2.5)
    sent = [call.request.req_kwargs["timeout"] for call in responses.calls]  # type: ignore[attr-defined]
    assert sent == [(10.0, 30.0), (10.0, 30.0), (2.5, 2.5)]
