"""Faults a fleet node (PostgreSQL + S3) meets at start and while serving (issue 12): wrong
S3 credentials or a missing bucket at start (one line naming the bucket and the access key id,
never the secret; exit status 2), the database unreachable at start (one line, exit status 2),
and the database stopped while the node serves (503 UNAVAILABLE with Retry-After; the node
recovers once it is back, with no restart of its own)."""
from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from helpers import assert_error, describe, get_manifest, http, make_image, sha256
from postgres import INITDB, pg_server, start_server, stop_server  # noqa: F401  (fixture)
from registry import RegistryProcess, free_port, registryd_binary
from registryctl import registryctl
from s3 import s3_server  # noqa: F401  (fixture)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres-server.sh"


def s3_config(tmp_path: Path, s3, bucket: str, *, access_key: str, secret_key: str, extra: str = "") -> Path:
    folder = tmp_path / "node"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {folder / 'data'}
  s3:
    accesskey: {access_key}
    secretkey: {secret_key}
    region: {s3.region}
    regionendpoint: {s3.endpoint}
    bucket: {bucket}
    forcepathstyle: true
    secure: false
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{free_port()}
  headers:
    X-Content-Type-Options: [nosniff]
{extra}""")
    return config


def start_failure(config: Path) -> tuple[int, str]:
    result = subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("wrong", ["secret", "key id"])
def test_wrong_s3_credentials_at_start_name_the_key_id_and_exit_2(tmp_path, s3_server, wrong):
    bucket = s3_server.make_bucket()
    access_key = s3_server.access_key if wrong == "secret" else "BERTHWRONGKEYID0001"
    secret_key = "not-the-secret-0123456789" if wrong == "secret" else s3_server.secret_key
    started = time.monotonic()
    code, out = start_failure(s3_config(tmp_path, s3_server, bucket, access_key=access_key, secret_key=secret_key))
    assert code == 2, out
    assert out.strip().count("\n") == 0, out
    assert f"access key id {access_key}" in out and bucket in out and "credentials" in out, out
    assert secret_key not in out, out
    assert time.monotonic() - started < 30


def test_a_missing_bucket_at_start_exits_2(tmp_path, s3_server):
    code, out = start_failure(s3_config(tmp_path, s3_server, "berth-no-such-bucket",
                                        access_key=s3_server.access_key, secret_key=s3_server.secret_key))
    assert code == 2, out
    assert "berth-no-such-bucket" in out and "does not exist" in out, out
    assert s3_server.secret_key not in out


def test_database_unreachable_at_start_of_a_postgres_and_s3_node(tmp_path, pg_server, s3_server):
    """Nothing listens on the database's port: one line, exit status 2, within connecttimeout,
    without the password."""
    bucket = s3_server.make_bucket()
    config = s3_config(tmp_path, s3_server, bucket, access_key=s3_server.access_key, secret_key=s3_server.secret_key,
                       extra=pg_server.config("berth", port=free_port(), connecttimeout="3s"))
    started = time.monotonic()
    code, out = start_failure(config)
    assert code == 2, out
    assert out.strip().count("\n") == 0 and "cannot reach the database" in out, out
    assert pg_server.password not in out
    assert time.monotonic() - started < 30


def test_database_stopped_under_a_postgres_and_s3_node_then_restarted(tmp_path, s3_server):
    """A cluster of our own is stopped while the node serves: reads and writes answer 503
    UNAVAILABLE with Retry-After, the node stays up; after the restart it serves again with
    no restart of its own, and the pushes acknowledged before are intact."""
    if not Path(INITDB).exists():
        pytest.skip("postgresql-15 is not installed")
    own, state = start_server(Path(tempfile.mkdtemp(prefix="berth-pg-fault-")))
    reg = None
    try:
        bucket = s3_server.make_bucket()
        config = s3_config(tmp_path, s3_server, bucket, access_key=s3_server.access_key,
                           secret_key=s3_server.secret_key, extra=own.config(own.dbname, connecttimeout="3s"))
        registryctl("database", "migrate", "up", config=config, check=True)
        reg = RegistryProcess(config.parent, config_text=config.read_text())
        reg.port = int(config.read_text().split("addr: 127.0.0.1:")[1].split()[0])
        reg.start()
        image = make_image(reg, "team/app", tag="v1")
        subprocess.run([str(SCRIPT), "stop", str(state)], timeout=60, check=True)
        for method, path in [("GET", "/v2/team/app/manifests/v1"), ("GET", "/v2/team/app/tags/list"),
                             ("POST", "/v2/team/app/blobs/uploads/"),
                             ("HEAD", f"/v2/team/app/blobs/{sha256(image.layers[0])}")]:
            started = time.monotonic()
            resp = http(method, reg, path)
            assert resp.status_code == 503, describe(resp)
            assert resp.headers.get("Retry-After"), describe(resp)
            if method != "HEAD":
                assert_error(resp, 503, "UNAVAILABLE")
            assert time.monotonic() - started < 30
        health = requests.get(f"{reg.url}/healthz", timeout=30)
        assert health.status_code == 503, describe(health)
        assert reg.proc.poll() is None, "registryd must stay up"
        # Back on the same port and folder: the node serves again by itself.
        restarted = subprocess.run([str(SCRIPT), "resume", str(state)], capture_output=True, text=True, timeout=120)
        assert restarted.returncode == 0, restarted.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            resp = get_manifest(reg, "team/app", "v1")
            if resp.status_code == 200:
                break
            time.sleep(0.5)
        assert resp.status_code == 200, describe(resp)
        assert resp.content == image.body
        make_image(reg, "team/app", tag="v2")
        assert own.password not in reg.log()
    finally:
        if reg:
            reg.stop()
        stop_server(state)
