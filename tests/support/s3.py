"""A real S3 server for the tests: Ceph RGW from scripts/s3-server.sh.

`.ci/run` (scripts/test.sh) starts one and exports S3_TEST_*; run alone, a test module starts its
own when Ceph is installed. Without either the S3 tests are skipped, unless S3_TEST_REQUIRED=1,
which makes that a failure. Buckets are made and listed with curl's SigV4 support, so the tests
need no S3 SDK and check Berth's own client against an independent one.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class S3Server:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str):
        self.endpoint = endpoint
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region

    def _curl(self, method: str, path: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["curl", "-sS", "-X", method, "--aws-sigv4", f"aws:amz:{self.region}:s3",
             "--user", f"{self.access_key}:{self.secret_key}",
             "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-w", "\n%{http_code}",
             *extra, self.endpoint + path],
            capture_output=True, text=True, timeout=60)

    def make_bucket(self, prefix: str = "berth") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        out = self._curl("PUT", f"/{name}")
        assert out.stdout.rstrip().endswith("200"), (out.stdout, out.stderr)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key under `prefix` (one page of up to 1,000 is enough for the tests)."""
        # curl signs the query as written: encode the prefix as SigV4 does ('/' too).
        out = self._curl("GET", f"/{bucket}?list-type=2&max-keys=1000&prefix={quote(prefix, safe='')}")
        body, _, status = out.stdout.rpartition("\n")
        assert status == "200", out.stdout
        root = ET.fromstring(body)
        return sorted(e.text for e in root.iter(f"{NS}Key"))

    def multipart_uploads(self, bucket: str) -> list[str]:
        out = self._curl("GET", f"/{bucket}?uploads=")
        body, _, status = out.stdout.rpartition("\n")
        assert status == "200", out.stdout
        return [e.text for e in ET.fromstring(body).iter(f"{NS}Key")]

    def config(self, bucket: str, *, chunksize: int = 5 << 20, redirect: bool = True, root: str = "") -> str:
        """A `storage.s3` section (plus `storage.redirect`) for registryd's config.yml."""
        lines = [
            "  s3:",
            f"    accesskey: {self.access_key}",
            f"    secretkey: {self.secret_key}",
            f"    region: {self.region}",
            f"    regionendpoint: {self.endpoint}",
            f"    bucket: {bucket}",
            "    forcepathstyle: true",
            "    secure: false",
            f"    chunksize: {chunksize}",
        ]
        if root:
            lines.append(f"    rootdirectory: {root}")
        lines += ["  redirect:", f"    disable: {'false' if redirect else 'true'}"]
        return "\n".join(lines) + "\n"


def s3_from_environment() -> S3Server | None:
    endpoint = os.environ.get("S3_TEST_ENDPOINT")
    if not endpoint:
        return None
    return S3Server(endpoint, os.environ["S3_TEST_ACCESS_KEY"], os.environ["S3_TEST_SECRET_KEY"],
                    os.environ.get("S3_TEST_REGION", "us-east-1"))


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = s3_from_environment()
    if server is not None:
        yield server
        return
    if shutil.which("radosgw") is None:
        if os.environ.get("S3_TEST_REQUIRED") == "1":
            pytest.fail("S3_TEST_REQUIRED=1 but no S3 server: install Ceph (scripts/install-test-deps.sh)")
        pytest.skip("no S3 server (set S3_TEST_ENDPOINT or install Ceph's radosgw)")
    state = Path("/tmp") / f"berth-s3-{uuid.uuid4().hex[:8]}"  # short: Ceph's socket paths
    script = REPO_ROOT / "scripts" / "s3-server.sh"
    out = subprocess.run([str(script), "start", str(state)], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    env = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
    try:
        yield S3Server(env["S3_TEST_ENDPOINT"], env["S3_TEST_ACCESS_KEY"], env["S3_TEST_SECRET_KEY"],
                       env["S3_TEST_REGION"])
    finally:
        subprocess.run([str(script), "stop", str(state)], timeout=60)
        shutil.rmtree(state, ignore_errors=True)
