"""The documentation keeps true: its reference lists every option, ini key and hook the code
has (written from the code), and every command it shows is run here or says why it cannot be."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from pytest_qatech.cli import main
from pytest_qatech.simulator import demo_simulator, environment

from .helpers import BOUND

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
#: Where commands are shown: the README, CONTRIBUTING.md and the documentation's pages.
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(DOCS.rglob("*.md"))]
PAGES = [page for page in PAGES if "_build" not in page.parts]
SIMULATOR = ".venv/bin/python -m pytest_qatech.simulator "
#: Commands that are not run here, and why: each is a prefix of a line of a ``sh`` block.
NOT_RUN_HERE = {
    "python3 -m venv .venv && ": "an install from the package index: .ci/run makes its venvs so",
    ".venv/bin/pip install -e '.[docs,test]' && .venv/bin/python docs/pictures.py": "needs "
    "Chromium: run by hand to make the pictures again",
    "pip install pytest-qatech": "an install from the package index",
    "export ": "a real platform's credentials",
    "pytest --": "a real platform's run",
    "qatech-junit abc123 [": "a usage line, not a command",
    "bash .ci/run": "the whole gate: CI runs it",
}


def reference() -> ModuleType:
    """docs/_ext/qatech_reference.py, which writes the reference's generated parts."""
    spec = importlib.util.spec_from_file_location(
        "qatech_reference", DOCS / "_ext/qatech_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_option_and_ini_key_of_pytest_help_is_in_the_reference(
    pytester: pytest.Pytester,
) -> None:
    shown = pytester.runpytest_inprocess("--help").stdout.str()
    flags = set(re.findall(r"(--(?:qatech|testvibe|autonoma)-[a-z-]+)", shown))
    keys = set(re.findall(r"^  ((?:qatech|testvibe|autonoma)_\w+) \(", shown, re.M))
    assert len(flags) > 20
    assert len(keys) > 15
    written = reference().options_markdown()
    assert [flag for flag in sorted(flags) if f"`{flag}" not in written] == []
    assert [key for key in sorted(keys) if f"`{key}`" not in written] == []


def test_every_option_of_qatech_junit_is_in_its_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    flags = set(re.findall(r"(--[a-z][a-z-]+|-o)\b", capsys.readouterr().out))
    written = reference().cli_markdown()
    assert len(flags) > 15
    assert [flag for flag in sorted(flags) if f"`{flag}`" not in written] == []


def test_every_hook_is_in_the_reference() -> None:
    from pytest_qatech import hooks

    declared = [name for name in vars(hooks) if name.startswith("pytest_qatech_")]
    written = reference().hooks_markdown()
    assert len(declared) == 5
    assert [name for name in declared if f"## `{name}(" not in written] == []
    # Its docstring, as Markdown.
    assert "The first implementation that returns something other than None wins." in written


@pytest.mark.parametrize(
    ("page", "part"),
    [
        ("reference/options.md", "options"),
        ("reference/qatech-junit.md", "qatech-junit"),
        ("reference/hooks.md", "hooks"),
    ],
)
def test_each_generated_part_has_its_page(page: str, part: str) -> None:
    assert f"<!-- generated: {part} -->" in (DOCS / page).read_text(encoding="utf-8")
    assert part in reference().GENERATED


def command_lines() -> list[tuple[Path, str]]:
    """Every line of every ``sh`` block of the pages, with its page."""
    found = []
    for page in PAGES:
        for block in re.findall(
            r"^ *```sh\n(.*?)^ *```", page.read_text(encoding="utf-8"), re.M | re.S
        ):
            found += [(page, line.strip()) for line in block.splitlines() if line.strip()]
    return found


def test_every_command_shown_is_run_here_or_says_why_not() -> None:
    lines = command_lines()
    assert len(lines) > 15
    unaccounted = [
        f"{page.relative_to(ROOT)}: {line}"
        for page, line in lines
        if not (simulated(line) or line.startswith(tuple(NOT_RUN_HERE)))
    ]
    assert unaccounted == []


def simulated(line: str) -> list[str] | None:
    """The arguments of ``python -m pytest_qatech.simulator`` in a line (after any install it
    chains to first), with this process's Python for the venv's; None for a line that runs
    none."""
    command = line.rpartition(" && ")[2]
    if not command.startswith(SIMULATOR):
        return None
    words = command.removeprefix(SIMULATOR).split()
    at = words.index("--")
    assert words[at + 1] == ".venv/bin/pytest", line
    return [*words[: at + 1], sys.executable, "-m", "pytest", *words[at + 2 :]]


@dataclass(frozen=True)
class Ran:
    code: int
    output: str
    #: Where it ran: a copy of the demo, and what the command wrote.
    here: Path


def run_as_the_simulator_does(arguments: tuple[str, ...], here: Path) -> Ran:
    """``python -m pytest_qatech.simulator ARGUMENTS``: its simulator in this process (as its
    ``main`` makes it), its command in a process of its own, what it printed captured."""
    options, command = arguments[: arguments.index("--")], arguments[arguments.index("--") + 1 :]
    with demo_simulator(media="--serve-media" in options) as simulator:
        env = {
            **os.environ,
            **environment(simulator.url),
            "PYTEST_ADDOPTS": "-p no:randomly -p no:cacheprovider",
            "COLUMNS": "100",
        }
        done = subprocess.run(
            command, cwd=here, env=env, capture_output=True, text=True, timeout=BOUND, check=False
        )
    return Ran(done.returncode, done.stdout + done.stderr, here)


@pytest.mark.starts_runs  # the pages' plans: pln_nightly, pln_smoke
def test_every_simulator_command_shown_runs_as_written(tmp_path: Path) -> None:
    shown = [simulated(line) for _, line in command_lines()]
    commands = list(dict.fromkeys(tuple(command) for command in shown if command))
    assert len(commands) >= 8
    places = []
    for number in range(len(commands)):
        places.append(tmp_path / str(number))
        shutil.copytree(ROOT / "demo", places[-1] / "demo")
    # Three at a time: each mostly waits on its runs, and a burst of sessions would slow the
    # timing tests beside this one.
    with ThreadPoolExecutor(3) as pool:
        ran = dict(
            zip(commands, pool.map(run_as_the_simulator_does, commands, places), strict=True)
        )
    # 1: the demo's runs have failing cases, as the pages say; never a usage error (4), a run
    # that could not be read (2) or a crash (3).
    assert [(" ".join(c), r.code, r.output) for c, r in ran.items() if r.code > 1] == []
    assert [
        (" ".join(c), r.output) for c, r in ran.items() if "= remote runs =" not in r.output
    ] == []

    def of(*words: str, without: str = "") -> Ran:
        (found,) = [
            r for c, r in ran.items() if all(word in c for word in words) and without not in c
        ]
        return found

    # The TestVibe page's block, header and all, is a stretch of what its command prints.
    testvibe = (DOCS / "how-to" / "testvibe.md").read_text(encoding="utf-8")
    block = testvibe.split("```text\n", 1)[1].split("```", 1)[0]
    assert block in of("--testvibe-run", without="--qatech-run").output
    # All three platforms in one session and one JUnit file, each under its own classname.
    mixed = of("--junitxml", "mixed.xml")
    assert "3 failed, 6 passed, 1 skipped" in mixed.output
    classes = {
        element.get("classname") for element in ET.parse(mixed.here / "mixed.xml").iter("testcase")
    }
    assert classes == {"demo.test_local", "qatech", "testvibe", "autonoma.private-listing-hub"}


def test_every_picture_shown_is_made_by_the_script() -> None:
    script = (DOCS / "pictures.py").read_text(encoding="utf-8")
    made = set(re.findall(r'STATIC / "([\w-]+\.png)"', script))
    shown = {
        name
        for page in PAGES
        for name in re.findall(r"_static/([\w-]+\.png)\)", page.read_text(encoding="utf-8"))
    }
    assert made == {"remote-failure.png", "pytest-html.png", "job-summary.png"}
    assert shown == made
    assert all((DOCS / "_static" / name).is_file() for name in made)
