from __future__ import annotations

from collections.abc import Iterator

import pytest

# In-process pytester runs drop the modules an inner session imported. Re-imported, requests
# mixes two CookieJar classes, and a monkeypatch may hit a module the next run no longer uses.
# Imported here once, the plugin and its dependencies are the same objects in every run.
import pytest_qatech.client
import pytest_qatech.session  # noqa: F401
from pytest_qatech.simulator import SimulatedRun, Simulator, case, environment

#: Fast polling against the simulator: its runs advance per request, not per second.
FAST = ("--qatech-poll-interval", "0.01")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own platform settings must not leak into what the tests see."""
    for name in (
        "QATECH_API_TOKEN",
        "QATECH_API_KEY",
        "QATECH_API_URL",
        "QATECH_PROJECT",
        "QATECH_DETAILS",
        "TESTVIBE_API_KEY",
        "TESTVIBE_SERVER",
        "TESTVIBE_PROJECT",
        "AUTONOMA_API_URL",
        "AUTONOMA_CLIENT_ID",
        "AUTONOMA_CLIENT_SECRET",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """The simulated APIs on 127.0.0.1, with every platform's environment pointing at them."""
    with Simulator() as running:
        for name, value in environment(running.url).items():
            monkeypatch.setenv(name, value)
        yield running


#: What mixed_run() costs: three light polls, one read of the cases, then the details of the
#: failed and the skipped case (their order varies: they are read in parallel).
MIXED_RUN_REQUESTS = [
    ("/v1/run/abc123", {}),
    ("/v1/run/abc123", {}),
    ("/v1/run/abc123", {}),
    ("/v1/run/abc123", {"testCases": ["all"]}),
    ("/v1/run-test-case/tc2", {}),
    ("/v1/run-test-case/tc3", {}),
]


def requests_made(simulator: Simulator) -> list[tuple[str, dict[str, list[str]]]]:
    """The requests the simulator received, in order, except that the details requests that
    follow a run's read are sorted: they are sent in parallel."""
    made = [(request.path, request.query) for request in simulator.requests]
    reads = [i for i, (_, query) in enumerate(made) if "testCases" in query]
    start = reads[-1] + 1 if reads else len(made)
    return made[:start] + sorted(made[start:], key=lambda request: request[0])


def mixed_run(short_id: str = "abc123") -> SimulatedRun:
    """A finished run with one case of each verdict."""
    return SimulatedRun(
        short_id,
        result="FAILED",
        cases=[
            case("Login flow test", "PASSED", goal="Log in", short_id="tc1"),
            case(
                "Checkout",
                "FAILED",
                title="Could not find login button",
                thought="The login button was not visible on the page.",
                goal="Test the checkout flow",
                short_id="tc2",
            ),
            case("Newsletter", "SKIPPED", title="Feature flag off", short_id="tc3"),
        ],
    )
