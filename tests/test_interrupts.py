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


def interrupted(path: Path, args: list[str], env: dict[str, str], marker: str, twice: bool) -> Run:
    """Start pytest in ``path``, wait until it prints ``marker``, send Ctrl-C (twice: to the
    process, then to its group), and give the exit code, the seconds from the signal to the
    exit, and what it printed."""
    session = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args],
        cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
            plain = interrupted(pytester.path, [], plain_env, "collected 1 item", twice)
            ours = interrupted(pytester.path, ours_args, env, "qatech: QA.tech runs", twice)
            # pytest itself, twice interrupted, sometimes ends in a traceback (exit 130); the
            # plugin's session never does.
            assert ours.code == pytest.ExitCode.INTERRUPTED, ours.output
            assert "Traceback" not in ours.output, ours.output
            assert "qatech: interrupted while waiting for QA.tech run abc123" in ours.output
            # As soon as a plain session, give or take a second.
            assert ours.seconds <= plain.seconds + 1.0, (ours.seconds, plain.seconds)
