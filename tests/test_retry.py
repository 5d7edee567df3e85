"""When a request is sent again, and whether a failed POST may have started a run: the core's
retry module alone."""

from __future__ import annotations

import random

import pytest

from pytest_qatech.core.client import FinalError, RequestError, TransientError
from pytest_qatech.core.providers.body import BodyError
from pytest_qatech.core.retry import RetryPolicy, may_have_acted, may_have_started, retry_for


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0)
    rng = random.Random(7)
    delays = [[policy.backoff(n, rng) for _ in range(200)] for n in range(1, 7)]
    for n, samples in enumerate(delays, start=1):
        bound = min(8.0, 2 ** (n - 1))
        assert all(0.0 <= d <= bound for d in samples)
        assert max(samples) > 0.9 * bound  # the whole range, not a smaller one
    assert max(delays[5]) > 4.0  # the cap, not the exponent, bounds late attempts


def test_backoff_scales_with_the_poll_interval() -> None:
    assert retry_for(10.0) == RetryPolicy(base=1.0, cap=60.0, max_attempts=8)
    assert retry_for(0.01) == RetryPolicy(base=0.01, cap=0.6, max_attempts=8)


@pytest.mark.parametrize(
    ("error", "acted"),
    [
        (TransientError("no connection", delivered=False), False),  # never reached the server
        (TransientError("HTTP 429", 5.0, http_status=429), False),  # refused unread
        (TransientError("HTTP 502", http_status=502), True),
        (TransientError("read timed out"), True),
        (FinalError("HTTP 400", 400), False),
        (FinalError("HTTP 402", 402), False),
        (FinalError("a redirect", 302), False),
        (FinalError("HTTP 300 Multiple Choices", 300), False),
        (FinalError("the answer is not JSON", 200), True),  # a success, unread
        (FinalError("the answer is not JSON", 201), True),
        (FinalError("too deep"), False),
        (BodyError("field 'run' is missing"), True),  # answered, not as documented
    ],
)
def test_a_post_may_have_acted_once_it_reached_the_server_unrefused(
    error: RequestError | BodyError, acted: bool
) -> None:
    assert may_have_acted(error) is acted


def test_what_people_are_told_names_the_platform_and_where_to_look() -> None:
    assert may_have_started("QA.tech", "a rerun", "https://app.qa.tech/p/shop") == (
        "the request may have reached QA.tech, so a rerun may have started: look for it at "
        "https://app.qa.tech/p/shop"
    )
    assert may_have_started("QA.tech", "a run", None).endswith(
        "look for it at the QA.tech dashboard"
    )
