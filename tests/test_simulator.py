"""The simulator answers as QA.tech's reference describes, over a real socket on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from pytest_qatech.simulator import (
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    DEFAULT_TOKEN,
    RELEASE_PATH,
    TESTVIBE_KEY,
    Answer,
    SimulatedAutonomaRun,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
    demo_project,
    demo_simulator,
    environment,
    step,
    vibe_test,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def get(simulator: Simulator, path: str, **kwargs: object) -> requests.Response:
    return requests.get(simulator.url + path, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_a_run_moves_on_with_each_request(simulator: Simulator) -> None:
    simulator.add(SimulatedRun("abc", "FAILED", [case("a", "FAILED", title="t")]))
    seen = [get(simulator, "/v1/run/abc", headers=AUTH).json() for _ in range(4)]
    assert [body["status"] for body in seen] == ["INITIATED", "RUNNING", "COMPLETED", "COMPLETED"]
    assert [body["result"] for body in seen] == [None, None, "FAILED", "FAILED"]
    assert all(body["runTestCases"] == [] for body in seen)


def listing(simulator: Simulator, path: str = "/v1/run/abc") -> tuple[str, list[str]]:
    """A poll with testCases=all: the run's status, and each case as ``name=result``."""
    body = get(simulator, f"{path}?testCases=all", headers=AUTH).json()
    return body["status"], [f"{c['name']}={c['result']}" for c in body["runTestCases"]]


def test_cases_are_listed_and_finish_step_by_step(simulator: Simulator) -> None:
    cases = [case("a", short_id="t1"), case("b", "FAILED", short_id="t2"), case("c", short_id="t3")]
    simulator.add(
        SimulatedRun(
            "abc",
            "FAILED",
            cases,
            statuses=("RUNNING", "RUNNING", "RUNNING", "COMPLETED"),
            listed_at={"t3": 2},
            finish_at={"t1": 1},
        )
    )
    assert [listing(simulator) for _ in range(4)] == [
        ("RUNNING", ["a=None", "b=None"]),
        ("RUNNING", ["a=PASSED", "b=None"]),
        ("RUNNING", ["a=PASSED", "b=None", "c=None"]),
        ("COMPLETED", ["a=PASSED", "b=FAILED", "c=PASSED"]),
    ]


def test_a_held_run_waits_for_its_release(simulator: Simulator) -> None:
    simulator.add(SimulatedRun("abc", cases=[case("a")], hold_at=1))
    assert [listing(simulator)[0] for _ in range(3)] == ["INITIATED", "RUNNING", "RUNNING"]
    # As a test in another process would.
    assert requests.post(simulator.url + RELEASE_PATH, timeout=5).status_code == 204
    assert [listing(simulator)[0] for _ in range(2)] == ["RUNNING", "COMPLETED"]


def test_a_run_can_go_by_the_clock(simulator: Simulator) -> None:
    now = [0.0]
    simulator.add(SimulatedRun("abc", cases=[case("a")], step_seconds=10.0, clock=lambda: now[0]))
    seen = []
    for at in (5.0, 9.0, 15.0, 25.0, 100.0):  # from the first request, at 5
        now[0] = at
        seen.append(listing(simulator))
    assert seen == [
        ("INITIATED", ["a=None"]),
        ("INITIATED", ["a=None"]),
        ("RUNNING", ["a=None"]),
        ("COMPLETED", ["a=PASSED"]),
        ("COMPLETED", ["a=PASSED"]),
    ]


def test_test_cases_all_and_failed(simulator: Simulator) -> None:
    simulator.add(SimulatedRun("abc", "FAILED", [case("a"), case("b", "FAILED")], ("COMPLETED",)))
    everything = get(simulator, "/v1/run/abc?testCases=all", headers=AUTH).json()
    failed = get(simulator, "/v1/run/abc?testCases=failed", headers=AUTH).json()
    assert [c["name"] for c in everything["runTestCases"]] == ["a", "b"]
    assert [c["name"] for c in failed["runTestCases"]] == ["b"]
    required = {"id", "shortId", "name", "status", "result", "resultTitle", "evaluationThought"}
    assert required <= set(everything["runTestCases"][0])


@pytest.mark.parametrize(
    ("path", "headers", "status", "message"),
    [
        ("/v1/run/abc", {}, 401, "Missing or invalid API key"),
        ("/v1/run/abc", {"Authorization": "Bearer nope"}, 401, "Missing or invalid API key"),
        ("/v1/run/zzz", AUTH, 404, "Run not found"),
        ("/v1/run/abc?testCases=some", AUTH, 400, "Invalid query parameters: testCases"),
    ],
)
def test_errors_have_message_bodies(
    simulator: Simulator, path: str, headers: dict[str, str], status: int, message: str
) -> None:
    simulator.add(SimulatedRun("abc"))
    response = get(simulator, path, headers=headers)
    assert response.status_code == status
    assert response.json() == {"message": message}


def test_scripted_answers_replace_chosen_requests(simulator: Simulator) -> None:
    simulator.add(
        SimulatedRun(
            "abc", answers={1: Answer(503, "busy", {"Retry-After": "3"})}, statuses=("RUNNING",)
        )
    )
    first, second, third = (get(simulator, "/v1/run/abc", headers=AUTH) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (200, 503, 200)
    assert second.headers["Retry-After"] == "3"
    assert len(simulator.requests_for("abc")) == 3


TESTVIBE_AUTH = {"Authorization": f"Bearer {TESTVIBE_KEY}"}
AUTONOMA_AUTH = {
    "autonoma-client-id": AUTONOMA_CLIENT_ID,
    "autonoma-client-secret": AUTONOMA_CLIENT_SECRET,
}


def test_a_testvibe_run(simulator: Simulator) -> None:
    simulator.add(SimulatedTestVibeRun(5, [vibe_test("a"), vibe_test("b", "failed")], log="L"))
    path = "/api/v1/ops/projects/demo-project/runs/5"
    seen = [get(simulator, path, headers=TESTVIBE_AUTH).json() for _ in range(3)]
    assert [body["status"] for body in seen] == ["running", "running", "failed"]
    assert "tests" not in seen[0]
    assert seen[2]["summary"] == {"total": 2, "passed": 1, "failed": 1, "other": 0}
    assert [t["name"] for t in seen[2]["tests"]] == ["a", "b"]
    assert seen[2]["log"] == "L"


@pytest.mark.parametrize(
    ("path", "headers", "status", "body"),
    [
        ("/api/v1/ops/projects/demo-project/runs/5", {}, 401,
         {"error": "unauthorized", "message": "Invalid API key"}),
        ("/api/v1/ops/projects/other/runs/5", TESTVIBE_AUTH, 404,
         {"error": "not_found", "message": "No such run in this project."}),
        ("/run/r1", {"autonoma-client-id": AUTONOMA_CLIENT_ID}, 401,
         {"error": "Unauthorized", "message": "Invalid authentication credentials"}),
        ("/run/nope", AUTONOMA_AUTH, 404, {"error": "Not found", "message": "Resource not found"}),
    ],
)  # fmt: skip
def test_testvibe_and_autonoma_errors(
    simulator: Simulator, path: str, headers: dict[str, str], status: int, body: object
) -> None:
    simulator.add(SimulatedTestVibeRun(5), SimulatedAutonomaRun("r1", "t"))
    response = get(simulator, path, headers=headers)
    assert (response.status_code, response.json()) == (status, body)


def test_an_autonoma_run_gives_steps_and_media_only_when_asked(simulator: Simulator) -> None:
    simulator.add(SimulatedAutonomaRun("r1", "Sign in", [step("a"), step("b", "failed")], "f"))
    seen = [get(simulator, "/run/r1", headers=AUTONOMA_AUTH).json() for _ in range(3)]
    assert [body["status"] for body in seen] == ["pending", "running", "failed"]
    assert all("steps" not in body for body in seen)
    steps_only = get(simulator, "/run/r1?steps=true", headers=AUTONOMA_AUTH).json()
    assert [s["image"] for s in steps_only["steps"]] == [None, None]
    assert steps_only["video_url"] is None
    full = get(simulator, "/run/r1?steps=true&media=true", headers=AUTONOMA_AUTH).json()
    assert all(s["image"].startswith("https://") for s in full["steps"])
    assert full["video_url"].endswith("/r1.mp4")
    assert full["folder"]["name"] == "f"
    assert full["status"] == "failed"  # full reads do not move the run on


def test_the_readme_demo(tmp_path: Path) -> None:
    """The README's first command: the simulator runs pytest against its demo runs."""
    root = Path(__file__).parent.parent
    report = tmp_path / "demo-report.xml"
    command = [
        sys.executable, "-m", "pytest_qatech.simulator", "--",
        sys.executable, "-m", "pytest", "--qatech-run", "abc123", "--qatech-poll-interval", "0.05",
        f"--junitxml={report}", "-p", "no:cacheprovider", "demo",
    ]  # fmt: skip
    # As on the fresh machine the README speaks of: no pytest-randomly. And a wide terminal: the
    # short summary is cut to its width.
    wide = {**os.environ, "COLUMNS": "200", "PYTEST_ADDOPTS": "-p no:randomly"}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=wide, cwd=root
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 3 passed, 1 skipped" in done.stdout
    assert (
        "FAILED qatech::Checkout with saved card - Could not find the 'Pay now' button"
        in done.stdout
    )
    # The failure Getting started shows is the one this command prints, line for line.
    page = (root / "docs" / "getting-started.md").read_text(encoding="utf-8")
    shown = page.split("qatech Checkout with saved card _", 1)[1].split("\n=", 1)[0]
    printed = done.stdout.split("qatech Checkout with saved card _", 1)[1]
    assert shown.strip("_\n") in printed
    names = [element.get("name") for element in ET.parse(report).getroot().iter("testcase")]
    assert names == [
        "test_local_arithmetic",
        "test_local_integration",
        "Login flow test",
        "Checkout with saved card",
        "Newsletter signup",
    ]


@pytest.mark.starts_runs
def test_the_narrowing_page_s_lf_demo_starts_two_cases_of_six(pytester: pytest.Pytester) -> None:
    """The page's two commands (in this process: test_the_readme_demo runs the simulator's
    command itself): a plan of six run whole, then --lf starts the two that failed."""
    root = Path(__file__).parent.parent
    shutil.copytree(root / "demo", pytester.path / "demo")
    page = (root / "docs" / "how-to" / "narrow-a-started-run.md").read_text(encoding="utf-8")
    commands = page.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()
    prefix = ".venv/bin/python -m pytest_qatech.simulator -- .venv/bin/pytest "
    assert [line.removeprefix(prefix) for line in commands] == [
        "--qatech-plan pln_nightly --qatech-poll-interval 0.5 demo",
        "--qatech-plan pln_nightly --qatech-poll-interval 0.5 --lf demo",
    ]
    outputs = []
    with (
        demo_simulator() as simulator,
        pytest.MonkeyPatch.context() as patch,
    ):
        for name, value in environment(simulator.url).items():
            patch.setenv(name, value)
        # The first session skips the demo's local tests, which sleep 1.5 s and pass.
        for extra in (("--deselect", "demo/test_local.py"), ("--lf",)):
            result = pytester.runpytest_inprocess(
                "--qatech-plan", "pln_nightly", "--qatech-poll-interval", "0.01", *extra, "demo"
            )
            assert result.ret == pytest.ExitCode.TESTS_FAILED
            outputs.append(result.stdout.str())
    assert "2 failed, 4 passed, 2 deselected" in outputs[0]
    assert (
        "qatech: test plan pln_nightly: starting 2 of its 6 cases, as --lf selected them (its "
        "cases as QA.tech run st001274 listed them, " in outputs[1]
    )
    assert "(test plan Nightly regression, pln_nightly; 2 cases)" in outputs[1]
    assert "2 failed, 2 deselected" in outputs[1]
    shown = page.split("```text\n", 1)[1].split("```", 1)[0]
    assert "starting 2 of its 6 cases" in shown


def test_the_simulator_reports_a_missing_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_qatech.simulator", "--", "no-such-command-here"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 127
    assert "command not found: no-such-command-here" in done.stderr


@pytest.mark.starts_runs
@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/v1/run", {"testPlanShortId": "smoke"}, 400,
         "testPlanShortId must match ^pln(-.+_.+|_.+)$"),
        ("/v1/run", {"trigger": "CRON"}, 400, "trigger must be one of API, GITHUB"),
        ("/v1/run", {"planId": "pln_a"}, 400, "Unrecognized key(s) in object: 'planId'"),
        ("/v1/run", {"applications": [{"environment": {"url": "x"}}]}, 400,
         "applications[].applicationShortId is required"),
        ("/v1/run", {"testPlanShortId": "pln_other"}, 404, "Test plan not found"),
        ("/v1/run/abc123", {"failedOnly": True, "projectTestCaseIds": []}, 400,
         "Provide either failedOnly or projectTestCaseIds, not both"),
        ("/v1/run/green1", {"failedOnly": True}, 400, "No test cases to rerun"),
        ("/v1/run/nope", {"failedOnly": True}, 404, "Run not found"),
    ],
)  # fmt: skip
def test_the_start_and_rerun_apis_check_bodies_as_their_references_do(
    path: str, body: object, status: int, message: str
) -> None:
    with Simulator(
        [
            SimulatedRun("abc123", "FAILED", [case("a", "FAILED")]),
            SimulatedRun("green1", cases=[case("a")]),
        ],
        project=demo_project(),
    ) as simulator:
        headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        answer = requests.post(simulator.url + path, json=body, headers=headers, timeout=10)
        assert (answer.status_code, answer.json()) == (status, {"message": message})
        assert simulator.project is not None
        assert simulator.project.started == []


@pytest.mark.starts_runs
def test_a_start_without_a_body_runs_the_default_plan_and_a_rerun_passes_the_flaky_case() -> None:
    with Simulator(project=demo_project()) as simulator:
        headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
        assert requests.post(simulator.url + "/v1/run", timeout=10).status_code == 401
        started = requests.post(simulator.url + "/v1/run", headers=headers, timeout=10).json()
        run = started["run"]
        assert (run["testCount"], run["testPlan"]) == (
            3,
            {"name": "Smoke tests", "shortId": "pln_default0"},
        )
        path = f"/v1/run/{run['shortId']}"
        rerun = requests.post(
            simulator.url + path, json={"failedOnly": True}, headers=headers, timeout=10
        )
        rerun_id = rerun.json()["run"]["shortId"]
        for _ in range(3):  # INITIATED, RUNNING, COMPLETED: a step per request
            cases = requests.get(
                f"{simulator.url}/v1/run/{rerun_id}", params={"testCases": "all"}, headers=headers,
                timeout=10,
            ).json()["runTestCases"]  # fmt: skip
        assert [(c["name"], c["result"]) for c in cases] == [("Checkout with saved card", "PASSED")]


def test_the_simulator_s_help_names_its_demo_plans(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_qatech.simulator.__main__ import main

    with pytest.raises(SystemExit):
        main(["--help"])
    words = " ".join(capsys.readouterr().out.split())
    assert "pln_smoke (also its default plan)" in words
    assert "pln_nightly has six cases of which two fail every time (the --lf demo)" in words
