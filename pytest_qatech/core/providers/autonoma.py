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
from pytest_qatech.core.lookup import Lookup, SettingsError, checked_run_ids
from pytest_qatech.core.models import FinishedRun, Link, Listed, Outcome, RemoteCase, RunFacts, Step
from pytest_qatech.core.options import (
    AUTONOMA,
    AUTONOMA_API_URL,
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
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
            raise SettingsError(
                f"{AUTONOMA.run_flag} needs API credentials: set {_ID} and {_SECRET} in the "
                "environment. They are read only from the environment, never from the "
                "command line or an ini file."
            )
        return RunSource(cls(client_id, client_secret), lookup.api_url(AUTONOMA_API_URL), checked)

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
            case = _case(run_id, name, status, run)
        except BodyError as error:
            # The run's verdict cannot be trusted without readable steps: an error, never a pass.
            case = RemoteCase(name, Outcome.ERROR, str(error), key=run_id)
        return FinishedRun(self.name, run_id, status, None, (case,), group=folder_name)

    @staticmethod
    def media(case: RemoteCase) -> tuple[Link, ...]:
        """The failed step's screenshot, and the run's video."""
        failed = next((step for step in case.steps or () if step.status == "failed"), None)
        screenshot = (
            (Link("screenshot", failed.screenshot),) if failed and failed.screenshot else ()
        )
        return screenshot + Provider.media(case)

    @staticmethod
    def describe(run: RunFacts, case: RemoteCase) -> Description:
        steps = case.steps or ()
        failed = next((step for step in steps if step.status == "failed"), None)
        video = case.link("video")
        screenshot = failed.screenshot if failed else None
        facts = (
            ("test_id", case.case_id),
            ("folder", run.group),
            ("video_url", video),
            ("screenshot_url", screenshot),
        )
        properties = (("run_id", run.run_id), *((k, v) for k, v in facts if v))
        if case.outcome is Outcome.PASSED:
            return Description(properties=properties)
        parts = [_failed_step(failed, len(steps))] if failed else []
        if case.steps is not None:
            listed = "\n".join(_step_line(step) for step in steps)
            parts.append(f"Steps:\n{listed}" if steps else "Steps: none reported")
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
        instruction=step.optional_text("instruction"),
        interaction=step.optional_text("interaction"),
        output=step.optional_text("output"),
        url=step.optional_text("url"),
        selector=element.optional_text("selector") if element is not None else None,
        screenshot=step.optional_text("image"),
    )


def _case(run_id: str, name: str, status: str, run: Fields) -> RemoteCase:
    steps = tuple(
        _step(run_id, index, raw) for index, raw in enumerate(run.objects("steps", required=False))
    )
    test_id = run.optional_text("test_id")
    video = run.optional_text("video_url")
    links = (Link("video", video),) if video else ()
    failed = next((step for step in steps if step.status == "failed"), None)
    if status == "passed":
        outcome, headline = Outcome.PASSED, ""
    elif status == "failed":
        outcome = Outcome.FAILED
        headline = (
            f"step {failed.number} failed: {failed.instruction or '(no instruction)'}"
            if failed is not None
            else "Autonoma marked the run failed, but none of its steps is marked failed"
        )
    else:
        outcome = Outcome.ERROR
        listed = "pending, running, passed, failed"
        headline = unlisted("the run", "status", status, AUTONOMA.title, listed)
    return RemoteCase(
        name, outcome, headline, key=run_id, case_id=test_id, links=links, steps=steps
    )


def _step_line(step: Step) -> str:
    return f"  {step.number:>3}. {step.status:<7} {step.instruction or '(no instruction)'}"


def _failed_step(step: Step, total: int) -> str:
    lines = [f"Failed step {step.number} of {total}: {step.instruction or '(no instruction)'}"]
    for label, value in (
        ("interaction", step.interaction),
        ("output", step.output),
        ("url", step.url),
        ("selector", step.selector),
        ("screenshot", step.screenshot),
    ):
        if value:
            lines.append(f"  {label}: {value}")
    return "\n".join(lines)
