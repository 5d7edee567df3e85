"""Node ids and JUnit classnames: safe, unique, and laid out the same by both front ends."""

from __future__ import annotations

from pytest_qatech.core.models import (
    FinishedRun,
    Listed,
    Outcome,
    RemoteCase,
    RunReport,
    RunSnapshot,
    UnreadableRun,
)
from pytest_qatech.core.naming import display_name, groups, unique_names


def run(run_id: str, *names: str, group: str | None = None, **fields: object) -> FinishedRun:
    cases = tuple(RemoteCase(name, Outcome.PASSED) for name in names)
    return FinishedRun("autonoma", run_id, "passed", None, cases, group=group, **fields)  # type: ignore[arg-type]


def ended(report: RunReport) -> RunSnapshot:
    return RunSnapshot.of(report)


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


def test_each_repeat_of_a_name_gets_the_next_free_number() -> None:
    names = ["dup", "dup", "dup (3)", "dup", "dup", "other"]
    assert list(unique_names(names, reserved={"dup (4)"})) == [
        "dup",
        "dup (2)",
        "dup (3)",
        "dup (5)",
        "dup (6)",
        "other",
    ]


def test_a_long_name_is_cut_to_200_characters_without_a_space_before_the_ellipsis() -> None:
    assert display_name("x" * 200) == "x" * 200
    assert display_name("x" * 198 + " " + "y" * 10) == "x" * 198 + "…"


def test_a_folder_name_is_made_safe_too() -> None:
    assert display_name("team [eu] :: smoke") == "team (eu) : smoke"


def test_a_collector_per_run_or_per_group_of_runs() -> None:
    runs = [
        ended(run("r1", "Sign in")),
        ended(run("r2", "Sign in", group="f")),
        ended(UnreadableRun("autonoma", "r9", "could not be read")),
        ended(run("r3", "Sign in", group="f")),
    ]
    laid_out = [(g.nodeid, g.classname, [e.nodeid for e in g.entries()]) for g in groups(runs)]
    assert laid_out == [
        ("autonoma::r1", "autonoma.r1", ["autonoma::r1::Sign in"]),
        ("autonoma::f", "autonoma.f", ["autonoma::f::Sign in", "autonoma::f::Sign in (2)"]),
        ("autonoma::r9", "autonoma.r9", ["autonoma::r9::(run)"]),
    ]
    assert [len(g.unreadable) for g in groups(runs)] == [0, 0, 1]


def test_a_run_that_could_not_be_read_is_never_in_its_folder() -> None:
    # Its folder was known from a listing before it became unreadable.
    lost = RunSnapshot(
        "autonoma", "r9", "running", "f", report=UnreadableRun("autonoma", "r9", "gone")
    )
    laid_out = [(g.nodeid, g.folder) for g in groups([ended(run("r2", "a", group="f")), lost])]
    assert laid_out == [("autonoma::f", True), ("autonoma::r9", False)]


def test_a_run_that_ended_badly_gets_an_entry_of_its_own() -> None:
    alone = run("r1", "(run)", "a", problem="ended ERROR")
    grouped = run("r2", "b", group="f", problem="ended ERROR")
    names = [[e.name for e in g.entries()] for g in groups([ended(alone), ended(grouped)])]
    assert names == [["(run) (2)", "a", "(run)"], ["b", "(run r2)"]]
    problem = groups([ended(alone)])[0].entries()[-1]
    assert problem.case is None
    assert problem.run.report == alone


def test_a_chosen_name_is_made_safe_and_unique() -> None:
    (group,) = groups([ended(run("r1", "a", "b"))])
    entries = group.entries(lambda case, run_id: f"{run_id}::same")
    assert [e.name for e in entries] == ["r1:same", "r1:same (2)"]
    assert [e.case.name for e in entries if e.case] == ["a", "b"]


def test_a_going_run_is_laid_out_as_far_as_it_is_listed() -> None:
    going = RunSnapshot("qatech", "r1", "RUNNING", cases=(Listed("tc1", "a"), Listed("tc2", "b")))
    unlisted = RunSnapshot("testvibe", "214", "running")
    laid_out = [[e.nodeid for e in g.entries()] for g in groups([going, unlisted])]
    assert laid_out == [["qatech::a", "qatech::b"], []]


def test_a_case_keeps_its_identity_from_one_run_to_the_next() -> None:
    def laid_out(*runs: RunSnapshot) -> list[tuple[str, list[str]]]:
        return [(g.classname, [e.nodeid for e in g.entries()]) for g in groups(runs)]

    def qatech(run_id: str, label: str | None = None) -> RunSnapshot:
        return RunSnapshot("qatech", run_id, cases=(Listed("tc1", "Login"),), label=label)

    # The only run of its platform: no run in the node id, whatever its short id.
    assert (
        laid_out(qatech("abc123")) == laid_out(qatech("def456")) == [("qatech", ["qatech::Login"])]
    )
    # Labelled runs (or the test plans of runs started here) go by their labels.
    assert laid_out(qatech("abc123", "staging"), qatech("abc124", "prod")) == [
        ("qatech.staging", ["qatech::staging::Login"]),
        ("qatech.prod", ["qatech::prod::Login"]),
    ]
    # Several runs without labels: told apart by their short ids, as ever unique.
    assert laid_out(qatech("abc123"), qatech("abc124"), qatech("abc125", "staging")) == [
        ("qatech.abc123", ["qatech::abc123::Login"]),
        ("qatech.abc124", ["qatech::abc124::Login"]),
        ("qatech.staging", ["qatech::staging::Login"]),
    ]


def test_what_comes_late_keeps_the_names_given_before() -> None:
    first = RunSnapshot(
        "qatech", "r1", "RUNNING", cases=(Listed("tc1", "same"), Listed("tc2", "b"))
    )
    earlier = groups([first])[0].entries()
    renamed = Listed("tc2", "renamed", RemoteCase("renamed", Outcome.PASSED, key="tc2"))
    late = Listed("tc3", "same", RemoteCase("same", Outcome.PASSED, key="tc3"))
    report = FinishedRun("qatech", "r1", "ERROR", None, (), problem="ended ERROR")
    kept = Listed("tc1", "same")
    final = RunSnapshot("qatech", "r1", "ERROR", cases=(kept, renamed, late), report=report)
    entries = groups([final])[0].entries(earlier=earlier)
    # The case known before keeps its item, whatever it is called now; the new one and the
    # run's problem are new items, named apart from the earlier ones.
    assert [(e.name, e.case.key if e.case else None) for e in entries] == [
        ("same (2)", "tc3"),
        ("(run)", None),
    ]
