"""The reference's generated parts, written from the code so that a new option, ini key,
variable or hook appears in the documentation without anyone editing a page: the options table
(:mod:`pytest_qatech.core.options`), ``qatech-junit``'s options (its parser) and the hooks
(:mod:`pytest_qatech.hooks`).

A page asks for one with a comment line, ``<!-- generated: options -->``, which the build
replaces with Markdown (Sphinx's ``source-read`` event). The functions are plain Python: the
test suite checks what they write against ``pytest --help`` and ``qatech-junit --help``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pytest_qatech import cli, hooks
from pytest_qatech.core.options import CREDENTIALS, PLATFORMS, SETTINGS, Setting, run_help


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _flag(setting: Setting) -> str:
    if not setting.on_command_line:
        return "(ini only)"
    if setting.action == "store_true":
        return f"`{setting.flag}`"
    repeat = " (repeatable)" if setting.action == "append" else ""
    return f"`{setting.flag} {setting.metavar}`{repeat}"


def options_markdown() -> str:
    """Every option of the plugin and of ``qatech-junit``, by platform: its ini key, its
    environment variable, its default, what it does and which tools take it; then each
    platform's credentials."""
    lines = [
        "Each setting is read from the command line, else the ini file, else the environment, "
        "else its default. *Both* means `qatech-junit` takes it too (from its command line or "
        "the environment: it reads no ini file).",
        "",
    ]
    for platform in PLATFORMS:
        lines += [
            f"## {platform.title}",
            "",
            "| option | ini | environment | default | tools | what it does |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| `{platform.run_flag} {platform.run_metavar}` (repeatable) | | | | both | "
            f"{_cell(run_help(platform))} |",
        ]
        for setting in SETTINGS:
            if setting.platform is not platform:
                continue
            ini = f"`{setting.name}`" if setting.ini else ""
            variable = f"`{setting.variable}`" if setting.variable else ""
            default = f"`{setting.default}`" if setting.default else ""
            tools = "both" if setting.standalone else "pytest"
            choices = (
                f" One of {', '.join(f'`{c}`' for c in setting.choices)}."
                if setting.choices
                else ""
            )
            lines.append(
                f"| {_flag(setting)} | {ini} | {variable} | {default} | {tools} | "
                f"{_cell(setting.what)}.{choices} |"
            )
        lines.append("")
    lines += [
        "## Credentials",
        "",
        "Read only from the environment, never from the command line or an ini file; the first "
        "variable set wins.",
        "",
        "| platform | variables |",
        "| --- | --- |",
    ]
    lines += [
        f"| {credential.platform.title} | "
        + " or ".join(f"`{name}`" for name in credential.variables)
        + " |"
        for credential in CREDENTIALS
    ]
    return "\n".join(lines) + "\n"


def cli_markdown() -> str:
    """``qatech-junit``'s options, as its parser has them."""
    parser = cli._parser()
    lines = [
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
        "| option | what it does |",
        "| --- | --- |",
    ]
    for action in parser._actions:
        names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.metavar}`"
        lines.append(f"| {names} | {_cell(action.help or '')} |")
    return "\n".join(lines) + "\n"


def hooks_markdown() -> str:
    """Each hook of :mod:`pytest_qatech.hooks`, in the order it declares them: its signature
    and its docstring."""
    lines = []
    for name, function in vars(hooks).items():
        if not (name.startswith("pytest_qatech_") and inspect.isfunction(function)):
            continue
        parameters = ", ".join(inspect.signature(function).parameters)
        lines += [f"## `{name}({parameters})`", "", _doc(function), ""]
        if getattr(function, "pytest_spec", {}).get("firstresult"):
            lines += ["The first implementation that returns something other than None wins.", ""]
    return "\n".join(lines)


def _doc(function: Callable[..., Any]) -> str:
    # reStructuredText's literals as Markdown's.
    return inspect.cleandoc(function.__doc__ or "").replace("``", "`")


GENERATED: dict[str, Callable[[], str]] = {
    "options": options_markdown,
    "qatech-junit": cli_markdown,
    "hooks": hooks_markdown,
}


def _fill(app: Any, docname: str, source: list[str]) -> None:
    for name, generate in GENERATED.items():
        marker = f"<!-- generated: {name} -->"
        if marker in source[0]:
            source[0] = source[0].replace(marker, generate())


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
