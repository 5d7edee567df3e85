"""No credential ever shows: not in output, logs, reports, caches or reprs, on any platform."""

from __future__ import annotations

import pytest

from pytest_qatech.simulator import (
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    TESTVIBE_KEY,
    Answer,
    SimulatedAutonomaRun,
    SimulatedRun,
    SimulatedTestVibeRun,
    Simulator,
    case,
)

from .helpers import FAST, demo_by_requests, echo, mixed_run, run_session

TOKEN = "qt-SECRET-7f3a9c1e"
SECRETS = (TOKEN, TESTVIBE_KEY, AUTONOMA_CLIENT_ID, AUTONOMA_CLIENT_SECRET)


@pytest.fixture
def token_simulator(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    simulator.token = TOKEN
    monkeypatch.setenv("QATECH_API_TOKEN", TOKEN)
    return simulator


@pytest.mark.parametrize("extra", [(), ("-n", "2")])
def test_token_appears_nowhere(
    token_simulator: Simulator, pytester: pytest.Pytester, extra: tuple[str, ...]
) -> None:
    denied = Answer(401, {"message": "Missing or invalid API key"})
    # A careless server, which says back every header it was sent.
    echoed = Answer(401, echo)
    token_simulator.add(
        SimulatedRun("echo", answers={0: echoed}),
        *demo_by_requests(),
        mixed_run(),
        SimulatedRun("denied", answers={0: denied}),
        SimulatedRun("flaky", cases=[case("a")], answers={0: Answer(503, "down")}),
        SimulatedTestVibeRun(9, answers={0: denied}),
        SimulatedAutonomaRun("denied", "x", answers={0: denied}),
    )
    # A denied details request: its warning must not show the token either.
    token_simulator.runs["/v1/run-test-case/tc2"].answers[0] = denied
    result = run_session(pytester,
        *FAST,
        *extra,
        "--qatech-run", "abc123", "--qatech-run", "denied", "--qatech-run", "flaky",
        "--qatech-run", "echo",
        "--testvibe-run", "214", "--testvibe-run", "9",
        "--autonoma-run", "gch7uesq5h6m9xe2fdq5ddgd", "--autonoma-run", "denied",
        "-vv", "--debug=debug.log", "--junitxml=report.xml", "--continue-on-collection-errors",
        "--log-level=DEBUG", "-rA", "--qatech-details=all",
    )  # fmt: skip
    result.stdout.fnmatch_lines(["*HTTP 503*trying again*", "*HTTP 401*"])
    assert "refused request with headers {" in result.stdout.str()
    result.stdout.fnmatch_lines(["qatech: warning: QA.tech run abc123: *tc2 failed: HTTP 401 *"])
    assert result.stdout.str().count("HTTP 401") >= 3
    scripted = ("/denied", "/flaky", "/echo", "/runs/9")
    assert all(r.authorized for r in token_simulator.requests if not r.path.endswith(scripted))

    places = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for path in pytester.path.rglob("*"):
        if path.is_file():
            places[str(path.relative_to(pytester.path))] = path.read_text(errors="replace")
    assert "debug.log" in places
    assert "report.xml" in places
    leaks = [
        (place, secret) for place, text in places.items() for secret in SECRETS if secret in text
    ]
    assert leaks == []
