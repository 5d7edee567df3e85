"""``--qatech-timeout`` bounds the session to the end of its process: against a server that drips
its answers a byte at a time, the process ends about when the same session against a run that
simply never ends does (measured side by side, in the same test), and soon after its closing
line: stopping cuts a request under way, it does not wait for it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_qatech.simulator import DEFAULT_TOKEN, Answer, SimulatedRun, Simulator

from .helpers import BOUND

CLOSING = re.compile(r"^=+ .* in [\d.]+s (\(.*\) )?=+$")


@dataclass(frozen=True)
class Ended:
    #: Seconds from the session's header (its wait has begun: Python's and pytest's start-up,
    #: which a loaded machine makes vary by seconds, is left out) to the closing line, and to
    #: the process's end.
    closing: float
    end: float
    output: str


def session(path: Path, url: str, run_id: str) -> Ended:
    env = {**os.environ, "QATECH_API_URL": url, "QATECH_API_TOKEN": DEFAULT_TOKEN}
    command = [
        sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
        "--qatech-run", run_id, "--qatech-timeout", "2", "--qatech-poll-interval", "0.1",
    ]  # fmt: skip
    began = None
    lines, closing = [], None
    with subprocess.Popen(
        command, cwd=path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:  # bounded: the session's own timeout ends it
            lines.append(line)
            if began is None and line.startswith("qatech: QA.tech runs "):
                began = time.monotonic()
            if began is not None and CLOSING.match(line.strip()):
                closing = time.monotonic() - began
        process.wait(BOUND)
    output = "".join(lines)
    assert began is not None, output
    end = time.monotonic() - began
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert closing is not None, output
    return Ended(closing, end, output)


def test_a_dripping_server_ends_the_process_about_when_a_plain_timeout_does(
    pytester: pytest.Pytester,
) -> None:
    # A byte every 0.3 s: no answer ever completes before the timeout.
    drip = {index: Answer(200, {"x": 1}, drip=0.3) for index in range(100)}
    runs = [SimulatedRun("dripping", answers=drip), SimulatedRun("forever", statuses=("RUNNING",))]
    with Simulator(runs) as simulator:
        plain = session(pytester.path, simulator.url, "forever")
        dripped = session(pytester.path, simulator.url, "dripping")
    assert "did not finish in time" in dripped.output
    # What the drip adds to the process's end over a plain timeout, and after its last line.
    assert dripped.end - plain.end <= 1.0, (dripped, plain)
    assert dripped.end - dripped.closing <= 0.5, dripped
