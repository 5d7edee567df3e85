"""What a remote run looks like once it is over, whatever platform ran it.

Providers turn their API's bodies into these objects; the pytest layer only ever sees these.
They are plain frozen data so that the xdist controller can hand them to workers as JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class Outcome(enum.Enum):
    """How a remote case is reported in pytest."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    # The case did not produce a trustworthy verdict: reported as a pytest error, never a pass.
    ERROR = "error"


@dataclass(frozen=True)
class RemoteCase:
    """One remote test case with its verdict.

    ``headline`` is one line (the failure title, the skip reason or what went wrong);
    ``details`` is the longer explanation shown below it. ``properties`` end up in JUnit.
    ``duration`` is how long the case took remotely, in seconds, when the platform says;
    ``sections`` are further named texts shown under a failure, such as a runner's log.
    """

    name: str
    outcome: Outcome
    headline: str = ""
    details: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    duration: float | None = None
    sections: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "headline": self.headline,
            "details": self.details,
            "properties": [list(pair) for pair in self.properties],
            "duration": self.duration,
            "sections": [list(pair) for pair in self.sections],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteCase:
        return cls(
            name=data["name"],
            outcome=Outcome(data["outcome"]),
            headline=data["headline"],
            details=data["details"],
            properties=tuple((key, value) for key, value in data["properties"]),
            duration=data["duration"],
            sections=tuple((title, text) for title, text in data["sections"]),
        )


def tally(outcomes: Iterable[Outcome]) -> str:
    """How many of each outcome, e.g. ``2 passed, 1 failed``; empty when there are none."""
    counts = dict.fromkeys(Outcome, 0)
    for outcome in outcomes:
        counts[outcome] += 1
    return ", ".join(f"{n} {outcome.value}" for outcome, n in counts.items() if n)


def has_failure(cases: Iterable[RemoteCase]) -> bool:
    """Whether a case failed or gave no verdict: what makes a session red."""
    return any(case.outcome in (Outcome.FAILED, Outcome.ERROR) for case in cases)


@dataclass(frozen=True)
class FinishedRun:
    """A run that ended and whose cases could be read.

    ``problem`` is set when the run as a whole must not count as green even if every case
    passed (for example it ended ERROR or CANCELLED); it is reported as an error of its own.
    """

    provider: str
    run_id: str
    status: str
    result: str | None
    cases: tuple[RemoteCase, ...]
    problem: str | None = None
    #: Where a person sees the run, when known.
    url: str | None = None
    #: The collector the cases appear under, when not the run itself (an Autonoma folder).
    group: str | None = None

    def tally(self) -> str:
        """How many cases had each outcome, e.g. ``2 passed, 1 failed``; empty without cases."""
        return tally(case.outcome for case in self.cases)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "finished",
            "provider": self.provider,
            "run_id": self.run_id,
            "status": self.status,
            "result": self.result,
            "problem": self.problem,
            "url": self.url,
            "group": self.group,
            "cases": [case.to_json() for case in self.cases],
        }


@dataclass(frozen=True)
class UnreadableRun:
    """A run whose outcome could not be learned: API error, bad body, timeout, network.

    Reported as a collection error of that run, so pytest exits 2, never 0 or 1.
    """

    provider: str
    run_id: str
    message: str
    last_status: str | None = None
    url: str | None = None
    #: The run was still going when the wait's timeout passed.
    timed_out: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "unreadable",
            "provider": self.provider,
            "run_id": self.run_id,
            "message": self.message,
            "last_status": self.last_status,
            "url": self.url,
            "timed_out": self.timed_out,
        }


RunReport = FinishedRun | UnreadableRun


def run_report_from_json(data: dict[str, Any]) -> RunReport:
    if data["kind"] == "unreadable":
        return UnreadableRun(
            provider=data["provider"],
            run_id=data["run_id"],
            message=data["message"],
            last_status=data["last_status"],
            url=data["url"],
            timed_out=data["timed_out"],
        )
    return FinishedRun(
        provider=data["provider"],
        run_id=data["run_id"],
        status=data["status"],
        result=data["result"],
        problem=data["problem"],
        url=data["url"],
        group=data["group"],
        cases=tuple(RemoteCase.from_json(case) for case in data["cases"]),
    )
