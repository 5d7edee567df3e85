"""Waiting for the remote runs, and a collector per run beside the session's own."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from pytest_qatech.core.models import RunReport, UnreadableRun
from pytest_qatech.core.naming import groups
from pytest_qatech.core.platforms import Settings
from pytest_qatech.session.items import RunCollector
from pytest_qatech.session.state import RemoteRuns


def wait(config: pytest.Config, settings: Settings) -> tuple[RunReport, ...]:
    """Wait for the runs, showing signs of life on the terminal, then tell the project's hooks."""
    from pytest_qatech.core.waiting import wait_for_sources
    from pytest_qatech.session.terminal import wait_observer

    reports = tuple(wait_for_sources(settings, observer=wait_observer(config)))
    for report in reports:
        config.hook.pytest_qatech_run_finished(config=config, run=report)
    return reports


class RemoteCollection:
    """Adds a collector per remote run, or per group of runs, to what the session collects."""

    def __init__(self, runs: RemoteRuns) -> None:
        self._runs = runs

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        if isinstance(collector, pytest.Session) and report.passed:
            report.result.extend(RunCollector.for_groups(collector, groups(self._runs.reports())))
        return report


class ExitStatus:
    """A run that could not be read makes the session exit 2, as any collection error would
    without xdist or --continue-on-collection-errors (which count it as a failure, 1): a CI must
    see the same code whichever was used. Registered in the process that reports."""

    def __init__(self, runs: RemoteRuns) -> None:
        self._runs = runs

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        unreadable = any(isinstance(run, UnreadableRun) for run in self._runs.known)
        if unreadable and session.exitstatus in (0, 1):
            session.exitstatus = pytest.ExitCode.INTERRUPTED
