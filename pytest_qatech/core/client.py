"""HTTP: one GET at a time, with timeouts, and every way it can go wrong sorted into
"try again later" (:class:`TransientError`) or "this will not get better" (:class:`FinalError`).

Retrying is not done here but by the wait loop in :mod:`pytest_qatech.core.waiting`, so that
one run backing off never holds up the others. This is the only module that imports ``requests``
and it is imported only when a run is asked for.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping

import requests

from pytest_qatech import __version__
from pytest_qatech.core.lookup import Secret
from pytest_qatech.core.providers.base import ApiRequest
from pytest_qatech.core.urls import credentials_may_travel

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
# 10,000 cases with long evaluation texts stay far below this; a larger body is no API answer.
MAX_BODY_BYTES = 64 * 1024 * 1024
_SNIPPET = 200
_OS_REASON = re.compile(r"\[Errno -?\d+\][^'\")]*|Read timed out|timed out")


class RequestError(Exception):
    """A request did not give a usable answer. The message never holds a credential."""


class TransientError(RequestError):
    """Worth trying again: network trouble, a 5xx or a 429.

    ``retry_after`` is the delay the server asked for, in seconds, when it asked.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FinalError(RequestError):
    """Trying again would give the same answer: a 4xx, a redirect, a body that is not JSON."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class Client:
    def __init__(
        self,
        base_url: str,
        auth_headers: Mapping[str, Secret],
    ) -> None:
        if not credentials_may_travel(base_url):
            raise ValueError("credentials are sent only over https, or plain http to loopback")
        self._base_url = base_url.rstrip("/")
        self._auth_headers = dict(auth_headers)
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"pytest-qatech/{__version__}"
        self._session.headers["Accept"] = "application/json"

    def __repr__(self) -> str:
        return f"Client({self._base_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, request: ApiRequest) -> str:
        return self._base_url + request.path

    def get_json(self, request: ApiRequest, time_left: float | None = None) -> object:
        """GET ``request`` and return its JSON body, or raise a :class:`RequestError`.

        ``time_left`` caps the connect and read timeouts, so no request outlives the wait.
        """
        headers = {name: secret.reveal() for name, secret in self._auth_headers.items()}
        connect, read = CONNECT_TIMEOUT, READ_TIMEOUT
        if time_left is not None:
            connect, read = min(connect, time_left), min(read, time_left)
        try:
            with self._session.get(
                self.url(request),
                params=request.params,
                headers=headers,
                timeout=(connect, read),
                # A redirect could carry the credentials to another host; the API never needs one.
                allow_redirects=False,
                stream=True,
            ) as response:
                return self._read(response)
        except requests.Timeout as error:
            raise TransientError(f"no answer in time ({_cause(error)})") from None
        except requests.ConnectionError as error:
            raise TransientError(f"connection failed ({_cause(error)})") from None
        except requests.RequestException as error:
            raise TransientError(f"request failed ({_cause(error)})") from None

    def _read(self, response: requests.Response) -> object:
        status = response.status_code
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise FinalError(
                f"HTTP {status}: the API redirected to {location}; redirects are not followed "
                "(they could carry the token elsewhere), so point the API URL at the final "
                "address",
                status,
            )
        body = _read_capped(response)
        if status == 429 or status >= 500:
            raise TransientError(
                f"HTTP {status} {response.reason}{_server_says(body)}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 400:
            raise FinalError(f"HTTP {status} {response.reason}{_server_says(body)}", status)
        if status != 200:
            raise FinalError(f"HTTP {status} {response.reason}: expected 200 with a JSON body")
        try:
            return json.loads(body)
        except ValueError:
            content_type = response.headers.get("Content-Type", "no content type")
            raise FinalError(
                f"the answer is not JSON ({content_type}, {len(body)} bytes): {_snippet(body)}"
            ) from None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


def _read_capped(response: requests.Response) -> bytearray:
    # One growing buffer, not chunks and then their joined copy: a large run's body is held once.
    body = bytearray()
    for chunk in response.iter_content(chunk_size=1 << 16):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise FinalError(
                f"the answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
                "that is not a run the API describes"
            )
    return body


def _server_says(body: bytearray) -> str:
    """The server's own explanation: ``{"message": ...}`` (QA.tech) or ``{"error": ...}``."""
    try:
        data = json.loads(body)
    except ValueError:
        return f": {_snippet(body)}" if body.strip() else ""
    if isinstance(data, dict):
        for key in ("message", "error"):
            if isinstance(data.get(key), str) and data[key]:
                return f': "{data[key]}"'
    return f": {_snippet(body)}"


def _snippet(body: bytearray) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "...")


def _cause(error: requests.RequestException) -> str:
    """The OS-level reason when there is one ("[Errno 111] Connection refused"), else the text."""
    text = str(error)
    reason = _OS_REASON.search(text)
    return f"{type(error).__name__}: {reason.group(0) if reason else text[:_SNIPPET]}"
