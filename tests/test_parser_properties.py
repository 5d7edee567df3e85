"""Whatever JSON a platform sends, its provider returns a valid run or raises its own error,
and the run survives the trip to an xdist worker."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_qatech.core.models import FinishedRun, Outcome, RunSnapshot
from pytest_qatech.core.providers.autonoma import AutonomaProvider
from pytest_qatech.core.providers.base import Progress, Provider
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.providers.testvibe import TestVibeProvider
from pytest_qatech.core.rendering import render_case
from pytest_qatech.core.secrets import Secret
from pytest_qatech.session.xdist import Handoff

QATECH = QatechProvider(Secret("x"), project="p", details="all")
TESTVIBE = TestVibeProvider(Secret("x"), "p")
AUTONOMA = AutonomaProvider(Secret("x"), Secret("y"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
maybe_text = st.none() | st.text(max_size=30) | json_values

# Bodies that are nearly right, to reach deep into each parser, not only its first check.
qatech_cases = st.fixed_dictionaries(
    {
        "name": st.text(max_size=20) | json_values,
        "status": st.sampled_from(["COMPLETED", "ERROR", "CANCELLED", "RUNNING"]) | json_values,
        "result": st.sampled_from(["PASSED", "FAILED", "SKIPPED", None, "MAYBE", 3]),
    },
    optional={
        "id": st.text(max_size=5),
        "shortId": st.text(max_size=8) | json_values,
        "resultTitle": maybe_text,
        "evaluationThought": maybe_text,
        "promptGoal": maybe_text,
        "extra": json_values,
    },
)
qatech_runs = st.fixed_dictionaries(
    {
        "id": st.just("u"),
        "shortId": st.just("abc123"),
        "status": st.sampled_from(["INITIATED", "RUNNING", "COMPLETED", "ERROR", "CANCELLED", "?"]),
        "result": st.sampled_from(["PASSED", "FAILED", "SKIPPED", None, "MAYBE", 3]),
    },
    optional={"runTestCases": st.lists(qatech_cases | json_values, max_size=5) | json_values},
)
testvibe_runs = st.fixed_dictionaries(
    {"runId": st.just(214), "status": st.sampled_from(["running", "passed", "failed", "?"])},
    optional={
        "tests": st.lists(
            st.fixed_dictionaries(
                {"name": maybe_text, "status": st.sampled_from(["passed", "failed", "x"])},
                optional={"durationMs": st.integers() | json_values, "error": maybe_text},
            )
            | json_values,
            max_size=4,
        ),
        "summary": st.fixed_dictionaries({"total": st.integers(0, 5) | json_values}),
        "artifacts": st.lists(json_values, max_size=3),
        "log": maybe_text,
        "featureName": maybe_text,
    },
)
autonoma_runs = st.fixed_dictionaries(
    {
        "id": st.just("r1"),
        "name": st.text(max_size=10),
        "status": st.sampled_from(["passed", "failed", "running", "?"]),
    },
    optional={
        "steps": st.lists(
            st.fixed_dictionaries(
                {"status": st.sampled_from(["passed", "failed"]) | json_values},
                optional={"instruction": maybe_text, "image": maybe_text, "element": json_values},
            )
            | json_values,
            max_size=4,
        ),
        "folder": st.none() | st.fixed_dictionaries({"name": maybe_text}),
        "video_url": maybe_text,
        "test_id": maybe_text,
    },
)


def check(provider: Provider, run_id: str, body: Any) -> None:
    # Every poll meets parse_status, whether or not the body is a whole run: each parser is
    # asked on its own.
    check_status(provider, run_id, body)
    try:
        run = provider.parse_results(run_id, body)
    except BodyError:
        return
    assert isinstance(run, FinishedRun)
    handoff = Handoff((RunSnapshot.of(run),))
    assert Handoff.from_serialized(handoff.serialized()) == handoff
    for case in run.cases:
        rendered = render_case(run, case)
        assert isinstance(case.name, str)
        assert isinstance(rendered.headline, str)
        if case.outcome is Outcome.PASSED:
            assert rendered.details == ""
        else:
            assert rendered.headline  # a red or skipped case always says why


def check_status(provider: Provider, run_id: str, body: Any) -> None:
    try:
        progress = provider.parse_status(run_id, body)
    except BodyError:
        return
    assert isinstance(progress, Progress)
    assert isinstance(progress.status, str)
    assert isinstance(progress.finished, bool)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_is_a_run_or_a_body_error(body: Any) -> None:
    for provider, run_id in ((QATECH, "abc123"), (TESTVIBE, "214"), (AUTONOMA, "r1")):
        check(provider, run_id, body)


@settings(max_examples=200, deadline=None)
@given(qatech_runs)
def test_nearly_valid_qatech_runs(body: dict[str, Any]) -> None:
    check(QATECH, "abc123", body)


@settings(max_examples=200, deadline=None)
@given(testvibe_runs)
def test_nearly_valid_testvibe_runs(body: dict[str, Any]) -> None:
    check(TESTVIBE, "214", body)


@settings(max_examples=200, deadline=None)
@given(autonoma_runs)
def test_nearly_valid_autonoma_runs(body: dict[str, Any]) -> None:
    check(AUTONOMA, "r1", body)
