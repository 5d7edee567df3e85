"""One frozen object with everything a session needs, resolved as command line > ini > environment.

Only the standard library here: this module is imported whenever the plugin is active and
must stay cheap. Every check that can be made before a request is made here, so that a
mistake is a usage error before anything is sent.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pytest_qatech.providers import RunSource

DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_TIMEOUT = 3600.0

# Run ids and project ids go into URL paths: beyond this alphabet they could change the URL.
_URL_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,128}")


class SettingsError(Exception):
    """A setting is missing or wrong; shown to the user as a usage error."""


class Secret:
    """A credential that never shows itself in a repr, a str or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is never pickled")


class Lookup:
    """A setting's value from the command line, else the ini file, else the environment.

    An option's ``dest`` and its ini name are the same (``qatech_api_url``). Credentials come
    only from the environment: a command line shows up in process lists and CI logs.
    """

    def __init__(
        self,
        option: Callable[[str], object],
        ini: Callable[[str], str],
        environ: Mapping[str, str],
    ) -> None:
        self._option = option
        self._ini = ini
        self._environ = environ

    def __repr__(self) -> str:
        return "Lookup()"

    def value(self, name: str, variable: str | None = None) -> str | None:
        candidates = (
            self._option(name),
            self._ini(name),
            self._environ.get(variable) if variable else None,
        )
        for value in candidates:
            if value is not None and str(value).strip() != "":
                return str(value).strip()
        return None

    def secret(self, *variables: str) -> Secret | None:
        """The first of these environment variables that is set and not blank."""
        for name in variables:
            value = self._environ.get(name, "").strip()
            if value:
                return Secret(value)
        return None


@dataclass(frozen=True)
class Settings:
    #: The runs to wait for, one source per platform, in the order the platforms are known.
    sources: tuple[RunSource, ...]
    poll_interval: float
    timeout: float

    @property
    def titles(self) -> dict[str, str]:
        """How people write each platform's name, by provider name (``qatech``: ``QA.tech``)."""
        return {source.provider.name: source.provider.title for source in self.sources}


def resolve(requested: Mapping[str, Sequence[str]], lookup: Lookup) -> Settings:
    """Build the settings of an active session from the run ids asked for, by platform.

    Every platform with run ids is configured by its own module; the polling and the timeout
    are shared, as the one loop that waits for all the runs.
    """
    from pytest_qatech.providers import configure

    return Settings(
        sources=tuple(
            configure(platform, run_ids, lookup)
            for platform, run_ids in requested.items()
            if run_ids
        ),
        poll_interval=_seconds(
            "qatech-poll-interval", lookup.value("qatech_poll_interval"), DEFAULT_POLL_INTERVAL
        ),
        timeout=_seconds("qatech-timeout", lookup.value("qatech_timeout"), DEFAULT_TIMEOUT),
    )


def check_url_segment(value: str, option: str, what: str) -> str:
    """``value`` if it can go into a URL path as it is, else a usage error naming ``option``."""
    if not _URL_SEGMENT.fullmatch(value):
        raise SettingsError(
            f"{option} {value!r} is not {what}: expected 1 to 128 letters, digits, '-' or '_'"
        )
    return value


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """In order, each once: the same run twice would give duplicate node ids."""
    return tuple(dict.fromkeys(values))


def check_api_url(url: str, option: str) -> str:
    """Accept https anywhere and plain http only to this machine: the credentials travel with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{option} {url!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise SettingsError(f"{option} {url!r} must not have a query or a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SettingsError(
            f"{option} {url!r} uses plain http to a host that is not this machine; "
            "the API credentials would cross the network unencrypted. Use https "
            "(plain http is accepted only for 127.0.0.0/8, ::1 and localhost)."
        )
    return url.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _seconds(option: str, value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"--{option} {value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"--{option} must be a positive number of seconds, not {value!r}")
    return seconds
