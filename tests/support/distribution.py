"""Start and stop the reference registry (CNCF Distribution, Debian's `docker-registry`) for
tests that need a real third-party registry: as an upstream of Berth's mirror, say."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

from registry import free_port


def distribution_binary() -> str | None:
    return shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if os.path.exists("/usr/bin/docker-registry") else None)


class DistributionProcess:
    """`docker-registry serve config.yml` on 127.0.0.1, with its own storage root and an
    access log in `registry.log`; stopped by its PID."""

    def __init__(self, workdir: Path, *, extra_config: str = ""):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config_path = self.workdir / "config.yml"
        self.config_path.write_text(f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {self.workdir / 'data'}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{self.port}
{extra_config}""")
        self.log_path = self.workdir / "registry.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "DistributionProcess":
        binary = distribution_binary()
        assert binary, "docker-registry is not installed (scripts/install-test-deps.sh installs it)"
        env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE" and not k.startswith("REGISTRY_")}
        self.proc = subprocess.Popen([binary, "serve", str(self.config_path)], stdout=open(self.log_path, "ab"),
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log_path.read_text(errors='replace')}")
            try:
                requests.get(self.url + "/v2/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("docker-registry did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
