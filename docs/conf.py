"""Sphinx configuration: MyST Markdown pages, the Furo theme, and the reference's generated
parts (``_ext/qatech_reference.py``). Build: ``sphinx-build -W -b html docs docs/_build``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "pytest-qatech"
author = "pytest-qatech developers"
copyright = "2026, pytest-qatech developers"
extensions = ["myst_parser", "qatech_reference"]
source_suffix = {".md": "markdown"}
# Links to a heading of another page (``page.md#a-heading``) are checked: a broken one is a
# warning, which -W makes an error.
myst_heading_anchors = 4
exclude_patterns = ["_build", "README.md"]
html_theme = "furo"
html_title = "pytest-qatech"
html_static_path = ["_static"]
