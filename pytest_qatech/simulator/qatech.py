"""QA.tech's ``GET /v1/run/{shortId}`` (Bearer token; ``runTestCases`` empty without
``testCases``, 400 for a ``testCases`` other than ``all``/``failed``; ``{"message": ...}`` error
bodies), ``GET /v1/run-test-case/{shortId}``, each case's details (duration, error code,
links) with the fields pytest-qatech's issue tracker names, its agent trace
(``GET /v1/run-test-case/{shortId}/trace``, paged by ``limit`` and ``offset``), and the Start
Run and Rerun APIs
(``POST /v1/run``, ``POST /v1/run/{shortId}``, https://docs.qa.tech/api-reference/start-run and
/rerun), which check a body as those references describe it."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from pytest_qatech.simulator.base import Answer, Api, Scripted, Served

DEFAULT_TOKEN = "simulator-token"
#: QA.tech's Start Run API; its Rerun API is ``POST /v1/run/{shortId}``.
START_PATH = "/v1/run"
ENDED = ("COMPLETED", "ERROR", "CANCELLED")
MEDIA = "https://media.simulator.invalid"
_QATECH_APP = "https://app.qatech.simulator.invalid"


#: QA.tech's "List test cases": the project's test cases, a page at a time.
TEST_CASES_PATH = "/v1/test-cases"


def apis(token: str) -> tuple[Api, Api, Api]:
    """The run endpoint, the case details endpoint and the test cases' list, for this token."""
    bearer = {"authorization": f"Bearer {token}"}
    unauthorized = Answer(401, {"message": "Missing or invalid API key"})
    not_found = Answer(404, {"message": "Test case not found"})
    return (
        Api("/v1/run/", bearer, unauthorized, Answer(404, {"message": "Run not found"})),
        Api("/v1/run-test-case/", bearer, unauthorized, not_found),
        Api(TEST_CASES_PATH, bearer, unauthorized, Answer(404, {"message": "Project not found"})),
    )


def _page_asked(query: dict[str, list[str]], most: int) -> tuple[int, int] | None:
    """The ``limit`` (at most ``most``) and ``offset`` a paged request asks for; None if they
    are no whole numbers."""
    try:
        limit = min(int(query.get("limit", [str(most)])[-1]), most)
        offset = int(query.get("offset", ["0"])[-1])
    except ValueError:
        return None
    return (limit, offset) if limit >= 1 and offset >= 0 else None


def case(
    name: str,
    result: str | None = "PASSED",
    *,
    status: str = "COMPLETED",
    title: str | None = None,
    thought: str | None = None,
    goal: str | None = None,
    short_id: str | None = None,
) -> dict[str, Any]:
    """A RunTestCase body with every field the OpenAPI definition requires."""
    key = short_id or f"tc{_crc(name) % 10**6:06d}"
    return {
        "id": f"00000000-0000-4000-8000-{_crc(key):012x}",
        "shortId": key,
        "name": name,
        "status": status,
        "result": result,
        "resultTitle": title,
        "evaluationThought": thought,
        "promptGoal": goal,
        "promptExamples": None,
    }


@dataclass
class SimulatedRun(Scripted):
    """A QA.tech run. Every request to it is a status request (with ``testCases``, one that
    lists its cases): each case is listed from the step ``listed_at`` names (else from the
    start), and has its result from the step ``finish_at`` names, else once the run has ended."""

    short_id: str
    result: str | None = "PASSED"
    cases: list[Any] = field(default_factory=list)
    statuses: Sequence[str] = ("INITIATED", "RUNNING", "COMPLETED")
    #: Per case short id: fields to change in its details, or None for no details (a 404).
    details: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: Per case short id: the steps of its agent trace, or None for no trace (a 404); a case
    #: that did not pass has a few made-up steps unless this says otherwise, one that passed
    #: none.
    traces: dict[str, list[Any] | None] = field(default_factory=dict)
    #: Scripted answers by the index of the request to this run (0 is the first request).
    answers: dict[int, Answer] = field(default_factory=dict)
    #: Per case short id: the step from which the case is listed.
    listed_at: dict[str, int] = field(default_factory=dict)
    #: Per case short id: the step from which the case has its result.
    finish_at: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    #: Per case name: the rerun (1 for the first) from which the case passes.
    passes_on_rerun: dict[str, int] = field(default_factory=dict)
    #: 0 for a run, n for its n-th rerun.
    attempt: int = 0

    @property
    def path(self) -> str:
        return f"/v1/run/{quote(self.short_id, safe='')}"

    def endpoints(self) -> list[Served]:
        served: list[Served] = [self]
        for raw in self.cases:
            if isinstance(raw, dict) and isinstance(raw.get("shortId"), str):
                changes = self.details.get(raw["shortId"], {})
                if changes is not None:
                    body = {**_qatech_case_details(self.short_id, raw), **changes}
                    served.append(SimulatedCaseDetails(raw["shortId"], body))
                steps = self.traces.get(raw["shortId"], _made_up_steps(raw))
                if steps is not None:
                    served.append(SimulatedTrace(raw["shortId"], steps))
        return served

    def project_case_id(self, raw: dict[str, Any]) -> str:
        """The test's stable id, as the case's details give it."""
        changes = self.details.get(str(raw.get("shortId")), {}) or {}
        given = changes.get("projectTestCaseId", project_case_id(raw))
        return str(given)

    def respond(self, query: dict[str, list[str]]) -> Answer:
        test_cases = query.get("testCases", [None])[-1]
        if test_cases not in (None, "all", "failed"):
            return Answer(400, {"message": "Invalid query parameters: testCases"})
        step = self.current_step(advance=True)
        return Answer(200, self.body(test_cases, step))

    def body(self, test_cases: str | None, step: int) -> dict[str, Any]:
        status = self.statuses[min(step, len(self.statuses) - 1)]
        ended = status in ENDED
        cases: list[Any] = []
        if test_cases is not None:
            # Cases go out as scripted, malformed ones included: tests feed the plugin garbage.
            for raw in self.cases:
                key = str(raw.get("shortId")) if isinstance(raw, dict) else ""
                if self.listed_at.get(key, 0) > step and not ended:
                    continue
                finished = ended or self.finish_at.get(key, step + 1) <= step
                if isinstance(raw, dict) and not finished:
                    raw = {**raw, "status": "RUNNING", "result": None}
                cases.append(raw)
            if test_cases == "failed":
                cases = [
                    raw
                    for raw in cases
                    if not isinstance(raw, dict) or raw.get("result") != "PASSED"
                ]
        return {
            "id": f"run-{self.short_id}",
            "shortId": self.short_id,
            "status": status,
            "result": self.result if ended else None,
            "runTestCases": cases,
        }


def _qatech_case_details(run_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    short_id = raw["shortId"]
    duration_ms = 20_000 + _crc(short_id) % 40_000
    started = datetime(2026, 6, 10, 16, 2, 11)
    completed = started + timedelta(milliseconds=duration_ms)
    return {
        "id": raw.get("id"),
        "shortId": short_id,
        "name": raw.get("name"),
        "status": raw.get("status"),
        "result": raw.get("result"),
        "durationMs": duration_ms,
        "errorCode": "TEST_FAILED" if raw.get("result") == "FAILED" else None,
        "projectTestCaseId": project_case_id(raw),
        "url": f"{_QATECH_APP}/results/{run_id}/{short_id}",
        "screenshotUrl": f"{MEDIA}/qatech/{short_id}.png",
        "recordingUrl": f"{MEDIA}/qatech/{short_id}.webm",
        "startedAt": started.isoformat(timespec="milliseconds") + "Z",
        "completedAt": completed.isoformat(timespec="milliseconds") + "Z",
    }


@dataclass
class SimulatedCaseDetails(Served):
    """QA.tech's details of one case, ``GET /v1/run-test-case/{shortId}``."""

    short_id: str
    body: dict[str, Any]
    answers: dict[int, Answer] = field(default_factory=dict)
    requests: int = 0

    @property
    def path(self) -> str:
        return f"/v1/run-test-case/{quote(self.short_id, safe='')}"

    def respond(self, query: dict[str, list[str]]) -> Answer:
        return Answer(200, self.body)


@dataclass
class SimulatedTrace(Served):
    """QA.tech's agent trace of one case, ``GET /v1/run-test-case/{shortId}/trace``, a page
    (``limit`` steps from ``offset``, at most 50) at a time."""

    short_id: str
    steps: list[Any]
    answers: dict[int, Answer] = field(default_factory=dict)
    requests: int = 0

    @property
    def path(self) -> str:
        return f"/v1/run-test-case/{quote(self.short_id, safe='')}/trace"

    def respond(self, query: dict[str, list[str]]) -> Answer:
        asked = _page_asked(query, 50)
        if asked is None:
            return Answer(400, {"message": "Invalid query parameters: limit, offset"})
        limit, offset = asked
        return Answer(
            200,
            {
                "runTestCaseShortId": self.short_id,
                "total": len(self.steps),
                "limit": limit,
                "offset": offset,
                "steps": self.steps[offset : offset + limit],
            },
        )


def trace_step(
    index: int,
    reasoning: str,
    tool: str,
    arguments: dict[str, Any],
    result: str,
    *,
    screenshot: bool = False,
) -> dict[str, Any]:
    """A step of an agent trace, every field the reference names set."""
    started = datetime(2026, 6, 10, 16, 2, 11) + timedelta(seconds=3 * index)
    duration_ms = 1200 + 350 * index
    return {
        "index": index,
        "startedAt": started.isoformat(timespec="milliseconds") + "Z",
        "endedAt": (started + timedelta(milliseconds=duration_ms)).isoformat(
            timespec="milliseconds"
        )
        + "Z",
        "durationMs": duration_ms,
        "reasoning": reasoning,
        "toolCalls": [{"name": tool, "arguments": arguments}],
        "toolResult": result,
        "screenshotUrl": f"{MEDIA}/qatech/step-{index}.png" if screenshot else None,
    }


def _made_up_steps(raw: dict[str, Any]) -> list[Any] | None:
    """A few steps for a case that did not pass, ending where it went wrong; none for a pass."""
    if raw.get("result") == "PASSED":
        return None
    what = raw.get("resultTitle") or "the page did not do what the goal expects"
    return [
        trace_step(0, "Open the application's start page", "navigate", {"url": "/"}, "Loaded /"),
        trace_step(
            1,
            f"Work towards the goal: {raw.get('promptGoal') or raw.get('name')}",
            "click",
            {"selector": "main button[type=submit]"},
            "Clicked the button",
        ),
        trace_step(
            2,
            "Check that the page now shows what the goal expects",
            "assert_visible",
            {"text": "Success"},
            f"Not found: {what}",
            screenshot=True,
        ),
    ]


def project_case_id(raw: dict[str, Any]) -> str:
    """The stable id of the test a case runs (its details' ``projectTestCaseId``, a UUID): the
    same in every run and rerun, as it is made from the case's name."""
    return f"7e57ca5e-0000-4000-8000-{_crc(str(raw.get('name'))):012x}"


def _crc(text: str) -> int:
    """A stable number for a text, whatever odd characters a test puts in it."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


#: ``RunRequest``'s patterns in QA.tech's OpenAPI definition of ``POST /v1/run``.
_PLAN_ID = re.compile(r"pln(-.+_.+|_.+)")
_PROJECT_ID = re.compile(r"proj(-.+_.+|_.+)")
_GITHUB_FIELDS = ("actor", "branch", "commitHash", "commitMessage", "repository")
_START_FIELDS = frozenset(
    {
        "trigger",
        *_GITHUB_FIELDS,
        "testPlanShortId",
        "testCaseIds",
        "applications",
        "notifications",
        "parameters",
        "projectShortId",
    }
)
_RERUN_FIELDS = frozenset({"failedOnly", "projectTestCaseIds", "projectShortId"})


@dataclass
class SimulatedPlan:
    """A test plan: ``make`` builds a run of it under the short id the simulator chose."""

    name: str
    make: Callable[[str], SimulatedRun]
    #: None: the project's default test plan.
    short_id: str | None = None


@dataclass
class SimulatedProject:
    """QA.tech's Start Run (``POST /v1/run``) and Rerun (``POST /v1/run/{shortId}``) APIs, for
    the project the token belongs to. A rerun is a new run of the run's failed, skipped and
    errored cases (``failedOnly``), each with a new short id; a case named in the run's
    ``passes_on_rerun`` passes from that rerun on, as a flaky case does."""

    plans: list[SimulatedPlan] = field(default_factory=list)
    #: Scripted answers by the index of the start (or rerun) request, as for runs.
    start_answers: dict[int, Answer] = field(default_factory=dict)
    rerun_answers: dict[int, Answer] = field(default_factory=dict)
    #: Scripted answers to ``GET /v1/test-cases``, by the index of the request.
    test_cases_answers: dict[int, Answer] = field(default_factory=dict)
    test_cases_requests: int = 0
    #: The status of a successful answer: the reference says 200, a server may say 201.
    success_status: int = 200
    #: The bodies of the start requests, and the runs they started, in order.
    starts: list[dict[str, Any]] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    #: The runs rerun, each with the rerun that was started, in order.
    reruns: list[tuple[str, str]] = field(default_factory=list)
    start_requests: int = 0
    rerun_requests: int = 0

    def start(self, body: object) -> tuple[Answer, SimulatedRun | None]:
        index, self.start_requests = self.start_requests, self.start_requests + 1
        if index in self.start_answers:
            return self.start_answers[index], None
        problem = _start_problem(body)
        if problem:
            return Answer(400, {"message": problem}), None
        assert isinstance(body, dict)
        wanted = body.get("testPlanShortId")
        plan = next((plan for plan in self.plans if plan.short_id == wanted), None)
        if plan is None:
            return Answer(404, {"message": "Test plan not found"}), None
        run = plan.make(f"st{len(self.started) + 1:03d}{_crc(plan.name) % 1000:03d}")
        if "testCaseIds" in body:
            # The plan's cases that the ids name (an assumption: the reference is silent).
            ids, in_plan = body["testCaseIds"], {run.project_case_id(raw) for raw in run.cases}
            strangers = [case_id for case_id in ids if case_id not in in_plan]
            if not ids or strangers:
                which = strangers[0] if strangers else "none"
                return Answer(400, {"message": f"Test case {which} is not in the plan"}), None
            run.cases = [raw for raw in run.cases if run.project_case_id(raw) in ids]
            # A plan that fails by its failing cases passes when started without them.
            if run.result == "FAILED" and all(raw.get("result") == "PASSED" for raw in run.cases):
                run.result = "PASSED"
        self.starts.append(body)
        self.started.append(run.short_id)
        plan_id = plan.short_id or "pln_default0"
        return self._answer(run, {"name": plan.name, "shortId": plan_id}), run

    def test_cases(self, query: dict[str, list[str]]) -> Answer:
        """``GET /v1/test-cases``: the project's test cases (every plan's, each once), ``limit``
        (at most 100) from ``offset``."""
        index, self.test_cases_requests = self.test_cases_requests, self.test_cases_requests + 1
        if index in self.test_cases_answers:
            return self.test_cases_answers[index]
        asked = _page_asked(query, 100)
        if asked is None:
            return Answer(400, {"message": "Invalid query parameters: limit, offset"})
        limit, offset = asked
        cases: dict[str, str] = {}
        for plan in self.plans:
            run = plan.make("preview")
            for raw in run.cases:
                cases.setdefault(run.project_case_id(raw), str(raw.get("name")))
        listed = [
            {"id": case_id, "name": name, "isEnabled": True} for case_id, name in cases.items()
        ]
        return Answer(
            200,
            {
                "testCases": listed[offset : offset + limit],
                "total": len(listed),
                "limit": limit,
                "offset": offset,
            },
        )

    def rerun(self, run: Served | None, body: object) -> tuple[Answer, SimulatedRun | None]:
        index, self.rerun_requests = self.rerun_requests, self.rerun_requests + 1
        if index in self.rerun_answers:
            return self.rerun_answers[index], None
        if not isinstance(run, SimulatedRun):
            return Answer(404, {"message": "Run not found"}), None
        problem = _rerun_problem(body)
        if problem:
            return Answer(400, {"message": problem}), None
        assert isinstance(body, dict)
        cases = [raw for raw in run.cases if isinstance(raw, dict)]
        if body.get("failedOnly") is True:
            chosen = [raw for raw in cases if raw.get("result") != "PASSED"]
        elif "projectTestCaseIds" in body:
            chosen = [
                raw for raw in cases if run.project_case_id(raw) in body["projectTestCaseIds"]
            ]
        else:
            chosen = cases
        if not chosen:
            return Answer(400, {"message": "No test cases to rerun"}), None
        attempt = run.attempt + 1
        short_id = f"{run.short_id[:100]}r{len(self.reruns) + 1}"
        again = [_again(raw, short_id, attempt, run.passes_on_rerun) for raw in chosen]
        failed = any(raw["result"] == "FAILED" for raw in again)
        # A case that fails again fails as it did (its error code, its stable id).
        details = {
            new["shortId"]: run.details[old["shortId"]]
            for old, new in zip(chosen, again, strict=True)
            if new["result"] != "PASSED" and run.details.get(old["shortId"])
        }
        rerun = SimulatedRun(
            short_id,
            result="FAILED" if failed else "PASSED",
            cases=again,
            attempt=attempt,
            passes_on_rerun=run.passes_on_rerun,
            details=details,
        )
        self.reruns.append((run.short_id, short_id))
        return self._answer(rerun), rerun

    def _answer(self, run: SimulatedRun, plan: dict[str, Any] | None = None) -> Answer:
        started: dict[str, Any] = {
            "id": f"00000000-0000-4000-8000-{_crc(run.short_id):012x}",
            "shortId": run.short_id,
            "url": f"{_QATECH_APP}/p/simulator/results/{run.short_id}",
            "testCount": len(run.cases),
        }
        if plan is not None:
            started["testPlan"] = plan
        return Answer(self.success_status, {"success": True, "run": started})


def _again(
    raw: dict[str, Any], run_id: str, attempt: int, passes: dict[str, int]
) -> dict[str, Any]:
    """A case of a rerun: a new short id, and a pass if the case passes from this attempt on."""
    key = f"{raw['shortId'][:100]}{run_id[-6:]}"
    again = {**raw, "shortId": key, "id": f"00000000-0000-4000-8000-{_crc(key):012x}"}
    if attempt >= passes.get(raw["name"], attempt + 1):
        again.update(status="COMPLETED", result="PASSED", resultTitle=None, evaluationThought=None)
    return again


def _object_problem(body: object, fields: frozenset[str]) -> str | None:
    """What is wrong with a body that must be a JSON object of ``fields``, if anything."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    unknown = sorted(set(body) - fields)
    return f"Unrecognized key(s) in object: {', '.join(map(repr, unknown))}" if unknown else None


def _start_problem(body: object) -> str | None:
    """What the reference's ``RunRequest`` rules out in ``body``, if anything."""
    problem = _object_problem(body, _START_FIELDS)
    if problem is not None or not isinstance(body, dict):
        return problem
    if body.get("trigger", "API") not in ("API", "GITHUB"):
        return "trigger must be one of API, GITHUB"
    for name in _GITHUB_FIELDS:
        if name in body and not isinstance(body[name], str):
            return f"{name} must be a string"
    plan = body.get("testPlanShortId")
    if plan is not None and not (isinstance(plan, str) and _PLAN_ID.fullmatch(plan)):
        return "testPlanShortId must match ^pln(-.+_.+|_.+)$"
    project = body.get("projectShortId")
    if project is not None and not (isinstance(project, str) and _PROJECT_ID.fullmatch(project)):
        return "projectShortId must match ^proj(-.+_.+|_.+)$"
    ids = body.get("testCaseIds", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return "testCaseIds must be an array of strings"
    applications = body.get("applications", [])
    if not isinstance(applications, list):
        return "applications must be an array"
    for application in applications:
        if not isinstance(application, dict) or not isinstance(
            application.get("applicationShortId"), str
        ):
            return "applications[].applicationShortId is required"
        environment = application.get("environment")
        if environment is not None and not (
            isinstance(environment, dict)
            and all(isinstance(value, str) for value in environment.values())
            and set(environment) <= {"url", "name", "shortId"}
        ):
            return "applications[].environment must be {url, name} or {shortId}"
    return None


def _rerun_problem(body: object) -> str | None:
    problem = _object_problem(body, _RERUN_FIELDS)
    if problem is not None or not isinstance(body, dict):
        return problem
    if "failedOnly" in body and "projectTestCaseIds" in body:
        return "Provide either failedOnly or projectTestCaseIds, not both"
    if "failedOnly" in body and not isinstance(body["failedOnly"], bool):
        return "failedOnly must be a boolean"
    ids = body.get("projectTestCaseIds", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return "projectTestCaseIds must be an array of strings"
    return None
