"""What a session reports of its remote items: each item run where it reports, its test report
shaped once, in one wrapper; and the session's exit status."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence

import pytest

from pytest_qatech.core import reruns
from pytest_qatech.core.lines import PREFIX
from pytest_qatech.core.models import UnreadableRun
from pytest_qatech.core.rendering import Rendered
from pytest_qatech.session.collection import RemoteSelection, Workers
from pytest_qatech.session.items import (
    RERUN,
    RemoteCaseItem,
    RemoteItem,
    RunProblemItem,
    trace_style,
)
from pytest_qatech.session.live import LiveRuns

#: Adds to a remote item's report once it is shaped (the media saved for the case).
Addition = Callable[[RemoteItem, pytest.TestReport], None]


def flaky_pass(report: pytest.TestReport) -> bool:
    """Whether ``report`` is the pass of a remote case that failed before, on a rerun."""
    return bool(getattr(report, "qatech_flaky", False)) and report.passed and report.when == "call"


class RemoteReports:
    """Runs remote items where they report: waits for a case's verdict before its item starts,
    and shapes their test reports (the verdict's text, location and remote duration, and what
    ``additions`` add: the media saved). The one wrapper of ``pytest_runtest_makereport``:
    what it adds to a report, it adds in the order given, not by hook priority."""

    def pytest_report_teststatus(
        self, report: pytest.TestReport
    ) -> tuple[str, str, tuple[str, Mapping[str, bool]]] | None:
        if getattr(report, "qatech_rerun", False):
            return RERUN, "R", ("RERUN", {"yellow": True})
        if flaky_pass(report):
            return "passed", ".", ("PASSED (flaky)", {"green": True})
        return None

    def __init__(self, additions: Sequence[Addition] = ()) -> None:
        self._running: RemoteCaseItem | None = None
        self._additions = tuple(additions)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        # Before the item's progress mark: signs of life printed meanwhile do not split it.
        self._running = item if isinstance(item, RemoteCaseItem) else None
        if isinstance(item, RemoteCaseItem) and item.case is None:
            item.learn_verdict()

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logstart(self, nodeid: str) -> None:
        # After the terminal has written where the item's marks go, and outside any capture
        # (the terminal writes to the captured stdout during a test phase).
        item = self._running
        if item is not None and item.nodeid == nodeid and item.case is not None:
            for report in item.rerun_reports():
                item.ihook.pytest_runtest_logreport(report=report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_timeout_set_timer(self, item: pytest.Item) -> bool | None:
        """pytest-timeout's ``--timeout`` is for local code: a remote item waits within the
        wait's own bound (``--qatech-timeout``)."""
        return True if isinstance(item, RemoteItem) else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_timeout_cancel_timer(self, item: pytest.Item) -> bool | None:
        return True if isinstance(item, RemoteItem) else None

    # Innermost of the wrappers: every other plugin's (Allure's) sees the report as shaped here.
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if not isinstance(item, RemoteItem):
            return report
        if report.skipped and isinstance(report.longrepr, tuple):
            # Named by its node id, not by this file's line: "SKIPPED [1] qatech::abc::x: why".
            # The keyword is how pytest knows a skip in setup, whose line it leaves out.
            report.longrepr = (item.nodeid, 1, report.longrepr[2])
            report.keywords = {**report.keywords, "skip": 1}
        if isinstance(item, RemoteCaseItem):
            if item.case is not None and item.case.flaky:
                report.qatech_flaky = True  # type: ignore[attr-defined]  # shown with -v
            if item.case is not None and item.case.attempts and report.when == item.verdict_phase:
                from pytest_qatech.core import surefire

                assert item.facts is not None
                rendered = item.rendered or Rendered(item.case.headline)
                style = trace_style(item.config)
                # What the JUnit report writes of every attempt (RerunJUnit).
                report.qatech_reruns = surefire.rerun_elements(  # type: ignore[attr-defined]
                    item.facts, item.case, rendered, style
                )
            # JUnit's time and --durations show how long the case took on the platform, never
            # how long it was waited for.
            duration = item.case.duration if item.case is not None else None
            report.duration = (duration or 0.0) if report.when == item.verdict_phase else 0.0
        if report.failed:
            # What a report reader (GitHub's annotations) needs of the item, on the report.
            report.qatech_link = item.link  # type: ignore[attr-defined]
            if isinstance(item, RunProblemItem):
                report.qatech_run_item = item.run_key  # type: ignore[attr-defined]
        for add in self._additions:
            add(item, report)
        return report


class RerunJUnit:
    """A rerun case's attempts in pytest's JUnit report, as Maven Surefire writes them
    (:mod:`~pytest_qatech.core.surefire`). Registered with ``--qatech-reruns``, in the process
    that writes the report (the only one, or the xdist controller, which runs remote items)."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        elements = getattr(report, "qatech_reruns", None)
        if elements is None:
            return
        from _pytest.junitxml import xml_key

        junit = self._config.stash.get(xml_key, None)
        if junit is not None:
            from pytest_qatech.core import surefire

            reporter = junit.node_reporter(report)
            reporter.nodes[:] = surefire.written(reporter.nodes, elements)


class ExitStatus:
    """A run that could not be read makes the session exit 2, as any collection error would
    without xdist or --continue-on-collection-errors (which count it as a failure, 1): a CI must
    see the same code whichever was used. Registered in the process that reports."""

    def __init__(
        self, live: LiveRuns, selection: RemoteSelection | None, workers: Workers | None
    ) -> None:
        self._live = live
        self._selection = selection
        self._workers = workers
        #: The remote items that failed, then passed on a rerun, by node id.
        self._flaky: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if flaky_pass(report):
            self._flaky.append(report.nodeid)

    def _too_flaky(self) -> str | None:
        return reruns.too_flaky(self._flaky, self._live.settings.max_flaky)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self) -> None:
        if self._selection is not None:
            self._selection.check_at_collection(self._live.first(), self._workers)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        unreadable = any(isinstance(run, UnreadableRun) for run in self._live.known)
        if unreadable and session.exitstatus in (0, 1):
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        if (self._live.hook_errors or self._too_flaky()) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        # As pytest does for a local node id that names nothing: a usage error, never a green
        # session that ran less than it was asked to.
        missing = self._selection is not None and self._selection.not_found()
        if missing and session.exitstatus in (0, 1, 5) and not session.config.option.collectonly:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        too_flaky = self._too_flaky()
        if too_flaky is not None:
            terminalreporter.write_line(f"{PREFIX} {too_flaky}", red=True)
        if self._selection is None or self._selection.refused:
            return  # pytest says the usage error itself
        for wanted in self._selection.not_found():
            terminalreporter.write_line(f"ERROR: not found: {wanted}", red=True)
