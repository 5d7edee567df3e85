"""Node ids and JUnit classnames: safe, unique, and laid out the same by both front ends."""

from __future__ import annotations

from pytest_qatech.core.models import (
    FinishedRun,
    Link,
    Outcome,
    RemoteCase,
    RunReport,
    UnreadableRun,
)
from pytest_qatech.core.naming import display_name, groups, unique_names


def run(run_id: str, *names: str, group: str | None = None, **fields: object) -> FinishedRun:
    cases = tuple(RemoteCase(name, Outcome.PASSED) for name in names)
    return FinishedRun("autonoma", run_id, "passed", None, cases, group=group, **fields)  # type: ignore[arg-type]


def test_names_are_safe_and_unique() -> None:
    names = ["a[1]", "b::c", "", "", "dup", "dup", "line\nbreak\ttab", "x" * 300, "(run)", "é\x1b"]
    assert list(unique_names(names, reserved={"(run)"})) == [
        "a(1)",
        "b:c",
        "unnamed case",
        "unnamed case (2)",
        "dup",
        "dup (2)",
        "line break tab",
        "x" * 199 + "…",
        "(run) (2)",
        "é",
    ]


def test_a_folder_name_is_made_safe_too() -> None:
    assert display_name("team [eu] :: smoke") == "team (eu) : smoke"


def test_a_collector_per_run_or_per_group_of_runs() -> None:
    reports: list[RunReport] = [
        run("r1", "Sign in"),
        run("r2", "Sign in", group="f"),
        UnreadableRun("autonoma", "r9", "could not be read"),
        run("r3", "Sign in", group="f"),
    ]
    laid_out = [(g.nodeid, g.classname, [e.nodeid for e in g.entries()]) for g in groups(reports)]
    assert laid_out == [
        ("autonoma::r1", "autonoma.r1", ["autonoma::r1::Sign in"]),
        ("autonoma::f", "autonoma.f", ["autonoma::f::Sign in", "autonoma::f::Sign in (2)"]),
        ("autonoma::r9", "autonoma.r9", []),
    ]
    assert [len(g.unreadable) for g in groups(reports)] == [0, 0, 1]


def test_a_run_that_ended_badly_gets_an_entry_of_its_own() -> None:
    alone = run("r1", "(run)", "a", problem="ended ERROR")
    grouped = run("r2", "b", group="f", problem="ended ERROR")
    both: list[RunReport] = [alone, grouped]
    names = [[e.name for e in g.entries()] for g in groups(both)]
    assert names == [["(run) (2)", "a", "(run)"], ["b", "(run r2)"]]
    problem = groups([alone])[0].entries()[-1]
    assert (problem.case, problem.run) == (None, alone)


def test_a_chosen_name_is_made_safe_and_unique() -> None:
    (group,) = groups([run("r1", "a", "b")])
    entries = group.entries(lambda case, run_id: f"{run_id}::same")
    assert [e.name for e in entries] == ["r1:same", "r1:same (2)"]
    assert [e.case.name for e in entries if e.case] == ["a", "b"]


def test_an_entry_links_to_its_case_else_to_its_run() -> None:
    page = RemoteCase("a", Outcome.FAILED, links=(Link("case", "https://case"),))
    plain = RemoteCase("b", Outcome.FAILED)
    finished = FinishedRun("qatech", "r1", "COMPLETED", "FAILED", (page, plain), url="https://run")
    (group,) = groups([finished])
    assert [entry.link for entry in group.entries()] == ["https://case", "https://run"]
