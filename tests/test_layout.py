"""The floor plan holds: a core without pytest, dependencies that point one way, and a module
map (the documentation's Contributing page) that names every module where a newcomer looks."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "pytest_qatech"
#: Where the module map is: the documentation's Contributing page.
MODULE_MAP = PACKAGE.parent / "docs" / "contributing.md"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, at the top or inside a function, as an absolute name."""
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base] if base else up)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def test_the_core_imports_no_pytest() -> None:
    core = {name: path for name, path in modules().items() if name.startswith("pytest_qatech.core")}
    assert len(core) > 10
    offenders = {
        name: sorted(
            imported
            for imported in imports(path)
            if imported.split(".")[0] in ("pytest", "_pytest", "pluggy", "xdist")
            or imported.startswith(("pytest_qatech.session", "pytest_qatech.plugin"))
        )
        for name, path in core.items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_no_import_circle() -> None:
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for imported in imports(path):
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            # A package handing on its members' names is not a dependency between floors.
            inside = imported.startswith(name + ".") or name.startswith(imported + ".")
            if imported and imported != name and not inside:
                targets.add(imported)
        graph[name] = targets

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for target in graph[start]:
            if target == goal or (target not in seen and reaches(target, goal, seen | {target})):
                return True
        return False

    assert sorted(name for name in graph if reaches(name, name, {name})) == []


def test_the_module_map_names_every_module() -> None:
    section = MODULE_MAP.read_text(encoding="utf-8")
    unnamed = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "__init__.py" and f"`{path.relative_to(PACKAGE)}`" not in section
    ]
    assert unnamed == []


def test_each_core_module_uses_only_those_the_module_map_lists_after_it() -> None:
    section = MODULE_MAP.read_text(encoding="utf-8").split("The core (`core/`)", 1)[1]
    section = section.split("\n\n", 2)[1]
    order = [
        f"pytest_qatech.{path[:-3].replace('/', '.')}"
        for path in re.findall(r"`(core/[\w/]+\.py)`", section)
    ]
    known = modules()
    core = [
        name
        for name, path in known.items()
        if name.startswith("pytest_qatech.core.") and path.name != "__init__.py"
    ]
    assert sorted(order) == sorted(core)
    upward = [
        (name, imported)
        for position, name in enumerate(order)
        for imported in imports(known[name])
        if imported in order[:position]
    ]
    assert upward == []


def test_ci_runs_every_module_with_whole_sessions_against_the_lowest_versions() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    listed = set(re.findall(r"tests/test_\w+\.py", ci.split("E2E_TESTS=(", 1)[1].split(")")[0]))
    sessions = {
        f"tests/{path.name}"
        for path in Path(__file__).parent.glob("test_*.py")
        if re.search(r"pytester: pytest\.Pytester|subprocess\.(run|Popen)", path.read_text("utf-8"))
    }
    assert sessions - listed == set()


def test_every_test_the_claims_table_names_exists() -> None:
    """A test renamed or removed must not leave a README claim held by nothing."""
    tests = Path(__file__).parent
    table = (tests / "README.md").read_text(encoding="utf-8")
    held_by = [
        line.rstrip(" |").rpartition("|")[2] for line in table.splitlines() if line[:1] == "|"
    ]
    named = [found for cell in held_by for found in re.findall(r"`(\w+)::(\w+)`", cell)]
    missing = [
        f"{module}::{name}"
        for module, name in named
        if not (tests / f"test_{module}.py").exists()
        or not re.search(
            rf"^def test_{name}\(", (tests / f"test_{module}.py").read_text("utf-8"), re.M
        )
    ]
    assert len(named) > 100
    assert missing == []


def test_each_section_of_the_claims_table_names_pages_that_exist() -> None:
    root = Path(__file__).parent.parent
    table = (root / "tests" / "README.md").read_text(encoding="utf-8")
    claims = table.split("## Claims and the tests that hold them", 1)[1]
    headings = re.findall(r"^### (.*)$", claims, re.M)
    assert len(headings) >= 10
    for heading in headings:
        pages = re.findall(r"`((?:docs/[\w/.-]+|README|CONTRIBUTING)\.md)`", heading)
        assert pages, heading
        assert [page for page in pages if not (root / page).is_file()] == [], heading
