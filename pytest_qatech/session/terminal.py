"""What the session prints of its remote runs besides signs of life: the header, what collection
could not list yet, and a summary of each run."""

from __future__ import annotations

import itertools

import pytest

from pytest_qatech.core.lines import PREFIX, header_line
from pytest_qatech.core.options import ARTIFACTS, QATECH_PLAN, QATECH_START, run_label, title_of
from pytest_qatech.core.platforms import Settings
from pytest_qatech.core.rendering import skipped_reason, standing_lines, summary_lines
from pytest_qatech.core.starting import started_lines
from pytest_qatech.session.live import LiveRuns
from pytest_qatech.session.standing import CaseStanding


class TerminalReporting:
    def __init__(self, runs: LiveRuns, standing: CaseStanding) -> None:
        self._runs = runs
        self._standing = standing

    @property
    def _settings(self) -> Settings:
        # Read when asked: starting runs adds them to the settings.
        return self._runs.settings

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        lines = started_lines(self._runs.started, PREFIX)
        lines += _spaced_path_options(config)
        if self._settings.start is not None and config.option.collectonly:
            lines.append(
                f"{PREFIX} no run is started with --collect-only "
                f"({QATECH_PLAN.flag}, {QATECH_START.flag})"
            )
        for skipped in self._settings.skipped:
            lines.append(f"{PREFIX} {title_of(skipped.provider)}: {skipped_reason(skipped)}")
        started = {run.run_id for run in self._runs.started}
        for source in self._settings.sources:
            if not source.run_ids:
                continue
            provider = source.provider
            lines.append(header_line(provider.title, source.run_ids, source.api_url))
            links = (provider.run_url(run_id) for run_id in source.run_ids if run_id not in started)
            lines += (f"{PREFIX} results at {url}" for url in links if url)
        return lines

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, config: pytest.Config
    ) -> None:
        for error in self._runs.hook_errors:
            terminalreporter.section(f"{error.hook} raised, for {error.about}", sep="_", red=True)
            terminalreporter.line(error.traceback.rstrip("\n"))
        let_go = self._runs.let_go_runs()
        standing = standing_lines(self._standing.standings())
        if not (self._runs.known or let_go or standing) or config.get_verbosity() < -1:
            return
        terminalreporter.section("remote runs")
        for line in summary_lines(self._runs.known, errors_shown=config.option.tbstyle != "no"):
            terminalreporter.line(line)
        for line in standing:
            terminalreporter.line(line, yellow=line.startswith("warning:"))
        for run in let_go:
            label = run_label(title_of(run.provider), run.run_id)
            listed = len(run.cases or ())
            terminalreporter.line(
                f"{label}: not waited for: none of its {listed} "
                f"{'case was' if listed == 1 else 'cases were'} selected (last status "
                f"{run.status or 'unknown'})"
            )

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        if not config.option.collectonly:
            return []
        lines = []
        for run in self._runs.first():
            if run.report is None and run not in self._runs.previews:
                label = run_label(title_of(run.provider), run.run_id)
                listed = len(run.cases or ())
                status = run.status or "without a status yet"
                if run.finished:
                    lines.append(
                        f"{PREFIX} {label} has ended ({status}): its results are being "
                        f"read; {listed} of its cases listed"
                    )
                    continue
                lines.append(
                    f"{PREFIX} {label} is {status}: {listed} of its cases listed so far; "
                    "more may come"
                )
        return lines


def _spaced_path_options(config: pytest.Config) -> list[str]:
    """A warning for ``--qatech-artifacts DIR`` with an existing DIR outside the folder pytest
    was started in: pytest chooses its rootdir (and ini file) before it knows this plugin's
    options, and takes such a DIR for a test path, which moves the rootdir up."""
    here = config.invocation_params.dir.resolve()
    lines = []
    for flag, value in itertools.pairwise(config.invocation_params.args):
        path = (here / value).resolve()
        # pytest looks only at paths that exist.
        if flag == ARTIFACTS.flag and path.exists() and not path.is_relative_to(here):
            lines.append(
                f"{PREFIX} warning: write {flag}={value}: with a space, pytest took "
                f"{value} for a test path when it chose its rootdir ({config.rootpath})"
            )
    return lines
