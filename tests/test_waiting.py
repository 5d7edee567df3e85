"""The wait loop, driven by a fake clock and a serial sender: no test here waits for real time.

Polls, results, case details, retries, timeouts and interrupts are all decided here; the
end-to-end tests only check that the front ends wire this loop up.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import pytest

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import FinalError, TransientError
from pytest_qatech.core.events import RequestFailed, Said, StatusChanged
from pytest_qatech.core.models import FinishedRun, Outcome, RunReport, UnreadableRun
from pytest_qatech.core.providers.base import Provider
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.retry import RetryPolicy
from pytest_qatech.core.secrets import Secret
from pytest_qatech.core.sending import Answer, SerialSender, ThreadedSender
from pytest_qatech.core.text import format_duration
from pytest_qatech.core.waiting import Job, Stopped, Target, Wait

from .helpers import (
    FakeApi,
    FakeClock,
    RecordingListener,
    RecordingStream,
    Scripted,
    qatech_case,
    qatech_run,
    wait_on,
)

WITHOUT_DETAILS = QatechProvider(Secret("x"), project=None, details="none")
#: Details without traces: what the details alone ask for (traces are tested on their own).
FAILED_DETAILS = QatechProvider(Secret("x"), project=None, details="failed", trace_steps=0)
IN_A_PROJECT = QatechProvider(Secret("x"), project="shop", details="none")


def wait(
    api: FakeApi,
    run_ids: Sequence[str],
    observer: RecordingListener | None = None,
    provider: Provider = WITHOUT_DETAILS,
    poll_interval: float = 10.0,
    timeout: float = 3600.0,
    retry: RetryPolicy | None = None,
) -> dict[str, RunReport]:
    """The reports by run id."""
    listener = observer or RecordingListener()
    reports = Wait(
        [Target(provider, api, run_id) for run_id in run_ids],
        poll_interval=poll_interval,
        timeout=timeout,
        say=listener,
        clock=api.clock,
        sender=SerialSender(),
        retry=retry,
        rng=random.Random(1),
        live_interval=listener.live_interval,
    ).run()
    return {report.run_id: report for report in reports}


def progression(run_id: str, running_polls: int) -> list[Scripted]:
    return [qatech_run(run_id, "RUNNING")] * running_polls + [qatech_run(run_id, "COMPLETED")]


def test_polls_light_until_the_end_then_reads_results_once() -> None:
    api = FakeApi(FakeClock(), {"abc": progression("abc", 2)})
    reports = wait(api, ["abc"])
    assert isinstance(reports["abc"], FinishedRun)
    assert api.log == [(0.0, "poll", "abc"), (10.0, "poll", "abc"), (20.0, "poll", "abc"),
                       (20.0, "read", "abc")]  # fmt: skip


def test_a_finished_run_costs_two_requests_and_prints_nothing() -> None:
    api = FakeApi(FakeClock(), {"abc": [qatech_run("abc", "COMPLETED")]})
    observer = RecordingListener()
    wait(api, ["abc"], observer)
    assert len(api.log) == 2
    assert observer.lines == []
    assert api.clock.slept == []


def test_status_changes_are_reported() -> None:
    statuses = ["INITIATED", "RUNNING", "RUNNING", "COMPLETED"]
    observer = RecordingListener()
    api = FakeApi(FakeClock(), {"abc": [qatech_run("abc", status) for status in statuses]})
    wait(api, ["abc"], observer)
    assert observer.lines == [
        "QA.tech run abc INITIATED at 0",
        "QA.tech run abc RUNNING at 10",
        "QA.tech run abc COMPLETED at 30",
    ]


def test_runs_are_waited_for_together() -> None:
    # Five runs of staggered length end one poll after the slowest, not after the sum.
    lengths = {"r1": 1, "r2": 5, "r3": 3, "r4": 9, "r5": 2}
    api = FakeApi(FakeClock(), {rid: progression(rid, n) for rid, n in lengths.items()})
    reports = wait(api, list(lengths))
    assert list(reports) == list(lengths)
    assert api.clock.time - 1000.0 == 10.0 * max(lengths.values())
    assert len(api.made("poll")) == sum(n + 1 for n in lengths.values())


def test_heartbeat_at_least_once_a_minute() -> None:
    observer = RecordingListener()
    wait(FakeApi(FakeClock(), {"abc": progression("abc", 30)}), ["abc"], observer)
    beats = [line for line in observer.lines if "still" in line]
    assert beats == [f"QA.tech run abc still RUNNING at {t}" for t in (60, 120, 180, 240)]


def test_heartbeat_names_only_the_runs_still_going() -> None:
    observer = RecordingListener()
    gone = FinalError("HTTP 404 Not Found", 404)
    api = FakeApi(FakeClock(), {"gone": [gone], "abc": progression("abc", 7)})
    reports = wait(api, ["gone", "abc"], observer, provider=IN_A_PROJECT)
    assert [line for line in observer.lines if "still" in line] == [
        "QA.tech run abc still RUNNING at 60"
    ]
    # Not read is not timed out; the run's page is still where a person finds it.
    unread = reports["gone"]
    assert isinstance(unread, UnreadableRun)
    assert (unread.provider, unread.timed_out) == ("qatech", False)
    assert unread.url == "https://app.qa.tech/p/shop/results/gone"


def test_heartbeat_with_a_poll_interval_longer_than_a_minute() -> None:
    observer = RecordingListener()
    api = FakeApi(FakeClock(), {"abc": progression("abc", 2)})
    wait(api, ["abc"], observer, poll_interval=150.0)
    assert observer.lines == [
        "QA.tech run abc RUNNING at 0",
        "QA.tech run abc still RUNNING at 60",
        "QA.tech run abc still RUNNING at 120",
        "QA.tech run abc still RUNNING at 180",
        "QA.tech run abc still RUNNING at 240",
        "QA.tech run abc COMPLETED at 300",
    ]


def test_a_live_observer_sees_progress_every_second_at_no_extra_request() -> None:
    def api() -> FakeApi:
        cases = [qatech_case("a", short_id="t1"), qatech_case("b", "FAILED", short_id="t2")]
        return FakeApi(
            FakeClock(),
            {"r1": progression("r1", 1), "r2": progression("r2", 2)},
            reads={"r1": [qatech_run("r1", "COMPLETED", cases)]},
        )

    plain, live = api(), api()
    wait(plain, ["r1", "r2"])
    observer = RecordingListener(live_interval=1.0)
    wait(live, ["r1", "r2"], observer)
    assert live.log == plain.log
    shown = [line for line in observer.lines if line.startswith("live")]
    assert shown[:2] == [
        "live at 0: QA.tech run r1 RUNNING, QA.tech run r2 RUNNING",
        "live at 1: QA.tech run r1 RUNNING, QA.tech run r2 RUNNING",
    ]
    assert "live at 10: QA.tech run r1 COMPLETED 1 passed, 1 failed, QA.tech run r2 RUNNING" in (
        shown
    )
    assert [line.split(":")[0] for line in shown[:-1]] == [f"live at {t}" for t in range(20)]
    assert shown[-1] == "live cleared at 20"


def test_an_interrupted_live_line_is_cleared() -> None:
    api = FakeApi(FakeClock(), {"abc": [qatech_run("abc", "RUNNING"), KeyboardInterrupt()]})
    observer = RecordingListener(live_interval=1.0)
    with pytest.raises(KeyboardInterrupt):
        wait(api, ["abc"], observer)
    # What to say of the runs is the front end's, from its shared runs.
    assert observer.lines[-2:] == ["live at 9: QA.tech run abc RUNNING", "live cleared at 10"]


def test_timeout_names_the_run_its_last_status_and_the_time_waited() -> None:
    api = FakeApi(
        FakeClock(),
        {"abc": [qatech_run("abc", "RUNNING")], "done": [qatech_run("done", "COMPLETED")]},
    )
    reports = wait(api, ["done", "abc"], timeout=95.0)  # one over before the timeout first
    report = reports["abc"]
    assert isinstance(report, UnreadableRun)
    assert (report.last_status, report.timed_out) == ("RUNNING", True)
    assert report.message == (
        "QA.tech run abc did not finish in time: still RUNNING after 1m 35s (--qatech-timeout 95s)"
    )
    assert isinstance(reports["done"], FinishedRun)
    assert api.clock.time - 1000.0 == 95.0


def test_a_run_that_never_answered_times_out_without_a_status() -> None:
    api = FakeApi(FakeClock(), {"abc": [TransientError("HTTP 503")]})
    report = wait(api, ["abc"], timeout=2.0)["abc"]
    assert isinstance(report, UnreadableRun)
    assert report.message == (
        "QA.tech run abc did not finish in time: still unknown (no status was ever received) "
        "after 2.0s (--qatech-timeout 2s); the last 3 requests failed over 2.0s, most recently: "
        "GET https://api.test/v1/run/abc: HTTP 503"
    )


def test_a_failed_poll_does_not_lose_the_wait() -> None:
    flaky = [
        qatech_run("abc", "RUNNING"),
        TransientError("HTTP 503"),
        TransientError("HTTP 503"),
        qatech_run("abc", "COMPLETED"),
    ]
    observer = RecordingListener()
    reports = wait(FakeApi(FakeClock(), {"abc": flaky}), ["abc"], observer)
    assert isinstance(reports["abc"], FinishedRun)
    assert observer.lines.count(
        "QA.tech run abc failed: GET https://api.test/v1/run/abc: HTTP 503"
    ) == 2  # fmt: skip


@pytest.mark.parametrize("purpose", ["poll", "read"])
def test_a_transient_fault_on_any_request_is_retried(purpose: str) -> None:
    fault = TransientError("connection failed (ConnectionError: [Errno 104] reset)")
    polls: list[Scripted] = [qatech_run("abc", "RUNNING"), qatech_run("abc", "COMPLETED")]
    reads: list[Scripted] = [qatech_run("abc", "COMPLETED")]
    (polls if purpose == "poll" else reads).insert(0 if purpose == "read" else 1, fault)
    api = FakeApi(FakeClock(), {"abc": polls}, reads={"abc": reads})
    observer = RecordingListener()
    assert isinstance(wait(api, ["abc"], observer)["abc"], FinishedRun)
    path = "/v1/run/abc"
    assert f"QA.tech run abc failed: GET https://api.test{path}: {fault}" in observer.lines
    assert len(api.log) == 4


def test_retry_after_is_honoured_and_capped_by_the_time_left() -> None:
    api = FakeApi(
        FakeClock(),
        {"abc": [TransientError("429", retry_after=42.0), qatech_run("abc", "COMPLETED")]},
    )
    wait(api, ["abc"])
    assert api.log[1][0] - api.log[0][0] == 42.0
    capped = FakeApi(FakeClock(), {"abc": [TransientError("429", retry_after=900.0)]})
    report = wait(capped, ["abc"], timeout=100.0)["abc"]
    assert isinstance(report, UnreadableRun)
    assert capped.clock.time - 1000.0 == 100.0
    assert len(capped.log) == 1
    assert report.message.endswith(
        "; the last request failed over 1m 40s, most recently: GET https://api.test/v1/run/abc: 429"
    )


def test_results_request_gives_up_after_eight_attempts() -> None:
    api = FakeApi(
        FakeClock(),
        {"abc": [qatech_run("abc", "COMPLETED")]},
        reads={"abc": [TransientError("HTTP 502")]},
    )
    report = wait(api, ["abc"], poll_interval=1.0)["abc"]
    assert isinstance(report, UnreadableRun)
    assert len(api.made("read")) == 8
    assert report.message.startswith(
        "QA.tech run abc could not be read: the results request failed 8 times over "
    )
    assert report.message.endswith("; the last failure: GET https://api.test/v1/run/abc: HTTP 502")


def test_a_run_never_reached_gives_up_after_eight_attempts() -> None:
    refused = TransientError("connection failed (ConnectionError: [Errno 111] Connection refused)")
    api = FakeApi(FakeClock(), {"abc": [refused]})
    report = wait(api, ["abc"])["abc"]
    assert isinstance(report, UnreadableRun)
    assert len(api.log) == 8
    assert report.message.startswith(
        "QA.tech run abc could not be read: the status request failed 8 times over "
    )
    assert report.message.endswith("[Errno 111] Connection refused)")
    # Over the time from the first failure (at the start) to the last (now).
    over = format_duration(api.clock.time - 1000.0)
    assert f"failed 8 times over {over}; the last failure: GET " in report.message
    # Seven backoffs of at most 1, 2, 4, ... capped at 60 seconds: minutes at worst, not the hour.
    assert api.clock.time - 1000.0 <= 1 + 2 + 4 + 8 + 16 + 32 + 60


def test_an_established_wait_outlasts_any_number_of_failed_polls() -> None:
    script = [
        qatech_run("abc", "RUNNING"),
        *[TransientError("HTTP 502")] * 20,
        qatech_run("abc", "COMPLETED"),
    ]
    api = FakeApi(FakeClock(), {"abc": script})
    assert isinstance(wait(api, ["abc"])["abc"], FinishedRun)
    assert len(api.log) == 23


def test_final_errors_end_that_run_at_once_with_a_hint() -> None:
    api = FakeApi(
        FakeClock(),
        {
            "gone": [FinalError('HTTP 404 Not Found: "Run not found"', 404)],
            "ok": [qatech_run("ok", "COMPLETED")],
        },
    )
    reports = wait(api, ["gone", "ok"])
    gone = reports["gone"]
    assert isinstance(gone, UnreadableRun)
    assert gone.message == (
        "QA.tech run gone could not be read: GET https://api.test/v1/run/gone failed: "
        'HTTP 404 Not Found: "Run not found"\n'
        "hint: check the run id, and that QATECH_API_TOKEN belongs to the project that ran it"
    )
    assert api.made("poll").count("gone") == 1
    assert isinstance(reports["ok"], FinishedRun)


def test_an_unusable_body_names_the_request_and_the_field() -> None:
    api = FakeApi(FakeClock(), {"abc": [{"status": 5}]})
    report = wait(api, ["abc"])["abc"]
    assert isinstance(report, UnreadableRun)
    assert report.message == (
        "QA.tech run abc could not be read: GET https://api.test/v1/run/abc gave an unusable "
        "answer: run abc: field 'status' must be a string, received a number (5)"
    )


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.04, "0.0s"), (9.96, "10.0s"), (42, "42s"), (95, "1m 35s"), (7322, "2h 02m")],
)
def test_durations_read_well(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


# Case requests (QA.tech's case details): in the same loop, with the same clock and deadline.


def failed_cases(count: int) -> list[Scripted]:
    return [qatech_case(f"case {n}", "FAILED", title="t", short_id=f"tc{n}") for n in range(count)]


def detailed_api(cases: dict[str, Sequence[Scripted]], count: int = 2) -> FakeApi:
    run = qatech_run("abc", "COMPLETED", failed_cases(count), "FAILED")
    return FakeApi(FakeClock(), {"abc": [run]}, reads={"abc": [run]}, cases=cases)


def test_case_details_are_read_once_the_run_is_read() -> None:
    api = detailed_api({"tc0": [{"durationMs": 1500}], "tc1": [{"durationMs": 2500}]})
    report = wait(api, ["abc"], provider=FAILED_DETAILS)["abc"]
    assert isinstance(report, FinishedRun)
    assert [case.duration for case in report.cases] == [1.5, 2.5]
    assert [(kind, key) for _, kind, key in api.log] == [
        ("poll", "abc"), ("read", "abc"), ("case", "tc0"), ("case", "tc1"),
    ]  # fmt: skip


def test_a_run_that_ended_early_has_its_details_read_while_others_still_poll() -> None:
    early = qatech_run("early", "COMPLETED", failed_cases(1), "FAILED")
    api = FakeApi(
        FakeClock(),
        {"early": [early], "late": progression("late", 3)},
        reads={"early": [early]},
        cases={"tc0": [{"durationMs": 1000}]},
    )
    wait(api, ["early", "late"], provider=FAILED_DETAILS)
    assert [time for time, kind, _ in api.log if kind == "case"] == [0.0]
    assert api.clock.time - 1000.0 == 30.0


def test_transient_failures_of_a_case_request_are_retried() -> None:
    busy = TransientError("HTTP 503 Service Unavailable", retry_after=2)
    api = detailed_api({"tc0": [{"durationMs": 2000}], "tc1": [busy, busy, {"durationMs": 2000}]})
    observer = RecordingListener()
    report = wait(api, ["abc"], observer, provider=FAILED_DETAILS)["abc"]
    assert isinstance(report, FinishedRun)
    assert [c.duration for c in report.cases] == [2.0, 2.0]
    assert (
        observer.lines
        == [
            "QA.tech run abc failed: GET https://api.test/v1/run-test-case/tc1: "
            "HTTP 503 Service Unavailable"
        ]
        * 2
    )
    assert [time for time, _, key in api.log if key == "tc1"] == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (
            TransientError("connection failed"),
            "GET https://api.test/v1/run-test-case/tc0 failed 8 times; the last: connection failed",
        ),
        (
            FinalError('HTTP 404 Not Found: "Test case not found"', 404),
            'GET https://api.test/v1/run-test-case/tc0 failed: HTTP 404 Not Found: "Test case '
            'not found"',
        ),
        (
            {"durationMs": "soon"},
            "GET https://api.test/v1/run-test-case/tc0 gave an unusable answer: details of "
            "case tc0: field 'durationMs' must be a non-negative number or null, received a "
            "string ('soon')",
        ),
    ],
    ids=["retries exhausted", "final error", "unusable answer"],
)
def test_unreadable_details_leave_the_verdict_as_it_was_with_a_warning(
    answer: Scripted, problem: str
) -> None:
    api = detailed_api({"tc0": [answer], "tc1": [answer]})
    observer = RecordingListener()
    report = wait(api, ["abc"], observer, provider=FAILED_DETAILS)["abc"]
    without = wait(detailed_api({}), ["abc"])["abc"]
    assert report == without
    assert observer.lines[-1] == (
        "QA.tech run abc warning: the details of 2 of 2 cases could not be read, so they are "
        f"reported as the run endpoint described them; the first problem: {problem}"
    )


def test_the_first_problem_is_the_first_case_s() -> None:
    gone = FinalError("HTTP 404 Not Found", 404)
    api = detailed_api({"tc0": [TransientError("x")] * 2 + [gone], "tc1": [gone]})
    observer = RecordingListener()
    wait(api, ["abc"], observer, provider=FAILED_DETAILS)
    assert observer.lines[-1].endswith(
        "the first problem: GET https://api.test/v1/run-test-case/tc0 failed: HTTP 404 Not Found"
    )


def test_the_first_problem_follows_the_run_s_order_not_the_case_ids() -> None:
    cases = [qatech_case(name, "FAILED", title="t", short_id=name) for name in ("zz", "aa")]
    run = qatech_run("abc", "COMPLETED", cases, "FAILED")
    gone = FinalError("HTTP 404 Not Found", 404)
    # zz's problem comes last, after its retries; it is still the first to be named.
    api = FakeApi(
        FakeClock(),
        {"abc": [run]},
        reads={"abc": [run]},
        cases={"zz": [TransientError("x")] * 2 + [gone], "aa": [gone]},
    )
    observer = RecordingListener()
    wait(api, ["abc"], observer, provider=FAILED_DETAILS)
    assert observer.lines[-1].endswith(
        "the first problem: GET https://api.test/v1/run-test-case/zz failed: HTTP 404 Not Found"
    )


def test_open_case_requests_at_the_timeout_leave_the_other_runs_timed_out_too() -> None:
    slow = TransientError("HTTP 503", retry_after=600)
    early = qatech_run("early", "COMPLETED", failed_cases(1), "FAILED")
    api = FakeApi(
        FakeClock(),
        {"early": [early], "late": [qatech_run("late", "RUNNING")]},
        reads={"early": [early]},
        cases={"tc0": [slow]},
    )
    reports = wait(api, ["early", "late"], provider=FAILED_DETAILS, timeout=100.0)
    assert isinstance(reports["early"], FinishedRun)
    late = reports["late"]
    assert isinstance(late, UnreadableRun)
    assert late.timed_out


@pytest.mark.parametrize(("timeout", "retry_in"), [(3600.0, 7.0), (5.0, 5.0), (0.5, 0.5)])
def test_a_failed_request_says_when_it_is_tried_again_within_the_time_left(
    timeout: float, retry_in: float
) -> None:
    busy = TransientError("HTTP 503", retry_after=7.0)
    api = FakeApi(FakeClock(), {"abc": [busy, qatech_run("abc", "COMPLETED")]})
    said: list[Said] = []
    wait_on(api, WITHOUT_DETAILS, ["abc"], say=said.append, timeout=timeout)
    failed = [event for event in said if isinstance(event, RequestFailed)]
    assert [event.retry_in for event in failed] == [retry_in]


def test_a_request_at_the_deadline_s_edge_is_given_a_tenth_of_a_second() -> None:
    clock = FakeClock()
    sender = UnansweredSender(clock)
    wait_on(FakeApi(clock, {}), WITHOUT_DETAILS, ["abc"], sender=sender, timeout=0.05)
    assert sender.sent == ["https://api.test/v1/run/abc within 0.1s"]


class CountingSender(SerialSender[Job]):
    """Answers at once, as a serial sender does, but takes up to three requests before it is
    asked for an answer; records the most it held at once."""

    capacity = 3

    def __init__(self) -> None:
        super().__init__()
        self.most = 0

    def send(self, job: Job, client: object, request: object, time_left: float) -> None:
        super().send(job, client, request, time_left)  # type: ignore[arg-type]
        self.most = max(self.most, len(self._answers))


def test_never_more_requests_at_once_than_the_sender_takes() -> None:
    runs: dict[str, Sequence[Scripted]] = {f"r{n}": progression(f"r{n}", 1) for n in range(5)}
    api = FakeApi(FakeClock(), runs)
    sender = CountingSender()
    reports = wait_on(api, WITHOUT_DETAILS, list(runs), sender=sender)
    assert len(reports) == 5
    assert sender.most == 3


def test_a_run_let_go_leaves_the_others_waited_for() -> None:
    going = qatech_case("Login", None, status="RUNNING", short_id="tc1")
    api = FakeApi(
        FakeClock(),
        {"abc": [qatech_run("abc", "RUNNING", [going], None)], "def": progression("def", 2)},
        listing=True,
    )
    stream = RecordingStream(api.clock, unwanted={"abc"})
    reports = wait_on(api, WITHOUT_DETAILS, ["abc", "def"], listing=True, stream=stream)
    assert [report.run_id for report in reports] == ["def"]
    assert "abc" not in api.made("poll")


def test_a_wait_without_a_random_source_of_its_own_backs_off_all_the_same() -> None:
    api = FakeApi(
        FakeClock(), {"abc": [TransientError("HTTP 503"), qatech_run("abc", "COMPLETED")]}
    )
    (report,) = Wait(
        [Target(WITHOUT_DETAILS, api, "abc")],
        poll_interval=10.0,
        timeout=3600.0,
        say=RecordingListener(),
        clock=api.clock,
        sender=SerialSender(),
    ).run()
    assert isinstance(report, FinishedRun)
    assert 0.0 <= api.clock.time - 1000.0 <= 1.0  # one backoff of at most its base


def test_details_never_outlast_the_wait() -> None:
    slow = TransientError("HTTP 503", retry_after=30)
    api = detailed_api({"tc0": [slow], "tc1": [{"durationMs": 1000}]})
    observer = RecordingListener()
    report = wait(api, ["abc"], observer, provider=FAILED_DETAILS, timeout=50.0)["abc"]
    assert isinstance(report, FinishedRun)
    assert [c.duration for c in report.cases] == [None, 1.0]
    assert api.clock.time - 1000.0 == 50.0
    assert observer.lines[-1] == (
        "QA.tech run abc warning: the details of 1 of 2 cases could not be read, so they are "
        "reported as the run endpoint described them; the first problem: GET "
        "https://api.test/v1/run-test-case/tc0: no answer before the wait's timeout"
    )


# The threaded sender: several requests at once, and none left behind.


class BlockingApi:
    """Answers each case request only once three requests are in flight at once."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(3, timeout=10)
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0

    def url(self, request: ApiRequest) -> str:
        return "https://api.test" + request.path

    def fetch(self, request: ApiRequest, time_left: float | None = None) -> object:
        if not request.path.startswith("/v1/run-test-case/"):
            return qatech_run("abc", "COMPLETED", failed_cases(9), "FAILED")
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.barrier.wait()
        with self.lock:
            self.in_flight -= 1
        return {"durationMs": 1000}


def test_requests_run_in_parallel_up_to_the_bound() -> None:
    # Each answer waits until three requests are in flight at once: only a sender that keeps
    # three going can finish; the barrier breaks (and the test fails) for a serial one.
    api = BlockingApi()
    (report,) = Wait(
        [Target(FAILED_DETAILS, api, "abc")],
        poll_interval=10.0,
        timeout=60.0,
        say=RecordingListener(),
        clock=FakeClock(),
        sender=ThreadedSender(workers=3),
    ).run()
    assert isinstance(report, FinishedRun)
    assert [c.duration for c in report.cases] == [1.0] * 9
    assert api.most_in_flight == 3


def test_an_interrupt_leaves_no_request_thread_behind() -> None:
    api = detailed_api({f"tc{n}": [KeyboardInterrupt() if n == 3 else {}] for n in range(6)}, 6)
    with pytest.raises(KeyboardInterrupt):
        Wait(
            [Target(FAILED_DETAILS, api, "abc")],
            poll_interval=10.0,
            timeout=60.0,
            say=RecordingListener(),
            clock=api.clock,
            sender=ThreadedSender(workers=2),
        ).run()
    assert [t for t in threading.enumerate() if t.name == "qatech-request"] == []


class HesitantSender(SerialSender[Job]):
    """Has no answer the first time it is asked for each, and records how long it was told to
    wait for one."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []
        self._asked = False

    def answer(self, timeout: float) -> Answer[Job] | None:
        if not self._asked:
            self._asked = True
            self.waits.append(timeout)
            return None
        self._asked = False
        return super().answer(timeout)


def test_requests_that_are_due_but_have_no_place_wait_for_an_answer() -> None:
    api = detailed_api({f"tc{n}": [{"durationMs": 1000}] for n in range(4)}, 4)
    sender = HesitantSender()
    (report,) = Wait(
        [Target(FAILED_DETAILS, api, "abc")],
        poll_interval=10.0,
        timeout=3600.0,
        say=RecordingListener(),
        clock=api.clock,
        sender=sender,
    ).run()
    assert isinstance(report, FinishedRun)
    # With the one place taken and the other case requests due, the loop waits for the answer
    # (until the next heartbeat), never for no time at all.
    assert len(sender.waits) == 6
    assert min(sender.waits) == 60.0


class UnansweredSender(SerialSender[Job]):
    """Sends, and never gets an answer: each wait for one lets its whole time pass."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.sent: list[str] = []

    def send(self, job: Job, client: object, request: object, time_left: float) -> None:
        self.sent.append(f"{job.url} within {time_left:g}s")

    def answer(self, timeout: float) -> Answer[Job] | None:
        self.clock.sleep(timeout)
        return None


def test_a_request_that_never_ends_cannot_hold_the_wait_past_its_timeout() -> None:
    clock = FakeClock()
    sender = UnansweredSender(clock)
    observer = RecordingListener()
    (report,) = Wait(
        [Target(WITHOUT_DETAILS, FakeApi(clock, {}), "abc")],
        poll_interval=10.0,
        timeout=300.0,
        say=observer,
        clock=clock,
        sender=sender,
    ).run()
    assert isinstance(report, UnreadableRun)
    assert report.timed_out
    assert clock.time - 1000.0 == 300.0
    # The request was told its deadline: the wait's own.
    assert sender.sent == ["https://api.test/v1/run/abc within 300s"]
    # Signs of life go on while it hangs.
    assert observer.lines == [f"QA.tech run abc still unknown at {t}" for t in (60, 120, 180, 240)]


# Listing: a case is known, and decided, while its run goes on.


def test_listing_polls_decide_each_case_when_it_ends_not_when_its_run_does() -> None:
    clock = FakeClock()
    running = [qatech_case("a", None, status="RUNNING", short_id="tc1"),
               qatech_case("b", None, status="RUNNING", short_id="tc2")]  # fmt: skip
    first_done = [qatech_case("a", "FAILED", title="t", short_id="tc1"), running[1]]
    both_done = [first_done[0], qatech_case("b", "PASSED", short_id="tc2")]
    polls = [
        qatech_run("abc", "RUNNING", running),
        qatech_run("abc", "RUNNING", first_done),
        qatech_run("abc", "COMPLETED", both_done, "FAILED"),
    ]
    api = FakeApi(clock, {"abc": polls}, cases={"tc1": [{"durationMs": 2000}]}, listing=True)
    stream = RecordingStream(clock)
    (report,) = wait_on(api, FAILED_DETAILS, ["abc"], listing=True, stream=stream)
    assert stream.events == [
        "0 RUNNING tc1 tc2",
        "10 RUNNING tc1=failed tc2",
        # The failure has its details read at once, before its run has ended.
        "10 tc1 failed 2s",
        "20 COMPLETED ",
        # The read lists every case before the first of them is decided.
        "20 COMPLETED tc1=failed tc2=passed",
        "20 tc2 passed",
        "20 ended FinishedRun",
    ]
    # No separate read: the last listing poll was the results.
    assert [(t, kind, key) for t, kind, key in api.log] == [
        (0.0, "poll", "abc"), (10.0, "poll", "abc"), (10.0, "case", "tc1"), (20.0, "poll", "abc")
    ]  # fmt: skip
    assert isinstance(report, FinishedRun)
    assert [(c.key, c.outcome, c.duration) for c in report.cases] == [
        ("tc1", Outcome.FAILED, 2.0),
        ("tc2", Outcome.PASSED, None),
    ]


def test_a_case_whose_details_are_being_read_is_not_asked_for_again_as_it_is_listed() -> None:
    failed = qatech_case("a", "FAILED", title="t", short_id="tc1")
    going = qatech_run("abc", "RUNNING", [failed], None)
    busy = TransientError("HTTP 503", retry_after=25.0)
    api = FakeApi(
        FakeClock(),
        {"abc": [going, going, going, qatech_run("abc", "COMPLETED", [failed], "FAILED")]},
        cases={"tc1": [busy, {"durationMs": 1000}]},
        listing=True,
    )
    report = wait_on(api, FAILED_DETAILS, ["abc"], listing=True)[0]
    # Listed with its verdict at 0, 10, 20 and 30: one request at 0, and its retry at 25.
    assert [time for time, kind, _ in api.log if kind == "case"] == [0.0, 25.0]
    assert isinstance(report, FinishedRun)
    assert report.cases[0].duration == 1.0


def test_a_case_listed_but_gone_at_the_end_is_not_lost() -> None:
    clock = FakeClock()
    polls = [
        qatech_run("abc", "RUNNING", [qatech_case("gone", None, status="RUNNING", short_id="g")]),
        qatech_run("abc", "COMPLETED", [qatech_case("late", short_id="l")], "PASSED"),
    ]
    api = FakeApi(clock, {"abc": polls}, listing=True)
    report = wait_listing(api)
    assert isinstance(report, FinishedRun)
    assert [(c.key, c.name, c.outcome) for c in report.cases] == [
        ("l", "late", Outcome.PASSED),
        ("g", "gone", Outcome.ERROR),
    ]
    assert report.cases[1].headline == (
        "the case was listed while its run was going, but not once the run had ended: it has "
        "no verdict"
    )


def test_a_run_is_not_over_before_every_case_has_its_details() -> None:
    # A pass that asks for nothing more, then a failure whose details are still to be read.
    cases = [qatech_case("a", short_id="tc1"), qatech_case("b", "FAILED", short_id="tc2")]
    run = qatech_run("abc", "COMPLETED", cases, "FAILED")
    api = FakeApi(FakeClock(), {"abc": [run]}, reads={"abc": [run]},
                  cases={"tc2": [{"durationMs": 3000}]})  # fmt: skip
    report = wait(api, ["abc"], provider=FAILED_DETAILS)["abc"]
    assert isinstance(report, FinishedRun)
    assert [c.duration for c in report.cases] == [None, 3.0]


def test_a_stopped_wait_ends_at_once() -> None:
    clock = FakeClock()
    stop = threading.Event()
    api = FakeApi(clock, {"abc": [qatech_run("abc", "RUNNING")]})

    def stop_on_a_status(said: Said) -> None:
        if isinstance(said, StatusChanged):
            stop.set()

    with pytest.raises(Stopped):
        Wait(
            [Target(WITHOUT_DETAILS, api, "abc")],
            poll_interval=10.0,
            timeout=3600.0,
            say=stop_on_a_status,
            clock=clock,
            sender=SerialSender(),
            stop=stop,
        ).run()
    assert len(api.log) == 1


def wait_listing(api: FakeApi) -> RunReport:
    (report,) = Wait(
        [Target(FAILED_DETAILS, api, "abc")],
        poll_interval=10.0,
        timeout=3600.0,
        say=RecordingListener(),
        clock=api.clock,
        sender=SerialSender(),
        listing=True,
    ).run()
    return report
