"""Hooks a project's ``conftest.py`` can implement to shape remote runs (see conftest_example.py).

Registered at startup by :mod:`pytest_qatech.plugin`; this module only declares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_qatech.core.models import Listed, RunReport, StartedRun


@pytest.hookspec
def pytest_qatech_run_ids(config: pytest.Config) -> list[str] | None:
    """Run short ids to wait for, besides those given with ``--qatech-run``.

    For example read from a file that the CI step which started the run wrote. Every
    implementation is called; their ids are added in order, and repeats count once.
    """


@pytest.hookspec(firstresult=True)
def pytest_qatech_item_name(case: Listed, run_id: str) -> str | None:
    """The name of the pytest item for ``case`` (its node id's last part); None keeps the
    case's own name. The name is made safe and unique afterwards, like the case's own.

    Items are laid out while their run may still be going: ``case`` is the case as listed
    (``case.key``, ``case.name``), and ``case.verdict`` is set only if it was already decided.
    """


@pytest.hookspec
def pytest_qatech_modify_item(item: pytest.Item, case: Listed) -> None:
    """Adjust a remote item once it exists, for example add an xfail marker for a known issue.

    ``case`` is the case as listed when the item was made, as for ``pytest_qatech_item_name``.
    """


@pytest.hookspec
def pytest_qatech_run_finished(config: pytest.Config, run: RunReport) -> None:
    """Called once per run when its outcome is known (a finished run or one that could not be
    read), in the process that talks to the API, from its main thread, at the first moment the
    session looks (while it collects, waits for a remote verdict, or after the tests); for
    example to post to a chat. A session stopped early (``-x``, Ctrl-C) does not wait for the
    runs still going."""


@pytest.hookspec
def pytest_qatech_runs_started(config: pytest.Config, runs: tuple[StartedRun, ...]) -> None:
    """Called once, in the process that talks to the API, when ``--qatech-plan`` or
    ``--qatech-start`` have started ``runs`` (each with its short id and page), before
    collection; for example to tell a later CI job which runs to look at."""
