"""How the wait loop's requests go out: one at a time in the loop's own thread, or several at
once on worker threads. Either way the answers come back to the loop's thread, which alone
decides what they mean."""

from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pytest_qatech.core.api_request import ApiRequest
from pytest_qatech.core.client import RequestError

#: At most this many requests at once: enough to hide latency, few enough not to flood an API.
WORKERS = 8
#: What the loop sends a request for, handed back with its answer.
J = TypeVar("J")


class ApiClient(Protocol):
    """The part of :class:`~pytest_qatech.core.client.Client` the loop uses."""

    def url(self, request: ApiRequest) -> str: ...

    def fetch(self, request: ApiRequest, time_left: float | None = None) -> object: ...


@dataclass(frozen=True)
class Answer(Generic[J]):
    """What became of a request: a body, a request error, or (a bug) any other exception."""

    job: J
    body: object = None
    error: RequestError | None = None
    crash: BaseException | None = None


class Sender(Protocol[J]):
    """Sends the loop's requests and hands their answers back to the loop's thread."""

    @property
    def capacity(self) -> int:
        """How many requests may be under way at once."""
        ...

    def send(self, job: J, client: ApiClient, request: ApiRequest, time_left: float) -> None: ...

    def answer(self, timeout: float) -> Answer[J] | None:
        """The next answer, waiting at most ``timeout`` seconds for it; None if none came."""
        ...

    def close(self) -> None: ...


class SerialSender(Generic[J]):
    """One request at a time, sent in the loop's own thread, so its answer is there at once:
    the loop never waits for an answer, only for time, which a fake clock makes pass."""

    capacity = 1

    def __init__(self) -> None:
        self._answers: collections.deque[Answer[J]] = collections.deque()

    def send(self, job: J, client: ApiClient, request: ApiRequest, time_left: float) -> None:
        self._answers.append(_answer(_Todo(job, client, request, time_left)))

    def answer(self, timeout: float) -> Answer[J] | None:
        return self._answers.popleft() if self._answers else None

    def close(self) -> None:
        self._answers.clear()


class ThreadedSender(Generic[J]):
    """Up to ``workers`` requests at once, each on a worker thread of its own.

    Daemon threads: an interrupted session must not wait for a request still in flight.
    """

    def __init__(self, workers: int = WORKERS) -> None:
        self.capacity = workers
        self._todo: queue.SimpleQueue[_Todo[J] | None] = queue.SimpleQueue()
        # None: interrupt() wakes the loop without an answer.
        self._answers: queue.SimpleQueue[Answer[J] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._sent = 0
        self._lock = threading.Lock()
        #: The threads sending a request now, with the client each sends it through.
        self._working: dict[threading.Thread, ApiClient] = {}

    def send(self, job: J, client: ApiClient, request: ApiRequest, time_left: float) -> None:
        self._sent += 1
        if self._sent > len(self._threads):
            thread = threading.Thread(target=self._work, name="qatech-request", daemon=True)
            thread.start()
            # Only once started: Ctrl-C between the two must leave none that join() cannot join.
            self._threads.append(thread)
        self._todo.put(_Todo(job, client, request, time_left))

    def answer(self, timeout: float) -> Answer[J] | None:
        try:
            answer = self._answers.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if answer is not None:
            self._sent -= 1
        return answer

    def interrupt(self) -> None:
        """Wake the loop from :meth:`answer` at once, from any thread: it has been told to stop."""
        self._answers.put(None)

    def close(self) -> None:
        for _ in self._threads:
            self._todo.put(None)
        with self._lock:
            idle = [thread for thread in self._threads if thread not in self._working]
        # Idle threads end as soon as they take their None; busy ones are left to end alone.
        for thread in idle:
            thread.join(timeout=1.0)

    def cut(self) -> None:
        """End the requests under way at once (their clients cut their connections): the loop
        that sent them has stopped, and waits for none."""
        with self._lock:
            clients = list(self._working.values())
        for client in clients:
            cut = getattr(client, "cut", None)  # a real client; a fake one ends by itself
            if cut is not None:
                cut()

    def join(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds in all for the threads to end, after :meth:`close`
        (and :meth:`cut`, which ends the requests under way at once)."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        me = threading.current_thread()
        while (todo := self._todo.get()) is not None:
            with self._lock:
                self._working[me] = todo.client
            answer = _answer(todo)
            # Idle again before the answer is seen: close() must not wait for this thread.
            with self._lock:
                self._working.pop(me, None)
            self._answers.put(answer)


def _answer(todo: _Todo[J]) -> Answer[J]:
    try:
        body = todo.client.fetch(todo.request, time_left=todo.time_left)
    except RequestError as error:
        return Answer(todo.job, error=error)
    except BaseException as error:  # the loop's thread decides what it means
        return Answer(todo.job, crash=error)
    return Answer(todo.job, body)


@dataclass(frozen=True)
class _Todo(Generic[J]):
    job: J
    client: ApiClient
    request: ApiRequest
    time_left: float
