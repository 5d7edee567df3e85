"""pytest entry point (``pytest11: qatech``): options, and activation only when asked.

Imported by every pytest run of everyone who installs the package, so it imports nothing
beyond the standard library and pytest: without ``--qatech-run`` it adds its options and its
marker, and that is all.
"""

from __future__ import annotations

import os

import pytest

MARKER = "qatech: a remote QA.tech test case (select with -m qatech or -m 'not qatech')"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_qatech import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qatech", "QA.tech remote test runs")
    group.addoption(
        "--qatech-run",
        action="append",
        default=[],
        metavar="SHORTID",
        dest="qatech_run",
        help="wait for this QA.tech run and report its test cases as pytest items "
        "(repeatable; runs are waited for at the same time). "
        "The API token is read from QATECH_API_TOKEN (or QATECH_API_KEY).",
    )
    group.addoption(
        "--qatech-api-url",
        metavar="URL",
        dest="qatech_api_url",
        help="QA.tech API base URL (ini qatech_api_url, env QATECH_API_URL; "
        "default https://api.qa.tech)",
    )
    group.addoption(
        "--qatech-poll-interval",
        type=float,
        metavar="SECONDS",
        dest="qatech_poll_interval",
        help="seconds between status requests while a run is going (ini qatech_poll_interval; "
        "default 10)",
    )
    group.addoption(
        "--qatech-timeout",
        type=float,
        metavar="SECONDS",
        dest="qatech_timeout",
        help="longest wait for all runs, in seconds; a run still going then is an error "
        "(ini qatech_timeout; default 3600)",
    )
    group.addoption(
        "--qatech-project",
        metavar="SLUG",
        dest="qatech_project",
        help="QA.tech project slug, for links to each run's results page "
        "(ini qatech_project, env QATECH_PROJECT)",
    )
    parser.addini("qatech_api_url", "QA.tech API base URL", default="")
    parser.addini("qatech_project", "QA.tech project slug, for dashboard links", default="")
    parser.addini("qatech_poll_interval", "seconds between QA.tech status requests", default="")
    parser.addini("qatech_timeout", "longest wait for QA.tech runs, in seconds", default="")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    run_ids: list[str] = list(config.getoption("qatech_run"))
    for more in config.hook.pytest_qatech_run_ids(config=config):
        run_ids.extend(more or ())
    if not run_ids:
        return

    from pytest_qatech import settings as settings_module
    from pytest_qatech.session import SETTINGS_KEY, RemoteRunsPlugin, XdistControllerPlugin

    def ini(name: str) -> str:
        return str(config.getini(name))

    try:
        settings = settings_module.resolve(
            run_ids=run_ids,
            cli={
                "api_url": config.getoption("qatech_api_url"),
                "poll_interval": config.getoption("qatech_poll_interval"),
                "timeout": config.getoption("qatech_timeout"),
                "project": config.getoption("qatech_project"),
            },
            ini=ini,
            environ=os.environ,
        )
    except settings_module.SettingsError as error:
        raise pytest.UsageError(str(error)) from None

    config.stash[SETTINGS_KEY] = settings
    runs = RemoteRunsPlugin(config, settings)
    config.pluginmanager.register(runs, "qatech-runs")
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistControllerPlugin(runs), "qatech-xdist-controller")
