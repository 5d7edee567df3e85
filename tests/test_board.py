"""The board the background wait writes to, and the background wait itself.

The board is plain state behind a lock: its tests drive it directly. The background wait runs
a real thread against the simulator; every wait in these tests is on the board's condition,
bounded, never a sleep.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from pytest_qatech.core.board import Background, Board
from pytest_qatech.core.events import Interrupted, Said, StatusChanged, Waiting, Warned
from pytest_qatech.core.lookup import Lookup
from pytest_qatech.core.models import (
    FinishedRun,
    Listed,
    Outcome,
    RemoteCase,
    RunSnapshot,
    UnreadableRun,
)
from pytest_qatech.core.platforms import Settings, resolve
from pytest_qatech.core.providers.base import Progress, Provider
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.waiting import Target, wait_for_sources
from pytest_qatech.simulator import (
    SimulatedProject,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
    vibe_test,
)

#: Long enough never to pass on a working machine; only a broken wait gets there.
BOUND = 30.0


def settings(requested: dict[str, list[str]], poll_interval: str = "0.01") -> Settings:
    options = {"qatech_poll_interval": poll_interval}
    return resolve(requested, Lookup(options.get, lambda name: "", os.environ))


def target(board_settings: Settings, run_id: str) -> Target:
    source = next(s for s in board_settings.sources if run_id in s.run_ids)
    return Target(source.provider, None, run_id)  # type: ignore[arg-type]  # never sends


def until(board: Board, ready: Callable[[], bool]) -> bool:
    """Wait on the board until ``ready()``, dropping what it has to say, within the bound."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if board.wait(ready, deadline - time.monotonic()):
            return True
        board.take_said()
    return False


def has_verdict(listed: Listed | None) -> bool:
    return listed is not None and listed.verdict is not None


def snapshot(board: Board, provider: str = "qatech", run_id: str = "abc") -> RunSnapshot:
    return board.run(provider, run_id)


@pytest.fixture
def qatech_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    return settings({"qatech": ["abc"]})


def test_a_listing_is_known_without_its_verdicts(qatech_settings: Settings) -> None:
    board = Board(qatech_settings.sources)
    assert not board.laid_out()
    verdict = RemoteCase("a", Outcome.FAILED, "t", key="tc1")
    listed = (Listed("tc1", "a", verdict), Listed("tc2", "b"))
    board.progressed(target(qatech_settings, "abc"), Progress("RUNNING", False, listed))
    assert board.laid_out()
    # A verdict in a listing may still wait for its details: only decided() makes it final.
    assert snapshot(board).cases == (Listed("tc1", "a"), Listed("tc2", "b"))
    assert snapshot(board).status == "RUNNING"


def test_a_case_keeps_its_first_name_and_its_place(qatech_settings: Settings) -> None:
    board = Board(qatech_settings.sources)
    run = target(qatech_settings, "abc")
    board.progressed(run, Progress("RUNNING", False, (Listed("tc1", "a"), Listed("tc2", "b"))))
    renamed = RemoteCase("b renamed", Outcome.PASSED, key="tc2")
    board.decided(run, [renamed])
    board.progressed(run, Progress("RUNNING", False, (Listed("tc2", "b renamed"),)))
    first = RemoteCase("a", Outcome.PASSED, key="tc1")
    report = FinishedRun("qatech", "abc", "COMPLETED", "PASSED", (first, renamed))
    board.ended(run, report)
    assert snapshot(board).cases == (Listed("tc1", "a", first), Listed("tc2", "b", renamed))
    assert snapshot(board).report == report
    assert board.ended_all()


def test_a_run_that_lists_only_at_its_end_is_laid_out_once_it_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TESTVIBE_API_KEY", "k")
    monkeypatch.setenv("TESTVIBE_SERVER", "https://testvibe.example")
    monkeypatch.setenv("TESTVIBE_PROJECT", "p")
    run_settings = settings({"testvibe": ["214"]})
    board = Board(run_settings.sources)
    # Its first answer says whether it can be read at all: a 401 is a collection error in
    # every session, never a collection error in one and a late item in the next.
    assert not board.laid_out()
    board.progressed(target(run_settings, "214"), Progress("running", False))
    # Collection does not wait for cases that cannot come before the end.
    assert board.laid_out()
    assert snapshot(board, "testvibe", "214").cases is None


def test_what_the_wait_would_say_waits_for_the_main_thread(qatech_settings: Settings) -> None:
    board = Board(qatech_settings.sources)
    said: list[Said] = [
        StatusChanged("QA.tech run abc", "RUNNING", 1.0),
        Warned("QA.tech run abc", "late"),
    ]
    for one in said:
        board.say(one)
    # Something to say wakes a waiting main thread, ready or not.
    assert board.wait(lambda: False, BOUND) is False
    assert board.take_said() == said
    assert board.take_said() == []


def test_ctrl_c_names_each_run_still_waited_for_as_last_known(qatech_settings: Settings) -> None:
    run_settings = settings({"qatech": ["abc", "done", "gone", "new"]})
    board = Board(run_settings.sources)
    board.progressed(target(run_settings, "abc"), Progress("RUNNING", False))
    board.ended(target(run_settings, "done"), FinishedRun("qatech", "done", "COMPLETED", None, ()))
    board.not_wanted([("qatech", "gone")])
    assert board.interrupted(42.0) == [
        Interrupted("QA.tech run abc", "RUNNING", 42.0),
        Interrupted("QA.tech run new", None, 42.0),
    ]


def verdict(name: str, key: str, outcome: Outcome = Outcome.PASSED) -> RemoteCase:
    return RemoteCase(name, outcome, key=key)


def test_moments_say_when_each_verdict_was_first_known_and_when_the_run_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    monkeypatch.setenv("QATECH_PROJECT", "shop")
    run_settings = settings({"qatech": ["staging=abc", "def"]})
    board = Board(run_settings.sources)
    abc = target(run_settings, "abc")
    cases = [("qatech", "abc", "tc1"), ("qatech", "abc", "tc2"), ("qatech", "abc", "tc3")]
    asked = [None, *cases, ("qatech", "abc", None), ("qatech", "def", None)]
    assert board.moments(asked) == [-1, None, None, None, None, None]
    listing = (Listed("tc1", "Login", verdict("Login", "tc1")), Listed("tc2", "Pay"))
    board.progressed(abc, Progress("RUNNING", False, listing))
    board.progressed(abc, Progress("RUNNING", False, listing))  # seen again: not later
    board.decided(abc, [verdict("Pay (its details)", "tc2", Outcome.FAILED)])
    assert board.moments(asked) == [-1, 0, 2, None, None, None]
    assert board.case("qatech", "abc", "tc2") == Listed(
        "tc2", "Pay", verdict("Pay (its details)", "tc2", Outcome.FAILED)
    )
    report = FinishedRun(
        "qatech",
        "abc",
        "COMPLETED",
        "FAILED",
        (
            verdict("Login", "tc1"),
            verdict("Pay", "tc2", Outcome.FAILED),
            verdict("Search", "tc3"),
        ),
    )
    board.ended(abc, report)
    # A case known only from the report takes the run's end as its moment, and its name.
    assert board.moments(asked) == [-1, 0, 2, 3, 3, None]
    assert board.case("qatech", "abc", "tc3") == Listed("tc3", "Search", verdict("Search", "tc3"))
    # A case decided before any listing is known by its verdict's name.
    board.decided(target(run_settings, "def"), [verdict("Signup", "tc9")])
    assert board.case("qatech", "def", "tc9") == Listed("tc9", "Signup", verdict("Signup", "tc9"))
    assert board.moments([("qatech", "def", "tc9")]) == [4]


def test_a_snapshot_has_the_runs_page_label_and_whether_it_finished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    monkeypatch.setenv("QATECH_PROJECT", "shop")
    run_settings = settings({"qatech": ["staging=abc", "def"]})
    board = Board(run_settings.sources)
    going = snapshot(board)
    assert (going.url, going.label, going.finished) == (
        "https://app.qa.tech/p/shop/results/abc",
        "staging",
        False,
    )
    board.progressed(target(run_settings, "abc"), Progress("COMPLETED", True))
    assert snapshot(board).finished
    # Read without a last status that said so: finished all the same.
    unread = UnreadableRun("qatech", "def", "gone")
    board.ended(target(run_settings, "def"), unread)
    assert snapshot(board, run_id="def").finished


def test_a_start_that_failed_is_on_the_board_as_ended_and_goes_by_what_it_was_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    run_settings = settings({"qatech": ["abc"]})
    failed = UnreadableRun("qatech", "pln_x", "402", start_of="test plan pln_x")
    lost = UnreadableRun("qatech", "gone", "404")
    board = Board(run_settings.sources, [failed, lost])
    assert (board.failure, board.over) == (None, False)
    start = snapshot(board, run_id="pln_x")
    assert (start.report, start.label, start.finished) == (failed, "pln_x", True)
    assert snapshot(board, run_id="gone").label is None
    assert [run.run_id for run in board.runs()] == ["pln_x", "gone", "abc"]
    assert board.reports() == [failed, lost]


def test_a_run_is_listed_once_it_names_a_case_ends_or_is_let_go(qatech_settings: Settings) -> None:
    run_settings = settings({"qatech": ["abc", "def", "ghi"]})
    board = Board(run_settings.sources)
    keys = [("qatech", "abc"), ("qatech", "def"), ("qatech", "ghi")]
    assert not any(board.listed([key]) for key in keys)
    board.progressed(target(run_settings, "abc"), Progress("RUNNING", False, ()))
    assert not board.listed(keys[:1])  # an empty listing names no case
    board.progressed(
        target(run_settings, "abc"), Progress("RUNNING", False, (Listed("tc1", "Login"),))
    )
    board.ended(target(run_settings, "def"), UnreadableRun("qatech", "def", "gone"))
    assert board.listed(keys[:2])
    assert not board.listed(keys)
    board.not_wanted(keys[2:])
    assert board.listed(keys)
    over = Board(run_settings.sources)
    over.finish("broke off")
    assert over.listed(keys)


def test_a_waiting_thread_wakes_when_its_case_is_decided(qatech_settings: Settings) -> None:
    board = Board(qatech_settings.sources)
    run = target(qatech_settings, "abc")
    asked = threading.Event()

    def ready() -> bool:
        asked.set()
        return board.over or has_verdict(board.case("qatech", "abc", "tc1"))

    # It waits without a limit: only the decision's notification can wake it.
    waiter = threading.Thread(target=board.wait, args=(ready, None))
    waiter.start()
    try:
        assert asked.wait(BOUND)  # it is waiting (or about to, holding the board's lock)
        board.decided(run, [RemoteCase("a", Outcome.PASSED, key="tc1")])
        waiter.join(BOUND)
        assert not waiter.is_alive()
    finally:
        board.finish()  # wakes it, should the decision not have
        waiter.join(BOUND)


# The background wait, against the simulator.


def background_for(simulator: Simulator, poll_interval: str = "0.01") -> Background:
    # The simulator fixture points every platform's variables at it.
    run_settings = settings({"qatech": ["abc"]}, poll_interval)
    return Background(run_settings, Board(run_settings.sources))


def test_the_background_wait_reports_each_case_as_it_ends(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [case("a", short_id="tc1"), case("b", "FAILED", title="t", short_id="tc2")]
    run = SimulatedRun("abc", "FAILED", cases, finish_at={"tc1": 1}, hold_at=2)
    simulator.add(run)
    background = background_for(simulator)
    board = background.board
    background.start()
    try:
        # The first case has its verdict while the run is held, still going.
        assert until(board, lambda: has_verdict(board.case("qatech", "abc", "tc1")))
        assert snapshot(board).report is None
        assert board.case("qatech", "abc", "tc2") == Listed("tc2", "b")
        simulator.release()
        assert until(board, board.ended_all)
    finally:
        background.stop()
    report = snapshot(board).report
    assert isinstance(report, FinishedRun)
    assert [(c.key, c.outcome) for c in report.cases] == [
        ("tc1", Outcome.PASSED),
        ("tc2", Outcome.FAILED),
    ]
    assert board.over
    assert board.failure is None
    # Every poll asked for the run's cases: that is how they are known while it goes on.
    polls = [request.query for request in simulator.requests if request.path == "/v1/run/abc"]
    assert polls
    assert all(query == {"testCases": ["all"]} for query in polls)


@pytest.mark.starts_runs
def test_a_wait_for_the_settings_polls_light_reruns_and_keeps_a_live_line(
    simulator: Simulator,
) -> None:
    cases = [case("a", short_id="tc1"), case("b", "FAILED", title="t", short_id="tc2")]
    simulator.add(SimulatedRun("abc", "FAILED", cases, passes_on_rerun={"b": 1}))
    simulator.project = SimulatedProject()  # the project the token belongs to: it reruns
    options = {"qatech_poll_interval": "0.01", "qatech_reruns": "1"}
    run_settings = resolve({"qatech": ["abc"]}, Lookup(options.get, lambda name: "", os.environ))
    said: list[Said] = []
    (report,) = wait_for_sources(run_settings, say=said.append, live_interval=0.01)
    assert isinstance(report, FinishedRun)
    assert [rerun.run_id for rerun in report.reruns] == ["abcr1"]  # the settings' reruns
    assert [case.outcome for case in report.cases] == [Outcome.PASSED, Outcome.PASSED]
    # Without listing, polls are light until the run has ended; then one read lists its cases.
    queries = [r.query for r in simulator.requests if (r.method, r.path) == ("GET", "/v1/run/abc")]
    assert queries[-1] == {"testCases": ["all"]}
    assert all(query == {} for query in queries[:-1])
    # A live line, cleared at the end.
    live = [event for event in said if isinstance(event, Waiting)]
    assert live[-1].runs == ()
    assert any(event.runs for event in live)


def test_stopping_ends_the_wait_at_once_and_its_threads(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedRun("abc", cases=[case("a")], statuses=("RUNNING",)))
    # Polls an hour apart: the stop cuts the wait's sleep short, or the thread outlives it.
    background = background_for(simulator, poll_interval="3600")
    board = background.board
    background.start()
    assert until(board, board.laid_out)
    waiting = [t for t in threading.enumerate() if t.name == "qatech-wait"]
    assert [t.daemon for t in waiting] == [True]  # it never holds up the process's exit
    background.stop()
    assert not waiting[0].is_alive()
    assert board.over
    assert snapshot(board).report is None  # stopped, not ended
    assert not [t for t in threading.enumerate() if t.name in ("qatech-wait", "qatech-request")]


def test_a_crash_of_the_wait_becomes_state(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedRun("abc", cases=[case("a")]))

    def broken(self: Provider, run_id: str, body: object) -> Progress:
        raise RuntimeError("a bug")

    monkeypatch.setattr(QatechProvider, "parse_status", broken)
    background = background_for(simulator)
    board = background.board
    background.start()
    assert until(board, lambda: board.over)
    background.stop()
    assert board.failure == "the wait for the remote runs broke off: RuntimeError: a bug"


def test_an_unreadable_run_ends_on_the_board(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No run abc on the simulator: a 404, final at once.
    background = background_for(simulator)
    board = background.board
    background.start()
    assert until(board, board.ended_all)
    background.stop()
    assert isinstance(snapshot(board).report, UnreadableRun)
    assert board.laid_out()


def test_a_testvibe_run_is_listed_when_it_ends(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedTestVibeRun(214, [vibe_test("Login", "passed")]))
    run_settings = settings({"testvibe": ["214"]})
    background = Background(run_settings, Board(run_settings.sources))
    background.start()
    assert until(background.board, background.board.ended_all)
    background.stop()
    run = background.board.run("testvibe", "214")
    assert [(c.name, c.verdict is not None) for c in run.cases or ()] == [("Login", True)]
