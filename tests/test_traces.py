"""A case's steps as its traceback: QA.tech's agent trace read a page at a time within its
budget, hostile answers refused, and the steps rendered as pytest renders frames."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_qatech.cli import main as qatech_junit
from pytest_qatech.core.client import FinalError, TransientError
from pytest_qatech.core.models import FinishedRun, Outcome, RemoteCase, Step
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.rendering import TraceStyle, render_case, trace_text
from pytest_qatech.core.secrets import Secret
from pytest_qatech.simulator import (
    DEFAULT_TOKEN,
    Answer,
    SimulatedRun,
    Simulator,
    environment,
)
from pytest_qatech.simulator import case as sim_case
from tests.helpers import (
    FAST,
    FakeApi,
    FakeClock,
    RecordingListener,
    qatech_case,
    qatech_run,
    run_session,
    wait_on,
)

PROVIDER = QatechProvider(Secret("x"), project=None, details="failed")
FAILED = RemoteCase("Checkout", Outcome.FAILED, "no Pay now button", key="tc2", case_id="tc2")


def step(index: int, **changes: Any) -> dict[str, Any]:
    """A trace step as the reference shows one, every field set."""
    return {
        "index": index,
        "startedAt": "2026-06-10T16:02:11Z",
        "endedAt": "2026-06-10T16:02:12Z",
        "durationMs": 1500,
        "reasoning": f"reason {index}",
        "toolCalls": [{"name": "click", "arguments": {"selector": f"#b{index}"}}],
        "toolResult": f"result {index}",
        "screenshotUrl": f"https://media.example/{index}.png",
        **changes,
    }


def page(steps: list[Any], offset: int, limit: int, short_id: str = "tc2") -> dict[str, Any]:
    """The answer of a server that pages ``steps`` as asked."""
    return {
        "runTestCaseShortId": short_id,
        "total": len(steps),
        "limit": limit,
        "offset": offset,
        "steps": steps[offset : offset + limit],
    }


def read_trace(
    steps: list[Any], most: int = 100, answer: Any = page
) -> tuple[RemoteCase, list[tuple[int, int]]]:
    """The case once its whole trace is read from a server holding ``steps``, and the pages
    asked, as (offset, limit)."""
    provider = dataclasses.replace(PROVIDER, trace_steps=most)
    asked: list[tuple[int, int]] = []
    case, request = FAILED, provider.trace_of(FAILED)
    while request is not None:
        assert len(asked) < 20, f"the reading does not end: {asked}"
        params = dict(request.request.params)
        offset, limit = int(params["offset"]), int(params["limit"])
        asked.append((offset, limit))
        assert request.request.path == "/v1/run-test-case/tc2/trace"
        case = request.apply(case, answer(steps, offset, limit))
        assert request.then is not None
        request = request.then(case)
    return case, asked


def test_a_short_trace_is_read_in_one_page_and_every_field_is_kept() -> None:
    case, asked = read_trace([step(0), step(1, toolCalls=[], screenshotUrl=None)])
    assert asked == [(0, 25)]
    assert case.steps == (
        Step(
            1,
            intent="reason 0",
            action='click {"selector": "#b0"}',
            result="result 0",
            screenshot="https://media.example/0.png",
            duration=1.5,
        ),
        Step(2, intent="reason 1", result="result 1", duration=1.5),
    )
    assert case.steps_total == 2


def test_a_long_trace_is_read_from_its_start_and_then_from_its_end_within_the_budget() -> None:
    case, asked = read_trace([step(i) for i in range(230)])
    # The first page, then the last 75 steps, a page at a time: where the case failed.
    assert asked == [(0, 25), (155, 25), (180, 25), (205, 25)]
    assert case.steps is not None
    assert [s.number for s in case.steps] == [*range(1, 26), *range(156, 231)]
    assert case.steps[-1].intent == "reason 229"
    assert case.steps_total == 230


def test_a_trace_just_over_a_page_is_read_on_where_the_first_page_ended() -> None:
    case, asked = read_trace([step(i) for i in range(40)])
    assert asked == [(0, 25), (25, 15)]
    assert case.steps is not None
    assert [s.number for s in case.steps] == list(range(1, 41))


def test_a_smaller_budget_reads_fewer_steps_and_none_reads_no_trace() -> None:
    case, asked = read_trace([step(i) for i in range(50)], most=10)
    assert asked == [(0, 10)]
    assert case.steps_total == 50
    assert dataclasses.replace(PROVIDER, trace_steps=0).trace_of(FAILED) is None


def test_only_a_case_that_fails_or_gives_no_verdict_has_its_trace_read() -> None:
    for outcome, wanted in [
        (Outcome.FAILED, True),
        (Outcome.ERROR, True),
        (Outcome.SKIPPED, False),
        (Outcome.PASSED, False),
    ]:
        case = dataclasses.replace(FAILED, outcome=outcome)
        assert (PROVIDER.trace_of(case) is not None) is wanted, outcome


def test_a_server_that_pages_nothing_more_ends_the_reading() -> None:
    def stingy(steps: list[Any], offset: int, limit: int) -> dict[str, Any]:
        return {**page(steps, offset, limit), "steps": steps[:3] if offset == 0 else []}

    case, asked = read_trace([step(i) for i in range(60)], answer=stingy)
    # Three steps, then nothing where more was claimed: asked once more, never again.
    assert asked == [(0, 25), (3, 25)]
    assert case.steps_total == 60
    assert case.steps is not None
    assert len(case.steps) == 3


def test_a_server_that_sends_more_than_a_page_is_not_followed_past_it() -> None:
    def generous(steps: list[Any], offset: int, limit: int) -> dict[str, Any]:
        return {**page(steps, offset, limit), "steps": steps[offset:]}

    case, asked = read_trace([step(i) for i in range(30)], most=10, answer=generous)
    assert asked == [(0, 10)]
    assert case.steps is not None
    assert len(case.steps) == 10


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"runTestCaseShortId": "tc9"}, "case tc2, but the API answered with case 'tc9'"),
        ({"offset": 5}, "asked for the steps from 0, but the API answered with those from 5"),
        ({"total": "many"}, "field 'total'"),
        ({"steps": {"0": {}}}, "field 'steps'"),
        ({"steps": [None]}, "step 1 of the trace of case tc2: expected a JSON object"),
        ({"steps": [step(0, screenshotUrl="javascript:x")]}, "'screenshotUrl' is not a web link"),
        ({"steps": [step(0, reasoning=["a"])]}, "field 'reasoning'"),
        ({"steps": [step(0, toolCalls=[{"arguments": {}}])]}, "field 'name'"),
        ({"steps": [step(0, durationMs=-1)]}, "field 'durationMs'"),
    ],
)  # fmt: skip
def test_an_answer_that_does_not_fit_the_reference_is_refused(
    changes: dict[str, Any], problem: str
) -> None:
    request = PROVIDER.trace_of(FAILED)
    assert request is not None
    with pytest.raises(BodyError, match=problem.replace("(", r"\(").replace("'", "'")):
        request.apply(FAILED, {**page([step(0)], 0, 25), **changes})


def test_huge_texts_are_kept_to_a_bound_that_says_how_much_was_left_out() -> None:
    huge = "x" * 10_000
    args = {"text": "y" * 10_000}
    request = PROVIDER.trace_of(FAILED)
    assert request is not None
    body = page([step(0, reasoning=huge, toolCalls=[{"name": "type", "arguments": args}])], 0, 25)
    (read,) = request.apply(FAILED, body).steps or ()
    assert read.intent == "x" * 4000 + " [... 6,000 more characters not read]"
    assert read.action is not None
    assert read.action.startswith('type {"text": "yyy')
    assert read.action.endswith(" more characters not read]")
    assert len(read.action) < 4100


def case_with(steps: tuple[Step, ...], total: int | None = None) -> RemoteCase:
    return dataclasses.replace(FAILED, steps=steps, steps_total=total)


def test_every_step_read_is_shown_with_its_number_meaning_action_result_and_screenshot() -> None:
    steps = (
        Step(1, intent="open the shop", action='navigate {"url": "/"}', result="Loaded /"),
        Step(2, intent="pay\nnow", result="no button", screenshot="https://m/2.png", duration=2.5),
    )
    assert trace_text(case_with(steps), TraceStyle()) == (
        "Steps: 2\n"
        "step 1 of 2\n"
        "    meant: open the shop\n"
        '    did: navigate {"url": "/"}\n'
        "    got: Loaded /\n"
        "step 2 of 2 (2.5s)\n"
        "    meant: pay\n"
        "           now\n"
        "    got: no button\n"
        "    screenshot: https://m/2.png"
    )


def test_what_was_not_read_is_said_where_it_was_left_out() -> None:
    steps = tuple(Step(n, intent=f"s{n}") for n in (1, 2, 5, 6))
    assert trace_text(case_with(steps, 8), TraceStyle()).split("\n") == [
        "Steps: 4 of 8",
        "step 1 of 8", "    meant: s1",
        "step 2 of 8", "    meant: s2",
        "  ... steps 3 to 4 not read ...",
        "step 5 of 8", "    meant: s5",
        "step 6 of 8", "    meant: s6",
        "  ... steps 7 to 8 not read ...",
    ]  # fmt: skip


def test_the_short_style_shows_the_last_steps_and_says_how_to_see_all() -> None:
    steps = tuple(Step(n, intent=f"s{n}") for n in range(1, 7))
    assert trace_text(case_with(steps), TraceStyle(last=2)).split("\n") == [
        "Steps: the last 2 of 6 (--tb=long shows every step read)",
        "step 5 of 6", "    meant: s5",
        "step 6 of 6", "    meant: s6",
    ]  # fmt: skip


def test_long_texts_are_cut_when_shown_unless_nothing_is_to_be_cut() -> None:
    steps = (Step(1, result="r" * 700),)
    assert "r" * 500 + " [... 200 more characters]" in trace_text(case_with(steps), TraceStyle())
    assert "r" * 700 + "\n" not in trace_text(case_with(steps), TraceStyle()) + "\n"
    uncut = trace_text(case_with(steps), TraceStyle(width=None))
    assert uncut.endswith("    got: " + "r" * 700)


def test_no_steps_and_unread_steps_are_said_so() -> None:
    assert trace_text(case_with(()), TraceStyle()) == "Steps: none reported"
    assert trace_text(case_with((), 12), TraceStyle()) == "Steps: none of 12 could be read"
    assert trace_text(FAILED, TraceStyle()) == ""


def test_the_steps_come_first_and_the_headline_next_to_the_last() -> None:
    run = FinishedRun("qatech", "abc", "COMPLETED", "FAILED", ())
    case = dataclasses.replace(
        case_with((Step(1, intent="\x1b[31mred\x1b[0m"),)), explanation="because"
    )
    rendered = render_case(run, case)
    assert rendered.text.startswith("Steps: 1\nstep 1 of 1\n    meant: \\x1b[31mred\\x1b[0m\n\n")
    assert rendered.text.index("no Pay now button") < rendered.text.index("because")
    # A pass shows no text anywhere, its steps neither.
    passed = dataclasses.replace(case, outcome=Outcome.PASSED)
    assert render_case(run, passed).text == "no Pay now button"


def trace_api(traces: dict[str, Sequence[object]]) -> FakeApi:
    cases = [qatech_case("Checkout", "FAILED", title="no Pay now button", short_id="tc2")]
    run = qatech_run("abc", "COMPLETED", cases, "FAILED")
    return FakeApi(
        FakeClock(), {"abc": [run]}, reads={"abc": [run]}, cases={"tc2": [{}]}, traces=traces
    )


def test_the_wait_reads_the_details_then_each_page_of_the_trace() -> None:
    steps = [step(i) for i in range(30)]
    api = trace_api({"tc2": [page(steps, 0, 25), page(steps, 25, 5)]})
    (report,) = wait_on(api, PROVIDER, ["abc"])
    assert isinstance(report, FinishedRun)
    assert [kind for _, kind, _ in api.log] == ["poll", "read", "case", "trace", "trace"]
    (case,) = report.cases
    assert case.steps is not None
    assert [s.number for s in case.steps] == list(range(1, 31))


@pytest.mark.parametrize(
    "broken",
    [FinalError("HTTP 404 Not Found"), {"steps": 3}],
    ids=["an HTTP error", "a page that does not fit"],
)
def test_a_trace_that_cannot_be_read_is_a_warning_never_a_changed_verdict(broken: object) -> None:
    steps = [step(i) for i in range(30)]
    api = trace_api({"tc2": [page(steps, 0, 25), broken]})
    listener = RecordingListener()
    (report,) = wait_on(api, PROVIDER, ["abc"], say=listener)
    assert isinstance(report, FinishedRun)
    (case,) = report.cases
    assert (case.outcome, case.headline) == (Outcome.FAILED, "no Pay now button")
    # What was read before the problem stays, and says what it lacks.
    assert case.steps is not None
    assert len(case.steps) == 25
    assert case.steps_total == 30
    (warning,) = [line for line in listener.lines if "traces" in line]
    assert (
        "the traces of 1 of 1 case could not be read, so they are reported with only the "
        "steps read before it; the first problem: GET https://api.test/v1/run-test-case/tc2/"
        "trace" in warning
    )


def test_a_details_request_that_fails_leaves_no_trace_asked() -> None:
    api = trace_api({"tc2": [page([step(0)], 0, 25)]})
    api.cases["tc2"] = [FinalError("HTTP 404 Not Found")]
    (report,) = wait_on(api, PROVIDER, ["abc"])
    assert isinstance(report, FinishedRun)
    assert [kind for _, kind, _ in api.log] == ["poll", "read", "case"]


def test_a_single_step_left_out_at_the_end_is_named() -> None:
    steps = (Step(1, intent="s1"), Step(2, intent="s2"))
    assert trace_text(case_with(steps, 3), TraceStyle()).endswith("  ... step 3 not read ...")


def test_each_page_of_a_trace_has_its_own_retries() -> None:
    busy = TransientError("HTTP 503 Service Unavailable")
    steps = [step(i) for i in range(3)]
    # Five failures each: fewer than the eight a request may have, but not together.
    api = trace_api({"tc2": [*[busy] * 5, page(steps, 0, 25)]})
    api.cases["tc2"] = [*[busy] * 5, {}]
    (report,) = wait_on(api, PROVIDER, ["abc"])
    assert isinstance(report, FinishedRun)
    (case,) = report.cases
    assert case.steps is not None
    assert len(case.steps) == 3
    assert [kind for _, kind, _ in api.log].count("trace") == 6


# In a session: the simulator's traces as pytest shows a failure's frames.

CHECKOUT_STEPS = [
    step(i, reasoning=f"meaning {i + 1}", toolResult=f"came back {i + 1}") for i in range(6)
]


def checkout_run(steps: list[Any] | None = CHECKOUT_STEPS, **trace: Any) -> SimulatedRun:
    failed = sim_case("Checkout", "FAILED", title="no Pay now button", short_id="tc2")
    run = SimulatedRun("abc123", "FAILED", [sim_case("Login", short_id="tc1"), failed])
    run.traces = {"tc2": steps}
    return run


def failure_lines(result: pytest.RunResult) -> list[str]:
    lines = result.outlines
    start = next((i for i, line in enumerate(lines) if "qatech Checkout" in line), len(lines))
    end = next((i for i, line in enumerate(lines) if "remote runs" in line), len(lines))
    return lines[start + 1 : end]


@pytest.mark.parametrize(
    ("tb", "shown"),
    [("long", range(1, 7)), ("auto", range(1, 7)), ("short", range(4, 7))],
)
def test_the_tb_style_shows_every_step_or_the_last_few(
    simulator: Simulator, pytester: pytest.Pytester, tb: str, shown: range
) -> None:
    simulator.add(checkout_run())
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", f"--tb={tb}")
    result.assert_outcomes(passed=1, failed=1)
    lines = failure_lines(result)
    assert [line for line in lines if line.startswith("step ")] == [
        f"step {n} of 6 (1.5s)" for n in shown
    ]
    # The failing step last, then the headline, as a local failure's line and its E line.
    last = lines.index("step 6 of 6 (1.5s)")
    assert lines[last + 1 : last + 7] == [
        "    meant: meaning 6",
        '    did: click {"selector": "#b5"}',
        "    got: came back 6",
        "    screenshot: https://media.example/5.png",
        "",
        "no Pay now button",
    ]


@pytest.mark.parametrize("tb", ["line", "no"])
def test_line_and_no_show_no_step(simulator: Simulator, pytester: pytest.Pytester, tb: str) -> None:
    simulator.add(checkout_run())
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", f"--tb={tb}")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "meaning" not in output
    assert "Steps:" not in output
    if tb == "line":
        result.stdout.fnmatch_lines(["qatech::Checkout: no Pay now button"])


def test_very_verbose_cuts_nothing(simulator: Simulator, pytester: pytest.Pytester) -> None:
    long_result = "r" * 900
    simulator.add(checkout_run([step(0, toolResult=long_result)]))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123")
    assert f"    got: {'r' * 500} [... 400 more characters]" in result.outlines
    simulator.runs["/v1/run/abc123"].polls = 0  # type: ignore[attr-defined]
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "-vv")
    assert f"    got: {long_result}" in result.outlines


def test_junit_has_the_steps_in_the_failure_text_in_both_tools(
    simulator: Simulator, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    simulator.add(checkout_run())
    result = run_session(pytester, *FAST, "--qatech-run", "abc123", "--junitxml=report.xml")
    result.assert_outcomes(passed=1, failed=1)
    (failure,) = ET.parse(pytester.path / "report.xml").iter("failure")
    assert failure.get("message") == "no Pay now button"
    text = failure.text or ""
    assert text.startswith("Steps: 6\nstep 1 of 6 (1.5s)\n    meant: meaning 1\n")
    assert "    got: came back 6\n    screenshot: https://media.example/5.png\n\nno Pay now" in text
    # qatech-junit writes the same steps in its failure's text.
    simulator.runs["/v1/run/abc123"].polls = 0  # type: ignore[attr-defined]
    code = qatech_junit(
        ["abc123", *FAST, "-o", str(tmp_path / "r.xml")], environment(simulator.url)
    )
    assert code == 1
    (failure,) = ET.parse(tmp_path / "r.xml").iter("failure")
    assert (failure.text or "").startswith("Steps: 6\nstep 1 of 6 (1.5s)\n")


def test_a_hostile_trace_is_spelled_out_and_redacted(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    sneaky = step(0, reasoning=f"use {DEFAULT_TOKEN}\x1b[2J", toolResult="ok\n::error::pwned")
    simulator.add(checkout_run([sneaky]))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "--junitxml=report.xml")
    result.assert_outcomes(passed=1, failed=1)
    places = [result.stdout.str(), (pytester.path / "report.xml").read_text()]
    for text in places:
        assert DEFAULT_TOKEN not in text
        assert "\x1b" not in text
    assert "    meant: use ********\\x1b[2J" in result.outlines
    # A line of its own, under "got": what GitHub's runner would take for a command.
    assert "         \\x3a:error::pwned" in result.outlines


@pytest.mark.parametrize(
    "answer",
    [Answer(404, {"message": "Not found"}), Answer(200, {"steps": "many"}), None],
    ids=["an HTTP error", "a body that does not fit", "no trace at all"],
)
def test_an_unreadable_trace_is_a_warning_and_the_verdict_stands(
    simulator: Simulator, pytester: pytest.Pytester, answer: Answer | None
) -> None:
    run = checkout_run(None if answer is None else CHECKOUT_STEPS)
    simulator.add(run)
    if answer is not None:
        trace = simulator.runs["/v1/run-test-case/tc2/trace"]
        trace.answers = dict.fromkeys(range(20), answer)
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "--qatech-timeout", "20")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*QA.tech run abc123: the traces of 1 of 1 case could not be read, so they are "
            "reported with only the steps read before it; the first problem: *trace*",
        ]
    )
    assert "Steps:" not in result.stdout.str()


def test_a_long_and_huge_trace_is_paged_over_http_and_bounded(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    steps = [step(i, reasoning=f"meaning {i + 1}") for i in range(230)]
    steps[-1] = step(229, reasoning="meaning 230", toolResult="z" * 100_000)
    simulator.add(checkout_run(steps))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "-vv")
    result.assert_outcomes(passed=1, failed=1)
    pages = [r.query for r in simulator.requests if r.path.endswith("/trace")]
    assert pages == [{"limit": ["25"], "offset": [str(offset)]} for offset in (0, 155, 180, 205)]
    lines = failure_lines(result)
    assert lines[0] == "Steps: 100 of 230"
    assert "  ... steps 26 to 155 not read ..." in lines
    # Even -vv shows no more than was kept of a text: 4,000 characters, and what was left.
    assert f"    got: {'z' * 4000} [... 96,000 more characters not read]" in lines


def test_a_budget_of_one_step_reads_one_and_one_left_reads_one_more() -> None:
    assert read_trace([step(i) for i in range(5)], most=1)[1] == [(0, 1)]
    case, asked = read_trace([step(i) for i in range(40)], most=26)
    assert asked == [(0, 25), (39, 1)]
    assert case.steps is not None
    assert case.steps[-1].number == 40


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "trace of case tc2: expected a JSON object, received a list"),
        (
            page([step(0, toolCalls=["click"])], 0, 25),
            "a tool call of step 1 of the trace of case tc2: expected a JSON object",
        ),
    ],
)
def test_what_does_not_fit_is_named_where_it_is(body: object, problem: str) -> None:
    request = PROVIDER.trace_of(FAILED)
    assert request is not None
    with pytest.raises(BodyError) as raised:
        request.apply(FAILED, body)
    assert str(raised.value).startswith(problem)


def test_a_total_smaller_than_what_came_is_not_believed() -> None:
    request = PROVIDER.trace_of(FAILED)
    assert request is not None
    body = {**page([step(i) for i in range(3)], 0, 25), "total": 1}
    assert request.apply(FAILED, body).steps_total == 3


def test_every_optional_field_of_a_step_may_be_missing_or_null_and_each_call_is_a_line() -> None:
    bare = {"index": 0}
    nulls = step(1, reasoning=None, toolCalls=None, toolResult=None, durationMs=None)
    nulls["screenshotUrl"] = "http://media.example/plain.png"
    calls = step(2, toolCalls=[{"name": "type", "arguments": {"text": "café"}}, {"name": "enter"}])
    request = PROVIDER.trace_of(FAILED)
    assert request is not None
    steps = request.apply(FAILED, page([bare, nulls, calls], 0, 25)).steps
    assert steps == (
        Step(1),
        Step(2, screenshot="http://media.example/plain.png"),
        Step(
            3,
            intent="reason 2",
            action='type {"text": "café"}\nenter',
            result="result 2",
            screenshot="https://media.example/2.png",
            duration=1.5,
        ),
    )


def test_an_empty_trace_is_one_request_and_says_so() -> None:
    case, asked = read_trace([])
    assert asked == [(0, 25)]
    assert (case.steps, case.steps_total) == ((), 0)
    assert trace_text(case, TraceStyle()) == "Steps: none reported"
