"""State survives a clean restart and a SIGKILL; uploads survive restarts."""
from helpers import (OCI_INDEX, assert_error, assert_no_upload_files, assert_status, describe,
                     get_blob, get_manifest, http, index_body, location_path, make_image,
                     push_blob, put_manifest, rand_bytes, sha256, start_upload, tags_of, uniq,
                     with_digest)

OCTET = {"Content-Type": "application/octet-stream"}


def assert_image_present(reg, img, tags):
    for ref in list(tags) + [img.digest]:
        resp = get_manifest(reg, img.name, ref)
        assert_status(resp, 200)
        assert resp.content == img.body, describe(resp)
        assert resp.headers.get("Content-Type") == img.media_type
        assert resp.headers.get("Docker-Content-Digest") == img.digest
    for blob in [img.config] + img.layers:
        resp = get_blob(reg, img.name, sha256(blob))
        assert_status(resp, 200)
        assert resp.content == blob


def test_state_survives_restart(registry):
    name = "persist/app"
    img = make_image(registry, name, tag="v1")
    assert_status(put_manifest(registry, name, "stable", img.body, img.media_type), 201)
    other = make_image(registry, "persist/other", tag="latest")
    loose = rand_bytes(999)
    loose_digest = push_blob(registry, "persist/app", loose)

    registry.restart()

    assert_image_present(registry, img, ["v1", "stable"])
    assert_image_present(registry, other, ["latest"])
    assert get_blob(registry, name, loose_digest).content == loose
    assert tags_of(registry, name) == ["stable", "v1"]
    resp = http("GET", registry, "/v2/_catalog")
    assert_status(resp, 200)
    assert resp.json() == {"repositories": ["persist/app", "persist/other"]}
    # isolation is persistent too
    assert_error(get_blob(registry, "persist/other", loose_digest), 404, "BLOB_UNKNOWN")


def test_deletions_survive_restart(registry):
    name = "persist/del"
    keep = make_image(registry, name, tag="keep")
    gone = make_image(registry, name, tag="gone")
    assert_status(put_manifest(registry, name, "alias", keep.body, keep.media_type), 201)
    assert_status(http("DELETE", registry, f"/v2/{name}/manifests/{gone.digest}"), 202)
    assert_status(http("DELETE", registry, f"/v2/{name}/manifests/alias"), 202)
    blob = rand_bytes(500)
    d = push_blob(registry, name, blob)
    assert_status(http("DELETE", registry, f"/v2/{name}/blobs/{d}"), 202)

    registry.restart()

    assert tags_of(registry, name) == ["keep"]
    assert_error(get_manifest(registry, name, gone.digest), 404, "MANIFEST_UNKNOWN")
    assert_error(get_manifest(registry, name, "gone"), 404, "MANIFEST_UNKNOWN")
    assert_error(get_manifest(registry, name, "alias"), 404, "MANIFEST_UNKNOWN")
    assert_error(get_blob(registry, name, d), 404, "BLOB_UNKNOWN")
    assert_image_present(registry, keep, ["keep"])


def test_acknowledged_writes_survive_sigkill(registry):
    images = []
    for i in range(3):
        name = f"crash/app{i}"
        images.append(make_image(registry, name, tag=f"v{i}"))
    children = [make_image(registry, "crash/multi", tag=None) for _ in range(2)]
    body = index_body(OCI_INDEX, children)
    assert_status(put_manifest(registry, "crash/multi", "idx", body, OCI_INDEX), 201)
    # the very last acknowledged write right before the kill
    last = rand_bytes(4096)
    last_digest = push_blob(registry, "crash/last", last)

    registry.kill()
    registry.start()

    for i, img in enumerate(images):
        assert_image_present(registry, img, [f"v{i}"])
    for child in children:
        assert_image_present(registry, child, [])
    resp = get_manifest(registry, "crash/multi", "idx")
    assert_status(resp, 200)
    assert resp.content == body
    assert get_blob(registry, "crash/last", last_digest).content == last
    # and the server is fully usable afterwards
    more = make_image(registry, "crash/app0", tag="after")
    assert tags_of(registry, "crash/app0") == ["after", "v0"]
    assert_image_present(registry, more, ["after"])


def test_sigkill_mid_upload_then_new_uploads_work(registry):
    name = uniq("crash")
    loc = location_path(start_upload(registry, name))
    resp = http("PATCH", registry, loc, data=rand_bytes(2000), headers=OCTET)
    assert_status(resp, 202)
    registry.kill()
    registry.start()
    data = rand_bytes(3000)
    digest = push_blob(registry, name, data)
    assert get_blob(registry, name, digest).content == data


def test_chunked_upload_across_restart(registry):
    name = uniq("resume")
    part1, part2 = rand_bytes(3000), rand_bytes(2500)
    data = part1 + part2
    resp = start_upload(registry, name)
    upload_id = resp.headers["Docker-Upload-UUID"]
    loc = location_path(resp)
    resp = http("PATCH", registry, loc, data=part1,
                headers={**OCTET, "Content-Range": f"0-{len(part1) - 1}"})
    assert_status(resp, 202)
    loc = location_path(resp)

    registry.restart()

    resp = http("GET", registry, loc)
    assert_status(resp, 204)
    assert resp.headers.get("Range") == f"0-{len(part1) - 1}", describe(resp)
    resp = http("PATCH", registry, loc, data=part2,
                headers={**OCTET, "Content-Range": f"{len(part1)}-{len(data) - 1}"})
    assert_status(resp, 202)
    assert resp.headers.get("Range") == f"0-{len(data) - 1}", describe(resp)
    assert resp.headers.get("Docker-Upload-UUID") == upload_id
    loc = location_path(resp)
    resp = http("PUT", registry, with_digest(loc, sha256(data)))
    assert_status(resp, 201)
    assert resp.headers.get("Docker-Content-Digest") == sha256(data)
    got = get_blob(registry, name, sha256(data))
    assert_status(got, 200)
    assert got.content == data
    assert_no_upload_files(registry)
