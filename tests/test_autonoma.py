"""Autonoma: the parser and the words against its "Get Specific Test Run" reference, and one
session against the simulator for the wiring (folders as collectors, light polls, one read)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.models import Link, Outcome, Step
from pytest_qatech.core.providers.autonoma import AutonomaProvider
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.rendering import render_case
from pytest_qatech.core.secrets import Secret
from pytest_qatech.simulator import SimulatedAutonomaRun, Simulator, demo_runs, step

from .helpers import FAST

provider = AutonomaProvider(Secret("id"), Secret("secret"))
FAILED_RUN = "gch7uesq5h6m9xe2fdq5ddgd"
PASSED_RUN = "k2d9xq7mm3v0w1p4r8s6t5ua"
MEDIA_NOTE = "Media links (screenshots, video) expire an hour after this report was fetched."


def reference_body(**changes: Any) -> dict[str, Any]:
    """A TestRun as the reference's schema and examples describe it, with steps and media."""
    body: dict[str, Any] = {
        "id": "run1",
        "name": "Add 'member' to network",
        "test_id": "cm8d9gt6v000c9fe5glmyi33u",
        "status": "failed",
        "created_at": "2025-06-12T00:00:11.286Z",
        "ended_at": "2025-06-12T00:03:11.286Z",
        "folder_run_id": "y98cwdq4c3p3v3i68n7nay1p",
        "job_run_id": None,
        "job_id": None,
        "folder": {"id": "cm7t223mk00154mzy2jwk2pqy", "name": "private-listing-hub"},
        "video_url": "https://storage.example/video.mp4",
        "steps": [
            {"id": "s1", "instruction": "open login", "status": "passed", "url": "https://x/"},
            {
                "id": "s2",
                "instruction": "insert {{variable:QA_ADMIN_USER}} into log in input",
                "interaction": "input-text",
                "output": "input-text on element with text axel@autonoma.app",
                "status": "failed",
                "url": "https://login.autonoma.app/login",
                "element": {"html": "<input>", "selector": "input#username"},
                "image": "https://storage.example/screenshots/d8e41de595af.jpeg",
            },
            {"id": "s3", "instruction": "click log in", "status": "pending"},
        ],
        "metadata": {"source": "scheduled", "version": "STG"},
    }
    body.update(changes)
    return body


def test_requests() -> None:
    assert provider.status_request("a b") == ApiRequest("/run/a%20b")
    assert provider.results_request("r") == ApiRequest(
        "/run/r", (("steps", "true"), ("media", "true"))
    )
    headers = {name: secret.reveal() for name, secret in provider.auth_headers().items()}
    assert headers == {"autonoma-client-id": "id", "autonoma-client-secret": "secret"}


def test_a_failed_run_carries_its_steps_and_media_as_fields() -> None:
    run = provider.parse_results("run1", reference_body())
    assert (run.provider, run.run_id, run.status, run.group, run.problem) == (
        "autonoma", "run1", "failed", "private-listing-hub", None,
    )  # fmt: skip
    (case,) = run.cases
    assert (case.name, case.outcome, case.case_id) == (
        "Add 'member' to network", Outcome.FAILED, "cm8d9gt6v000c9fe5glmyi33u",
    )  # fmt: skip
    assert case.headline == "step 2 failed: insert {{variable:QA_ADMIN_USER}} into log in input"
    screenshot = "https://storage.example/screenshots/d8e41de595af.jpeg"
    assert case.links == (
        Link("screenshot", screenshot),
        Link("video", "https://storage.example/video.mp4"),
    )
    # The steps end where the run failed, as a traceback does: step 3 never ran.
    assert case.steps == (
        Step(1, "passed", "open login", url="https://x/"),
        Step(
            number=2,
            status="failed",
            intent="insert {{variable:QA_ADMIN_USER}} into log in input",
            action="input-text",
            result="input-text on element with text axel@autonoma.app",
            url="https://login.autonoma.app/login",
            selector="input#username",
            screenshot=screenshot,
        ),
    )
    assert case.steps_total is None


def test_a_failure_shows_its_steps_as_a_traceback_and_names_the_failed_one() -> None:
    run = provider.parse_results("run1", reference_body())
    rendered = render_case(run, run.cases[0])
    assert rendered.trace == (
        "Steps: 2\n"
        "step 1 of 2 (passed)\n"
        "    meant: open login\n"
        "    url: https://x/\n"
        "step 2 of 2 (failed)\n"
        "    meant: insert {{variable:QA_ADMIN_USER}} into log in input\n"
        "    did: input-text\n"
        "    got: input-text on element with text axel@autonoma.app\n"
        "    url: https://login.autonoma.app/login\n"
        "    selector: input#username\n"
        "    screenshot: https://storage.example/screenshots/d8e41de595af.jpeg"
    )
    assert rendered.headline == (
        "step 2 failed: insert {{variable:QA_ADMIN_USER}} into log in input"
    )
    assert rendered.details == "\n\n".join(
        [
            "Video: https://storage.example/video.mp4",
            MEDIA_NOTE,
            "Autonoma run run1 of test cm8d9gt6v000c9fe5glmyi33u",
        ]
    )
    # The failing step comes last, next to the headline, as a local test's failing line does.
    assert rendered.text.index("selector: input#username") < rendered.text.index(rendered.headline)
    assert rendered.properties == (
        ("run_id", "run1"),
        ("test_id", "cm8d9gt6v000c9fe5glmyi33u"),
        ("folder", "private-listing-hub"),
        ("video_url", "https://storage.example/video.mp4"),
        ("screenshot_url", "https://storage.example/screenshots/d8e41de595af.jpeg"),
    )


def test_a_long_run_keeps_its_first_steps_and_those_up_to_the_failed_one() -> None:
    steps = [{"instruction": f"step {n}", "status": "passed"} for n in range(1, 40)]
    steps.append({"instruction": "the last", "status": "failed"})
    few = dataclasses.replace(provider, trace_steps=30)
    (case,) = few.parse_results("run1", reference_body(steps=steps)).cases
    assert case.steps is not None
    assert [step.number for step in case.steps] == [*range(1, 26), *range(36, 41)]
    assert case.steps_total == 40
    assert case.headline == "step 40 failed: the last"


def test_no_steps_are_kept_when_none_are_wanted() -> None:
    none = dataclasses.replace(provider, trace_steps=0)
    (case,) = none.parse_results("run1", reference_body()).cases
    assert case.steps is None
    assert case.headline == "step 2 failed: insert {{variable:QA_ADMIN_USER}} into log in input"
    assert render_case(none.parse_results("run1", reference_body()), case).trace == ""


def test_a_passed_run_without_a_folder() -> None:
    run = provider.parse_results("run1", reference_body(status="passed", folder=None))
    assert run.group is None
    assert [(c.name, c.outcome) for c in run.cases] == [("Add 'member' to network", Outcome.PASSED)]
    assert render_case(run, run.cases[0]).details == ""


def test_a_failed_run_without_a_failed_step_still_fails() -> None:
    body = reference_body(steps=[{"instruction": "a", "status": "passed"}], video_url=None)
    run = provider.parse_results("run1", body)
    (case,) = run.cases
    assert case.outcome is Outcome.FAILED
    assert case.headline == "Autonoma marked the run failed, but none of its steps is marked failed"
    assert MEDIA_NOTE not in render_case(run, case).details


def test_a_run_that_reports_no_steps_says_so() -> None:
    run = provider.parse_results("run1", reference_body(steps=[], video_url=None, test_id=None))
    rendered = render_case(run, run.cases[0])
    assert (rendered.trace, rendered.details) == ("Steps: none reported", "Autonoma run run1")


@pytest.mark.parametrize(
    ("changes", "headline"),
    [
        (
            {"status": "cancelled"},
            "the run has status 'cancelled', which the Autonoma API reference does not list "
            "(pending, running, passed, failed)",
        ),
        ({"steps": [None]}, "step 1 of run run1: expected a JSON object, received null"),
        (
            {"status": "passed", "steps": [{"status": 1}]},
            "step 1 of run run1: field 'status' must be a string, received a number (1)",
        ),
    ],
)
def test_no_verdict_is_an_error_never_a_pass(changes: dict[str, Any], headline: str) -> None:
    (case,) = provider.parse_results("run1", reference_body(**changes)).cases
    assert (case.outcome, case.headline) == (Outcome.ERROR, headline)


def test_unreadable_steps_are_not_listed_as_none() -> None:
    run = provider.parse_results("run1", reference_body(steps=[None]))
    assert render_case(run, run.cases[0]).details == "Autonoma run run1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (reference_body(id="run2"), "asked for run run1, but the API answered with run 'run2'"),
        (reference_body(name=None), "run run1: field 'name' must be a string, received null"),
        (
            reference_body(folder={"id": "f"}),
            "run run1, field 'folder': required field 'name' is missing",
        ),
        ("nope", "run run1: expected a JSON object, received a string ('nope')"),
    ],
)
def test_unusable_bodies_name_the_field(body: object, message: str) -> None:
    with pytest.raises(BodyError) as raised:
        provider.parse_results("run1", body)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("status", "finished"),
    [("pending", False), ("running", False), ("passed", True), ("failed", True), ("?", True)],
)
def test_status(status: str, finished: bool) -> None:
    progress = provider.parse_status("run1", {"id": "run1", "status": status})
    assert (progress.status, progress.finished) == (status, finished)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "check AUTONOMA_CLIENT_ID and AUTONOMA_CLIENT_SECRET: missing, mistyped or revoked"),
        (
            404,
            "check the run id: it must be a test run (not a folder run or a test id) of the "
            "organisation whose credentials are set",
        ),
    ],
)
def test_hints(status: int, hint: str) -> None:
    assert provider.hint(status) == hint


def demo(run_id: str) -> SimulatedAutonomaRun:
    (run,) = (r for r in demo_runs() if isinstance(r, SimulatedAutonomaRun) and r.run_id == run_id)
    return run


def test_autonoma_runs_as_items_in_a_folder(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(demo(FAILED_RUN), demo(PASSED_RUN))
    simulator.add(SimulatedAutonomaRun("r1", "Sign in", steps=[step("open")]))
    result = pytester.runpytest_inprocess(
        *FAST, "--autonoma-run", FAILED_RUN, "--autonoma-run", PASSED_RUN,
        "--autonoma-run", "r1", "--junitxml=report.xml",
    )  # fmt: skip
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"qatech: Autonoma runs {FAILED_RUN}, {PASSED_RUN}, r1 from http://127.0.0.1:*",
            "*_ autonoma private-listing-hub: Add 'member' to network, verify it can access*",
            # The steps as the traceback, up to the failed one (the fourth never ran), then
            # the headline, as a local failure's frames lead to its failing line.
            "Steps: 3",
            "step 1 of 3 (passed)",
            "*",
            "step 3 of 3 (failed)",
            "    meant: click the 'Add member' button",
            "*",
            "",
            "step 3 failed: click the 'Add member' button",
            "",
            "Video: *",
            "*= remote runs =*",
            f"Autonoma run {FAILED_RUN}: failed - 1 failed",
            f"Autonoma run {PASSED_RUN}: passed - 1 passed",
            "Autonoma run r1: passed - 1 passed",
        ]
    )
    # Light polls until each run ends, then one read with steps and media.
    for run_id in (FAILED_RUN, PASSED_RUN):
        queries = [request.query for request in simulator.requests_for(run_id)]
        assert queries == [{}, {}, {}, {"steps": ["true"], "media": ["true"]}]
    assert all(request.authorized for request in simulator.requests)
    cases = ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
    folder = "autonoma.private-listing-hub"
    # Sorted: the runs report in the order their verdicts come.
    assert sorted((c.get("classname", ""), c.get("name", "")) for c in cases) == [
        (folder, "Add 'member' to network, verify it can access the listings"),
        (folder, "Search for a listing by city"),
        ("autonoma.r1", "Sign in"),
    ]


def test_every_answer_names_the_run_s_one_test_and_its_folder() -> None:
    light = {"id": "run1", "status": "running", "name": "Sign in", "folder": {"name": "smoke"}}
    progress = provider.parse_status("run1", light)
    assert progress.cases is not None
    assert [(c.key, c.name, c.verdict) for c in progress.cases] == [("run1", "Sign in", None)]
    assert progress.group == "smoke"
    # The verdict comes from the read with steps and media, keyed the same.
    (case,) = provider.parse_results("run1", reference_body()).cases
    assert case.key == "run1"
