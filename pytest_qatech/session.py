"""The plugin object of a session that asked for remote runs.

It is registered only then (see :mod:`pytest_qatech.plugin`). It learns each run's outcome
once: by waiting for the API in a plain or controller process, or, on an xdist worker, from
what the controller handed over, so workers never talk to the API and all collect the same.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import pytest

from pytest_qatech import github, reporting
from pytest_qatech.items import RemoteCaseItem, RemoteItem, RemoteVerdict, RunCollector
from pytest_qatech.models import RunReport, UnreadableRun, run_report_from_json
from pytest_qatech.settings import Settings
from pytest_qatech.waiting import WaitObserver

WORKERINPUT_KEY = "qatech_runs"
SETTINGS_KEY = pytest.StashKey[Settings]()


class RemoteRunsPlugin:
    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self._config = config
        self._settings = settings
        self._titles = settings.titles
        self._reports: list[RunReport] | None = None
        self._problems: dict[str, github.Problem] = {}
        self._reporting = not hasattr(config, "workerinput")

    def __repr__(self) -> str:
        runs = {source.provider.name: source.run_ids for source in self._settings.sources}
        return f"RemoteRunsPlugin(runs={runs!r})"

    @property
    def fetched(self) -> list[RunReport]:
        """The runs learned so far, without waiting: empty if the wait never finished."""
        return self._reports or []

    def reports(self) -> list[RunReport]:
        """The runs, waiting for them first if this process has not yet."""
        if self._reports is None:
            workerinput: dict[str, Any] | None = getattr(self._config, "workerinput", None)
            if workerinput is not None:
                self._reports = _decode(workerinput[WORKERINPUT_KEY])
            else:
                self._reports = self._wait()
                for report in self._reports:
                    self._config.hook.pytest_qatech_run_finished(config=self._config, run=report)
        return self._reports

    def encoded_reports(self) -> str:
        return json.dumps([report.to_json() for report in self.reports()])

    def _wait(self) -> list[RunReport]:
        from pytest_qatech.waiting import wait_for_sources

        return wait_for_sources(
            self._settings.sources,
            poll_interval=self._settings.poll_interval,
            timeout=self._settings.timeout,
            observer=self._observer(),
        )

    def _observer(self) -> WaitObserver:
        terminal = self._config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None or self._config.get_verbosity() < -1:
            return reporting.SilentObserver()

        def write_line(line: str) -> None:
            # pytest leaves "collecting ... " open on the line.
            if terminal._tw.width_of_current_line:
                terminal._tw.line()
            terminal.write_line(line)

        live = None
        if terminal.isatty:
            live = reporting.LiveLine(
                lambda text: terminal._tw.write(text, flush=True), terminal._tw.fullwidth
            )
        return reporting.TerminalObserver(write_line, live)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        if isinstance(collector, pytest.Session) and report.passed:
            report.result.extend(RunCollector.for_reports(collector, self.reports()))
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        # pytest asks the item for a repr only for the call phase; a remote error is raised in
        # setup (so it is an error, not a failure) and deserves the same readable text.
        if (
            isinstance(item, RemoteItem)
            and call.excinfo is not None
            and isinstance(call.excinfo.value, RemoteVerdict)
            and report.failed
        ):
            report.longrepr = item.verdict_repr(call.excinfo.value)
        if isinstance(item, RemoteCaseItem) and item.case.duration is not None:
            # JUnit's time and --durations show how long the case took on the platform; the
            # moment spent here reporting it is not part of the test.
            report.duration = item.case.duration if report.when == item.verdict_phase else 0.0
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not (report.failed and report.nodeid.split("::", 1)[0] in self._titles):
            return
        crash = getattr(report.longrepr, "reprcrash", None)
        headline = crash.message if crash is not None else str(report.longrepr)
        kind = "failed" if report.when == "call" else "error"
        properties = dict(report.user_properties)
        url = properties.get("case_url") or properties.get("run_url")
        problem = github.Problem(report.nodeid, kind, headline, str(url) if url else None)
        self._problems.setdefault(report.nodeid, problem)

    def problems(self) -> list[github.Problem]:
        unreadable = [
            github.Problem(
                f"{report.provider}::{report.run_id}", "error", report.message, report.url
            )
            for report in self.fetched
            if isinstance(report, UnreadableRun)
        ]
        return unreadable + list(self._problems.values())

    def pytest_sessionfinish(self) -> None:
        summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
        if self._reporting and summary_path and self.fetched:
            markdown = github.step_summary(self._titles, self.fetched, self.problems())
            with open(summary_path, "a", encoding="utf-8") as summary:
                summary.write(markdown)

    def pytest_report_header(self) -> list[str]:
        lines = []
        for source in self._settings.sources:
            provider = source.provider
            lines.append(reporting.header_line(provider.title, source.run_ids, source.api_url))
            links = (provider.run_url(run_id) for run_id in source.run_ids)
            lines += (f"{reporting.PREFIX} results at {url}" for url in links if url)
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.fetched or self._config.get_verbosity() < -1:
            return
        terminalreporter.section("remote runs")
        for line in reporting.summary_lines(self._titles, self.fetched):
            terminalreporter.line(line)
        if github.is_github_actions(os.environ):
            for line in github.error_annotations(self.problems()):
                terminalreporter.line(line)


class XdistControllerPlugin:
    """Hands the runs to each xdist worker; registered only where xdist is loaded."""

    def __init__(self, runs: RemoteRunsPlugin) -> None:
        self._runs = runs
        self._distributed = False

    def pytest_configure_node(self, node: Any) -> None:
        self._distributed = True
        node.workerinput[WORKERINPUT_KEY] = self._runs.encoded_reports()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Without xdist an unreadable run stops the session with exit code 2; xdist counts
        # collection errors as failures (1). A CI must see the same code either way.
        unreadable = any(isinstance(run, UnreadableRun) for run in self._runs.fetched)
        if self._distributed and unreadable and session.exitstatus in (0, 1):
            session.exitstatus = pytest.ExitCode.INTERRUPTED


def _decode(encoded: str) -> list[RunReport]:
    return [run_report_from_json(data) for data in json.loads(encoded)]
