"""Starting QA.tech runs: the bodies the Start Run API is sent (as its reference describes them),
the answers read back, and the one rule for sending a POST again, on a fake clock."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import responses

from pytest_qatech.core.actions import github_commit
from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import Client, FinalError, TransientError
from pytest_qatech.core.lookup import Lookup, SettingsError
from pytest_qatech.core.models import StartedRun
from pytest_qatech.core.platforms import Settings, resolve
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.qatech_start import parse_started
from pytest_qatech.core.retry import RetryPolicy
from pytest_qatech.core.starting import Starts, start_runs, started_lines
from tests.helpers import FakeClock, RecordingListener

TOKEN = {"QATECH_API_TOKEN": "s3cr3t-value"}
STARTED = {
    "success": True,
    "run": {
        "id": "550e8400-e29b-41d4-a716-446655440000",
        "shortId": "def456",
        "url": "https://app.qa.tech/p/shop/results/def456",
        "testCount": 3,
        "testPlan": {"name": "Smoke", "shortId": "pln_smoke"},
    },
}


def settings_from(
    cli: Mapping[str, object], environ: Mapping[str, str] | None = None, *run_ids: str
) -> Settings:
    lookup = Lookup(cli.get, lambda name: "", {**TOKEN, **(environ or {})})
    return resolve({"qatech": list(run_ids)}, lookup)


class FakePoster:
    """Answers each POST with the next scripted answer (a body or an exception)."""

    def __init__(self, answers: Sequence[object]) -> None:
        self.answers = list(answers)
        self.sent: list[ApiRequest] = []
        #: The time each request was given.
        self.time_left: list[float | None] = []

    def url(self, request: ApiRequest) -> str:
        return "https://api.qa.tech" + request.path

    def fetch(self, request: ApiRequest, time_left: float | None = None) -> object:
        self.sent.append(request)
        self.time_left.append(time_left)
        answer = self.answers[min(len(self.sent), len(self.answers)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def start(settings: Settings, answers: Sequence[object]) -> tuple[Starts, FakePoster, FakeClock]:
    poster, clock = FakePoster(answers), FakeClock()
    starts = start_runs(settings, client=poster, clock=clock, retry=RetryPolicy(max_attempts=4))
    return starts, poster, clock


def bodies(poster: FakePoster) -> list[object]:
    return [json.loads(request.body or "") for request in poster.sent]


def test_a_plan_is_started_with_its_short_id_and_the_trigger_api() -> None:
    starts, poster, _ = start(settings_from({"qatech_plan": ["pln_smoke"]}), [STARTED])
    assert [(r.method, r.path) for r in poster.sent] == [("POST", "/v1/run")]
    assert bodies(poster) == [{"trigger": "API", "testPlanShortId": "pln_smoke"}]
    assert starts.started == (
        StartedRun("def456", "https://app.qa.tech/p/shop/results/def456", 3, "Smoke", "pln_smoke"),
    )


def test_the_started_run_is_waited_for_with_the_others_and_its_page_known() -> None:
    settings = settings_from({"qatech_start": True}, None, "abc123")
    starts, _, _ = start(settings, [STARTED])
    (source,) = starts.settings.sources
    assert source.run_ids == ("abc123", "def456")
    assert source.provider.run_url("def456") == "https://app.qa.tech/p/shop/results/def456"
    assert starts.settings.start is None


def test_the_default_plan_is_started_without_a_plan_and_applications_point_at_a_url() -> None:
    cli = {
        "qatech_start": True,
        "qatech_plan": ["pln_smoke"],
        "qatech_app_url": ["app_gXeBl2=https://pr-42.preview.example"],
    }
    _, poster, _ = start(settings_from(cli), [STARTED])
    application = {
        "applicationShortId": "app_gXeBl2",
        "environment": {"url": "https://pr-42.preview.example"},
    }
    assert bodies(poster) == [
        {"trigger": "API", "applications": [application]},
        {"trigger": "API", "testPlanShortId": "pln_smoke", "applications": [application]},
    ]


def test_on_github_actions_the_commit_goes_with_the_start(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "head_commit": {"message": "Fix the checkout button"},
                "pull_request": {"head": {"sha": "1111111111111111111111111111111111111111"}},
            }
        )
    )
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_HEAD_REF": "fix-checkout",
        "GITHUB_REF_NAME": "42/merge",
        "GITHUB_SHA": "2222222222222222222222222222222222222222",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_EVENT_PATH": str(event),
    }
    _, poster, _ = start(settings_from({"qatech_start": True}, environ), [STARTED])
    assert bodies(poster) == [
        {
            "trigger": "GITHUB",
            "actor": "octocat",
            "branch": "fix-checkout",
            "commitHash": "1111111111111111111111111111111111111111",
            "commitMessage": "Fix the checkout button",
            "repository": "acme/shop",
        }
    ]


def test_outside_a_pull_request_the_pushed_commit_and_its_branch() -> None:
    commit = github_commit(
        {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "main", "GITHUB_SHA": "abc"}
    )
    assert commit is not None
    assert commit.fields() == {"branch": "main", "commitHash": "abc"}
    assert github_commit({"GITHUB_SHA": "abc"}) is None


@pytest.mark.parametrize(
    ("cli", "message"),
    [
        ({"qatech_plan": ["smoke"]}, "--qatech-plan 'smoke' is not a test plan's short id"),
        ({"qatech_plan": ["pln_../x"]}, "--qatech-plan 'pln_../x' is not a test plan's short id"),
        (
            {"qatech_app_url": ["app_1=https://x.example"]},
            "--qatech-app-url applies to the runs started here",
        ),
        (
            {"qatech_start": True, "qatech_app_url": ["https://x.example"]},
            "--qatech-app-url 'https://x.example' is not APP=URL",
        ),
        ({"qatech_reruns": "-1"}, "--qatech-reruns must be a whole number, 0 or more, not '-1'"),
        ({"qatech_reruns": "two"}, "--qatech-reruns must be a whole number"),
    ],
)
def test_a_bad_start_or_rerun_option_is_a_usage_error(
    cli: Mapping[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match="^" + message.replace("(", r"\(").replace("?", r"\?")):
        settings_from(cli, None, "abc123")


def test_throttled_or_unsent_starts_are_sent_again_after_a_backoff() -> None:
    refused = TransientError("connection failed (refused)", delivered=False)
    throttled = TransientError("HTTP 429", retry_after=7.0, http_status=429)
    starts, poster, clock = start(
        settings_from({"qatech_plan": ["pln_smoke"]}), [refused, throttled, STARTED]
    )
    assert len(poster.sent) == 3
    assert clock.slept[-1] == 7.0
    assert [run.run_id for run in starts.started] == ["def456"]


@pytest.mark.parametrize(
    "error",
    [
        TransientError("HTTP 500 Internal Server Error", http_status=500),
        TransientError("no answer in time (ReadTimeout: Read timed out)"),
    ],
    ids=["500", "read timeout"],
)
def test_a_start_that_may_have_reached_the_server_is_never_sent_again(
    error: TransientError,
) -> None:
    starts, poster, _ = start(settings_from({"qatech_plan": ["pln_smoke"]}), [error, STARTED])
    assert len(poster.sent) == 1
    (failed,) = starts.failed
    assert failed.start_of == "test plan pln_smoke"
    assert failed.run_id == "pln_smoke"
    assert failed.message.startswith(
        f"QA.tech could not start a run of test plan pln_smoke: POST "
        f"https://api.qa.tech/v1/run failed: {error}\n"
        "The request may have reached QA.tech, so a run may have started: look for it at "
        "https://app.qa.tech, and report on it with --qatech-run SHORTID rather than start another."
    )


def test_an_unreadable_answer_to_a_start_may_mean_a_run_started() -> None:
    starts, poster, _ = start(settings_from({"qatech_start": True}), [{"success": True}])
    (failed,) = starts.failed
    assert len(poster.sent) == 1
    assert failed.start_of == "the default test plan"
    assert "gave an unusable answer" in failed.message
    assert "a run may have started" in failed.message


@pytest.mark.parametrize(
    "answer",
    [
        FinalError("the answer is not JSON (text/html, 9 bytes): <h1>OK</h1>", 200),
        FinalError("the answer is nested too deeply to read (200000 bytes)", 201),
    ],
    ids=["not JSON", "too deep"],
)
def test_a_success_that_cannot_be_read_may_mean_a_run_started(answer: FinalError) -> None:
    starts, poster, _ = start(settings_from({"qatech_start": True}), [answer, STARTED])
    (failed,) = starts.failed
    assert len(poster.sent) == 1
    assert failed.maybe_started
    assert "a run may have started" in failed.message


@pytest.mark.parametrize(
    "refused",
    [
        FinalError('HTTP 400 Bad Request: "testPlanShortId must match"', 400),
        FinalError("TLS: the server's certificate could not be verified (...)"),
    ],
    ids=["400", "certificate"],
)
def test_a_refusal_started_nothing(refused: FinalError) -> None:
    starts, _, _ = start(settings_from({"qatech_start": True}), [refused])
    (failed,) = starts.failed
    assert not failed.maybe_started
    assert "may have started" not in failed.message


def test_the_usage_limit_has_a_message_of_its_own_and_is_not_sent_again() -> None:
    limit = FinalError('HTTP 402 Payment Required: "Usage limit exceeded"', 402)
    env = {"QATECH_PROJECT": "shop"}
    starts, poster, _ = start(settings_from({"qatech_plan": ["pln_smoke"]}, env), [limit])
    (failed,) = starts.failed
    assert len(poster.sent) == 1
    assert failed.url == "https://app.qa.tech/p/shop"
    assert failed.message == (
        "QA.tech could not start a run of test plan pln_smoke: POST https://api.qa.tech/v1/run "
        'failed: HTTP 402 Payment Required: "Usage limit exceeded"\n'
        "hint: the QA.tech organisation's usage limit is reached: no run was started. Raise the "
        "limit or wait until it resets"
    )


def test_starts_that_keep_being_refused_give_up_and_say_none_started() -> None:
    refused = TransientError("connection failed (refused)", delivered=False)
    starts, poster, _ = start(settings_from({"qatech_plan": ["pln_smoke"]}), [refused])
    assert len(poster.sent) == 4
    (failed,) = starts.failed
    assert "failed 4 times" in failed.message
    assert "may have started" not in failed.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"success": False}, "start: field 'success' is not true"),
        ({"success": True, "run": {"shortId": "../x"}}, "start, field 'run': field 'shortId'"),
        (
            {"success": True, "run": {"shortId": "a1", "url": "javascript:alert(1)"}},
            "start: field 'url' is not a web link",
        ),
    ],
)
def test_a_start_answer_that_is_not_as_the_reference_says_is_refused(
    body: object, message: str
) -> None:
    with pytest.raises(BodyError, match="^" + message.replace("(", r"\(")):
        parse_started(body, "start")


def test_started_runs_in_a_line_each() -> None:
    runs = [
        StartedRun("def456", "https://app.qa.tech/p/shop/results/def456", 1, "Smoke", "pln_s"),
        StartedRun("ghi789"),
    ]
    assert started_lines(runs, "qatech:") == [
        "qatech: started QA.tech run def456 (test plan Smoke, pln_s; 1 case): "
        "https://app.qa.tech/p/shop/results/def456",
        "qatech: started QA.tech run ghi789",
    ]


@responses.activate
def test_without_a_client_the_start_goes_to_the_api_with_the_token_and_closes_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[Client] = []
    monkeypatch.setattr(Client, "close", lambda self: closed.append(self))
    # Throttled once: the default backoff, from the poll interval, waits before the second.
    responses.post("https://api.qa.tech/v1/run", status=429, headers={"Retry-After": "2"})
    responses.post("https://api.qa.tech/v1/run", json=STARTED)
    clock = FakeClock()
    starts = start_runs(settings_from({"qatech_plan": ["pln_smoke"]}), clock=clock)
    assert [call.request.headers["Authorization"] for call in responses.calls] == [
        "Bearer s3cr3t-value"
    ] * 2
    assert clock.now() - 1000.0 == 2.0
    assert [run.run_id for run in starts.started] == ["def456"]
    assert len(closed) == 1


def test_a_client_handed_in_is_not_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[Client] = []
    monkeypatch.setattr(Client, "close", lambda self: closed.append(self))
    client = Client("https://api.qa.tech", {})
    monkeypatch.setattr(client, "fetch", lambda request, time_left=None: STARTED)
    start_runs(settings_from({"qatech_plan": ["pln_smoke"]}), client=client, clock=FakeClock())
    assert closed == []


def test_each_plan_s_run_goes_by_the_plan_and_the_default_plan_s_by_its_id() -> None:
    other = {"success": True, "run": {"shortId": "ghi789"}}
    settings = settings_from({"qatech_start": True, "qatech_plan": ["pln_smoke"]})
    starts, _, _ = start(settings, [other, STARTED])
    source = starts.settings.qatech()
    assert (source.label("ghi789"), source.label("def456")) == (None, "pln_smoke")


def test_each_try_has_what_is_left_of_the_start_s_time_and_none_goes_past_it() -> None:
    busy = TransientError("HTTP 429 Too Many Requests", retry_after=1.5, delivered=False)
    poster, clock = FakePoster([busy, busy, STARTED]), FakeClock()
    settings = settings_from({"qatech_plan": ["pln_smoke"], "qatech_timeout": "3.5"})
    starts = start_runs(settings, client=poster, clock=clock, retry=RetryPolicy(max_attempts=9))
    assert poster.time_left == [3.5, 2.0, 0.5]
    assert len(starts.started) == 1
    # A wait that would reach the end of the start's time is not waited.
    poster = FakePoster([TransientError("HTTP 429", retry_after=2.0, delivered=False), STARTED])
    settings = settings_from({"qatech_plan": ["pln_smoke"], "qatech_timeout": "2"})
    starts = start_runs(settings, client=poster, clock=FakeClock(), retry=RetryPolicy(9))
    assert len(poster.sent) == 1
    (failed,) = starts.failed
    assert failed.provider == "qatech"
    assert failed.message.endswith("failed 1 times; the last: HTTP 429")


def test_a_refusal_without_advice_says_no_hint() -> None:
    teapot = FinalError("HTTP 418 I'm a teapot", 418)
    starts, _, _ = start(settings_from({"qatech_plan": ["pln_smoke"]}), [teapot])
    (failed,) = starts.failed
    assert failed.message == (
        "QA.tech could not start a run of test plan pln_smoke: POST https://api.qa.tech/v1/run "
        "failed: HTTP 418 I'm a teapot"
    )


def test_an_answer_not_as_the_reference_says_is_named_by_its_request() -> None:
    starts, _, _ = start(settings_from({"qatech_plan": ["pln_smoke"]}), [{"success": False}])
    (failed,) = starts.failed
    assert "POST https://api.qa.tech/v1/run gave an unusable answer: the answer to POST " \
        "https://api.qa.tech/v1/run: field 'success' is not true" in failed.message  # fmt: skip


def test_a_run_of_several_cases_says_how_many() -> None:
    run = StartedRun("def456", None, 2, None, "pln_s")
    assert started_lines([run], "qatech:") == [
        "qatech: started QA.tech run def456 (test plan pln_s; 2 cases)"
    ]


def test_each_wait_of_starting_is_said_as_it_begins_and_each_retry_and_how_long_it_took() -> None:
    busy = TransientError("HTTP 429 Too Many Requests", retry_after=1.5, delivered=False)
    poster, clock, heard = FakePoster([busy, busy, STARTED]), FakeClock(), RecordingListener()
    settings = settings_from({"qatech_plan": ["pln_smoke"]})
    start_runs(settings, client=poster, clock=clock, retry=RetryPolicy(max_attempts=9), say=heard)
    failed = "QA.tech failed: POST https://api.qa.tech/v1/run failed: HTTP 429 Too Many Requests"
    assert heard.lines == [
        "QA.tech note: starting a run of test plan pln_smoke",
        failed,
        failed,
        "QA.tech note: starting took 3.0s",
    ]
    # Each retry says how long until the next try.
    events: list[object] = []
    start_runs(settings, client=FakePoster([busy, STARTED]), clock=FakeClock(), say=events.append)
    assert [getattr(event, "retry_in", None) for event in events] == [None, 1.5, None]
    # A second is said; a start answered at once says nothing of how long it took.
    second = TransientError("HTTP 429", retry_after=1.0, delivered=False)
    heard = RecordingListener()
    start_runs(settings, client=FakePoster([second, STARTED]), clock=FakeClock(), say=heard)
    assert heard.lines[-1] == "QA.tech note: starting took 1.0s"
    quick = RecordingListener()
    start_runs(settings, client=FakePoster([STARTED]), clock=FakeClock(), say=quick)
    assert quick.lines == ["QA.tech note: starting a run of test plan pln_smoke"]


class SlowPoster(FakePoster):
    """Each answer takes ``seconds`` of the clock's time."""

    def __init__(self, answers: Sequence[object], clock: FakeClock, seconds: float) -> None:
        super().__init__(answers)
        self.clock, self.seconds = clock, seconds

    def fetch(self, request: ApiRequest, time_left: float | None = None) -> object:
        self.clock.time += self.seconds
        return super().fetch(request, time_left)


def test_all_of_starting_is_bounded_by_the_wait_s_timeout() -> None:
    clock = FakeClock()
    settings = settings_from({"qatech_plan": ["pln_a", "pln_b"], "qatech_timeout": "2"})
    poster = SlowPoster([STARTED], clock, 2.0)  # the first start takes the whole timeout
    starts = start_runs(settings, client=poster, clock=clock, retry=RetryPolicy(max_attempts=9))
    assert len(poster.sent) == 1  # the second is never sent: no paid run past the timeout
    (failed,) = starts.failed
    assert failed.message == (
        "QA.tech could not start a run of test plan pln_b: POST https://api.qa.tech/v1/run was "
        "not sent: --qatech-timeout passed while starting"
    )
