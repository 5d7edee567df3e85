"""Fault injection: the real plugin against the simulator on 127.0.0.1, one fault at a time.

Backoff starts at the poll interval (0.01 s here) and the read timeout is cut to 0.3 s, so a
fault costs milliseconds, not the minutes it may cost against the real service.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from pytest_qatech.simulator import DEFAULT_TOKEN, Answer, SimulatedRun, Simulator, case

from .conftest import FAST, mixed_run

READ_TIMEOUT = 0.3


@pytest.fixture(autouse=True)
def _short_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pytest_qatech.client.READ_TIMEOUT", READ_TIMEOUT)


def run_abc(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", *args)


RUN_WITHOUT_CASES = {"id": "u", "shortId": "abc123", "status": "COMPLETED", "result": "PASSED"}


def expect_unreadable(pytester: pytest.Pytester, *args: str, lines: list[str]) -> pytest.RunResult:
    """Run, and expect the run to be a collection error (exit 2) saying ``lines``."""
    result = run_abc(pytester, *args)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(lines)
    return result


TRANSIENT_FAULTS = {
    "503": Answer(503, {"message": "Service Unavailable"}),
    "502 html from a proxy": Answer(502, "<html><h1>502 Bad Gateway</h1></html>"),
    "429": Answer(429, {"message": "Too many requests"}, {"Retry-After": "0"}),
    "dropped connection": Answer(drop=True),
    "slower than the read timeout": Answer(delay=READ_TIMEOUT * 4),
    "truncated body": Answer(200, {"padding": "x" * 2000}, truncate=True),
}


@pytest.mark.parametrize("fault", list(TRANSIENT_FAULTS.values()), ids=list(TRANSIENT_FAULTS))
@pytest.mark.parametrize("request_index", [0, 1, 3], ids=["first poll", "later poll", "results"])
def test_transient_faults_are_retried(
    simulator: Simulator, pytester: pytest.Pytester, fault: Answer, request_index: int
) -> None:
    simulator.add(
        SimulatedRun("abc123", "FAILED", mixed_run().cases, answers={request_index: fault})
    )
    result = run_abc(pytester)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["qatech: GET http://127.0.0.1:*/v1/run/abc123*; trying again in *"]
    )
    # The usual four requests to the run, plus the one that failed.
    assert len(simulator.requests_for("abc123")) == 5


def test_retry_after_is_honoured(simulator: Simulator, pytester: pytest.Pytester) -> None:
    throttled = Answer(429, {"message": "slow down"}, {"Retry-After": "1"})
    simulator.add(SimulatedRun("abc123", cases=[case("a")], answers={1: throttled}))
    run_abc(pytester).assert_outcomes(passed=1)
    gap = simulator.requests[2].at - simulator.requests[1].at
    assert gap >= 1.0  # a lower bound only: the plugin must not come back sooner


def test_retries_run_out_when_the_api_never_answers(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    down = {index: Answer(503, {"message": "maintenance"}) for index in range(20)}
    simulator.add(SimulatedRun("abc123", answers=down))
    expect_unreadable(
        pytester,
        lines=[
            "QA.tech run abc123 could not be read: the status request failed 8 times over *s; "
            "the last failure: GET http://127.0.0.1:*/v1/run/abc123: "
            'HTTP 503 Service Unavailable: "maintenance"'
        ],
    )
    assert len(simulator.requests) == 8


def test_retries_run_out_for_the_results_request(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    down = {index: Answer(drop=True) for index in range(1, 20)}
    simulator.add(SimulatedRun("abc123", statuses=("COMPLETED",), answers=down))
    expect_unreadable(
        pytester, lines=["*the results request failed 8 times over*connection failed*"]
    )


def test_a_wait_under_way_survives_many_failed_polls(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # More consecutive failures than a run never reached may have: the wait goes on.
    flaky = {index: Answer(503, "busy") for index in range(1, 11)}
    statuses = ("RUNNING", "RUNNING", "COMPLETED")
    simulator.add(SimulatedRun("abc123", cases=[case("a")], statuses=statuses, answers=flaky))
    result = run_abc(pytester)
    result.assert_outcomes(passed=1)
    assert len(simulator.requests) == 1 + 10 + 2 + 1


def test_connection_refused(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("QATECH_API_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    result = expect_unreadable(
        pytester,
        lines=["*the status request failed 8 times over*connection failed*Connection refused*"],
    )
    assert "Traceback" not in result.stdout.str()


def test_time_out_while_the_api_keeps_failing(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    failing = {index: Answer(500, "oops") for index in range(1, 10_000)}
    simulator.add(SimulatedRun("abc123", statuses=("RUNNING",), answers=failing))
    expect_unreadable(
        pytester,
        "--qatech-timeout",
        "0.5",
        lines=[
            "QA.tech run abc123 did not finish in time: still RUNNING after 0.5s "
            "(--qatech-timeout 0.5s); the last * requests failed over *s, most recently: "
            "GET http://127.0.0.1:*/v1/run/abc123: HTTP 500 Internal Server Error: 'oops'"
        ],
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(200, b'{"id": "u", "shortId": "abc1'), "*the answer is not JSON (*"),
        (Answer(200, b"\xff\xfe garbage"), "*the answer is not JSON (application/octet-stream*"),
        (Answer(200, RUN_WITHOUT_CASES),
         "*field 'runTestCases' must be a list of test cases once the run has ended, *missing"),
        (Answer(200, {**RUN_WITHOUT_CASES, "runTestCases": None}),
         "*'runTestCases' must be a list*received null"),
        (Answer(200, {**RUN_WITHOUT_CASES, "runTestCases": {"a": 1}}),
         "*'runTestCases' must be a list*received an object"),
        (Answer(200, "<html>Please sign in to the corporate proxy</html>"),
         "*not JSON (text/html*Please sign in to the corporate proxy*"),
    ],
)  # fmt: skip
def test_malformed_results_are_clear_collection_errors(
    simulator: Simulator, pytester: pytest.Pytester, answer: Answer, message: str
) -> None:
    simulator.add(SimulatedRun("abc123", statuses=("COMPLETED",), answers={1: answer}))
    result = expect_unreadable(
        pytester,
        lines=["*ERROR collecting qatech*", f"QA.tech run abc123 could not be read: GET {message}"],
    )
    assert "Traceback" not in result.stdout.str()
    assert len(simulator.requests) == 2  # malformed is final: no retry


def test_huge_bodies_are_refused(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pytest_qatech.client.MAX_BODY_BYTES", 100_000)
    cases = [case(f"case {i}", thought="x" * 500) for i in range(300)]
    simulator.add(SimulatedRun("abc123", cases=cases, statuses=("COMPLETED",)))
    expect_unreadable(pytester, lines=["*the answer is larger than 0 MiB*"])


def test_bad_cases_are_errors_and_the_good_ones_are_still_reported(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    cases = [
        case("good"),
        {**case("no status"), "status": None},
        "not an object",
        {**case("bad title"), "resultTitle": 42},
        case("failing", "FAILED", title="t"),
        case("odd", "SOMETIMES"),
        {**case("extra"), "newField": [1, 2]},
    ]
    simulator.add(SimulatedRun("abc123", "FAILED", cases))
    result = run_abc(pytester, "-rEf")
    result.assert_outcomes(passed=2, failed=1, errors=4)
    result.stdout.fnmatch_lines(
        [
            "case #2 of run abc123: field 'status' must be a string, received null",
            "case #3 of run abc123: expected a JSON object, received a string ('not an object')",
            "case #4 of run abc123: field 'resultTitle' must be a string or null, received a n*",
            "the case has result 'SOMETIMES', which the QA.tech API reference does not list*",
        ],
        consecutive=False,
    )


def test_awkward_names_and_texts_are_safe_in_junit(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    long_name = "A very long case name " * 20
    cases = [
        case("Ünïcödé ✓ 日本語 🚀", short_id="u1"),
        case(
            "ctrl\x00\x1b[31m\x07chars",
            "FAILED",
            title="bad\x00title",
            thought="esc \x1b\x0b\x0c end",
            short_id="u2",
        ),
        case(long_name, short_id="u3"),
        case("Üñï", short_id="u4"),
        case("Üñï", short_id="u5"),
    ]
    simulator.add(SimulatedRun("abc123", "FAILED", cases))
    result = run_abc(pytester, "--junitxml=report.xml")
    result.assert_outcomes(passed=4, failed=1)
    testcases = list(ET.parse(pytester.path / "report.xml").getroot().iter("testcase"))
    names = [element.get("name") for element in testcases]
    # pytest 8.0's JUnit writer spells out characters beyond the BMP; pytest 9 keeps them.
    assert names[0] in ("Ünïcödé ✓ 日本語 🚀", "Ünïcödé ✓ 日本語 #x1F680")
    assert names[1:] == [
        "ctrl (31m chars",
        long_name.strip()[:199] + "…",
        "Üñï",
        "Üñï (2)",
    ]
    properties = {p.get("name"): p.get("value") for p in testcases[2].iter("property")}
    assert properties["case_name"] == long_name
    failure = testcases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "bad\\x00title"
    assert failure.text is not None
    assert "esc \\x1b\\x0b\\x0c end" in failure.text
    assert "\x1b" not in result.stdout.str()


def test_redirects_are_not_followed(simulator: Simulator, pytester: pytest.Pytester) -> None:
    with Simulator([mixed_run()]) as elsewhere:
        moved = Answer(302, None, {"Location": f"{elsewhere.url}/v1/run/abc123"})
        simulator.add(SimulatedRun("abc123", answers={0: moved}))
        result = run_abc(pytester)
        assert elsewhere.requests == []
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*HTTP 302: the API redirected to http://127.0.0.1:*/v1/run/abc123; "
            "redirects are not followed*"
        ]
    )


def test_interrupt_while_waiting(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedRun("abc123", statuses=("RUNNING",)))

    def interrupt(self: object, seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("pytest_qatech.waiting.SystemClock.sleep", interrupt)
    # pytester re-raises an inner Ctrl-C in this process unless told not to.
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "qatech: interrupted while waiting for QA.tech run abc123 (RUNNING, *s)",
            "*KeyboardInterrupt*",
        ]
    )


@pytest.fixture
def waiting_pytest(
    simulator: Simulator, pytester: pytest.Pytester
) -> Iterator[subprocess.Popen[str]]:
    simulator.add(SimulatedRun("abc123", statuses=("RUNNING",)))
    pytester.makeconftest(
        "import threading\n\n"
        "def pytest_unconfigure():\n"
        "    others = [t for t in threading.enumerate() if t is not threading.main_thread()]\n"
        "    names = sorted(t.name for t in others)\n"
        "    open('threads.txt', 'w').write(repr(names))\n"
    )
    env = {**os.environ, "QATECH_API_URL": simulator.url, "QATECH_API_TOKEN": DEFAULT_TOKEN}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--qatech-run",
        "abc123",
        "--qatech-poll-interval",
        "0.05",
    ]
    process = subprocess.Popen(
        command,
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.kill()
    process.wait()


def test_ctrl_c_while_waiting_stops_at_once(
    waiting_pytest: subprocess.Popen[str], pytester: pytest.Pytester
) -> None:
    assert waiting_pytest.stdout is not None
    seen = []
    for line in waiting_pytest.stdout:  # synchronise on the output, not on time
        seen.append(line)
        if "is RUNNING" in line:
            break
    waiting_pytest.send_signal(signal.SIGINT)
    rest, _ = waiting_pytest.communicate(timeout=30)
    output = "".join(seen) + rest
    assert waiting_pytest.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "qatech: interrupted while waiting for QA.tech run abc123 (RUNNING" in output, output
    assert "KeyboardInterrupt" in output, output
    assert (pytester.path / "threads.txt").read_text() == "[]"


def test_remote_text_cannot_drive_the_terminal(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    busy = Answer(503, {"message": "down\x1b[31m"})
    statuses = ("RUNNING", "ODD\x1b[2J")
    simulator.add(SimulatedRun("abc123", cases=[case("a")], statuses=statuses, answers={0: busy}))
    result = run_abc(pytester)
    output = result.stdout.str()
    assert "\x1b" not in output
    # "[[]" is a literal "[" to fnmatch.
    result.stdout.fnmatch_lines(
        [
            '*HTTP 503 Service Unavailable: "down\\x1b[[]31m"; trying again in*',
            "qatech: QA.tech run abc123 is ODD\\x1b[[]2J (*)",
            "QA.tech run abc123: ODD\\x1b[[]2J - 1 error",
        ],
        consecutive=False,
    )
