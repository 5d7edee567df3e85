"""One frozen object with everything a session needs, resolved as command line > ini > environment.

Only the standard library here: this module is imported whenever the plugin is active and
must stay cheap. Every check that can be made before a request is made here, so that a
mistake is a usage error before anything is sent.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.qa.tech"
DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_TIMEOUT = 3600.0
TOKEN_VARIABLES = ("QATECH_API_TOKEN", "QATECH_API_KEY")

# Run ids and project slugs go into URL paths: beyond this alphabet they could change the URL.
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


@dataclass(frozen=True)
class Settings:
    run_ids: tuple[str, ...]
    api_url: str
    token: Secret
    poll_interval: float
    timeout: float
    #: The QA.tech project's slug, for links to the dashboard.
    project: str | None = None


def resolve(
    *,
    run_ids: Sequence[str],
    cli: Mapping[str, str | float | None],
    ini: Callable[[str], str],
    environ: Mapping[str, str],
) -> Settings:
    """Build the settings of an active session (``run_ids`` is not empty).

    ``cli`` holds the parsed option values (None when not given), ``ini`` reads an ini value
    ("" when not set), ``environ`` is the process environment.
    """
    api_url = _first(cli.get("api_url"), ini("qatech_api_url"), environ.get("QATECH_API_URL"))
    poll_interval = _first(cli.get("poll_interval"), ini("qatech_poll_interval"))
    timeout = _first(cli.get("timeout"), ini("qatech_timeout"))
    project = _first(cli.get("project"), ini("qatech_project"), environ.get("QATECH_PROJECT"))
    return Settings(
        run_ids=check_run_ids(run_ids),
        api_url=check_api_url(str(api_url or DEFAULT_API_URL)),
        token=_token(environ),
        poll_interval=_seconds("qatech-poll-interval", poll_interval, DEFAULT_POLL_INTERVAL),
        timeout=_seconds("qatech-timeout", timeout, DEFAULT_TIMEOUT),
        project=check_project(str(project)) if project is not None else None,
    )


def check_run_ids(run_ids: Sequence[str]) -> tuple[str, ...]:
    for run_id in run_ids:
        if not _URL_SEGMENT.fullmatch(run_id):
            raise SettingsError(
                f"--qatech-run {run_id!r} is not a run short id: expected 1 to 128 letters, "
                "digits, '-' or '_' (the shortId returned by QA.tech's Start Run API)"
            )
    # The same run twice would give duplicate node ids; once is what the user meant.
    return tuple(dict.fromkeys(run_ids))


def check_project(slug: str) -> str:
    if not _URL_SEGMENT.fullmatch(slug):
        raise SettingsError(
            f"--qatech-project {slug!r} is not a project slug: expected letters, digits, '-' "
            "or '_' (as in https://app.qa.tech/p/<slug>/...)"
        )
    return slug


def check_api_url(url: str) -> str:
    """Accept https anywhere and plain http only to this machine: the token travels with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"--qatech-api-url {url!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise SettingsError(f"--qatech-api-url {url!r} must not have a query or a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SettingsError(
            f"--qatech-api-url {url!r} uses plain http to a host that is not this machine; "
            "the API token would cross the network unencrypted. Use https "
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


def _token(environ: Mapping[str, str]) -> Secret:
    for name in TOKEN_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return Secret(value)
    raise SettingsError(
        "--qatech-run needs an API token: set QATECH_API_TOKEN (or QATECH_API_KEY) in the "
        "environment to the project's token from QA.tech Settings -> Integrations -> API. "
        "It is read only from the environment, never from the command line or an ini file."
    )


def _first(*values: str | float | None) -> str | float | None:
    for value in values:
        if value is not None and value != "":
            return value
    return None


def _seconds(option: str, value: str | float | None, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"--{option} {value!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"--{option} must be a positive number of seconds, not {value!r}")
    return seconds
