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
