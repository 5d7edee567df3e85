"""pytest entry point (``pytest11: qatech``): options, and activation only when asked.

Imported by every pytest run of everyone who installs the package, so it imports nothing
beyond the standard library and pytest: without a ``--qatech-run``, ``--testvibe-run`` or
``--autonoma-run`` it adds its options and its markers, and that is all.
"""

from __future__ import annotations

import os

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


def pytest_addoption(parser: pytest.Parser) -> None:
    qatech = parser.getgroup("qatech", "QA.tech remote test runs")
    qatech.addoption(
        "--qatech-run",
        action="append",
        default=[],
        metavar="SHORTID",
        dest="qatech_run",
        help="wait for this QA.tech run and report its test cases as pytest items "
        "(repeatable; runs are waited for at the same time). "
        "The API token is read from QATECH_API_TOKEN (or QATECH_API_KEY).",
    )
    _setting(
        parser,
        qatech,
        "qatech_api_url",
        "URL",
        "QA.tech API base URL",
        variable="QATECH_API_URL",
        default="https://api.qa.tech",
    )
    _setting(
        parser,
        qatech,
        "qatech_project",
        "SLUG",
        "QA.tech project slug, for links to each run's results page",
        variable="QATECH_PROJECT",
    )
    _setting(
        parser,
        qatech,
        "qatech_poll_interval",
        "SECONDS",
        "seconds between status requests while a run is going, for every platform",
        default="10",
    )
    _setting(
        parser,
        qatech,
        "qatech_timeout",
        "SECONDS",
        "longest wait for all remote runs, in seconds; a run still going then is an error",
        default="3600",
    )

    testvibe = parser.getgroup("testvibe", "TestVibe remote test runs")
    testvibe.addoption(
        "--testvibe-run",
        action="append",
        default=[],
        metavar="RUNID",
        dest="testvibe_run",
        help="wait for this TestVibe run (a number) and report its tests as pytest items "
        "(repeatable). The API key is read from TESTVIBE_API_KEY.",
    )
    _setting(
        parser,
        testvibe,
        "testvibe_project",
        "ID",
        "TestVibe project's public id",
        variable="TESTVIBE_PROJECT",
    )
    _setting(
        parser,
        testvibe,
        "testvibe_server",
        "URL",
        "TestVibe server URL",
        variable="TESTVIBE_SERVER",
    )

    autonoma = parser.getgroup("autonoma", "Autonoma remote test runs")
    autonoma.addoption(
        "--autonoma-run",
        action="append",
        default=[],
        metavar="RUN_ID",
        dest="autonoma_run",
        help="wait for this Autonoma test run and report it as a pytest item (repeatable). "
        "Credentials are read from AUTONOMA_CLIENT_ID and AUTONOMA_CLIENT_SECRET.",
    )
    _setting(
        parser,
        autonoma,
        "autonoma_api_url",
        "URL",
        "Autonoma API base URL",
        variable="AUTONOMA_API_URL",
        default="https://autonoma.app/api",
    )


def _setting(
    parser: pytest.Parser,
    group: pytest.OptionGroup,
    name: str,
    metavar: str,
    what: str,
    *,
    variable: str | None = None,
    default: str | None = None,
) -> None:
    """An option ``--a-b`` with the ini key ``a_b`` and, if named, an environment variable."""
    sources = ", ".join(
        part
        for part in (
            f"ini {name}",
            variable and f"env {variable}",
            default and f"default {default}",
        )
        if part
    )
    group.addoption(
        "--" + name.replace("_", "-"), metavar=metavar, dest=name, help=f"{what} ({sources})"
    )
    parser.addini(name, what, default="")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    requested: dict[str, list[str]] = {
        "qatech": list(config.getoption("qatech_run")),
        "testvibe": list(config.getoption("testvibe_run")),
        "autonoma": list(config.getoption("autonoma_run")),
    }
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
