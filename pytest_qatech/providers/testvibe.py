"""TestVibe: ``GET /api/v1/ops/projects/{project}/runs/{runId}`` (TestVibe's ``get_run``).

The run's status goes ``running`` -> ``passed`` | ``failed``; the same answer holds ``tests``,
``summary``, ``artifacts`` and, for runs that did not pass, a ``log`` excerpt once results
exist, so the last status answer is also the results: no second request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from pytest_qatech.models import FinishedRun, Outcome, RemoteCase, has_failure
from pytest_qatech.providers import ApiRequest, BodyError, CaseDetails, Progress, RunSource
from pytest_qatech.providers.body import Fields, entry_name
from pytest_qatech.settings import (
    Lookup,
    Secret,
    SettingsError,
    check_api_url,
    check_url_segment,
    unique,
)

KEY_VARIABLE = "TESTVIBE_API_KEY"
ENDED_STATUSES = frozenset({"passed", "failed"})
LOG_SECTION = "TestVibe run log"
_MAX_RUN_ID_DIGITS = 18

_HINTS = {
    401: f"check {KEY_VARIABLE}: it is missing, mistyped or revoked",
    403: f"check that {KEY_VARIABLE} has access to this project",
    404: "check the run id and --testvibe-project (TESTVIBE_PROJECT): the run must belong to "
    "that project",
}


def configure(run_ids: Sequence[str], lookup: Lookup) -> RunSource:
    checked = unique(_check_run_id(run_id) for run_id in run_ids)
    server = lookup.value("testvibe_server", "TESTVIBE_SERVER")
    if server is None:
        raise SettingsError(
            "--testvibe-run needs the TestVibe server: set --testvibe-server URL (ini "
            "testvibe_server, env TESTVIBE_SERVER). It has no default."
        )
    project = lookup.value("testvibe_project", "TESTVIBE_PROJECT")
    if project is None:
        raise SettingsError(
            "--testvibe-run needs the project the runs belong to: set --testvibe-project ID "
            "(ini testvibe_project, env TESTVIBE_PROJECT) to the project's public id."
        )
    check_url_segment(project, "--testvibe-project", "a TestVibe project's public id")
    key = lookup.secret(KEY_VARIABLE)
    if key is None:
        raise SettingsError(
            f"--testvibe-run needs an API key: set {KEY_VARIABLE} in the environment. It is "
            "read only from the environment, never from the command line or an ini file."
        )
    return RunSource(
        TestVibeProvider(key, project), check_api_url(server, "--testvibe-server"), checked
    )


def _check_run_id(run_id: str) -> str:
    text = run_id.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_RUN_ID_DIGITS):
        raise SettingsError(
            f"--testvibe-run {run_id!r} is not a TestVibe run id: expected a whole number, "
            "as in 'testvibe runs show 214'"
        )
    return str(int(text))


class TestVibeProvider:
    # Not a test class, whatever its name says.
    __test__ = False

    name = "testvibe"
    title = "TestVibe"

    def __init__(self, key: Secret, project: str) -> None:
        self._key = key
        self._project = project

    def __repr__(self) -> str:
        return f"TestVibeProvider(project={self._project!r})"

    def auth_headers(self) -> Mapping[str, Secret]:
        return {"Authorization": Secret(f"Bearer {self._key.reveal()}")}

    def status_request(self, run_id: str) -> ApiRequest:
        project = quote(self._project, safe="")
        return ApiRequest(f"/api/v1/ops/projects/{project}/runs/{quote(run_id, safe='')}")

    def results_request(self, run_id: str) -> ApiRequest | None:
        return None

    def case_details(self, run: FinishedRun) -> Sequence[CaseDetails]:
        return ()

    def run_url(self, run_id: str) -> str | None:
        return None

    def hint(self, http_status: int) -> str | None:
        return _HINTS.get(http_status)

    def parse_status(self, run_id: str, body: object) -> Progress:
        run = _run_fields(run_id, body)
        status = run.text("status")
        # A status the reference does not list ends the wait; parse_results reports it.
        return Progress(status=status, finished=status != "running")

    def parse_results(self, run_id: str, body: object) -> FinishedRun:
        run = _run_fields(run_id, body)
        status = run.text("status")
        raw_tests = run.objects("tests", required=status in ENDED_STATUSES)
        log = run.optional_text("log")
        context = _Context(
            run_id=run_id,
            feature=run.optional_text("featureName"),
            config=run.optional_text("config"),
            site=run.optional_text("siteUrl"),
            artifacts=_artifacts(run),
            log=log if status != "passed" and log else None,
        )
        cases = tuple(_case(context, index, raw) for index, raw in enumerate(raw_tests))
        return FinishedRun(
            provider=self.name,
            run_id=run_id,
            status=status,
            result=None,
            cases=cases,
            problem=_run_problem(run_id, status, cases, run.optional_object("summary")),
        )


def _run_fields(run_id: str, body: object) -> Fields:
    run = Fields(body, f"run {run_id}")
    answered = run.integer("runId")
    if str(answered) != run_id:
        raise BodyError(f"asked for run {run_id}, but the API answered with run {answered}")
    return run


class _Context:
    """What every test of a run shares: where it ran, its artifacts and its log."""

    def __init__(
        self,
        *,
        run_id: str,
        feature: str | None,
        config: str | None,
        site: str | None,
        artifacts: str,
        log: str | None,
    ) -> None:
        self.run_id = run_id
        self.artifacts = artifacts
        self.sections = ((LOG_SECTION, log),) if log else ()
        about = ", ".join(
            part
            for part in (
                feature and f"feature {feature!r}",
                config and f"config {config!r}",
                site and f"site {site}",
            )
            if part
        )
        self.footer = f"TestVibe run {run_id}" + (f" ({about})" if about else "")
        self.properties = tuple(
            (key, value)
            for key, value in (
                ("run_id", run_id),
                ("feature", feature),
                ("config", config),
                ("site_url", site),
            )
            if value
        )


def _artifacts(run: Fields) -> str:
    """The artifact manifest as text (kind, path, size); empty when there are none."""
    lines = []
    for index, raw in enumerate(run.objects("artifacts", required=False)):
        try:
            artifact = Fields(raw, f"artifact #{index + 1}")
            kind, path = artifact.text("kind"), artifact.text("path")
            size = artifact.integer("size")
        except BodyError as error:
            lines.append(f"  ({error})")
            continue
        lines.append(f"  {kind:<11} {path} ({size:,} bytes)")
    return (
        "Artifacts (download links: testvibe runs artifacts):\n" + "\n".join(lines) if lines else ""
    )


def _case(context: _Context, index: int, raw: object) -> RemoteCase:
    name = entry_name(raw, f"test #{index + 1}")
    try:
        test = Fields(raw, f"test #{index + 1} of run {context.run_id}")
        test.text("name")
        status = test.text("status")
        error = test.optional_text("error")
        duration_ms = test.optional_number("durationMs")
    except BodyError as bad:
        # One malformed test must not hide the others: it becomes an error of its own.
        return RemoteCase(name, Outcome.ERROR, str(bad), sections=context.sections)
    duration = duration_ms / 1000 if duration_ms is not None else None
    if status == "passed":
        return RemoteCase(name, Outcome.PASSED, properties=context.properties, duration=duration)
    headline, _, rest = (error or "").strip().partition("\n")
    details = "\n\n".join(
        part for part in (rest.strip(), context.artifacts, context.footer) if part
    )
    if status == "failed":
        outcome = Outcome.FAILED
        headline = headline or "TestVibe marked this test failed without an error message"
    elif status == "skipped":
        outcome = Outcome.SKIPPED
        headline = headline or "skipped by TestVibe"
    else:
        # TestVibe counts these under summary.other: no verdict, so never a pass.
        outcome = Outcome.ERROR
        reason = f": {headline}" if headline else ""
        headline = f"the test ended {status!r}, neither passed nor failed{reason}"
    return RemoteCase(
        name,
        outcome,
        headline,
        details,
        context.properties,
        duration,
        context.sections if outcome is not Outcome.SKIPPED else (),
    )


def _run_problem(
    run_id: str, status: str, cases: tuple[RemoteCase, ...], summary: Fields | None
) -> str | None:
    """Why the run must not count as green on its own account, if it must not."""
    if status not in ENDED_STATUSES:
        return (
            f"TestVibe run {run_id} has status {status!r}, which the TestVibe API reference "
            "does not list (running, passed, failed)"
        )
    if status == "failed" and not has_failure(cases):
        return f"TestVibe run {run_id} failed, but none of its {len(cases)} tests failed"
    if summary is not None:
        total = summary.integer("total")
        if total != len(cases):
            return (
                f"TestVibe run {run_id}: its summary counts {total} tests, but it lists "
                f"{len(cases)}; the missing ones have no verdict"
            )
    return None
