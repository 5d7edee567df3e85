"""The pytest side of a session that asked for remote runs, loaded only then.

Small plugin objects with one job each share what this process knows of the runs (in the
process that talks to the APIs, :class:`~.live.LiveRuns`; on an xdist worker, the controller's
:class:`~.xdist.Handoff`): collection, order and the items run after the main loop
(:mod:`.collection`), the remote items' nodes (:mod:`.items`) and reports and the exit
status (:mod:`.reports`), terminal reporting
(:mod:`.terminal`), GitHub reporting (:mod:`.github`, only under GitHub Actions) and xdist, on
both sides (:mod:`.xdist`).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest

from pytest_qatech.core.lookup import Lookup, SettingsError
from pytest_qatech.core.options import ORDER, QUARANTINE
from pytest_qatech.core.platforms import resolve
from pytest_qatech.core.quarantine import Quarantine
from pytest_qatech.session.collection import (
    RemoteCollection,
    RemoteLast,
    RemoteRunner,
    RemoteSelection,
)
from pytest_qatech.session.live import LIVE_RUNS, LiveRuns
from pytest_qatech.session.reports import ExitStatus, RemoteReports, RerunJUnit
from pytest_qatech.session.standing import CaseStanding


@dataclass(frozen=True)
class Activation:
    """The plugins a session registered for its remote runs, by name."""

    config: pytest.Config
    plugins: Mapping[str, object]

    def deactivate(self) -> None:
        live = self.config.stash.get(LIVE_RUNS, None)
        if live is not None:
            del self.config.stash[LIVE_RUNS]
            live.stop()
            live.interrupts.uninstall()
        for plugin in self.plugins.values():
            self.config.pluginmanager.unregister(plugin)


def activate(config: pytest.Config, requested: Mapping[str, Sequence[str]]) -> Activation:
    """In the process that talks to the APIs (the only one, or the xdist controller): check the
    settings (a usage error if they are wrong) and register the plugins."""
    lookup = Lookup(config.getoption, config.getini, os.environ)
    today = datetime.date.today()
    try:
        settings = resolve(requested, lookup)
        order = lookup.text(ORDER)
        quarantine = Quarantine.parse(lookup.lines(QUARANTINE), today)
    except SettingsError as error:
        raise pytest.UsageError(str(error)) from None

    plugins: dict[str, object] = {}
    skipped = (source.provider for source in settings.skipped)
    selection = RemoteSelection.taken_from(config, requested, skipped)
    if selection is not None:
        plugins["qatech-selection"] = selection
    from pytest_qatech.session import github
    from pytest_qatech.session.terminal import TerminalReporting

    narrowing = None
    if settings.start is not None:
        from pytest_qatech.session.narrowing import PlanNarrowing

        narrowing = plugins["qatech-narrowing"] = PlanNarrowing(config, settings)
    live = LiveRuns(config, settings, narrowing.select if narrowing is not None else None)
    config.stash[LIVE_RUNS] = live
    plugins["qatech-live"] = live
    plugins["qatech-collection"] = RemoteCollection(live.first, lambda: settings.skipped)
    workers = None
    if config.pluginmanager.hasplugin("xdist"):
        from pytest_qatech.session.xdist import ControllerHandoff

        workers = plugins["qatech-xdist"] = ControllerHandoff(live)
    plugins["qatech-runner"] = RemoteRunner(live, workers, as_decided=order == "last")
    platforms = (source.provider.name for source in settings.sources)
    standing = plugins["qatech-standing"] = CaseStanding(config, quarantine, platforms, today)
    plugins["qatech-terminal"] = TerminalReporting(live, standing)
    if settings.start is not None:
        from pytest_qatech.session.started import StartedRuns

        plugins["qatech-started"] = StartedRuns()
    plugins["qatech-exit-status"] = ExitStatus(live, selection, workers)
    if github.wanted(os.environ):
        plugins["qatech-github"] = github.GitHubReporting(live, os.environ, standing)
        local_annotations = github.only_local_annotations(config.pluginmanager)
        if local_annotations is not None:
            plugins[github.OTHER_ANNOTATIONS] = local_annotations
    additions = []
    if settings.artifacts is not None:
        from pytest_qatech.session.artifacts import ArtifactKeeping

        keeping = plugins["qatech-artifacts"] = ArtifactKeeping(config, settings)
        additions.append(keeping.add_media)
    plugins["qatech-reports"] = RemoteReports(additions)
    if settings.reruns:
        plugins["qatech-rerun-junit"] = RerunJUnit(config)
    if order == "last":
        # After the reports: it chooses the item to run before that one waits for its verdict.
        plugins["qatech-order"] = RemoteLast(live)
    return _registered(config, plugins)


def activate_worker(config: pytest.Config) -> Activation:
    """On an xdist worker its controller handed runs to: collect the remote items, hand back
    those selected. It reads no setting: all it needs comes from the controller."""
    from pytest_qatech.session.xdist import worker_plugins

    return _registered(config, worker_plugins(config))


def _registered(config: pytest.Config, plugins: dict[str, object]) -> Activation:
    for name, plugin in plugins.items():
        config.pluginmanager.register(plugin, name)
    return Activation(config, plugins)
