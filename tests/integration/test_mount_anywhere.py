"""Blob mounts without `from` (berth.mount.anywhere) and mounts whose source lacks the blob."""
import pytest

from helpers import (assert_error, assert_status, describe, fake_digest, get_blob, http,
                     location_path, push_blob, rand_bytes, sha256, uniq)

ANYWHERE = "berth:\n  mount:\n    anywhere: true\n"


@pytest.fixture
def anywhere(make_registry):
    return make_registry("anywhere", extra_config=ANYWHERE).start()


def mount(reg, name, digest, source=None):
    path = f"/v2/{name}/blobs/uploads/?mount={digest}"
    if source is not None:
        path += f"&from={source}"
    return http("POST", reg, path)


def assert_upload_started(reg, resp, name):
    assert_status(resp, 202)
    assert location_path(resp).startswith(f"/v2/{name}/blobs/uploads/"), describe(resp)
    assert resp.headers.get("Docker-Upload-UUID"), describe(resp)
    # It is a real session: it can be cancelled.
    assert_status(http("DELETE", reg, location_path(resp)), 204)


def test_mount_without_from_links_a_blob_of_any_repository(anywhere):
    data = rand_bytes(5000)
    src, dst = uniq("src"), f"{uniq('team')}/dst"
    digest = push_blob(anywhere, src, data)
    resp = mount(anywhere, dst, digest)
    assert_status(resp, 201)
    assert location_path(resp) == f"/v2/{dst}/blobs/{digest}", describe(resp)
    assert resp.headers.get("Docker-Content-Digest") == digest
    got = get_blob(anywhere, dst, digest)
    assert_status(got, 200)
    assert got.content == data
    assert dst in http("GET", anywhere, "/v2/_catalog").json()["repositories"]


def test_mount_without_from_of_an_unknown_blob_starts_an_upload(anywhere):
    name = uniq("dst")
    assert_upload_started(anywhere, mount(anywhere, name, fake_digest()), name)


def test_mount_without_from_of_an_unlinked_blob_starts_an_upload(anywhere):
    src, dst = uniq("src"), uniq("dst")
    digest = push_blob(anywhere, src, rand_bytes(100))
    assert_status(http("DELETE", anywhere, f"/v2/{src}/blobs/{digest}"), 202)
    assert_upload_started(anywhere, mount(anywhere, dst, digest), dst)
    assert_error(get_blob(anywhere, dst, digest), 404, "BLOB_UNKNOWN")


def test_from_that_lacks_the_blob_starts_an_upload_even_with_the_switch(anywhere):
    src, other, dst = uniq("src"), uniq("other"), uniq("dst")
    digest = push_blob(anywhere, src, rand_bytes(100))
    push_blob(anywhere, other, rand_bytes(10))
    assert_upload_started(anywhere, mount(anywhere, dst, digest, source=other), dst)
    assert_upload_started(anywhere, mount(anywhere, dst, digest, source=uniq("missing")), dst)
    assert_error(get_blob(anywhere, dst, digest), 404, "BLOB_UNKNOWN")


def test_mount_without_from_is_off_by_default(registry):
    src, dst = uniq("src"), uniq("dst")
    digest = push_blob(registry, src, rand_bytes(100))
    assert_upload_started(registry, mount(registry, dst, digest), dst)
    assert_error(get_blob(registry, dst, digest), 404, "BLOB_UNKNOWN")
    # With `from`, mounting works as before.
    assert_status(mount(registry, dst, digest, source=src), 201)
    assert_status(get_blob(registry, dst, digest), 200)


def test_the_upload_after_a_failed_mount_completes(anywhere):
    name = uniq("dst")
    data = rand_bytes(777)
    resp = mount(anywhere, name, sha256(data))
    assert_status(resp, 202)
    loc = location_path(resp)
    put = http("PUT", anywhere, f"{loc}{'&' if '?' in loc else '?'}digest={sha256(data)}", data=data,
               headers={"Content-Type": "application/octet-stream"})
    assert_status(put, 201)
    assert get_blob(anywhere, name, sha256(data)).content == data


@pytest.mark.parametrize("bad", ["sha256:123", "nothing"])
def test_mount_of_an_invalid_digest_is_digest_invalid(anywhere, bad):
    assert_error(mount(anywhere, uniq("dst"), bad), 400, "DIGEST_INVALID")


def test_switch_from_the_environment(make_registry):
    reg = make_registry("env", env={"REGISTRY_BERTH_MOUNT_ANYWHERE": "true"}).start()
    digest = push_blob(reg, uniq("src"), rand_bytes(64))
    assert_status(mount(reg, uniq("dst"), digest), 201)


def test_unknown_berth_key_warns(make_registry):
    reg = make_registry("warn", extra_config="berth:\n  mount:\n    everywhere: true\n").start()
    assert "berth.mount.everywhere" in reg.log()
