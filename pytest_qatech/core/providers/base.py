"""The interface every remote testing platform implements.

A provider knows its API's paths, field names and vocabulary: it names the requests for a run,
turns their answers into a status while waiting and into a
:class:`~pytest_qatech.core.models.FinishedRun` once the run is over, and describes a case of
its own in words. Waiting, HTTP, retries and the front ends know nothing of any platform.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pytest_qatech.core.lookup import Lookup
from pytest_qatech.core.models import FinishedRun, RemoteCase
from pytest_qatech.core.secrets import Secret
from pytest_qatech.core.settings import Platform


@dataclass(frozen=True)
class ApiRequest:
    """A GET relative to the provider's API URL; ``path`` is already percent-encoded."""

    path: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Progress:
    status: str
    finished: bool


@dataclass(frozen=True)
class CaseRequest:
    """One more request about the case at ``index`` of a finished run, and what its answer
    changes: ``apply`` returns the case with it, or raises
    :class:`~pytest_qatech.core.providers.body.BodyError`."""

    index: int
    request: ApiRequest
    apply: Callable[[RemoteCase, object], RemoteCase]


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


class Provider(ABC):
    #: The platform's row in the settings table.
    platform: ClassVar[Platform]
    #: What to check after a final HTTP error, by status code.
    hints: ClassVar[Mapping[int, str]] = {}

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
    def status_request(self, run_id: str) -> ApiRequest: ...

    @abstractmethod
    def parse_status(self, run_id: str, body: object) -> Progress: ...

    def results_request(self, run_id: str) -> ApiRequest | None:
        """The request for an ended run's cases; None: the last status answer holds them."""
        return None

    @abstractmethod
    def parse_results(self, run_id: str, body: object) -> FinishedRun: ...

    def case_requests(self, run: FinishedRun) -> Sequence[CaseRequest]:
        """More requests about some cases of a finished run, where the platform has more to
        say about a case than its run does."""
        return ()

    def run_url(self, run_id: str) -> str | None:
        """The run's page for people, when it can be known."""
        return None

    def hint(self, http_status: int) -> str | None:
        """What the user should check after a final HTTP error, if there is advice."""
        return self.hints.get(http_status)

    @staticmethod
    @abstractmethod
    def describe(run: FinishedRun, case: RemoteCase) -> Description:
        """``case`` of ``run`` in this platform's words, from its fields."""
