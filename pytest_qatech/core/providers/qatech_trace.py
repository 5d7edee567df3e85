"""QA.tech's agent trace of a case: ``GET /v1/run-test-case/{shortId}/trace`` (QA.tech API
reference, "Get run test case trace", https://docs.qa.tech/api-reference/runs/get-run-test-case-trace).

It answers ``{runTestCaseShortId, total, limit, offset, steps: [{index, startedAt, endedAt,
durationMs, reasoning, toolCalls: [{name, arguments}], toolResult, screenshotUrl}]}``, "paginated
so large traces don't overflow". The reference names no query parameters; the page asked for
is sent as ``limit`` and ``offset``, the names its answer gives them, and an answer for another
offset than the one asked is refused rather than guessed at. A step's number is its place in
the whole trace (``offset`` + its place in the page, from 1).

A trace is read in pages of :data:`~pytest_qatech.core.models.FIRST_STEPS` steps, up to the
``--qatech-trace-steps`` budget: its first page, then on from where the budget still reaches
its end, so the failing step (the last) is always among those read. Each text is kept to
:data:`STEP_TEXT_CHARS` characters.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from urllib.parse import quote, urlsplit

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.models import FIRST_STEPS, RemoteCase, Step
from pytest_qatech.core.providers.base import CaseRequest
from pytest_qatech.core.providers.body import BodyError, Fields
from pytest_qatech.core.text import capped

#: The most characters of one text of a step that are kept (its reasoning, its tool calls,
#: its tool's result): beyond it a step says how many more there were.
STEP_TEXT_CHARS = 4000


def trace_request(case: RemoteCase, most: int) -> CaseRequest | None:
    """The first page of ``case``'s trace, when up to ``most`` steps of it are wanted."""
    if most <= 0 or case.case_id is None:
        return None
    return _page(case.case_id, 0, min(FIRST_STEPS, most), most)


def _page(short_id: str, offset: int, limit: int, most: int) -> CaseRequest:
    return CaseRequest(
        ApiRequest(
            f"/v1/run-test-case/{quote(short_id, safe='')}/trace",
            (("limit", str(limit)), ("offset", str(offset))),
        ),
        functools.partial(_read_page, short_id, offset, limit),
        what="traces",
        instead="with only the steps read before it",
        then=functools.partial(_next_page, short_id, offset, most),
    )


def _next_page(short_id: str, offset: int, most: int, case: RemoteCase) -> CaseRequest | None:
    """The page after the one asked at ``offset``, if the budget and the trace reach on."""
    read = case.steps or ()
    total = case.steps_total or 0
    reached = read[-1].number if read else 0
    left = most - len(read)
    # A page that brought no step at or after the one asked for ends the reading, whatever
    # ``total`` claims: asking again would bring the same.
    if reached <= offset or reached >= total or left <= 0:
        return None
    start = max(reached, total - left)
    return _page(short_id, start, min(FIRST_STEPS, left, total - start), most)


def _read_page(
    short_id: str, offset: int, limit: int, case: RemoteCase, body: object
) -> RemoteCase:
    """``case`` with the steps of one page of its trace after those read before."""
    page = Fields(body, f"trace of case {short_id}")
    answered = page.text("runTestCaseShortId")
    if answered != short_id:
        raise BodyError(
            f"asked for the trace of case {short_id}, but the API answered with case {answered!r}"
        )
    raw_steps, total = page.page("steps", offset, limit, "the steps")
    steps = tuple(_step(short_id, offset + place, raw) for place, raw in enumerate(raw_steps, 1))
    return dataclasses.replace(
        case, steps=(*(case.steps or ()), *steps), steps_total=max(total, offset + len(steps))
    )


def _step(short_id: str, number: int, raw: object) -> Step:
    step = Fields(raw, f"step {number} of the trace of case {short_id}")
    calls = [_call(short_id, number, call) for call in step.objects("toolCalls", required=False)]
    screenshot = step.optional_text("screenshotUrl")
    if screenshot is not None and urlsplit(screenshot).scheme not in ("https", "http"):
        raise BodyError(
            f"step {number} of the trace of case {short_id}: field 'screenshotUrl' is not a "
            "web link"
        )
    duration_ms = step.optional_number("durationMs")
    return Step(
        number,
        intent=_kept(step.optional_text("reasoning")),
        action=_kept("\n".join(calls)) if calls else None,
        result=_kept(step.optional_text("toolResult")),
        screenshot=screenshot,
        duration=None if duration_ms is None else duration_ms / 1000,
    )


def _call(short_id: str, number: int, raw: object) -> str:
    """A tool call as one line: its name and its arguments as JSON."""
    call = Fields(raw, f"a tool call of step {number} of the trace of case {short_id}")
    name = call.text("name")
    arguments = call.get("arguments")
    if not isinstance(arguments, dict):
        return name
    return f"{name} {_kept(json.dumps(arguments, ensure_ascii=False))}"


def _kept(text: str | None) -> str | None:
    return None if text is None else capped(text, STEP_TEXT_CHARS, read=True)
