"""A request's deadline, kept whatever the server does: when its time is up, the connection the
request uses is cut, so the read that waits on it returns at once.

requests' timeouts bound each wait for a byte, not a request: a server that drips a byte every
few seconds holds a request for ever. urllib3 gives no hook to the connection a request uses, so
:class:`WatchedAdapter`'s pools note it, per thread, for the :class:`Deadline` of that thread's
request.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: The longest a request's end waits for its watch to end, which it does at once once woken.
JOIN_SECONDS = 1.0
#: The deadline of the request each thread is sending, if any.
_watched = threading.local()


class Deadline:
    """Cuts a request's connection when its time is up, whatever the server is doing then.

    The connection is the one :class:`WatchedAdapter`'s pools hand this thread for the request;
    shutting its socket down makes the read that waits on it return at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.passed = False
        self.connection: Any = None
        self._over = threading.Event()
        #: Set when the request is over, or is to be cut before its time (:meth:`cut_now`).
        self._wake = threading.Event()
        self._watch = threading.Thread(target=self._cut, name="qatech-deadline", daemon=True)

    def __enter__(self) -> Deadline:
        _watched.deadline = self
        self._watch.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _watched.deadline = None
        self._over.set()
        self._wake.set()
        # Woken, it ends at once: a request over leaves no thread of its own behind.
        self._watch.join(JOIN_SECONDS)

    def cut_now(self) -> None:
        """Cut the request at once, as if its time were up: the wait it serves is over."""
        self._wake.set()

    def _cut(self) -> None:
        self._wake.wait(self.seconds)
        if self._over.is_set():
            return
        self.passed = True
        # Until the request ends: a connection still being opened has no socket yet.
        while not self._over.is_set():
            sock = getattr(self.connection, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                return
            self._over.wait(0.05)


def _note(connection: Any) -> Any:
    """``connection`` as the one the current request of this thread uses."""
    deadline: Deadline | None = getattr(_watched, "deadline", None)
    if deadline is not None:
        deadline.connection = connection
    return connection


class _WatchedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _note(super()._get_conn(timeout))


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _note(super()._get_conn(timeout))


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """An adapter whose connections a :class:`Deadline` can find, proxied or not."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager
