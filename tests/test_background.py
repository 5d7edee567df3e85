"""The shared runs the background wait writes to, and the background wait itself.

The shared runs is plain state behind a lock: its tests drive it directly. The background wait runs
a real thread against the simulator; every wait in these tests is on the shared runs' condition,
bounded, never a sleep.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from pytest_qatech.core.background import Background, SharedRuns
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
from pytest_qatech.core.waiting import Chosen, wait_for_sources
from pytest_qatech.simulator import (
    SimulatedProject,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
    vibe_test,
)
from pytest_qatech.simulator.qatech import project_case_id

from .helpers import BOUND, HeldServer, mixed_run


def settings(
    requested: dict[str, list[str]], poll_interval: str = "0.01", reruns: str = "0"
) -> Settings:
    options = {"qatech_poll_interval": poll_interval, "qatech_reruns": reruns}
    return resolve(requested, Lookup(options.get, lambda name: "", os.environ))


def target(run_settings_: Settings, run_id: str) -> tuple[str, str]:
    """The run as events name it."""
    source = next(s for s in run_settings_.sources if run_id in s.run_ids)
    return source.provider.name, run_id


def until(shared: SharedRuns, ready: Callable[[], bool]) -> bool:
    """Wait on the shared runs until ``ready()``, dropping what it has to say, within the bound."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        if shared.wait(ready, deadline - time.monotonic()):
            return True
        shared.take_said()
    return False


def has_verdict(listed: Listed | None) -> bool:
    return listed is not None and listed.verdict is not None


def snapshot(shared: SharedRuns, provider: str = "qatech", run_id: str = "abc") -> RunSnapshot:
    return shared.run(provider, run_id)


@pytest.fixture
def qatech_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    return settings({"qatech": ["abc"]})


def test_a_listing_is_known_without_its_verdicts(qatech_settings: Settings) -> None:
    shared = SharedRuns(qatech_settings.sources)
    assert not shared.laid_out()
    verdict = RemoteCase("a", Outcome.FAILED, "t", key="tc1")
    listed = (Listed("tc1", "a", verdict), Listed("tc2", "b"))
    shared.progressed(target(qatech_settings, "abc"), Progress("RUNNING", False, listed))
    assert shared.laid_out()
    # A verdict in a listing may still wait for its details: only decided() makes it final.
    assert snapshot(shared).cases == (Listed("tc1", "a"), Listed("tc2", "b"))
    assert snapshot(shared).status == "RUNNING"


def test_a_case_keeps_its_first_name_and_its_place(qatech_settings: Settings) -> None:
    shared = SharedRuns(qatech_settings.sources)
    run = target(qatech_settings, "abc")
    shared.progressed(run, Progress("RUNNING", False, (Listed("tc1", "a"), Listed("tc2", "b"))))
    renamed = RemoteCase("b renamed", Outcome.PASSED, key="tc2")
    shared.decided(run, [renamed])
    shared.progressed(run, Progress("RUNNING", False, (Listed("tc2", "b renamed"),)))
    first = RemoteCase("a", Outcome.PASSED, key="tc1")
    report = FinishedRun("qatech", "abc", "COMPLETED", "PASSED", (first, renamed))
    shared.ended(run, report)
    assert snapshot(shared).cases == (Listed("tc1", "a", first), Listed("tc2", "b", renamed))
    assert snapshot(shared).report == report
    assert shared.ended_all()


def test_a_run_that_lists_only_at_its_end_is_laid_out_once_it_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TESTVIBE_API_KEY", "k")
    monkeypatch.setenv("TESTVIBE_SERVER", "https://testvibe.example")
    monkeypatch.setenv("TESTVIBE_PROJECT", "p")
    run_settings = settings({"testvibe": ["214"]})
    shared = SharedRuns(run_settings.sources)
    # Its first answer says whether it can be read at all: a 401 is a collection error in
    # every session, never a collection error in one and a late item in the next.
    assert not shared.laid_out()
    shared.progressed(target(run_settings, "214"), Progress("running", False))
    # Collection does not wait for cases that cannot come before the end.
    assert shared.laid_out()
    assert snapshot(shared, "testvibe", "214").cases is None


def test_what_the_wait_would_say_waits_for_the_main_thread(qatech_settings: Settings) -> None:
    shared = SharedRuns(qatech_settings.sources)
    # Nothing ready and nothing said: the wait ends at its bound.
    assert shared.wait(lambda: False, 0.01) is False
    said: list[Said] = [
        StatusChanged("QA.tech run abc", "RUNNING", 1.0),
        Warned("QA.tech run abc", "late"),
    ]
    for one in said:
        shared(one)
    # Something to say wakes a waiting main thread, ready or not.
    assert shared.wait(lambda: False, BOUND) is False
    assert shared.take_said() == said
    assert shared.take_said() == []


def test_ctrl_c_names_each_run_still_waited_for_as_last_known(qatech_settings: Settings) -> None:
    run_settings = settings({"qatech": ["abc", "done", "gone", "new"]})
    shared = SharedRuns(run_settings.sources)
    shared.progressed(target(run_settings, "abc"), Progress("RUNNING", False))
    shared.ended(target(run_settings, "done"), FinishedRun("qatech", "done", "COMPLETED", None, ()))
    shared.not_wanted([("qatech", "gone")])
    assert shared.interrupted(42.0) == [
        Interrupted("QA.tech run abc", "RUNNING", 42.0),
        Interrupted("QA.tech run new", None, 42.0),
    ]


def verdict(name: str, key: str, outcome: Outcome = Outcome.PASSED) -> RemoteCase:
    return RemoteCase(name, outcome, key=key)


@pytest.fixture
def in_a_project(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Runs abc (labelled staging) and def of QA.tech project shop."""
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    monkeypatch.setenv("QATECH_PROJECT", "shop")
    return settings({"qatech": ["staging=abc", "def"]})


def test_moments_say_when_each_verdict_was_first_known_and_when_the_run_ended(
    in_a_project: Settings,
) -> None:
    run_settings = in_a_project
    shared = SharedRuns(run_settings.sources)
    abc = target(run_settings, "abc")
    cases = [("qatech", "abc", "tc1"), ("qatech", "abc", "tc2"), ("qatech", "abc", "tc3")]
    asked = [None, *cases, ("qatech", "abc", None), ("qatech", "def", None)]
    assert shared.moments(asked) == [-1, None, None, None, None, None]
    listing = (Listed("tc1", "Login", verdict("Login", "tc1")), Listed("tc2", "Pay"))
    shared.progressed(abc, Progress("RUNNING", False, listing))
    shared.progressed(abc, Progress("RUNNING", False, listing))  # seen again: not later
    shared.decided(abc, [verdict("Pay (its details)", "tc2", Outcome.FAILED)])
    assert shared.moments(asked) == [-1, 0, 2, None, None, None]
    assert shared.case("qatech", "abc", "tc2") == Listed(
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
    shared.ended(abc, report)
    # A case known only from the report takes the run's end as its moment, and its name.
    assert shared.moments(asked) == [-1, 0, 2, 3, 3, None]
    assert shared.case("qatech", "abc", "tc3") == Listed("tc3", "Search", verdict("Search", "tc3"))
    # A case decided before any listing is known by its verdict's name.
    shared.decided(target(run_settings, "def"), [verdict("Signup", "tc9")])
    assert shared.case("qatech", "def", "tc9") == Listed("tc9", "Signup", verdict("Signup", "tc9"))
    assert shared.moments([("qatech", "def", "tc9")]) == [4]


def test_a_snapshot_has_the_runs_page_label_and_whether_it_finished(
    in_a_project: Settings,
) -> None:
    run_settings = in_a_project
    shared = SharedRuns(run_settings.sources)
    going = snapshot(shared)
    assert (going.url, going.label, going.finished) == (
        "https://app.qa.tech/p/shop/results/abc",
        "staging",
        False,
    )
    shared.progressed(target(run_settings, "abc"), Progress("COMPLETED", True))
    assert snapshot(shared).finished
    # Read without a last status that said so: finished all the same.
    unread = UnreadableRun("qatech", "def", "gone")
    shared.ended(target(run_settings, "def"), unread)
    assert snapshot(shared, run_id="def").finished


def test_a_start_that_failed_is_shared_as_ended_and_goes_by_what_it_was_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QATECH_API_TOKEN", "t")
    run_settings = settings({"qatech": ["abc"]})
    failed = UnreadableRun("qatech", "pln_x", "402", start_of="test plan pln_x")
    lost = UnreadableRun("qatech", "gone", "404")
    shared = SharedRuns(run_settings.sources, [failed, lost])
    assert (shared.failure, shared.over) == (None, False)
    start = snapshot(shared, run_id="pln_x")
    assert (start.report, start.label, start.finished) == (failed, "pln_x", True)
    assert snapshot(shared, run_id="gone").label is None
    assert [run.run_id for run in shared.runs()] == ["pln_x", "gone", "abc"]
    assert shared.reports() == [failed, lost]


def test_a_run_is_listed_once_it_names_a_case_ends_or_is_let_go(qatech_settings: Settings) -> None:
    run_settings = settings({"qatech": ["abc", "def", "ghi"]})
    shared = SharedRuns(run_settings.sources)
    keys = [("qatech", "abc"), ("qatech", "def"), ("qatech", "ghi")]
    assert not any(shared.listed([key]) for key in keys)
    shared.progressed(target(run_settings, "abc"), Progress("RUNNING", False, ()))
    assert not shared.listed(keys[:1])  # an empty listing names no case
    shared.progressed(
        target(run_settings, "abc"), Progress("RUNNING", False, (Listed("tc1", "Login"),))
    )
    shared.ended(target(run_settings, "def"), UnreadableRun("qatech", "def", "gone"))
    assert shared.listed(keys[:2])
    assert not shared.listed(keys)
    shared.not_wanted(keys[2:])
    assert shared.listed(keys)
    over = SharedRuns(run_settings.sources)
    over.finish("broke off")
    assert over.listed(keys)


def test_a_waiting_thread_wakes_when_its_case_is_decided(qatech_settings: Settings) -> None:
    shared = SharedRuns(qatech_settings.sources)
    run = target(qatech_settings, "abc")
    asked = threading.Event()

    def ready() -> bool:
        asked.set()
        return shared.over or has_verdict(shared.case("qatech", "abc", "tc1"))

    # It waits without a limit: only the decision's notification can wake it.
    waiter = threading.Thread(target=shared.wait, args=(ready, None))
    waiter.start()
    try:
        assert asked.wait(BOUND)  # it is waiting (or about to, holding the shared runs' lock)
        shared.decided(run, [RemoteCase("a", Outcome.PASSED, key="tc1")])
        waiter.join(BOUND)
        assert not waiter.is_alive()
    finally:
        shared.finish()  # wakes it, should the decision not have
        waiter.join(BOUND)


def test_a_waiting_thread_wakes_when_the_wait_has_something_to_say(
    qatech_settings: Settings,
) -> None:
    shared = SharedRuns(qatech_settings.sources)
    asked = threading.Event()

    def never() -> bool:
        asked.set()
        return shared.over

    # Never ready, no limit: only what the wait has to say (a line for the log) can wake it.
    waiter = threading.Thread(target=shared.wait, args=(never, None))
    waiter.start()
    try:
        assert asked.wait(BOUND)
        shared(Warned("QA.tech run abc", "a line to say now"))
        waiter.join(BOUND)
        assert not waiter.is_alive()
    finally:
        shared.finish()
        waiter.join(BOUND)


# The background wait, against the simulator.


def background_for(simulator: Simulator, poll_interval: str = "0.01") -> Background:
    # The simulator fixture points every platform's variables at it.
    run_settings = settings({"qatech": ["abc"]}, poll_interval)
    return Background(run_settings, SharedRuns(run_settings.sources))


def test_the_background_wait_reports_each_case_as_it_ends(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [case("a", short_id="tc1"), case("b", "FAILED", title="t", short_id="tc2")]
    run = SimulatedRun("abc", "FAILED", cases, finish_at={"tc1": 1}, hold_at=2)
    simulator.add(run)
    background = background_for(simulator)
    shared = background.shared
    background.start()
    try:
        # The first case has its verdict while the run is held, still going.
        assert until(shared, lambda: has_verdict(shared.case("qatech", "abc", "tc1")))
        assert snapshot(shared).report is None
        assert shared.case("qatech", "abc", "tc2") == Listed("tc2", "b", case_id="tc2")
        simulator.release()
        assert until(shared, shared.ended_all)
    finally:
        background.stop()
    report = snapshot(shared).report
    assert isinstance(report, FinishedRun)
    assert [(c.key, c.outcome) for c in report.cases] == [
        ("tc1", Outcome.PASSED),
        ("tc2", Outcome.FAILED),
    ]
    assert shared.over
    assert shared.failure is None
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
    shared = background.shared
    background.start()
    assert until(shared, shared.laid_out)
    waiting = [t for t in threading.enumerate() if t.name == "qatech-wait"]
    assert [t.daemon for t in waiting] == [True]  # it never holds up the process's exit
    background.stop()
    assert not waiting[0].is_alive()
    assert shared.over
    assert snapshot(shared).report is None  # stopped, not ended
    assert not [t for t in threading.enumerate() if t.name in ("qatech-wait", "qatech-request")]


def test_stopping_cuts_short_a_request_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    with HeldServer() as held:
        monkeypatch.setenv("QATECH_API_URL", held.url)
        monkeypatch.setenv("QATECH_API_TOKEN", "t")
        run_settings = settings({"qatech": ["abc"]}, "3600")
        background = Background(run_settings, SharedRuns(run_settings.sources))
        background.start()
        with held.changed:
            assert held.changed.wait_for(lambda: held.arrived == 1, BOUND)
        (waiting,) = [t for t in threading.enumerate() if t.name == "qatech-wait"]
        requesting = [t for t in threading.enumerate() if t.name == "qatech-request"]
        background.stop()  # the poll is still held: its answer never comes
        assert not waiting.is_alive()
        # Cut, not waited for: its thread has ended while the server still holds it.
        assert not held.released.is_set()
        assert not any(thread.is_alive() for thread in requesting)


def test_a_run_let_go_is_waited_for_no_more(simulator: Simulator) -> None:
    simulator.add(SimulatedRun("abc", cases=[case("a")], statuses=("RUNNING",)))
    background = background_for(simulator)
    shared = background.shared
    background.start()
    try:
        assert until(shared, shared.laid_out)
        shared.not_wanted([("qatech", "abc")])
        # Its only run let go, the wait is over: it polls a run that never ends no more.
        assert until(shared, lambda: shared.over)
    finally:
        background.stop()
    assert snapshot(shared).report is None


def test_a_crash_of_the_wait_becomes_state(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedRun("abc", cases=[case("a")]))

    def broken(self: Provider, run_id: str, body: object) -> Progress:
        raise RuntimeError("a bug")

    monkeypatch.setattr(QatechProvider, "parse_status", broken)
    background = background_for(simulator)
    shared = background.shared
    background.start()
    assert until(shared, lambda: shared.over)
    background.stop()
    assert shared.failure == "the wait for the remote runs broke off: RuntimeError: a bug"


def test_an_unreadable_run_is_shared_as_ended(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No run abc on the simulator: a 404, final at once.
    background = background_for(simulator)
    shared = background.shared
    background.start()
    assert until(shared, shared.ended_all)
    background.stop()
    assert isinstance(snapshot(shared).report, UnreadableRun)
    assert shared.laid_out()


def test_a_testvibe_run_is_listed_when_it_ends(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add(SimulatedTestVibeRun(214, [vibe_test("Login", "passed")]))
    run_settings = settings({"testvibe": ["214"]})
    background = Background(run_settings, SharedRuns(run_settings.sources))
    background.start()
    assert until(background.shared, background.shared.ended_all)
    background.stop()
    run = background.shared.run("testvibe", "214")
    assert [(c.name, c.verdict is not None) for c in run.cases or ()] == [("Login", True)]


@pytest.mark.starts_runs
def test_a_rerun_asks_for_what_the_front_end_chose(simulator: Simulator) -> None:
    simulator.project = SimulatedProject([])
    simulator.add(mixed_run("abc"))
    run_settings = settings({"qatech": ["abc"]}, reruns="1")
    shared = SharedRuns(run_settings.sources)
    shared.choose({("qatech", "abc"): Chosen(frozenset({"tc3"}))})  # the skipped case alone
    background = Background(run_settings, shared)
    background.start()
    try:
        assert until(shared, lambda: snapshot(shared).report is not None)
    finally:
        background.stop()
    bodies = [request.body for request in simulator.requests if request.method == "POST"]
    assert bodies == [{"projectTestCaseIds": [project_case_id({"name": "Newsletter"})]}]
