"""A real PostgreSQL 15 server for the tests: scripts/postgres-server.sh.

`.ci/run` (scripts/test.sh) starts one and exports PG_TEST_*; run alone, a test module starts its
own when postgresql-15 is installed. Without either the PostgreSQL tests are skipped, unless
PG_TEST_REQUIRED=1, which makes that a failure. Databases are made with psql, an independent
client, so that the tests do not check Berth's database code with itself.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "postgres-server.sh"
INITDB = "/usr/lib/postgresql/15/bin/initdb"


class PostgresServer:
    def __init__(self, host: str, port: int, user: str, password: str, dbname: str):
        self.host, self.port, self.user, self.password, self.dbname = host, port, user, password, dbname

    def psql(self, sql: str, dbname: str | None = None) -> str:
        out = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port),
             "-U", self.user, "-d", dbname or self.dbname, "-c", sql],
            capture_output=True, text=True, timeout=60, env=dict(os.environ, PGPASSWORD=self.password))
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def make_database(self) -> str:
        name = f"berth_{uuid.uuid4().hex[:16]}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def config(self, dbname: str, *, port: int | None = None, connecttimeout: str = "10s") -> str:
        """A `database:` section for registryd's config.yml."""
        return f"""database:
  enabled: true
  host: {self.host}
  port: {port or self.port}
  user: {self.user}
  password: {self.password}
  dbname: {dbname}
  sslmode: disable
  connecttimeout: {connecttimeout}
  pool:
    maxopen: 8
    maxidle: 2
    maxlifetime: 1m
"""


def start_server(state: Path) -> tuple[PostgresServer, Path]:
    out = subprocess.run([str(SCRIPT), "start", str(state)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    env = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
    return PostgresServer(env["PG_TEST_HOST"], int(env["PG_TEST_PORT"]), env["PG_TEST_USER"],
                          env["PG_TEST_PASSWORD"], env["PG_TEST_DBNAME"]), state


def stop_server(state: Path) -> None:
    subprocess.run([str(SCRIPT), "stop", str(state)], timeout=60)
    shutil.rmtree(state, ignore_errors=True)


def require_postgres() -> None:
    if not Path(INITDB).exists():
        if os.environ.get("PG_TEST_REQUIRED") == "1":
            pytest.fail("PG_TEST_REQUIRED=1 but no PostgreSQL: install postgresql-15 (scripts/install-test-deps.sh)")
        pytest.skip("no PostgreSQL server (set PG_TEST_HOST or install postgresql-15)")


@pytest.fixture(scope="session")
def pg_server():
    host = os.environ.get("PG_TEST_HOST")
    if host:
        yield PostgresServer(host, int(os.environ["PG_TEST_PORT"]), os.environ["PG_TEST_USER"],
                             os.environ["PG_TEST_PASSWORD"], os.environ["PG_TEST_DBNAME"])
        return
    require_postgres()
    server, state = start_server(Path(tempfile.mkdtemp(prefix="berth-pg-")))
    try:
        yield server
    finally:
        stop_server(state)
