"""pytest-xdist: the controller hands every worker the runs' first snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_qatech.session.live import LiveRuns
from pytest_qatech.session.state import HANDOFF_KEY, Handoff

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController


class XdistHandoff:
    """Registered only on a controller of a session where xdist is loaded."""

    def __init__(self, live: LiveRuns) -> None:
        self._live = live
        self._serialized: str | None = None

    def pytest_configure_node(self, node: WorkerController) -> None:
        if self._serialized is None:
            self._serialized = Handoff(self._live.first()).serialized()
        node.workerinput[HANDOFF_KEY] = self._serialized
