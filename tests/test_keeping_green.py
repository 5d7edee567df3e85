"""Keeping CI green honestly, as whole sessions: runs skipped for missing credentials, quarantine
with an expiry, a limit on flaky cases, new failures told from known ones, and attachments every
JUnit reader keeps apart. The rules themselves are unit-tested beside their core modules."""

from __future__ import annotations

import datetime
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_qatech.cli import main
from pytest_qatech.simulator import (
    Answer,
    SimulatedProject,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
    environment,
    vibe_test,
)

from .helpers import FAILING_TEST, FAST, LOCAL_TEST, mixed_run, run_session

CREDENTIALS = (
    "QATECH_API_TOKEN",
    "QATECH_API_KEY",
    "TESTVIBE_API_KEY",
    "AUTONOMA_CLIENT_ID",
    "AUTONOMA_CLIENT_SECRET",
)
ALL_PLATFORMS = ("--qatech-run", "abc123", "--testvibe-run", "214", "--autonoma-run", "r1")


def report_cases(report: Path) -> dict[str, ET.Element]:
    """The report's testcases, by ``classname::name``."""
    root = ET.parse(report).getroot()
    return {f"{c.get('classname')}::{c.get('name')}": c for c in root.iter("testcase")}


@pytest.fixture
def no_credentials(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """The simulator, every platform pointed at it, and no credential set: a pull request from
    a fork. Any request it gets would be one too many."""
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    return simulator


@pytest.mark.parametrize(
    ("local", "exit_code"), [(LOCAL_TEST, pytest.ExitCode.OK), (FAILING_TEST, 1)]
)
def test_missing_credentials_skip_each_platform_and_the_local_tests_decide(
    no_credentials: Simulator,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    local: str,
    exit_code: int,
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    pytester.makepyfile(test_local=local)
    pytester.makeini("[pytest]\nqatech_missing_token = skip\n")
    result = run_session(pytester, *ALL_PLATFORMS, "-rs", "--junitxml", "report.xml")
    assert result.ret == exit_code
    result.assert_outcomes(**{"passed" if exit_code == 0 else "failed": 1}, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "qatech: QA.tech: QATECH_API_TOKEN (or QATECH_API_KEY) not set: run abc123 not "
            "waited for (--qatech-missing-token skip)",
            "qatech: TestVibe: TESTVIBE_API_KEY not set: run 214 not waited for "
            "(--qatech-missing-token skip)",
            "qatech: Autonoma: AUTONOMA_CLIENT_ID and AUTONOMA_CLIENT_SECRET not set: run r1 not "
            "waited for (--qatech-missing-token skip)",
            "::notice title=QA.tech runs skipped::QA.tech: QATECH_API_TOKEN (or QATECH_API_KEY) "
            "not set: run abc123 not waited for (--qatech-missing-token skip)",
            "::notice title=TestVibe runs skipped::*",
            "::notice title=Autonoma runs skipped::*",
            "SKIPPED [1] qatech: QATECH_API_TOKEN (or QATECH_API_KEY) not set: run abc123 not "
            "waited for (--qatech-missing-token skip)",
        ],
        consecutive=False,
    )
    cases = report_cases(pytester.path / "report.xml")
    skipped = cases["autonoma::(missing credentials)"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "AUTONOMA_CLIENT_ID and AUTONOMA_CLIENT_SECRET not set: run r1 not waited for "
        "(--qatech-missing-token skip)"
    )
    assert no_credentials.requests == []


def test_without_a_token_skip_starts_nothing(
    no_credentials: Simulator, pytester: pytest.Pytester
) -> None:
    # Not marked starts_runs: the autouse fixture fails the test if anything but a GET is sent.
    args = ("--qatech-plan", "pln_smoke", "--qatech-reruns", "1", "--qatech-missing-token", "skip")
    result = run_session(pytester, *args, "-rs")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [1] qatech: QATECH_API_TOKEN (or QATECH_API_KEY) not set: no run of test "
            "plan pln_smoke started (--qatech-missing-token skip)"
        ]
    )
    assert no_credentials.requests == []


def test_missing_credentials_fail_by_default(
    no_credentials: Simulator, pytester: pytest.Pytester
) -> None:
    result = run_session(pytester, "--qatech-run", "abc123")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --qatech-run needs an API token: set QATECH_API_TOKEN*"])


def test_skipped_platforms_run_on_xdist_workers_and_answer_their_node_ids(
    no_credentials: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One platform's credentials are there: its run is reported as ever beside the skipped one.
    monkeypatch.setenv("TESTVIBE_API_KEY", environment(no_credentials.url)["TESTVIBE_API_KEY"])
    no_credentials.add(SimulatedTestVibeRun(215, tests=[vibe_test("Signs in"), vibe_test("Pays")]))
    pytester.makepyfile(test_local=LOCAL_TEST)
    args = ("--qatech-run", "abc123", "--testvibe-run", "215", "--qatech-missing-token", "skip")
    result = run_session(pytester, *FAST, *args, "-n", "2", "--junitxml", "report.xml")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3, skipped=1)
    assert "qatech::(missing credentials)" in report_cases(pytester.path / "report.xml")
    # A node id of the skipped platform selects its one item, and is no usage error.
    result = run_session(pytester, *FAST, *args, "qatech::abc123::Checkout", "-n", "2")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(skipped=1)
    # Nothing went to QA.tech.
    assert all(request.path.endswith("/runs/215") for request in no_credentials.requests)


def test_a_refused_token_is_never_skipped(simulator: Simulator, pytester: pytest.Pytester) -> None:
    run = mixed_run()
    simulator.add(SimulatedRun("abc123", cases=run.cases, answers={0: Answer(401, {})}))
    result = run_session(
        pytester, *FAST, "--qatech-run", "abc123", "--qatech-missing-token", "skip"
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*HTTP 401*", "*hint: check QATECH_API_TOKEN*"])


def test_qatech_junit_skips_the_same_way(
    no_credentials: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.xml"
    environ = {
        **{k: v for k, v in environment(no_credentials.url).items() if k not in CREDENTIALS},
        "GITHUB_ACTIONS": "true",
    }
    code = main(["abc123", "--qatech-missing-token", "skip", "-o", str(report)], environ)
    assert code == 0
    printed = capsys.readouterr().out
    assert "::notice title=QA.tech runs skipped::QA.tech: QATECH_API_TOKEN" in printed
    skipped = report_cases(report)["qatech::(missing credentials)"].find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("QATECH_API_TOKEN (or QATECH_API_KEY) not set")
    assert main(["abc123", "-o", str(report)], environ) == 4
    assert no_credentials.requests == []


def two_flaky() -> SimulatedRun:
    """A run whose two failures pass on their first rerun."""
    return SimulatedRun(
        "abc123",
        result="FAILED",
        passes_on_rerun={"Pays": 1, "Signs in": 1},
        cases=[
            case("Browses", short_id="c1"),
            case("Pays", "FAILED", title="No pay button", short_id="c2"),
            case("Signs in", "FAILED", title="Timed out", short_id="c3"),
        ],
    )


@pytest.mark.starts_runs
@pytest.mark.parametrize(
    ("limit", "exit_code"),
    [(("--qatech-max-flaky", "1"), 1), (("-o", "qatech_max_flaky=2"), 0), ((), 0)],
)
def test_more_flaky_cases_than_the_limit_fail_the_session(
    simulator: Simulator, pytester: pytest.Pytester, limit: tuple[str, ...], exit_code: int
) -> None:
    simulator.project = SimulatedProject()
    simulator.add(two_flaky())
    args = ("--qatech-run", "abc123", "--qatech-reruns", "1", *limit)
    result = run_session(pytester, *FAST, *args)
    assert result.parseoutcomes() == {"passed": 3, "rerun": 2}
    assert result.ret == exit_code
    line = (
        "qatech: 2 flaky cases, more than --qatech-max-flaky 1 allows: qatech::Pays, "
        "qatech::Signs in"
    )
    assert (line in result.outlines) == (exit_code == 1)


@pytest.mark.starts_runs
def test_qatech_junit_has_the_same_limit(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.project = SimulatedProject()
    simulator.add(two_flaky())
    args = ["abc123", "--reruns", "1", *FAST, "-o", str(tmp_path / "r.xml")]
    assert main([*args, "--qatech-max-flaky", "1"], environment(simulator.url)) == 1
    assert "qatech-junit: 2 flaky cases, more than --qatech-max-flaky 1 allows" in (
        capsys.readouterr().out
    )
    simulator.add(two_flaky())
    assert main([*args, "--qatech-max-flaky", "2"], environment(simulator.url)) == 0


QUARANTINE_INI = """[pytest]
xfail_strict = true
qatech_quarantine =
    qatech::Checkout until 2099-01-15: flaky payment sandbox, see #123
    qatech::Login flow test until 2099-01-15: was flaky
    qatech::Retired until 2099-01-15: removed from the plan
    qatech::Newsletter until 2000-01-01: long ago
"""


@pytest.mark.parametrize("extra", [(), ("-n", "2")])
def test_a_quarantined_failure_is_skipped_with_its_expiry_and_reason(
    simulator: Simulator,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
) -> None:
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    simulator.add(mixed_run())
    pytester.makeini(QUARANTINE_INI)
    args = (*FAST, "--qatech-run", "abc123", "-rs", "--junitxml", "report.xml", *extra)
    result = run_session(pytester, *args)
    # The one failure is quarantined: a green session. A pass stays one, xfail_strict or not.
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=2)
    for line in [
        "SKIPPED [1] qatech::Checkout: quarantined until 2099-01-15: flaky payment sandbox, "
        "see #123 (failed: Could not find login button)",
        "QA.tech run abc123: COMPLETED, result FAILED - 1 passed, 1 failed, 1 skipped",
        "quarantined: 2",
        # In the order they reported.
        "  qatech::Checkout: failed, until 2099-01-15: flaky payment sandbox, see #123 - "
        "Could not find login button",
        "  qatech::Login flow test: passed, until 2099-01-15: was flaky - it passed: consider "
        "lifting its quarantine",
        "warning: the quarantine of qatech::Newsletter ended on 2000-01-01: it applies no more",
        "warning: a quarantine entry matched no test of this session: qatech::Retired until "
        "2099-01-15",
    ]:
        assert line in result.outlines
    cases = report_cases(pytester.path / "report.xml")
    skipped = cases["qatech::Checkout"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "quarantined until 2099-01-15: flaky payment sandbox, see #123 (failed: Could not find "
        "login button)"
    )
    assert [child.tag for child in cases["qatech::Login flow test"]] == ["properties"]
    assert (
        "| `qatech::Checkout` | failed | 2099-01-15 | flaky payment sandbox, see #123 |"
        in summary.read_text()
    )


def test_an_entry_without_a_valid_date_is_a_usage_error_before_any_request(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(mixed_run())
    pytester.makeini("[pytest]\nqatech_quarantine =\n    qatech::Checkout until soon: flaky\n")
    result = run_session(pytester, *FAST, "--qatech-run", "abc123")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: qatech_quarantine: 'qatech::Checkout until soon: flaky': 'soon' is not a date*"]
    )
    assert simulator.requests == []


def two_failures() -> SimulatedRun:
    run = mixed_run()
    run.cases.append(case("Pay", "FAILED", title="No pay button", short_id="tc4"))
    return run


def recorded(pytester: pytest.Pytester) -> dict[str, list[object]]:
    path = pytester.path / ".pytest_cache" / "v" / "qatech" / "verdicts"
    tests: dict[str, list[object]] = json.loads(path.read_text())["tests"]
    return tests


def test_new_failures_are_told_from_known_ones_and_the_fixed_listed(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(two_failures())
    cache = pytester.path / ".pytest_cache" / "v" / "qatech" / "verdicts"
    cache.parent.mkdir(parents=True)
    earlier = {
        "qatech::Checkout": [True, "2026-11-01", 2],
        "qatech::Login flow test": [True, "2026-11-20", 1],
        "qatech::Pay": [False, "2026-11-20", 1],
    }
    cache.write_text(json.dumps({"version": 1, "tests": earlier}))
    today = datetime.date.today().isoformat()
    args = (*FAST, "--qatech-run", "abc123", "--junitxml", "report.xml", "-p", "no:randomly")
    result = run_session(pytester, *args)
    assert result.ret == 1
    lines = result.outlines[result.outlines.index("failures: 1 new, 1 failing before") :]
    assert sorted(lines[1:3]) == [
        "  failing since 2026-11-01 (3 sessions): qatech::Checkout",
        "  new: qatech::Pay",
    ]
    assert lines[3:5] == ["fixed since the last session: 1", "  qatech::Login flow test"]
    cases = report_cases(pytester.path / "report.xml")

    def properties(name: str) -> dict[str, str]:
        return {p.get("name", ""): p.get("value", "") for p in cases[name].iter("property")}

    assert properties("qatech::Checkout")["failing_since"] == "2026-11-01"
    assert properties("qatech::Checkout")["failing_sessions"] == "3"
    assert properties("qatech::Pay")["new_failure"] == "true"
    assert "new_failure" not in properties("qatech::Login flow test")
    after = recorded(pytester)
    assert after["qatech::Checkout"] == [True, "2026-11-01", 3]
    # Unless the day changed while the session ran.
    assert after["qatech::Pay"][:2] in ([True, today], [True, datetime.date.today().isoformat()])
    assert after["qatech::Login flow test"][0] is False

    # Without pytest's cache nothing is told, and nothing breaks.
    simulator.add(two_failures())
    result = run_session(pytester, *args, "-p", "no:cacheprovider")
    assert result.ret == 1
    assert not any(line.startswith(("failures:", "fixed since")) for line in result.outlines)
    assert "new_failure" not in (pytester.path / "report.xml").read_text()


def two_failed_with_media() -> SimulatedRun:
    """A run whose two failures each have a screenshot and a recording (the simulator's details
    name both)."""
    return SimulatedRun(
        "abc123",
        result="FAILED",
        cases=[
            case("Browses", short_id="tc1"),
            case("Pays", "FAILED", title="No pay button", short_id="tc2"),
            case("Signs in", "ERROR", title="Agent lost the browser", short_id="tc3"),
        ],
    )


def attachments_of(report: Path) -> dict[str, list[str]]:
    """Each testcase's attachments, in order, by its name."""
    return {
        case.get("name", ""): re.findall(
            r"\[\[ATTACHMENT\|(.*?)\]\]", case.findtext("system-out") or ""
        )
        for case in ET.parse(report).iter("testcase")
    }


def assert_every_reader_keeps_them_apart(report: Path, project: Path) -> None:
    attachments = attachments_of(report)
    assert attachments["Browses"] == []
    files = attachments["Pays"] + attachments["Signs in"]
    assert len(files) == 4
    # Jenkins' attachments plugin: one file per name per class (the run's, shared).
    assert len({Path(path).name for path in files}) == 4
    for case_files in (attachments["Pays"], attachments["Signs in"]):
        # GitLab: the first attachment is the one shown, a picture, at a path in the project.
        assert case_files[0].endswith("-screenshot.png")
        assert all(not Path(path).is_absolute() for path in case_files)
        assert all((project / path).is_file() for path in case_files)


def test_attachments_every_junit_reader_keeps_apart(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Simulator([two_failed_with_media()], media=True) as simulator:
        for variable, value in environment(simulator.url).items():
            monkeypatch.setenv(variable, value)
        # GitLab's project folder is where pytest runs.
        monkeypatch.setenv("CI_PROJECT_DIR", str(pytester.path))
        args = ("--qatech-run", "abc123", "--junitxml=report.xml")
        result = run_session(pytester, *FAST, *args, "--qatech-artifacts=artifacts")
        assert result.ret == 1
        assert_every_reader_keeps_them_apart(pytester.path / "report.xml", pytester.path)

        simulator.add(two_failed_with_media())
        environ = {**environment(simulator.url), "CI_PROJECT_DIR": str(tmp_path)}
        report = tmp_path / "cli.xml"
        artifacts = ["--qatech-artifacts", str(tmp_path / "saved")]
        assert main(["abc123", *FAST, *artifacts, "-o", str(report)], environ) == 1
        assert_every_reader_keeps_them_apart(report, tmp_path)
