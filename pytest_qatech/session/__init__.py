"""The pytest side of a session that asked for remote runs, loaded only then.

Small plugin objects with one job each share what this process knows of the runs
(:class:`~.state.RemoteRuns`): collection and the exit status (:mod:`.collection`), the remote
items' reports (:mod:`.items`), terminal reporting (:mod:`.terminal`), GitHub reporting
(:mod:`.github`, only under GitHub Actions) and the xdist handoff (:mod:`.xdist`, only on an
xdist controller).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest

from pytest_qatech.core.lookup import Lookup, SettingsError
from pytest_qatech.core.platforms import resolve
from pytest_qatech.session.collection import ExitStatus, RemoteCollection, wait
from pytest_qatech.session.items import RemoteReports
from pytest_qatech.session.state import Handoff, RemoteRuns


@dataclass(frozen=True)
class Activation:
    """The plugins a session registered for its remote runs, by name."""

    pluginmanager: pytest.PytestPluginManager
    runs: RemoteRuns
    plugins: Mapping[str, object]

    def deactivate(self) -> None:
        for plugin in self.plugins.values():
            self.pluginmanager.unregister(plugin)


def activate(config: pytest.Config, requested: Mapping[str, Sequence[str]]) -> Activation:
    """Check the settings (a usage error if they are wrong) and register the plugins."""
    lookup = Lookup(config.getoption, lambda name: str(config.getini(name)), os.environ)
    try:
        settings = resolve(requested, lookup)
    except SettingsError as error:
        raise pytest.UsageError(str(error)) from None

    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # An xdist worker: the controller has waited; workers never talk to the API.
        handoff = Handoff.received(workerinput)
        runs = RemoteRuns(lambda: handoff.reports)
        plugins: dict[str, object] = {}
    else:
        from pytest_qatech.session import github
        from pytest_qatech.session.terminal import TerminalReporting

        runs = RemoteRuns(functools.partial(wait, config, settings))
        plugins = {
            "qatech-terminal": TerminalReporting(settings, runs),
            "qatech-exit-status": ExitStatus(runs),
        }
        if github.wanted(os.environ):
            plugins["qatech-github"] = github.GitHubReporting(settings, runs, os.environ)
        if config.pluginmanager.hasplugin("xdist"):
            from pytest_qatech.session.xdist import XdistHandoff

            plugins["qatech-xdist"] = XdistHandoff(runs)
    plugins["qatech-collection"] = RemoteCollection(runs)
    plugins["qatech-reports"] = RemoteReports()
    for name, plugin in plugins.items():
        config.pluginmanager.register(plugin, name)
    return Activation(config.pluginmanager, runs, plugins)
