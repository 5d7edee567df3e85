"""HTTP: one request at a time, with timeouts, and every way it can go wrong sorted into
"try again later" (:class:`TransientError`) or "this will not get better" (:class:`FinalError`).

Everything a server sends is hostile until checked, and this is where it comes in: a request
ends by its deadline whatever the server does, an answer is read only up to a size and a
depth, and every string in it is cleaned (:func:`~pytest_qatech.core.text.clean`) before
anything else sees it. Retrying is not done here but by the wait loop in
:mod:`pytest_qatech.core.waiting`, so that one run backing off never holds up the others. This
is the only module that imports ``requests``, and it is imported only when a run is asked for.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from pytest_qatech import __version__
from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.deadline import Deadline, WatchedAdapter
from pytest_qatech.core.secrets import Secret
from pytest_qatech.core.text import clean, format_duration
from pytest_qatech.core.urls import credentials_may_travel

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
#: The longest any one request may take, whatever the server does: socket timeouts bound each
#: read, and a server that answers a byte at a time keeps every read alive.
MAX_REQUEST_SECONDS = 60.0
# 10,000 cases with long evaluation texts stay far below this; a larger body is no API answer.
MAX_BODY_BYTES = 64 * 1024 * 1024
_SNIPPET = 200
_OS_REASON = re.compile(r"\[Errno -?\d+\][^'\")]*|Read timed out|timed out")
_TLS_REASON = re.compile(r"\[SSL: [A-Z_]+\][^'\"]*")


class RequestError(Exception):
    """A request did not give a usable answer. The message never holds a credential."""


class TransientError(RequestError):
    """Worth trying again: network trouble, a 5xx or a 429.

    ``retry_after`` is the delay the server asked for, in seconds, when it asked.
    ``delivered`` is False only when the request cannot have reached the server (no connection
    was made), and ``http_status`` is the status of an answer, when there was one.
    """

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        delivered: bool = True,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.delivered = delivered
        self.http_status = http_status

    @property
    def safe_to_repeat(self) -> bool:
        """Whether a POST may be sent again: it never reached the server, or the server
        refused it unread (429). After a timeout or a 5xx it may have done its work."""
        return not self.delivered or self.http_status == 429


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
        #: The deadlines of the requests under way, which :meth:`cut` cuts.
        self._under_way: set[Deadline] = set()
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"pytest-qatech/{__version__}"
        self._session.headers["Accept"] = "application/json"
        for scheme in ("http://", "https://"):
            self._session.mount(scheme, WatchedAdapter())
        if urlsplit(base_url).scheme == "http":
            # Plain http goes only to this machine, and never through a proxy (HTTP_PROXY)
            # nor with a .netrc's login: the credentials would travel in clear.
            self._session.trust_env = False

    def __repr__(self) -> str:
        return f"Client({self._base_url!r})"

    def close(self) -> None:
        self._session.close()

    def cut(self) -> None:
        """End every request under way at once, from any thread: nothing waits for them."""
        with self._lock:
            under_way = list(self._under_way)
        for deadline in under_way:
            deadline.cut_now()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, request: ApiRequest) -> str:
        return self._base_url + request.path

    def fetch(self, request: ApiRequest, time_left: float | None = None) -> object:
        """Send ``request`` and return its JSON body, cleaned, or raise a :class:`RequestError`.

        The request ends within ``time_left`` (and :data:`MAX_REQUEST_SECONDS`), whatever the
        server does, so no request outlives the wait.
        """
        headers = {name: secret.reveal() for name, secret in self._auth_headers.items()}
        if request.body is not None:
            headers["Content-Type"] = "application/json"
        seconds, timeouts = _bounds(time_left)
        with Deadline(seconds) as deadline, self._watching(deadline):
            try:
                with self._session.request(
                    request.method,
                    self.url(request),
                    params=request.params,
                    data=None if request.body is None else request.body.encode("utf-8"),
                    headers=headers,
                    timeout=timeouts,
                    # A redirect could carry the credentials to another host; the API never
                    # needs one.
                    allow_redirects=False,
                    stream=True,
                ) as response:
                    answer = self._read(response)
            except (RequestError, requests.RequestException) as error:
                if deadline.passed:
                    raise _too_late(deadline) from None
                if isinstance(error, RequestError):
                    raise
                raise _sorted(error) from None
            if deadline.passed:  # whatever came before the connection was cut is not all
                raise _too_late(deadline)
            return answer

    @contextlib.contextmanager
    def _watching(self, deadline: Deadline) -> Iterator[None]:
        with self._lock:
            self._under_way.add(deadline)
        try:
            yield
        finally:
            with self._lock:
                self._under_way.discard(deadline)

    def _read(self, response: requests.Response) -> object:
        status = response.status_code
        reason = clean(response.reason or "")
        if 300 <= status < 400:
            location = clean(response.headers.get("Location", "?"))
            raise FinalError(
                f"HTTP {status}: the API redirected to {location}; redirects are not followed "
                "(they could carry the token elsewhere), so point the API URL at the final "
                "address",
                status,
            )
        body = _read_capped(response, status)
        if status == 429 or status >= 500:
            raise TransientError(
                f"HTTP {status} {reason}{_server_says(body)}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                http_status=status,
            )
        if status >= 400:
            raise FinalError(f"HTTP {status} {reason}{_server_says(body)}", status)
        # The references say 200; any success is one (a POST may well answer 201).
        if not 200 <= status < 300:
            raise FinalError(f"HTTP {status} {reason}: expected a success with a JSON body")
        # A success that cannot be read carries its status: the request did reach the server.
        try:
            return _cleaned(json.loads(body))
        except RecursionError:
            raise FinalError(
                f"the answer is nested too deeply to read ({len(body)} bytes)", status
            ) from None
        except ValueError:
            content_type = clean(response.headers.get("Content-Type", "no content type"))
            raise FinalError(
                f"the answer is not JSON ({content_type}, {len(body)} bytes): {_snippet(body)}",
                status,
            ) from None


#: Redirects a media link may take (pre-signed links often go through one or two).
MAX_MEDIA_REDIRECTS = 5


class _NoAuth(requests.auth.AuthBase):
    """No credentials at all: not even a ``.netrc`` entry for the media host."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def download(url: str, path: Path, max_bytes: int, time_left: float) -> int:
    """Save the file at ``url`` (a media link: pre-signed, public) to ``path``; its size.

    No platform credential goes with it, nor any other: the request carries no Authorization
    or client header, and ``.netrc`` is not read. It goes over https, or plain http to this
    machine, also after a redirect; ``max_bytes`` and ``time_left`` bound it. A partial file
    is never left behind.
    """
    seconds, timeouts = _bounds(time_left)
    partial = path.with_name(path.name + ".part")
    with requests.Session() as session, Deadline(seconds) as deadline:
        session.auth = _NoAuth()
        session.headers["User-Agent"] = f"pytest-qatech/{__version__}"
        for scheme in ("http://", "https://"):
            session.mount(scheme, WatchedAdapter())
        try:
            for _ in range(MAX_MEDIA_REDIRECTS + 1):
                if not credentials_may_travel(url):
                    raise FinalError(f"{_link(url)} is neither https nor on this machine")
                with session.get(url, timeout=timeouts, allow_redirects=False, stream=True) as got:
                    if 300 <= got.status_code < 400 and "Location" in got.headers:
                        url = requests.compat.urljoin(url, got.headers["Location"])
                        continue
                    if got.status_code != 200:
                        raise FinalError(f"HTTP {got.status_code} {clean(got.reason or '')}")
                    size = int(got.headers.get("Content-Length") or 0)
                    if size > max_bytes:
                        raise FinalError(f"{size:,} bytes, more than the {max_bytes:,} allowed")
                    return _save(got, partial, path, max_bytes)
            raise FinalError(f"more than {MAX_MEDIA_REDIRECTS} redirects")
        except requests.RequestException as error:
            raise _too_late(deadline) if deadline.passed else _sorted(error) from None
        finally:
            partial.unlink(missing_ok=True)


def _too_late(deadline: Deadline) -> TransientError:
    return TransientError(
        f"no answer in time: the request took longer than {format_duration(deadline.seconds)}"
    )


def _bounds(time_left: float | None) -> tuple[float, tuple[float, float]]:
    """A request's whole time, and its connect and read timeouts, within ``time_left``."""
    seconds = MAX_REQUEST_SECONDS if time_left is None else min(MAX_REQUEST_SECONDS, time_left)
    return seconds, (min(CONNECT_TIMEOUT, seconds), min(READ_TIMEOUT, seconds))


def _save(response: requests.Response, partial: Path, path: Path, max_bytes: int) -> int:
    written = 0
    with partial.open("wb") as out:
        for chunk in response.iter_content(chunk_size=1 << 16):
            written += len(chunk)
            if written > max_bytes:
                raise FinalError(f"more than the {max_bytes:,} bytes allowed")
            out.write(chunk)
    _check_whole(response)
    partial.replace(path)
    return written


def _link(url: str) -> str:
    """A link for a message, without its query: a pre-signed link's signature stays out."""
    parts = urlsplit(url)
    return clean(f"{parts.scheme}://{parts.netloc}{parts.path}")


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


def _read_capped(response: requests.Response, status: int) -> bytearray:
    # One growing buffer, not chunks and then their joined copy: a large run's body is held once.
    body = bytearray()
    for chunk in response.iter_content(chunk_size=1 << 16):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise FinalError(
                f"the answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
                "that is not a run the API describes",
                status,
            )
    _check_whole(response)
    return body


def _check_whole(response: requests.Response) -> None:
    """Refuse a body shorter than its ``Content-Length``, as urllib3 2 does itself; urllib3
    1.26 (which requests 2.28, the lowest declared, may bring) hands it over as if whole.
    Counted on the wire (``tell``), before any decompression."""
    announced = response.headers.get("Content-Length", "")
    received = response.raw.tell() if response.raw is not None else None
    if announced.isdigit() and received is not None and received < int(announced):
        raise TransientError(
            f"connection failed (the answer was cut short: {received} of {announced} bytes)"
        )


def _server_says(body: bytearray) -> str:
    """The server's own explanation: ``{"message": ...}`` (QA.tech) or ``{"error": ...}``."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return f": {_snippet(body)}" if body.strip() else ""
    if isinstance(data, dict):
        for key in ("message", "error"):
            if isinstance(data.get(key), str) and data[key]:
                return f': "{clean(data[key])}"'
    return f": {_snippet(body)}"


def _snippet(body: bytearray) -> str:
    text = clean(" ".join(body.decode("utf-8", "replace").split()))
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "...")


def _cleaned(data: object) -> object:
    """``data`` (decoded JSON) with every string in it, keys too, made fit to keep."""
    if isinstance(data, str):
        return clean(data)
    # A loop, not recursion: json.loads accepts nesting almost as deep as the stack allows.
    todo = [data]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, str):
                    node[index] = clean(value)
                elif isinstance(value, list | dict):
                    todo.append(value)
        elif isinstance(node, dict):
            for key in list(node):
                value = node[key]
                if isinstance(value, str):
                    node[key] = clean(value)
                elif isinstance(value, list | dict):
                    todo.append(value)
                if (cleaned := clean(key)) != key:
                    node[cleaned] = node.pop(key)
    return data


def _sorted(error: requests.RequestException) -> RequestError:
    """What a failure of ``requests`` means here."""
    if isinstance(error, requests.exceptions.SSLError):
        reason = _TLS_REASON.search(str(error))
        tls = clean(reason.group(0).strip() if reason else _cause(error))
        if "CERTIFICATE" in tls.upper():
            # Trying again will meet the same certificate.
            return FinalError(
                f"TLS: the server's certificate could not be verified ({tls}). If a proxy or a "
                "private certificate authority signs it, set REQUESTS_CA_BUNDLE to the file of "
                "that authority's certificate (PEM)"
            )
        return TransientError(f"TLS failed ({tls})")
    if isinstance(error, requests.ConnectTimeout):
        return TransientError(f"no connection in time ({_cause(error)})", delivered=False)
    if isinstance(error, requests.Timeout):
        return TransientError(f"no answer in time ({_cause(error)})")
    if isinstance(error, requests.ConnectionError):
        return TransientError(
            f"connection failed ({_cause(error)})", delivered=not _never_connected(error)
        )
    return TransientError(f"request failed ({_cause(error)})")


def _never_connected(error: requests.ConnectionError) -> bool:
    """Whether no connection was ever made (refused, or no such host): nothing was sent."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _cause(error: requests.RequestException) -> str:
    """The OS-level reason when there is one ("[Errno 111] Connection refused"), else the text."""
    text = clean(str(error))
    reason = _OS_REASON.search(text)
    return f"{type(error).__name__}: {reason.group(0) if reason else text[:_SNIPPET]}"
