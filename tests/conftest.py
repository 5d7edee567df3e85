from __future__ import annotations

import os
from collections.abc import Iterator

# In-process pytester runs drop the modules an inner session imported. Re-imported, requests
# mixes two CookieJar classes, and a monkeypatch may hit a module the next run no longer uses.
# Imported here once, the plugin and its dependencies are the same objects in every run. The
# hypothesis plugin imports hypothesis at the end of each session: a second each, if dropped.
import hypothesis  # noqa: F401
import pytest

import pytest_qatech.core.waiting
import pytest_qatech.session  # noqa: F401
from pytest_qatech.core.options import CREDENTIALS, SETTINGS
from pytest_qatech.simulator import Simulator, environment

from .helpers import XDIST

#: Everything the plugin reads from the environment, and what a CI sets that it reacts to.
VARIABLES = [
    *(setting.variable for setting in SETTINGS if setting.variable),
    *(name for credential in CREDENTIALS for name in credential.variables),
    "GITHUB_ACTIONS",
    "GITHUB_STEP_SUMMARY",
]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores. Much of this suite waits rather than
    computes (xdist sessions of their own in other processes, servers that drip or hold, the
    demo's local test that sleeps); a third worker uses the time one spends waiting. On this
    project's machine (two cores) the suite took 54 s with three workers against 59 s with two,
    and four gave no more."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own platform settings must not leak into what the tests see."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _only_gets_unless_a_run_is_started(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Starting a run costs money: no request but a GET reaches any simulator a test starts,
    unless the test gives an option that starts runs (and says so with ``starts_runs``)."""
    started: list[Simulator] = []
    start = Simulator.start

    def recorded_start(simulator: Simulator) -> Simulator:
        started.append(simulator)
        return start(simulator)

    monkeypatch.setattr(Simulator, "start", recorded_start)
    yield
    if request.node.get_closest_marker("starts_runs") is None:
        sent = [f"{r.method} {r.path}" for s in started for r in s.requests if r.method != "GET"]
        assert sent == [], "no option asked to start a run"


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's own, whose sessions run in their written order: pytest-randomly is installed
    (pytester clears PYTEST_ADDOPTS when it starts, so it is set after). They run without
    hypothesis's plugin, which no session here uses and which costs each process a quarter of
    a second to import (three processes for a session with ``-n 2``). Without pytest-xdist
    installed, a test that starts a session with ``-n`` is skipped there."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly -p no:hypothesispytest")
    if not XDIST:
        run = pytester.runpytest_subprocess

        def without_xdist(
            *args: str | os.PathLike[str], timeout: float | None = None
        ) -> pytest.RunResult:
            if "-n" in args:
                pytest.skip("pytest-xdist is not installed")
            return run(*args, timeout=timeout)

        monkeypatch.setattr(pytester, "runpytest_subprocess", without_xdist)
    return pytester


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """The simulated APIs on 127.0.0.1, with every platform's environment pointing at them."""
    with Simulator() as running:
        for name, value in environment(running.url).items():
            monkeypatch.setenv(name, value)
        yield running
