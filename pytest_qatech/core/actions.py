"""What GitHub Actions tells a job through its environment, and what a job tells the steps after
it: whether this is GitHub Actions, the commit a run tests, the step outputs.

From GitHub's "Variables" reference (``GITHUB_ACTIONS``, ``GITHUB_SHA``, ``GITHUB_REF_NAME``,
``GITHUB_HEAD_REF``, ``GITHUB_ACTOR``, ``GITHUB_REPOSITORY``, ``GITHUB_EVENT_PATH``,
``GITHUB_OUTPUT``) and its webhook payloads (``pull_request.head.sha``,
``head_commit.message``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_qatech.core.models import StartedRun

#: Read from the event file GitHub writes for the workflow run; a bigger one is not read.
MAX_EVENT_BYTES = 1024 * 1024


def is_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


@dataclass(frozen=True)
class Commit:
    """Which commit a run tests, as GitHub Actions says (``trigger: GITHUB``'s fields)."""

    actor: str | None
    branch: str | None
    commit_hash: str | None
    commit_message: str | None
    repository: str | None

    def fields(self) -> dict[str, str]:
        named = {
            "actor": self.actor,
            "branch": self.branch,
            "commitHash": self.commit_hash,
            "commitMessage": self.commit_message,
            "repository": self.repository,
        }
        return {name: value for name, value in named.items() if value}


def github_commit(environ: Mapping[str, str]) -> Commit | None:
    """The commit of a GitHub Actions job, from the variables GitHub sets (and, for the
    message and a pull request's own head, the event file); None elsewhere."""
    if not is_github_actions(environ):
        return None
    event = _event(environ.get("GITHUB_EVENT_PATH"))
    head = _object(_object(event, "pull_request"), "head")
    head_commit = _object(event, "head_commit")
    # In a pull request GITHUB_SHA is a merge commit nobody pushed; its head is what people know.
    sha = head.get("sha") if isinstance(head.get("sha"), str) else environ.get("GITHUB_SHA")
    message = head_commit.get("message")
    return Commit(
        actor=environ.get("GITHUB_ACTOR") or None,
        branch=environ.get("GITHUB_HEAD_REF") or environ.get("GITHUB_REF_NAME") or None,
        commit_hash=sha or None,
        commit_message=message if isinstance(message, str) and message else None,
        repository=environ.get("GITHUB_REPOSITORY") or None,
    )


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as event_file:
            text = event_file.read(MAX_EVENT_BYTES + 1)
        data = json.loads(text) if len(text) <= MAX_EVENT_BYTES else None
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


#: The step output that names the runs started, for the jobs and steps after this one.
RUN_OUTPUT = "qatech-run-short-id"
OUTPUT_VARIABLE = "GITHUB_OUTPUT"


def run_outputs(started: Sequence[StartedRun], delimiter: str) -> str:
    """Lines for ``GITHUB_OUTPUT``: the runs' short ids, one per line (several as one multiline
    value, fenced by ``delimiter``, which must occur in none of them)."""
    ids = [run.run_id for run in started]
    if len(ids) == 1:
        return f"{RUN_OUTPUT}={ids[0]}\n"
    return f"{RUN_OUTPUT}<<{delimiter}\n" + "".join(f"{id_}\n" for id_ in ids) + f"{delimiter}\n"


def write_run_outputs(environ: Mapping[str, str], started: Sequence[StartedRun]) -> None:
    """Append the runs started to the step's outputs, when GitHub Actions asks for them."""
    path = environ.get(OUTPUT_VARIABLE)
    if path and started:
        with open(path, "a", encoding="utf-8") as outputs:
            outputs.write(run_outputs(started, f"qatech_{secrets.token_hex(8)}"))
