"""Make the documentation's pictures from a real session against the simulator.

    python docs/pictures.py

One pytest session of the README's demo (QA.tech run abc123, with pytest-html, the artifacts
saved and a GitHub job summary written), then three pictures in ``docs/_static/``, each a page
captured by headless Chromium (``chromium`` on the PATH):

- ``remote-failure.png``: the terminal's failure section and summary, its colours kept;
- ``pytest-html.png``: pytest-html's report, the agent's steps and the screenshot inline;
- ``job-summary.png``: the GitHub job summary, as Markdown rendered.

Nothing here is drawn by hand: when the output changes, run it again.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

from pytest_qatech.simulator import demo_simulator, environment

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "docs" / "_static"
#: pytest's colours, as a dark terminal shows them.
COLOURS = {"31": "#f7768e", "32": "#9ece6a", "33": "#e0af68", "36": "#7dcfff", "90": "#8c8fa1"}
TERMINAL_PAGE = """<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; background: #1a1b26; }}
pre {{ margin: 0; padding: 16px 20px; color: #c0caf5; font: 13px/18px "DejaVu Sans Mono",
  monospace; white-space: pre-wrap; }}
</style><pre>{body}</pre>"""
SUMMARY_PAGE = """<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; padding: 24px 32px; font: 14px/1.5 -apple-system, "Segoe UI", "DejaVu Sans",
  sans-serif; color: #1f2328; background: #fff; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; }}
th, td {{ border: 1px solid #d1d9e0; padding: 6px 13px; text-align: left; }}
tr:nth-child(2n) td {{ background: #f6f8fa; }}
code {{ background: #eff1f3; padding: 2px 5px; border-radius: 6px; font-size: 85%; }}
h2 {{ border-bottom: 1px solid #d1d9e0; padding-bottom: 6px; }}
a {{ color: #0969da; text-decoration: none; }}
</style>{body}"""


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("pictures.py needs chromium on the PATH (Debian: apt-get install chromium)")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        shutil.copytree(ROOT / "demo", work / "demo")
        output = session(work)
        terminal = work / "terminal.html"
        # What a reader looks at: the session, not the machine's versions and paths.
        shown = [
            line
            for line in output.splitlines()
            if not re.match(r"(\x1b\[[0-9;]*m)*(platform |rootdir: |plugins: |cachedir: )", line)
        ]
        terminal.write_text(TERMINAL_PAGE.format(body=ansi_to_html("\n".join(shown))), "utf-8")
        height = 32 + 18 * len(shown)
        capture(chromium, terminal, STATIC / "remote-failure.png", (980, height))
        capture(chromium, work / "report.html", STATIC / "pytest-html.png", (1200, 1000))
        summary = work / "summary.html"
        markdown = (work / "summary.md").read_text(encoding="utf-8")
        rendered = MarkdownIt("commonmark").enable("table").render(markdown)
        summary.write_text(SUMMARY_PAGE.format(body=rendered), encoding="utf-8")
        capture(chromium, summary, STATIC / "job-summary.png", (900, 560))
    return 0


def session(work: Path) -> str:
    """The README demo's session, coloured as on a terminal; what it printed."""
    with demo_simulator(media=True) as simulator:
        env = {
            **os.environ,
            **environment(simulator.url),
            "COLUMNS": "100",
            # A new cache: the failure is new, as the job summary says.
            "PYTEST_ADDOPTS": "-p no:randomly",
            "GITHUB_STEP_SUMMARY": str(work / "summary.md"),
        }
        command = [
            sys.executable, "-m", "pytest", "--qatech-run", "abc123",
            "--qatech-poll-interval", "0.2", "--color=yes", "--html=report.html",
            "--qatech-artifacts=artifacts", "demo",
        ]  # fmt: skip
        done = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, check=False
        )
    if done.returncode != 1:
        raise SystemExit(
            f"the demo session ended {done.returncode}, not 1:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def ansi_to_html(text: str) -> str:
    """Terminal text with pytest's SGR colours as HTML spans."""
    out, open_spans = [], 0
    for part in re.split(r"(\x1b\[[0-9;]*m)", text):
        codes = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
        if codes is None:
            out.append(html.escape(part))
            continue
        for code in codes.group(1).split(";") or ["0"]:
            if code in ("", "0"):
                out.append("</span>" * open_spans)
                open_spans = 0
            elif code == "1":
                out.append('<span style="font-weight:bold">')
                open_spans += 1
            elif code in COLOURS:
                out.append(f'<span style="color:{COLOURS[code]}">')
                open_spans += 1
    return "".join(out) + "</span>" * open_spans


def capture(chromium: str, page: Path, picture: Path, size: tuple[int, int]) -> None:
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={picture}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"wrote {picture.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
