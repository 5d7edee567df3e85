"""What the session prints of its remote runs: the header, signs of life while it waits, and a
summary of each run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_qatech.core import progress
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.rendering import summary_lines
from pytest_qatech.session.state import RemoteRuns

if TYPE_CHECKING:
    from pytest_qatech.core.waiting import WaitObserver


def wait_observer(config: pytest.Config) -> WaitObserver:
    """Plain lines in a CI log; on a terminal also a live line; nothing with ``-qq``."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None or config.get_verbosity() < -1:
        return progress.SilentObserver()
    writer = config.get_terminal_writer()

    def write_line(line: str) -> None:
        # pytest leaves "collecting ... " open on the line.
        if writer.width_of_current_line:
            writer.line()
        terminal.write_line(line)

    live = None
    if terminal.isatty:
        live = progress.LiveLine(lambda text: writer.write(text, flush=True), writer.fullwidth)
    return progress.TerminalObserver(write_line, live)


class TerminalReporting:
    def __init__(self, settings: Settings, runs: RemoteRuns) -> None:
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
