"""Ctrl-C, as real signals to a real session: once, and twice as ``timeout -s INT`` sends it (to
the process, then to its group), over repeated tries. The session ends as pytest's own does,
exit 2, with no Python traceback, and about as soon as a plain pytest session interrupted the
same way, measured side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_qatech.simulator import SimulatedRun, Simulator, environment

from .helpers import BOUND, HeldServer

TRIES = 3


@dataclass(frozen=True)
class Run:
    code: int
    seconds: float
    output: str


#: A local test that says when it has started, then sleeps: what a plain session waits in.
SLEEPING_TEST = """
import time

def test_sleeps():
    time.sleep(60)
"""


PYTEST = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider"]


def interrupted(
    path: Path, command: list[str], env: dict[str, str], marker: str, twice: bool
) -> Run:
    """Start ``command`` in ``path``, wait until it prints ``marker``, send Ctrl-C (twice: to
    the process, then to its group), and give the exit code, the seconds from the signal to
    the exit, and what it printed."""
    session = subprocess.Popen(
        command, cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert session.stdout is not None
        before = []
        for line in session.stdout:  # bounded: the session ends by itself within BOUND
            before.append(line)
            if marker in line:
                break
        sent = time.monotonic()
        session.send_signal(signal.SIGINT)
        if twice:
            os.killpg(session.pid, signal.SIGINT)
        output, _ = session.communicate(timeout=BOUND)
        return Run(session.returncode, time.monotonic() - sent, "".join(before) + output)
    finally:
        if session.poll() is None:
            session.kill()
            session.wait(BOUND)


@pytest.mark.parametrize("twice", [False, True], ids=["once", "twice"])
def test_ctrl_c_while_collection_waits_ends_the_session_as_pytest_does(
    pytester: pytest.Pytester, twice: bool
) -> None:
    pytester.makepyfile(test_sleeps=SLEEPING_TEST)
    plain_env = {k: v for k, v in os.environ.items() if not k.startswith("QATECH_")}
    with HeldServer() as held:  # never answers: collection waits for the run to be listed
        env = {**plain_env, "QATECH_API_TOKEN": "t0ken", "QATECH_API_URL": held.url}
        # A bound of its own for the session, should it never be interrupted.
        ours_args = ["--qatech-run", "abc123", "--qatech-timeout", str(BOUND)]
        for _ in range(TRIES):
            # The plain session is about to sleep in its test; ours, once its header names the
            # run, collects, and waits up to 5 s for the run's cases to be listed.
            plain = interrupted(pytester.path, PYTEST, plain_env, "collected 1 item", twice)
            ours = interrupted(
                pytester.path, [*PYTEST, *ours_args], env, "qatech: QA.tech runs", twice
            )
            # pytest itself, twice interrupted, sometimes ends in a traceback (exit 130); the
            # plugin's session never does.
            assert ours.code == pytest.ExitCode.INTERRUPTED, ours.output
            assert "Traceback" not in ours.output, ours.output
            assert "qatech: interrupted while waiting for QA.tech run abc123" in ours.output
            # As soon as a plain session, give or take a second.
            assert ours.seconds <= plain.seconds + 1.0, (ours.seconds, plain.seconds)


@pytest.mark.parametrize("twice", [False, True], ids=["once", "twice"])
def test_ctrl_c_ends_qatech_junit_s_wait_as_soon_as_a_plain_process(
    tmp_path: Path, twice: bool
) -> None:
    # A run that never ends, polled every 30 s: the wait sleeps between two polls.
    with Simulator([SimulatedRun("forever", statuses=("RUNNING",))]) as simulator:
        env = {**os.environ, **environment(simulator.url)}
        command = [sys.executable, "-m", "pytest_qatech.cli", "forever", "-o", "r.xml",
                   "--qatech-poll-interval", "30", "--qatech-timeout", str(BOUND)]  # fmt: skip
        sleeper = [sys.executable, "-c", "print('ready', flush=True); import time; time.sleep(60)"]
        for _ in range(TRIES):
            plain = interrupted(tmp_path, sleeper, env, "ready", twice)
            # In the wait (its first status said), as before it (its header said).
            waiting = interrupted(tmp_path, command, env, "is RUNNING", twice)
            ours = interrupted(tmp_path, command, env, "qatech-junit: QA.tech runs", twice)
            for run in (waiting, ours):
                assert run.code == 2, run.output  # pytest's interrupted, as the table says
                assert "Traceback" not in run.output, run.output
                assert run.seconds <= plain.seconds + 1.0, (run.seconds, plain.seconds)
            assert "interrupted while waiting for QA.tech run forever" in waiting.output


class _NoLine:
    """A traceback entry as Python makes one for an instruction without a line number."""

    tb_lineno = None
    tb_frame = sys._getframe()
    tb_next = None


def test_ctrl_c_on_an_instruction_without_a_line_number_is_reported_as_any_other(
    pytester: pytest.Pytester,
) -> None:
    from _pytest._code.code import Traceback, TracebackEntry

    from pytest_qatech.core.platforms import Settings
    from pytest_qatech.session.live import LiveRuns

    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        excinfo = pytest.ExceptionInfo.from_current()
    excinfo.traceback = Traceback([*excinfo.traceback, TracebackEntry(_NoLine())])  # type: ignore[arg-type]
    with pytest.raises(TypeError):  # pytest's own report of it, as is
        excinfo.getrepr(funcargs=True)
    # Before the session began: no wait to say anything of.
    live = LiveRuns(pytester.parseconfig(), Settings(sources=(), poll_interval=1, timeout=1))
    live.pytest_keyboard_interrupt(excinfo)
    assert str(excinfo.getrepr(funcargs=True)).endswith("KeyboardInterrupt")
