"""Run registryctl against a RegistryProcess's config."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from registry import REPO_ROOT


def registryctl_binary() -> str:
    if "REGISTRYCTL_BIN" in os.environ:
        return os.environ["REGISTRYCTL_BIN"]
    registryd = os.environ.get("REGISTRYD_BIN")
    if registryd:
        return str(Path(registryd).with_name("registryctl"))
    return str(REPO_ROOT / ".build" / "debug" / "registryctl")


def registryctl(*args: str, config: Path, env: dict | None = None, timeout: float = 120,
                check: bool = False) -> subprocess.CompletedProcess:
    command = [registryctl_binary(), *args, "--config", str(config)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, **(env or {})))
    if check and result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def gc(config: Path, *args: str) -> dict:
    """`registryctl gc --json ARGS`, which must succeed; returns the report."""
    result = registryctl("gc", "--json", *args, config=config, check=True)
    return json.loads(result.stdout)


def fsck(config: Path, *args: str) -> tuple[int, dict]:
    result = registryctl("fsck", "--json", *args, config=config)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)
