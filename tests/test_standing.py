"""Where verdicts stand: quarantine entries, the record of earlier sessions' verdicts, and how
the run summary and the GitHub job summary show them."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from pytest_qatech.core import history
from pytest_qatech.core.github import step_summary
from pytest_qatech.core.history import Known, Standing
from pytest_qatech.core.lookup import SettingsError
from pytest_qatech.core.models import FinishedRun, Outcome
from pytest_qatech.core.quarantine import Quarantine, QuarantineEntry
from pytest_qatech.core.rendering import failure_properties, standing_lines
from pytest_qatech.core.standing import Excused, Failure, Standings, excuse

TODAY = datetime.date(2026, 12, 4)
DAY = datetime.timedelta(days=1)


def entry(nodeid: str, until: datetime.date = TODAY, reason: str = "why") -> QuarantineEntry:
    return QuarantineEntry(nodeid, until, reason)


def test_an_entry_is_a_node_id_a_last_day_and_a_reason() -> None:
    quarantine = Quarantine.parse(
        [
            "qatech::Checkout with saved card until 2027-01-15: flaky payment sandbox, see #123",
            "",
            "# a comment",
            "  qatech::Wait until loaded: or not until 2026-12-04:  the day itself still counts ",
        ],
        TODAY,
    )
    assert quarantine.entries == (
        QuarantineEntry(
            "qatech::Checkout with saved card",
            datetime.date(2027, 1, 15),
            "flaky payment sandbox, see #123",
        ),
        QuarantineEntry("qatech::Wait until loaded: or not", TODAY, "the day itself still counts"),
    )
    assert quarantine.expired == ()
    assert quarantine.entry_for("qatech::Wait until loaded: or not") == quarantine.entries[1]
    assert quarantine.entry_for("qatech::Checkout") is None
    assert quarantine.entries[0].platform == "qatech"


def test_an_entry_past_its_day_applies_no_more() -> None:
    quarantine = Quarantine.parse(["qatech::A until 2026-12-03: gone"], TODAY)
    assert quarantine.entries == ()
    assert quarantine.expired == (entry("qatech::A", TODAY - DAY, "gone"),)
    assert quarantine.entry_for("qatech::A") is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("qatech::A", "'qatech::A' is not an entry: expected NODE_ID until YYYY-MM-DD: reason"),
        ("qatech::A until 2027-01-15", "is not an entry"),
        ("qatech::A until 15/01/2027: r", "'15/01/2027' is not a date as YYYY-MM-DD"),
        ("qatech::A until 2027-02-30: r", "'2027-02-30' is not a date as YYYY-MM-DD"),
        ("qatech::A until 2027-1-5: r", "'2027-1-5' is not a date as YYYY-MM-DD"),
        ("qatech::A until next-week: r", "'next-week' is not a date"),
        ("qatech::A until 2027-01-15:  ", "'qatech::A until 2027-01-15:' gives no reason"),
    ],
)
def test_an_entry_that_cannot_be_read_is_a_usage_error(line: str, message: str) -> None:
    with pytest.raises(SettingsError, match=r"^qatech_quarantine: ") as raised:
        Quarantine.parse(["qatech::Fine until 2027-01-15: ok", line], TODAY)
    assert message in str(raised.value)


def test_a_quarantined_failure_is_skipped_with_its_date_reason_and_headline() -> None:
    reason = excuse(entry("qatech::A", reason="sandbox down"), Outcome.ERROR, "no verdict")
    assert reason == "quarantined until 2026-12-04: sandbox down (error: no verdict)"


def test_a_failure_is_new_unless_it_failed_last_time() -> None:
    assert history.known(None) is None
    assert history.known(Standing(False, TODAY, 1)) is None
    assert history.known(Standing(True, TODAY - 9 * DAY, 3)) == Known(TODAY - 9 * DAY, 4)


def test_the_record_keeps_each_streak() -> None:
    before = {
        "qatech::Known": Standing(True, TODAY - 5 * DAY, 2),
        "qatech::Fixed": Standing(True, TODAY - 5 * DAY, 2),
        "qatech::Unseen now": Standing(True, TODAY - 5 * DAY, 2),
        "qatech::Was green": Standing(False, TODAY - 5 * DAY, 1),
    }
    verdicts = [
        ("qatech::Known", True),
        ("qatech::Fixed", False),
        ("qatech::Was green", True),
        ("qatech::New", True),
    ]
    after = history.updated(before, verdicts, TODAY)
    assert after == {
        # Not reported now: as it was, and the oldest.
        "qatech::Unseen now": Standing(True, TODAY - 5 * DAY, 2),
        "qatech::Known": Standing(True, TODAY - 5 * DAY, 3),
        "qatech::Fixed": Standing(False, TODAY, 1),
        "qatech::Was green": Standing(True, TODAY, 1),
        "qatech::New": Standing(True, TODAY, 1),
    }
    assert next(iter(after)) == "qatech::Unseen now"
    assert history.fixed(before, verdicts) == ["qatech::Fixed"]


def test_the_record_is_bounded_keeping_the_tests_reported_last() -> None:
    before = {f"qatech::{n}": Standing(False, TODAY, 1) for n in range(5)}
    after = history.updated(before, [("qatech::0", True)], TODAY, most=3)
    assert list(after) == ["qatech::3", "qatech::4", "qatech::0"]
    # As the documentation says: the 5,000 tests reported most recently.
    many = history.updated({}, ((f"t{n}", False) for n in range(5007)), TODAY)
    assert len(many) == 5000
    assert "t6" not in many
    assert "t7" in many


def test_the_record_goes_through_json_unchanged() -> None:
    record = {"qatech::A": Standing(True, TODAY - DAY, 2), "qatech::B": Standing(False, TODAY, 1)}
    assert history.read(json.loads(json.dumps(history.written(record)))) == record


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"version": 2, "tests": {"a": [True, "2026-12-01", 1]}},
        {"version": 1},
        {"version": 1, "tests": []},
    ],
)
def test_a_record_not_as_written_is_forgotten(data: Any) -> None:
    assert history.read(data) == {}


@pytest.mark.parametrize(
    "fields",
    [
        [True, "2026-12-01"],
        ["yes", "2026-12-01", 1],
        [True, "yesterday", 1],
        [True, 20261201, 1],
        [True, "2026-12-01", 0],
        [True, "2026-12-01", True],
        [True, "2026-12-01", 1.5],
        {"failing": True},
    ],
)
def test_a_test_recorded_wrongly_is_forgotten_and_the_others_kept(fields: Any) -> None:
    data = {"version": 1, "tests": {"bad": fields, "good": [True, "2026-12-01", 2]}}
    assert history.read(data) == {"good": Standing(True, datetime.date(2026, 12, 1), 2)}


def test_a_failure_s_junit_properties() -> None:
    assert failure_properties(Failure("qatech::A", "h", None)) == (("new_failure", "true"),)
    known = Failure("qatech::A", "h", Known(datetime.date(2026, 11, 30), 3))
    assert failure_properties(known) == (
        ("failing_since", "2026-11-30"),
        ("failing_sessions", "3"),
    )


STANDINGS = Standings(
    failures=(
        Failure("qatech::New", "It broke", None),
        Failure("qatech::Old", "Still broken", Known(datetime.date(2026, 11, 30), 3)),
    ),
    fixed=("qatech::Mended",),
    quarantined=(
        Excused("qatech::Pay", Outcome.FAILED, "No pay button\nmore", entry("qatech::Pay")),
        Excused("qatech::Well", Outcome.PASSED, "", entry("qatech::Well", reason="was flaky")),
    ),
    expired=(entry("qatech::Past", TODAY - DAY),),
    unused=(entry("qatech::Nothing"),),
)


def test_the_run_summary_tells_new_failures_known_ones_fixed_and_quarantined() -> None:
    assert standing_lines(STANDINGS) == [
        "failures: 1 new, 1 failing before",
        "  new: qatech::New",
        "  failing since 2026-11-30 (3 sessions): qatech::Old",
        "fixed since the last session: 1",
        "  qatech::Mended",
        "quarantined: 2",
        "  qatech::Pay: failed, until 2026-12-04: why - No pay button",
        "  qatech::Well: passed, until 2026-12-04: was flaky - it passed: consider lifting its "
        "quarantine",
        "warning: the quarantine of qatech::Past ended on 2026-12-03: it applies no more",
        "warning: a quarantine entry matched no test of this session: qatech::Nothing until "
        "2026-12-04",
    ]


def test_without_earlier_verdicts_no_failure_is_called_new() -> None:
    forgetful = Standings(failures=STANDINGS.failures, remembered=False)
    assert standing_lines(forgetful) == []
    assert "Failures: new and known" not in step_summary([], [], standings=forgetful)


def test_the_job_summary_has_a_table_each() -> None:
    run = FinishedRun("qatech", "abc123", "COMPLETED", "FAILED", ())
    summary = step_summary([run], [], standings=STANDINGS)
    assert (
        "### Failures: new and known\n\n| test | |\n| --- | --- |\n| 🆕 `qatech::New` | new |\n"
        "| 🔁 `qatech::Old` | failing since 2026-11-30 (3 sessions) |\n\n"
        "### Fixed since the last session\n\n| test |\n| --- |\n| ✅ `qatech::Mended` |\n\n"
        "### Quarantined\n\n| test | verdict | until | reason |\n| --- | --- | --- | --- |\n"
        "| `qatech::Pay` | failed | 2026-12-04 | why |\n"
        "| `qatech::Well` | passed | 2026-12-04 | was flaky |\n"
        "| `qatech::Past` | expired | 2026-12-03 | why |\n"
        "| `qatech::Nothing` | matched nothing | 2026-12-04 | why |\n\n| run | status | cases |"
    ) in summary


def test_the_job_summary_s_tables_share_its_limit() -> None:
    run = FinishedRun("qatech", "abc123", "COMPLETED", "FAILED", ())
    many = Standings(fixed=tuple(f"qatech::Mended {n}" for n in range(50_000)))
    summary = step_summary([run], [], limit=20_000, standings=many)
    assert len(summary.encode()) <= 20_000
    assert "more, not shown" in summary
    assert summary.rstrip().endswith("| COMPLETED, FAILED | none |")
