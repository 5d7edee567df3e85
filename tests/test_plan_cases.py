"""A plan's known cases, what a narrowed start names, and how the ids of cases the cache does
not know are looked up by name in the project's test cases (``GET /v1/test-cases``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import FinalError, TransientError
from pytest_qatech.core.codec import from_data, to_data
from pytest_qatech.core.lookup import Lookup
from pytest_qatech.core.models import FinishedRun, Outcome, RemoteCase
from pytest_qatech.core.plan_cases import (
    Choice,
    KnownCase,
    PlanCases,
    Selection,
    choose,
    learnt,
    not_found,
    stand_in,
)
from pytest_qatech.core.platforms import Settings, resolve
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.providers.qatech_start import parse_test_cases
from pytest_qatech.core.retry import RetryPolicy
from pytest_qatech.core.starting import Starts, project_test_cases, start_runs
from tests.helpers import FakeClock, RecordingListener

KNOWN = PlanCases(
    "pln_x",
    (KnownCase("Login", "id-login"), KnownCase("Checkout", "id-checkout"), KnownCase("Search")),
    "run1",
    "2026-12-03T10:00:00+00:00",
)


def case(name: str, project_case_id: str | None = None) -> RemoteCase:
    return RemoteCase(name, Outcome.PASSED, project_case_id=project_case_id)


def run(*cases: RemoteCase, run_id: str = "run2") -> FinishedRun:
    return FinishedRun("qatech", run_id, "COMPLETED", "PASSED", cases)


def test_a_run_of_the_whole_plan_replaces_what_was_known_keeping_the_ids_it_lacks() -> None:
    after = learnt(
        "pln_x", KNOWN, run(case("Checkout"), case("Search", "id-search"), case("New")),
        whole=True, seen="later",
    )  # fmt: skip
    # Login left the plan; Checkout keeps the id it had; Search and New are as the run said.
    assert after == PlanCases(
        "pln_x",
        (KnownCase("Checkout", "id-checkout"), KnownCase("Search", "id-search"), KnownCase("New")),
        "run2",
        "later",
    )


def test_a_narrowed_run_only_adds_what_it_taught() -> None:
    after = learnt("pln_x", KNOWN, run(case("Search", "id-search")), whole=False, seen="later")
    assert after.cases == (
        KnownCase("Login", "id-login"),
        KnownCase("Checkout", "id-checkout"),
        KnownCase("Search", "id-search"),
    )
    first = learnt("pln_y", None, run(case("Only", "id-only")), whole=False, seen="now")
    assert first == PlanCases("pln_y", (KnownCase("Only", "id-only"),), "run2", "now")


def test_what_is_known_survives_the_cache_as_json() -> None:
    assert from_data(PlanCases, json.loads(json.dumps(to_data(KNOWN)))) == KNOWN


def test_the_known_cases_are_laid_out_under_the_plan_s_node_ids() -> None:
    snapshot = KNOWN.snapshot()
    assert (snapshot.provider, snapshot.label) == ("qatech", "pln_x")
    assert [(listed.key, listed.name) for listed in snapshot.cases or ()] == [
        ("#0", "Login"), ("#1", "Checkout"), ("#2", "Search"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("places", "found", "choice"),
    [
        ((0, 1, 2), {}, Choice("pln_x", None, 3, 3)),
        ((), {}, Choice("pln_x", (), 0, 3)),
        ((1, 0), {}, Choice("pln_x", ("id-checkout", "id-login"), 2, 3)),
        ((2,), {"Search": "id-search"}, Choice("pln_x", ("id-search",), 1, 3)),
        ((0, 2), {}, Choice("pln_x", None, 2, 3, ("Search",))),
    ],
    ids=["all: the whole plan", "none: nothing", "some", "one found by name", "one unmapped"],
)
def test_what_a_start_names(places: tuple[int, ...], found: dict[str, str], choice: Choice) -> None:
    assert choose(Selection(KNOWN, places), found) == choice


def test_only_the_ids_missing_from_a_narrowed_selection_are_looked_up() -> None:
    assert Selection(KNOWN, (0, 2)).missing_ids() == ["Search"]
    assert Selection(KNOWN, (0, 1, 2)).missing_ids() == []


def cases_page(cases: Sequence[tuple[str, str]], offset: int, total: int) -> dict[str, Any]:
    return {
        "testCases": [{"id": case_id, "name": name, "isEnabled": True} for name, case_id in cases],
        "total": total,
        "limit": 100,
        "offset": offset,
    }


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"offset": 100}, "the test cases from 0, but the API answered with those from 100"),
        ({"total": None}, "field 'total'"),
        ({"testCases": [{"name": "x"}]}, "test case 1 of the project's test cases: required"),
        ({"testCases": "all"}, "field 'testCases'"),
    ],
)  # fmt: skip
def test_a_page_of_test_cases_that_does_not_fit_is_refused(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(BodyError, match=problem):
        parse_test_cases({**cases_page([], 0, 0), **changes}, 0)


def test_no_more_than_a_page_of_test_cases_is_taken() -> None:
    cases = [(f"c{n}", f"id{n}") for n in range(150)]
    page, total = parse_test_cases(cases_page(cases, 0, 150), 0)
    assert (len(page), total) == (100, 150)


class FakeApi:
    """Answers the start's POSTs and the test cases' GETs with what each script says next."""

    def __init__(self, starts: Sequence[object], pages: Sequence[object] = ()) -> None:
        self.scripts = {"POST": list(starts), "GET": list(pages)}
        self.sent: list[ApiRequest] = []

    def url(self, request: ApiRequest) -> str:
        return "https://api.qa.tech" + request.path

    def fetch(self, request: ApiRequest, time_left: float | None = None) -> object:
        self.sent.append(request)
        answer = self.scripts[request.method].pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def bodies(self) -> list[object]:
        return [json.loads(r.body or "") for r in self.sent if r.method == "POST"]

    def pages(self) -> list[Mapping[str, str]]:
        return [dict(r.params) for r in self.sent if r.method == "GET"]


STARTED = {"success": True, "run": {"id": "u", "shortId": "def456", "testCount": 1}}


def plans(*plans: str) -> Settings:
    lookup = Lookup(
        {"qatech_plan": list(plans)}.get, lambda name: "", {"QATECH_API_TOKEN": "t0k3n-x"}
    )
    return resolve({"qatech": []}, lookup)


def started(api: FakeApi, selections: Mapping[str, Selection]) -> Starts:
    retry = RetryPolicy(max_attempts=3)
    return start_runs(plans("pln_x"), selections, client=api, clock=FakeClock(), retry=retry)


def test_a_narrowed_start_names_the_selected_ids_beside_the_plan() -> None:
    api = FakeApi([STARTED])
    starts = started(api, {"pln_x": Selection(KNOWN, (1,))})
    assert api.bodies() == [
        {"trigger": "API", "testPlanShortId": "pln_x", "testCaseIds": ["id-checkout"]}
    ]
    assert starts.choices == (Choice("pln_x", ("id-checkout",), 1, 3),)


def test_a_selection_of_nothing_starts_nothing_and_one_of_everything_the_whole_plan() -> None:
    api = FakeApi([STARTED])
    assert started(api, {"pln_x": Selection(KNOWN, ())}).started == ()
    assert api.sent == []
    started(api, {"pln_x": Selection(KNOWN, (0, 1, 2))})
    assert api.bodies() == [{"trigger": "API", "testPlanShortId": "pln_x"}]


def test_missing_ids_are_looked_up_by_name_a_page_at_a_time_to_the_end() -> None:
    first = [(f"Other {n}", f"id-o{n}") for n in range(100)]
    second = [("Search", "id-search"), ("Login", "id-login-2")]
    api = FakeApi([STARTED], [cases_page(first, 0, 102), cases_page(second, 100, 102)])
    started(api, {"pln_x": Selection(KNOWN, (0, 2))})
    assert api.pages() == [{"limit": "100", "offset": "0"}, {"limit": "100", "offset": "100"}]
    assert api.bodies()[0] == {
        "trigger": "API", "testPlanShortId": "pln_x", "testCaseIds": ["id-login", "id-search"],
    }  # fmt: skip


@pytest.mark.parametrize(
    "pages",
    [
        [cases_page([("Search", "a"), ("Search", "b")], 0, 2)],
        [cases_page([("Elsewhere", "a")], 0, 1)],
        [FinalError("HTTP 500 Internal Server Error", http_status=500)],
        [cases_page([], 5, 0)],
    ],
    ids=["a name two test cases share", "not there", "a listing that fails", "one that lies"],
)
def test_a_case_whose_id_cannot_be_had_runs_the_whole_plan(pages: list[object]) -> None:
    api = FakeApi([STARTED], pages)
    starts = started(api, {"pln_x": Selection(KNOWN, (2,))})
    assert api.bodies() == [{"trigger": "API", "testPlanShortId": "pln_x"}]
    assert starts.choices == (Choice("pln_x", None, 1, 3, ("Search",)),)


def test_a_listing_that_fails_says_why_and_its_reads_are_retried_as_reads() -> None:
    busy = TransientError("HTTP 503 Service Unavailable")
    api = FakeApi([STARTED], [busy, busy, busy])
    starts = started(api, {"pln_x": Selection(KNOWN, (2,))})
    assert len(api.pages()) == 3
    assert starts.lookup_problem == (
        "GET https://api.qa.tech/v1/test-cases failed 3 times; the last: HTTP 503 Service "
        "Unavailable"
    )


def test_a_listing_that_never_ends_is_read_at_most_fifty_pages() -> None:
    endless = [cases_page([(f"c{p}-{n}", f"i{p}-{n}") for n in range(100)], p * 100, 10**9)
               for p in range(60)]  # fmt: skip
    api = FakeApi([STARTED], endless)
    started(api, {"pln_x": Selection(KNOWN, (2,))})
    assert len(api.pages()) == 50


def test_narrowing_is_on_unless_the_whole_plan_is_asked_for() -> None:
    def narrow(cli: dict[str, object]) -> bool:
        lookup = Lookup(cli.get, lambda name: "", {"QATECH_API_TOKEN": "t0k3n-x"})
        spec = resolve({"qatech": []}, lookup).start
        assert spec is not None
        return spec.narrow

    assert narrow({"qatech_plan": ["pln_x"]}) is True
    assert narrow({"qatech_plan": ["pln_x"], "qatech_whole_plan": True}) is False


REFUSED = FinalError("HTTP 400 Bad Request: Test case id-checkout is not in the plan", 400)
NARROWED = {"trigger": "API", "testPlanShortId": "pln_x", "testCaseIds": ["id-checkout"]}


@pytest.mark.parametrize(
    ("listed", "restarted", "gone"),
    [
        ([("Checkout", "id-new"), ("Login", "id-login")], ["id-new"], ()),
        ([("Login", "id-login")], None, ("Checkout",)),
        ([("Checkout", "id-checkout")], None, ()),
    ],
    ids=["a stale id", "a case gone from the project", "nothing new"],
)
def test_a_narrowed_start_refused_unread_is_sent_again_only_for_what_the_project_still_has(
    listed: list[tuple[str, str]], restarted: list[str] | None, gone: tuple[str, ...]
) -> None:
    api = FakeApi([REFUSED, STARTED], [cases_page(listed, 0, len(listed))])
    starts = started(api, {"pln_x": Selection(KNOWN, (1,))})
    again = [{**NARROWED, "testCaseIds": restarted}] if restarted else []
    # Never the whole plan: a run of it might report none of what was selected.
    assert api.bodies() == [NARROWED, *again]
    (choice,) = starts.choices
    assert choice.refused is not None
    assert choice.refused.startswith("POST https://api.qa.tech/v1/run failed: HTTP 400")
    assert (choice.case_ids, choice.gone) == (tuple(restarted or ()), gone)
    assert [run.run_id for run in starts.started] == (["def456"] if restarted else [])


def test_a_refused_start_whose_recheck_fails_starts_nothing_and_says_why() -> None:
    api = FakeApi([REFUSED, STARTED], [FinalError("HTTP 403 Forbidden", http_status=403)])
    starts = started(api, {"pln_x": Selection(KNOWN, (1,))})
    assert api.bodies() == [NARROWED]
    (choice,) = starts.choices
    assert choice.recheck is not None
    assert choice.recheck.startswith("GET https://api.qa.tech/v1/test-cases failed: HTTP 403")
    assert choice.case_ids == ()
    assert starts.started == ()


@pytest.mark.parametrize(
    "answer",
    [
        FinalError("HTTP 402 Payment Required", 402),
        TransientError("HTTP 503 Service Unavailable", http_status=503),
    ],
    ids=["another refusal", "one that may have started a run"],
)
def test_no_other_failure_of_a_narrowed_start_is_sent_again(answer: Exception) -> None:
    api = FakeApi([answer, STARTED])
    starts = started(api, {"pln_x": Selection(KNOWN, (1,))})
    assert len(api.bodies()) == 1
    assert starts.started == ()


def test_a_narrowed_run_adds_a_case_the_plan_gained_at_the_end() -> None:
    after = learnt("pln_x", KNOWN, run(case("Brand new", "id-new")), whole=False, seen="later")
    assert after.cases[-1] == KnownCase("Brand new", "id-new")
    assert len(after.cases) == 4


def test_a_name_no_test_case_has_starts_nothing_and_offers_the_closest() -> None:
    api = FakeApi([STARTED], [cases_page([("Checkout flow", "a"), ("Signup", "b")], 0, 2)])
    starts = started(api, {"pln_x": Selection(KNOWN, (0, 1, 2), ("Chekout",))})
    assert api.bodies() == []
    assert (starts.started, starts.settings.start) == ((), plans("pln_x").start)
    assert starts.unknown == (
        "not found: qatech::pln_x::Chekout (no case of test plan pln_x, nor any test case of "
        "the project, has this name; the closest: 'Checkout', 'Checkout flow'): nothing was "
        "started",
    )


def test_a_name_the_project_has_starts_the_whole_plan() -> None:
    api = FakeApi([STARTED], [cases_page([("Brand new", "a")], 0, 1)])
    starts = started(api, {"pln_x": Selection(KNOWN, (0, 1, 2), ("Brand new",))})
    assert api.bodies() == [{"trigger": "API", "testPlanShortId": "pln_x"}]
    assert starts.unknown == ()


def test_a_name_that_cannot_be_looked_up_starts_the_whole_plan_and_says_why() -> None:
    api = FakeApi([STARTED], [FinalError("HTTP 403 Forbidden", http_status=403)])
    starts = started(api, {"pln_x": Selection(KNOWN, (0, 1, 2), ("Brand new",))})
    assert api.bodies() == [{"trigger": "API", "testPlanShortId": "pln_x"}]
    assert starts.lookup_problem is not None


def test_a_name_far_from_every_other_is_not_found_without_a_suggestion() -> None:
    assert not_found("pln_x", "Zzz", ["Login", "Checkout"]) == (
        "not found: qatech::pln_x::Zzz (no case of test plan pln_x, nor any test case of the "
        "project, has this name): nothing was started"
    )


def test_a_plan_that_starts_nothing_does_not_stop_the_next_plan_s_start() -> None:
    other = PlanCases("pln_a", (KnownCase("Login", "id-login"), KnownCase("Pay", "id-pay")),
                      "run1", "2026-12-03T10:00:00+00:00")  # fmt: skip
    cases: list[tuple[Selection, list[object], list[object]]] = [
        (Selection(other, ()), [STARTED], []),  # selected none of it
        (Selection(other, (1,)), [REFUSED, STARTED], [cases_page([("Login", "i")], 0, 1)]),
    ]
    for first, posts, pages in cases:
        api = FakeApi(posts, pages)
        settings = plans("pln_a", "pln_x")
        selections = {"pln_a": first, "pln_x": Selection(KNOWN, (0, 1, 2))}
        starts = start_runs(settings, selections, client=api, clock=FakeClock())
        assert api.bodies()[-1] == {"trigger": "API", "testPlanShortId": "pln_x"}
        assert [run.run_id for run in starts.started] == ["def456"]


def test_a_restart_refused_in_turn_says_why_with_its_hint() -> None:
    limit = FinalError("HTTP 402 Payment Required", 402)
    api = FakeApi([REFUSED, limit], [cases_page([("Checkout", "id-new")], 0, 1)])
    starts = started(api, {"pln_x": Selection(KNOWN, (1,))})
    (failed,) = starts.failed
    assert "hint: the QA.tech organisation's usage limit is reached" in failed.message


def test_the_project_s_test_cases_stand_in_for_a_plan_s_unknown_ones() -> None:
    listed = {"Login": ["a"], "Search": ["b", "b"], "Shared": ["c", "d"]}
    assert stand_in("pln_x", listed) == PlanCases(
        "pln_x", (KnownCase("Login", "a"), KnownCase("Search", "b"), KnownCase("Shared")), "", ""
    )


def test_the_project_s_test_cases_are_read_to_the_end_through_the_start_s_client() -> None:
    api = FakeApi([], [cases_page([("Login", "a")], 0, 2), cases_page([("Pay", "b")], 1, 2)])
    listed, problem = project_test_cases(plans("pln_x"), client=api, clock=FakeClock())
    assert (listed, problem) == ({"Login": ["a"], "Pay": ["b"]}, None)
    assert api.pages() == [{"limit": "100", "offset": "0"}, {"limit": "100", "offset": "1"}]
    failing = FakeApi([], [FinalError("HTTP 403 Forbidden", http_status=403)])
    listed, problem = project_test_cases(plans("pln_x"), client=failing, clock=FakeClock())
    assert listed == {}
    assert problem is not None
    assert problem.startswith("GET https://api.qa.tech/v1/test-cases failed: HTTP 403 Forbidden")


def test_a_snapshot_of_some_places_keeps_their_keys_under_the_plan() -> None:
    snapshot = KNOWN.snapshot((0, 2))
    assert (snapshot.run_id, snapshot.label) == ("pln_x", "pln_x")
    assert [(case.key, case.name) for case in snapshot.cases or ()] == [
        ("#0", "Login"), ("#2", "Search"),
    ]  # fmt: skip


def test_at_most_three_close_names_are_offered() -> None:
    names = ["Checkout 1", "Checkout 2", "Checkout 3", "Checkout 4"]
    assert not_found("pln_x", "Checkout", names).count("'Checkout ") == 3


def test_reading_the_project_s_test_cases_is_said_and_retried_on_the_start_s_clock() -> None:
    busy = TransientError("HTTP 503 Service Unavailable", retry_after=2.0)
    heard, clock = RecordingListener(), FakeClock()
    api = FakeApi([], [busy, cases_page([("Login", "a")], 0, 1)])
    listed, problem = project_test_cases(
        plans("pln_x"), client=api, clock=clock, retry=RetryPolicy(max_attempts=2), say=heard
    )
    assert (listed, problem, clock.slept) == ({"Login": ["a"]}, None, [2.0])
    assert heard.lines[0] == "QA.tech note: reading the project's test cases"
    # Its retries are the policy it is given.
    once = FakeApi([], [busy, cases_page([("Login", "a")], 0, 1)])
    _, problem = project_test_cases(
        plans("pln_x"), client=once, clock=FakeClock(), retry=RetryPolicy(max_attempts=1)
    )
    assert problem is not None
