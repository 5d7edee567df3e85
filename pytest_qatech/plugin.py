"""pytest entry point (``pytest11: qatech``): options, and activation only when asked.

Imported by every pytest run of everyone who installs the package, so it imports nothing
beyond the standard library and pytest: without a ``--qatech-run``, ``--testvibe-run`` or
``--autonoma-run`` it adds its options and its markers, and that is all.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import pytest

MARKERS = (
    "remote: a test case that ran on a remote testing platform (QA.tech, TestVibe, Autonoma)",
    "qatech: a remote QA.tech test case (select with -m qatech or -m 'not qatech')",
    "testvibe: a remote TestVibe test (select with -m testvibe)",
    "autonoma: a remote Autonoma test run (select with -m autonoma)",
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_qatech import hooks

    pluginmanager.add_hookspecs(hooks)


class Setting(NamedTuple):
    """An option ``--a-b`` (dest ``a_b``) that may also come from the ini key ``a_b`` and, if
    named, an environment variable. Shared with the ``qatech-junit`` command."""

    platform: str
    name: str
    metavar: str
    what: str
    variable: str | None = None
    default: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def help(self) -> str:
        sources = [f"ini {self.name}"]
        sources += [f"env {self.variable}"] if self.variable else []
        sources += [f"default {self.default}"] if self.default else []
        return f"{self.what} ({', '.join(sources)})"


#: Per platform: its title, its run option's metavar and help.
PLATFORMS = {
    "qatech": (
        "QA.tech",
        "SHORTID",
        "wait for this QA.tech run and report its test cases as pytest items (repeatable; "
        "runs are waited for at the same time). The API token is read from QATECH_API_TOKEN "
        "(or QATECH_API_KEY).",
    ),
    "testvibe": (
        "TestVibe",
        "RUNID",
        "wait for this TestVibe run (a number) and report its tests as pytest items "
        "(repeatable). The API key is read from TESTVIBE_API_KEY.",
    ),
    "autonoma": (
        "Autonoma",
        "RUN_ID",
        "wait for this Autonoma test run and report it as a pytest item (repeatable). "
        "Credentials are read from AUTONOMA_CLIENT_ID and AUTONOMA_CLIENT_SECRET.",
    ),
}

SETTINGS = (
    Setting("qatech", "qatech_api_url", "URL", "QA.tech API base URL", "QATECH_API_URL",
            "https://api.qa.tech"),
    Setting("qatech", "qatech_project", "SLUG",
            "QA.tech project slug, for links to each run's results page", "QATECH_PROJECT"),
    Setting("qatech", "qatech_details", "WHICH",
            "cases to read durations, error codes and links for: failed (failed, skipped "
            "and errored), all or none", "QATECH_DETAILS", "failed"),
    Setting("qatech", "qatech_poll_interval", "SECONDS",
            "seconds between status requests while a run is going, for every platform",
            default="10"),
    Setting("qatech", "qatech_timeout", "SECONDS",
            "longest wait for all remote runs, in seconds; a run still going then is an error",
            default="3600"),
    Setting("testvibe", "testvibe_project", "ID", "TestVibe project's public id",
            "TESTVIBE_PROJECT"),
    Setting("testvibe", "testvibe_server", "URL", "TestVibe server URL", "TESTVIBE_SERVER"),
    Setting("autonoma", "autonoma_api_url", "URL", "Autonoma API base URL", "AUTONOMA_API_URL",
            "https://autonoma.app/api"),
)  # fmt: skip


def pytest_addoption(parser: pytest.Parser) -> None:
    for platform, (title, metavar, help) in PLATFORMS.items():
        group = parser.getgroup(platform, f"{title} remote test runs")
        group.addoption(
            f"--{platform}-run",
            action="append",
            default=[],
            metavar=metavar,
            dest=f"{platform}_run",
            help=help,
        )
        for setting in SETTINGS:
            if setting.platform == platform:
                group.addoption(
                    setting.flag, metavar=setting.metavar, dest=setting.name, help=setting.help
                )
                parser.addini(setting.name, setting.what, default="")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    requested = {platform: list(config.getoption(f"{platform}_run")) for platform in PLATFORMS}
    for more in config.hook.pytest_qatech_run_ids(config=config):
        requested["qatech"].extend(more or ())
    if not any(requested.values()):
        return

    from pytest_qatech import settings as settings_module
    from pytest_qatech.session import SETTINGS_KEY, RemoteRunsPlugin, XdistControllerPlugin

    lookup = settings_module.Lookup(
        config.getoption, lambda name: str(config.getini(name)), os.environ
    )
    try:
        settings = settings_module.resolve(requested, lookup)
    except settings_module.SettingsError as error:
        raise pytest.UsageError(str(error)) from None

    config.stash[SETTINGS_KEY] = settings
    runs = RemoteRunsPlugin(config, settings)
    config.pluginmanager.register(runs, "qatech-runs")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistControllerPlugin(runs), "qatech-xdist-controller")
