"""GitHub Actions: the job summary (``GITHUB_STEP_SUMMARY``) and ``::error`` annotations, written
once by the process that reports, from the remote items' test reports (remote items report in
that process, with or without xdist)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest

from pytest_qatech.core import github
from pytest_qatech.core.actions import is_github_actions
from pytest_qatech.core.models import UnreadableRun
from pytest_qatech.core.naming import groups
from pytest_qatech.core.options import PLATFORMS
from pytest_qatech.session.live import LiveRuns
from pytest_qatech.session.standing import CaseStanding

SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
#: The name pytest-github-actions-annotate-failures registers its error annotations under.
OTHER_ANNOTATIONS = "annotate_errors"


def wanted(environ: Mapping[str, str]) -> bool:
    return bool(environ.get(SUMMARY_VARIABLE)) or is_github_actions(environ)


class GitHubReporting:
    def __init__(self, runs: LiveRuns, environ: Mapping[str, str], standing: CaseStanding) -> None:
        self._runs = runs
        self._environ = environ
        self._standing = standing
        self._problems: dict[str, github.Problem] = {}
        #: The runs whose problem was reported as an item of its own, ``(run)``.
        self._run_items: set[tuple[str, str]] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A remote item's failed report carries its link (:class:`~.reports.RemoteReports`).
        if not report.failed or not hasattr(report, "qatech_link"):
            return
        crash = getattr(report.longrepr, "reprcrash", None)
        headline = crash.message if crash is not None else str(report.longrepr)
        kind = "failed" if report.when == "call" else "error"
        problem = github.Problem(report.nodeid, kind, headline, report.qatech_link)
        self._problems.setdefault(report.nodeid, problem)
        run_item = getattr(report, "qatech_run_item", None)
        if run_item is not None:
            self._run_items.add(run_item)

    def problems(self) -> list[github.Problem]:
        # A run that could not be read is the collection error of its collector.
        collectors = {
            (run.provider, run.run_id): group.nodeid
            for group in groups(self._runs.first())
            for run in group.runs
        }
        unreadable = [
            github.Problem(
                collectors.get((report.provider, report.run_id), report.provider),
                "error",
                report.message,
                report.url,
            )
            for report in self._runs.known
            if isinstance(report, UnreadableRun)
            # One that became unreadable late is its (run) item's problem, said once.
            and (report.provider, report.run_id) not in self._run_items
        ]
        return unreadable + list(self._problems.values())

    def pytest_sessionfinish(self) -> None:
        summary_path = self._environ.get(SUMMARY_VARIABLE)
        if summary_path and self._runs.known:
            # The step's earlier writers share GitHub's limit.
            written = os.path.getsize(summary_path) if os.path.exists(summary_path) else 0
            limit = github.SUMMARY_BYTES - written
            standings = self._standing.standings()
            markdown = github.step_summary(self._runs.known, self.problems(), limit, standings)
            with open(summary_path, "a", encoding="utf-8") as summary:
                summary.write(markdown)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, config: pytest.Config
    ) -> None:
        if config.get_verbosity() < -1 or not is_github_actions(self._environ):
            return
        for line in github.skipped_notices(self._runs.settings.skipped):
            terminalreporter.line(line)
        if self._runs.known:
            for line in github.error_annotations(self.problems()):
                terminalreporter.line(line)


class LocalAnnotations:
    """pytest-github-actions-annotate-failures' error annotations, for local tests only.

    That plugin would annotate a remote failure at a file named after its platform, which does
    not exist, beside this plugin's own annotation (its node id as title, the case's page): a
    remote failure gets one annotation, this plugin's. Registered in that plugin's place.
    """

    def __init__(self, annotations: object, platforms: frozenset[str]) -> None:
        self._annotations = annotations
        self._platforms = platforms

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid.split("::", 1)[0] not in self._platforms:
            self._annotations.pytest_runtest_logreport(report)  # type: ignore[attr-defined]


def only_local_annotations(pluginmanager: pytest.PytestPluginManager) -> LocalAnnotations | None:
    """Take pytest-github-actions-annotate-failures' error annotations off remote items, if
    that plugin is active; what to register under its name instead."""
    annotations = pluginmanager.get_plugin(OTHER_ANNOTATIONS)
    if annotations is None or not hasattr(annotations, "pytest_runtest_logreport"):
        return None
    pluginmanager.unregister(annotations)
    return LocalAnnotations(annotations, frozenset(platform.name for platform in PLATFORMS))
