"""A loopback stand-in for the three platforms' run APIs, for tests and the demo.

Each platform is a module that answers as its reference describes (:mod:`.qatech`,
:mod:`.testvibe`, :mod:`.autonoma`); :mod:`.server` serves them all on 127.0.0.1, :mod:`.demo`
holds the demos' runs, and ``python -m pytest_qatech.simulator -- pytest --qatech-run abc123``
starts the simulator with the demo runs, runs the command with every platform's URL and
credentials variables pointing at it, and exits with its exit code.
"""

from pytest_qatech.simulator.autonoma import (
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    SimulatedAutonomaRun,
    step,
)
from pytest_qatech.simulator.base import Answer
from pytest_qatech.simulator.demo import demo_project, demo_runs, demo_simulator, environment
from pytest_qatech.simulator.qatech import (
    DEFAULT_TOKEN,
    SimulatedPlan,
    SimulatedProject,
    SimulatedRun,
    case,
)
from pytest_qatech.simulator.server import RELEASE_PATH, RecordedRequest, Simulator
from pytest_qatech.simulator.testvibe import (
    TESTVIBE_KEY,
    TESTVIBE_PROJECT,
    SimulatedTestVibeRun,
    vibe_test,
)

__all__ = [
    "AUTONOMA_CLIENT_ID",
    "AUTONOMA_CLIENT_SECRET",
    "DEFAULT_TOKEN",
    "RELEASE_PATH",
    "TESTVIBE_KEY",
    "TESTVIBE_PROJECT",
    "Answer",
    "RecordedRequest",
    "SimulatedAutonomaRun",
    "SimulatedPlan",
    "SimulatedProject",
    "SimulatedRun",
    "SimulatedTestVibeRun",
    "Simulator",
    "case",
    "demo_project",
    "demo_runs",
    "demo_simulator",
    "environment",
    "step",
    "vibe_test",
]
