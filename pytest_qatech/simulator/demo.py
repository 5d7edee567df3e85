"""The runs the demos show (README, documentation), and the variables that point every platform at a
simulator."""

from __future__ import annotations

from pytest_qatech.core.options import (
    AUTONOMA_API_URL,
    AUTONOMA_CLIENT_ID,
    AUTONOMA_CLIENT_SECRET,
    QATECH_API_URL,
    QATECH_TOKEN,
    TESTVIBE_KEY,
    TESTVIBE_PROJECT,
    TESTVIBE_SERVER,
)
from pytest_qatech.simulator import autonoma, qatech, testvibe
from pytest_qatech.simulator.autonoma import SimulatedAutonomaRun, step
from pytest_qatech.simulator.base import Scripted
from pytest_qatech.simulator.qatech import (
    SimulatedPlan,
    SimulatedProject,
    SimulatedRun,
    case,
    trace_step,
)
from pytest_qatech.simulator.server import Simulator
from pytest_qatech.simulator.testvibe import SimulatedTestVibeRun, vibe_test

#: What the agent did in the demo's failing checkout: Getting started shows it as the traceback.
CHECKOUT_TRACE = [
    trace_step(0, "Open the shop's home page", "navigate", {"url": "/"}, "Loaded / (Acme Shop)"),
    trace_step(
        1, "Put one item in the cart", "click", {"selector": "[data-test=add-to-cart]"},
        "Cart: 1 item",
    ),
    trace_step(
        2, "Go to the checkout", "click", {"selector": "a[href='/checkout']"}, "Loaded /checkout"
    ),
    trace_step(
        3, "Pay with the saved card", "click", {"selector": "label[for=saved-card]"},
        "Selected: Visa ending 4242",
    ),
    trace_step(
        4, "Wait for the payment panel to offer 'Pay now'", "wait_for",
        {"text": "Pay now", "timeout_s": 30},
        "Timed out after 30 s: a spinner, then an empty panel",
        screenshot=True,
    ),
    trace_step(
        5, "The 'Pay now' button never appeared: the goal cannot be reached", "finish",
        {"success": False}, "Marked the test as failed", screenshot=True,
    ),
]  # fmt: skip


def demo_runs() -> list[Scripted]:
    """The runs the demos show, on every platform: passes, readable failures, a skip.

    QA.tech run abc123 goes by the clock, as a real one: RUNNING from 0.5 s, its cases ending at
    1.0 s, 1.5 s and 2.0 s, when it is COMPLETED.
    """
    return [
        SimulatedRun(
            "abc123",
            result="FAILED",
            statuses=("INITIATED", "RUNNING", "RUNNING", "RUNNING", "COMPLETED"),
            finish_at={"tc0001": 2, "tc0002": 3},
            step_seconds=0.5,
            traces={"tc0002": CHECKOUT_TRACE},
            cases=[
                case(
                    "Login flow test",
                    "PASSED",
                    goal="Log in with the demo account and reach the dashboard",
                    short_id="tc0001",
                ),
                case(
                    "Checkout with saved card",
                    "FAILED",
                    title="Could not find the 'Pay now' button",
                    thought=(
                        "The agent added an item to the cart and opened the checkout page. "
                        "After choosing the saved card, the 'Pay now' button never became "
                        "visible; the page showed a spinner for 30 seconds and then an empty "
                        "payment panel."
                    ),
                    goal="Buy one item with the saved card and see the order confirmation",
                    short_id="tc0002",
                ),
                case(
                    "Newsletter signup",
                    "SKIPPED",
                    title="Skipped: the newsletter feature flag is off in this environment",
                    goal="Sign up for the newsletter from the footer",
                    short_id="tc0003",
                ),
            ],
        ),
        SimulatedRun(
            "green1",
            result="PASSED",
            cases=[case("Search finds a product", short_id="tc0101")],
        ),
        # TestVibe's own example run, as its get_run reference shows it.
        SimulatedTestVibeRun(
            214,
            tests=[
                vibe_test("Valid user signs in", duration_ms=4210),
                vibe_test("Invalid password is rejected", duration_ms=3804),
                vibe_test(
                    "Locked-out user sees an error",
                    "failed",
                    duration_ms=9120,
                    error="expect(locator).toBeVisible() failed — "
                    "locator('[data-test=\"error\"]') not found within 5000ms",
                ),
            ],
            artifacts=[
                {"kind": "trace", "path": "trace/locked-out-user.zip", "size": 482133},
                {"kind": "screenshot", "path": "screenshots/locked-out-user.png", "size": 88241},
            ],
            log=(
                "[16:02:45] Locked-out user sees an error\n"
                "[16:02:45]   fill #user-name locked_out_user\n"
                "[16:02:46]   click #login-button\n"
                "[16:02:54]   waiting for locator('[data-test=\"error\"]') timed out"
            ),
        ),
        SimulatedTestVibeRun(215, tests=[vibe_test("Valid user signs in", duration_ms=3980)]),
        SimulatedAutonomaRun(
            "gch7uesq5h6m9xe2fdq5ddgd",
            "Add 'member' to network, verify it can access the listings",
            folder="private-listing-hub",
            steps=[
                step("open the login page", interaction="navigate"),
                step(
                    "insert {{variable:QA_ADMIN_USER}} into log in input",
                    interaction="input-text",
                    output="input-text on element with text admin@acme.example",
                    selector="input#username",
                ),
                step(
                    "click the 'Add member' button",
                    "failed",
                    output="no element matches the description 'Add member' button",
                    url="https://app.acme.example/network",
                    selector="button[data-test=add-member]",
                ),
                step("verify the member sees the listings", "pending"),
            ],
        ),
        SimulatedAutonomaRun(
            "k2d9xq7mm3v0w1p4r8s6t5ua",
            "Search for a listing by city",
            folder="private-listing-hub",
            steps=[
                step("open the listings page", interaction="navigate"),
                step("type 'Lisbon' into the search box", interaction="input-text"),
            ],
        ),
    ]


def nightly(short_id: str) -> SimulatedRun:
    """A run of the demo's test plan ``pln_nightly``: six cases, of which two fail every time;
    it moves on a step per status request."""
    failing = {
        "Checkout with saved card": "The payment page timed out",
        "Coupon code applies": "The order total did not change after the coupon",
    }
    names = [
        "Login flow test",
        "Checkout with saved card",
        "Search finds a product",
        "Coupon code applies",
        "Wishlist keeps items",
        "Profile photo upload",
    ]
    return SimulatedRun(
        short_id,
        result="FAILED",
        statuses=("INITIATED", "RUNNING", "COMPLETED"),
        cases=[
            case(
                name,
                "FAILED" if name in failing else "PASSED",
                title=failing.get(name),
                short_id=f"{short_id}{place}",
            )
            for place, name in enumerate(names)
        ],
    )


def demo_project() -> SimulatedProject:
    """What the demo's QA.tech project starts: test plan ``pln_smoke`` (and, as the project's
    default plan, the same cases), whose checkout case fails once and passes on its first rerun:
    a flaky case; and test plan ``pln_nightly``, six cases of which two fail every time."""

    def smoke(short_id: str) -> SimulatedRun:
        return SimulatedRun(
            short_id,
            result="FAILED",
            statuses=("INITIATED", "RUNNING", "COMPLETED"),
            step_seconds=0.5,
            passes_on_rerun={"Checkout with saved card": 1},
            cases=[
                case(
                    "Login flow test", goal="Log in with the demo account", short_id=f"{short_id}a"
                ),
                case(
                    "Checkout with saved card",
                    "FAILED",
                    title="The payment page timed out",
                    thought="The payment provider's sandbox did not answer within 30 seconds.",
                    goal="Buy one item with the saved card and see the order confirmation",
                    short_id=f"{short_id}b",
                ),
                case("Search finds a product", short_id=f"{short_id}c"),
            ],
        )

    return SimulatedProject(
        [
            SimulatedPlan("Smoke tests", smoke, "pln_smoke"),
            SimulatedPlan("Smoke tests", smoke),
            SimulatedPlan("Nightly regression", nightly, "pln_nightly"),
        ]
    )


def demo_simulator(*, port: int = 0, media: bool = False) -> Simulator:
    """The simulator with the demos' runs and project, as ``python -m pytest_qatech.simulator``
    serves them (``media``: with ``--serve-media``)."""
    return Simulator(demo_runs(), port=port, project=demo_project(), media=media)


def environment(url: str) -> dict[str, str]:
    """The variables that point every platform's settings at a simulator on ``url``."""
    variables = {
        QATECH_API_URL.variable: url,
        QATECH_TOKEN.variables[0]: qatech.DEFAULT_TOKEN,
        TESTVIBE_SERVER.variable: url,
        TESTVIBE_PROJECT.variable: testvibe.TESTVIBE_PROJECT,
        TESTVIBE_KEY.variables[0]: testvibe.TESTVIBE_KEY,
        AUTONOMA_API_URL.variable: url,
        AUTONOMA_CLIENT_ID.variables[0]: autonoma.AUTONOMA_CLIENT_ID,
        AUTONOMA_CLIENT_SECRET.variables[0]: autonoma.AUTONOMA_CLIENT_SECRET,
    }
    return {name: value for name, value in variables.items() if name is not None}
