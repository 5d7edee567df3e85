"""The one interface every remote test platform implements, and the list of platforms.

A provider knows its API's paths, field names and vocabulary; it turns "a run id" into a
status while waiting and into a :class:`~pytest_qatech.models.FinishedRun` once the run is
over. Waiting, HTTP, retries and reporting are shared and know nothing of any platform.

Each platform is one module here with a provider class and a ``configure`` function that
turns the run ids and settings asked for into a :class:`RunSource`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from pytest_qatech.models import FinishedRun, RemoteCase
from pytest_qatech.settings import Lookup, Secret


class BodyError(Exception):
    """A response body is not what the platform's API reference describes."""


@dataclass(frozen=True)
class ApiRequest:
    """A GET relative to the provider's API URL; ``path`` is already percent-encoded."""

    path: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CaseDetails:
    """A further request about one case of a finished run, and what its answer adds.

    ``merge`` returns the case with the answer's details, or raises :class:`BodyError`.
    """

    index: int
    request: ApiRequest
    merge: Callable[[RemoteCase, object], RemoteCase]


@dataclass(frozen=True)
class Progress:
    status: str
    finished: bool


class Provider(Protocol):
    #: Node id prefix and marker name, e.g. ``qatech``.
    name: str
    #: How people write the platform's name, e.g. ``QA.tech``.
    title: str

    def auth_headers(self) -> Mapping[str, Secret]: ...

    def status_request(self, run_id: str) -> ApiRequest: ...

    def parse_status(self, run_id: str, body: object) -> Progress: ...

    def results_request(self, run_id: str) -> ApiRequest | None:
        """The request for the ended run's cases; None when the last status answer has them."""
        ...

    def parse_results(self, run_id: str, body: object) -> FinishedRun: ...

    def case_details(self, run: FinishedRun) -> Sequence[CaseDetails]:
        """Requests for more about some of the run's cases; empty when there is nothing more."""
        ...

    def run_url(self, run_id: str) -> str | None:
        """The run's page for people, when it can be known."""
        ...

    def hint(self, http_status: int) -> str | None:
        """What the user should check after a final HTTP error, if there is advice."""
        ...


@dataclass(frozen=True)
class RunSource:
    """The runs to wait for on one platform, and where its API is."""

    provider: Provider
    api_url: str
    run_ids: tuple[str, ...]


def configure(platform: str, run_ids: Sequence[str], lookup: Lookup) -> RunSource:
    """Check ``platform``'s run ids and settings (or raise SettingsError); build its source.

    ``platform`` is a module here, and also the node id prefix, marker and option prefix.
    """
    module = importlib.import_module(f"{__name__}.{platform}")
    configure_platform = cast(Callable[[Sequence[str], Lookup], RunSource], module.configure)
    return configure_platform(run_ids, lookup)
