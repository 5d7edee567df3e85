"""Whatever JSON the API sends, the parser returns a valid run or raises its own error."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_qatech.models import FinishedRun, Outcome, run_report_from_json
from pytest_qatech.providers import BodyError, Progress
from pytest_qatech.providers.qatech import QatechProvider
from pytest_qatech.settings import Secret

provider = QatechProvider(Secret("x"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
statuses = st.sampled_from(["INITIATED", "RUNNING", "COMPLETED", "ERROR", "CANCELLED", "WHAT"])
results = st.sampled_from(["PASSED", "FAILED", "SKIPPED", None, "MAYBE", 3])
maybe_text = st.none() | st.text(max_size=30) | json_values

# Bodies that are nearly right, to reach deep into the parser, not only its first check.
cases = st.fixed_dictionaries(
    {
        "name": st.text(max_size=20) | json_values,
        "status": statuses | json_values,
        "result": results,
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
runs = st.fixed_dictionaries(
    {"id": st.just("u"), "shortId": st.just("abc123"), "status": statuses, "result": results},
    optional={"runTestCases": st.lists(cases | json_values, max_size=5) | json_values},
)


def check_results(body: Any) -> None:
    try:
        run = provider.parse_results("abc123", body)
    except BodyError:
        return
    assert isinstance(run, FinishedRun)
    assert run_report_from_json(run.to_json()) == run
    for case in run.cases:
        assert isinstance(case.name, str)
        assert isinstance(case.headline, str)
        if case.outcome is Outcome.PASSED:
            assert case.properties  # a pass always comes from a well-formed case


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_is_a_run_or_a_body_error(body: Any) -> None:
    check_results(body)
    try:
        progress = provider.parse_status("abc123", body)
    except BodyError:
        return
    assert isinstance(progress, Progress)


@settings(max_examples=300, deadline=None)
@given(runs)
def test_nearly_valid_runs_are_a_run_or_a_body_error(body: dict[str, Any]) -> None:
    check_results(body)
