"""pytest entry point (``pytest11: qatech``): the options and markers, and activation when asked.

Imported by every pytest run of everyone who installs the package, so it imports only pytest and
the options table: without a ``--qatech-run``, ``--testvibe-run`` or ``--autonoma-run`` it adds
its options and its markers, and that is all. With one, :mod:`pytest_qatech.session` takes over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_qatech.core.options import (
    HANDOFF_KEY,
    PLATFORMS,
    QATECH,
    QATECH_PLAN,
    QATECH_START,
    SETTINGS,
    run_help,
)

if TYPE_CHECKING:
    from pytest_qatech.session import Activation

#: What a session that asked for remote runs has registered, until it is unconfigured.
ACTIVATION: pytest.StashKey[Activation] = pytest.StashKey()
REMOTE_MARKER = (
    "remote: a test case that ran on a remote testing platform (QA.tech, TestVibe, Autonoma)"
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_qatech import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    for platform in PLATFORMS:
        group = parser.getgroup(platform.name, f"{platform.title} remote test runs")
        group.addoption(
            platform.run_flag,
            action="append",
            default=[],
            metavar=platform.run_metavar,
            dest=platform.run_dest,
            help=run_help(platform),
        )
        for setting in SETTINGS:
            if setting.platform is not platform:
                continue
            if not setting.on_command_line:
                parser.addini(setting.name, setting.what, type="linelist", default=[])
                continue
            group.addoption(
                setting.flag, dest=setting.name, help=setting.help(), **setting.option()
            )
            if setting.ini:
                parser.addini(setting.name, setting.what, default="")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", REMOTE_MARKER)
    for platform in PLATFORMS:
        config.addinivalue_line(
            "markers",
            f"{platform.name}: a remote {platform.title} test (select with -m {platform.name} "
            f"or -m 'not {platform.name}')",
        )
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        # An xdist worker: its controller decided, and hands over all it needs. Its host may be
        # another machine, without the controller's environment or files.
        if HANDOFF_KEY in workerinput:
            from pytest_qatech.session import activate_worker

            config.stash[ACTIVATION] = activate_worker(config)
        return
    requested = {platform.name: list(config.getoption(platform.run_dest)) for platform in PLATFORMS}
    for more in config.hook.pytest_qatech_run_ids(config=config):
        requested[QATECH.name].extend(more or ())
    starts = config.getoption(QATECH_START.name) or config.getoption(QATECH_PLAN.name)
    if any(requested.values()) or starts:
        from pytest_qatech.session import activate

        config.stash[ACTIVATION] = activate(config, requested)


def pytest_unconfigure(config: pytest.Config) -> None:
    activation = config.stash.get(ACTIVATION, None)
    if activation is not None:
        del config.stash[ACTIVATION]
        activation.deactivate()
