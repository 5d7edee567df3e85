"""A setting's value: from the command line, else the ini file, else the environment, else the
settings table's default; credentials only from the environment; and the checks every platform
shares, so that a mistake is a usage error before anything is sent."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from pytest_qatech.core.options import Credential, Platform, Setting
from pytest_qatech.core.secrets import Secret
from pytest_qatech.core.urls import credentials_may_travel, is_path_segment


class SettingsError(Exception):
    """A setting is missing or wrong; shown to the user as a usage error."""


class MissingCredentials(SettingsError):
    """A platform's credentials are not in the environment: a usage error, unless the session
    skips the runs of such a platform (``--qatech-missing-token skip``)."""

    def __init__(self, message: str, missing: str) -> None:
        super().__init__(message)
        #: The variables that are not set, as people read them: ``AUTONOMA_CLIENT_SECRET``.
        self.missing = missing


class Lookup:
    """A setting's value from the command line, else the ini file, else the environment, else
    the table's default. An option's ``dest`` and its ini key are the setting's name."""

    def __init__(
        self,
        option: Callable[[str], object],
        ini: Callable[[str], object],
        environ: Mapping[str, str],
    ) -> None:
        self._option = option
        self._ini = ini
        self._environ = environ

    def __repr__(self) -> str:
        return "Lookup()"

    @property
    def environ(self) -> Mapping[str, str]:
        return self._environ

    def value(self, setting: Setting) -> str | None:
        candidates = (
            self._option(setting.name),
            self._ini(setting.name) if setting.ini else None,
            self._environ.get(setting.variable) if setting.variable else None,
        )
        for candidate in candidates:
            if candidate is not None and str(candidate).strip() != "":
                value = str(candidate).strip()
                if setting.choices and value not in setting.choices:
                    raise SettingsError(
                        f"{setting.flag} {value!r} is not one of {', '.join(setting.choices)}: "
                        f"{setting.what}"
                    )
                return value
        return setting.default

    def values(self, setting: Setting) -> tuple[str, ...]:
        """A repeatable option's values, each once, in order (the command line only)."""
        given = self._option(setting.name)
        if not isinstance(given, list | tuple):
            return ()
        return unique(str(value).strip() for value in given if str(value).strip())

    def lines(self, setting: Setting) -> tuple[str, ...]:
        """An ini line list's lines (an ini file only)."""
        given = self._ini(setting.name)
        return tuple(str(line) for line in given) if isinstance(given, list) else ()

    def switch(self, setting: Setting) -> bool:
        """Whether a switch was given (the command line only)."""
        return bool(self._option(setting.name))

    def count(self, setting: Setting) -> int:
        """A setting's value as a whole number, 0 or more."""
        value = self.text(setting)
        if not (value.isascii() and value.isdigit()):
            raise SettingsError(f"{setting.flag} must be a whole number, 0 or more, not {value!r}")
        return int(value)

    def limit(self, setting: Setting) -> int | None:
        """A setting's value as a whole number, 0 or more; None, no limit, when it is unset."""
        return None if self.value(setting) is None else self.count(setting)

    def sizes(self, setting: Setting) -> tuple[int, ...]:
        """A setting's comma-separated whole numbers, each 1 or more."""
        value = self.text(setting)
        parts = [part.strip() for part in value.split(",")]
        if not all(part.isascii() and part.isdigit() and int(part) > 0 for part in parts):
            raise SettingsError(
                f"{setting.flag} {value!r} is not {setting.metavar}: whole numbers, 1 or more, "
                "separated by a comma"
            )
        return tuple(int(part) for part in parts)

    def api_url(self, setting: Setting, missing: str = "") -> str:
        """A URL setting's value, checked as a place the credentials may go."""
        value = self.value(setting)
        if value is None:
            raise SettingsError(missing or f"{setting.flag} is not set")
        return check_api_url(value, setting.flag)

    def url_segment(self, setting: Setting, what: str) -> str | None:
        """A setting's value, checked as something that can go into a URL path as it is."""
        value = self.value(setting)
        return None if value is None else check_url_segment(value, setting.flag, what)

    def text(self, setting: Setting) -> str:
        """The value of a setting that has a default."""
        value = self.value(setting)
        assert value is not None, f"{setting.name} has no default"
        return value

    def seconds(self, setting: Setting) -> float:
        value = self.text(setting)
        try:
            seconds = float(value)
        except ValueError:
            raise SettingsError(f"{setting.flag} {value!r} is not a number of seconds") from None
        if not math.isfinite(seconds) or seconds <= 0:
            raise SettingsError(
                f"{setting.flag} must be a positive number of seconds, not {value!r}"
            )
        return seconds

    def secret(self, credential: Credential) -> Secret | None:
        found = self.secret_of(credential)
        return found[0] if found is not None else None

    def secret_of(self, credential: Credential) -> tuple[Secret, str] | None:
        """The credential, and the variable it was read from (the first one set)."""
        for name in credential.variables:
            value = self._environ.get(name, "").strip()
            if value:
                return Secret(value), name
        return None


def labelled(platform: Platform, values: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """The run ids of ``--<platform>-run`` values, and the labels some of them are given
    (``staging=abc123``: run abc123, named staging in node ids), by run id."""
    run_ids: list[str] = []
    labels: dict[str, str] = {}
    for value in values:
        label, separator, run_id = value.partition("=")
        if not separator:
            run_ids.append(value)
            continue
        label, run_id = label.strip(), run_id.strip()
        if not is_path_segment(label):
            raise SettingsError(
                f"{platform.run_flag} {value!r}: the label {label!r} is not a name for node ids: "
                "expected 1 to 128 letters, digits, '-' or '_'"
            )
        if label in labels.values() and labels.get(run_id) != label:
            raise SettingsError(f"{platform.run_flag}: the label {label!r} is given twice")
        run_ids.append(run_id)
        labels[run_id] = label
    return run_ids, labels


def checked_run_ids(platform: Platform, run_ids: Iterable[str], what: str) -> tuple[str, ...]:
    """Each run id once, in order, if each can go into a URL path; else a usage error."""
    return unique(check_url_segment(run_id, platform.run_flag, what) for run_id in run_ids)


def check_url_segment(value: str, option: str, what: str) -> str:
    """``value`` if it can go into a URL path as it is, else a usage error naming ``option``."""
    if not is_path_segment(value):
        raise SettingsError(
            f"{option} {value!r} is not {what}: expected 1 to 128 letters, digits, '-' or '_'"
        )
    return value


def check_api_url(url: str, option: str) -> str:
    """``url`` without a trailing slash, if the credentials may go there; else a usage error."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{option} {url!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise SettingsError(f"{option} {url!r} must not have a query or a fragment")
    if not credentials_may_travel(url):
        raise SettingsError(
            f"{option} {url!r} uses plain http to a host that is not this machine; "
            "the API credentials would cross the network unencrypted. Use https "
            "(plain http is accepted only for 127.0.0.0/8, ::1 and localhost)."
        )
    return url.rstrip("/")


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """In order, each once: the same run twice would give duplicate node ids."""
    return tuple(dict.fromkeys(values))
