"""The API token never shows: not in output, logs, reports, caches or reprs."""

from __future__ import annotations

import pytest

from pytest_qatech.simulator import Answer, SimulatedRun, Simulator, case

from .conftest import FAST, mixed_run

TOKEN = "qt-SECRET-7f3a9c1e"


@pytest.fixture
def token_simulator(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    simulator.token = TOKEN
    monkeypatch.setenv("QATECH_API_TOKEN", TOKEN)
    return simulator


@pytest.mark.parametrize("extra", [(), ("-n", "2")])
def test_token_appears_nowhere(
    token_simulator: Simulator, pytester: pytest.Pytester, extra: tuple[str, ...]
) -> None:
    token_simulator.add(
        mixed_run(),
        SimulatedRun("denied", answers={0: Answer(401, {"message": "Missing or invalid API key"})}),
        SimulatedRun("flaky", cases=[case("a")], answers={0: Answer(503, "down")}),
    )
    result = pytester.runpytest_subprocess(
        *FAST,
        *extra,
        "--qatech-run", "abc123", "--qatech-run", "denied", "--qatech-run", "flaky",
        "-vv", "--debug=debug.log", "--junitxml=report.xml", "--continue-on-collection-errors",
        "--log-level=DEBUG", "-rA",
    )  # fmt: skip
    result.stdout.fnmatch_lines(["*HTTP 503*trying again*", "*HTTP 401*"])
    assert all(request.authorized for request in token_simulator.requests[1:])

    places = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for path in pytester.path.rglob("*"):
        if path.is_file():
            places[str(path.relative_to(pytester.path))] = path.read_text(errors="replace")
    assert "debug.log" in places
    assert "report.xml" in places
    leaks = [place for place, text in places.items() if TOKEN in text]
    assert leaks == []
