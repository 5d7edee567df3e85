"""``qatech-junit``: wait for remote runs and write a JUnit file, for pipelines without pytest.

    qatech-junit SHORTID [SHORTID ...] -o report.xml
    qatech-junit --testvibe-run 214 --autonoma-run RUN_ID -o report.xml

The same core as the plugin: the same options (command line, else environment), credentials,
waiting, retries and timeout, the same verdicts and item names. Exit codes:

    0  every remote test passed or was skipped
    1  a remote test failed or had no verdict, or a run ended badly
    2  a run could not be read (API or network error, an unusable answer)
    3  a run did not finish before --qatech-timeout
    4  usage error (as pytest's): a missing credential, a bad option
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

from pytest_qatech import reporting
from pytest_qatech.items import RUN_ITEM_NAME, item_names, run_groups, tally_sentence
from pytest_qatech.models import (
    FinishedRun,
    Outcome,
    RemoteCase,
    RunReport,
    UnreadableRun,
    has_failure,
    tally,
)
from pytest_qatech.plugin import PLATFORMS, SETTINGS
from pytest_qatech.settings import Lookup, SettingsError, resolve

PASSED, FAILED, UNREADABLE, TIMED_OUT, USAGE, INTERRUPTED = 0, 1, 2, 3, 4, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        # argparse exits 2, which here means "a run could not be read".
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qatech-junit",
        description="Wait for remote test runs (QA.tech, TestVibe, Autonoma) and write their "
        "test cases to a JUnit XML file.",
        epilog="exit codes: 0 all passed, 1 a test failed, 2 a run could not be read, "
        "3 timed out, 4 usage error",
    )
    parser.add_argument("qatech_run", nargs="*", metavar="SHORTID", help=PLATFORMS["qatech"][2])
    parser.add_argument(
        "-o", "--output", required=True, metavar="REPORT", help="the JUnit XML file to write"
    )
    for platform, (_, metavar, help) in PLATFORMS.items():
        if platform != "qatech":
            parser.add_argument(
                f"--{platform}-run", action="append", default=[], metavar=metavar, help=help
            )
    for setting in SETTINGS:
        parser.add_argument(setting.flag, metavar=setting.metavar, help=setting.help)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error
        return int(done.code or 0)
    environ = os.environ if environ is None else environ
    requested = {platform: getattr(args, f"{platform}_run") for platform in PLATFORMS}
    if not any(requested.values()):
        print("qatech-junit: error: no run given", file=sys.stderr)
        return USAGE
    try:
        settings = resolve(requested, Lookup(lambda name: getattr(args, name), _no_ini, environ))
    except SettingsError as error:
        print(f"qatech-junit: error: {error}", file=sys.stderr)
        return USAGE

    from pytest_qatech.waiting import wait_for_sources

    for source in settings.sources:
        title = source.provider.title
        print(reporting.header_line(title, source.run_ids, source.api_url), flush=True)
    live = None
    if sys.stdout.isatty():
        live = reporting.LiveLine(_write_now, shutil.get_terminal_size().columns)
    observer = reporting.TerminalObserver(lambda line: print(line, flush=True), live)
    try:
        reports = wait_for_sources(
            settings.sources,
            poll_interval=settings.poll_interval,
            timeout=settings.timeout,
            observer=observer,
        )
    except KeyboardInterrupt:
        return INTERRUPTED

    suites = _suites(reports)
    with open(args.output, "w", encoding="utf-8") as output:
        _write(output, suites)
    _print_summary(suites, settings.titles, reports, args.output)
    return exit_code(reports)


def _write_now(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _no_ini(name: str) -> str:
    return ""


def exit_code(reports: Sequence[RunReport]) -> int:
    """The worst of the runs: unreadable, then timed out, then a failure, else passed."""
    unreadable = [report for report in reports if isinstance(report, UnreadableRun)]
    if any(not report.timed_out for report in unreadable):
        return UNREADABLE
    if unreadable:
        return TIMED_OUT
    for report in reports:
        assert isinstance(report, FinishedRun)
        if report.problem or has_failure(report.cases):
            return FAILED
    return PASSED


class _Case:
    """One testcase of the report, as pytest would have named and judged it."""

    def __init__(
        self,
        nodeid: str,
        name: str,
        outcome: Outcome,
        headline: str = "",
        details: str = "",
        case: RemoteCase | None = None,
    ) -> None:
        self.nodeid = nodeid
        self.name = name
        self.outcome = outcome
        self.headline = reporting.visible(headline)
        self.details = reporting.visible(details)
        self.case = case


def _suites(reports: Sequence[RunReport]) -> list[tuple[str, list[_Case], list[RunReport]]]:
    """(classname, cases, runs) per collector, as the plugin lays out its nodes."""
    suites = []
    for provider, collector, members in run_groups(reports):
        prefix = f"{provider}::{collector}"
        cases: list[_Case] = []
        finished = [report for report in members if isinstance(report, FinishedRun)]
        for report in members:
            if isinstance(report, UnreadableRun):
                cases.append(
                    _Case(
                        f"{prefix}::{RUN_ITEM_NAME}", RUN_ITEM_NAME, Outcome.ERROR, report.message
                    )
                )
        named_cases, named_problems = item_names(finished, collector)
        for name, _, case in named_cases:
            cases.append(
                _Case(f"{prefix}::{name}", name, case.outcome, case.headline, case.details, case)
            )
        for name, run in named_problems:
            assert run.problem is not None
            cases.append(
                _Case(f"{prefix}::{name}", name, Outcome.ERROR, run.problem, tally_sentence(run))
            )
        suites.append((f"{provider}.{collector}", cases, list(members)))
    return suites


def _write(output: IO[str], suites: Sequence[tuple[str, list[_Case], list[RunReport]]]) -> None:
    import junit_xml

    junit_suites = []
    for classname, cases, runs in suites:
        test_cases = []
        for case in cases:
            remote = case.case or RemoteCase(case.name, case.outcome)
            # junit-xml has no testcase properties: they go to system-out, with the sections.
            out = "".join(f"{key}: {value}\n" for key, value in remote.properties)
            out += "".join(f"----- {title} -----\n{text}\n" for title, text in remote.sections)
            test_case = junit_xml.TestCase(
                case.name,
                classname=classname,
                elapsed_sec=remote.duration or 0.0,
                stdout=reporting.visible(out) or None,
            )
            text = case.headline if not case.details else f"{case.headline}\n\n{case.details}"
            if case.outcome is Outcome.FAILED:
                test_case.add_failure_info(message=case.headline, output=text)
            elif case.outcome is Outcome.ERROR:
                test_case.add_error_info(message=case.headline, output=text)
            elif case.outcome is Outcome.SKIPPED:
                test_case.add_skipped_info(message=case.headline)
            test_cases.append(test_case)
        properties = {}
        for report in runs:
            properties[f"{report.provider}_run"] = report.run_id
            if report.url:
                properties[f"run_url {report.run_id}"] = report.url
        junit_suites.append(junit_xml.TestSuite(classname, test_cases, properties=properties))
    junit_xml.to_xml_report_file(output, junit_suites, prettyprint=True, encoding="utf-8")


def _print_summary(
    suites: Sequence[tuple[str, list[_Case], list[RunReport]]],
    titles: Mapping[str, str],
    reports: Sequence[RunReport],
    output: str,
) -> None:
    everything = [case for _, cases, _ in suites for case in cases]
    for case in everything:
        if case.outcome in (Outcome.FAILED, Outcome.ERROR):
            kind = "FAILED" if case.outcome is Outcome.FAILED else "ERROR"
            headline = case.headline.strip().split("\n", 1)[0]
            print(f"{kind} {case.nodeid} - {headline}")
    print("=" * 20 + " remote runs " + "=" * 20)
    for line in reporting.summary_lines(titles, reports):
        print(line)
    counts = tally(case.outcome for case in everything) or "no tests"
    print(f"qatech-junit: {counts}; wrote {output}")


if __name__ == "__main__":
    sys.exit(main())
