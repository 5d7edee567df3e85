"""What the session prints of its remote runs besides signs of life: the header, what collection
could not list yet, and a summary of each run."""

from __future__ import annotations

import pytest

from pytest_qatech.core import progress
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.rendering import summary_lines
from pytest_qatech.core.settings import run_label
from pytest_qatech.session.live import LiveRuns


class TerminalReporting:
    def __init__(self, settings: Settings, runs: LiveRuns) -> None:
        self._settings = settings
        self._runs = runs

    def pytest_report_header(self) -> list[str]:
        lines = []
        for source in self._settings.sources:
            provider = source.provider
            lines.append(progress.header_line(provider.title, source.run_ids, source.api_url))
            links = (provider.run_url(run_id) for run_id in source.run_ids)
            lines += (f"{progress.PREFIX} results at {url}" for url in links if url)
        return lines

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, config: pytest.Config
    ) -> None:
        if not self._runs.known or config.get_verbosity() < -1:
            return
        terminalreporter.section("remote runs")
        for line in summary_lines(self._settings.titles, self._runs.known):
            terminalreporter.line(line)

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        if not config.option.collectonly:
            return []
        lines = []
        for run in self._runs.first():
            if run.report is None:
                label = run_label(self._settings.titles[run.provider], run.run_id)
                listed = len(run.cases or ())
                status = run.status or "without a status yet"
                lines.append(
                    f"{progress.PREFIX} {label} is {status}: {listed} of its cases listed so far; "
                    "more may come"
                )
        return lines
