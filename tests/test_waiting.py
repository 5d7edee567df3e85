"""The poll loop, driven by a fake clock: no test here waits for real time to pass."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from pytest_qatech.client import FinalError, TransientError
from pytest_qatech.models import FinishedRun, RunReport, UnreadableRun
from pytest_qatech.providers import ApiRequest
from pytest_qatech.providers.qatech import QatechProvider
from pytest_qatech.settings import Secret
from pytest_qatech.simulator import case
from pytest_qatech.waiting import (
    RetryPolicy,
    RunProgress,
    Target,
    format_duration,
    wait_for_runs,
)

provider = QatechProvider(Secret("x"))


class FakeClock:
    def __init__(self) -> None:
        self.time = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.time += seconds


Answer = object  # a JSON body, or an exception to raise


@dataclass
class FakeApi:
    """Per run: a list of answers to light polls (the last repeats) and one for results."""

    clock: FakeClock
    polls: dict[str, Sequence[Answer]]
    results: dict[str, list[Answer]] = field(default_factory=dict)
    log: list[tuple[float, str, bool]] = field(default_factory=list)

    def url(self, request: ApiRequest) -> str:
        return "https://api.test" + request.path

    def get_json(self, request: ApiRequest, time_left: float | None = None) -> object:
        run_id = request.path.rsplit("/", 1)[-1]
        full = bool(request.params)
        self.log.append((self.clock.now(), run_id, full))
        if full:
            answers = self.results.get(run_id) or [body(run_id, "COMPLETED", [])]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        else:
            count = sum(1 for _, rid, f in self.log if rid == run_id and not f)
            script = self.polls[run_id]
            answer = script[min(count - 1, len(script) - 1)]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def body(run_id: str, status: str, cases: list[object] | None = None) -> dict[str, object]:
    ended = status not in ("INITIATED", "RUNNING")
    return {
        "id": "u",
        "shortId": run_id,
        "status": status,
        "result": "PASSED" if ended else None,
        "runTestCases": cases if cases is not None else [],
    }


@dataclass
class RecordingObserver:
    lines: list[str] = field(default_factory=list)
    live_interval: float | None = None

    def waiting(self, elapsed: float, runs: Sequence[RunProgress]) -> None:
        shown = ", ".join(f"{run.run} {run.status} {run.cases}".rstrip() for run in runs)
        self.lines.append(
            f"live at {elapsed:g}: {shown}" if runs else f"live cleared at {elapsed:g}"
        )

    def status_changed(self, run: str, status: str, elapsed: float) -> None:
        self.lines.append(f"{run} {status} at {elapsed:g}")

    def still_waiting(self, run: str, status: str, elapsed: float) -> None:
        self.lines.append(f"{run} still {status} at {elapsed:g}")

    def request_failed(self, run: str, message: str, retry_in: float) -> None:
        self.lines.append(f"{run} failed: {message}")

    def interrupted(self, run: str, status: str | None, elapsed: float) -> None:
        self.lines.append(f"{run} interrupted {status}")

    def details_missing(self, run: str, message: str) -> None:
        self.lines.append(f"{run} details missing: {message}")


def progression(run_id: str, running_polls: int) -> list[Answer]:
    return [body(run_id, "RUNNING")] * running_polls + [body(run_id, "COMPLETED")]


def wait(  # type: ignore[no-untyped-def]
    api: FakeApi, run_ids: Sequence[str], observer: RecordingObserver | None = None, **kw
) -> dict[str, RunReport]:
    """The reports by run id."""
    options = {"poll_interval": 10.0, "timeout": 3600.0, **kw}
    reports = wait_for_runs(
        [Target(provider, api, run_id) for run_id in run_ids],
        observer=observer or RecordingObserver(),
        clock=api.clock,
        rng=random.Random(1),
        **options,
    )
    return {report.run_id: report for report in reports}


def test_polls_light_until_the_end_then_reads_results_once() -> None:
    api = FakeApi(FakeClock(), {"abc": progression("abc", 2)})
    reports = wait(api, ["abc"])
    assert isinstance(reports["abc"], FinishedRun)
    assert [(t - 1000.0, full) for t, _, full in api.log] == [
        (0.0, False),
        (10.0, False),
        (20.0, False),
        (20.0, True),
    ]


def test_a_finished_run_costs_two_requests_and_prints_nothing() -> None:
    api = FakeApi(FakeClock(), {"abc": [body("abc", "COMPLETED")]})
    observer = RecordingObserver()
    wait(api, ["abc"], observer)
    assert len(api.log) == 2
    assert observer.lines == []
    assert api.clock.slept == []


def test_status_changes_are_reported() -> None:
    script = [
        body("abc", "INITIATED"),
        body("abc", "RUNNING"),
        body("abc", "RUNNING"),
        body("abc", "COMPLETED"),
    ]
    observer = RecordingObserver()
    wait(FakeApi(FakeClock(), {"abc": script}), ["abc"], observer)
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
    light = sum(1 for *_, full in api.log if not full)
    assert light == sum(n + 1 for n in lengths.values())


def test_heartbeat_at_least_once_a_minute() -> None:
    observer = RecordingObserver()
    wait(FakeApi(FakeClock(), {"abc": progression("abc", 30)}), ["abc"], observer)
    beats = [line for line in observer.lines if "still" in line]
    assert beats == [f"QA.tech run abc still RUNNING at {t}" for t in (60, 120, 180, 240)]


def test_a_live_observer_sees_progress_every_second_at_no_extra_request() -> None:
    def api() -> FakeApi:
        return FakeApi(
            FakeClock(),
            {"r1": progression("r1", 1), "r2": progression("r2", 2)},
            results={"r1": [body("r1", "COMPLETED", [case("a"), case("b", "FAILED")])]},
        )

    plain, live = api(), api()
    wait(plain, ["r1", "r2"])
    observer = RecordingObserver(live_interval=1.0)
    wait(live, ["r1", "r2"], observer)
    assert [(t, run, full) for t, run, full in live.log] == plain.log
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


def test_an_interrupted_live_observer_is_cleared() -> None:
    api = FakeApi(FakeClock(), {"abc": [body("abc", "RUNNING"), KeyboardInterrupt()]})
    observer = RecordingObserver(live_interval=1.0)
    with pytest.raises(KeyboardInterrupt):
        wait(api, ["abc"], observer)
    assert observer.lines[-2:] == ["QA.tech run abc interrupted RUNNING", "live cleared at 10"]


def test_heartbeat_with_a_poll_interval_longer_than_a_minute() -> None:
    observer = RecordingObserver()
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


def test_timeout_names_the_run_its_last_status_and_the_time_waited() -> None:
    api = FakeApi(
        FakeClock(), {"abc": [body("abc", "RUNNING")], "done": [body("done", "COMPLETED")]}
    )
    reports = wait(api, ["abc", "done"], timeout=95.0)
    report = reports["abc"]
    assert isinstance(report, UnreadableRun)
    assert report.last_status == "RUNNING"
    assert report.message == (
        "QA.tech run abc did not finish in time: still RUNNING after 1m 35s (--qatech-timeout 95s)"
    )
    assert isinstance(reports["done"], FinishedRun)
    assert api.clock.time - 1000.0 == 95.0


def test_a_failed_poll_does_not_lose_the_wait() -> None:
    flaky = [
        body("abc", "RUNNING"),
        TransientError("HTTP 503"),
        TransientError("HTTP 503"),
        body("abc", "COMPLETED"),
    ]
    observer = RecordingObserver()
    reports = wait(FakeApi(FakeClock(), {"abc": flaky}), ["abc"], observer)
    assert isinstance(reports["abc"], FinishedRun)
    assert (
        observer.lines.count("QA.tech run abc failed: GET https://api.test/v1/run/abc: HTTP 503")
        == 2
    )


def test_retry_after_is_honoured_and_capped_by_the_time_left() -> None:
    api = FakeApi(
        FakeClock(), {"abc": [TransientError("429", retry_after=42.0), body("abc", "COMPLETED")]}
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


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0)
    rng = random.Random(7)
    delays = [[policy.backoff(n, rng) for _ in range(200)] for n in range(1, 7)]
    for n, samples in enumerate(delays, start=1):
        assert all(0.0 <= d <= min(8.0, 2 ** (n - 1)) for d in samples)
    assert max(delays[5]) > 4.0  # the cap, not the exponent, bounds late attempts


def test_results_request_gives_up_after_bounded_attempts() -> None:
    api = FakeApi(
        FakeClock(),
        {"abc": [body("abc", "COMPLETED")]},
        results={"abc": [TransientError("HTTP 502")]},
    )
    report = wait(api, ["abc"], poll_interval=1.0)["abc"]
    assert isinstance(report, UnreadableRun)
    assert sum(1 for *_, full in api.log if full) == RetryPolicy().max_attempts
    assert "the results request failed 8 times over" in report.message
    assert "HTTP 502" in report.message


def test_a_run_never_reached_gives_up_after_bounded_attempts() -> None:
    refused = TransientError("connection failed (ConnectionError: [Errno 111] Connection refused)")
    api = FakeApi(FakeClock(), {"abc": [refused]})
    report = wait(api, ["abc"])["abc"]
    assert isinstance(report, UnreadableRun)
    assert len(api.log) == RetryPolicy().max_attempts
    assert report.message.startswith(
        "QA.tech run abc could not be read: the status request failed 8"
    )
    assert report.message.endswith("[Errno 111] Connection refused)")
    # Seven backoffs of at most 1, 2, 4, ... capped at 60 seconds: minutes at worst, not the hour.
    worst = sum(min(60.0, 2.0**k) for k in range(RetryPolicy().max_attempts - 1))
    assert api.clock.time - 1000.0 <= worst == 123.0


def test_an_established_wait_outlasts_any_number_of_failed_polls() -> None:
    script = [body("abc", "RUNNING"), *[TransientError("HTTP 502")] * 20, body("abc", "COMPLETED")]
    api = FakeApi(FakeClock(), {"abc": script})
    assert isinstance(wait(api, ["abc"])["abc"], FinishedRun)
    assert len(api.log) == 23


def test_final_errors_end_that_run_at_once_with_a_hint() -> None:
    api = FakeApi(
        FakeClock(),
        {
            "gone": [FinalError('HTTP 404 Not Found: "Run not found"', 404)],
            "ok": [body("ok", "COMPLETED")],
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
    assert [rid for _, rid, _ in api.log].count("gone") == 1
    assert isinstance(reports["ok"], FinishedRun)


def test_an_unusable_body_names_the_request_and_the_field() -> None:
    api = FakeApi(FakeClock(), {"abc": [{"status": 5}]})
    report = wait(api, ["abc"])["abc"]
    assert isinstance(report, UnreadableRun)
    assert report.message == (
        "QA.tech run abc could not be read: GET https://api.test/v1/run/abc gave an unusable "
        "answer: run abc: field 'status' must be a string, received a number (5)"
    )


def test_interrupt_names_the_runs_being_waited_for() -> None:
    clock = FakeClock()
    api = FakeApi(clock, {"abc": [body("abc", "RUNNING")], "done": [body("done", "COMPLETED")]})

    def interrupting_sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    clock.sleep = interrupting_sleep  # type: ignore[method-assign]
    observer = RecordingObserver()
    with pytest.raises(KeyboardInterrupt):
        wait(api, ["abc", "done"], observer)
    assert observer.lines[-1] == "QA.tech run abc interrupted RUNNING"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.04, "0.0s"), (9.96, "10.0s"), (42, "42s"), (95, "1m 35s"), (7322, "2h 02m")],
)
def test_durations_read_well(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown
