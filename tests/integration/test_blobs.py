"""Blob reads (GET/HEAD/Range), repository isolation, deletion and de-duplication."""
from pathlib import Path

import pytest

from helpers import (assert_error, assert_status, describe, fake_digest, files_under, get_blob,
                     http, push_blob, rand_bytes, sha256, shared, uniq)  # noqa: F401

SIZE = 4096


@pytest.fixture
def blob(shared):
    name = uniq("blob")
    data = rand_bytes(SIZE)
    digest = push_blob(shared, name, data)
    return name, data, digest


def assert_blob_headers(resp, data, digest):
    assert resp.headers.get("Content-Length") == str(len(data)), describe(resp)
    assert resp.headers.get("Docker-Content-Digest") == digest, describe(resp)
    assert resp.headers.get("Content-Type") == "application/octet-stream", describe(resp)
    assert resp.headers.get("ETag") == f'"{digest}"', describe(resp)
    assert resp.headers.get("Accept-Ranges") == "bytes", describe(resp)


def test_get_blob_returns_bytes_and_headers(shared, blob):
    name, data, digest = blob
    resp = get_blob(shared, name, digest)
    assert_status(resp, 200)
    assert resp.content == data
    assert_blob_headers(resp, data, digest)


def test_head_blob_has_headers_and_no_body(shared, blob):
    name, data, digest = blob
    resp = http("HEAD", shared, f"/v2/{name}/blobs/{digest}")
    assert_status(resp, 200)
    assert resp.content == b""
    assert_blob_headers(resp, data, digest)


def test_empty_blob_roundtrip(shared):
    name = uniq("empty")
    digest = push_blob(shared, name, b"")
    assert digest == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    resp = get_blob(shared, name, digest)
    assert_status(resp, 200)
    assert resp.content == b""
    assert resp.headers.get("Content-Length") == "0", describe(resp)


@pytest.mark.parametrize("spec,start,end", [
    ("bytes=0-9", 0, 9),
    ("bytes=10-10", 10, 10),
    ("bytes=100-1099", 100, 1099),
    (f"bytes=0-{SIZE - 1}", 0, SIZE - 1),
    ("bytes=4000-", 4000, SIZE - 1),
    ("bytes=0-", 0, SIZE - 1),
    ("bytes=-50", SIZE - 50, SIZE - 1),
    (f"bytes=-{SIZE}", 0, SIZE - 1),
    (f"bytes={SIZE - 1}-", SIZE - 1, SIZE - 1),
])
def test_range_request_returns_206_with_exact_bytes(shared, blob, spec, start, end):
    name, data, digest = blob
    resp = http("GET", shared, f"/v2/{name}/blobs/{digest}", headers={"Range": spec})
    assert_status(resp, 206)
    assert resp.headers.get("Content-Range") == f"bytes {start}-{end}/{SIZE}", describe(resp)
    assert resp.headers.get("Content-Length") == str(end - start + 1), describe(resp)
    assert resp.content == data[start:end + 1]


def test_range_end_past_size_is_clamped(shared, blob):
    # RFC 9110 14.1.1: a last-pos beyond the representation is replaced by size-1.
    name, data, digest = blob
    resp = http("GET", shared, f"/v2/{name}/blobs/{digest}",
                headers={"Range": f"bytes=4000-{SIZE + 5000}"})
    assert_status(resp, 206)
    assert resp.headers.get("Content-Range") == f"bytes 4000-{SIZE - 1}/{SIZE}", describe(resp)
    assert resp.content == data[4000:]


@pytest.mark.parametrize("spec", [f"bytes={SIZE}-", f"bytes={SIZE}-{SIZE + 10}",
                                  f"bytes={SIZE + 100}-{SIZE + 200}"])
def test_unsatisfiable_range_is_416(shared, blob, spec):
    name, data, digest = blob
    resp = http("GET", shared, f"/v2/{name}/blobs/{digest}", headers={"Range": spec})
    assert resp.status_code == 416, describe(resp)
    assert resp.headers.get("Content-Range") == f"bytes */{SIZE}", describe(resp)


def test_unknown_blob_is_404_blob_unknown(shared, blob):
    name, _, _ = blob
    resp = get_blob(shared, name, fake_digest())
    assert_error(resp, 404, "BLOB_UNKNOWN")


def test_head_unknown_blob_is_404_without_body(shared, blob):
    name, _, _ = blob
    resp = http("HEAD", shared, f"/v2/{name}/blobs/{fake_digest()}")
    assert_error(resp, 404, None)
    assert resp.content == b""


def test_unknown_blob_in_unknown_repo_is_404(shared):
    resp = get_blob(shared, uniq("ghost"), fake_digest())
    assert_error(resp, 404, ("BLOB_UNKNOWN", "NAME_UNKNOWN"))


def test_sha512_digest_form_is_valid_but_unknown(shared, blob):
    name, _, _ = blob
    resp = get_blob(shared, name, "sha512:" + "ab" * 64)
    assert_error(resp, 404, "BLOB_UNKNOWN")


def test_blob_is_not_visible_in_another_repository(shared, blob):
    name, data, digest = blob
    other = uniq("other")
    push_blob(shared, other, rand_bytes(100))           # the other repo exists
    resp = get_blob(shared, other, digest)
    assert_error(resp, 404, "BLOB_UNKNOWN")
    resp = http("HEAD", shared, f"/v2/{other}/blobs/{digest}")
    assert_error(resp, 404, None)
    # and from a repository that does not exist at all
    resp = get_blob(shared, uniq("nobody"), digest)
    assert_error(resp, 404, ("BLOB_UNKNOWN", "NAME_UNKNOWN"))
    # still fine in its own repository
    assert_status(get_blob(shared, name, digest), 200)


def test_blob_in_nested_repository(shared):
    name = f"{uniq('team')}/app/api"
    data = rand_bytes(1500)
    digest = push_blob(shared, name, data)
    resp = get_blob(shared, name, digest)
    assert_status(resp, 200)
    assert resp.content == data
    assert_error(get_blob(shared, name.rsplit("/", 1)[0], digest), 404, ("BLOB_UNKNOWN", "NAME_UNKNOWN"))


def test_delete_blob(shared, blob):
    name, data, digest = blob
    resp = http("DELETE", shared, f"/v2/{name}/blobs/{digest}")
    assert_status(resp, 202)
    assert_error(get_blob(shared, name, digest), 404, "BLOB_UNKNOWN")
    assert_error(http("HEAD", shared, f"/v2/{name}/blobs/{digest}"), 404, None)


def test_delete_blob_in_one_repo_keeps_it_in_another(shared):
    data = rand_bytes(2222)
    a, b = uniq("dela"), uniq("delb")
    digest = push_blob(shared, a, data)
    push_blob(shared, b, data)
    assert_status(http("DELETE", shared, f"/v2/{a}/blobs/{digest}"), 202)
    assert_error(get_blob(shared, a, digest), 404, "BLOB_UNKNOWN")
    resp = get_blob(shared, b, digest)
    assert_status(resp, 200)
    assert resp.content == data


def test_delete_unknown_blob_is_404(shared, blob):
    name, _, _ = blob
    resp = http("DELETE", shared, f"/v2/{name}/blobs/{fake_digest()}")
    assert_error(resp, 404, "BLOB_UNKNOWN")


def test_delete_blob_disabled_is_405_unsupported(make_registry):
    reg = make_registry(delete=False).start()
    name = uniq("nodel")
    data = rand_bytes(1000)
    digest = push_blob(reg, name, data)
    resp = http("DELETE", reg, f"/v2/{name}/blobs/{digest}")
    assert_error(resp, 405, "UNSUPPORTED")
    resp = get_blob(reg, name, digest)
    assert_status(resp, 200)
    assert resp.content == data


def test_same_bytes_in_two_repos_are_stored_once(registry):
    data = rand_bytes(3333)
    d1 = push_blob(registry, "dedup/one", data)
    d2 = push_blob(registry, "dedup/two", data)
    assert d1 == d2
    # pushing it again into the same repository is fine too
    push_blob(registry, "dedup/one", data)
    hexpart = d1.split(":", 1)[1]
    root = Path(registry.root)
    path = root / "blobs" / "sha256" / hexpart[:2] / hexpart
    assert path.exists(), f"expected blob at {path}; blobs tree: {files_under(root / 'blobs')}"
    under = [path] if path.is_file() else files_under(path)
    assert len(under) == 1, f"expected exactly one file at/under {path}, got {under}"
    assert under[0].read_bytes() == data
    copies = [p for p in files_under(root / "blobs") if p.read_bytes() == data]
    assert len(copies) == 1, f"blob stored {len(copies)} times: {copies}"
    for repo in ("dedup/one", "dedup/two"):
        resp = get_blob(registry, repo, d1)
        assert_status(resp, 200)
        assert resp.content == data
