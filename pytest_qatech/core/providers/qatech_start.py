"""Starting QA.tech runs: what the Start Run and Rerun APIs are sent, and what they answer.

References (not among the documents in ``shared/seeds/``): QA.tech's "Start Run API"
(https://docs.qa.tech/api-reference/start-run, with its OpenAPI ``POST /v1/run``: ``RunRequest``,
``RunResponse``) and "Rerun" (https://docs.qa.tech/api-reference/rerun, ``POST /v1/run/{shortId}``).
Every field of a start is optional; without any, the project's default test plan runs. A rerun
is sent ``{"failedOnly": true}`` (the failed, skipped and errored cases of a run, in a new run)
or ``{"projectTestCaseIds": [...]}`` (those tests of the run; never both, the reference says).
Both answer ``{success, run: {id, shortId, url, testCount, testPlan?: {name, shortId}}}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from pytest_qatech.core.actions import Commit, github_commit
from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.lookup import Lookup, SettingsError
from pytest_qatech.core.models import StartedRun
from pytest_qatech.core.options import (
    QATECH_APP_URL,
    QATECH_PLAN,
    QATECH_START,
    RERUNS,
    WHOLE_PLAN,
)
from pytest_qatech.core.providers.body import BodyError, Fields
from pytest_qatech.core.urls import is_path_segment

START_PATH = "/v1/run"
#: ``RunRequest.testPlanShortId``'s pattern in QA.tech's OpenAPI definition.
PLAN_ID = re.compile(r"pln(-.+_.+|_.+)")
#: What a failed start of the default test plan is called, and its stand-in in node ids.
DEFAULT_PLAN = "the default test plan"
DEFAULT_PLAN_ID = "default-plan"


def plan_named(plan: str | None) -> str:
    """A plan in words: ``test plan pln_x``, or the default one's name."""
    return DEFAULT_PLAN if plan is None else f"test plan {plan}"


def run_path(run_id: str) -> str:
    """A run's one path: read with GET ("Get run"), rerun with POST ("Rerun")."""
    return f"{START_PATH}/{quote(run_id, safe='')}"


def hints(token_variable: str, *, post: bool) -> dict[int, str]:
    """What to check after a request to QA.tech ends in a final HTTP error, by status code: a
    read, or a start or a rerun (``post``); ``token_variable`` is where the token came from."""
    token = {
        401: f"check {token_variable}: it is missing, mistyped or revoked",
        403: "the organisation may be suspended, or the token lacks access to this project",
    }
    if not post:
        return {
            400: "the API rejected the query; this is a bug in pytest-qatech, please report it",
            **token,
            404: f"check the run id, and that {token_variable} belongs to the project that ran it",
        }
    return {
        400: "QA.tech rejected the request (for a rerun: the run may have no failed case left)",
        **token,
        # QA.tech's API keys are read or write scoped (Settings -> Integrations -> API): the
        # commonest refusal of a start whose reads pass.
        403: f"check that {token_variable} is a key with write access: a read-only key reads "
        "runs but cannot start or rerun them; else the organisation may be suspended, or the "
        "key lacks access to this project",
        402: "the QA.tech organisation's usage limit is reached: no run was started. Raise the "
        "limit or wait until it resets",
        404: "check the test plan's short id (for a rerun, the run's), and that the token "
        "belongs to its project",
    }


@dataclass(frozen=True)
class StartSpec:
    """The runs a session starts: a run per test plan (None: the project's default plan), each
    with the same application overrides and commit."""

    plans: tuple[str | None, ...]
    #: (application short id, environment URL) pairs.
    applications: tuple[tuple[str, str], ...] = ()
    commit: Commit | None = None
    #: Whether pytest's selection may narrow a plan's run to the cases it selects (not with
    #: ``--qatech-whole-plan``).
    narrow: bool = True

    def described(self) -> tuple[str, ...]:
        """The plans it starts, in words."""
        return tuple(plan_named(plan) for plan in self.plans)

    def request(self, plan: str | None, case_ids: Sequence[str] | None = None) -> ApiRequest:
        """The start of a run of ``plan``; of only the tests ``case_ids`` names, when given
        (``testCaseIds``, project test case ids, beside ``testPlanShortId``)."""
        body: dict[str, Any] = {"trigger": "API" if self.commit is None else "GITHUB"}
        if self.commit is not None:
            body.update(self.commit.fields())
        if plan is not None:
            body["testPlanShortId"] = plan
        if case_ids is not None:
            body["testCaseIds"] = list(case_ids)
        if self.applications:
            body["applications"] = [
                {"applicationShortId": app, "environment": {"url": url}}
                for app, url in self.applications
            ]
        return ApiRequest(START_PATH, body=json.dumps(body))


def configure_start(lookup: Lookup) -> StartSpec | None:
    """The runs the command line asks to start, checked; None when it asks for none."""
    plans: list[str | None] = [None] if lookup.switch(QATECH_START) else []
    for plan in lookup.values(QATECH_PLAN):
        if not (PLAN_ID.fullmatch(plan) and is_path_segment(plan)):
            raise SettingsError(
                f"{QATECH_PLAN.flag} {plan!r} is not a test plan's short id: expected pln_ "
                "followed by letters, digits, '-' or '_' (QA.tech shows it in the plan's URL)"
            )
        plans.append(plan)
    applications = tuple(_application(value) for value in lookup.values(QATECH_APP_URL))
    if not plans:
        if applications:
            raise SettingsError(
                f"{QATECH_APP_URL.flag} applies to the runs started here: give "
                f"{QATECH_PLAN.flag} or {QATECH_START.flag} too"
            )
        return None
    narrow = not lookup.switch(WHOLE_PLAN)
    return StartSpec(tuple(plans), applications, github_commit(lookup.environ), narrow)


def _application(value: str) -> tuple[str, str]:
    app, separator, url = value.partition("=")
    app, url = app.strip(), url.strip()
    parts = urlsplit(url)
    if not separator or not app or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"{QATECH_APP_URL.flag} {value!r} is not APP=URL: an application's short id "
            "(app_...), '=', and the http(s) address to test it at"
        )
    return app, url


def configure_reruns(lookup: Lookup) -> int:
    return lookup.count(RERUNS)


def rerun_request(run_id: str, case_ids: Sequence[str] | None = None) -> ApiRequest:
    """A rerun of the run's failed, skipped and errored cases (``failedOnly``), or of the tests
    ``case_ids`` names (``projectTestCaseIds``): the API takes one or the other, never both."""
    if case_ids is None:
        body: dict[str, Any] = {"failedOnly": True}
    else:
        body = {"projectTestCaseIds": list(case_ids)}
    return ApiRequest(run_path(run_id), body=json.dumps(body))


#: QA.tech's "List test cases" (``GET /v1/test-cases``, paginated by ``limit`` and ``offset``,
#: answering ``{testCases, total, limit, offset}``): each test case's ``id`` (its project test
#: case id, what ``testCaseIds`` and ``projectTestCaseIds`` name) and ``name``.
TEST_CASES_PATH = "/v1/test-cases"
#: The test cases one page asks for, and the most pages read: 5,000 test cases.
TEST_CASES_PAGE = 100
TEST_CASES_PAGES = 50


def test_cases_request(offset: int) -> ApiRequest:
    return ApiRequest(TEST_CASES_PATH, (("limit", str(TEST_CASES_PAGE)), ("offset", str(offset))))


def parse_test_cases(body: object, offset: int) -> tuple[tuple[tuple[str, str], ...], int]:
    """One page of the project's test cases, asked from ``offset``: each one's name and id, and
    how many the project has."""
    what = "the project's test cases"
    page = Fields(body, what)
    raw_cases, total = page.page("testCases", offset, TEST_CASES_PAGE, "the test cases")
    cases = []
    for place, raw in enumerate(raw_cases, offset + 1):
        case = Fields(raw, f"test case {place} of {what}")
        cases.append((case.text("name"), case.text("id")))
    return tuple(cases), total


def parse_started(body: object, what: str) -> StartedRun:
    """The run a start or a rerun answered with; ``what`` names the request in errors."""
    answer = Fields(body, what)
    if answer.get("success") is not True:
        raise BodyError(f"{what}: field 'success' is not true")
    run = Fields(answer.get("run"), f"{what}, field 'run'")
    short_id = run.identifier("shortId")
    url = run.optional_text("url")
    if url is not None and urlsplit(url).scheme not in ("https", "http"):
        raise BodyError(f"{what}: field 'url' is not a web link")
    count = run.get("testCount")
    plan = run.optional_object("testPlan")
    return StartedRun(
        short_id,
        url,
        count if isinstance(count, int) and not isinstance(count, bool) else None,
        plan.optional_text("name") if plan is not None else None,
        plan.optional_text("shortId") if plan is not None else None,
    )
