"""pytest-xdist workers need nothing of their own: not the controller's environment, not its
credentials, not even a readable handoff to fail cleanly.

Workers on another host are execnet socket servers started here with an empty environment, as
on a machine that has the plugin installed and nothing else (``--tx socket=...``; ``--tx ssh=...``
reaches a host the same way)."""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import execnet.script.socketserver
import pytest

from pytest_qatech.simulator import Simulator

from .helpers import FAST, LOCAL_TEST, XDIST, mixed_run

pytestmark = pytest.mark.skipif(not XDIST, reason="pytest-xdist is not installed")

#: How long a session with remote workers may take before the test calls it a hang.
SESSION_SECONDS = 60


def socket_server(empty: Path) -> Iterator[str]:
    """An execnet socket server on 127.0.0.1 in a clean environment (no variable but PATH, and
    a working directory of its own); yields its ``host:port``."""
    server = subprocess.Popen(
        [sys.executable, "-u", execnet.script.socketserver.__file__, "127.0.0.1:0"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        cwd=empty,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert server.stdout is not None
        with server.stdout:
            for line in server.stdout:
                lines.put(line)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        while True:
            # Bounded: a server that never listens fails the test instead of hanging it.
            line = lines.get(timeout=20)
            found = re.search(r"Entering Accept loop \('127\.0\.0\.1', (\d+)\)", line)
            if found:
                yield f"127.0.0.1:{found.group(1)}"
                return
    finally:
        server.kill()
        server.wait(timeout=10)
        reader.join(timeout=10)
        assert not reader.is_alive()
        # What the worker host said, for a failing test's report.
        print("".join(lines.get() for _ in range(lines.qsize())))


@pytest.fixture
def remote_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """Starts socket servers on demand; each call gives one more ``host:port``."""
    servers: list[Iterator[str]] = []

    def another() -> str:
        server = socket_server(tmp_path_factory.mktemp("host"))
        servers.append(server)
        return next(server)

    yield another
    for server in servers:
        for _ in server:  # runs the generator's cleanup
            pass


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_on_other_hosts_need_nothing_from_their_environment(
    simulator: Simulator,
    pytester: pytest.Pytester,
    remote_hosts: Callable[[], str],
    workers: int,
) -> None:
    simulator.add(mixed_run())
    pytester.makepyfile(test_local=LOCAL_TEST, test_other=LOCAL_TEST.replace("local", "other"))
    specs = []
    for number in range(workers):
        # Each host has its own copy of the project, as a machine would.
        copy = pytester.path.parent / f"{pytester.path.name}-host{number}"
        shutil.copytree(pytester.path, copy)
        specs += ["--tx", f"socket={remote_hosts()}//chdir={copy}"]
    # pytest-randomly is off through PYTEST_ADDOPTS here, which a host without that environment
    # does not see: the command line says it for every host.
    result = pytester.runpytest_subprocess(
        *FAST, "--qatech-run", "abc123", "-p", "no:randomly", "-d", *specs, "--junitxml=report.xml",
        timeout=SESSION_SECONDS,
    )  # fmt: skip
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["FAILED qatech::Checkout - Could not find login button"])
    assert "crashed worker" not in result.stdout.str()
    assert pytester.path.joinpath("report.xml").read_text().count("<testcase") == 5


def with_worker_conftest(
    simulator: Simulator, pytester: pytest.Pytester, change: str
) -> pytest.RunResult:
    """A session of two workers whose conftest makes ``change`` to each worker's input (as
    ``workerinput``) before the plugin reads it."""
    pytester.makeconftest(
        "import pytest\n\n\n"
        "@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_configure(config):\n"
        "    if hasattr(config, 'workerinput'):\n"
        f"        workerinput = config.workerinput\n        {change}\n"
    )
    pytester.makepyfile(test_local=LOCAL_TEST)
    simulator.add(mixed_run())
    return pytester.runpytest_subprocess(
        *FAST, "--qatech-run", "abc123", "-n", "2", timeout=SESSION_SECONDS
    )


def test_a_worker_that_cannot_read_the_handoff_ends_the_session(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # As another version of the plugin on a worker's host would: the session ends with a
    # collection error that says what to do, instead of xdist replacing crashed workers for ever.
    result = with_worker_conftest(
        simulator, pytester, "workerinput['qatech_runs'] = '{\"not\": \"a handoff\"'"
    )
    # xdist's exit code for a worker's collection error.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*could not read the runs its controller handed over*same pytest-qatech on every*",
            "*1 error*",
        ]
    )
    assert "crashed worker" not in result.stdout.str()


def test_a_worker_without_the_plugin_is_a_usage_error_not_a_green_session(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # A worker that never learns of the runs selects no remote item: the controller would run
    # none of them, and the session would pass without its remote cases.
    result = with_worker_conftest(simulator, pytester, "del workerinput['qatech_runs']")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*workers did not say which remote items they selected*"])
