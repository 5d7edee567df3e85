"""Autonoma: ``GET /run/{run_id}`` (Autonoma's "Get Specific Test Run").

An Autonoma run is one test: it is waited for with light requests while ``pending`` or
``running``; once ``passed`` or ``failed`` it is read once with ``steps=true&media=true`` and
becomes one case, named after the test, under its folder when it has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.lookup import Lookup, MissingCredentials, checked_run_ids
from pytest_qatech.core.models import (
    FinishedRun,
    Link,
    Listed,
    Outcome,
    RemoteCase,
    RunFacts,
    Step,
    kept_steps,
)
from pytest_qatech.core.options import (
    AUTONOMA,
    AUTONOMA_API_URL,
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    TRACE_STEPS,
)
from pytest_qatech.core.providers.base import (
    Description,
    Progress,
    Provider,
    RunSource,
)
from pytest_qatech.core.providers.body import BodyError, Fields, unlisted
from pytest_qatech.core.secrets import Secret

WAITING_STATUSES = frozenset({"pending", "running"})
_ID, _SECRET = AUTONOMA_CLIENT_ID.names, AUTONOMA_CLIENT_SECRET.names


@dataclass(frozen=True)
class AutonomaProvider(Provider):
    client_id: Secret = field(repr=False)
    client_secret: Secret = field(repr=False)
    #: The most steps of a run to keep (``--qatech-trace-steps``); 0: none.
    trace_steps: int = int(TRACE_STEPS.default or 0)

    platform = AUTONOMA
    hints: ClassVar[Mapping[int, str]] = {
        401: f"check {_ID} and {_SECRET}: missing, mistyped or revoked",
        403: f"check that the {_ID} credentials may read this organisation's runs",
        404: "check the run id: it must be a test run (not a folder run or a test id) of the "
        "organisation whose credentials are set",
    }

    @classmethod
    def configure(cls, run_ids: Sequence[str], lookup: Lookup) -> RunSource:
        checked = checked_run_ids(AUTONOMA, run_ids, "an Autonoma test run id")
        client_id = lookup.secret(AUTONOMA_CLIENT_ID)
        client_secret = lookup.secret(AUTONOMA_CLIENT_SECRET)
        if client_id is None or client_secret is None:
            pairs = ((AUTONOMA_CLIENT_ID, client_id), (AUTONOMA_CLIENT_SECRET, client_secret))
            missing = [credential.names for credential, value in pairs if value is None]
            raise MissingCredentials(
                f"{AUTONOMA.run_flag} needs API credentials: set {_ID} and {_SECRET} in the "
                "environment. They are read only from the environment, never from the "
                "command line or an ini file.",
                " and ".join(missing),
            )
        provider = cls(client_id, client_secret, lookup.count(TRACE_STEPS))
        return RunSource(provider, lookup.api_url(AUTONOMA_API_URL), checked)

    def auth_headers(self) -> Mapping[str, Secret]:
        return {
            "autonoma-client-id": self.client_id,
            "autonoma-client-secret": self.client_secret,
        }

    def status_request(self, run_id: str, *, listing: bool = False) -> ApiRequest:
        # Every answer names the run's one test, and its folder: that is its listing.
        return ApiRequest(_run_path(run_id))

    def results_request(self, run_id: str, *, listing: bool = False) -> ApiRequest | None:
        return ApiRequest(_run_path(run_id), (("steps", "true"), ("media", "true")))

    def parse_status(self, run_id: str, body: object) -> Progress:
        run = _run_fields(run_id, body)
        status = run.text("status")
        name = run.optional_text("name")
        # A status the reference does not list ends the wait; parse_results reports it.
        finished = status not in WAITING_STATUSES
        listed = (Listed(run_id, name),) if name is not None and not finished else None
        return Progress(status, finished, listed, _folder_name(run, required=False))

    def parse_results(self, run_id: str, body: object) -> FinishedRun:
        run = _run_fields(run_id, body)
        status = run.text("status")
        name = run.text("name")
        folder_name = _folder_name(run, required=True)
        try:
            case = _case(run_id, name, status, run, self.trace_steps)
        except BodyError as error:
            # The run's verdict cannot be trusted without readable steps: an error, never a pass.
            case = RemoteCase(name, Outcome.ERROR, str(error), key=run_id)
        return FinishedRun(self.name, run_id, status, None, (case,), group=folder_name)

    @staticmethod
    def describe(run: RunFacts, case: RemoteCase) -> Description:
        video = case.link("video")
        screenshot = case.link("screenshot")
        facts = (
            ("test_id", case.case_id),
            ("folder", run.group),
            ("video_url", video),
            ("screenshot_url", screenshot),
        )
        properties = (("run_id", run.run_id), *((k, v) for k, v in facts if v))
        if case.outcome is Outcome.PASSED:
            return Description(properties=properties)
        # The steps are the failure's traceback (rendering.trace_lines), not part of its text.
        parts = []
        if video:
            parts.append(f"Video: {video}")
        if screenshot or video:
            parts.append(
                "Media links (screenshots, video) expire an hour after this report was fetched."
            )
        test = f" of test {case.case_id}" if case.case_id else ""
        parts.append(f"Autonoma run {run.run_id}{test}")
        return Description("\n\n".join(parts), properties)


def _run_path(run_id: str) -> str:
    return f"/run/{quote(run_id, safe='')}"


def _folder_name(run: Fields, *, required: bool) -> str | None:
    """The name of the run's folder, if it is in one: while waiting, a folder without a usable
    name is no reason to stop; in the results it is an unusable answer."""
    folder = run.optional_object("folder")
    if folder is None:
        return None
    return folder.text("name") if required else folder.optional_text("name")


def _run_fields(run_id: str, body: object) -> Fields:
    run = Fields(body, f"run {run_id}")
    answered = run.text("id")
    if answered != run_id:
        raise BodyError(f"asked for run {run_id}, but the API answered with run {answered!r}")
    return run


def _step(run_id: str, index: int, raw: object) -> Step:
    step = Fields(raw, f"step {index + 1} of run {run_id}")
    element = step.optional_object("element")
    return Step(
        number=index + 1,
        status=step.text("status"),
        intent=step.optional_text("instruction"),
        action=step.optional_text("interaction"),
        result=step.optional_text("output"),
        url=step.optional_text("url"),
        selector=element.optional_text("selector") if element is not None else None,
        screenshot=step.optional_text("image"),
    )


def _case(run_id: str, name: str, status: str, run: Fields, most: int) -> RemoteCase:
    steps = tuple(
        _step(run_id, index, raw) for index, raw in enumerate(run.objects("steps", required=False))
    )
    test_id = run.optional_text("test_id")
    video = run.optional_text("video_url")
    failed = next((step for step in steps if step.status == "failed"), None)
    # The failed step's screenshot shows what went wrong, as a QA.tech case's does.
    links = tuple(
        Link(kind, url)
        for kind, url in (("screenshot", failed and failed.screenshot), ("video", video))
        if url
    )
    if status == "passed":
        outcome, headline = Outcome.PASSED, ""
    elif status == "failed":
        outcome = Outcome.FAILED
        headline = (
            f"step {failed.number} failed: {failed.intent or '(no instruction)'}"
            if failed is not None
            else "Autonoma marked the run failed, but none of its steps is marked failed"
        )
    else:
        outcome = Outcome.ERROR
        listed = "pending, running, passed, failed"
        headline = unlisted("the run", "status", status, AUTONOMA.title, listed)
    # Like a traceback, the steps end where it failed: those after it did not run.
    steps = steps[: failed.number] if failed is not None else steps
    kept = kept_steps(steps, most) if most else None
    return RemoteCase(
        name,
        outcome,
        headline,
        key=run_id,
        case_id=test_id,
        links=links,
        steps=kept,
        steps_total=len(steps) if kept is None or len(kept) < len(steps) else None,
    )
