"""``--qatech-artifacts DIR``: the media of each remote case that did not pass, saved as its
item reports, and shown where CI tools and people look: JUnit's ``system-out`` (as GitLab and
Jenkins' attachments plugin read it), the failure text, and pytest-html's report."""

from __future__ import annotations

import mimetypes
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest

from pytest_qatech.core import artifacts
from pytest_qatech.core.platforms import Settings
from pytest_qatech.session.items import RemoteCaseItem, RemoteItem

#: The title of the report section that names the files saved.
SECTION = "qatech artifacts"


class ArtifactKeeping:
    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self._config = config
        self.store = artifacts.ArtifactStore.of(settings)
        self._warnings: list[str] = []

    def __repr__(self) -> str:
        return f"ArtifactKeeping({self.store!r})"

    def add_media(self, item: RemoteItem, report: pytest.TestReport) -> None:
        """Save the media of the case whose verdict ``report`` reports, if it did not pass, and
        name them in the report (a :data:`~.reports.Addition`)."""
        if not isinstance(item, RemoteCaseItem) or report.when != item.verdict_phase:
            return
        case = item.case
        if case is None:
            return
        saved = self.store.results(self.store.keep_case(item.run.provider, item.run.run_id, case))
        self._warnings += artifacts.not_saved(saved, item.nodeid)
        kept = [entry for entry in saved if entry.path is not None]
        if kept:
            # People read the files in the section; the attachment markup is JUnit's.
            report.sections.append((SECTION, artifacts.saved_lines(kept)))
            project = artifacts.project_folder(os.environ, self._config.invocation_params.dir)
            lines = artifacts.attachment_lines(kept, project)
            report.qatech_attachments = lines  # type: ignore[attr-defined]
            _add_html_extras(item, report, kept)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        lines = getattr(report, "qatech_attachments", "")
        if not lines:
            return
        from _pytest.junitxml import xml_key

        junit = self._config.stash.get(xml_key, None)
        if junit is None:
            return
        # pytest writes system-out only with junit_logging; the attachments go there whatever
        # it is set to.
        system_out = ET.Element("system-out")
        system_out.text = lines
        junit.node_reporter(report).append(system_out)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self._warnings:
            return
        # A section of their own: after the failures, they would read as the last one's text.
        terminalreporter.section("qatech artifacts not saved", yellow=True)
        for warning in self._warnings:
            terminalreporter.write_line(f"qatech: warning: {warning}", yellow=True)

    def pytest_sessionfinish(self) -> None:
        self.store.close()


def _add_html_extras(
    item: pytest.Item, report: pytest.TestReport, kept: Sequence[artifacts.Saved]
) -> None:
    """Screenshots inline and every file linked, when pytest-html writes a report."""
    html: Any = item.config.pluginmanager.getplugin("html")
    if html is None or not hasattr(html, "extras"):
        return
    extras = list(getattr(report, "extras", []))
    for entry in kept:
        assert entry.path is not None
        if entry.link.kind == "screenshot":
            # pytest-html calls every image a PNG unless told; a platform may send a JPEG.
            mime = mimetypes.guess_type(entry.path.name)[0] or "image/png"
            extension = entry.path.suffix.lstrip(".") or "png"
            image = html.extras.image(
                str(entry.path), name=entry.path.name, mime_type=mime, extension=extension
            )
            extras.append(image)
        extras.append(html.extras.url(str(entry.path), name=f"{entry.link.kind}: {entry.path}"))
    report.extras = extras  # type: ignore[attr-defined]
