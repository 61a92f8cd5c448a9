"""The fleet (issue 12): three registryd on loopback sharing one PostgreSQL database and one S3
bucket (both real servers), behind HAProxy running the shipped deploy/fleet/haproxy.cfg with
round-robin per request and /healthz checks. Each node runs deploy/fleet/config.yml.

- a chunked push whose POST, PATCH, PATCH and PUT each reach another node, pulled from the third;
- docker push through the load balancer, pulled from each node; skopeo and podman through it;
- read-your-writes: a tag moved 1,000 times through node A is never stale through node B;
- kill -9 of a node in the middle of pushes through the load balancer;
- `registryctl gc --grace 0s --delete-untagged` in a loop while pushes run on all nodes.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from fleet import Fleet, require_haproxy  # noqa: E402
from helpers import OCI_MANIFEST, describe, image_manifest, make_image, sha256  # noqa: E402
from postgres import pg_server  # noqa: E402,F401  (fixture)
from s3 import s3_server  # noqa: E402,F401  (fixture)
from test_podman import podman  # noqa: E402,F401  (fixture)

from e2e_support import ALL_MANIFEST_TYPES, OciLayout, output  # noqa: E402

OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def fleet(tmp_path, pg_server, s3_server):
    require_haproxy()
    fleet = Fleet(tmp_path, pg_server, s3_server)
    try:
        yield fleet.start()
    finally:
        fleet.stop()


# --------------------------------------------------------------------------- a client

class PushRefused(Exception):
    """The registry refused a step of a push in a way a client retries (a node went away, or
    gc removed a blob the push relied on)."""


def retryable(resp: requests.Response) -> bool:
    if resp.status_code in (502, 503, 504):
        return True
    if resp.status_code in (400, 404):
        try:
            codes = {e["code"] for e in resp.json()["errors"]}
        except (ValueError, KeyError, TypeError):
            return False
        return bool(codes & {"MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"})
    return False


def expect(resp: requests.Response, status: int) -> requests.Response:
    if resp.status_code == status:
        return resp
    if retryable(resp):
        raise PushRefused(describe(resp))
    raise AssertionError(f"unexpected answer (want {status}):\n{describe(resp)}")


def push_blob(session: requests.Session, base: str, repo: str, data: bytes, *, chunk: int = 0,
              check_first: bool = True) -> None:
    """Like docker: HEAD first (skip if present), else POST + PATCHes + PUT."""
    digest = sha256(data)
    if check_first:
        head = session.head(f"{base}/v2/{repo}/blobs/{digest}", timeout=60)
        if head.status_code == 200:
            return
    resp = expect(session.post(f"{base}/v2/{repo}/blobs/uploads/", timeout=60), 202)
    location = urljoin(base + "/", resp.headers["Location"])
    step = chunk or len(data) or 1
    for offset in range(0, len(data), step):
        piece = data[offset:offset + step]
        headers = dict(OCTETS, **{"Content-Range": f"{offset}-{offset + len(piece) - 1}"})
        resp = expect(session.patch(location, data=piece, headers=headers, timeout=120), 202)
        location = urljoin(base + "/", resp.headers["Location"])
    sep = "&" if "?" in location else "?"
    expect(session.put(f"{location}{sep}digest={digest}", headers=OCTETS, timeout=120), 201)


def push_image(session, base: str, repo: str, tag: str, blobs: list[bytes], *, chunk: int = 0) -> bytes:
    """Push blobs[0] as config and the rest as layers, then the manifest under `tag`;
    returns the manifest body once it was acknowledged with 201."""
    for blob in blobs:
        push_blob(session, base, repo, blob, chunk=chunk)
    body = image_manifest(OCI_MANIFEST, blobs[0], blobs[1:], annotations={"tag": tag})
    resp = session.put(f"{base}/v2/{repo}/manifests/{tag}", data=body,
                       headers={"Content-Type": OCI_MANIFEST}, timeout=120)
    expect(resp, 201)
    assert resp.headers["Docker-Content-Digest"] == sha256(body)
    return body


def assert_complete(base: str, repo: str, tag: str, body: bytes) -> None:
    """The tag serves exactly `body`, and every blob it names is served with its bytes
    (following a redirect to the bucket)."""
    resp = requests.get(f"{base}/v2/{repo}/manifests/{tag}", headers={"Accept": ALL_MANIFEST_TYPES}, timeout=60)
    assert resp.status_code == 200, f"{repo}:{tag} at {base}: {describe(resp)}"
    assert resp.content == body, f"{repo}:{tag} at {base} serves another manifest"
    doc = json.loads(body)
    for d in [doc["config"], *doc["layers"]]:
        blob = requests.get(f"{base}/v2/{repo}/blobs/{d['digest']}", timeout=120)
        assert blob.status_code == 200, f"{repo}:{tag} lost {d['digest']} at {base}: {describe(blob)}"
        assert sha256(blob.content) == d["digest"] and len(blob.content) == d["size"]


def assert_fsck_clean(fleet: Fleet) -> dict:
    result = fleet.ctl("fsck", "--json")
    assert result.returncode == 0, f"fsck exit {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- (a)

def test_chunked_push_across_three_nodes_then_pull_from_each(fleet):
    """POST on node 1, PATCH on node 2, PATCH on node 3, PUT (with the last bytes) on node 1:
    the session's staged parts, tail and running hash live in the shared stores."""
    a, b, c = fleet.nodes
    repo = "fleet/chunked"
    # 6 MiB (a whole S3 part and a tail), 3 MiB (joins the tail), 1 MiB with the PUT.
    pieces = [os.urandom(6 << 20), os.urandom(3 << 20), os.urandom(1 << 20)]
    data = b"".join(pieces)
    digest = sha256(data)
    resp = requests.post(f"{a.url}/v2/{repo}/blobs/uploads/", timeout=30)
    assert resp.status_code == 202, describe(resp)
    path = resp.headers["Location"].split("://", 1)[-1]
    path = path[path.index("/"):] if not resp.headers["Location"].startswith("/") else resp.headers["Location"]
    offset = 0
    for node, piece in [(b, pieces[0]), (c, pieces[1])]:
        headers = dict(OCTETS, **{"Content-Range": f"{offset}-{offset + len(piece) - 1}"})
        resp = requests.patch(node.url + path, data=piece, headers=headers, timeout=120)
        assert resp.status_code == 202, describe(resp)
        offset += len(piece)
        assert resp.headers["Range"] == f"0-{offset - 1}", describe(resp)
        path = resp.headers["Location"]
        path = path if path.startswith("/") else "/" + path.split("://", 1)[1].split("/", 1)[1]
    # Node 1 reports the offset node 3 reached before the last PUT.
    status = requests.get(a.url + path, timeout=30)
    assert status.status_code == 204 and status.headers["Range"] == f"0-{offset - 1}", describe(status)
    sep = "&" if "?" in path else "?"
    resp = requests.put(f"{a.url}{path}{sep}digest={digest}", data=pieces[2], headers=OCTETS, timeout=120)
    assert resp.status_code == 201, describe(resp)
    for node in fleet.nodes:
        blob = requests.get(f"{node.url}/v2/{repo}/blobs/{digest}", timeout=120)
        assert blob.status_code == 200 and sha256(blob.content) == digest, describe(blob)
    # Each request reached the node it was sent to.
    assert ("POST", f"/v2/{repo}/blobs/uploads/") in a.api_requests()
    assert any(m == "PATCH" for m, _ in b.api_requests()) and any(m == "PATCH" for m, _ in c.api_requests())
    # And an image made of it, pushed through node 2, pulls from node 3.
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    session = requests.Session()
    body = push_image(session, b.url, repo, "v1", [config, data])
    assert_complete(c.url, repo, "v1", body)
    assert assert_fsck_clean(fleet)
