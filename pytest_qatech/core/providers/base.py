"""The interface every remote testing platform implements.

A provider knows its API's paths, field names and vocabulary: it names the requests for a run,
turns their answers into a status while waiting and into a
:class:`~pytest_qatech.core.models.FinishedRun` once the run is over, and describes a case of
its own in words. Waiting, HTTP and retries know nothing of any platform, and the front ends
know one only by its row in the options table (its name, title and options).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.lookup import Lookup
from pytest_qatech.core.models import FinishedRun, Link, Listed, RemoteCase, RunFacts, StartedRun
from pytest_qatech.core.options import Platform
from pytest_qatech.core.secrets import Secret

#: The kinds of a case's links that are files showing what happened (see ``Link``).
MEDIA_KINDS = ("screenshot", "recording", "video")


@dataclass(frozen=True)
class Progress:
    status: str
    finished: bool
    #: The run's cases as this answer lists them; None where it lists none (a platform that
    #: lists a run's cases only once it is over, or a request that did not ask for them).
    cases: tuple[Listed, ...] | None = None
    #: The collector the run's cases appear under, when not the run itself (an Autonoma
    #: folder), as far as this answer says.
    group: str | None = None


@dataclass(frozen=True)
class CaseRequest:
    """One more request about a case, and what its answer changes: ``apply`` returns the case
    with it, or raises :class:`~pytest_qatech.core.providers.body.BodyError`; ``then``, given
    that case, names the request that follows (the next page of a trace), if one does."""

    request: ApiRequest
    apply: Callable[[RemoteCase, object], RemoteCase]
    #: What it reads, in the words of a warning that it could not be read: ``details``.
    what: str = "details"
    #: What a case it could not be read for is reported with instead.
    instead: str = "as the run endpoint described them"
    then: Callable[[RemoteCase], CaseRequest | None] | None = None


@dataclass(frozen=True)
class Description:
    """A case in words: what goes below its headline, its JUnit properties, and further named
    texts (a runner's log) shown with a failure."""

    details: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    sections: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RunSource:
    """The runs to wait for on one platform, and where its API is."""

    provider: Provider
    api_url: str
    run_ids: tuple[str, ...]
    #: The runs the user named, as (run id, label) pairs.
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, run_id: str) -> str | None:
        """The name a run goes by in node ids, when it has one."""
        return dict(self.labels).get(run_id)


class Provider(ABC):
    #: The platform's row in the options table.
    platform: ClassVar[Platform]
    #: What to check after a final HTTP error of a GET, by status code.
    hints: ClassVar[Mapping[int, str]] = {}
    #: Whether a listing status answer names a run's cases while the run goes on: a front end
    #: does not wait to lay out the cases of a platform that lists them only at the end.
    lists_while_running: ClassVar[bool] = True

    @property
    def name(self) -> str:
        return self.platform.name

    @property
    def title(self) -> str:
        return self.platform.title

    @classmethod
    @abstractmethod
    def configure(cls, run_ids: Sequence[str], lookup: Lookup) -> RunSource:
        """Check the run ids and settings asked for (or raise SettingsError); the source."""

    @abstractmethod
    def auth_headers(self) -> Mapping[str, Secret]: ...

    @abstractmethod
    def status_request(self, run_id: str, *, listing: bool = False) -> ApiRequest:
        """The request that asks how a run is going; with ``listing``, one whose answer also
        lists the run's cases and each one's verdict so far, where the platform can."""

    @abstractmethod
    def parse_status(self, run_id: str, body: object) -> Progress: ...

    def results_request(self, run_id: str, *, listing: bool = False) -> ApiRequest | None:
        """The request for an ended run's cases; None where the last status answer holds
        them (with or without ``listing``, as the status requests were made)."""
        return None

    @abstractmethod
    def parse_results(self, run_id: str, body: object) -> FinishedRun: ...

    def case_request(self, case: RemoteCase) -> CaseRequest | None:
        """One more request about a case that has its verdict, where the platform has more to
        say about it than its run does (QA.tech's case details)."""
        return None

    def run_url(self, run_id: str) -> str | None:
        """The run's page for people, when it can be known."""
        return None

    @staticmethod
    def media(case: RemoteCase) -> tuple[Link, ...]:
        """The files that show what happened to a case: screenshots, recordings, videos."""
        return tuple(link for link in case.links if link.kind in MEDIA_KINDS)

    #: Whether the platform can rerun a run's cases in a new run (QA.tech's Rerun API).
    can_rerun: ClassVar[bool] = False

    def reruns_again(self, case: RemoteCase) -> bool:
        """Whether a rerun of the case's run may run it again, and so change its verdict: then
        its verdict waits for the run's last attempt."""
        return False

    def rerun_cases(self, cases: Sequence[RemoteCase]) -> tuple[RemoteCase, ...]:
        """Those of an ended attempt's ``cases`` that its rerun is to run again."""
        return ()

    def rerun_request(
        self, run_id: str, cases: Sequence[RemoteCase], *, every: bool
    ) -> ApiRequest | None:
        """The request that reruns ``cases`` of an ended run in a new run: ``every`` case that
        :meth:`rerun_cases` chose, or only some of them (those the session selected); None
        where the platform cannot, or cannot name them."""
        return None

    def parse_rerun(self, run_id: str, body: object) -> StartedRun:
        """The new run that :meth:`rerun_request`'s answer names."""
        raise NotImplementedError(f"{self.title} runs cannot be rerun")

    def hint(self, http_status: int, *, post: bool = False) -> str | None:
        """What the user should check after a final HTTP error, if there is advice: of a GET,
        or of a POST that starts or reruns a run."""
        return None if post else self.hints.get(http_status)

    def dashboard(self) -> str | None:
        """Where a person finds the project's runs, when known."""
        return None

    @staticmethod
    @abstractmethod
    def describe(run: RunFacts, case: RemoteCase) -> Description:
        """``case`` of ``run`` in this platform's words, from its fields."""
