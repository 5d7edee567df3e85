"""Autonoma: ``GET /run/{run_id}`` (Autonoma's "Get Specific Test Run").

An Autonoma run is one test: it is waited for with light requests while ``pending`` or
``running``; once ``passed`` or ``failed`` it is read once with ``steps=true&media=true`` and
becomes one pytest item, named after the test, under its folder when it has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from pytest_qatech.models import FinishedRun, Outcome, RemoteCase
from pytest_qatech.providers import ApiRequest, BodyError, CaseDetails, Progress, RunSource
from pytest_qatech.providers.body import Fields
from pytest_qatech.settings import (
    Lookup,
    Secret,
    SettingsError,
    check_api_url,
    check_url_segment,
    unique,
)

DEFAULT_API_URL = "https://autonoma.app/api"
ID_VARIABLE = "AUTONOMA_CLIENT_ID"
SECRET_VARIABLE = "AUTONOMA_CLIENT_SECRET"
WAITING_STATUSES = frozenset({"pending", "running"})
MEDIA_NOTE = "Media links (screenshots, video) expire an hour after this report was fetched."

_HINTS = {
    401: f"check {ID_VARIABLE} and {SECRET_VARIABLE}: missing, mistyped or revoked",
    403: f"check that the {ID_VARIABLE} credentials may read this organisation's runs",
    404: "check the run id: it must be a test run (not a folder run or a test id) of the "
    "organisation whose credentials are set",
}


def configure(run_ids: Sequence[str], lookup: Lookup) -> RunSource:
    checked = unique(
        check_url_segment(run_id, "--autonoma-run", "an Autonoma test run id") for run_id in run_ids
    )
    client_id, client_secret = lookup.secret(ID_VARIABLE), lookup.secret(SECRET_VARIABLE)
    if client_id is None or client_secret is None:
        raise SettingsError(
            f"--autonoma-run needs API credentials: set {ID_VARIABLE} and {SECRET_VARIABLE} "
            "in the environment. They are read only from the environment, never from the "
            "command line or an ini file."
        )
    api_url = lookup.value("autonoma_api_url", "AUTONOMA_API_URL") or DEFAULT_API_URL
    return RunSource(
        AutonomaProvider(client_id, client_secret),
        check_api_url(api_url, "--autonoma-api-url"),
        checked,
    )


class AutonomaProvider:
    name = "autonoma"
    title = "Autonoma"

    def __init__(self, client_id: Secret, client_secret: Secret) -> None:
        self._client_id = client_id
        self._client_secret = client_secret

    def __repr__(self) -> str:
        return "AutonomaProvider()"

    def auth_headers(self) -> Mapping[str, Secret]:
        return {
            "autonoma-client-id": self._client_id,
            "autonoma-client-secret": self._client_secret,
        }

    def status_request(self, run_id: str) -> ApiRequest:
        return ApiRequest(_run_path(run_id))

    def results_request(self, run_id: str) -> ApiRequest | None:
        return ApiRequest(_run_path(run_id), (("steps", "true"), ("media", "true")))

    def case_details(self, run: FinishedRun) -> Sequence[CaseDetails]:
        return ()

    def run_url(self, run_id: str) -> str | None:
        return None

    def hint(self, http_status: int) -> str | None:
        return _HINTS.get(http_status)

    def parse_status(self, run_id: str, body: object) -> Progress:
        status = _run_fields(run_id, body).text("status")
        # A status the reference does not list ends the wait; parse_results reports it.
        return Progress(status=status, finished=status not in WAITING_STATUSES)

    def parse_results(self, run_id: str, body: object) -> FinishedRun:
        run = _run_fields(run_id, body)
        status = run.text("status")
        name = run.text("name")
        folder = run.optional_object("folder")
        folder_name = folder.text("name") if folder is not None else None
        try:
            case = _case(run_id, name, status, run, folder_name)
        except BodyError as error:
            # The run's verdict cannot be trusted without readable steps: an error, never a pass.
            case = RemoteCase(name, Outcome.ERROR, str(error))
        return FinishedRun(
            provider=self.name,
            run_id=run_id,
            status=status,
            result=None,
            cases=(case,),
            group=folder_name,
        )


def _run_path(run_id: str) -> str:
    return f"/run/{quote(run_id, safe='')}"


def _run_fields(run_id: str, body: object) -> Fields:
    run = Fields(body, f"run {run_id}")
    answered = run.text("id")
    if answered != run_id:
        raise BodyError(f"asked for run {run_id}, but the API answered with run {answered!r}")
    return run


@dataclass(frozen=True)
class _Step:
    number: int
    status: str
    instruction: str | None
    interaction: str | None
    output: str | None
    url: str | None
    selector: str | None
    image: str | None

    @classmethod
    def read(cls, run_id: str, index: int, raw: object) -> _Step:
        step = Fields(raw, f"step {index + 1} of run {run_id}")
        element = step.optional_object("element")
        return cls(
            number=index + 1,
            status=step.text("status"),
            instruction=step.optional_text("instruction"),
            interaction=step.optional_text("interaction"),
            output=step.optional_text("output"),
            url=step.optional_text("url"),
            selector=element.optional_text("selector") if element is not None else None,
            image=step.optional_text("image"),
        )

    def line(self) -> str:
        return f"  {self.number:>3}. {self.status:<7} {self.instruction or '(no instruction)'}"

    def description(self, total: int) -> str:
        lines = [f"Failed step {self.number} of {total}: {self.instruction or '(no instruction)'}"]
        for label, value in (
            ("interaction", self.interaction),
            ("output", self.output),
            ("url", self.url),
            ("selector", self.selector),
            ("screenshot", self.image),
        ):
            if value:
                lines.append(f"  {label}: {value}")
        return "\n".join(lines)


def _case(run_id: str, name: str, status: str, run: Fields, folder: str | None) -> RemoteCase:
    steps = [
        _Step.read(run_id, index, raw)
        for index, raw in enumerate(run.objects("steps", required=False))
    ]
    test_id = run.optional_text("test_id")
    video = run.optional_text("video_url")
    failed = next((step for step in steps if step.status == "failed"), None)
    properties = [("run_id", run_id)]
    properties += [
        (key, value)
        for key, value in (
            ("test_id", test_id),
            ("folder", folder),
            ("video_url", video),
            ("screenshot_url", failed.image if failed else None),
        )
        if value
    ]
    if status == "passed":
        return RemoteCase(name, Outcome.PASSED, properties=tuple(properties))

    footer = f"Autonoma run {run_id}" + (f" of test {test_id}" if test_id else "")
    parts = [failed.description(len(steps))] if failed else []
    if steps:
        parts.append("Steps:\n" + "\n".join(step.line() for step in steps))
    else:
        parts.append("Steps: none reported")
    if video:
        parts.append(f"Video: {video}")
    if (failed and failed.image) or video:
        parts.append(MEDIA_NOTE)
    parts.append(footer)
    details = "\n\n".join(parts)

    if status == "failed":
        if failed is not None:
            headline = f"step {failed.number} failed: {failed.instruction or '(no instruction)'}"
        else:
            headline = "Autonoma marked the run failed, but none of its steps is marked failed"
        return RemoteCase(name, Outcome.FAILED, headline, details, tuple(properties))
    return RemoteCase(
        name,
        Outcome.ERROR,
        f"the run has status {status!r}, which the Autonoma API reference does not list "
        "(pending, running, passed, failed)",
        details,
        tuple(properties),
    )
