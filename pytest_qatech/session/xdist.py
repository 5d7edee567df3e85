"""pytest-xdist: the controller waits for the runs and hands them to every worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_qatech.session.state import HANDOFF_KEY, Handoff, RemoteRuns

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController


class XdistHandoff:
    """Registered only on a controller of a session where xdist is loaded."""

    def __init__(self, runs: RemoteRuns) -> None:
        self._runs = runs
        self._serialized: str | None = None

    def pytest_configure_node(self, node: WorkerController) -> None:
        if self._serialized is None:
            self._serialized = Handoff(self._runs.reports()).serialized()
        node.workerinput[HANDOFF_KEY] = self._serialized
