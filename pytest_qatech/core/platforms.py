"""The platforms pytest-qatech reports on, as one static registry, and what a session asks of
them: the runs of each, and how often and how long to wait.

A new platform is a module under :mod:`pytest_qatech.core.providers`, a row in the settings
table and an entry in :data:`PROVIDERS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pytest_qatech.core.lookup import Lookup, MissingCredentials, SettingsError, labelled
from pytest_qatech.core.models import SkippedSource, StartedRun
from pytest_qatech.core.options import (
    ARTIFACTS,
    ARTIFACTS_MAX_MIB,
    MAX_FLAKY,
    MISSING_TOKEN,
    POLL_INTERVAL,
    QATECH,
    TIMEOUT,
)
from pytest_qatech.core.providers.autonoma import AutonomaProvider
from pytest_qatech.core.providers.base import Provider, RunSource
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.providers.qatech_start import StartSpec, configure_reruns, configure_start
from pytest_qatech.core.providers.testvibe import TestVibeProvider

MIB = 1024 * 1024
PROVIDERS: tuple[type[Provider], ...] = (QatechProvider, TestVibeProvider, AutonomaProvider)
_BY_NAME = {provider.platform.name: provider for provider in PROVIDERS}


def provider_class(name: str) -> type[Provider]:
    """The provider of the platform called ``name`` in node ids (``qatech``)."""
    return _BY_NAME[name]


@dataclass(frozen=True)
class Settings:
    """Everything a session needs to wait for its runs, resolved and checked."""

    #: The runs to wait for, one source per platform, in the order they were asked for.
    sources: tuple[RunSource, ...]
    poll_interval: float
    timeout: float
    #: The QA.tech runs to start before waiting, when any.
    start: StartSpec | None = None
    #: How many times a QA.tech run's failed cases are rerun, at most.
    reruns: int = 0
    #: Where the media of the cases that did not pass are saved, when they are.
    artifacts: str | None = None
    #: The most bytes one saved artifact, and all of them, may take.
    artifact_limits: tuple[int, int] = (50 * MIB, 500 * MIB)
    #: The most flaky cases a session may have and pass; None: no limit.
    max_flaky: int | None = None
    #: The platforms whose runs are skipped, their credentials missing.
    skipped: tuple[SkippedSource, ...] = ()

    def qatech(self) -> RunSource:
        return next(source for source in self.sources if source.provider.name == QATECH.name)

    def with_started(
        self, started: Sequence[StartedRun], labels: Mapping[str, str] | None = None
    ) -> Settings:
        """These settings, waiting for the runs just started too (``labels``: by run id, the
        test plans they run), and starting none again."""
        sources = []
        for source in self.sources:
            provider = source.provider
            if isinstance(provider, QatechProvider):
                urls = tuple((run.run_id, run.url) for run in started if run.url)
                provider = dataclasses.replace(provider, started_urls=provider.started_urls + urls)
                ids = dict.fromkeys((*source.run_ids, *(run.run_id for run in started)))
                named = (*source.labels, *(labels or {}).items())
                source = RunSource(provider, source.api_url, tuple(ids), named)
            sources.append(source)
        return dataclasses.replace(self, sources=tuple(sources), start=None)


def resolve(requested: Mapping[str, Sequence[str]], lookup: Lookup) -> Settings:
    """The settings of a session that asked for these run ids, by platform name.

    Every platform with run ids checks its own settings; the polling and the timeout are
    shared, as the one loop that waits for all the runs.
    """
    start = configure_start(lookup)
    skip_missing = lookup.text(MISSING_TOKEN) == "skip"
    sources, skipped = [], []
    for platform, values in requested.items():
        if values or (start is not None and platform == QATECH.name):
            run_ids, labels = labelled(provider_class(platform).platform, values)
            try:
                source = provider_class(platform).configure(run_ids, lookup)
            except MissingCredentials as missing:
                if not skip_missing:
                    raise
                starts = start.described() if start is not None and platform == QATECH.name else ()
                skipped.append(SkippedSource(platform, missing.missing, tuple(run_ids), starts))
                continue
            named = tuple((run_id, labels[run_id]) for run_id in source.run_ids if run_id in labels)
            sources.append(dataclasses.replace(source, labels=named))
    if any(source.provider == QATECH.name for source in skipped):
        start = None  # nothing is started that nothing could wait for
    return Settings(
        sources=tuple(sources),
        poll_interval=lookup.seconds(POLL_INTERVAL),
        timeout=lookup.seconds(TIMEOUT),
        start=start,
        reruns=configure_reruns(lookup),
        artifacts=lookup.value(ARTIFACTS),
        artifact_limits=_limits(lookup),
        max_flaky=lookup.limit(MAX_FLAKY),
        skipped=tuple(skipped),
    )


def _limits(lookup: Lookup) -> tuple[int, int]:
    sizes = lookup.sizes(ARTIFACTS_MAX_MIB)
    if len(sizes) != 2:
        flag, default = ARTIFACTS_MAX_MIB.flag, ARTIFACTS_MAX_MIB.default
        raise SettingsError(f"{flag} takes two numbers, FILE,TOTAL (as {default})")
    return sizes[0] * MIB, sizes[1] * MIB
