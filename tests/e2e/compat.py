"""Records which client operations the end-to-end tests proved, for the README's
compatibility table (rendered by scripts/compat_table.py).

A test declares what it proves with `@pytest.mark.compat("skopeo", "sync a whole repository")`
(several marks allowed). An operation counts as passed only if every test that declares it
passed; a skipped test marks it "not run". At the end of the session the results and each
client's `--version` go to $BERTH_COMPAT_RESULTS (default .build/compat-results.json).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_PATH = Path(os.environ.get("BERTH_COMPAT_RESULTS", REPO_ROOT / ".build" / "compat-results.json"))

# How to ask each client for its version: a command, or a Python distribution name.
VERSION_COMMANDS: dict[str, list[str] | str] = {
    "docker": ["docker", "--version"],
    "podman": ["podman", "--version"],
    "skopeo": ["skopeo", "--version"],
    "oras (Python)": "oras",
    "Helm chart via oras (Python)": "oras",
}

# Clients whose table version is what a running fixture noted (note_version) rather than the
# command's: docker's pushes, pulls and logins are done by the daemon, and the CLI's version
# varies between machines with the same packages (a machine image may carry its own static CLI
# ahead of Debian's docker.io on PATH). The CLI's answer stays in the results file.
VERSION_FROM_NOTE = {"docker"}

_VERSION = re.compile(r"\d+(?:\.\d+)+(?:[-+~][0-9A-Za-z.+~]+)*")

_outcomes: dict[str, dict[str, list[str]]] = {}   # client -> operation -> outcomes
_version_notes: dict[str, str] = {}                # client -> what a fixture learned (a daemon's version)


def note_version(client: str, text: str) -> None:
    """Records what only a running fixture knows, e.g. "dockerd 20.10.24+dfsg1"."""
    _version_notes[client] = text


def record(item, outcome: str) -> None:
    for mark in item.iter_markers("compat"):
        client, operation = mark.args
        _outcomes.setdefault(client, {}).setdefault(operation, []).append(outcome)


def client_version(client: str) -> str:
    """What the client says of its version: a command's first line, or "NAME VERSION"."""
    how = VERSION_COMMANDS.get(client)
    if how is None:
        return "unknown"
    if isinstance(how, str):
        try:
            return f"{how} {metadata.version(how)}"
        except metadata.PackageNotFoundError:
            return "not installed"
    try:
        proc = subprocess.run(how, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = proc.stdout.strip().splitlines()
    return text[0] if proc.returncode == 0 and text else "unknown"


def table_version(client: str, said: str, note: str | None) -> str:
    """The version the README table shows: program name and version number only, so that the
    table is the same on every machine with the same packages ("Docker version 28.2.2, build
    e6534b4" has a build id; "podman version 4.3.1" becomes "podman 4.3.1")."""
    if client in VERSION_FROM_NOTE:
        said = note or "unknown"
    match = _VERSION.search(said)
    if match is None:
        return said
    name = said[:match.start()].split()[0].lower() if said[:match.start()].split() else client
    return f"{name} {match.group(0)}"


def summarize(outcomes: list[str]) -> str:
    if "failed" in outcomes:
        return "failed"
    if all(o == "passed" for o in outcomes):
        return "passed"
    return "not run"


def write_results() -> Path | None:
    if not _outcomes:
        return None
    results = {
        "generated": time.strftime("%Y-%m-%d", time.gmtime()),
        "clients": {
            client: {
                "version": table_version(client, client_version(client), _version_notes.get(client)),
                "version_said": " ".join(filter(None, [client_version(client), _version_notes.get(client)])),
                "operations": {op: summarize(outs) for op, outs in ops.items()},
            }
            for client, ops in _outcomes.items()
        },
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return RESULTS_PATH
