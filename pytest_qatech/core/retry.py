"""When a request is sent again, and the one rule for a POST that failed: whether it may have
started a run all the same. Such a POST is never sent again, and people are told where to look;
every other failed request is tried again after a backoff, within its bounds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pytest_qatech.core.client import FinalError, RequestError, TransientError
from pytest_qatech.core.providers.body import BodyError


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter.

    Once a run has answered with a status, failed polls are retried until the overall
    timeout: a flaky network must not lose the wait. Before the first answer (a wrong URL, a
    dead network), for the one results request and for each case request, ``max_attempts``
    bounds the retries, so a typo does not cost an hour of CI time.
    """

    base: float = 1.0
    cap: float = 60.0
    max_attempts: int = 8

    def backoff(self, failures: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * 2 ** (failures - 1)))

    def delay(self, failures: int, retry_after: float | None, rng: random.Random) -> float:
        """How long to wait after the ``failures``-th failure: what the server asked, if it
        asked, else the backoff."""
        return retry_after if retry_after is not None else self.backoff(failures, rng)


def retry_for(poll_interval: float) -> RetryPolicy:
    """Backoff that scales with how eagerly the user polls: 1s to 60s at the default 10s
    interval, proportionally less for the sub-second intervals of the simulator and tests."""
    base = min(1.0, poll_interval)
    return RetryPolicy(base=base, cap=60.0 * base)


def may_have_acted(error: RequestError | BodyError) -> bool:
    """Whether a POST that ended in ``error`` may have done its work all the same: it reached
    the server and was not refused unread (a timeout, a 5xx), or a success came back that could
    not be read (a 2xx that is not JSON, or an answer not as documented). The one rule for
    whether a start or a rerun may have started a run."""
    if isinstance(error, BodyError):
        return True
    if isinstance(error, TransientError):
        return not error.safe_to_repeat
    status = error.http_status if isinstance(error, FinalError) else None
    return status is not None and 200 <= status < 300


def may_have_started(title: str, what: str, dashboard: str | None) -> str:
    """What to tell people of such a POST: ``what`` (``a run``, ``a rerun``) may have started
    on platform ``title``, and where to look for it (its project's ``dashboard``, if known)."""
    where = dashboard or f"the {title} dashboard"
    return (
        f"the request may have reached {title}, so {what} may have started: look for it at {where}"
    )
