"""Everyone who installs the plugin loads it; without --qatech-run it must change nothing."""

from __future__ import annotations

import json
import re

import pytest

from pytest_qatech.simulator import Simulator

from .helpers import mixed_run

PROBE = """
import json, sys

def pytest_sessionfinish(session):
    watched = ("pytest_qatech", "requests")
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in watched)
    with open("modules.json", "w") as out:
        json.dump(loaded, out)
"""


def test_no_request_and_no_heavy_import(simulator: Simulator, pytester: pytest.Pytester) -> None:
    simulator.add(mixed_run())
    pytester.makeconftest(PROBE)
    pytester.makepyfile("def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(passed=1)
    assert simulator.requests == []
    loaded = (pytester.path / "modules.json").read_text()
    # The entry module, the hook declarations and the options table: nothing that talks HTTP.
    assert json.loads(loaded) == [
        "pytest_qatech",
        "pytest_qatech.core",
        "pytest_qatech.core.options",
        "pytest_qatech.hooks",
        "pytest_qatech.plugin",
    ]


def test_output_is_unchanged(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_one():\n    pass\n\ndef test_two():\n    assert 0\n")

    def output(*args: str) -> list[str]:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
        lines = [re.sub(r" in \d+\.\d+s", "", line) for line in result.outlines]
        return [line for line in lines if not line.startswith(("plugins:", "running:", "     in:"))]

    with_plugin, without_plugin = output(), output("-p", "no:qatech")
    assert with_plugin == without_plugin
    assert any("1 failed, 1 passed" in line for line in with_plugin)


def test_the_marker_is_registered_even_when_inactive(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\n\n@pytest.mark.qatech\ndef test_tagged():\n    pass\n")
    result = pytester.runpytest_inprocess("--strict-markers", "-m", "qatech")
    result.assert_outcomes(passed=1)
