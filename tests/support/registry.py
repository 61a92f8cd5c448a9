"""Start and stop a real registryd process for tests.

Every server listens on 127.0.0.1 only, on a free port, with its own storage
root, and is stopped by its PID.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path

import requests
import urllib3

REPO_ROOT = Path(__file__).resolve().parents[2]


def registryd_binary() -> str:
    """The registryd under test: $REGISTRYD_BIN, or the debug build."""
    return os.environ.get("REGISTRYD_BIN", str(REPO_ROOT / ".build" / "debug" / "registryd"))


def status_mib(pid: int, field: str) -> float:
    """A memory figure of /proc/PID/status (VmHWM, RssAnon, ...), in MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc status")


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident memory so far (VmHWM), in MiB."""
    return status_mib(pid, "VmHWM")


def anon_rss_mib(pid: int) -> float:
    """A process's anonymous resident memory (heaps, buffers, stacks) now, in MiB."""
    return status_mib(pid, "RssAnon")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_config(root: Path, port: int, *, delete: bool = True, extra: str = "") -> str:
    return f"""version: 0.1
log:
  level: info
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: {"true" if delete else "false"}
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
{extra}"""


class RegistryProcess:
    """A registryd child process with a config file in `workdir`."""

    def __init__(self, workdir: Path, *, config_text: str | None = None, delete: bool = True,
                 extra_config: str = "", env: dict | None = None, tls: bool = False):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.root = self.workdir / "data"
        self.port = free_port()
        self.config_path = self.workdir / "config.yml"
        self.config_path.write_text(
            config_text if config_text is not None
            else default_config(self.root, self.port, delete=delete, extra=extra_config))
        self.env = dict(os.environ, **(env or {}))
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "registryd.log"
        # With tls=True the extra config carries http.tls; the server speaks HTTPS.
        self.scheme = "https" if tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "RegistryProcess":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [registryd_binary(), "--config", str(self.config_path)],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"registryd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with warnings.catch_warnings():  # the probe does not check the certificate
                    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                    requests.get(self.url + "/v2/", timeout=1, verify=False)
                return self
            except requests.exceptions.SSLError:
                return self  # listening; the handshake wants a client certificate
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"registryd did not start in {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9, as a crash would."""
        self.stop(signal.SIGKILL)

    def restart(self) -> "RegistryProcess":
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
