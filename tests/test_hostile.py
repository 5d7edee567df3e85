"""A hostile or broken server: one that drips, nests, echoes credentials, sends odd values or
bad certificates, or sits behind a proxy. Each must end in a clear report, never in a hang, a
crash, a green it did not earn, or a printed secret, in pytest (plain and ``-n 2``) and in
``qatech-junit``."""

from __future__ import annotations

import contextlib
import io
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from pytest_qatech.cli import main as qatech_junit
from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import Client, FinalError, TransientError
from pytest_qatech.core.models import Outcome
from pytest_qatech.core.providers.body import BodyError, Fields
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.providers.testvibe import TestVibeProvider
from pytest_qatech.core.secrets import Secret
from pytest_qatech.core.text import visible
from pytest_qatech.simulator import (
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    DEFAULT_TOKEN,
    TESTVIBE_KEY,
    Answer,
    SimulatedAutonomaRun,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
    environment,
    step,
    vibe_test,
)

from .helpers import FAST, echo, qatech_case, run_session

CERTIFICATE = (
    str(Path(__file__).parent / "certs" / "localhost.pem"),
    str(Path(__file__).parent / "certs" / "localhost.key"),
)
NESTED = b"[" * 100_000 + b"]" * 100_000
SECRETS = (DEFAULT_TOKEN, TESTVIBE_KEY, AUTONOMA_CLIENT_ID, AUTONOMA_CLIENT_SECRET)
STATUS = ApiRequest("/v1/run/abc123")
QATECH = QatechProvider(Secret(DEFAULT_TOKEN), project=None, details="failed")


def run_cli(simulator: Simulator, *args: str, output: Path) -> tuple[int, str]:
    """qatech-junit in this process: its exit code and everything it printed."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = qatech_junit([*args, *FAST, "-o", str(output)], environment(simulator.url))
    return code, printed.getvalue()


# 1. A slow server: every request ends by its deadline, whatever the server does.


def test_a_dripping_server_cannot_hold_a_request_past_its_deadline(
    simulator: Simulator,
) -> None:
    # Five bytes a second: its status line and headers alone would take half a minute.
    simulator.add(SimulatedRun("abc123", answers={0: Answer(200, {"x": 1}, drip=0.2)}))
    started = time.monotonic()
    client = Client(simulator.url, QATECH.auth_headers())
    with client, pytest.raises(TransientError) as raised:
        client.fetch(STATUS, time_left=1.0)
    # Generous: the point is that it ends near its one second, not after the drip's thirty.
    assert time.monotonic() - started < 15
    assert str(raised.value) == "no answer in time: the request took longer than 1.0s"


@pytest.mark.parametrize("extra", [(), ("-n", "2")])
def test_a_dripping_server_cannot_hold_the_session(
    simulator: Simulator, pytester: pytest.Pytester, tmp_path: Path, extra: tuple[str, ...]
) -> None:
    drip = {index: Answer(200, {"x": 1}, drip=0.2) for index in range(100)}
    simulator.add(SimulatedRun("abc123", answers=drip))
    timeout = ("--qatech-timeout", "0.5")  # a drip of a byte per 0.2 s sends no status line
    result = run_session(pytester, *FAST, *extra, "--qatech-run", "abc123", *timeout)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["QA.tech run abc123 did not finish in time: still unknown (no status was ever received)*"]
    )
    code, _ = run_cli(simulator, "abc123", *timeout, output=tmp_path / "r.xml")
    assert code == 2  # as pytest: did not finish in time


# 2. Answers that would crash a parser.


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (Answer(200, NESTED), FinalError, "the answer is nested too deeply to read (200000 bytes)"),
        (Answer(503, NESTED), TransientError, "HTTP 503 Service Unavailable: '[[[[[[[[[["),
        (Answer(401, NESTED), FinalError, "HTTP 401 Unauthorized: '[[[[[[[[[["),
    ],
    ids=["run answer", "error body", "refusal"],
)
def test_deeply_nested_json_is_an_answer_that_does_not_fit(
    simulator: Simulator, answer: Answer, error: type[Exception], message: str
) -> None:
    # The run answer cannot be read; an error's body is quoted, cut short, never parsed.
    simulator.add(SimulatedRun("abc123", answers={0: answer}))
    with Client(simulator.url, QATECH.auth_headers()) as client, pytest.raises(error) as raised:
        client.fetch(STATUS)
    assert type(raised.value) is error
    assert str(raised.value).startswith(message)
    assert len(str(raised.value)) < 300
    if answer.status == 200:
        assert isinstance(raised.value, FinalError)
        assert str(raised.value).startswith("the answer is nested too deeply to read")


@pytest.mark.parametrize("value", [10**400, float("inf"), float("-inf"), float("nan"), -1], ids=str)
def test_a_number_that_is_no_duration_is_refused(value: float) -> None:
    with pytest.raises(BodyError, match="field 'durationMs' must be a non-negative number"):
        Fields({"durationMs": value}, "test #1").optional_number("durationMs")


def test_json_s_own_odd_numbers_are_no_durations(simulator: Simulator) -> None:
    body = b'{"runId": 7, "status": "passed", "tests": [{"name": "a", "status": "passed", '
    body += b'"durationMs": 1e400}, {"name": "b", "status": "passed", "durationMs": NaN}]}'
    simulator.add(SimulatedTestVibeRun(7, answers={0: Answer(200, body)}))
    with Client(simulator.url, {"Authorization": Secret(f"Bearer {TESTVIBE_KEY}")}) as client:
        answer = client.fetch(ApiRequest("/api/v1/ops/projects/demo-project/runs/7"))
    run = TestVibeProvider(Secret("k"), "demo-project").parse_results("7", answer)
    assert [case.outcome for case in run.cases] == [Outcome.ERROR, Outcome.ERROR]


def crashing_runs() -> list[Any]:
    """A run of each platform with a value that crashed a session before."""
    surrogate_case = qatech_case("Checkout \ud800 flow", "FAILED", title="t \ud800", short_id="tc1")
    return [
        SimulatedRun(
            "abc123",
            "FAILED",
            [surrogate_case],
            details={"tc1": {"durationMs": 10**400}},
            statuses=("COMPLETED",),
        ),
        SimulatedTestVibeRun(7, tests=[{**vibe_test("big"), "durationMs": 10**400}]),
        SimulatedAutonomaRun("r1", "Sign in", steps=[step("open")], folder="team \ud800 \ufffe"),
        SimulatedRun("nested", answers={0: Answer(200, NESTED)}),
    ]


RUNS = ("--qatech-run", "abc123", "--qatech-run", "nested", "--testvibe-run", "7",
        "--autonoma-run", "r1")  # fmt: skip


@pytest.mark.parametrize("extra", [(), ("-n", "2")])
def test_odd_values_crash_no_session(
    simulator: Simulator, pytester: pytest.Pytester, extra: tuple[str, ...]
) -> None:
    simulator.add(*crashing_runs())
    result = run_session(
        pytester,
        *FAST,
        *extra,
        *RUNS,
        "--junitxml=report.xml",
        "--continue-on-collection-errors",
        "-rA",
    )
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    # A run that could not be read (the nested one) makes it 2, whatever else happened.
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(failed=1, errors=2, passed=1)
    testcases = list(ET.parse(pytester.path / "report.xml").getroot().iter("testcase"))
    assert len(testcases) == 4
    result.stdout.fnmatch_lines(
        [
            "*the answer is nested too deeply to read*",
            "*field 'durationMs' must be a non-negative number or null, received a number (1000*",
        ],
        consecutive=False,
    )


def test_odd_values_crash_no_report(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add(*crashing_runs())
    args = ("abc123", "--testvibe-run", "7", "--autonoma-run", "r1")
    code, printed = run_cli(simulator, *args, output=tmp_path / "r.xml")
    assert "Traceback" not in printed
    assert code == 1
    names = [c.get("name") for c in ET.parse(tmp_path / "r.xml").getroot().iter("testcase")]
    assert names == ["Checkout \ufffd flow", "big", "Sign in"]


# 3. Credentials a server echoes are never printed or written.


@pytest.mark.parametrize("status", [401, 503])
def test_echoed_credentials_are_redacted(
    simulator: Simulator, pytester: pytest.Pytester, tmp_path: Path, status: int
) -> None:
    # Under xdist too: test_secrets.py's wide session has a server that echoes them.
    refusal = Answer(status, echo, {"Retry-After": "0"})
    title = f"Login failed for token {DEFAULT_TOKEN}"
    simulator.add(
        SimulatedRun("abc123", answers={0: refusal}),
        SimulatedRun("leaky", "FAILED", [case("a", "FAILED", title=title, thought=DEFAULT_TOKEN)]),
        SimulatedTestVibeRun(7, answers={0: refusal}),
        SimulatedAutonomaRun("r1", "x", answers={0: refusal}),
    )
    others = ("--testvibe-run", "7", "--autonoma-run", "r1", "--qatech-timeout", "3")
    result = run_session(pytester,
        *FAST, "--qatech-run", "abc123", "--qatech-run", "leaky", *others,
        "--junitxml=report.xml", "-rA", "--continue-on-collection-errors",
    )  # fmt: skip
    for run in simulator.runs.values():  # the same script again, from its first request
        run.requests = 0
    code, printed = run_cli(simulator, "abc123", "leaky", *others, output=tmp_path / "r.xml")
    assert code == (2 if status == 401 else 1)
    places = {
        "pytest": result.stdout.str() + result.stderr.str(),
        "pytest's JUnit": (pytester.path / "report.xml").read_text(),
        "qatech-junit": printed,
        "its JUnit": (tmp_path / "r.xml").read_text(),
    }
    assert "refused request with headers" in places["pytest"]
    assert "Login failed for token ********" in places["pytest"]
    leaks = [(place, secret) for place, text in places.items() for secret in SECRETS
             if secret in text]  # fmt: skip
    assert leaks == []


# 4. Remote text reaches a terminal or a CI log only spelled out.


def test_skip_reasons_are_spelled_out(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(
        SimulatedRun("abc123", cases=[case("a", "SKIPPED", title="off\x1b[31m\r\x00!")]),
        SimulatedTestVibeRun(
            7, tests=[vibe_test("b", "skipped", error="no\x1b[2J\rway")], statuses=("passed",)
        ),
    )
    result = pytester.runpytest_inprocess(
        *FAST, "--qatech-run", "abc123", "--testvibe-run", "7", "-rA", "-v"
    )
    result.assert_outcomes(skipped=2)
    output = result.stdout.str()
    assert "\x1b" not in output
    assert "\r" not in output
    assert "\x00" not in output
    result.stdout.fnmatch_lines_random(
        ["SKIPPED * off\\x1b[[]31m\\r\\x00!", "SKIPPED * no\\x1b[[]2J\\rway"]
    )


def test_no_remote_line_is_a_workflow_command() -> None:
    text = "fine\n::add-mask::secret\n  ::set-output name=x::y\nsee ##[error]boom\n:: a"
    shown = visible(text)
    lines = shown.split("\n")
    assert not [line for line in lines if line.lstrip().startswith("::")]
    assert "##[" not in shown
    assert lines[0] == "fine"
    assert lines[1] == "\\x3a:add-mask::secret"


def test_a_folder_cannot_spoil_the_junit_file(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    folder = "team \ufffe ]]> \x07 <x>"
    simulator.add(SimulatedAutonomaRun("r1", "Sign in", steps=[step("open")], folder=folder))
    pytester.runpytest_inprocess(*FAST, "--autonoma-run", "r1", "--junitxml=report.xml")
    (testcase,) = ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
    assert testcase.get("classname") == "autonoma.team ))> <x>"


# 5. An id from a server never changes the URL it goes to.


@pytest.mark.parametrize("short_id", [".", "..", "a/b", "%2e%2e"])
def test_a_case_id_that_is_no_plain_path_segment_is_refused(
    simulator: Simulator, pytester: pytest.Pytester, short_id: str
) -> None:
    raw = qatech_case("odd", "FAILED", title="t", short_id=short_id)
    simulator.add(SimulatedRun("abc123", "FAILED", [raw]))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "-rE")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "case #1 of run abc123: field 'shortId' must be an id of 1 to 128 letters, digits, "
            "'-' or '_', received a string (*)"
        ]
    )
    assert [r.path for r in simulator.requests if not r.path.startswith("/v1/run/abc123")] == []


# 6. Plain http goes only to this machine: never through a proxy.


def test_plain_http_to_this_machine_bypasses_proxies(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedRun("abc123", cases=[case("a")]))
    with Simulator([SimulatedRun("abc123", cases=[case("a")])]) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123")
        result.assert_outcomes(passed=1)
        assert proxy.requests == []
    assert len(simulator.requests) == 3


# 7. A certificate that cannot be trusted is final at once, and says so.


def test_a_certificate_error_is_final_and_names_the_way_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    long_path = "/v1/" + "x" * 300
    with Simulator([SimulatedRun("abc123")], certificate=CERTIFICATE) as server:
        with (
            Client(server.url, QATECH.auth_headers()) as client,
            pytest.raises(FinalError) as raised,
        ):
            client.fetch(ApiRequest(long_path))
        assert server.requests == []
    message = str(raised.value)
    assert "certificate" in message
    assert "REQUESTS_CA_BUNDLE" in message


def test_a_trusted_certificate_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", CERTIFICATE[0])
    served = Simulator([SimulatedRun("abc123", cases=[case("a")])], certificate=CERTIFICATE)
    with served as server, Client(server.url, QATECH.auth_headers()) as client:
        assert isinstance(client.fetch(STATUS), dict)


# 8. qatech-junit speaks in its own name.


def test_qatech_junit_prefixes_its_lines_with_its_own_name(
    simulator: Simulator, tmp_path: Path
) -> None:
    busy = Answer(503, {"message": "busy"}, {"Retry-After": "0"})
    simulator.add(
        SimulatedTestVibeRun(7, tests=[vibe_test("a")], answers={0: busy}),
        SimulatedAutonomaRun("r1", "x", steps=[step("open")]),
    )
    code, printed = run_cli(
        simulator, "--testvibe-run", "7", "--autonoma-run", "r1", output=tmp_path / "r.xml"
    )
    assert code == 0
    lines = [line for line in printed.splitlines() if line.startswith(("qatech", "TestVibe"))]
    assert lines
    assert not [line for line in lines if line.startswith("qatech:")]
    assert "qatech-junit: GET " in printed
