"""Faults end to end: the real plugin against the simulator on 127.0.0.1.

Each kind of fault is classified in the client's tests (over a real socket) and handled in the
wait loop's tests (on a fake clock); these sessions prove that what they decide reaches the
terminal, the exit code and JUnit intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import pytest

from pytest_qatech.core.background import SharedRuns
from pytest_qatech.simulator import DEFAULT_TOKEN, Answer, SimulatedRun, Simulator, case

from .helpers import FAST, mixed_run


def run_abc(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", *args)


def test_a_failed_poll_is_retried_and_said(simulator: Simulator, pytester: pytest.Pytester) -> None:
    busy = Answer(503, {"message": "Service Unavailable"})
    simulator.add(SimulatedRun("abc123", "FAILED", mixed_run().cases, answers={1: busy}))
    result = run_abc(pytester)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "qatech: GET http://127.0.0.1:*/v1/run/abc123: HTTP 503 Service Unavailable: "
            '"Service Unavailable"; trying again in *s'
        ]
    )
    # The usual three polls of the run (each lists its cases), plus the one that failed.
    assert len(simulator.requests_for("abc123")) == 4


def test_a_malformed_answer_is_a_collection_error_without_retry(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    without_cases = {"id": "u", "shortId": "abc123", "status": "COMPLETED", "result": "PASSED"}
    simulator.add(
        SimulatedRun("abc123", statuses=("COMPLETED",), answers={0: Answer(200, without_cases)})
    )
    result = run_abc(pytester)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting qatech*",
            "QA.tech run abc123 could not be read: GET http://127.0.0.1:*/v1/run/abc123 gave an "
            "unusable answer: run abc123: field 'runTestCases' must be a list of test cases once "
            "the run has ended, received missing",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert len(simulator.requests) == 1


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


def test_interrupt_while_waiting(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedRun("abc123", statuses=("RUNNING",)))
    wait = SharedRuns.wait

    def interrupted(shared: SharedRuns, ready: Callable[[], bool], timeout: float | None) -> bool:
        # Ctrl-C, once the run has said how it is: where the main thread waits for it.
        wait(shared, lambda: shared.run("qatech", "abc123").status is not None, None)
        raise KeyboardInterrupt

    monkeypatch.setattr(SharedRuns, "wait", interrupted)
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
        "import threading\n"
        "from pathlib import Path\n\n"
        "def pytest_unconfigure():\n"
        "    others = [t for t in threading.enumerate() if t is not threading.main_thread()]\n"
        "    names = sorted(t.name for t in others)\n"
        "    Path('threads.txt').write_text(repr(names))\n"
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


def test_ctrl_c_while_waiting_stops_it_and_leaves_no_thread(
    waiting_pytest: subprocess.Popen[str], pytester: pytest.Pytester
) -> None:
    assert waiting_pytest.stdout is not None
    seen = []
    for line in waiting_pytest.stdout:  # synchronise on the output, not on time
        seen.append(line)
        if "is RUNNING" in line:
            break
    waiting_pytest.send_signal(signal.SIGINT)
    # Generous: pytest's own report of an interrupt is slow on a busy machine; the point is
    # that the wait ends, not how fast.
    rest, _ = waiting_pytest.communicate(timeout=300)
    output = "".join(seen) + rest
    assert waiting_pytest.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "qatech: interrupted while waiting for QA.tech run abc123 (RUNNING" in output, output
    assert "KeyboardInterrupt" in output, output
    assert (pytester.path / "threads.txt").read_text() == "[]"
