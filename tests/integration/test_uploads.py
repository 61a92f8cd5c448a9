"""Blob upload sessions: monolithic, chunked, status, cancel, mount, errors, cleanup."""
import hashlib
import re
import uuid

import pytest

from helpers import (assert_error, assert_no_upload_files, assert_status, describe, fake_digest,
                     get_blob, http, location_path, push_blob, push_blob_chunked, rand_bytes,
                     sha256, shared, start_upload, uniq, with_digest)  # noqa: F401

OCTET = {"Content-Type": "application/octet-stream"}


def patch(reg, loc, data, content_range=None):
    headers = dict(OCTET)
    if content_range is not None:
        headers["Content-Range"] = content_range
    return http("PATCH", reg, loc, data=data, headers=headers)


# ----------------------------------------------------------------- starting a session

def test_post_starts_upload_session(shared):
    name = uniq("up")
    resp = http("POST", shared, f"/v2/{name}/blobs/uploads/")
    assert_status(resp, 202)
    loc = resp.headers.get("Location", "")
    assert loc.startswith(f"/v2/{name}/blobs/uploads/"), describe(resp)
    upload_id = resp.headers.get("Docker-Upload-UUID")
    assert upload_id, describe(resp)
    assert location_path(resp).split("?")[0] == f"/v2/{name}/blobs/uploads/{upload_id}", describe(resp)
    assert resp.headers.get("Range") == "0-0", describe(resp)
    assert resp.headers.get("Content-Length") == "0", describe(resp)
    assert resp.content == b""


def test_two_sessions_get_different_ids(shared):
    name = uniq("up")
    a = start_upload(shared, name).headers["Docker-Upload-UUID"]
    b = start_upload(shared, name).headers["Docker-Upload-UUID"]
    assert a != b


def test_post_in_nested_repository(shared):
    name = f"{uniq('team')}/app/api"
    resp = start_upload(shared, name)
    assert location_path(resp).startswith(f"/v2/{name}/blobs/uploads/"), describe(resp)


# ----------------------------------------------------------------- monolithic

def test_monolithic_post_with_digest(shared):
    name = uniq("mono")
    data = rand_bytes(5000)
    digest = sha256(data)
    resp = http("POST", shared, f"/v2/{name}/blobs/uploads/?digest={digest}", data=data, headers=OCTET)
    assert_status(resp, 201)
    assert resp.headers.get("Location") in (f"/v2/{name}/blobs/{digest}",
                                            f"{shared.url}/v2/{name}/blobs/{digest}"), describe(resp)
    assert location_path(resp) == f"/v2/{name}/blobs/{digest}"
    assert resp.headers.get("Docker-Content-Digest") == digest, describe(resp)
    got = get_blob(shared, name, digest)
    assert_status(got, 200)
    assert got.content == data


def test_monolithic_post_with_wrong_digest_is_rejected(registry):
    name = uniq("mono")
    data = rand_bytes(1000)
    wrong = fake_digest()
    resp = http("POST", registry, f"/v2/{name}/blobs/uploads/?digest={wrong}", data=data, headers=OCTET)
    assert_error(resp, 400, "DIGEST_INVALID")
    assert_error(http("HEAD", registry, f"/v2/{name}/blobs/{wrong}"), 404, None)
    assert_error(http("HEAD", registry, f"/v2/{name}/blobs/{sha256(data)}"), 404, None)
    assert_no_upload_files(registry)


def test_post_then_single_put_with_whole_body(shared):
    name = uniq("put")
    data = rand_bytes(3000)
    loc = location_path(start_upload(shared, name))
    resp = http("PUT", shared, with_digest(loc, sha256(data)), data=data, headers=OCTET)
    assert_status(resp, 201)
    assert location_path(resp) == f"/v2/{name}/blobs/{sha256(data)}"
    assert resp.headers.get("Docker-Content-Digest") == sha256(data)
    assert get_blob(shared, name, sha256(data)).content == data


def test_pushing_existing_blob_again_is_201(shared):
    name = uniq("again")
    data = rand_bytes(700)
    push_blob(shared, name, data)
    push_blob(shared, name, data)
    resp = push_blob_chunked(shared, name, [data[:300], data[300:]])
    assert_status(resp, 201)
    assert get_blob(shared, name, sha256(data)).content == data


# ----------------------------------------------------------------- chunked

def test_chunked_upload_with_content_range(registry):
    name = uniq("chunk")
    parts = [rand_bytes(1000), rand_bytes(2000), rand_bytes(1)]
    data = b"".join(parts)
    resp = start_upload(registry, name)
    upload_id = resp.headers["Docker-Upload-UUID"]
    loc = location_path(resp)
    offset = 0
    for part in parts:
        resp = patch(registry, loc, part, f"{offset}-{offset + len(part) - 1}")
        assert_status(resp, 202)
        offset += len(part)
        assert resp.headers.get("Range") == f"0-{offset - 1}", describe(resp)
        assert resp.headers.get("Docker-Upload-UUID") == upload_id, describe(resp)
        loc = location_path(resp)
        assert loc.startswith(f"/v2/{name}/blobs/uploads/{upload_id}"), describe(resp)
    resp = http("PUT", registry, with_digest(loc, sha256(data)))
    assert_status(resp, 201)
    assert location_path(resp) == f"/v2/{name}/blobs/{sha256(data)}"
    assert resp.headers.get("Docker-Content-Digest") == sha256(data)
    got = get_blob(registry, name, sha256(data))
    assert_status(got, 200)
    assert got.content == data
    assert_no_upload_files(registry)


def test_chunked_upload_without_content_range_appends(shared):
    name = uniq("append")
    parts = [rand_bytes(1234), rand_bytes(4321)]
    resp = push_blob_chunked(shared, name, parts, content_range=False)
    assert_status(resp, 201)
    assert get_blob(shared, name, sha256(b"".join(parts))).content == b"".join(parts)


def test_chunked_upload_with_final_chunk_in_put(shared):
    name = uniq("final")
    parts = [rand_bytes(900)]
    final = rand_bytes(600)
    resp = push_blob_chunked(shared, name, parts, final=final)
    assert_status(resp, 201)
    data = parts[0] + final
    assert resp.headers.get("Docker-Content-Digest") == sha256(data)
    assert get_blob(shared, name, sha256(data)).content == data


def test_upload_status_reports_range(shared):
    name = uniq("status")
    resp = start_upload(shared, name)
    upload_id = resp.headers["Docker-Upload-UUID"]
    loc = location_path(resp)
    resp = patch(shared, loc, rand_bytes(777), "0-776")
    assert_status(resp, 202)
    loc = location_path(resp)
    resp = http("GET", shared, loc)
    assert_status(resp, 204)
    assert resp.headers.get("Range") == "0-776", describe(resp)
    assert resp.content == b""
    assert resp.headers.get("Docker-Upload-UUID") == upload_id, describe(resp)
    # a second chunk moves it on
    resp = patch(shared, loc, rand_bytes(23), "777-799")
    assert_status(resp, 202)
    resp = http("GET", shared, location_path(resp))
    assert_status(resp, 204)
    assert resp.headers.get("Range") == "0-799", describe(resp)


def test_large_chunked_upload_crosses_chunk_boundaries(registry):
    name = uniq("big")
    size = 8 * 1024 * 1024 + 123
    data = rand_bytes(size)
    # uneven chunk sizes, none aligned to a power of two
    cuts = [0, 3 * 1024 * 1024 + 1, 6 * 1024 * 1024 - 7, size - 5000, size]
    parts = [data[a:b] for a, b in zip(cuts, cuts[1:])]
    resp = push_blob_chunked(registry, name, parts[:-1], final=parts[-1])
    assert_status(resp, 201)
    digest = sha256(data)
    assert resp.headers.get("Docker-Content-Digest") == digest
    got = get_blob(registry, name, digest)
    assert_status(got, 200)
    assert got.headers.get("Content-Length") == str(size)
    assert hashlib.sha256(got.content).hexdigest() == digest.split(":")[1]
    mid = 4 * 1024 * 1024 - 10
    resp = http("GET", registry, f"/v2/{name}/blobs/{digest}",
                headers={"Range": f"bytes={mid}-{mid + 99999}"})
    assert_status(resp, 206)
    assert resp.content == data[mid:mid + 100000]
    assert_no_upload_files(registry)


def test_large_monolithic_upload(shared):
    name = uniq("bigmono")
    data = rand_bytes(3 * 1024 * 1024 + 17)
    digest = push_blob(shared, name, data)
    got = get_blob(shared, name, digest)
    assert hashlib.sha256(got.content).hexdigest() == digest.split(":")[1]


# ----------------------------------------------------------------- out of order / bad ranges

def test_first_chunk_not_starting_at_zero_is_416(shared):
    name = uniq("range")
    loc = location_path(start_upload(shared, name))
    resp = patch(shared, loc, rand_bytes(10), "5-14")
    assert_error(resp, 416, "BLOB_UPLOAD_INVALID")


@pytest.mark.parametrize("content_range", ["20-29", "0-9", "5-14", "11-20"])
def test_out_of_order_chunk_is_416(shared, content_range):
    name = uniq("range")
    loc = location_path(start_upload(shared, name))
    resp = patch(shared, loc, rand_bytes(10), "0-9")
    assert_status(resp, 202)
    loc = location_path(resp)
    resp = patch(shared, loc, rand_bytes(10), content_range)
    assert_error(resp, 416, "BLOB_UPLOAD_INVALID")
    # the session still reports what it really has
    resp = http("GET", shared, loc)
    assert_status(resp, 204)
    assert resp.headers.get("Range") == "0-9", describe(resp)


# ----------------------------------------------------------------- digest problems

def test_put_with_wrong_digest_is_rejected_and_session_dropped(registry):
    name = uniq("bad")
    data = rand_bytes(2048)
    loc = location_path(start_upload(registry, name))
    resp = patch(registry, loc, data, f"0-{len(data) - 1}")
    assert_status(resp, 202)
    loc = location_path(resp)
    wrong = fake_digest()
    resp = http("PUT", registry, with_digest(loc, wrong))
    assert_error(resp, 400, "DIGEST_INVALID")
    assert_error(http("HEAD", registry, f"/v2/{name}/blobs/{wrong}"), 404, None)
    assert_error(http("HEAD", registry, f"/v2/{name}/blobs/{sha256(data)}"), 404, None)
    assert_error(http("GET", registry, loc), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_no_upload_files(registry)


def test_put_with_wrong_digest_and_final_chunk(registry):
    name = uniq("bad")
    loc = location_path(start_upload(registry, name))
    resp = http("PUT", registry, with_digest(loc, fake_digest()), data=rand_bytes(500), headers=OCTET)
    assert_error(resp, 400, "DIGEST_INVALID")
    assert_error(http("GET", registry, loc), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_no_upload_files(registry)


def test_put_without_digest_is_400(shared):
    name = uniq("nodigest")
    loc = location_path(start_upload(shared, name))
    resp = patch(shared, loc, rand_bytes(100), "0-99")
    assert_status(resp, 202)
    resp = http("PUT", shared, location_path(resp), data=b"", headers=OCTET)
    assert_error(resp, 400, "DIGEST_INVALID")


@pytest.mark.parametrize("bad", ["sha256:abc", "sha256:" + "A" * 64, "md5:" + "a" * 32,
                                 "sha256:" + "g" * 64, "nonsense"])
def test_put_with_malformed_digest_is_400(shared, bad):
    name = uniq("baddigest")
    loc = location_path(start_upload(shared, name))
    resp = http("PUT", shared, with_digest(loc, bad), data=rand_bytes(10), headers=OCTET)
    assert_error(resp, 400, "DIGEST_INVALID")


# ----------------------------------------------------------------- unknown / finished / cancelled

@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_unknown_upload_id_is_404(shared, method):
    name = uniq("unk")
    push_blob(shared, name, rand_bytes(10))
    loc = f"/v2/{name}/blobs/uploads/{uuid.uuid4()}"
    if method == "PUT":
        loc = with_digest(loc, fake_digest())
    resp = http(method, shared, loc, data=b"x" if method in ("PATCH", "PUT") else None)
    assert_error(resp, 404, "BLOB_UPLOAD_UNKNOWN")


def test_upload_id_is_bound_to_its_repository(shared):
    a, b = uniq("owner"), uniq("thief")
    push_blob(shared, b, rand_bytes(10))
    resp = start_upload(shared, a)
    upload_id = resp.headers["Docker-Upload-UUID"]
    foreign = location_path(resp).replace(f"/v2/{a}/", f"/v2/{b}/", 1)
    assert upload_id in foreign
    resp = http("PATCH", shared, foreign, data=b"hello", headers=OCTET)
    assert_error(resp, 404, "BLOB_UPLOAD_UNKNOWN")


def test_cancel_upload(registry):
    name = uniq("cancel")
    loc = location_path(start_upload(registry, name))
    resp = patch(registry, loc, rand_bytes(4096), "0-4095")
    assert_status(resp, 202)
    loc = location_path(resp)
    resp = http("DELETE", registry, loc)
    assert_status(resp, 204)
    assert_error(http("GET", registry, loc), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(patch(registry, loc, b"more"), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(http("DELETE", registry, loc), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_no_upload_files(registry)


def test_patch_after_completed_upload_is_404(registry):
    name = uniq("done")
    data = rand_bytes(1000)
    loc = location_path(start_upload(registry, name))
    resp = patch(registry, loc, data, "0-999")
    assert_status(resp, 202)
    loc = location_path(resp)
    assert_status(http("PUT", registry, with_digest(loc, sha256(data))), 201)
    assert_error(patch(registry, loc, b"more", "1000-1003"), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(http("GET", registry, loc), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(http("PUT", registry, with_digest(loc, sha256(data))), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_no_upload_files(registry)


def test_no_upload_files_after_mixed_sessions(registry):
    name = uniq("mix")
    # completed chunked
    assert_status(push_blob_chunked(registry, name, [rand_bytes(100), rand_bytes(200)]), 201)
    # completed monolithic
    push_blob(registry, name, rand_bytes(300))
    # failed
    loc = location_path(start_upload(registry, name))
    assert_error(http("PUT", registry, with_digest(loc, fake_digest()), data=b"abc", headers=OCTET),
                 400, "DIGEST_INVALID")
    # cancelled
    loc = location_path(start_upload(registry, name))
    assert_status(patch(registry, loc, b"abcdef", "0-5"), 202)
    assert_status(http("DELETE", registry, loc), 204)
    assert_no_upload_files(registry)


# ----------------------------------------------------------------- cross-repository mount

def test_mount_from_other_repository(shared):
    src, dst = uniq("src"), uniq("dst")
    data = rand_bytes(2500)
    digest = push_blob(shared, src, data)
    assert_error(http("HEAD", shared, f"/v2/{dst}/blobs/{digest}"), 404, None)
    resp = http("POST", shared, f"/v2/{dst}/blobs/uploads/?mount={digest}&from={src}")
    assert_status(resp, 201)
    assert location_path(resp) == f"/v2/{dst}/blobs/{digest}"
    assert resp.headers.get("Docker-Content-Digest") == digest
    got = get_blob(shared, dst, digest)
    assert_status(got, 200)
    assert got.content == data


def test_mount_from_nested_repository(shared):
    src, dst = f"{uniq('org')}/base/img", f"{uniq('org')}/app"
    data = rand_bytes(600)
    digest = push_blob(shared, src, data)
    resp = http("POST", shared, f"/v2/{dst}/blobs/uploads/?mount={digest}&from={src}")
    assert_status(resp, 201)
    assert get_blob(shared, dst, digest).content == data


@pytest.mark.parametrize("case", ["blob_not_in_source", "unknown_source"])
def test_mount_falls_back_to_upload_session(shared, case):
    src, dst = uniq("src"), uniq("dst")
    data = rand_bytes(800)
    digest = sha256(data)
    if case == "blob_not_in_source":
        push_blob(shared, src, rand_bytes(10))
        push_blob(shared, uniq("elsewhere"), data)   # the blob exists, just not in src
    resp = http("POST", shared, f"/v2/{dst}/blobs/uploads/?mount={digest}&from={src}")
    assert_status(resp, 202)
    assert resp.headers.get("Docker-Upload-UUID"), describe(resp)
    loc = location_path(resp)
    assert loc.startswith(f"/v2/{dst}/blobs/uploads/"), describe(resp)
    assert_error(http("HEAD", shared, f"/v2/{dst}/blobs/{digest}"), 404, None)
    # the session is usable
    resp = http("PUT", shared, with_digest(loc, digest), data=data, headers=OCTET)
    assert_status(resp, 201)
    assert get_blob(shared, dst, digest).content == data


# ----------------------------------------------------------------- concurrency

def test_concurrent_pushes_of_same_blob_store_one_copy(registry):
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path
    data = rand_bytes(64 * 1024)
    digest = sha256(data)
    repos = [f"conc/r{i}" for i in range(8)]

    def chunked(repo):
        return push_blob_chunked(registry, repo, [data[:30000], data[30000:]])

    def mono(repo):
        return http("POST", registry, f"/v2/{repo}/blobs/uploads/?digest={digest}", data=data,
                    headers=OCTET)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda ir: (chunked if ir[0] % 2 else mono)(ir[1]), enumerate(repos)))
    for resp in results:
        assert_status(resp, 201)
        assert resp.headers.get("Docker-Content-Digest") == digest
    for repo in repos:
        got = get_blob(registry, repo, digest)
        assert_status(got, 200)
        assert got.content == data
    copies = [p for p in Path(registry.root, "blobs").rglob("*") if p.is_file() and p.read_bytes() == data]
    assert len(copies) == 1, copies
    assert_no_upload_files(registry)


def test_concurrent_different_uploads_in_one_repository(registry):
    from concurrent.futures import ThreadPoolExecutor
    name = uniq("busy")
    blobs = [rand_bytes(20000 + i) for i in range(8)]

    def push(data):
        return push_blob_chunked(registry, name, [data[:7000], data[7000:15000]], final=data[15000:])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(push, blobs))
    for data, resp in zip(blobs, results):
        assert_status(resp, 201)
        assert resp.headers.get("Docker-Content-Digest") == sha256(data)
        assert get_blob(registry, name, sha256(data)).content == data
    assert_no_upload_files(registry)
