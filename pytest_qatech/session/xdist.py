"""pytest-xdist, all of it: the process's role, what crosses from the controller to its workers
and back, and the worker's side of a session.

Only the controller talks to the APIs. It hands every worker one frozen, serialisable
:class:`Handoff` (the runs' first snapshot), so that every worker collects the same items and
needs nothing from its own environment: no credential, no API URL, no setting. Its host may be
another machine (``--tx ssh=...``, ``--tx socket=...``). A worker hands back the node ids of the
remote items it selected; the controller, which alone learns the verdicts, runs those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_qatech.core.codec import from_data, to_data
from pytest_qatech.core.models import RunSnapshot, SkippedSource
from pytest_qatech.core.options import HANDOFF_KEY, PLATFORMS
from pytest_qatech.session.collection import (
    CollectionFailure,
    RemoteCollection,
    RemoteSelection,
)
from pytest_qatech.session.items import RemoteItem, RunCollector

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

    from pytest_qatech.session.live import LiveRuns

#: The key, in a worker's ``workeroutput``, of the node ids of the remote items it selected.
SELECTED_KEY = "qatech_selected"


@dataclass(frozen=True)
class Handoff:
    """The one thing an xdist controller hands each worker: the runs' first snapshot, so that
    every worker collects the same items as the controller and none talks to the API."""

    runs: tuple[RunSnapshot, ...]
    #: The platforms whose runs were skipped, their credentials missing.
    skipped: tuple[SkippedSource, ...] = ()

    def serialized(self) -> str:
        return json.dumps(to_data(self))

    @classmethod
    def from_serialized(cls, text: str) -> Handoff:
        return from_data(cls, json.loads(text))

    @classmethod
    def received(cls, workerinput: Mapping[str, Any]) -> Handoff:
        return cls.from_serialized(workerinput[HANDOFF_KEY])


class ControllerHandoff:
    """In the process that talks to the APIs, with xdist installed: whether it is the controller
    of workers that run the session's tests (decided once, when the session starts); if so, it
    hands every worker the first snapshot, and learns from the first worker that finishes which
    remote items the workers selected. The :class:`~.collection.Workers` of the collection."""

    def __init__(self, live: LiveRuns) -> None:
        self._live = live
        self._serialized: str | None = None
        #: The node ids the workers selected; None until a worker said.
        self._selected: list[str] | None = None
        #: Whether the workers run the session's tests: known once the session starts.
        self.run_tests = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # xdist registers its distributed session while pytest is configured; it is known now.
        self.run_tests = session.config.pluginmanager.has_plugin("dsession")

    def pytest_configure_node(self, node: WorkerController) -> None:
        if self._serialized is None:
            live = self._live
            self._serialized = Handoff(live.first(), live.settings.skipped).serialized()
        node.workerinput[HANDOFF_KEY] = self._serialized

    def pytest_testnodedown(self, node: WorkerController, error: object) -> None:
        output = getattr(node, "workeroutput", {})
        if self._selected is None and SELECTED_KEY in output:
            self._selected = list(output[SELECTED_KEY])

    def selected(self, session: pytest.Session, runs: Sequence[RunSnapshot]) -> list[pytest.Item]:
        """The controller's copies of the remote items the workers selected, in their order.

        A worker that selected nothing told so; one that said nothing did not load this plugin
        (another version, or none, on its host), and its remote items would vanish unseen.
        """
        if self._selected is None:
            raise pytest.UsageError(
                "the xdist workers did not say which remote items they selected: install the "
                "same pytest-qatech on every worker's host"
            )
        config = session.config
        copies = _copies(session, runs)
        # The project's collection hooks mark these copies as they marked the workers' items
        # (an xfail, say); what the workers selected, in their order, is what runs.
        config.hook.pytest_collection_modifyitems(session=session, config=config, items=copies)
        by_id = {item.nodeid: item for item in copies}
        return [by_id[nodeid] for nodeid in self._selected if nodeid in by_id]


class WorkerSelection:
    """On an xdist worker: hands the remote items it selected to the controller, which runs
    them, and keeps only the local ones. Every worker collects the same items from the same
    snapshot, so every selection hook sees what it would see without xdist."""

    def __init__(self, workeroutput: dict[str, object]) -> None:
        self._workeroutput = workeroutput

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Before xdist's own hook sends the worker's collection to the controller.
        remote = [item for item in session.items if isinstance(item, RemoteItem)]
        self._workeroutput[SELECTED_KEY] = [item.nodeid for item in remote]
        session.items[:] = [item for item in session.items if not isinstance(item, RemoteItem)]


class WorkerCollection(RemoteCollection):
    """On an xdist worker: a collector per remote run, from the controller's handoff. A handoff
    this worker could not read (another version of the plugin on its host) is a collection
    error, which ends the session, rather than a crash that xdist would answer with a new
    worker."""

    def __init__(self, handoff: Handoff | CollectionFailure) -> None:
        def handed_over() -> Handoff:
            if isinstance(handoff, CollectionFailure):
                raise handoff
            return handoff

        super().__init__(lambda: handed_over().runs, lambda: handed_over().skipped)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Before xdist sends it: a run that could not be read is shown once only if every
        # worker's copy of its error compares equal, which plain text does.
        if report.failed and report.nodeid.split("::")[0] in _PLATFORMS:
            report.longrepr = str(report.longrepr)


_PLATFORMS = frozenset(platform.name for platform in PLATFORMS)


def _copies(session: pytest.Session, runs: Sequence[RunSnapshot]) -> list[pytest.Item]:
    """The remote items of ``runs``, built without collection hooks: the workers collected
    them, the controller runs them."""
    return [
        item
        for collector in RunCollector.laid_out(session, runs)
        # A run that could not be read at collection is the workers' collection error.
        if collector.late or all(report.start_of for report in collector.group.unreadable)
        for item in collector.collect()
        if isinstance(item, pytest.Item)
    ]


def _handed_over(workerinput: Mapping[str, Any]) -> Handoff:
    try:
        return Handoff.received(workerinput)
    except (ValueError, TypeError, KeyError) as error:
        raise CollectionFailure(
            "pytest-qatech on this xdist worker could not read the runs its controller handed "
            f"over ({type(error).__name__}: {error}): install the same pytest-qatech on every "
            "worker's host"
        ) from None


def worker_plugins(config: pytest.Config) -> dict[str, object]:
    """What an xdist worker registers when its controller handed it runs: all it needs comes
    from the controller (its arguments and the handoff), nothing from its own environment."""
    # Read once: it holds every case of every run.
    handoff: Handoff | CollectionFailure
    try:
        handoff = _handed_over(config.workerinput)  # type: ignore[attr-defined]
    except CollectionFailure as failure:
        handoff = failure  # said by the collection, which fails
    plugins: dict[str, object] = {
        "qatech-collection": WorkerCollection(handoff),
        "qatech-worker": WorkerSelection(config.workeroutput),  # type: ignore[attr-defined]
    }
    skipped = [s.provider for s in handoff.skipped] if isinstance(handoff, Handoff) else []
    platforms = (platform.name for platform in PLATFORMS)
    selection = RemoteSelection.taken_from(config, platforms, skipped)
    if selection is not None:
        plugins["qatech-selection"] = selection
    return plugins
