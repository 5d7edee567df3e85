"""qatech-junit: the same core without pytest, its exit codes, and a JUnit file that validates."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from pytest_qatech import cli
from pytest_qatech.cli import main
from pytest_qatech.core.events import Said, StatusChanged
from pytest_qatech.core.lines import TerminalLines
from pytest_qatech.simulator import (
    Answer,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
    environment,
    vibe_test,
)

from .helpers import FAST, demo_by_requests, mixed_run, run_session

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "schemas" / "junit.xsd")


def properties_of(testcase: ET.Element) -> dict[str | None, str | None]:
    return {p.get("name"): p.get("value") for p in testcase.iter("property")}


def run_cli(simulator: Simulator, tmp_path: Path, *args: str) -> tuple[int, Path]:
    report = tmp_path / "report.xml"
    code = main([*args, *FAST, "-o", str(report)], environment(simulator.url))
    return code, report


def test_a_report_of_all_three_platforms(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.add(*demo_by_requests())
    code, report = run_cli(
        simulator, tmp_path, "abc123", "--testvibe-run", "214",
        "--autonoma-run", "gch7uesq5h6m9xe2fdq5ddgd",
    )  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAILED qatech::Checkout with saved card - Could not find the 'Pay now' button" in out
    assert "QA.tech run abc123: COMPLETED, result FAILED - 1 passed, 1 failed, 1 skipped" in out
    assert "TestVibe run 214: failed - 2 passed, 1 failed" in out
    assert out[-1] == f"qatech-junit: 3 passed, 3 failed, 1 skipped; wrote {report}"
    SCHEMA.validate(str(report))
    root = ET.parse(report).getroot()
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in root] == [
        ("qatech", "3", "1"),
        ("testvibe", "3", "1"),
        ("autonoma.private-listing-hub", "1", "1"),
    ]
    failure = root.find(".//testcase[@name='Checkout with saved card']/failure")
    assert failure is not None
    assert failure.get("message") == "Could not find the 'Pay now' button"
    assert "The agent added an item to the cart" in (failure.text or "")
    slow = root.find(".//testcase[@name='Locked-out user sees an error']")
    assert slow is not None
    assert slow.get("time") == "9.120"  # as pytest writes it
    assert "----- TestVibe run log -----" in (slow.findtext("system-out") or "")


def test_ctrl_c_is_exit_2_as_in_pytest_with_a_line_per_run_still_going_and_no_report(
    simulator: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simulator.add(SimulatedRun("abc123", statuses=("RUNNING",)))
    say = TerminalLines.__call__

    def interrupted_once_running(lines: TerminalLines, said: Said) -> None:
        say(lines, said)
        if isinstance(said, StatusChanged):  # Ctrl-C, in the loop's thread: the main one
            raise KeyboardInterrupt

    monkeypatch.setattr(TerminalLines, "__call__", interrupted_once_running)
    code, report = run_cli(simulator, tmp_path, "abc123")
    assert code == 2  # pytest's interrupted
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"qatech-junit: interrupted while waiting for QA\.tech run abc123 \(RUNNING, [\d.]+s\)",
        out[-1],
    ), out
    assert not report.exists()


def test_both_tools_give_each_case_the_same_properties_under_the_same_names(
    simulator: Simulator, tmp_path: Path, pytester: pytest.Pytester
) -> None:
    simulator.add(*demo_by_requests())
    runs = ("abc123", "--testvibe-run", "214", "--autonoma-run", "gch7uesq5h6m9xe2fdq5ddgd")
    code, report = run_cli(simulator, tmp_path, *runs)
    assert code == 1
    # Without pytest's cache: a new failure's property (new_failure) is pytest's alone.
    session = run_session(
        pytester,
        *FAST,
        *("--qatech-run", runs[0], *runs[1:], f"--junitxml={tmp_path / 'p.xml'}"),
        *("-p", "no:cacheprovider"),
    )
    assert session.ret == pytest.ExitCode.TESTS_FAILED

    def by_case(path: Path) -> dict[str | None, dict[str | None, str | None]]:
        return {c.get("name"): properties_of(c) for c in ET.parse(path).iter("testcase")}

    theirs, ours = by_case(tmp_path / "p.xml"), by_case(report)
    assert set(theirs) == set(ours)
    assert all(theirs[name] == ours[name] for name in ours), (theirs, ours)
    assert any(ours.values())


@pytest.mark.parametrize("details", ["failed", "none"])
def test_case_details_reach_the_report(simulator: Simulator, tmp_path: Path, details: str) -> None:
    run = mixed_run()
    run.details["tc2"] = {
        "errorCode": "AGENT_TIMEOUT",
        "durationMs": 31_250,
        "recordingUrl": "https://media.example/tc2.webm",
    }
    simulator.add(run)
    code, report = run_cli(simulator, tmp_path, "abc123", "--qatech-details", details)
    assert code == 1
    SCHEMA.validate(str(report))
    checkout = ET.parse(report).getroot().find(".//testcase[@name='Checkout']")
    assert checkout is not None
    if details == "none":
        assert [r.path for r in simulator.requests if "run-test-case" in r.path] == []
        assert [child.tag for child in checkout] == ["properties", "failure"]
        assert "error_code" not in properties_of(checkout)
        return
    assert [child.tag for child in checkout] == ["properties", "error"]
    error = checkout.find("error")
    assert error is not None
    assert (error.get("message") or "").startswith("AGENT_TIMEOUT: the QA.tech agent")
    assert checkout.get("time") == "31.250"
    assert properties_of(checkout)["recording_url"] == "https://media.example/tc2.webm"


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "log"])
def test_a_live_line_only_on_a_terminal(
    simulator: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tty: bool,
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    simulator.add(SimulatedRun("abc123", cases=[case("a")]))
    assert run_cli(simulator, tmp_path, "abc123")[0] == 0
    out = capsys.readouterr().out
    # Whenever it is drawn: the test says nothing of how soon.
    drawn = re.search(r"\rqatech-junit: waiting \d+\.\ds: QA\.tech run abc123 [A-Z]+", out)
    assert (drawn is not None) is tty
    assert ("\r" in out) is tty
    assert "qatech-junit: QA.tech run abc123 is COMPLETED" in out


def test_all_passed_is_exit_0(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add(*demo_by_requests())
    code, report = run_cli(simulator, tmp_path, "green1", "--testvibe-run", "215")
    assert code == 0
    SCHEMA.validate(str(report))


def test_an_unreadable_run_is_exit_2_and_an_error_in_the_report(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.add(mixed_run())
    code, report = run_cli(simulator, tmp_path, "abc123", "missing")
    assert code == 2
    assert "ERROR qatech::missing::(run) - QA.tech run missing could not be read: GET " in (
        capsys.readouterr().out
    )
    SCHEMA.validate(str(report))
    error = ET.parse(report).getroot().find(".//testsuite[@name='qatech.missing']/testcase/error")
    assert error is not None
    assert 'HTTP 404 Not Found: "Run not found"' in (error.get("message") or "")


def test_a_run_still_going_at_the_timeout_is_exit_2_as_in_pytest(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add(SimulatedRun("slow", statuses=("RUNNING",)), SimulatedRun("done"))
    code, report = run_cli(simulator, tmp_path, "slow", "done", "--qatech-timeout", "0.2")
    assert code == 2
    SCHEMA.validate(str(report))


def test_unreadable_beats_failed(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add(
        mixed_run(),
        SimulatedRun("slow", statuses=("RUNNING",)),
        SimulatedRun("broken", answers={0: Answer(200, "not json")}),
    )
    # A second: the other runs' first answers are in long before, on a loaded machine too.
    code, _ = run_cli(simulator, tmp_path, "abc123", "slow", "broken", "--qatech-timeout", "1")
    assert code == 2


def test_a_run_without_a_verdict_is_exit_1(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add(
        SimulatedTestVibeRun(9, tests=[vibe_test("a"), vibe_test("b", "interrupted")]),
        SimulatedRun("ended", statuses=("CANCELLED",), cases=[case("x")]),
    )
    code, report = run_cli(simulator, tmp_path, "ended", "--testvibe-run", "9")
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.find(".//testcase[@name='b']/error") is not None
    assert root.find(".//testcase[@name='(run)']/error") is not None
    SCHEMA.validate(str(report))


@pytest.mark.parametrize(
    ("args", "environ", "message"),
    [
        (["abc"], {}, "QATECH_API_TOKEN"),
        ([], {"QATECH_API_TOKEN": "t"}, "no run given"),
        (["a/b"], {"QATECH_API_TOKEN": "t"}, "is not a run short id"),
        (["--testvibe-run", "x"], {}, "is not a TestVibe run id"),
        (["abc", "--no-such-option"], {}, "unrecognized arguments"),
    ],
)
def test_usage_errors_are_exit_4(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    assert main([*args, "-o", str(tmp_path / "r.xml")], environ) == 4
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.xml").exists()


def test_the_command_runs_without_pytest(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add(*demo_by_requests())
    probe = (
        "import sys\n"
        "from pytest_qatech.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest'))\n"
        "print('pytest modules:', loaded)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "abc123", "--testvibe-run", "214", *FAST, "-o", "r.xml"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**os.environ, **environment(simulator.url)},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pytest modules: []" in done.stdout.splitlines()


def test_the_help_names_no_ini_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    words = " ".join(shown.split())
    assert "(env QATECH_API_URL, default https://api.qa.tech)" in words
    assert "ini" not in shown
    # What it does, without pytest; and its exit codes, pytest's.
    assert "pytest items" not in words
    assert (
        "wait for this QA.tech run and write its cases to the JUnit file, without pytest" in words
    )
    assert (
        "exit codes, as pytest's: 0 all passed, 1 a test failed, 2 a run could not be read" in words
    )


def test_runs_that_report_no_test_case_are_exit_5_as_in_pytest(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add(SimulatedRun("empty", cases=[]))
    code, _ = run_cli(simulator, tmp_path, "empty")
    assert code == 5


def test_a_bug_is_an_internal_error_exit_3_never_a_failed_test(
    simulator: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    simulator.add(mixed_run())

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "_print_summary", broken)
    code, _ = run_cli(simulator, tmp_path, "abc123")
    assert code == 3
    err = capsys.readouterr().err
    assert "qatech-junit: internal error, please report it:" in err
    assert "RuntimeError: a bug" in err


def test_the_console_script(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add(*demo_by_requests())
    script = Path(sys.executable).parent / "qatech-junit"
    done = subprocess.run(
        [str(script), "abc123", *FAST, "-o", "out.xml"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**os.environ, **environment(simulator.url)},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "qatech-junit: 1 passed, 1 failed, 1 skipped; wrote out.xml" in done.stdout
    SCHEMA.validate(str(tmp_path / "out.xml"))


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_the_plugins_junit_validates(
    simulator: Simulator, pytester: pytest.Pytester, family: str
) -> None:
    ended = SimulatedRun("ended", statuses=("ERROR",), cases=[case("x")])
    simulator.add(*demo_by_requests(), ended)
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    pytester.runpytest_inprocess(
        *FAST, "--qatech-run", "abc123", "--qatech-run", "ended", "--qatech-run", "missing",
        "--testvibe-run", "214", "--autonoma-run", "gch7uesq5h6m9xe2fdq5ddgd",
        "--continue-on-collection-errors", "--junitxml=report.xml", "-o", f"junit_family={family}",
    )  # fmt: skip
    SCHEMA.validate(str(pytester.path / "report.xml"))


def test_the_schema_rejects_what_ci_systems_would_not_read(tmp_path: Path) -> None:
    """The validation above means something: the schema refuses a broken file."""
    good = (
        '<testsuites><testsuite name="s" tests="1"><testcase name="t" time="0.5"/></testsuite>'
        "</testsuites>"
    )
    assert SCHEMA.is_valid(good)
    for bad in (
        good.replace('time="0.5"', 'time="soon"'),
        good.replace('name="t" ', ""),
        good.replace("<testcase", "<testcase><failed/></testcase><testcase"),
        good.replace(' tests="1"', ""),
    ):
        assert not SCHEMA.is_valid(bad), bad


def test_the_report_s_folders_are_made_before_the_wait(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add(mixed_run())
    report = tmp_path / "not" / "yet" / "report.xml"
    code = main(["abc123", *FAST, "-o", str(report)], environment(simulator.url))
    assert code == 1
    SCHEMA.validate(str(report))


def test_a_report_path_that_is_a_folder_is_a_usage_error_before_any_request(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    simulator.add(mixed_run())
    code = main(["abc123", *FAST, "-o", str(tmp_path)], environment(simulator.url))
    assert code == 4
    assert capsys.readouterr().err == (
        f"qatech-junit: error: -o {str(tmp_path)!r} is a folder: name the report's file\n"
    )
    assert simulator.requests == []


def test_a_timed_out_run_keeps_the_verdicts_it_had_as_the_plugin_does(
    simulator: Simulator, tmp_path: Path
) -> None:
    # One case ended while its run was going; the other never did before the timeout.
    simulator.add(
        SimulatedRun(
            "slow",
            cases=[case("Login", short_id="tc1"), case("Pay", short_id="tc2")],
            statuses=("RUNNING",),
            finish_at={"tc1": 0, "tc2": 10**6},
        )
    )
    code, report = run_cli(simulator, tmp_path, "slow", "--qatech-timeout", "0.5")
    assert code == 2
    outcomes = {
        case.get("name"): [c.tag for c in case if c.tag not in ("system-out", "properties")]
        for case in ET.parse(report).iter("testcase")
    }
    assert outcomes == {"Login": [], "Pay": ["error"], "(run)": ["error"]}
    pay = ET.parse(report).find(".//testcase[@name='Pay']/error")
    assert pay is not None
    assert (pay.get("message") or "").startswith(
        "no verdict: QA.tech run slow did not finish in time: still RUNNING after"
    )
    # Who the case is stays with it, as for any case of the run.
    properties = {p.get("name"): p.get("value") for p in ET.parse(report).iterfind(
        ".//testcase[@name='Pay']/properties/property")}  # fmt: skip
    assert (properties["run_short_id"], properties["case_short_id"]) == ("slow", "tc2")


def test_the_plugins_run_option_works_too(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add(mixed_run(), mixed_run("def456"))
    code, report = run_cli(simulator, tmp_path, "abc123", "--qatech-run", "def456")
    assert code == 1
    suites = [suite.get("name") for suite in ET.parse(report).getroot()]
    assert suites == ["qatech.abc123", "qatech.def456"]
