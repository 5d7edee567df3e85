"""Ctrl-C, taken once: what both front ends install in the process's main thread while they
wait for remote runs."""

from __future__ import annotations

import atexit
import signal
import threading
import time

#: How long after Ctrl-C another is taken for the same one.
GRACE_SECONDS = 2.0


class Interrupts:
    """Ctrl-C as Python's own handler takes it (a ``KeyboardInterrupt``), but a second one that
    comes within :data:`GRACE_SECONDS` of the first is the same interrupt, not a new one that
    would break pytest's stopping with a traceback: ``timeout -s INT`` signals the process, then
    its group. Installed by the process that talks to the APIs, in its main thread, only over
    Python's own handler, and put back when the session is over."""

    def __init__(self) -> None:
        self._first: float | None = None
        self._installed = False

    def install(self) -> None:
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._interrupted)
            self._installed = True

    @property
    def happened(self) -> bool:
        """Whether Ctrl-C came: nothing is waited for any more."""
        return self._first is not None

    def uninstall(self) -> None:
        """Put Python's own handler back; not after Ctrl-C came: the process is stopping, and
        the second signal may still be on its way."""
        if self.happened:
            return
        if self._installed and signal.getsignal(signal.SIGINT) == self._interrupted:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        self._installed = False

    def _interrupted(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        if self._first is not None and now - self._first < GRACE_SECONDS:
            return
        if self._first is None:
            # Python puts the default action back as it exits, and a second signal on its way
            # would then end the process with it: as it exits, the signal is ignored instead.
            atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)
        self._first = now
        raise KeyboardInterrupt
