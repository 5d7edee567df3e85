"""The models cross to xdist workers as JSON and come back equal, whatever fields they use."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from pytest_qatech.core.codec import from_data, to_data
from pytest_qatech.core.models import (
    Artifact,
    FinishedRun,
    Link,
    Listed,
    Outcome,
    RemoteCase,
    RunSnapshot,
    Step,
    UnreadableRun,
    tally,
)
from pytest_qatech.core.options import HANDOFF_KEY
from pytest_qatech.session.xdist import Handoff

EVERY_FIELD = FinishedRun(
    provider="autonoma",
    run_id="r1",
    status="failed",
    result=None,
    cases=(
        RemoteCase(
            name="Sign in",
            outcome=Outcome.FAILED,
            headline="step 2 failed: click",
            explanation="why",
            case_id="t1",
            goal="sign in",
            error_code="TEST_FAILED",
            duration=4.21,
            started_at="2026-06-10T16:02:11Z",
            completed_at="2026-06-10T16:02:54Z",
            links=(Link("video", "https://x.test/v.mp4"),),
            steps=(Step(1, "passed", "open"), Step(2, "failed", "click", screenshot="https://s")),
        ),
        RemoteCase("No steps reported", Outcome.PASSED, steps=()),
        RemoteCase("Steps unknown", Outcome.ERROR, "bad"),
    ),
    problem="ended badly",
    url="https://x.test/r1",
    group="folder",
    context=(("feature", "Login"),),
    artifacts=(Artifact("trace", "t.zip", 12), Artifact(problem="artifact #2: no size")),
    log="runner output",
)


def test_every_model_survives_a_json_round_trip() -> None:
    going = RunSnapshot(
        "qatech",
        "y",
        "RUNNING",
        None,
        (Listed("tc1", "a"), Listed("tc2", "b", EVERY_FIELD.cases[0])),
    )
    runs = (
        RunSnapshot.of(EVERY_FIELD),
        RunSnapshot.of(UnreadableRun("qatech", "x", "could not be read", "RUNNING", None, True)),
        going,
        RunSnapshot("testvibe", "214"),
    )
    handoff = Handoff(runs)
    again = Handoff.from_serialized(json.loads(json.dumps(handoff.serialized())))
    assert again == handoff
    finished = again.runs[0].report
    assert isinstance(finished, FinishedRun)
    assert finished.cases[1].steps == ()  # reported none, not unknown
    assert finished.cases[2].steps is None
    assert Handoff.received({HANDOFF_KEY: handoff.serialized()}) == handoff


def test_a_whole_number_of_seconds_comes_back_a_float() -> None:
    case = RemoteCase("a", Outcome.PASSED, duration=42.0)
    data = json.loads(json.dumps(to_data(case)))
    again = from_data(RemoteCase, data)
    assert again == case
    assert isinstance(again.duration, float)


def test_what_it_cannot_carry_it_refuses() -> None:
    @dataclass(frozen=True)
    class Odd:
        values: set[str]

    with pytest.raises(TypeError, match="cannot encode set"):
        to_data(Odd({"a"}))
    with pytest.raises(TypeError, match="cannot decode"):
        from_data(Odd, {"values": []})


def test_tally_counts_in_the_order_of_outcomes() -> None:
    outcomes = [Outcome.ERROR, Outcome.PASSED, Outcome.FAILED, Outcome.PASSED]
    assert tally(outcomes) == "2 passed, 1 failed, 1 error"
    assert tally([]) == ""
