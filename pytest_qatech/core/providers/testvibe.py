"""TestVibe: ``GET /api/v1/ops/projects/{project}/runs/{runId}`` (TestVibe's ``get_run``).

The run's status goes ``running`` -> ``passed`` | ``failed``; the same answer holds ``tests``,
``summary``, ``artifacts`` and, for runs that did not pass, a ``log`` excerpt once results
exist, so the last status answer is also the results: no second request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.lookup import Lookup, MissingCredentials, SettingsError, unique
from pytest_qatech.core.models import (
    Artifact,
    FinishedRun,
    Outcome,
    RemoteCase,
    RunFacts,
    has_failure,
)
from pytest_qatech.core.options import TESTVIBE, TESTVIBE_KEY, TESTVIBE_PROJECT, TESTVIBE_SERVER
from pytest_qatech.core.providers.base import Description, Progress, Provider, RunSource
from pytest_qatech.core.providers.body import BodyError, Fields, entry_name, unlisted
from pytest_qatech.core.secrets import Secret

ENDED_STATUSES = frozenset({"passed", "failed"})
_MAX_RUN_ID_DIGITS = 18
_KEY = TESTVIBE_KEY.variables[0]


@dataclass(frozen=True)
class TestVibeProvider(Provider):
    # Not a test class, whatever its name says.
    __test__ = False

    key: Secret = field(repr=False)
    project: str

    platform = TESTVIBE
    hints: ClassVar[Mapping[int, str]] = {
        401: f"check {_KEY}: it is missing, mistyped or revoked",
        403: f"check that {_KEY} has access to this project",
        404: f"check the run id and {TESTVIBE_PROJECT.flag} ({TESTVIBE_PROJECT.variable}): the "
        "run must belong to that project",
    }
    lists_while_running = False

    @classmethod
    def configure(cls, run_ids: Sequence[str], lookup: Lookup) -> RunSource:
        checked = unique(_check_run_id(run_id) for run_id in run_ids)
        server = lookup.api_url(
            TESTVIBE_SERVER,
            missing=f"{TESTVIBE.run_flag} needs the TestVibe server: set {TESTVIBE_SERVER.flag} "
            f"URL (ini {TESTVIBE_SERVER.name}, env {TESTVIBE_SERVER.variable}). It has no "
            "default.",
        )
        project = lookup.url_segment(TESTVIBE_PROJECT, "a TestVibe project's public id")
        if project is None:
            raise SettingsError(
                f"{TESTVIBE.run_flag} needs the project the runs belong to: set "
                f"{TESTVIBE_PROJECT.flag} ID (ini {TESTVIBE_PROJECT.name}, env "
                f"{TESTVIBE_PROJECT.variable}) to the project's public id."
            )
        key = lookup.secret(TESTVIBE_KEY)
        if key is None:
            raise MissingCredentials(
                f"{TESTVIBE.run_flag} needs an API key: set {TESTVIBE_KEY.names} in the "
                "environment. It is read only from the environment, never from the command "
                "line or an ini file.",
                TESTVIBE_KEY.names,
            )
        return RunSource(cls(key, project), server, checked)

    def auth_headers(self) -> Mapping[str, Secret]:
        return {"Authorization": Secret(f"Bearer {self.key.reveal()}")}

    def status_request(self, run_id: str, *, listing: bool = False) -> ApiRequest:
        # TestVibe lists a run's tests only once it has ended: listing asks nothing more.
        project = quote(self.project, safe="")
        return ApiRequest(f"/api/v1/ops/projects/{project}/runs/{quote(run_id, safe='')}")

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
        context = (
            ("feature", run.optional_text("featureName")),
            ("config", run.optional_text("config")),
            ("site_url", run.optional_text("siteUrl")),
        )
        cases = tuple(_case(run_id, index, raw) for index, raw in enumerate(raw_tests))
        problem = _run_problem(run_id, status, cases, run.optional_object("summary"))
        return FinishedRun(
            self.name,
            run_id,
            status,
            None,
            cases,
            problem,
            context=tuple((key, value) for key, value in context if value),
            artifacts=_artifacts(run),
            log=log if status != "passed" and log else None,
        )

    @staticmethod
    def describe(run: RunFacts, case: RemoteCase) -> Description:
        properties = (("run_id", run.run_id), *run.context)
        if case.outcome is Outcome.PASSED:
            return Description(properties=properties)
        context = dict(run.context)
        about = ", ".join(
            part
            for part in (
                "feature" in context and f"feature {context['feature']!r}",
                "config" in context and f"config {context['config']!r}",
                "site_url" in context and f"site {context['site_url']}",
            )
            if part
        )
        footer = f"TestVibe run {run.run_id}" + (f" ({about})" if about else "")
        parts = (case.explanation, _manifest(run.artifacts), footer)
        sections: tuple[tuple[str, str], ...] = ()
        if run.log and case.outcome is not Outcome.SKIPPED:
            sections = (("TestVibe run log", run.log),)
        return Description("\n\n".join(part for part in parts if part), properties, sections)


def _check_run_id(run_id: str) -> str:
    text = run_id.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_RUN_ID_DIGITS):
        raise SettingsError(
            f"{TESTVIBE.run_flag} {run_id!r} is not a TestVibe run id: expected a whole number, "
            "as in 'testvibe runs show 214'"
        )
    return str(int(text))


def _run_fields(run_id: str, body: object) -> Fields:
    run = Fields(body, f"run {run_id}")
    answered = run.integer("runId")
    if str(answered) != run_id:
        raise BodyError(f"asked for run {run_id}, but the API answered with run {answered}")
    return run


def _artifacts(run: Fields) -> tuple[Artifact, ...]:
    artifacts = []
    for index, raw in enumerate(run.objects("artifacts", required=False)):
        try:
            artifact = Fields(raw, f"artifact #{index + 1}")
            artifacts.append(
                Artifact(artifact.text("kind"), artifact.text("path"), artifact.integer("size"))
            )
        except BodyError as error:
            artifacts.append(Artifact(problem=str(error)))
    return tuple(artifacts)


def _manifest(artifacts: Sequence[Artifact]) -> str:
    """The artifact manifest as text (kind, path, size); empty when there are none."""
    if not artifacts:
        return ""
    lines = [
        f"  ({artifact.problem})"
        if artifact.problem is not None
        else f"  {artifact.kind:<11} {artifact.path} ({artifact.size:,} bytes)"
        for artifact in artifacts
    ]
    return "Artifacts (download links: testvibe runs artifacts):\n" + "\n".join(lines)


def _case(run_id: str, index: int, raw: object) -> RemoteCase:
    name, key = entry_name(raw, f"test #{index + 1}"), f"#{index + 1}"
    try:
        test = Fields(raw, f"test #{index + 1} of run {run_id}")
        test.text("name")
        status = test.text("status")
        error = test.optional_text("error")
        duration_ms = test.optional_number("durationMs")
    except BodyError as bad:
        # One malformed test must not hide the others: it becomes an error of its own.
        return RemoteCase(name, Outcome.ERROR, str(bad), key=key)
    duration = duration_ms / 1000 if duration_ms is not None else None
    if status == "passed":
        return RemoteCase(name, Outcome.PASSED, key=key, duration=duration)
    headline, _, rest = (error or "").strip().partition("\n")
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
    return RemoteCase(name, outcome, headline, rest.strip(), key, duration=duration)


def _run_problem(
    run_id: str, status: str, cases: tuple[RemoteCase, ...], summary: Fields | None
) -> str | None:
    """Why the run must not count as green on its own account, if it must not."""
    if status not in ENDED_STATUSES:
        listed = "running, passed, failed"
        return unlisted(f"TestVibe run {run_id}", "status", status, TESTVIBE.title, listed)
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
