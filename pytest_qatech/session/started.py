"""Where the runs a session started are kept for later: a GitHub Actions step output and the
JUnit report's properties (the header names them too, :mod:`.terminal`)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest

from pytest_qatech.core.actions import write_run_outputs
from pytest_qatech.core.models import StartedRun
from pytest_qatech.core.rendering import RUN_PROPERTY, RUN_URL_PROPERTY


class StartedRuns:
    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self._environ = environ

    def pytest_qatech_runs_started(
        self, config: pytest.Config, runs: tuple[StartedRun, ...]
    ) -> None:
        write_run_outputs(self._environ, runs)
        from _pytest.junitxml import xml_key

        xml = config.stash.get(xml_key, None)
        if xml is not None:
            for run in runs:
                xml.add_global_property(RUN_PROPERTY, run.run_id)
                if run.url:
                    xml.add_global_property(RUN_URL_PROPERTY, run.url)
