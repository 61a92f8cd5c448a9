"""registryd with its blobs in a real S3 server (Ceph RGW), as Distribution's s3 driver is
configured: pushes of every shape, reads by redirect and by streaming, uploads that survive a
crash of the server between chunks, refusals that leave nothing behind, and gc."""
from __future__ import annotations

import hashlib
import os

import pytest
import requests

from helpers import (OCI_MANIFEST, assert_error, assert_status, describe, http, location_path,
                     make_image, metric_sum, push_blob, push_blob_chunked, scrape_metrics, sha256, start_upload,
                     with_digest)
from registry import RegistryProcess, free_port
from registryctl import gc
from s3 import s3_server  # noqa: F401  (fixture)

MiB = 1 << 20


def blob_key(digest: str, root: str = "") -> str:
    algorithm, hex_ = digest.split(":")
    return f"{root}docker/registry/v2/blobs/{algorithm}/{hex_[:2]}/{hex_}/data"


def fetch_blob(reg, name: str, digest: str) -> bytes:
    """GET a blob as clients do: following the 307 to the presigned URL when there is one."""
    resp = requests.get(f"{reg.url}/v2/{name}/blobs/{digest}", timeout=60)
    if not resp.history:
        assert_status(resp, 200)  # served by registryd itself: its common headers too
    assert resp.status_code == 200, describe(resp)
    return resp.content


def s3_registry(tmp_path, s3, *, redirect: bool = True, root: str = "", name: str = "registry",
                chunksize: int = 5 * MiB) -> RegistryProcess:
    bucket = s3.make_bucket()
    port, debug_port = free_port(), free_port()
    config = f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {tmp_path / name / 'data'}
{s3.config(bucket, redirect=redirect, root=root, chunksize=chunksize)}  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
  debug:
    addr: 127.0.0.1:{debug_port}
    prometheus:
      enabled: true
"""
    server = RegistryProcess(tmp_path / name, config_text=config)
    server.port = port
    server.debug_port = debug_port
    server.bucket = bucket
    return server.start()


@pytest.fixture
def s3_reg(tmp_path, s3_server):
    server = s3_registry(tmp_path, s3_server)
    yield server
    server.stop()


def test_blobs_land_in_distributions_layout_and_redirect_to_presigned_urls(s3_reg, s3_server):
    data = os.urandom(300_000)
    digest = push_blob(s3_reg, "team/app", data)
    assert blob_key(digest) in s3_server.keys(s3_reg.bucket, "docker/")
    resp = requests.get(f"{s3_reg.url}/v2/team/app/blobs/{digest}", allow_redirects=False, timeout=30)
    assert resp.status_code == 307, describe(resp)
    location = resp.headers["Location"]
    assert location.startswith(s3_server.endpoint + "/") and "X-Amz-Signature=" in location
    assert resp.headers.get("Docker-Content-Digest") == digest
    # The presigned URL needs no credentials, and the redirect is followed by ordinary clients.
    assert requests.get(location, timeout=30).content == data
    assert fetch_blob(s3_reg, "team/app", digest) == data
    # Nothing of the upload is left in the bucket: only the blob.
    assert s3_server.keys(s3_reg.bucket) == [blob_key(digest)]
    assert s3_server.multipart_uploads(s3_reg.bucket) == []


def test_streamed_reads_with_redirects_disabled(tmp_path, s3_server):
    server = s3_registry(tmp_path, s3_server, redirect=False, root="nested/prefix")
    try:
        data = os.urandom(2 * MiB + 17)
        digest = push_blob(server, "team/app", data)
        assert blob_key(digest, "nested/prefix/") in s3_server.keys(server.bucket, "nested/")
        resp = requests.get(f"{server.url}/v2/team/app/blobs/{digest}", allow_redirects=False, timeout=30)
        assert_status(resp, 200)
        assert resp.content == data
        ranged = requests.get(f"{server.url}/v2/team/app/blobs/{digest}", headers={"Range": "bytes=1000-1999"},
                              timeout=30)
        assert ranged.status_code == 206, describe(ranged)
        assert ranged.content == data[1000:2000]
        head = requests.head(f"{server.url}/v2/team/app/blobs/{digest}", timeout=30)
        assert_status(head, 200)
        assert int(head.headers["Content-Length"]) == len(data)
    finally:
        server.stop()


@pytest.mark.parametrize("chunks", [
    [1 * MiB, 1 * MiB, 300],               # every chunk short of a part: tails only
    [6 * MiB, 3 * MiB, 5 * MiB + 1],       # parts, a tail carried over, a last short part
    [5 * MiB, 5 * MiB],                    # exact parts, no tail
], ids=["small-chunks", "mixed", "exact-parts"])
def test_chunked_uploads_of_every_shape(s3_reg, s3_server, chunks):
    parts = [os.urandom(n) for n in chunks]
    resp = push_blob_chunked(s3_reg, "team/app", parts[:-1], final=parts[-1])
    assert_status(resp, 201)
    data = b"".join(parts)
    digest = sha256(data)
    assert resp.headers["Docker-Content-Digest"] == digest
    assert fetch_blob(s3_reg, "team/app", digest) == data
    assert s3_server.keys(s3_reg.bucket) == [blob_key(digest)]
    assert s3_server.multipart_uploads(s3_reg.bucket) == []


def s3_gets(reg) -> int:
    """How many GET Object requests registryd sent to the bucket so far."""
    return int(metric_sum(scrape_metrics(reg.debug_port), "registry_s3_requests_total", operation="get_object"))


def test_small_blobs_are_read_from_the_bucket_once_and_404_after_gc(tmp_path, s3_server):
    server = s3_registry(tmp_path, s3_server, redirect=False)
    try:
        small, large = os.urandom(1024), os.urandom(3 * MiB)
        small_digest = push_blob(server, "team/app", small)
        large_digest = push_blob(server, "team/app", large)
        before = s3_gets(server)
        for _ in range(3):
            assert fetch_blob(server, "team/app", small_digest) == small
        assert s3_gets(server) == before + 1, "a small blob was read from the bucket more than once"
        ranged = requests.get(f"{server.url}/v2/team/app/blobs/{small_digest}",
                              headers={"Range": "bytes=100-199"}, timeout=30)
        assert ranged.status_code == 206, describe(ranged)
        assert ranged.content == small[100:200]
        # A short range at the start of a large blob: the first 64 KiB, not cached.
        for _ in range(2):
            ranged = requests.get(f"{server.url}/v2/team/app/blobs/{large_digest}",
                                  headers={"Range": "bytes=0-999"}, timeout=30)
            assert ranged.status_code == 206, describe(ranged)
            assert ranged.content == large[:1000]
        assert fetch_blob(server, "team/app", large_digest) == large
        assert s3_gets(server) == before + 4
        # Unlinked and collected: 404 at once, although this node still holds the bytes.
        assert_status(http("DELETE", server, f"/v2/team/app/blobs/{small_digest}"), 202)
        gc(server.config_path, "--grace", "0s")
        assert blob_key(small_digest) not in s3_server.keys(server.bucket)
        assert_error(requests.get(f"{server.url}/v2/team/app/blobs/{small_digest}", timeout=30), 404, "BLOB_UNKNOWN")
        # Pushed again, it is served again.
        assert push_blob(server, "team/app", small) == small_digest
        assert fetch_blob(server, "team/app", small_digest) == small
    finally:
        server.stop()


def test_patches_of_at_least_5_mib_go_up_as_parts_of_their_own(tmp_path, s3_server):
    """With Distribution's default 10 MiB chunksize, each 8 MiB PATCH is one S3 part: no tail
    object is written (and read back and written again by the next PATCH), and an upload made
    only of such parts resumes after kill -9 and completes."""
    server = s3_registry(tmp_path, s3_server, chunksize=10 * MiB)
    try:
        chunks = [os.urandom(8 * MiB), os.urandom(8 * MiB), os.urandom(6 * MiB)]
        data = b"".join(chunks)
        loc = location_path(start_upload(server, "team/app"))
        for chunk in chunks[:2]:
            resp = http("PATCH", server, loc, data=chunk, headers={"Content-Type": "application/octet-stream"})
            assert_status(resp, 202)
            loc = location_path(resp)
            assert s3_server.keys(server.bucket) == [], "a PATCH of 8 MiB left a tail object"
        assert len(s3_server.multipart_uploads(server.bucket)) == 1
        server.kill()
        server.start()
        status = http("GET", server, loc)
        assert_status(status, 204)
        assert status.headers["Range"] == f"0-{16 * MiB - 1}"
        resp = http("PUT", server, with_digest(loc, sha256(data)), data=chunks[2],
                    headers={"Content-Type": "application/octet-stream"})
        assert_status(resp, 201)
        assert fetch_blob(server, "team/app", sha256(data)) == data
        assert s3_server.keys(server.bucket) == [blob_key(sha256(data))]
        assert s3_server.multipart_uploads(server.bucket) == []
    finally:
        server.stop()


def test_an_upload_survives_kill_9_between_chunks(s3_reg, s3_server):
    first, second = os.urandom(6 * MiB), os.urandom(2 * MiB)
    loc = location_path(start_upload(s3_reg, "team/app"))
    resp = http("PATCH", s3_reg, loc, data=first, headers={"Content-Type": "application/octet-stream"})
    assert_status(resp, 202)
    loc = location_path(resp)
    s3_reg.kill()
    s3_reg.start()
    status = http("GET", s3_reg, loc)
    assert_status(status, 204)
    assert status.headers["Range"] == f"0-{len(first) - 1}"
    resp = http("PUT", s3_reg, with_digest(loc, sha256(first + second)), data=second,
                headers={"Content-Type": "application/octet-stream"})
    assert_status(resp, 201)
    assert fetch_blob(s3_reg, "team/app", sha256(first + second)) == first + second


def test_a_wrong_digest_leaves_nothing_in_the_bucket(s3_reg, s3_server):
    data = os.urandom(7 * MiB)
    wrong = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    loc = location_path(start_upload(s3_reg, "team/app"))
    resp = http("PUT", s3_reg, with_digest(loc, wrong), data=data, headers={"Content-Type": "application/octet-stream"})
    assert_error(resp, 400, "DIGEST_INVALID")
    assert s3_server.keys(s3_reg.bucket) == []
    assert s3_server.multipart_uploads(s3_reg.bucket) == []
    assert requests.get(f"{s3_reg.url}/v2/", timeout=10).status_code == 200


def test_images_and_gc(s3_reg, s3_server):
    keep = make_image(s3_reg, "team/keep", tag="v1")
    drop = make_image(s3_reg, "team/drop", tag="v1")
    manifest = requests.get(f"{s3_reg.url}/v2/team/drop/manifests/v1", headers={"Accept": OCI_MANIFEST}, timeout=10)
    assert_status(manifest, 200)
    resp = http("DELETE", s3_reg, f"/v2/team/drop/manifests/{manifest.headers['Docker-Content-Digest']}")
    assert_status(resp, 202)
    report = gc(s3_reg.config_path, "--grace", "0s")
    removed = {blob["digest"] for blob in report["blobs"]}
    dropped = {sha256(drop.config), *(sha256(layer) for layer in drop.layers)}
    kept = {sha256(keep.config), *(sha256(layer) for layer in keep.layers)}
    assert removed == dropped
    keys = set(s3_server.keys(s3_reg.bucket))
    assert {blob_key(d) for d in kept} <= keys
    assert not {blob_key(d) for d in dropped} & keys
    for layer in keep.layers:
        assert fetch_blob(s3_reg, "team/keep", sha256(layer)) == layer


def test_a_missing_bucket_stops_startup_with_one_line(tmp_path, s3_server):
    port = free_port()
    config = f"""version: 0.1
storage:
  filesystem:
    rootdirectory: {tmp_path / 'data'}
{s3_server.config('no-such-bucket-here')}http:
  addr: 127.0.0.1:{port}
"""
    server = RegistryProcess(tmp_path / "missing", config_text=config)
    with pytest.raises(RuntimeError) as failure:
        server.start(timeout=20)
    assert "no-such-bucket-here" in str(failure.value)
    assert s3_server.secret_key not in str(failure.value)
