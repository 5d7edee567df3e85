"""``qatech-junit``: wait for remote runs and write a JUnit file, for pipelines without pytest.

    qatech-junit SHORTID [SHORTID ...] -o report.xml
    qatech-junit --testvibe-run 214 --autonoma-run RUN_ID -o report.xml

The same core as the plugin, without pytest: the same options (command line, else
environment), credentials, waiting, retries and timeout, the same verdicts and names. Its exit
codes mean what pytest's do, so that a CI reads both tools alike:

    0  every remote test passed or was skipped
    1  a remote test failed or had no verdict, a run ended badly, or more cases were flaky
       than --qatech-max-flaky allows
    2  a run could not be read (API or network error, an unusable answer, --qatech-timeout
       passed), or interrupted (Ctrl-C)
    3  internal error: a bug in qatech-junit
    4  usage error: a missing credential, a bad option
    5  the runs reported no test case
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pytest_qatech.core import artifacts, reruns, surefire
from pytest_qatech.core.actions import is_github_actions, write_run_outputs
from pytest_qatech.core.events import hearing, learning
from pytest_qatech.core.github import skipped_notices
from pytest_qatech.core.lines import LiveLine, TerminalLines, header_line
from pytest_qatech.core.lookup import Lookup, SettingsError
from pytest_qatech.core.models import (
    FinishedRun,
    Outcome,
    RemoteCase,
    RunReport,
    RunSnapshot,
    SkippedSource,
    StartedRun,
    UnreadableRun,
    has_failure,
    tally,
)
from pytest_qatech.core.naming import SKIPPED_ITEM_NAME, groups, skipped_nodeid
from pytest_qatech.core.options import (
    AS_JUNIT,
    PLATFORMS,
    QATECH,
    SETTINGS,
    TIMEOUT,
    run_help,
    title_of,
)
from pytest_qatech.core.platforms import Settings, resolve
from pytest_qatech.core.rendering import (
    RUN_PROPERTY,
    RUN_URL_PROPERTY,
    Rendered,
    no_verdict,
    render_case,
    render_problem,
    skipped_reason,
    summary_lines,
)
from pytest_qatech.core.text import first_line, visible

#: pytest's exit codes (``pytest.ExitCode``), which this command means too.
PASSED, FAILED, INTERRUPTED, INTERNAL_ERROR, USAGE, NO_TESTS = 0, 1, 2, 3, 4, 5
PROG = "qatech-junit"
#: What this command's own lines start with.
PREFIX = f"{PROG}:"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # argparse exits 2, which here, as in pytest, means "interrupted".
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Wait for remote test runs (QA.tech, TestVibe, Autonoma) and write their "
        "test cases to a JUnit XML file, without pytest.",
        epilog="exit codes, as pytest's: 0 all passed, 1 a test failed, 2 a run could not be "
        f"read or did not end in time ({TIMEOUT.flag}), or Ctrl-C, 3 internal error, "
        "4 usage error, 5 no test case",
    )
    parser.add_argument(
        "short_ids", nargs="*", metavar=QATECH.run_metavar, help=run_help(QATECH, AS_JUNIT)
    )
    # The plugin's spelling too, which the errors name.
    parser.add_argument(
        QATECH.run_flag,
        dest=QATECH.run_dest,
        action="append",
        default=[],
        metavar=QATECH.run_metavar,
        help="the same as a SHORTID argument (repeatable)",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="REPORT", help="the JUnit XML file to write"
    )
    for platform in PLATFORMS:
        if platform is not QATECH:
            parser.add_argument(
                platform.run_flag,
                action="append",
                default=[],
                metavar=platform.run_metavar,
                help=run_help(platform, AS_JUNIT),
            )
    for setting in SETTINGS:
        if setting.standalone:
            # No ini file here: the command line, else the environment.
            flags = [setting.flag, *([setting.short_flag] if setting.short_flag else [])]
            parser.add_argument(
                *flags, dest=setting.name, help=setting.help(ini=False), **setting.option()
            )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    try:
        return _main(argv, environ)
    except Exception:  # a bug here: said as one, never taken for a test that failed (1)
        print(f"{PREFIX} internal error, please report it:", file=sys.stderr)
        traceback.print_exc()
        return INTERNAL_ERROR


def _main(argv: Sequence[str] | None, environ: Mapping[str, str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error
        return int(done.code or 0)
    environ = os.environ if environ is None else environ
    requested = {platform.name: getattr(args, platform.run_dest) for platform in PLATFORMS}
    requested[QATECH.name] = [*args.short_ids, *requested[QATECH.name]]
    if not any(requested.values()) and not (args.qatech_plan or args.qatech_start):
        print(f"{PREFIX} error: no run given, and none to start", file=sys.stderr)
        return USAGE
    try:
        settings = resolve(
            requested, Lookup(lambda name: getattr(args, name, None), _no_ini, environ)
        )
        output = _output(args.output)
    except SettingsError as error:
        print(f"{PREFIX} error: {error}", file=sys.stderr)
        return USAGE

    from pytest_qatech.core.interrupts import Interrupts

    interrupts = Interrupts()
    interrupts.install()
    try:
        return _wait_and_write(args, settings, output, environ)
    except KeyboardInterrupt:  # wherever it comes: before the wait, or while writing
        return INTERRUPTED
    finally:
        interrupts.uninstall()


def _wait_and_write(
    args: argparse.Namespace, settings: Settings, output: Path, environ: Mapping[str, str]
) -> int:
    from pytest_qatech.core.background import SharedRuns
    from pytest_qatech.core.starting import start_runs, started_lines
    from pytest_qatech.core.waiting import wait_for_sources

    live = None
    if sys.stdout.isatty():
        live = LiveLine(_write_now, shutil.get_terminal_size().columns)
    lines = TerminalLines(lambda line: print(line, flush=True), live, PREFIX)
    starts = start_runs(settings, say=lines)
    settings = starts.settings
    for line in started_lines(starts.started, PREFIX):
        print(line, flush=True)
    write_run_outputs(environ, starts.started)
    for skipped in settings.skipped:
        print(f"{PREFIX} {title_of(skipped.provider)}: {skipped_reason(skipped)}", flush=True)
    if is_github_actions(environ):
        for line in skipped_notices(settings.skipped):
            print(line, flush=True)
    for source in settings.sources:
        if source.run_ids:
            title = source.provider.title
            print(header_line(title, source.run_ids, source.api_url, PREFIX), flush=True)
    # Polls that list each run's cases, as the plugin's do: a case decided before its run timed
    # out keeps its verdict, and one without is an error, as the plugin reports them.
    shared = SharedRuns(settings.sources, starts.failed)
    began = time.monotonic()
    try:
        # What the wait learns goes to the shared runs; what it says, to the terminal at once.
        wait_for_sources(
            settings,
            say=hearing(learning(shared), lines),
            listing=True,
            wanted=shared.wanted,
            live_interval=lines.live_interval,
        )
    except KeyboardInterrupt:
        for said in shared.interrupted(time.monotonic() - began):
            lines(said)
        return INTERRUPTED
    runs = shared.runs()
    reports = [run.report for run in runs if run.report is not None]

    suites = _suites(runs) + _skipped_suites(settings.skipped)
    if settings.artifacts is not None:
        project = artifacts.project_folder(environ, Path.cwd())
        suites = _with_artifacts(suites, settings, project)
    try:
        with open(output, "w", encoding="utf-8") as report:
            _write(report, suites, starts.started)
    except OSError as error:
        print(f"{PREFIX} error: could not write {output}: {error}", file=sys.stderr)
        return USAGE
    _print_summary(suites, reports, args.output)
    flaky = [case.nodeid for suite in suites for case in suite.cases if case.flaky]
    too_flaky = reruns.too_flaky(flaky, settings.max_flaky)
    if too_flaky is not None:
        print(f"{PREFIX} {too_flaky}")
    code = exit_code(reports, skipped=bool(settings.skipped))
    return FAILED if too_flaky is not None and code == PASSED else code


def _output(path: str) -> Path:
    """Where the report goes, checked before anything is waited for: its folders are made, as
    pytest's ``--junitxml`` makes them; a folder, or a place no folder can be made, is refused."""
    output = Path(path)
    if output.is_dir():
        raise SettingsError(f"-o {path!r} is a folder: name the report's file")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError(f"-o {path!r}: cannot make its folder: {error}") from None
    return output


def _write_now(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _no_ini(name: str) -> str:
    return ""


def exit_code(reports: Sequence[RunReport], *, skipped: bool = False) -> int:
    """As pytest's for the same session: a run that could not be read (or did not finish in
    time) first, then a failure, then no test case at all (a platform ``skipped``, its
    credentials missing, is one skipped test case), else passed."""
    if any(isinstance(report, UnreadableRun) for report in reports):
        return INTERRUPTED
    finished = [report for report in reports if isinstance(report, FinishedRun)]
    if any(report.problem or has_failure(report.cases) for report in finished):
        return FAILED
    return PASSED if skipped or any(report.cases for report in finished) else NO_TESTS


@dataclass(frozen=True)
class _Case:
    """One testcase of the report, named and judged as the plugin does."""

    nodeid: str
    name: str
    outcome: Outcome
    rendered: Rendered
    duration: float | None = None
    #: The case as the platform reported it, and its run, when it has a verdict.
    verdict: RemoteCase | None = None
    run: RunSnapshot | None = None
    #: The lines that name its saved media (``--qatech-artifacts``).
    attachments: str = ""

    @property
    def flaky(self) -> bool:
        return self.verdict is not None and self.verdict.flaky

    def rerun_elements(self) -> surefire.RerunElements | None:
        """Its attempts as the report writes them, when it was rerun."""
        if self.verdict is None or self.run is None or not self.verdict.attempts:
            return None
        return surefire.rerun_elements(self.run.facts(), self.verdict, self.rendered)


@dataclass(frozen=True)
class _Suite:
    classname: str
    cases: list[_Case]
    runs: tuple[RunReport, ...]


def _suites(runs: Sequence[RunSnapshot]) -> list[_Suite]:
    suites = []
    for group in groups(runs):
        cases = []
        for entry in group.entries():
            if entry.case is None:
                assert entry.run.report is not None
                rendered = render_problem(entry.run.report)
                cases.append(_Case(entry.nodeid, entry.name, Outcome.ERROR, rendered))
                continue
            verdict = entry.case.verdict
            if verdict is None:
                headline = no_verdict(entry.run.report)
                rendered = render_case(entry.run.facts(), entry.case.without_verdict(headline))
                cases.append(_Case(entry.nodeid, entry.name, Outcome.ERROR, rendered))
            else:
                rendered = render_case(entry.run.facts(), verdict)
                cases.append(
                    _Case(
                        entry.nodeid,
                        entry.name,
                        verdict.outcome,
                        rendered,
                        verdict.duration,
                        verdict,
                        entry.run,
                    )
                )
        reports_of = tuple(run.report for run in group.runs if run.report is not None)
        suites.append(_Suite(group.classname, cases, reports_of))
    return suites


def _skipped_suites(skipped: Sequence[SkippedSource]) -> list[_Suite]:
    """A suite per platform whose runs were skipped, its credentials missing, of one skipped
    case, as the plugin reports it."""
    return [
        _Suite(
            source.provider,
            [
                _Case(
                    skipped_nodeid(source.provider),
                    SKIPPED_ITEM_NAME,
                    Outcome.SKIPPED,
                    Rendered(skipped_reason(source)),
                )
            ],
            (),
        )
        for source in skipped
    ]


def _with_artifacts(suites: list[_Suite], settings: Settings, project: Path) -> list[_Suite]:
    """The suites, each case that did not pass with its media saved and named."""
    store = artifacts.ArtifactStore.of(settings)
    try:
        pending = {
            id(case): store.keep_case(case.run.provider, case.run.run_id, case.verdict)
            for suite in suites
            for case in suite.cases
            if case.verdict is not None and case.run is not None
        }
        done = []
        for suite in suites:
            cases = []
            for case in suite.cases:
                saved = store.results(pending.get(id(case), []))
                for warning in artifacts.not_saved(saved, case.nodeid):
                    print(f"{PREFIX} warning: {warning}")
                lines = artifacts.attachment_lines(saved, project)
                cases.append(dataclasses.replace(case, attachments=lines) if lines else case)
            done.append(dataclasses.replace(suite, cases=cases))
        return done
    finally:
        store.close()


def _write(output: IO[str], suites: Sequence[_Suite], started: Sequence[StartedRun]) -> None:
    """The report, by junit-xml, with the facts the plugin's report has, named as it names them:
    each testcase's properties (which junit-xml cannot write, so they are added to its
    document), and the runs started as properties of their test suite."""
    import junit_xml

    started_urls = {run.run_id: run.url for run in started}
    properties: dict[str, str]
    junit_suites = []
    for suite in suites:
        test_cases = []
        for case in suite.cases:
            rendered = case.rendered
            out = "".join(f"----- {title} -----\n{text}\n" for title, text in rendered.sections)
            out += case.attachments
            test_case = junit_xml.TestCase(
                case.name,
                classname=suite.classname,
                elapsed_sec=case.duration or 0.0,
                stdout=visible(out) or None,
            )
            if case.outcome is Outcome.FAILED:
                test_case.add_failure_info(message=rendered.headline, output=rendered.text)
            elif case.outcome is Outcome.ERROR:
                test_case.add_error_info(message=rendered.headline, output=rendered.text)
            elif case.outcome is Outcome.SKIPPED:
                test_case.add_skipped_info(message=rendered.headline)
            test_cases.append(test_case)
        properties = {}
        for report in suite.runs:
            if report.run_id in started_urls:
                properties[RUN_PROPERTY] = report.run_id
                url = started_urls[report.run_id]
                if url:
                    properties[RUN_URL_PROPERTY] = url
        junit_suites.append(junit_xml.TestSuite(suite.classname, test_cases, properties=properties))
    document = ET.fromstring(junit_xml.to_xml_report_string(junit_suites, prettyprint=False))
    for suite_element, suite in zip(document.iter("testsuite"), suites, strict=True):
        for case_element, case in zip(suite_element.iter("testcase"), suite.cases, strict=True):
            if case.rendered.properties:
                properties_element = ET.Element("properties")
                for name, value in case.rendered.properties:
                    ET.SubElement(properties_element, "property", name=name, value=visible(value))
                case_element.insert(0, properties_element)
            # As pytest writes it (junit-xml leaves out a time of 0 and writes "%f").
            case_element.set("time", f"{case.duration or 0.0:.3f}")
            reruns = case.rerun_elements()
            if reruns is not None:
                case_element[:] = surefire.written(list(case_element), reruns)
    ET.indent(document)
    output.write('<?xml version="1.0" encoding="utf-8"?>\n')
    output.write(ET.tostring(document, encoding="unicode"))
    output.write("\n")


def _print_summary(
    suites: Sequence[_Suite],
    reports: Sequence[RunReport],
    output: str,
) -> None:
    everything = [case for suite in suites for case in suite.cases]
    for case in everything:
        if case.outcome.fails:
            kind = "FAILED" if case.outcome is Outcome.FAILED else "ERROR"
            print(f"{kind} {case.nodeid} - {first_line(case.rendered.headline)}")
    print("=" * 20 + " remote runs " + "=" * 20)
    for line in summary_lines(reports):
        print(line)
    counts = tally(case.outcome for case in everything) or "no tests"
    print(f"{PREFIX} {counts}; wrote {output}")


if __name__ == "__main__":
    sys.exit(main())
