"""GitHub Actions: the job summary and the ::error annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_qatech.core.github import Problem, error_annotations, step_summary
from pytest_qatech.core.models import FinishedRun, Outcome, RemoteCase
from pytest_qatech.simulator import Answer, SimulatedRun, Simulator, case

from .helpers import FAILING_TEST, FAST, mixed_run, run_session

CASE_PAGE = "https://app.qa.tech/p/acme/results/abc123/tc2"


@pytest.fixture
def summary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "step-summary.md"
    path.write_text("# Written by an earlier step\n\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    return path


def add_runs(simulator: Simulator) -> None:
    crashed = case("Crashed", None, status="ERROR", title="Agent lost the browser")
    run = mixed_run()
    run.cases.append(crashed)
    run.details["tc2"] = {"url": CASE_PAGE}
    simulator.add(run, SimulatedRun("nope", answers={0: Answer(404, {"message": "Run not found"})}))


@pytest.mark.parametrize("extra", [(), ("-n", "2", "--dist", "loadscope")])
def test_summary_and_annotations(
    simulator: Simulator, pytester: pytest.Pytester, summary_file: Path, extra: tuple[str, ...]
) -> None:
    add_runs(simulator)
    # pytest-github-actions-annotate-failures is loaded too: it annotates the local failure
    # alone, and the remote ones are annotated once each, by this plugin.
    pytester.makepyfile(test_local=FAILING_TEST)
    args = ("--qatech-run", "abc123", "--qatech-run", "nope", "--continue-on-collection-errors")
    result = run_session(pytester, *FAST, *args, *extra)
    result.assert_outcomes(passed=1, failed=2, skipped=1, errors=2)
    assert pytester.parseconfig().pluginmanager.hasplugin("pytest_github_actions_annotate_failures")

    printed = result.outlines + result.errlines
    local = [line for line in printed if line.startswith("::error file=test_local.py")]
    assert len(local) == 1, printed
    annotations = [line for line in result.outlines if line.startswith("::error title=")]
    assert annotations == [
        "::error title=qatech%3A%3Anope::QA.tech run nope could not be read: GET "
        f'{simulator.url}/v1/run/nope failed: HTTP 404 Not Found: "Run not found"',
        "::error title=qatech%3A%3Aabc123%3A%3ACheckout::Could not find login button",
        "::error title=qatech%3A%3Aabc123%3A%3ACrashed::the case ended ERROR (result None): "
        "it produced no verdict",
    ]
    summary = summary_file.read_text()
    assert summary.startswith("# Written by an earlier step\n\n## Remote test runs\n")
    assert summary.count("## Remote test runs") == 1
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    # Each test links to its case's page on QA.tech (from the case's details).
    assert rows[2] == (
        f"| ❌ failed | [`qatech::abc123::Checkout`]({CASE_PAGE}) | Could not find login button |"
    )
    assert rows[3].startswith("| ⚠️ error | `qatech::nope` | QA.tech run nope could not be read")
    assert rows[4].startswith("| ⚠️ error | [`qatech::abc123::Crashed`](https://")
    assert rows[-2:] == [
        "| QA.tech abc123 | COMPLETED, FAILED | 1 passed, 1 failed, 1 skipped, 1 error |",
        "| QA.tech nope | unknown | could not be read |",
    ]


def test_nothing_for_github_outside_github(
    simulator: Simulator, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    simulator.add(mixed_run())
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert "::error" not in result.stdout.str()


def test_an_inactive_plugin_writes_no_summary(
    pytester: pytest.Pytester, summary_file: Path
) -> None:
    pytester.makepyfile("def test_one():\n    assert 0\n")
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    assert summary_file.read_text() == "# Written by an earlier step\n\n"
    assert "::error" not in result.stdout.str()


def test_workflow_command_escaping() -> None:
    problem = Problem("qatech::r1::a, b: c", "failed", "50% done\r\nthen broke\nsecond line")
    assert error_annotations([problem]) == [
        "::error title=qatech%3A%3Ar1%3A%3Aa%2C b%3A c::50%25 done%0D"
    ]


def test_markdown_cells_are_escaped() -> None:
    run = FinishedRun("qatech", "r|1", "COMPLETED", "PASSED", ())
    problem = Problem("qatech::r|1::x", "failed", "a | b\nmore")
    summary = step_summary([run], [problem])
    assert "| ❌ failed | `qatech::r\\|1::x` | a \\| b |" in summary
    assert "| QA.tech r\\|1 | COMPLETED, PASSED | none |" in summary


def test_links_cannot_break_the_markdown() -> None:
    run = FinishedRun("qatech", "r1", "COMPLETED", "FAILED", (), url="https://x.test/a b)")
    problem = Problem("qatech::r1::x", "failed", "no", "https://x.test/c?d=(e)|f\n")
    summary = step_summary([run], [problem])
    assert "[`qatech::r1::x`](https://x.test/c?d=%28e%29%7Cf%0A) |" in summary
    assert "| [QA.tech r1](https://x.test/a%20b%29) |" in summary


def test_run_rows_link_to_the_dashboard(
    simulator: Simulator,
    pytester: pytest.Pytester,
    summary_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QATECH_PROJECT", "acme")
    simulator.add(mixed_run())
    pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123")
    link = "https://app.qa.tech/p/acme/results/abc123"
    row = f"| [QA.tech abc123]({link}) | COMPLETED, FAILED | 1 passed, 1 failed, 1 skipped |"
    assert row in summary_file.read_text().splitlines()


def test_remote_text_in_annotations_and_summary_is_visible(
    simulator: Simulator, pytester: pytest.Pytester, summary_file: Path
) -> None:
    simulator.add(SimulatedRun("gone", answers={0: Answer(404, {"message": "gone\x1b[31m"})}))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "gone")
    annotations = [line for line in result.outlines if line.startswith("::error")]
    assert len(annotations) == 1
    assert annotations[0].endswith('HTTP 404 Not Found: "gone\\x1b[31m"')
    assert "\x1b" not in result.stdout.str()
    summary = summary_file.read_text()
    assert "\x1b" not in summary
    assert "gone\\x1b[31m" in summary


#: GitHub Actions' limits, as its documentation states them: a step's job summary of more than
#: 1 MiB is rejected whole; 10 error annotations of a step are shown.
GITHUB_SUMMARY_LIMIT = 1024 * 1024
GITHUB_ANNOTATIONS_SHOWN = 10


def ten_thousand_cases() -> tuple[FinishedRun, list[Problem]]:
    """A run of 10,000 cases, 5,000 of them failing with long headlines."""
    headline = "The checkout page showed an empty payment panel after the spinner " * 3
    cases = tuple(
        RemoteCase(f"Case {n:05}", Outcome.FAILED if n % 2 else Outcome.PASSED, headline)
        for n in range(10_000)
    )
    run = FinishedRun("qatech", "abc123", "COMPLETED", "FAILED", cases, url="https://x.test/r")
    problems = [
        Problem(f"qatech::{case.name}", "failed", case.headline, f"https://x.test/c/{case.name}")
        for case in cases
        if case.outcome is Outcome.FAILED
    ]
    return run, problems


def test_the_job_summary_of_10000_cases_stays_within_githubs_limit() -> None:
    run, problems = ten_thousand_cases()
    summary = step_summary([run], problems)
    assert len(summary.encode()) <= GITHUB_SUMMARY_LIMIT
    lines = summary.splitlines()
    shown = [line for line in lines if line.startswith("| ❌ failed |")]
    assert 1000 < len(shown) < 5000
    assert f"| … | {5000 - len(shown)} more, not shown | see the runs below |" in lines
    # The run's row stays, with its link.
    row = "| [QA.tech abc123](https://x.test/r) | COMPLETED, FAILED | 5000 passed, 5000 failed |"
    assert lines[-2:] == [row, ""]


def test_the_job_summary_fits_in_what_the_step_left() -> None:
    run, problems = ten_thousand_cases()
    summary = step_summary([run], problems, limit=2000)
    assert len(summary.encode()) <= 2000
    assert "more, not shown" in summary
    # Not even the run's row fits: nothing, rather than a summary GitHub rejects.
    assert step_summary([run], problems, limit=100) == ""


def test_at_most_ten_annotations_and_a_line_for_the_rest() -> None:
    _, problems = ten_thousand_cases()
    lines = error_annotations(problems)
    assert [line.startswith("::error ") for line in lines] == [True] * GITHUB_ANNOTATIONS_SHOWN + [
        False
    ]
    assert lines[-1] == (
        "qatech: 4990 more remote tests did not pass and are not annotated: GitHub shows 10 "
        "error annotations a step; the log and the job summary list them"
    )
    assert len(error_annotations(problems[:10])) == 10


def test_a_session_with_more_failures_than_annotations(
    simulator: Simulator, pytester: pytest.Pytester, summary_file: Path
) -> None:
    # An earlier writer of the step left room for a few rows only.
    summary_file.write_text("x" * (GITHUB_SUMMARY_LIMIT - 600))
    failing = [case(f"c{n}", "FAILED", title=f"broken {n}", short_id=f"tc{n}") for n in range(12)]
    simulator.add(SimulatedRun("abc123", "FAILED", failing))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "--qatech-details=none")
    result.assert_outcomes(failed=12)
    annotations = [line for line in result.outlines if line.startswith("::error")]
    assert len(annotations) == GITHUB_ANNOTATIONS_SHOWN
    result.stdout.fnmatch_lines(["qatech: 2 more remote tests did not pass and are not annotated*"])
    assert len(summary_file.read_bytes()) <= GITHUB_SUMMARY_LIMIT
    assert "more, not shown" in summary_file.read_text()


def test_a_run_that_times_out_late_is_one_problem_not_two(
    simulator: Simulator, pytester: pytest.Pytester, summary_file: Path
) -> None:
    # Listed at collection, then never ended: its (run) item reports the timeout, which the
    # summary and the annotations must not say a second time for the run's collector.
    simulator.add(SimulatedRun("abc123", cases=[case("a", short_id="tc1")], statuses=("RUNNING",)))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "--qatech-timeout", "1")
    annotations = [line for line in result.outlines if line.startswith("::error")]
    assert [line.split("::")[1] for line in annotations] == [
        "error title=qatech%3A%3Aa",
        "error title=qatech%3A%3A(run)",
    ]
    problems = [line for line in summary_file.read_text().splitlines() if line.startswith("| ⚠")]
    assert len(problems) == 2  # the case without a verdict, and the run


def test_a_skipped_platform_is_a_notice_its_reason_spelled_out() -> None:
    from pytest_qatech.core.github import skipped_notices
    from pytest_qatech.core.models import SkippedSource

    sources = [
        SkippedSource(
            "qatech", "QATECH_API_TOKEN (or QATECH_API_KEY)", ("a", "b"), ("test plan pln_x",)
        ),
        SkippedSource("autonoma", "AUTONOMA_CLIENT_SECRET", ("r%1\n::error::x",)),
    ]
    assert skipped_notices(sources) == [
        "::notice title=QA.tech runs skipped::QA.tech: QATECH_API_TOKEN (or QATECH_API_KEY) not "
        "set: runs a, b not waited for; no run of test plan pln_x started "
        "(--qatech-missing-token skip)",
        # The run id as given, before any check: the runner's escaping keeps it one line.
        "::notice title=Autonoma runs skipped::Autonoma: AUTONOMA_CLIENT_SECRET not set: run "
        "r%251%0A\\x3a:error::x not waited for (--qatech-missing-token skip)",
    ]
