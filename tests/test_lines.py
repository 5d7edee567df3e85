"""What is printed while waiting: plain lines in a log, a live line on a terminal."""

from __future__ import annotations

import pytest

from pytest_qatech.core.events import (
    Interrupted,
    Noted,
    RequestFailed,
    RunStanding,
    StatusChanged,
    StillWaiting,
    Waiting,
    Warned,
)
from pytest_qatech.core.lines import LiveLine, TerminalLines, header_line
from pytest_qatech.simulator import SimulatedRun, Simulator, case

from .helpers import FAST

RUNS = (
    RunStanding("QA.tech run abc123", "RUNNING"),
    RunStanding("TestVibe run 214", "failed", "2 passed, 1 failed"),
    RunStanding("Autonoma run k2d9", None),
)


def terminal(width: int = 200) -> tuple[TerminalLines, list[str], list[str]]:
    """An observer on a terminal; what it wrote raw (the live line) and as whole lines."""
    raw: list[str] = []
    lines: list[str] = []
    return TerminalLines(lines.append, LiveLine(raw.append, width)), raw, lines


def test_a_log_gets_whole_lines_only() -> None:
    lines: list[str] = []
    observer = TerminalLines(lines.append)
    assert observer.live_interval is None
    observer(Waiting(5.0, RUNS))
    observer(StillWaiting("QA.tech run abc123", "RUNNING", 60.0))
    assert lines == ["qatech: still waiting for QA.tech run abc123: RUNNING after 1m 00s"]


def test_every_event_is_a_line_of_its_own_in_a_log() -> None:
    lines: list[str] = []
    observer = TerminalLines(lines.append)
    observer(StatusChanged("QA.tech run abc123", "COMPLETED", 2.0))
    observer(RequestFailed("QA.tech run abc123", "GET https://x/v1/run/abc123: HTTP 503", 1.0))
    observer(Interrupted("QA.tech run abc123", "RUNNING", 42.0))
    observer(Interrupted("TestVibe run 7", None, 0.5))
    observer(Warned("QA.tech run abc123", "the details of 1 of 2 cases could not be read"))
    observer(Noted("QA.tech run abc123", "rerun 1 of 1 started as QA.tech run def456"))
    assert lines == [
        "qatech: QA.tech run abc123 is COMPLETED (2.0s)",
        "qatech: GET https://x/v1/run/abc123: HTTP 503; trying again in 1.0s",
        "qatech: interrupted while waiting for QA.tech run abc123 (RUNNING, 42s)",
        "qatech: interrupted while waiting for TestVibe run 7 (no status yet, 0.5s)",
        "qatech: warning: QA.tech run abc123: the details of 1 of 2 cases could not be read",
        "qatech: QA.tech run abc123: rerun 1 of 1 started as QA.tech run def456",
    ]


def test_a_header_line_per_platform() -> None:
    assert header_line("Autonoma", ["r1", "r2"], "https://autonoma.app/api") == (
        "qatech: Autonoma runs r1, r2 from https://autonoma.app/api"
    )


def test_a_terminal_gets_a_live_line_each_interval() -> None:
    observer, raw, lines = terminal()
    assert observer.live_interval == 1.0
    observer(Waiting(65.0, RUNS))
    assert raw == [
        "\rqatech: waiting 1m 05s: QA.tech run abc123 RUNNING; TestVibe run 214 failed "
        "(2 passed, 1 failed); Autonoma run k2d9 no status yet"
    ]
    # The live line stands for the heartbeat.
    observer(StillWaiting("QA.tech run abc123", "RUNNING", 60.0))
    assert lines == []


def test_lines_that_stay_replace_the_live_line_and_a_shorter_line_erases_a_longer() -> None:
    observer, raw, lines = terminal()
    observer(Waiting(1.0, RUNS[:1]))
    observer(StatusChanged("QA.tech run abc123", "COMPLETED", 2.0))
    live = "qatech: waiting 1.0s: QA.tech run abc123 RUNNING"
    event = "qatech: QA.tech run abc123 is COMPLETED (2.0s)"
    assert raw[1] == "\r" + event.ljust(len(live)) + "\n"
    observer(Waiting(3.0, RUNS))
    observer(Waiting(4.0, RUNS[:1]))
    shorter = "qatech: waiting 4.0s: QA.tech run abc123 RUNNING"
    assert raw[3] == "\r" + shorter.ljust(len(raw[2]) - 1)
    observer(Waiting(5.0, ()))
    assert raw[4] == "\r" + " " * len(shorter) + "\r"
    # Nothing is shown: the next line is written the usual way.
    observer(StatusChanged("QA.tech run abc123", "COMPLETED", 6.0))
    assert lines == ["qatech: QA.tech run abc123 is COMPLETED (6.0s)"]


def test_the_live_line_fits_the_terminal() -> None:
    observer, raw, _ = terminal(width=40)
    observer(Waiting(1.0, RUNS))
    assert raw == ["\rqatech: waiting 1.0s: QA.tech run ab..."]
    assert len(raw[0]) - 1 == 39


def test_remote_text_cannot_steer_the_terminal() -> None:
    observer, raw, _ = terminal()
    observer(Waiting(1.0, (RunStanding("QA.tech run abc123", "RUN\x1b[2JNING"),)))
    assert "\x1b" not in raw[0]
    assert "RUN\\x1b[2JNING" in raw[0]


TTY_CONFTEST = """
import pytest

@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    # As if pytest wrote to a terminal.
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    reporter.isatty = type(reporter.isatty)(True)
"""


def test_the_plugin_prints_plain_lines_even_on_a_terminal(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # Its signs of life come between tests: a line redrawn in place would fight pytest's own.
    pytester.makeconftest(TTY_CONFTEST)
    simulator.add(SimulatedRun("abc123", cases=[case("a")]))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123")
    result.assert_outcomes(passed=1)
    assert not [line for line in result.outlines if line.startswith("qatech: waiting ")]
    assert "\r" not in result.stdout.str()
    result.stdout.fnmatch_lines(["qatech: QA.tech run abc123 is COMPLETED (*s)"])
