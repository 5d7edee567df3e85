"""Whatever text a server puts in whatever field, both tools report every case, print nothing a
terminal or a CI runner would obey, write valid XML, show no credential, and are green only
when every case passed or was skipped."""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pytest_qatech.cli import main as qatech_junit
from pytest_qatech.simulator import (
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    DEFAULT_TOKEN,
    TESTVIBE_KEY,
    Answer,
    SimulatedAutonomaRun,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    environment,
)
from pytest_qatech.simulator.base import Scripted

from .helpers import FAST

SECRETS = (DEFAULT_TOKEN, TESTVIBE_KEY, AUTONOMA_CLIENT_ID, AUTONOMA_CLIENT_SECRET)
DANGEROUS = [
    "\ud800", "\udfff", "\x1b[31m", "\r", "\x00", "\x07", "\x85", "\u2028", "\ufffe", "\uffff",
    "\n::add-mask::x\n", "::set-output name=a::b", "\n  ::error::boom", "see ##[error]boom",
    "::stop-commands::t", "]]>", "<x>", "&amp;", "%0A", "\t", "[", "::", *SECRETS,
    f"Bearer {DEFAULT_TOKEN}",
]  # fmt: skip
hostile = st.lists(
    st.one_of(st.text(max_size=6), st.sampled_from(DANGEROUS)), min_size=1, max_size=4
).map("".join)
maybe_hostile = st.none() | hostile
durations = st.sampled_from([1200, 0, 10**400, -5, 2.5, "soon", None])
links = st.none() | hostile.map(lambda text: f"https://media.example/{text}")


@st.composite
def qatech_scripts(draw: st.DrawFn) -> SimulatedRun:
    cases, details = [], {}
    for index in range(draw(st.integers(1, 3))):
        short_id = draw(st.sampled_from([f"tc{index}", f"tc{index}", "..", "a/b"]))
        cases.append(
            {
                "id": f"u{index}",
                "shortId": short_id,
                "name": draw(hostile),
                "status": draw(st.sampled_from(["COMPLETED", "COMPLETED", "ERROR"]) | hostile),
                "result": draw(st.sampled_from(["PASSED", "FAILED", "SKIPPED", None]) | hostile),
                "resultTitle": draw(maybe_hostile),
                "evaluationThought": draw(maybe_hostile),
                "promptGoal": draw(maybe_hostile),
                "promptExamples": draw(maybe_hostile),
            }
        )
        details[short_id] = {
            "shortId": short_id,
            "durationMs": draw(durations),
            "errorCode": draw(st.none() | st.sampled_from(["AGENT_X", "TEST_FAILED"]) | hostile),
            "url": draw(links),
            "screenshotUrl": draw(links),
            "startedAt": draw(maybe_hostile),
        }
    status = draw(st.sampled_from(["COMPLETED", "COMPLETED", "CANCELLED"]) | hostile)
    result = draw(st.sampled_from(["PASSED", "FAILED"]) | hostile)
    return SimulatedRun(
        "abc123",
        result,
        cases,
        statuses=(status,),
        details=details,  # type: ignore[arg-type]
    )


@st.composite
def vibe_scripts(draw: st.DrawFn) -> SimulatedTestVibeRun:
    tests = [
        {
            "name": draw(hostile),
            "status": draw(st.sampled_from(["passed", "failed", "skipped"]) | hostile),
            "durationMs": draw(durations),
            "error": draw(maybe_hostile),
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    run = SimulatedTestVibeRun(
        7,
        tests=tests,
        artifacts=[{"kind": draw(hostile), "path": draw(hostile), "size": 12}],
        log=draw(maybe_hostile),
    )
    run.statuses = (draw(st.sampled_from(["passed", "failed"])),)
    return run


@st.composite
def autonoma_scripts(draw: st.DrawFn) -> SimulatedAutonomaRun:
    steps = [
        {
            "instruction": draw(maybe_hostile),
            "status": draw(st.sampled_from(["passed", "failed"]) | hostile),
            "output": draw(maybe_hostile),
            "url": draw(maybe_hostile),
            "element": {"selector": draw(maybe_hostile)},
            "image": draw(links),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    return SimulatedAutonomaRun(
        "r1",
        draw(hostile),
        steps,
        folder=draw(maybe_hostile),
        statuses=(draw(st.sampled_from(["passed", "failed"]) | hostile),),
    )


@dataclass
class Outcome:
    output: str
    junit: str
    code: int


def check(outcome: Outcome, cases_sent: int, tool: str) -> None:
    text = outcome.output
    assert "Traceback" not in text, tool
    assert "INTERNALERROR" not in text, tool
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]", text), tool
    commands = [line for line in text.splitlines() if line.lstrip().startswith("::")]
    assert commands == [], tool
    assert "##[" not in text, tool
    for secret in SECRETS:
        assert secret not in text, tool
        assert secret not in outcome.junit, tool
    root = ET.fromstring(outcome.junit)  # valid XML, or this raises
    testcases = list(root.iter("testcase"))
    assert len(testcases) >= cases_sent, tool  # no case lost
    red = [case for case in testcases if case.find("failure") is not None]
    red += [case for case in testcases if case.find("error") is not None]
    # Green only without a failure or an error, and never green beside one.
    assert (outcome.code == 0) == (not red), tool


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    qatech=qatech_scripts(),
    testvibe=vibe_scripts(),
    autonoma=autonoma_scripts(),
    refusal=st.none() | hostile,
)
def test_hostile_text_anywhere(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    qatech: SimulatedRun,
    testvibe: SimulatedTestVibeRun,
    autonoma: SimulatedAutonomaRun,
    refusal: str | None,
) -> None:
    runs: list[Scripted] = [qatech, testvibe, autonoma]
    args = ["--testvibe-run", "7", "--autonoma-run", "r1", *FAST]
    qatech_ids = ["abc123"]
    if refusal is not None:  # a server that answers with hostile words, and echoes the token
        words = {"message": f"{refusal} {DEFAULT_TOKEN}", "error": refusal}
        runs.append(SimulatedRun("deny", answers={0: Answer(401, words)}))
        qatech_ids.append("deny")
    cases_sent = len(qatech.cases) + len(testvibe.tests) + 1
    with Simulator(runs) as simulator:
        for name, value in environment(simulator.url).items():
            monkeypatch.setenv(name, value)
        plugin = pytester.runpytest_inprocess(
            *(arg for run_id in qatech_ids for arg in ("--qatech-run", run_id)),
            *args, "--junitxml=report.xml", "-rA", "-v", "--continue-on-collection-errors",
            "-p", "no:cacheprovider",
        )  # fmt: skip
        for run in runs:  # the same scripts again, from their first request
            run.requests = run.polls = 0
        printed = io.StringIO()
        report = tmp_path / "junit.xml"
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            code = qatech_junit([*qatech_ids, *args, "-o", str(report)], environment(simulator.url))
    plugin_output = plugin.stdout.str() + plugin.stderr.str()
    junit = (pytester.path / "report.xml").read_text(encoding="utf-8")
    check(Outcome(plugin_output, junit, plugin.ret), cases_sent, "pytest")
    assert plugin.ret in (0, 1, 2)
    check(Outcome(printed.getvalue(), report.read_text(encoding="utf-8"), code), cases_sent, "cli")
    assert code in (0, 1, 2, 3)
