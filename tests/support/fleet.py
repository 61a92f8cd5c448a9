"""A fleet for the tests: three registryd processes on loopback sharing one PostgreSQL database
and one S3 bucket, behind HAProxy running deploy/fleet/haproxy.cfg (the shipped file, its
addresses given through the environment), each node running deploy/fleet/config.yml with
REGISTRY_* overrides. Every process is started here and stopped by its PID."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from registry import REPO_ROOT, RegistryProcess, free_port
from registryctl import registryctl

HAPROXY_CFG = REPO_ROOT / "deploy" / "fleet" / "haproxy.cfg"
NODE_CFG = REPO_ROOT / "deploy" / "fleet" / "config.yml"
ACCESS_LINE = re.compile(r'\b(GET|HEAD|POST|PATCH|PUT|DELETE) (/v2/\S*)')


def require_haproxy() -> None:
    if shutil.which("haproxy") is None:
        if os.environ.get("PG_TEST_REQUIRED") == "1" or os.environ.get("S3_TEST_REQUIRED") == "1":
            pytest.fail("haproxy is not installed (scripts/install-test-deps.sh)")
        pytest.skip("haproxy is not installed (scripts/install-test-deps.sh)")


class Node(RegistryProcess):
    """One registryd of the fleet: deploy/fleet/config.yml, overridden by the environment."""

    def __init__(self, workdir: Path, env: dict):
        super().__init__(workdir, config_text=NODE_CFG.read_text())
        self.debug_port = free_port()
        self.env.update(env)
        self.env.update({
            "REGISTRY_HTTP_ADDR": f"127.0.0.1:{self.port}",
            "REGISTRY_HTTP_DEBUG_ADDR": f"127.0.0.1:{self.debug_port}",
            "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY": str(self.root),
        })

    def api_requests(self) -> list[tuple[str, str]]:
        """(method, path) of every /v2/ request in this node's access log."""
        return [(m.group(1), m.group(2)) for m in ACCESS_LINE.finditer(self.log())]

    def metrics(self) -> str:
        return requests.get(f"http://127.0.0.1:{self.debug_port}/metrics", timeout=10).text


class HAProxy:
    def __init__(self, workdir: Path, nodes: list[Node]):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.env = dict(os.environ, BERTH_LB_BIND=f"127.0.0.1:{self.port}")
        for i, node in enumerate(nodes, 1):
            self.env[f"BERTH_NODE{i}"] = node.host
        self.log_path = self.workdir / "haproxy.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "HAProxy":
        log = open(self.log_path, "ab")
        # -db: stay in the foreground (stopped by PID below); -f: the shipped configuration.
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(HAPROXY_CFG)], stdout=log,
                                     stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/v2/", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"haproxy did not answer in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Fleet:
    """Three nodes on one database and one bucket, and HAProxy in front of them."""

    def __init__(self, tmp_path: Path, pg, s3, *, nodes: int = 3, redirect: bool = True):
        self.tmp_path = Path(tmp_path)
        self.pg, self.s3 = pg, s3
        self.dbname = pg.make_database()
        self.bucket = s3.make_bucket()
        self.env = {
            "REGISTRY_DATABASE_HOST": pg.host,
            "REGISTRY_DATABASE_PORT": str(pg.port),
            "REGISTRY_DATABASE_USER": pg.user,
            "REGISTRY_DATABASE_PASSWORD": pg.password,
            "REGISTRY_DATABASE_DBNAME": self.dbname,
            "REGISTRY_DATABASE_SSLMODE": "disable",
            "REGISTRY_DATABASE_POOL_MAXOPEN": "8",
            "REGISTRY_STORAGE_S3_ACCESSKEY": s3.access_key,
            "REGISTRY_STORAGE_S3_SECRETKEY": s3.secret_key,
            "REGISTRY_STORAGE_S3_REGION": s3.region,
            "REGISTRY_STORAGE_S3_REGIONENDPOINT": s3.endpoint,
            "REGISTRY_STORAGE_S3_BUCKET": self.bucket,
            "REGISTRY_STORAGE_S3_SECURE": "false",
            # S3's smallest part: chunks of a few MiB exercise the tail object between PATCHes.
            "REGISTRY_STORAGE_S3_CHUNKSIZE": str(5 << 20),
            "REGISTRY_STORAGE_REDIRECT_DISABLE": "false" if redirect else "true",
        }
        self.ctl_root = self.tmp_path / "registryctl-spool"
        self.ctl_env = dict(self.env, REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=str(self.ctl_root))
        self.ctl("database", "migrate", "up", check=True)
        self.nodes = [Node(self.tmp_path / f"node{i}", self.env) for i in range(1, nodes + 1)]
        self.lb: HAProxy | None = None

    def ctl(self, *args: str, check: bool = False, timeout: float = 300) -> subprocess.CompletedProcess:
        """registryctl with the fleet's configuration (deploy/fleet/config.yml + overrides)."""
        return registryctl(*args, config=NODE_CFG, env=self.ctl_env, check=check, timeout=timeout)

    def start(self) -> "Fleet":
        for node in self.nodes:
            node.start()
        self.lb = HAProxy(self.tmp_path / "haproxy", self.nodes).start()
        self.wait_all_up()
        return self

    def wait_all_up(self, timeout: float = 30.0) -> None:
        """Until HAProxy's health checks have seen every node (a request reaches each)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            before = [len(n.api_requests()) for n in self.nodes]
            session = requests.Session()
            for _ in range(3 * len(self.nodes)):
                session.get(self.lb.url + "/v2/", timeout=10)
            after = [len(n.api_requests()) for n in self.nodes]
            if all(a > b for a, b in zip(after, before)):
                return
            time.sleep(0.5)
        raise AssertionError(f"HAProxy does not reach every node:\n{self.lb.log()[-3000:]}")

    def stop(self) -> None:
        if self.lb:
            self.lb.stop()
        for node in self.nodes:
            node.stop()


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
