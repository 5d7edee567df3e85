"""Local tests run while the remote runs finish: whole sessions against the simulator.

The order of events is forced, never timed: a simulated run is held at a step until a local test
(or a hook) releases it, so a session that waited for the remote runs before the local tests, or
for a whole run before one case's verdict, could not finish: it would end in errors at its
``--qatech-timeout`` instead.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pytest_qatech.simulator import (
    RELEASE_PATH,
    Answer,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
    vibe_test,
)
from pytest_qatech.simulator.qatech import SimulatedCaseDetails

from .helpers import FAST, LOCAL_TEST, mixed_run, run_session

#: Far beyond what any of these sessions needs; only a session that waits wrongly gets there.
TIMEOUT = ("--qatech-timeout", "60")

RELEASING_TEST = f"""
import os
import urllib.request


def test_local_releases_the_remote_run():
    # A held run goes on only once this local test has run.
    url = os.environ["QATECH_API_URL"] + "{RELEASE_PATH}"
    request = urllib.request.Request(url, method="POST")
    assert urllib.request.urlopen(request, timeout=10).status == 204
"""


def held_run(hold_at: int = 1, **fields: object) -> SimulatedRun:
    """Two cases, listed from the start; the run stays at step ``hold_at`` (RUNNING) until it
    is released."""
    return SimulatedRun(
        "abc123",
        cases=[case("a", short_id="tc1"), case("b", short_id="tc2")],
        hold_at=hold_at,
        **fields,  # type: ignore[arg-type]
    )


def verbose_order(result: pytest.RunResult) -> list[str]:
    """The node ids in the order ``-v`` reported their outcomes, with or without xdist."""
    words = {"PASSED", "FAILED", "ERROR", "SKIPPED"}
    order = []
    for line in result.outlines:
        tokens = line.split()
        if words & set(tokens) and tokens[0] not in words:
            order += [token for token in tokens if "::" in token][:1]
    return order


def test_local_tests_run_while_the_remote_run_goes_on(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # Under xdist too: the wide session of the next test but one.
    simulator.add(held_run())
    pytester.makepyfile(test_local=RELEASING_TEST)
    result = run_session(
        pytester, *FAST, *TIMEOUT, "--qatech-run", "abc123", "-v", "--junitxml=report.xml"
    )
    result.assert_outcomes(passed=3)
    # The remote items waited for the run, but that is not their time: the platform gave none.
    times = {
        case.get("name"): case.get("time")
        for case in ET.parse(pytester.path / "report.xml").iter("testcase")
    }
    assert (times["a"], times["b"]) == ("0.000", "0.000")
    assert result.ret == pytest.ExitCode.OK
    assert verbose_order(result) == [
        "test_local.py::test_local_releases_the_remote_run",
        "qatech::a",
        "qatech::b",
    ]
    # Collected while the run was going: its cases are items, not late ones.
    result.stdout.fnmatch_lines(["collected 3 items"])


PROMPT_CONFTEST = f"""
import os
import urllib.request


def pytest_runtest_logreport(report):
    # The run is released only once case a has reported: a's verdict cannot wait for b's.
    if report.nodeid == "qatech::a" and report.when == "call":
        url = os.environ["QATECH_API_URL"] + "{RELEASE_PATH}"
        urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10)
"""


def test_a_verdict_is_reported_as_soon_as_its_case_has_one(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    statuses = ("RUNNING", "RUNNING", "RUNNING", "COMPLETED")
    simulator.add(held_run(statuses=statuses, finish_at={"tc1": 1}, hold_at=2))
    pytester.makeconftest(PROMPT_CONFTEST)
    result = pytester.runpytest_inprocess(*FAST, *TIMEOUT, "--qatech-run", "abc123", "-v")
    result.assert_outcomes(passed=2)
    assert verbose_order(result) == ["qatech::a", "qatech::b"]


ONE_STEP_PER_REPORT = f"""
import os
import urllib.request


def pytest_runtest_logreport(report):
    # Each remote verdict lets the run one step further: the next case ends only once the one
    # before it has reported.
    if report.nodeid.startswith("qatech::") and report.when == "call":
        url = os.environ["QATECH_API_URL"] + "{RELEASE_PATH}"
        urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10)
"""


@pytest.mark.parametrize("xdist", [(), ("-n", "2")], ids=["one process", "xdist"])
def test_remote_items_report_in_the_order_their_cases_are_decided(
    simulator: Simulator, pytester: pytest.Pytester, xdist: tuple[str, ...]
) -> None:
    # The first case listed ends last. Were its item to wait for it before the others, the run
    # could never go on: the others' reports are what move it, and the session would end in
    # errors at its --qatech-timeout.
    simulator.add(
        SimulatedRun(
            "abc123",
            cases=[case(name, short_id=f"tc{n}") for n, name in enumerate("abcd", 1)],
            statuses=("RUNNING",) * 6 + ("COMPLETED",),
            finish_at={"tc2": 2, "tc3": 3, "tc4": 4, "tc1": 5},
            hold_at=1,
            step_by_step=True,
        )
    )
    pytester.makeconftest(ONE_STEP_PER_REPORT)
    pytester.makepyfile(test_local=RELEASING_TEST)
    result = run_session(pytester,
        *FAST, "--qatech-timeout", "20", "--qatech-run", "abc123", "-v", "--junitxml=report.xml",
        *xdist,
    )  # fmt: skip
    result.assert_outcomes(passed=5)
    assert verbose_order(result) == [
        "test_local.py::test_local_releases_the_remote_run",
        "qatech::b",
        "qatech::c",
        "qatech::d",
        "qatech::a",
    ]
    junit = {
        case.get("name"): case.get("time")
        for case in ET.parse(pytester.path / "report.xml").iter("testcase")
    }
    assert list(junit)[-4:] == ["b", "c", "d", "a"]
    # The remote items waited for the run, but that is not their time: the platform gave none.
    assert [junit[name] for name in "abcd"] == ["0.000"] * 4


def test_collected_order_keeps_each_remote_item_where_collection_put_it(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # The run's cases end in reverse order, but --qatech-order collected keeps the items where
    # collection put them: before the local test, each waiting for its own case.
    simulator.add(
        SimulatedRun(
            "abc123",
            cases=[case(name, short_id=f"tc{n}") for n, name in enumerate("ab", 1)],
            statuses=("RUNNING",) * 3 + ("COMPLETED",),
            finish_at={"tc2": 1, "tc1": 2},
        )
    )
    pytester.makepyfile(test_local=LOCAL_TEST)
    pytester.makeconftest(
        "def pytest_collection_modifyitems(items):\n"
        "    items.sort(key=lambda item: not item.nodeid.startswith('qatech::'))\n"
    )
    result = pytester.runpytest_inprocess(
        *FAST, *TIMEOUT, "--qatech-run", "abc123", "--qatech-order", "collected", "-v"
    )
    result.assert_outcomes(passed=3)
    assert verbose_order(result) == ["qatech::a", "qatech::b", "test_local.py::test_local"]


@pytest.mark.parametrize("seed", ["1", "2"])
def test_a_run_over_before_the_session_reports_in_collection_order(
    simulator: Simulator,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    seed: str,
) -> None:
    # Every case was decided at one moment: the order pytest-randomly gave the items stands.
    monkeypatch.delenv("PYTEST_ADDOPTS")
    simulator.add(
        SimulatedRun(
            "abc123",
            cases=[case(name, short_id=f"tc{n}") for n, name in enumerate("abcdef", 1)],
            statuses=("COMPLETED",),
        )
    )
    pytester.makeconftest(
        "def pytest_collection_finish(session):\n"
        "    print('collected order:', ' '.join(item.nodeid for item in session.items))\n"
    )
    result = pytester.runpytest_inprocess(
        *FAST, "--qatech-run", "abc123", "-v", f"--randomly-seed={seed}", "-s"
    )
    (line,) = [line for line in result.outlines if line.startswith("collected order:")]
    assert verbose_order(result) == line.split()[2:]
    # pytest-randomly did reorder them, or this test would prove nothing.
    assert verbose_order(result) != [f"qatech::{name}" for name in "abcdef"]


@pytest.mark.parametrize(
    "selection",
    [
        ("-m", "not remote"),
        ("-k", "local"),
        ("--deselect", "qatech::a", "--deselect", "qatech::b"),
        ("-m", "not remote", "-n", "2"),
    ],
    ids=["-m", "-k", "--deselect", "xdist"],
)
def test_a_run_none_of_whose_items_is_selected_is_not_waited_for(
    simulator: Simulator, pytester: pytest.Pytester, selection: tuple[str, ...]
) -> None:
    # The run is held for ever: a session that waited for it would end in an error at its
    # --qatech-timeout, with exit 2.
    run = held_run(hold_at=1)
    simulator.add(run)
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = run_session(
        pytester, *FAST, "--qatech-timeout", "30", "--qatech-run", "abc123", *selection
    )
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(
        [
            "*= remote runs =*",
            "QA.tech run abc123: not waited for: none of its 2 cases were selected (last status *)",
        ]
    )
    assert "did not finish in time" not in result.stdout.str()
    if "-n" not in selection:
        # Let go as collection ends: a few polls at most, where waiting would make thousands.
        assert len(simulator.requests_for("abc123")) < 50


def test_a_run_that_lists_late_is_waited_for_only_until_it_lists(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # Queued at collection, it lists its cases only at step 2, where it is held for ever: a
    # session that waited for its end would end in an error at its --qatech-timeout.
    simulator.add(
        SimulatedRun(
            "abc123",
            cases=[case("a", short_id="tc1"), case("b", short_id="tc2")],
            statuses=("INITIATED", "INITIATED", "RUNNING"),
            listed_at={"tc1": 2, "tc2": 2},
            hold_at=2,
        )
    )
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = pytester.runpytest_inprocess(
        *FAST, "--qatech-timeout", "30", "--qatech-run", "abc123", "-m", "not remote"
    )
    assert result.ret == pytest.ExitCode.OK
    # Listed after collection, the cases left out are said, not counted with collection's.
    result.assert_outcomes(passed=1, deselected=0)
    result.stdout.fnmatch_lines(
        [
            "qatech: QA.tech run abc123: 2 cases listed after collection left out by the selection",
            "QA.tech run abc123: not waited for: none of its 2 cases were selected (last status *)",
        ]
    )


def test_what_comes_late_is_reported_as_items_of_its_own(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    late = case("Late", "FAILED", title="Broken", short_id="tc9")
    simulator.add(
        SimulatedRun(
            "abc123",
            None,
            [case("a", short_id="tc1"), late],
            statuses=("RUNNING", "RUNNING", "ERROR"),
            listed_at={"tc9": 2},
            hold_at=1,
        ),
        # TestVibe lists a run's tests only once it has ended.
        SimulatedTestVibeRun(214, [vibe_test("Login", "passed"), vibe_test("Pay", "failed")]),
    )
    pytester.makepyfile(test_local=RELEASING_TEST)
    result = pytester.runpytest_inprocess(
        *FAST, *TIMEOUT, "--qatech-run", "abc123", "--testvibe-run", "214", "-v",
        "--junitxml=report.xml",
    )  # fmt: skip
    result.assert_outcomes(passed=3, failed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["collected 2 items"])
    order = verbose_order(result)
    # Each run's items in the order decided, its end last; the runs as their verdicts came.
    assert order[:2] == ["test_local.py::test_local_releases_the_remote_run", "qatech::a"]
    assert [nodeid for nodeid in order if nodeid.startswith("qatech::")] == [
        "qatech::a",
        "qatech::Late",
        "qatech::(run)",
    ]
    assert [nodeid for nodeid in order if nodeid.startswith("testvibe::")] == [
        "testvibe::Login",
        "testvibe::Pay",
    ]
    junit = ET.parse(pytester.path / "report.xml").getroot()
    outcomes = {
        (case.get("classname"), case.get("name")): {child.tag for child in case}
        for case in junit.iter("testcase")
    }
    assert "failure" in outcomes[("qatech", "Late")]
    assert "error" in outcomes[("qatech", "(run)")]
    assert "failure" in outcomes[("testvibe", "Pay")]
    suite = junit.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "2", "1")


def test_stepwise_stops_at_a_late_case_as_pytest_stops_at_a_local_test(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # The run lists its cases only at its end: they are laid out after the main loop.
    late = [case("a", "FAILED", title="Broken", short_id="tc1"), case("b", short_id="tc2")]
    simulator.add(
        SimulatedRun(
            "abc123",
            "FAILED",
            late,
            statuses=("RUNNING", "RUNNING", "COMPLETED"),
            listed_at={"tc1": 2, "tc2": 2},
            hold_at=1,
        )
    )
    pytester.makepyfile(test_local=RELEASING_TEST)
    result = pytester.runpytest_inprocess(*FAST, *TIMEOUT, "--qatech-run", "abc123", "--sw")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*! Interrupted: Test failed, continuing from this test next run. !*"]
    )
    result.assert_outcomes(passed=1, failed=1)


def test_the_timeout_makes_each_waiting_case_an_error(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    simulator.add(held_run())  # never released
    result = pytester.runpytest_inprocess(
        *FAST, "--qatech-run", "abc123", "--qatech-timeout", "1", "-rE", "--junitxml=report.xml"
    )
    result.assert_outcomes(errors=3)
    # Who each case is stays with it, as for any case of the run.
    report = ET.parse(pytester.path / "report.xml")
    ids = [
        {p.get("name"): p.get("value") for p in case.iter("property")}.get("case_short_id")
        for case in report.iter("testcase")
    ]
    assert ids == ["tc1", "tc2", None]  # the (run) item is no case
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of qatech a*",
            "no verdict: QA.tech run abc123 did not finish in time: still RUNNING after *s "
            "(--qatech-timeout 1s)",
            "*ERROR at setup of qatech (run)*",
        ]
    )


@pytest.mark.parametrize("stop", [("-x",), ("--maxfail", "2")], ids=["-x", "--maxfail"])
def test_exitfirst_stops_without_waiting_for_the_runs(
    simulator: Simulator, pytester: pytest.Pytester, stop: tuple[str, ...]
) -> None:
    simulator.add(held_run())  # never released
    failing = "def test_local():\n    assert False\n\n\ndef test_other():\n    assert False\n"
    pytester.makepyfile(test_local=failing)
    result = pytester.runpytest_inprocess(*FAST, *TIMEOUT, "--qatech-run", "abc123", *stop)
    result.assert_outcomes(failed=1 if stop == ("-x",) else 2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_collect_only_says_more_may_come(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(held_run(hold_at=0))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "--co", "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "qatech: QA.tech run abc123 is INITIATED: 2 of its cases listed so far; more may come",
            "qatech::a",
            "qatech::b",
        ]
    )


def test_collect_only_says_an_ended_run_is_being_read_not_that_more_may_come(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over at its first answer, but its failed case's details come a byte at a time: at
    # collection its results are still being read, and collection waits out its bound (cut
    # short here).
    monkeypatch.setattr("pytest_qatech.session.live.LISTING_SECONDS", 0.5)
    failed = case("b", "FAILED", title="Broken", short_id="tc2")
    simulator.add(SimulatedRun("abc123", "FAILED", [case("a", short_id="tc1"), failed],
                               statuses=("COMPLETED",)))  # fmt: skip
    slow = {"shortId": "tc2", "durationMs": 1000}
    simulator.add(SimulatedCaseDetails("tc2", slow, answers={0: Answer(200, slow, drip=0.5)}))
    result = pytester.runpytest_inprocess(*FAST, "--qatech-run", "abc123", "--co", "-q")
    result.stdout.fnmatch_lines(
        ["qatech: QA.tech run abc123 has ended (COMPLETED): its results are being read; 2 of "
         "its cases listed"]
    )  # fmt: skip
    assert "more may come" not in result.stdout.str()


@pytest.mark.parametrize("seed", ["1", "2", "3"])
def test_pytest_randomly_does_not_put_remote_items_first(
    simulator: Simulator,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    seed: str,
) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS")  # pytest-randomly on, as a user may have it
    simulator.add(mixed_run())
    pytester.makepyfile(
        test_local="".join(f"def test_{n}():\n    pass\n\n\n" for n in "abcdef"),
    )
    result = pytester.runpytest_inprocess(
        *FAST, "--qatech-run", "abc123", "-v", f"--randomly-seed={seed}"
    )
    result.stdout.fnmatch_lines([f"Using --randomly-seed={seed}"])
    order = verbose_order(result)
    assert len(order) == 9
    assert all(nodeid.startswith("test_local.py::") for nodeid in order[:6]), order


def test_pytest_timeout_leaves_a_waiting_remote_item_alone(
    simulator: Simulator, pytester: pytest.Pytester
) -> None:
    # The run ends 1 s after its first poll, by the clock: its item waits ten times --timeout.
    # The signal method: in this process, the thread method's timeout would os._exit the
    # process that runs this test.
    statuses = ("RUNNING", "COMPLETED")
    simulator.add(SimulatedRun("abc123", cases=[case("a")], statuses=statuses, step_seconds=1.0))
    result = pytester.runpytest_inprocess(
        *FAST, "--qatech-run", "abc123", "--timeout", "0.1", "--timeout-method", "signal"
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("order", ["last", "collected"])
def test_a_status_line_never_splits_an_items_mark(
    simulator: Simulator, pytester: pytest.Pytester, order: str
) -> None:
    # The run changes status while its items wait: each change is a line of its own, printed
    # before an item's node id or after its verdict, never between the two.
    statuses = ("RUNNING", "RUNNING", "RUNNING", "COMPLETED")
    simulator.add(held_run(statuses=statuses, finish_at={"tc1": 1}, hold_at=2))
    pytester.makeconftest(PROMPT_CONFTEST)
    result = pytester.runpytest_inprocess(
        *FAST, *TIMEOUT, "--qatech-run", "abc123", "-v", "--qatech-order", order
    )
    result.assert_outcomes(passed=2)
    status_lines = [line for line in result.outlines if line.startswith("qatech: QA.tech run")]
    assert any("COMPLETED" in line for line in status_lines)
    marks = [line for line in result.outlines if line.startswith("qatech::")]
    assert [line.split()[:2] for line in marks] == [
        ["qatech::a", "PASSED"],
        ["qatech::b", "PASSED"],
    ]


def test_collection_waits_for_a_listing_only_as_long_as_its_bound(
    simulator: Simulator, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's first answer takes a second, five times a bound of 0.2 s. A collection that
    # waited for it would collect its cases; one that keeps its bound collects the local test
    # alone, and the cases come late, after it.
    monkeypatch.setattr("pytest_qatech.session.live.LISTING_SECONDS", 0.2)
    run = mixed_run()
    run.answers[0] = Answer(200, run.body("all", 0), delay=1.0)
    simulator.add(run)
    pytester.makepyfile(test_local=LOCAL_TEST)
    result = pytester.runpytest_inprocess(*FAST, *TIMEOUT, "--qatech-run", "abc123", "-v")
    result.stdout.fnmatch_lines(["*collected 1 item"])
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    assert verbose_order(result)[0] == "test_local.py::test_local"


def test_the_listing_bound_is_the_documented_one() -> None:
    from pytest_qatech.session.live import LISTING_SECONDS

    assert LISTING_SECONDS == 5.0  # "never more than 5 seconds"
