"""One session with runs of all three platforms and local tests, through one core."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from pytest_qatech.simulator import Simulator

from .helpers import FAST, demo_by_requests, run_session

ALL_THREE = (
    "--qatech-run", "abc123",
    "--testvibe-run", "214",
    "--autonoma-run", "gch7uesq5h6m9xe2fdq5ddgd",
    "--autonoma-run", "k2d9xq7mm3v0w1p4r8s6t5ua",
)  # fmt: skip


def test_all_three_platforms_and_local_tests_in_one_session_and_one_junit_file(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(*demo_by_requests())
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    plain = run_session(pytester, *FAST, *ALL_THREE, "--junitxml=plain.xml", "--durations=0")
    plain_requests = len(simulator.requests)
    # Fresh runs, which start from their first status again.
    simulator.add(*demo_by_requests())
    wide = run_session(
        pytester, *FAST, *ALL_THREE, "--junitxml=wide.xml", "--durations=0", "-n", "2"
    )

    for result in (plain, wide):
        result.assert_outcomes(passed=5, failed=3, skipped=1)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(
            [
                "qatech: QA.tech runs abc123 from *",
                "qatech: TestVibe runs 214 from *",
                "qatech: Autonoma runs gch7uesq5h6m9xe2fdq5ddgd, k2d9xq7mm3v0w1p4r8s6t5ua from *",
                "*= remote runs =*",
                "QA.tech run abc123: COMPLETED, result FAILED - 1 passed, 1 failed, 1 skipped",
                "TestVibe run 214: failed - 2 passed, 1 failed",
                "Autonoma run gch7uesq5h6m9xe2fdq5ddgd: failed - 1 failed",
                "Autonoma run k2d9xq7mm3v0w1p4r8s6t5ua: passed - 1 passed",
            ]
        )
        assert result.stdout.str().count("= remote runs =") == 1
        # What a report carries from a worker: its sections, and the platform's duration.
        result.stdout.fnmatch_lines(
            [
                "*_ testvibe Locked-out user sees an error _*",
                "*- Captured TestVibe run log call -*",
                "[[]16:02:45] Locked-out user sees an error",
            ]
        )
        result.stdout.fnmatch_lines(
            [
                "*slowest durations*",
                "49.10s call     qatech::Checkout with saved card",
                "9.12s call     testvibe::Locked-out user sees an error",
            ]
        )
    # Under xdist only the controller talks to the APIs: the same requests as without.
    assert len(simulator.requests) == 2 * plain_requests

    for report in ("plain.xml", "wide.xml"):
        classes = sorted(
            {
                case.get("classname", "")
                for case in ET.parse(pytester.path / report).iter("testcase")
            }
        )
        assert classes == [
            "autonoma.private-listing-hub", "qatech", "test_local", "testvibe",
        ]  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "outcomes"),
    [
        ("remote", {"passed": 4, "failed": 3, "skipped": 1, "deselected": 1}),
        ("not remote", {"passed": 1, "deselected": 8}),
        ("testvibe or autonoma", {"passed": 3, "failed": 2, "deselected": 4}),
    ],
)
def test_markers_select_across_platforms(
    simulator: Simulator, pytester: pytest.Pytester, expression: str, outcomes: dict[str, int]
) -> None:
    simulator.add(*demo_by_requests())
    pytester.makepyfile(test_local="def test_local():\n    pass\n")
    result = pytester.runpytest_inprocess(*FAST, *ALL_THREE, "-m", expression)
    # A run that lists its cases after collection (TestVibe's, at its end) has those it leaves
    # out said apart, not counted with collection's: together they are the same.
    said = re.findall(r"(\d+) cases? listed after collection left out", result.stdout.str())
    seen = result.parseoutcomes()
    seen["deselected"] = seen.get("deselected", 0) + sum(map(int, said))
    assert seen == outcomes


def test_one_unreadable_platform_does_not_hide_the_others(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(*demo_by_requests())
    monkeypatch.setenv("TESTVIBE_API_KEY", "revoked")
    result = pytester.runpytest_inprocess(*FAST, *ALL_THREE, "--continue-on-collection-errors")
    result.assert_outcomes(passed=2, failed=2, skipped=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "TestVibe run 214: could not be read (last status unknown); see the error above",
            "ERROR testvibe - TestVibe run 214 could not be read*",
        ]
    )
