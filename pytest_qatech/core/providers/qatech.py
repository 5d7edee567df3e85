"""QA.tech: ``GET /v1/run/{shortId}`` (see QA.tech's "Get run" OpenAPI and "Get Run Status API").

Light polls leave out ``testCases`` (``runTestCases`` is then empty or absent); once the run
has ended, one request with ``testCases=all`` returns every case with its verdict. A session
that reports each case as soon as it has a verdict polls with ``testCases=all`` instead: while
the run is RUNNING, the answer lists every case, each without a result until it finishes.

Then, per case, ``GET /v1/run-test-case/{shortId}`` adds what the run endpoint leaves out:
``durationMs``, ``errorCode``, ``projectTestCaseId`` and links to the case, its screenshot and
its recording (QA.tech API reference, "Get run test case",
https://docs.qa.tech/api-reference/runs/get-run-test-case; not among the documents under
``shared/seeds/``). Every field is read as optional, and an answer that does not fit leaves the
case as the run endpoint described it. For a case that did not pass, its agent trace follows
(:mod:`~pytest_qatech.core.providers.qatech_trace`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.lookup import (
    Lookup,
    MissingCredentials,
    SettingsError,
    checked_run_ids,
)
from pytest_qatech.core.models import (
    FinishedRun,
    Link,
    Listed,
    Outcome,
    RemoteCase,
    RunFacts,
    StartedRun,
    has_failure,
)
from pytest_qatech.core.options import (
    QATECH,
    QATECH_API_URL,
    QATECH_DETAILS,
    QATECH_PROJECT,
    QATECH_TOKEN,
    RERUNS_ONLY,
    TRACE_STEPS,
)
from pytest_qatech.core.providers.base import (
    CaseRequest,
    Description,
    Progress,
    Provider,
    RunSource,
)
from pytest_qatech.core.providers.body import MISSING, BodyError, Fields, entry_name, kind, unlisted
from pytest_qatech.core.providers.qatech_start import (
    hints,
    parse_started,
    rerun_request,
    run_path,
)
from pytest_qatech.core.providers.qatech_trace import trace_request
from pytest_qatech.core.secrets import Secret
from pytest_qatech.core.urls import is_path_segment

DASHBOARD = "https://app.qa.tech"
RUNNING_STATUSES = frozenset({"INITIATED", "RUNNING"})
#: The statuses of a case that has ended (and so has its verdict), while its run goes on.
CASE_ENDED_STATUSES = frozenset({"COMPLETED", "ERROR", "CANCELLED"})
_ALL_CASES = (("testCases", "all"),)
RESULTS = frozenset({"PASSED", "FAILED", "SKIPPED"})
#: Error codes that blame the test agent or the platform, not the product under test.
EXECUTION_ERROR_PREFIXES = ("AGENT_", "PLATFORM_")
#: The details' link fields: the link's kind, and its label in the failure text.
_LINKS = (
    ("url", "case", "Case"),
    ("screenshotUrl", "screenshot", "Screenshot"),
    ("recordingUrl", "recording", "Recording"),
)
_LABELS = {kind: label for _, kind, label in _LINKS}


@dataclass(frozen=True)
class QatechProvider(Provider):
    token: Secret = field(repr=False)
    project: str | None
    #: Which cases' details to read: failed (failed, skipped and errored), all or none.
    details: str
    #: The pages of the runs started in this session, as the API named them, by short id.
    started_urls: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: The environment variable the token was read from: what the hints tell to check.
    token_variable: str = field(default=QATECH_TOKEN.variables[0], repr=False)
    #: The most steps of a trace to read (``--qatech-trace-steps``); 0: no trace.
    trace_steps: int = int(TRACE_STEPS.default or 0)
    #: Which cases a rerun runs again (``--qatech-reruns-only``): all, or execution misses.
    reruns_only: str = field(default=RERUNS_ONLY.default or "all")

    platform = QATECH
    can_rerun = True

    def hint(self, http_status: int, *, post: bool = False) -> str | None:
        return hints(self.token_variable, post=post).get(http_status)

    @classmethod
    def configure(cls, run_ids: Sequence[str], lookup: Lookup) -> RunSource:
        checked = checked_run_ids(
            QATECH, run_ids, "a run short id (the shortId returned by QA.tech's Start Run API)"
        )
        found = lookup.secret_of(QATECH_TOKEN)
        if found is None:
            raise MissingCredentials(
                f"{QATECH.run_flag} needs an API token: set {QATECH_TOKEN.names} in the "
                "environment to the project's token from QA.tech Settings -> Integrations -> "
                "API. It is read only from the environment, never from the command line or an "
                "ini file.",
                QATECH_TOKEN.names,
            )
        project = lookup.url_segment(
            QATECH_PROJECT, "a project slug (as in https://app.qa.tech/p/<slug>/...)"
        )
        token, variable = found
        details, reruns_only = lookup.text(QATECH_DETAILS), lookup.text(RERUNS_ONLY)
        if reruns_only == "execution" and details == "none":
            raise SettingsError(
                f"{RERUNS_ONLY.flag} execution tells an execution miss by the errorCode of the "
                f"case's details, which {QATECH_DETAILS.flag} none does not read: use "
                f"{QATECH_DETAILS.flag} failed (the default) or all"
            )
        provider = cls(
            token,
            project,
            details,
            token_variable=variable,
            trace_steps=lookup.count(TRACE_STEPS),
            reruns_only=reruns_only,
        )
        return RunSource(provider, lookup.api_url(QATECH_API_URL), checked)

    def auth_headers(self) -> Mapping[str, Secret]:
        return {"Authorization": Secret(f"Bearer {self.token.reveal()}")}

    def status_request(self, run_id: str, *, listing: bool = False) -> ApiRequest:
        return ApiRequest(run_path(run_id), _ALL_CASES if listing else ())

    def results_request(self, run_id: str, *, listing: bool = False) -> ApiRequest | None:
        # A listing poll's answer is the full read once the run has ended.
        return None if listing else ApiRequest(run_path(run_id), _ALL_CASES)

    def case_request(self, case: RemoteCase) -> CaseRequest | None:
        # A case too malformed to have a short id is an error already; nothing to ask.
        if self.details == "none" or case.case_id is None:
            return None
        if self.details == "failed" and case.outcome is Outcome.PASSED:
            return None
        return CaseRequest(
            ApiRequest(f"/v1/run-test-case/{quote(case.case_id, safe='')}"),
            functools.partial(_detailed, case.case_id),
            then=self.trace_of,
        )

    def trace_of(self, case: RemoteCase) -> CaseRequest | None:
        """The agent's trace of a case that failed or gave no verdict, once the case's details
        are in: a pass and a skip show no traceback."""
        return trace_request(case, self.trace_steps) if case.outcome.fails else None

    def run_url(self, run_id: str) -> str | None:
        if self.project is None:
            return dict(self.started_urls).get(run_id)
        return f"{DASHBOARD}/p/{quote(self.project, safe='')}/results/{quote(run_id, safe='')}"

    def dashboard(self) -> str:
        """Where a person finds the project's runs."""
        return (
            DASHBOARD if self.project is None else f"{DASHBOARD}/p/{quote(self.project, safe='')}"
        )

    def reruns_again(self, case: RemoteCase) -> bool:
        if case.outcome is Outcome.PASSED:
            return False
        # Before its details are read, a case's error code is not known: it may be a miss.
        return self.reruns_only == "all" or case.error_code is None or is_execution_miss(case)

    def rerun_cases(self, cases: Sequence[RemoteCase]) -> tuple[RemoteCase, ...]:
        # All: what failedOnly reruns, the failed, skipped and errored cases. Execution: only
        # the tests the agent or the platform failed to run, named by their stable id; a
        # product failure (TEST_FAILED) is not paid for again, and never turns "flaky".
        return tuple(
            case
            for case in cases
            if case.outcome is not Outcome.PASSED
            and (
                self.reruns_only == "all"
                or (is_execution_miss(case) and case.project_case_id is not None)
            )
        )

    def rerun_request(
        self, run_id: str, cases: Sequence[RemoteCase], *, every: bool
    ) -> ApiRequest | None:
        # failedOnly reruns every failed, skipped and errored case of the run: only when all
        # of them are wanted. Else each test is named by its id (projectTestCaseIds).
        if self.reruns_only == "all" and every:
            return rerun_request(run_id)
        ids = dict.fromkeys(case.project_case_id for case in cases if case.project_case_id)
        return rerun_request(run_id, tuple(ids)) if ids else None

    def parse_rerun(self, run_id: str, body: object) -> StartedRun:
        return parse_started(body, f"the rerun of run {run_id}")

    def parse_status(self, run_id: str, body: object) -> Progress:
        run = Fields(body, f"run {run_id}")
        status = run.text("status")
        run.optional_text("result")
        # A status the reference does not list is not worth waiting an hour for: it ends the
        # wait, and parse_results reports it as a problem of the run.
        finished = status not in RUNNING_STATUSES
        raw_cases = run.get("runTestCases")
        if finished or not isinstance(raw_cases, list):
            # Once the run has ended its cases are read as results. A list, even an empty one
            # (a run still queued), is what the run has so far: with testCases it is always
            # there, and without, no one looks at it.
            return Progress(status, finished)
        repeated = _repeated(run_id, raw_cases)
        listed = tuple(
            Listed(case.key, case.name, case, case.case_id)
            if (case := repeated.get(index)) is not None
            else _listed(run_id, index, raw)
            for index, raw in enumerate(raw_cases)
        )
        return Progress(status, finished, listed)

    def parse_results(self, run_id: str, body: object) -> FinishedRun:
        run = Fields(body, f"run {run_id}")
        short_id = run.text("shortId")
        if short_id != run_id:
            raise BodyError(f"asked for run {run_id}, but the API answered with run {short_id!r}")
        run.text("id")
        status = run.text("status")
        result = run.optional_text("result", required=True)
        raw_cases = run.get("runTestCases")
        if not isinstance(raw_cases, list):
            received = "missing" if raw_cases is MISSING else kind(raw_cases)
            raise BodyError(
                f"run {run_id}: field 'runTestCases' must be a list of test cases once the "
                f"run has ended, received {received}"
            )
        repeated = _repeated(run_id, raw_cases)
        cases = tuple(
            repeated.get(index) or _case(run_id, index, raw) for index, raw in enumerate(raw_cases)
        )
        problem = _run_problem(run_id, status, result, cases)
        return FinishedRun(self.name, run_id, status, result, cases, problem, self.run_url(run_id))

    @staticmethod
    def describe(run: RunFacts, case: RemoteCase) -> Description:
        facts = [
            # The run of the attempt the case's short id is of: after reruns, the last.
            ("run_short_id", run.run_of(case)),
            ("case_short_id", case.case_id),
            ("prompt_goal", case.goal),
            ("run_url", run.url),
            ("error_code", case.error_code),
            *((f"{link.kind}_url", link.url) for link in case.links),
            ("started_at", case.started_at),
            ("completed_at", case.completed_at),
        ]
        properties = tuple((key, value) for key, value in facts if value is not None)
        if case.outcome is Outcome.PASSED:
            # A pass shows no text anywhere.
            return Description(properties=properties)
        footer = [f"Goal: {case.goal}"] if case.goal else []
        if case.case_id is not None:
            footer.append(f"QA.tech case {case.case_id} in run {run.run_of(case)}")
        if run.url:
            footer.append(f"Run: {run.url}")
        if case.error_code:
            footer.append(f"Error code: {case.error_code}")
        footer += (f"{_LABELS[link.kind]}: {link.url}" for link in case.links)
        details = "\n\n".join(part for part in (case.explanation, "\n".join(footer)) if part)
        return Description(details, properties)


def is_execution_miss(case: RemoteCase) -> bool:
    """Whether the agent or the platform failed to run the case (errorCode ``AGENT_*`` or
    ``PLATFORM_*``), rather than the product failing it."""
    return case.error_code is not None and case.error_code.startswith(EXECUTION_ERROR_PREFIXES)


def _run_problem(
    run_id: str, status: str, result: str | None, cases: tuple[RemoteCase, ...]
) -> str | None:
    """Why the run must not count as green on its own account, if it must not."""
    if status in ("ERROR", "CANCELLED"):
        return f"QA.tech run {run_id} ended {status} (result {result})"
    if status in RUNNING_STATUSES:
        return f"QA.tech run {run_id} is still {status}: its results are not final"
    if status != "COMPLETED":
        listed = "INITIATED, RUNNING, COMPLETED, ERROR, CANCELLED"
        return unlisted(f"QA.tech run {run_id}", "status", status, QATECH.title, listed)
    if result is None:
        return f"QA.tech run {run_id} is COMPLETED but has no result"
    if result not in RESULTS:
        listed = "PASSED, FAILED, SKIPPED"
        return unlisted(f"QA.tech run {run_id}", "result", result, QATECH.title, listed)
    if result == "FAILED" and not has_failure(cases):
        return f"QA.tech run {run_id} has result FAILED, but none of its {len(cases)} cases failed"
    return None


def _key(index: int, raw: object) -> str:
    """Who a case is across answers: its short id, or (malformed) its place in the list."""
    short_id = raw.get("shortId") if isinstance(raw, dict) else None
    if isinstance(short_id, str) and is_path_segment(short_id):
        return short_id
    return f"#{index + 1}"


def _repeated(run_id: str, raw_cases: Sequence[object]) -> dict[int, RemoteCase]:
    """The entries of ``runTestCases`` that repeat an earlier entry's short id, by their index.

    Each entry of the list is a case: none is dropped or merged with another. A repetition
    cannot be told apart from the entry it repeats (their details would be the same request),
    so it becomes an error of its own, under its place in the list, never a pass.
    """
    seen: set[str] = set()
    repeated = {}
    for index, raw in enumerate(raw_cases):
        key = _key(index, raw)
        if key in seen:
            repeated[index] = RemoteCase(
                entry_name(raw, f"case #{index + 1}"),
                Outcome.ERROR,
                f"QA.tech listed case short id {key} more than once in run {run_id}: entry "
                f"#{index + 1} repeats an earlier one, so it has no verdict of its own",
                key=f"#{index + 1}",
            )
        seen.add(key)
    return repeated


def _listed(run_id: str, index: int, raw: object) -> Listed:
    """A case of a run still going: with its verdict once the case has ended."""
    key, name = _key(index, raw), entry_name(raw, f"case #{index + 1}")
    case_id = None if key.startswith("#") else key  # its short id, when it has a readable one
    status = raw.get("status") if isinstance(raw, dict) else None
    if isinstance(status, str) and status in CASE_ENDED_STATUSES:
        return Listed(key, name, _case(run_id, index, raw), case_id)
    return Listed(key, name, case_id=case_id)


def _case(run_id: str, index: int, raw: object) -> RemoteCase:
    name = entry_name(raw, f"case #{index + 1}")
    try:
        return _verdict(name, Fields(raw, f"case #{index + 1} of run {run_id}"))
    except BodyError as error:
        # One malformed case must not hide the others: it becomes an error of its own.
        return RemoteCase(name, Outcome.ERROR, str(error), key=_key(index, raw))


def _verdict(name: str, case: Fields) -> RemoteCase:
    case.text("name")
    short_id = case.identifier("shortId")
    status = case.text("status")
    result = case.optional_text("result", required=True)
    title = case.optional_text("resultTitle")
    thought = case.optional_text("evaluationThought")
    goal = case.optional_text("promptGoal")
    case.optional_text("promptExamples")
    verdict = functools.partial(RemoteCase, name, key=short_id, case_id=short_id, goal=goal)

    def error(headline: str) -> RemoteCase:
        explanation = "\n\n".join(part for part in (title, thought) if part)
        return verdict(Outcome.ERROR, headline, explanation)

    if result == "FAILED":
        return verdict(
            Outcome.FAILED,
            title or "QA.tech marked this case FAILED without a resultTitle",
            thought or "",
        )
    if status in ("ERROR", "CANCELLED"):
        return error(f"the case ended {status} (result {result}): it produced no verdict")
    if result == "SKIPPED":
        return verdict(Outcome.SKIPPED, title or "skipped by QA.tech")
    if result is None:
        return error(f"the case has no result although its run has ended (case status {status})")
    if result != "PASSED":
        listed = "PASSED, FAILED, SKIPPED or null"
        return error(unlisted("the case", "result", result, QATECH.title, listed))
    if status != "COMPLETED":
        return error(f"the case has result PASSED but status {status!r}, not COMPLETED")
    return verdict(Outcome.PASSED)


def _detailed(short_id: str, case: RemoteCase, body: object) -> RemoteCase:
    """``case`` with what ``GET /v1/run-test-case/{short_id}`` answered."""
    fields = Fields(body, f"details of case {short_id}")
    answered = fields.optional_text("shortId")
    if answered is not None and answered != short_id:
        raise BodyError(f"asked for case {short_id}, but the API answered with case {answered!r}")
    duration_ms = fields.optional_number("durationMs")
    code = fields.optional_text("errorCode") or None
    project_case_id = fields.optional_text("projectTestCaseId") or None
    links = []
    for name, link_kind, _ in _LINKS:
        link = fields.optional_text(name)
        if link is None:
            continue
        if urlsplit(link).scheme not in ("https", "http"):
            raise BodyError(f"details of case {short_id}: field {name!r} is not a web link")
        links.append(Link(link_kind, link))

    outcome, headline = case.outcome, case.headline
    if code is not None and code.startswith(EXECUTION_ERROR_PREFIXES):
        if outcome in (Outcome.FAILED, Outcome.PASSED):
            # The agent or the platform failed, not the product: no verdict on the product.
            who = "agent" if code.startswith("AGENT_") else "platform"
            outcome = Outcome.ERROR
            headline = f"{code}: the QA.tech {who} could not run this case" + (
                f" ({headline})" if headline else ""
            )
    elif code is not None and outcome is Outcome.PASSED:
        outcome = Outcome.ERROR
        headline = f"QA.tech gave this case result PASSED but errorCode {code}"
    return dataclasses.replace(
        case,
        outcome=outcome,
        headline=headline,
        error_code=code,
        project_case_id=project_case_id,
        duration=case.duration if duration_ms is None else duration_ms / 1000,
        started_at=fields.optional_text("startedAt"),
        completed_at=fields.optional_text("completedAt"),
        links=case.links + tuple(links),
    )
