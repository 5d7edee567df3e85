"""Keep the screenshots and recordings of the remote cases that did not pass, before their links
expire (Autonoma's an hour after they are read) and where no dashboard login is needed.

Each case's media go to ``<dir>/<platform>/<run>/<case>/``, every part of the path made safe
from the remote names, so that nothing a server sends can write outside ``<dir>``. Downloads
carry no credential (:func:`~pytest_qatech.core.client.download`), run a few at a time, and are
bounded in size, a file and in all, and in time; one that fails is a warning, never a verdict.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pytest_qatech.core.client import RequestError, download
from pytest_qatech.core.models import Link, RemoteCase
from pytest_qatech.core.platforms import Settings, provider_class
from pytest_qatech.core.text import visible

#: At most this many downloads at once.
WORKERS = 4
TOTAL_REACHED = "the limit on the artifacts' total size is reached"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
MAX_SEGMENT = 80


@dataclass(frozen=True)
class Saved:
    """What became of one media link: the file it was saved to, or why it was not."""

    link: Link
    path: Path | None = None
    problem: str | None = None


def wanted(case: RemoteCase) -> bool:
    """Whether a case's media are kept: it failed, or gave no verdict."""
    return case.outcome.fails


def safe_segment(text: str) -> str:
    """``text`` as one harmless path segment: no separator, no ``..``, no control character."""
    segment = _UNSAFE.sub("_", text).strip("._")[:MAX_SEGMENT]
    return segment or "_"


def case_dir(root: Path, platform: str, run_id: str, case_name: str) -> Path:
    folder = root.joinpath(*(safe_segment(part) for part in (platform, run_id, case_name)))
    if not folder.resolve().is_relative_to(root.resolve()):  # pragma: no cover - safe_segment
        raise ValueError(f"{folder} is outside {root}")
    return folder


def file_names(case_name: str, links: Sequence[Link], taken: set[str]) -> list[str]:
    """A file name per link that is in none of ``taken`` (which then holds them too): the case,
    the link's kind and the extension its URL ends with. A name unique among all the files
    saved, not only in the case's folder: Jenkins' JUnit attachments plugin (before its release
    293) keeps one file per name per test class, and every case of a run shares its class."""
    names = []
    case = safe_segment(case_name)
    for link in links:
        extension = _EXTENSION.search(urlsplit(link.url).path)
        suffix = extension.group(0).lower() if extension else ""
        base = f"{case}-{safe_segment(link.kind)}"
        name, number = base + suffix, 2
        while name.lower() in taken:
            name, number = f"{base}-{number}{suffix}", number + 1
        taken.add(name.lower())
        names.append(name)
    return names


def shown_first(links: Sequence[Link]) -> list[Link]:
    """The screenshots first: GitLab shows only a test's first attachment, an image inline."""
    return sorted(links, key=lambda link: link.kind != "screenshot")


class ArtifactStore:
    """Downloads the media of cases into ``root``, a few at a time, until ``deadline``
    (``time.monotonic()``)."""

    def __init__(self, root: Path, limits: tuple[int, int], deadline: float) -> None:
        """``limits``: the most bytes one file, and all of them, may take."""
        self.root = root
        self.file_bytes, total_bytes = limits
        self.deadline = deadline
        self._left = total_bytes
        self._lock = threading.Lock()
        #: The file names given so far, as a case-insensitive file system compares them.
        self._names: set[str] = set()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="qatech-artifact")

    @classmethod
    def of(cls, settings: Settings) -> ArtifactStore:
        """The store ``--qatech-artifacts`` asks for, with its limits, until the wait's timeout
        from now."""
        assert settings.artifacts is not None
        deadline = time.monotonic() + settings.timeout
        return cls(Path(settings.artifacts), settings.artifact_limits, deadline)

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    def keep_case(self, platform: str, run_id: str, case: RemoteCase) -> list[Pending]:
        """Start saving the media of ``case``, if it did not pass: those its platform names."""
        if not wanted(case):
            return []
        return self.keep(platform, run_id, case, provider_class(platform).media(case))

    def results(self, pending: Sequence[Pending]) -> list[Saved]:
        """Each download's outcome, waiting until the store's deadline at most."""
        return results(pending, self.deadline)

    def keep(
        self, platform: str, run_id: str, case: RemoteCase, links: Sequence[Link]
    ) -> list[Pending]:
        """Start saving ``links``, the media of ``case``."""
        if not links:
            return []
        folder = case_dir(self.root, platform, run_id, case.name)
        links = shown_first(links)
        with self._lock:
            names = file_names(case.name, links, self._names)
        return [
            (link, self._pool.submit(self._save, link, folder / name))
            for link, name in zip(links, names, strict=True)
        ]

    def _save(self, link: Link, path: Path) -> Saved:
        time_left = self.deadline - time.monotonic()
        if time_left <= 0:
            return Saved(link, problem="no time left before the wait's timeout")
        with self._lock:
            if self._left <= 0:
                return Saved(link, problem=TOTAL_REACHED)
        try:
            with self._lock:
                # The folder and the file at once: a failed download beside this one removes
                # only folders that hold nothing.
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            size = download(link.url, path, self.file_bytes, time_left)
        except (RequestError, OSError) as error:
            with self._lock:
                self._discard(path)
            return Saved(link, problem=str(error))
        with self._lock:
            # Counted once saved, so that downloads under way do not hold the budget they may
            # not use; a file that does not fit in what is left is removed again.
            if size > self._left:
                self._discard(path)
                return Saved(link, problem=TOTAL_REACHED)
            self._left -= size
        return Saved(link, path)

    def _discard(self, path: Path) -> None:
        """Remove what a download that did not succeed left: its file, and the folders made
        for it that hold nothing else. The caller holds the lock."""
        path.unlink(missing_ok=True)
        for folder in path.parents:
            if folder == self.root or self.root not in folder.parents:
                break
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


#: A download under way: its link, and what will become of it.
Pending = tuple[Link, "Future[Saved]"]


def results(pending: Sequence[Pending], deadline: float) -> list[Saved]:
    """Each download's outcome, waiting until ``deadline`` at most."""
    saved = []
    for link, future in pending:
        try:
            saved.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            saved.append(Saved(link, problem="no time left before the wait's timeout"))
    return saved


def not_saved(saved: Sequence[Saved], nodeid: str) -> list[str]:
    """A warning per file of the case ``nodeid`` that could not be saved, and why."""
    return [
        visible(f"could not save {entry.link.kind} of {nodeid}: {entry.problem}")
        for entry in saved
        if entry.problem is not None
    ]


def saved_lines(saved: Sequence[Saved]) -> str:
    """The files saved, a line each (``screenshot: DIR/...``), for people."""
    return "".join(f"{item.link.kind}: {item.path}\n" for item in saved if item.path is not None)


def attachment_lines(saved: Sequence[Saved], project: Path) -> str:
    """The JUnit ``system-out`` lines that GitLab and Jenkins' attachments plugin read, a path
    relative to ``project`` where the file is in it: GitLab links an attachment as a path among
    the job's artifacts, which are relative to the project's folder."""
    return "".join(
        f"[[ATTACHMENT|{_relative(item.path, project)}]]\n" for item in saved if item.path
    )


def project_folder(environ: Mapping[str, str], here: Path) -> Path:
    """The folder the attachments' paths are relative to: GitLab's ``CI_PROJECT_DIR``, else
    where the command was started."""
    return Path(environ.get("CI_PROJECT_DIR") or here)


def _relative(path: Path, project: Path) -> str:
    resolved, base = path.resolve(), project.resolve()
    return resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else str(path)
