"""The options table: every option, ini key, environment variable, default and credential, once.

pytest's entry point imports this module on every run to add the options, so it holds plain data
(named tuples, the cheapest typed records to define) and imports only what pytest has loaded
already. Reading a value (command line, else ini file, else environment, else the table's
default) and the checks every platform shares are in :mod:`~pytest_qatech.core.lookup`; what a
platform makes of its settings is in its provider, and a session's settings, resolved, are
:class:`~pytest_qatech.core.platforms.Settings`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Platform(NamedTuple):
    """A remote testing platform, as options, markers and node ids name it."""

    #: In node ids, markers and option names: ``qatech``.
    name: str
    #: As people write it: ``QA.tech``.
    title: str
    #: The metavar of ``--<name>-run``.
    run_metavar: str
    #: What ``--<name>-run`` names.
    run_what: str

    @property
    def run_flag(self) -> str:
        return f"--{self.name}-run"

    @property
    def run_dest(self) -> str:
        return f"{self.name}_run"


def run_label(title: str, run_id: str) -> str:
    """A run as people name it in every line about it: ``QA.tech run abc123``."""
    return f"{title} run {run_id}"


class Credential(NamedTuple):
    """A credential of a platform, read only from the environment: a command line shows up in
    process lists and CI logs. The first of ``variables`` that is set wins."""

    platform: Platform
    variables: tuple[str, ...]

    @property
    def names(self) -> str:
        """``QATECH_API_TOKEN (or QATECH_API_KEY)``."""
        first, *others = self.variables
        return first + "".join(f" (or {other})" for other in others)


class Setting(NamedTuple):
    """An option ``--a-b`` (dest ``a_b``), also read from the ini key ``a_b`` (unless not
    ``ini``) and, where named, from an environment variable."""

    platform: Platform
    name: str
    metavar: str
    what: str
    variable: str | None = None
    default: str | None = None
    #: The only values accepted, when there is such a list.
    choices: tuple[str, ...] = ()
    #: Whether ``qatech-junit`` takes it too; else only a pytest session does.
    standalone: bool = True
    #: How the command line takes it, as argparse names it: ``store`` (a value), ``append``
    #: (repeatable), ``store_true`` (a switch); or ``lines``: not at all, an ini file's line
    #: list only (a rule a line, as ``filterwarnings``).
    action: str = "store"
    #: Whether an ini file may set it: not for what costs money (starting runs).
    ini: bool = True
    #: ``qatech-junit``'s shorter spelling, beside the full flag.
    short_flag: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def on_command_line(self) -> bool:
        return self.action != "lines"

    def option(self) -> dict[str, Any]:
        """How argparse (and pytest's parser) takes it, besides its flag, dest and help."""
        if self.action == "store_true":
            return {"action": "store_true", "default": False}
        if self.action == "append":
            return {"action": "append", "default": [], "metavar": self.metavar}
        return {"metavar": self.metavar}

    def help(self, *, ini: bool = True) -> str:
        """The help text, naming the other sources a value may come from."""
        sources = [f"ini {self.name}"] if ini and self.ini else []
        sources += [f"env {self.variable}"] if self.variable else []
        sources += [f"default {self.default}"] if self.default else []
        return f"{self.what} ({', '.join(sources)})" if sources else self.what


QATECH = Platform(
    "qatech",
    "QA.tech",
    "SHORTID",
    "this QA.tech run",
)
TESTVIBE = Platform(
    "testvibe",
    "TestVibe",
    "RUNID",
    "this TestVibe run (a number)",
)
AUTONOMA = Platform(
    "autonoma",
    "Autonoma",
    "RUN_ID",
    "this Autonoma test run",
)
PLATFORMS = (QATECH, TESTVIBE, AUTONOMA)
_TITLES = {platform.name: platform.title for platform in PLATFORMS}


def title_of(provider: str) -> str:
    """How people write a platform, by its name (``qatech``: ``QA.tech``)."""
    return _TITLES[provider]


QATECH_TOKEN = Credential(QATECH, ("QATECH_API_TOKEN", "QATECH_API_KEY"))
TESTVIBE_KEY = Credential(TESTVIBE, ("TESTVIBE_API_KEY",))
AUTONOMA_CLIENT_ID = Credential(AUTONOMA, ("AUTONOMA_CLIENT_ID",))
AUTONOMA_CLIENT_SECRET = Credential(AUTONOMA, ("AUTONOMA_CLIENT_SECRET",))
CREDENTIALS = (QATECH_TOKEN, TESTVIBE_KEY, AUTONOMA_CLIENT_ID, AUTONOMA_CLIENT_SECRET)

QATECH_API_URL = Setting(
    QATECH, "qatech_api_url", "URL", "QA.tech API base URL", "QATECH_API_URL",
    "https://api.qa.tech",
)  # fmt: skip
QATECH_PROJECT = Setting(
    QATECH, "qatech_project", "SLUG",
    "QA.tech project slug, for links to each run's results page", "QATECH_PROJECT",
)  # fmt: skip
QATECH_DETAILS = Setting(
    QATECH, "qatech_details", "WHICH",
    "cases to read durations, error codes and links for: failed (failed, skipped and "
    "errored), all or none", "QATECH_DETAILS", "failed", choices=("failed", "all", "none"),
)  # fmt: skip
TRACE_STEPS = Setting(
    QATECH, "qatech_trace_steps", "N",
    "the most steps of a case that did not pass to read and show as its traceback (QA.tech's "
    "agent trace, Autonoma's steps): its first 25 and then its last; 0 for none",
    "QATECH_TRACE_STEPS", "100",
)  # fmt: skip
POLL_INTERVAL = Setting(
    QATECH, "qatech_poll_interval", "SECONDS",
    "seconds between status requests while a run is going, for every platform", default="10",
)  # fmt: skip
TIMEOUT = Setting(
    QATECH, "qatech_timeout", "SECONDS",
    "longest wait for all remote runs, in seconds; a run still going then is an error",
    default="3600",
)  # fmt: skip
ORDER = Setting(
    QATECH, "qatech_order", "ORDER",
    "when remote items run: last (after the local tests, while the remote runs finish) or "
    "collected (where collection and other plugins put them)", "QATECH_ORDER", "last",
    choices=("last", "collected"), standalone=False,
)  # fmt: skip
# Starting runs costs money: only a command line does it, never an ini file or the environment.
QATECH_PLAN = Setting(
    QATECH, "qatech_plan", "PLAN",
    "start a run of this QA.tech test plan (its short id, pln_...) and report it as "
    "--qatech-run does (repeatable; command line only)",
    action="append", ini=False, short_flag="--plan",
)  # fmt: skip
QATECH_START = Setting(
    QATECH, "qatech_start", "",
    "start a run of the QA.tech project's default test plan and report it as --qatech-run "
    "does (command line only)",
    action="store_true", ini=False, short_flag="--start",
)  # fmt: skip
WHOLE_PLAN = Setting(
    QATECH, "qatech_whole_plan", "",
    "start every case of each test plan that pytest's selection (-k, -m, --lf, --deselect, "
    "node ids) takes any case of, not only those it takes (command line only)",
    action="store_true", ini=False, standalone=False,
)  # fmt: skip
QATECH_APP_URL = Setting(
    QATECH, "qatech_app_url", "APP=URL",
    "in the runs started here, test application APP (its short id, app_...) at URL, a "
    "preview deployment say (repeatable; command line only)",
    action="append", ini=False, short_flag="--app-url",
)  # fmt: skip
RERUNS = Setting(
    QATECH, "qatech_reruns", "N",
    "rerun the failed cases of each QA.tech run up to N times; a case's verdict is its last "
    "attempt's, and one that failed and then passed is reported as flaky",
    default="0", short_flag="--reruns",
)  # fmt: skip
QUARANTINE = Setting(
    QATECH, "qatech_quarantine", "LINES",
    "remote cases whose failures and errors are reported as skipped until a date, one a line: "
    "NODE_ID until YYYY-MM-DD: reason (ini only)", standalone=False, action="lines",
)  # fmt: skip
MAX_FLAKY = Setting(
    QATECH, "qatech_max_flaky", "N",
    "fail the session (exit 1) when more than N cases are flaky: failed, then passed on a "
    "rerun (reruns hide flakiness; this shows it); unset: no limit",
)  # fmt: skip
RERUNS_ONLY = Setting(
    QATECH, "qatech_reruns_only", "WHICH",
    "which failed cases --qatech-reruns reruns: all (failed, skipped and errored) or "
    "execution (only those the agent or the platform failed to run: errorCode AGENT_* or "
    "PLATFORM_*, which need the cases' details)",
    default="all", choices=("all", "execution"),
)  # fmt: skip
ARTIFACTS = Setting(
    QATECH, "qatech_artifacts", "DIR",
    "save the screenshots and recordings of each failed or errored remote case, of every "
    "platform, under DIR/<platform>/<run>/<case>/", "QATECH_ARTIFACTS",
)  # fmt: skip
ARTIFACTS_MAX_MIB = Setting(
    QATECH, "qatech_artifacts_max_mib", "FILE,TOTAL",
    "the most MiB one saved artifact, and all of them, may take", "QATECH_ARTIFACTS_MAX_MIB",
    "50,500",
)  # fmt: skip
TESTVIBE_PROJECT = Setting(
    TESTVIBE, "testvibe_project", "ID", "TestVibe project's public id", "TESTVIBE_PROJECT"
)
TESTVIBE_SERVER = Setting(
    TESTVIBE, "testvibe_server", "URL", "TestVibe server URL", "TESTVIBE_SERVER"
)
MISSING_TOKEN = Setting(
    QATECH, "qatech_missing_token", "WHAT",
    "when a platform's credentials are not in the environment (a pull request from a fork): "
    "fail (a usage error) or skip (nothing is sent; the runs of each such platform are one "
    "skipped test naming the variable, and the local tests decide the exit code)",
    "QATECH_MISSING_TOKEN", "fail", choices=("fail", "skip"),
)  # fmt: skip
AUTONOMA_API_URL = Setting(
    AUTONOMA, "autonoma_api_url", "URL", "Autonoma API base URL", "AUTONOMA_API_URL",
    "https://autonoma.app/api",
)  # fmt: skip
SETTINGS = (
    QATECH_API_URL,
    QATECH_PROJECT,
    QATECH_DETAILS,
    TRACE_STEPS,
    POLL_INTERVAL,
    TIMEOUT,
    ORDER,
    QATECH_PLAN,
    QATECH_START,
    WHOLE_PLAN,
    QATECH_APP_URL,
    RERUNS,
    RERUNS_ONLY,
    QUARANTINE,
    MAX_FLAKY,
    ARTIFACTS,
    ARTIFACTS_MAX_MIB,
    MISSING_TOKEN,
    TESTVIBE_PROJECT,
    TESTVIBE_SERVER,
    AUTONOMA_API_URL,
)


#: The key under which an xdist controller hands its workers the runs (``workerinput``): a
#: worker takes part in a session's remote runs exactly when its controller handed it some.
HANDOFF_KEY = "qatech_runs"


#: What becomes of a run's cases, in each front end's help.
AS_PYTEST_ITEMS = "report its cases as pytest items"
AS_JUNIT = "write its cases to the JUnit file, without pytest"


def run_help(platform: Platform, reported: str = AS_PYTEST_ITEMS) -> str:
    """The help of ``--<platform>-run``: what it does and where its credentials come from."""
    names = " and ".join(c.names for c in CREDENTIALS if c.platform is platform)
    return (
        f"wait for {platform.run_what} and {reported} (repeatable; runs are waited for at the "
        f"same time). Credentials are read from the environment: {names}."
    )
