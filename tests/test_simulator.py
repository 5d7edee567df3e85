"""The simulator answers as QA.tech's reference describes, over a real socket on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from pytest_qatech.simulator import DEFAULT_TOKEN, Answer, SimulatedRun, Simulator, case

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def get(simulator: Simulator, path: str, **kwargs: object) -> requests.Response:
    return requests.get(simulator.url + path, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_a_run_moves_on_with_each_light_poll(simulator: Simulator) -> None:
    simulator.add(SimulatedRun("abc", "FAILED", [case("a", "FAILED", title="t")]))
    seen = [get(simulator, "/v1/run/abc", headers=AUTH).json() for _ in range(4)]
    assert [body["status"] for body in seen] == ["INITIATED", "RUNNING", "COMPLETED", "COMPLETED"]
    assert [body["result"] for body in seen] == [None, None, "FAILED", "FAILED"]
    assert all(body["runTestCases"] == [] for body in seen)


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


def test_the_readme_demo(tmp_path: Path) -> None:
    """The README's first command: the simulator runs pytest against its demo runs."""
    root = Path(__file__).parent.parent
    report = tmp_path / "demo-report.xml"
    command = [
        sys.executable, "-m", "pytest_qatech.simulator", "--",
        sys.executable, "-m", "pytest", "--qatech-run", "abc123", "--qatech-poll-interval", "0.05",
        f"--junitxml={report}", "-p", "no:cacheprovider", "demo",
    ]  # fmt: skip
    wide = {**os.environ, "COLUMNS": "200"}  # the short summary is cut to the terminal's width
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=wide, cwd=root
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 2 passed, 1 skipped" in done.stdout
    assert (
        "FAILED qatech::abc123::Checkout with saved card - Could not find the 'Pay now' button"
        in done.stdout
    )
    names = [element.get("name") for element in ET.parse(report).getroot().iter("testcase")]
    assert names == [
        "test_local_arithmetic",
        "Login flow test",
        "Checkout with saved card",
        "Newsletter signup",
    ]


def test_the_simulator_reports_a_missing_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_qatech.simulator", "--", "no-such-command-here"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 127
    assert "command not found: no-such-command-here" in done.stderr
