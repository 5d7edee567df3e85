"""QA.tech: ``GET /v1/run/{shortId}`` (see QA.tech's "Get run" OpenAPI and "Get Run Status API").

Light polls leave out ``testCases`` (``runTestCases`` is then empty or absent); once the run
has ended, one request with ``testCases=all`` returns every case with its verdict.

Then, per case, ``GET /v1/run-test-case/{shortId}`` adds what the run endpoint leaves out:
``durationMs``, ``errorCode`` and links to the case, its screenshot and its recording. This
endpoint is not in the API documents under ``shared/seeds/``; its path and fields are those
the project's issue tracker names, every field is optional, and an answer that does not fit
leaves the case as the run endpoint described it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlsplit

from pytest_qatech.models import FinishedRun, Outcome, RemoteCase, has_failure
from pytest_qatech.providers import ApiRequest, BodyError, CaseDetails, Progress, RunSource
from pytest_qatech.providers.body import MISSING, Fields, entry_name, kind
from pytest_qatech.settings import (
    Lookup,
    Secret,
    SettingsError,
    check_api_url,
    check_url_segment,
    unique,
)

DEFAULT_API_URL = "https://api.qa.tech"
TOKEN_VARIABLES = ("QATECH_API_TOKEN", "QATECH_API_KEY")
DASHBOARD = "https://app.qa.tech"
RUNNING_STATUSES = frozenset({"INITIATED", "RUNNING"})
ENDED_STATUSES = frozenset({"COMPLETED", "ERROR", "CANCELLED"})
RESULTS = frozenset({"PASSED", "FAILED", "SKIPPED"})
#: Which cases get a details request; the default leaves out passes, whose reports show no text.
DETAILS_MODES = ("failed", "all", "none")
#: Error codes that blame the test agent or the platform, not the product under test.
EXECUTION_ERROR_PREFIXES = ("AGENT_", "PLATFORM_")
_LINKS = (
    ("url", "case_url", "Case"),
    ("screenshotUrl", "screenshot_url", "Screenshot"),
    ("recordingUrl", "recording_url", "Recording"),
)

_HINTS = {
    400: "the API rejected the query; this is a bug in pytest-qatech, please report it",
    401: "check QATECH_API_TOKEN: it is missing, mistyped or revoked",
    403: "the organisation may be suspended, or the token lacks access to this project",
    404: "check the run id, and that QATECH_API_TOKEN belongs to the project that ran it",
}


def configure(run_ids: Sequence[str], lookup: Lookup) -> RunSource:
    checked = unique(
        check_url_segment(
            run_id,
            "--qatech-run",
            "a run short id (the shortId returned by QA.tech's Start Run API)",
        )
        for run_id in run_ids
    )
    token = lookup.secret(*TOKEN_VARIABLES)
    if token is None:
        raise SettingsError(
            "--qatech-run needs an API token: set QATECH_API_TOKEN (or QATECH_API_KEY) in the "
            "environment to the project's token from QA.tech Settings -> Integrations -> API. "
            "It is read only from the environment, never from the command line or an ini file."
        )
    project = lookup.value("qatech_project", "QATECH_PROJECT")
    if project is not None:
        check_url_segment(
            project, "--qatech-project", "a project slug (as in https://app.qa.tech/p/<slug>/...)"
        )
    details = lookup.value("qatech_details", "QATECH_DETAILS") or DETAILS_MODES[0]
    if details not in DETAILS_MODES:
        raise SettingsError(
            f"--qatech-details {details!r} is not one of {', '.join(DETAILS_MODES)}: which cases "
            "to read durations, error codes and links for (failed = failed, skipped and errored)"
        )
    api_url = lookup.value("qatech_api_url", "QATECH_API_URL") or DEFAULT_API_URL
    return RunSource(
        QatechProvider(token, project, details),
        check_api_url(api_url, "--qatech-api-url"),
        checked,
    )


class QatechProvider:
    name = "qatech"
    title = "QA.tech"

    def __init__(
        self, token: Secret, project: str | None = None, details: str = DETAILS_MODES[0]
    ) -> None:
        self._token = token
        self._project = project
        self._details = details

    def __repr__(self) -> str:
        return f"QatechProvider(details={self._details!r})"

    def auth_headers(self) -> Mapping[str, Secret]:
        return {"Authorization": Secret(f"Bearer {self._token.reveal()}")}

    def status_request(self, run_id: str) -> ApiRequest:
        return ApiRequest(_run_path(run_id))

    def results_request(self, run_id: str) -> ApiRequest:
        return ApiRequest(_run_path(run_id), (("testCases", "all"),))

    def case_details(self, run: FinishedRun) -> Sequence[CaseDetails]:
        if self._details == "none":
            return ()
        requests = []
        for index, case in enumerate(run.cases):
            if self._details == "failed" and case.outcome is Outcome.PASSED:
                continue
            # A case too malformed to have a short id is an error already; nothing to ask.
            short_id = dict(case.properties).get("case_short_id")
            if short_id is not None:
                request = ApiRequest(f"/v1/run-test-case/{quote(short_id, safe='')}")
                requests.append(CaseDetails(index, request, functools.partial(_detailed, short_id)))
        return requests

    def run_url(self, run_id: str) -> str | None:
        if self._project is None:
            return None
        return f"{DASHBOARD}/p/{quote(self._project, safe='')}/results/{quote(run_id, safe='')}"

    def hint(self, http_status: int) -> str | None:
        return _HINTS.get(http_status)

    def parse_status(self, run_id: str, body: object) -> Progress:
        run = Fields(body, f"run {run_id}")
        status = run.text("status")
        run.optional_text("result")
        # A status the reference does not list is not worth waiting an hour for: it ends the
        # wait, and parse_results reports it as a problem of the run.
        return Progress(status=status, finished=status not in RUNNING_STATUSES)

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
        url = self.run_url(run_id)
        cases = tuple(_case(run_id, url, index, raw) for index, raw in enumerate(raw_cases))
        return FinishedRun(
            provider=self.name,
            run_id=run_id,
            status=status,
            result=result,
            cases=cases,
            problem=_run_problem(run_id, status, result, cases),
            url=url,
        )


def _run_path(run_id: str) -> str:
    return f"/v1/run/{quote(run_id, safe='')}"


def _run_problem(
    run_id: str, status: str, result: str | None, cases: tuple[RemoteCase, ...]
) -> str | None:
    """Why the run must not count as green on its own account, if it must not."""
    if status in ("ERROR", "CANCELLED"):
        return f"QA.tech run {run_id} ended {status} (result {result})"
    if status in RUNNING_STATUSES:
        return f"QA.tech run {run_id} is still {status}: its results are not final"
    if status != "COMPLETED":
        return (
            f"QA.tech run {run_id} has status {status!r}, which the QA.tech API reference does "
            "not list (INITIATED, RUNNING, COMPLETED, ERROR, CANCELLED)"
        )
    if result is None:
        return f"QA.tech run {run_id} is COMPLETED but has no result"
    if result not in RESULTS:
        return (
            f"QA.tech run {run_id} has result {result!r}, which the QA.tech API reference "
            "does not list (PASSED, FAILED, SKIPPED)"
        )
    if result == "FAILED" and not has_failure(cases):
        return f"QA.tech run {run_id} has result FAILED, but none of its {len(cases)} cases failed"
    return None


def _case(run_id: str, url: str | None, index: int, raw: object) -> RemoteCase:
    where = f"case #{index + 1} of run {run_id}"
    name = entry_name(raw, f"case #{index + 1}")
    try:
        return _verdict(run_id, url, name, Fields(raw, where))
    except BodyError as error:
        # One malformed case must not hide the others: it becomes an error of its own.
        return RemoteCase(name=name, outcome=Outcome.ERROR, headline=str(error))


def _verdict(run_id: str, url: str | None, name: str, case: Fields) -> RemoteCase:
    case.text("name")
    short_id = case.text("shortId")
    status = case.text("status")
    result = case.optional_text("result", required=True)
    title = case.optional_text("resultTitle")
    thought = case.optional_text("evaluationThought")
    goal = case.optional_text("promptGoal")
    case.optional_text("promptExamples")

    properties = [("run_short_id", run_id), ("case_short_id", short_id)]
    if goal is not None:
        properties.append(("prompt_goal", goal))
    if url is not None:
        properties.append(("run_url", url))
    footer = _footer(run_id, short_id, goal, url)

    def error(headline: str) -> RemoteCase:
        details = "\n\n".join(part for part in (title, thought, footer) if part)
        return RemoteCase(name, Outcome.ERROR, headline, details, tuple(properties))

    if result == "FAILED":
        explanation = thought or "(QA.tech gave no evaluationThought for this case)"
        return RemoteCase(
            name,
            Outcome.FAILED,
            title or "QA.tech marked this case FAILED without a resultTitle",
            f"{explanation}\n\n{footer}",
            tuple(properties),
        )
    if status in ("ERROR", "CANCELLED"):
        return error(f"the case ended {status} (result {result}): it produced no verdict")
    if result == "SKIPPED":
        return RemoteCase(
            name, Outcome.SKIPPED, title or "skipped by QA.tech", footer, tuple(properties)
        )
    if result is None:
        return error(f"the case has no result although its run has ended (case status {status})")
    if result != "PASSED":
        return error(
            f"the case has result {result!r}, which the QA.tech API reference does not list "
            "(PASSED, FAILED, SKIPPED or null)"
        )
    if status != "COMPLETED":
        return error(f"the case has result PASSED but status {status!r}, not COMPLETED")
    # A pass shows no text anywhere, so it keeps none: 10,000 passes are many strings.
    return RemoteCase(name, Outcome.PASSED, properties=tuple(properties))


def _footer(run_id: str, short_id: str, goal: str | None, url: str | None) -> str:
    lines = [f"Goal: {goal}"] if goal else []
    lines.append(f"QA.tech case {short_id} in run {run_id}")
    if url:
        lines.append(f"Run: {url}")
    return "\n".join(lines)


def _detailed(short_id: str, case: RemoteCase, body: object) -> RemoteCase:
    """``case`` with what ``GET /v1/run-test-case/{short_id}`` answered."""
    fields = Fields(body, f"details of case {short_id}")
    answered = fields.optional_text("shortId")
    if answered is not None and answered != short_id:
        raise BodyError(f"asked for case {short_id}, but the API answered with case {answered!r}")
    duration_ms = fields.optional_number("durationMs")
    code = fields.optional_text("errorCode") or None
    properties = [("error_code", code)] if code else []
    lines = [f"Error code: {code}"] if code else []
    for field, key, label in _LINKS:
        link = fields.optional_text(field)
        if link is None:
            continue
        if urlsplit(link).scheme not in ("https", "http"):
            raise BodyError(f"details of case {short_id}: field {field!r} is not a web link")
        properties.append((key, link))
        lines.append(f"{label}: {link}")
    for field, key in (("startedAt", "started_at"), ("completedAt", "completed_at")):
        moment = fields.optional_text(field)
        if moment is not None:
            properties.append((key, moment))

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
    details = case.details
    if outcome is not Outcome.PASSED and lines:
        details = "\n".join(([details] if details else []) + lines)
    return dataclasses.replace(
        case,
        outcome=outcome,
        headline=headline,
        details=details,
        properties=case.properties + tuple(properties),
        duration=case.duration if duration_ms is None else duration_ms / 1000,
    )
