"""Results as people and JUnit read them, rendered once from the models' fields.

A case's words come from its platform (:meth:`~pytest_qatech.core.providers.base.Provider.
describe`); what every front end shows the same way (the run summary, a run's problem) is here.
Every remote text goes through :func:`~pytest_qatech.core.text.visible` on its way out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pytest_qatech.core import reruns
from pytest_qatech.core.models import (
    FinishedRun,
    Outcome,
    RemoteCase,
    RunFacts,
    RunReport,
    SkippedSource,
    Step,
    UnreadableRun,
)
from pytest_qatech.core.options import MISSING_TOKEN, run_label, title_of
from pytest_qatech.core.platforms import provider_class
from pytest_qatech.core.standing import Failure, Standings
from pytest_qatech.core.text import capped, counted, first_line, format_duration, visible

#: The JUnit report's properties (of a test suite) for each run started, in both front ends.
RUN_PROPERTY = "qatech_started_run"
RUN_URL_PROPERTY = "qatech_started_run_url"


#: How many characters of each text of a step are shown, unless nothing is to be cut.
STEP_TEXT_SHOWN = 500


@dataclass(frozen=True, slots=True)
class TraceStyle:
    """How much of a case's steps its failure shows, as pytest's ``--tb`` and ``-v`` decide
    how much of a traceback it shows."""

    #: Only the last this many steps (``--tb=short``); None: every step read.
    last: int | None = None
    #: Each text of a step cut at this many characters; None: nothing cut (``-vv``).
    width: int | None = STEP_TEXT_SHOWN


@dataclass(frozen=True, slots=True)
class Rendered:
    """What an item shows: the steps that led to it, a one-line headline, the text below it,
    its JUnit properties and further named texts."""

    headline: str
    details: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    sections: tuple[tuple[str, str], ...] = ()
    #: The case's steps, as a traceback's frames: the failing one last, next to the headline.
    trace: str = ""

    @property
    def text(self) -> str:
        return "\n\n".join(part for part in (self.trace, self.headline, self.details) if part)


def render_case(run: RunFacts, case: RemoteCase, style: TraceStyle | None = None) -> Rendered:
    description = provider_class(run.provider).describe(run, case)
    details = description.details
    if case.attempts and case.outcome is not Outcome.PASSED:
        details = "\n\n".join(part for part in (attempts_text(run, case), details) if part)
    trace = "" if case.outcome is Outcome.PASSED else trace_text(case, style or TraceStyle())
    return Rendered(
        visible(case.headline),
        visible(details),
        description.properties + attempt_properties(run, case),
        tuple((title, visible(text)) for title, text in description.sections),
        visible(trace),
    )


def trace_text(case: RemoteCase, style: TraceStyle) -> str:
    """``case``'s steps as a traceback shows frames, oldest first, with what was left out
    said where it was; empty when the platform was not asked for steps."""
    steps = case.steps
    if steps is None:
        return ""
    total = max(case.steps_total or 0, len(steps))
    if not steps:
        return "Steps: none reported" if not total else f"Steps: none of {total} could be read"
    shown = steps if style.last is None else steps[-style.last :]
    if len(shown) < len(steps):
        lines = [f"Steps: the last {len(shown)} of {total} (--tb=long shows every step read)"]
    else:
        lines = [f"Steps: {total}" if len(steps) == total else f"Steps: {len(steps)} of {total}"]
    following = shown[0].number if len(shown) < len(steps) else 1
    for step in shown:
        if step.number > following:
            lines.append(_left_out(following, step.number - 1))
        lines += _step_lines(step, total, style.width)
        following = step.number + 1
    if following <= total:
        lines.append(_left_out(following, total))
    return "\n".join(lines)


def _left_out(first: int, last: int) -> str:
    which = f"step {first}" if first == last else f"steps {first} to {last}"
    return f"  ... {which} not read ..."


def _step_lines(step: Step, total: int, width: int | None) -> list[str]:
    facts = [step.status] if step.status else []
    if step.duration is not None:
        facts.append(format_duration(step.duration))
    lines = [f"step {step.number} of {total}" + (f" ({', '.join(facts)})" if facts else "")]
    for label, text in (
        ("meant", step.intent),
        ("did", step.action),
        ("got", step.result),
        ("url", step.url),
        ("selector", step.selector),
        ("screenshot", step.screenshot),
    ):
        if text:
            indent = "\n" + " " * (len(label) + 6)
            lines.append(f"    {label}: {capped(text, width).replace(chr(10), indent)}")
    return lines


def attempt_run_ids(run: RunFacts, case: RemoteCase) -> list[str]:
    """The short id of the run of each attempt at ``case``, its last one included."""
    return [attempt.run_id for attempt in case.attempts] + [run.run_of(case)]


def attempt_lines(run: RunFacts, case: RemoteCase) -> list[str]:
    """Each attempt at ``case`` in a line, oldest first: its run, verdict and headline."""
    title = title_of(run.provider)
    verdicts = [(a.run_id, a.outcome, a.headline) for a in case.attempts]
    verdicts.append((run.run_of(case), case.outcome, case.headline))
    return [
        visible(
            f"{run_label(title, run_id)}: {outcome.value}"
            + (f": {first_line(headline)}" if headline else "")
        )
        for run_id, outcome, headline in verdicts
    ]


def attempts_text(run: RunFacts, case: RemoteCase) -> str:
    lines = attempt_lines(run, case)
    numbered = (f"  {number}. {line}" for number, line in enumerate(lines, 1))
    return "\n".join([f"{len(lines)} attempts:", *numbered])


def attempt_properties(run: RunFacts, case: RemoteCase) -> tuple[tuple[str, str], ...]:
    """JUnit properties of a case that was rerun: how many attempts, whether it is flaky, the
    first failure's headline and the run of each attempt."""
    if not case.attempts:
        return ()
    properties = [("attempts", str(len(case.attempts) + 1))]
    if case.flaky:
        properties.append(("flaky", "true"))
    first = case.first_failure
    if first is not None:
        properties.append(("first_failure", visible(first_line(first.headline))))
    properties += (
        (f"attempt_{number}_run_short_id", run_id)
        for number, run_id in enumerate(attempt_run_ids(run, case), 1)
    )
    return tuple(properties)


def unread(report: UnreadableRun) -> str:
    """What happened to a run whose outcome is not known, in a few words, for the summaries."""
    if report.start_of is not None:
        maybe = ", and one may have started all the same" if report.maybe_started else ""
        return f"starting a run of {report.start_of} failed{maybe}"
    return "did not finish in time" if report.timed_out else "could not be read"


def skipped_reason(source: SkippedSource) -> str:
    """Why a platform's runs were skipped, and which: the reason of its one skipped test, which
    its node id (``qatech::...``) puts under the platform's name."""
    what = [f"no run of {plan} started" for plan in source.starts]
    if source.run_ids:
        runs = "run" if len(source.run_ids) == 1 else "runs"
        what.insert(0, f"{runs} {', '.join(source.run_ids)} not waited for")
    return visible(f"{source.missing} not set: {'; '.join(what)} ({MISSING_TOKEN.flag} skip)")


def no_verdict(report: RunReport | None, failure: str | None = None) -> str:
    """The headline of a case that has no verdict and will get none: its run could not be read
    (or timed out), or the wait broke off (``failure``) or was stopped."""
    if isinstance(report, UnreadableRun):
        return f"no verdict: {report.message}"
    return f"no verdict: {failure or 'the wait for its run was stopped'}"


def render_problem(run: RunReport) -> Rendered:
    """The error that stands for a run that ended badly, or could not be read."""
    if isinstance(run, UnreadableRun):
        return Rendered(visible(run.message))
    assert run.problem is not None
    return Rendered(visible(run.problem), tally_sentence(run))


def case_link(run: RunFacts, case: RemoteCase | None) -> str | None:
    """Where a person sees a case: its page, else its run's."""
    page = case.link("case") if case is not None else None
    return page or run.url


def tally_sentence(run: FinishedRun) -> str:
    tally = run.tally()
    return f"The run reported {counted(len(run.cases), 'case')}" + (f": {tally}." if tally else ".")


def summary_lines(reports: Iterable[RunReport], *, errors_shown: bool = True) -> list[str]:
    """A line per run, then the flaky cases; a run's error is pointed to where ``errors_shown``
    (not under ``--tb=no``, where nothing is above)."""
    reports = list(reports)
    above = "; see the error above" if errors_shown else ""
    lines = []
    for report in reports:
        title = title_of(report.provider)
        run = run_label(title, report.run_id)
        if isinstance(report, FinishedRun):
            # Only QA.tech has a result beside the status; for the others the status says it.
            result = f", result {report.result}" if report.result is not None else ""
            line = f"{run}: {report.status}{result} - {report.tally() or 'no cases'}"
            if report.reruns:
                ids = ", ".join(rerun.run_id for rerun in report.reruns)
                line += f" (after {counted(len(report.reruns), 'rerun')}: {ids})"
        elif report.start_of is not None and not report.maybe_started:
            line = f"{title}: no run of {report.start_of} was started{above}"
        elif report.start_of is not None:
            line = f"{title}: {unread(report)}{above}"
        else:
            status = report.last_status or "unknown"
            line = f"{run}: {unread(report)} (last status {status}){above}"
        lines.append(visible(f"{line} - {report.url}" if report.url else line))
    flaky = reruns.flaky(reports)
    if flaky:
        lines.append(f"flaky (failed, then passed on a rerun): {len(flaky)}")
        lines += (f"  {visible(flaky_line(run, case))}" for run, case in flaky)
    return lines


def flaky_line(run: FinishedRun, case: RemoteCase) -> str:
    """A flaky case in a line: its name, its run, and its first failure."""
    first = case.first_failure
    assert first is not None
    where = run_label(title_of(run.provider), run.run_id)
    headline = first_line(first.headline)
    return f"{case.name} ({where}): {first.outcome.value} in {first.run_id}: {headline}"


def since_words(failure: Failure) -> str:
    """A failure as new or known, in a few words: ``new``, or ``failing since 2026-11-30
    (3 sessions)``."""
    if failure.known is None:
        return "new"
    return f"failing since {failure.known.since} ({counted(failure.known.sessions, 'session')})"


def failure_properties(failure: Failure) -> tuple[tuple[str, str], ...]:
    """A failure's JUnit properties: ``new_failure``, or ``failing_since`` and
    ``failing_sessions``."""
    if failure.known is None:
        return (("new_failure", "true"),)
    return (
        ("failing_since", failure.known.since.isoformat()),
        ("failing_sessions", str(failure.known.sessions)),
    )


def standing_lines(standings: Standings) -> list[str]:
    """The run summary's lines on the failures new and known, the tests fixed and the
    quarantine."""
    lines = []
    if standings.remembered and standings.failures:
        new = sum(failure.known is None for failure in standings.failures)
        lines.append(f"failures: {new} new, {len(standings.failures) - new} failing before")
        lines += (f"  {since_words(f)}: {f.nodeid}" for f in standings.failures)
    if standings.fixed:
        lines.append(f"fixed since the last session: {len(standings.fixed)}")
        lines += (f"  {nodeid}" for nodeid in standings.fixed)
    if standings.quarantined:
        lines.append(f"quarantined: {len(standings.quarantined)}")
        for excused in standings.quarantined:
            entry = excused.entry
            line = f"  {excused.nodeid}: {excused.outcome.value}, until {entry.until}: "
            if excused.outcome is Outcome.PASSED:
                line += f"{entry.reason} - it passed: consider lifting its quarantine"
            else:
                line += f"{entry.reason} - {first_line(excused.headline)}"
            lines.append(line)
    lines += (
        f"warning: the quarantine of {entry.nodeid} ended on {entry.until}: it applies no more"
        for entry in standings.expired
    )
    lines += (
        f"warning: a quarantine entry matched no test of this session: {entry.nodeid} until "
        f"{entry.until}"
        for entry in standings.unused
    )
    return [visible(line) for line in lines]
