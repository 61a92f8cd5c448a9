"""Manifest push/pull, indexes, subject/referrers header, validation, deletion, Accept."""
import json

import pytest

from helpers import (DOCKER_CONFIG, DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_EMPTY,
                     OCI_INDEX, OCI_LAYER, OCI_MANIFEST, Image, assert_error, assert_status,
                     config_blob, describe, descriptor, fake_digest, get_manifest, http,
                     image_manifest, index_body, make_image, manifest_bytes, push_blob,
                     put_manifest, rand_bytes, sha256, shared, tags_of, uniq)  # noqa: F401


def assert_manifest_response(resp, img: Image, *, head=False):
    assert_status(resp, 200)
    assert resp.headers.get("Content-Type") == img.media_type, describe(resp)
    assert resp.headers.get("Docker-Content-Digest") == img.digest, describe(resp)
    assert resp.headers.get("Content-Length") == str(len(img.body)), describe(resp)
    if head:
        assert resp.content == b""
    else:
        assert resp.content == img.body


def assert_not_stored(reg, name, ref, digest=None):
    assert_error(get_manifest(reg, name, ref), 404, "MANIFEST_UNKNOWN")
    if digest is not None:
        assert_error(get_manifest(reg, name, digest), 404, "MANIFEST_UNKNOWN")


# ----------------------------------------------------------------- push and pull

@pytest.mark.parametrize("media_type", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_put_manifest_by_tag(shared, media_type):
    name = uniq("img")
    img = make_image(shared, name, tag=None, media_type=media_type, push=False)
    resp = put_manifest(shared, name, "v1.0", img.body, media_type)
    assert_status(resp, 201)
    assert resp.headers.get("Location") in (f"/v2/{name}/manifests/{img.digest}",
                                            f"{shared.url}/v2/{name}/manifests/{img.digest}"), describe(resp)
    assert resp.headers.get("Docker-Content-Digest") == img.digest
    assert "OCI-Subject" not in resp.headers, describe(resp)
    assert_manifest_response(get_manifest(shared, name, "v1.0"), img)
    assert_manifest_response(get_manifest(shared, name, img.digest), img)
    assert_manifest_response(get_manifest(shared, name, "v1.0", method="HEAD"), img, head=True)
    assert_manifest_response(get_manifest(shared, name, img.digest, method="HEAD"), img, head=True)


@pytest.mark.parametrize("media_type", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_put_manifest_by_digest(shared, media_type):
    name = uniq("img")
    img = make_image(shared, name, tag=None, media_type=media_type, push=False)
    resp = put_manifest(shared, name, img.digest, img.body, media_type)
    assert_status(resp, 201)
    assert resp.headers.get("Location") in (f"/v2/{name}/manifests/{img.digest}",
                                            f"{shared.url}/v2/{name}/manifests/{img.digest}"), describe(resp)
    assert resp.headers.get("Docker-Content-Digest") == img.digest
    assert_manifest_response(get_manifest(shared, name, img.digest), img)
    # no tag was created (the listing may say [] or null)
    resp = http("GET", shared, f"/v2/{name}/tags/list")
    assert_status(resp, 200)
    assert not resp.json().get("tags"), describe(resp)


def test_digest_is_of_exact_body_bytes(shared):
    # pretty-printed, odd indentation, trailing newline: no canonicalisation allowed
    name = uniq("exact")
    img = make_image(shared, name, tag=None, push=False, pretty=True)
    assert img.body.endswith(b"\n") and b"   " in img.body
    resp = put_manifest(shared, name, "pretty", img.body, OCI_MANIFEST)
    assert_status(resp, 201)
    assert resp.headers.get("Docker-Content-Digest") == img.digest
    assert_manifest_response(get_manifest(shared, name, "pretty"), img)


def test_manifest_without_media_type_field_is_accepted_for_oci(shared):
    # mediaType is optional in an OCI image manifest; the Content-Type decides.
    name = uniq("nomt")
    config, layer = config_blob(), rand_bytes(1000)
    push_blob(shared, name, config)
    push_blob(shared, name, layer)
    body = image_manifest(OCI_MANIFEST, config, [layer], include_media_type=False)
    resp = put_manifest(shared, name, "v1", body, OCI_MANIFEST)
    assert_status(resp, 201)
    resp = get_manifest(shared, name, "v1")
    assert_status(resp, 200)
    assert resp.headers.get("Content-Type") == OCI_MANIFEST
    assert resp.content == body


def test_same_manifest_twice_and_several_tags(shared):
    name = uniq("twice")
    img = make_image(shared, name, tag="a")
    for tag in ("a", "b", "c"):
        resp = put_manifest(shared, name, tag, img.body, img.media_type)
        assert_status(resp, 201)
        assert resp.headers.get("Docker-Content-Digest") == img.digest
    assert tags_of(shared, name) == ["a", "b", "c"]
    for tag in ("a", "b", "c"):
        assert_manifest_response(get_manifest(shared, name, tag), img)


def test_retagging_moves_the_tag(shared):
    name = uniq("retag")
    first = make_image(shared, name, tag="latest")
    second = make_image(shared, name, tag="latest")
    assert first.digest != second.digest
    assert_manifest_response(get_manifest(shared, name, "latest"), second)
    assert_manifest_response(get_manifest(shared, name, first.digest), first)
    assert tags_of(shared, name) == ["latest"]


def test_longest_valid_tag(shared):
    name = uniq("longtag")
    tag = "_" + "A.b-9" * 25 + "xy"
    assert len(tag) == 128
    img = make_image(shared, name, tag=tag)
    assert_manifest_response(get_manifest(shared, name, tag), img)


def test_nested_repository_manifest(shared):
    name = f"{uniq('team')}/app/api"
    img = make_image(shared, name, tag="1.2.3")
    assert_manifest_response(get_manifest(shared, name, "1.2.3"), img)
    assert_error(get_manifest(shared, f"{name}/api", "1.2.3"), 404, ("MANIFEST_UNKNOWN", "NAME_UNKNOWN"))


def test_manifest_using_mounted_blobs(shared):
    src, dst = uniq("src"), uniq("dst")
    img = make_image(shared, src, tag="v1")
    for blob in [img.config] + img.layers:
        d = sha256(blob)
        resp = http("POST", shared, f"/v2/{dst}/blobs/uploads/?mount={d}&from={src}")
        assert_status(resp, 201)
    resp = put_manifest(shared, dst, "v1", img.body, img.media_type)
    assert_status(resp, 201)
    assert_manifest_response(get_manifest(shared, dst, "v1"), img)


# ----------------------------------------------------------------- indexes

@pytest.mark.parametrize("index_type,child_type", [(OCI_INDEX, OCI_MANIFEST), (DOCKER_LIST, DOCKER_MANIFEST)])
def test_index_with_children_pushed_first(shared, index_type, child_type):
    name = uniq("multi")
    children = [make_image(shared, name, tag=None, media_type=child_type) for _ in range(2)]
    body = index_body(index_type, children)
    resp = put_manifest(shared, name, "multi", body, index_type)
    assert_status(resp, 201)
    assert resp.headers.get("Docker-Content-Digest") == sha256(body)
    idx = Image(name, index_type, body, None, [])
    assert_manifest_response(get_manifest(shared, name, "multi"), idx)
    assert_manifest_response(get_manifest(shared, name, sha256(body)), idx)
    for child in children:
        assert_manifest_response(get_manifest(shared, name, child.digest), child)


def test_index_with_missing_child_is_rejected(shared):
    name = uniq("multi")
    present = make_image(shared, name, tag=None)
    absent = make_image(shared, name, tag=None, push=False)
    body = index_body(OCI_INDEX, [present, absent])
    resp = put_manifest(shared, name, "multi", body, OCI_INDEX)
    assert_error(resp, 400, "MANIFEST_BLOB_UNKNOWN")
    assert_not_stored(shared, name, "multi", sha256(body))


def test_index_child_in_other_repository_is_rejected(shared):
    name, other = uniq("multi"), uniq("other")
    child = make_image(shared, other, tag="x")
    body = index_body(OCI_INDEX, [child])
    resp = put_manifest(shared, name, "multi", body, OCI_INDEX)
    assert_error(resp, 400, "MANIFEST_BLOB_UNKNOWN")
    assert_not_stored(shared, name, "multi")


# ----------------------------------------------------------------- subject

def test_manifest_with_subject_returns_oci_subject(shared):
    name = uniq("refs")
    base = make_image(shared, name, tag="base")
    empty = b"{}"
    push_blob(shared, name, empty)
    sig = rand_bytes(300)
    push_blob(shared, name, sig)
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.signature",
        "config": descriptor(OCI_EMPTY, empty),
        "layers": [descriptor("application/vnd.example.signature.v1", sig)],
        "subject": descriptor(OCI_MANIFEST, base.body),
    }
    body = manifest_bytes(doc)
    resp = put_manifest(shared, name, sha256(body), body, OCI_MANIFEST)
    assert_status(resp, 201)
    assert resp.headers.get("OCI-Subject") == base.digest, describe(resp)
    assert resp.headers.get("Docker-Content-Digest") == sha256(body)
    art = Image(name, OCI_MANIFEST, body, empty, [sig])
    assert_manifest_response(get_manifest(shared, name, sha256(body)), art)


# ----------------------------------------------------------------- refused pushes

def _pushed_parts(reg, name):
    config, layer = config_blob(), rand_bytes(1500)
    push_blob(reg, name, config)
    push_blob(reg, name, layer)
    return config, layer


def test_non_json_manifest_is_rejected(shared):
    name = uniq("bad")
    for body in (b"this is not json", b"{\"schemaVersion\": 2,", b"", b"[1,2,3]"):
        resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
        assert_error(resp, 400, "MANIFEST_INVALID")
    assert_not_stored(shared, name, "t")


def test_schema1_manifest_is_rejected(shared):
    name = uniq("bad")
    body = json.dumps({"schemaVersion": 1, "name": name, "tag": "t", "architecture": "amd64",
                       "fsLayers": [{"blobSum": fake_digest()}],
                       "history": [{"v1Compatibility": "{}"}]}).encode()
    resp = put_manifest(shared, name, "t", body, DOCKER_MANIFEST)
    assert_error(resp, 400, "MANIFEST_INVALID")
    assert_not_stored(shared, name, "t", sha256(body))


@pytest.mark.parametrize("version", [1, 3, "2", None])
def test_wrong_schema_version_is_rejected(shared, version):
    name = uniq("bad")
    config, layer = _pushed_parts(shared, name)
    doc = json.loads(image_manifest(OCI_MANIFEST, config, [layer]))
    if version is None:
        del doc["schemaVersion"]
    else:
        doc["schemaVersion"] = version
    body = manifest_bytes(doc)
    resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
    assert_error(resp, 400, "MANIFEST_INVALID")
    assert_not_stored(shared, name, "t", sha256(body))


@pytest.mark.parametrize("body_type,content_type", [
    (DOCKER_MANIFEST, OCI_MANIFEST),
    (OCI_MANIFEST, DOCKER_MANIFEST),
    (OCI_INDEX, OCI_MANIFEST),
])
def test_media_type_disagreeing_with_content_type_is_rejected(shared, body_type, content_type):
    name = uniq("bad")
    config, layer = _pushed_parts(shared, name)
    body = image_manifest(body_type if body_type != OCI_INDEX else OCI_MANIFEST, config, [layer])
    if body_type == OCI_INDEX:
        doc = json.loads(body)
        doc["mediaType"] = OCI_INDEX
        body = manifest_bytes(doc)
    resp = put_manifest(shared, name, "t", body, content_type)
    assert_error(resp, 400, "MANIFEST_INVALID")
    assert_not_stored(shared, name, "t", sha256(body))


@pytest.mark.parametrize("missing", ["config", "layer"])
def test_manifest_referencing_unpushed_blob_is_rejected(shared, missing):
    name = uniq("bad")
    config, layer = config_blob(), rand_bytes(1500)
    if missing != "config":
        push_blob(shared, name, config)
    if missing != "layer":
        push_blob(shared, name, layer)
    body = image_manifest(OCI_MANIFEST, config, [layer])
    resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
    assert_error(resp, 400, "MANIFEST_BLOB_UNKNOWN")
    assert_not_stored(shared, name, "t", sha256(body))


def test_manifest_referencing_blob_of_other_repository_is_rejected(shared):
    name, other = uniq("bad"), uniq("other")
    config, layer = config_blob(), rand_bytes(1500)
    push_blob(shared, name, config)
    push_blob(shared, other, layer)
    body = image_manifest(OCI_MANIFEST, config, [layer])
    resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
    assert_error(resp, 400, "MANIFEST_BLOB_UNKNOWN")
    assert_not_stored(shared, name, "t")


@pytest.mark.parametrize("which,delta", [("config", 1), ("layer", -1), ("layer", 1000)])
def test_descriptor_size_mismatch_is_rejected(shared, which, delta):
    name = uniq("bad")
    config, layer = _pushed_parts(shared, name)
    doc = json.loads(image_manifest(OCI_MANIFEST, config, [layer]))
    target = doc["config"] if which == "config" else doc["layers"][0]
    target["size"] += delta
    body = manifest_bytes(doc)
    resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
    assert_error(resp, 400, "MANIFEST_INVALID")
    assert_not_stored(shared, name, "t", sha256(body))


def test_put_by_wrong_digest_is_rejected(shared):
    name = uniq("bad")
    img = make_image(shared, name, tag=None, push=False)
    wrong = fake_digest()
    resp = put_manifest(shared, name, wrong, img.body, OCI_MANIFEST)
    assert_error(resp, 400, "DIGEST_INVALID")
    assert_not_stored(shared, name, wrong, img.digest)


def test_oversized_manifest_is_rejected(shared):
    name = uniq("huge")
    config, layer = _pushed_parts(shared, name)
    doc = json.loads(image_manifest(OCI_MANIFEST, config, [layer]))
    doc["annotations"] = {"padding": "x" * (4 * 1024 * 1024 + 10)}
    body = manifest_bytes(doc)
    assert len(body) > 4 * 1024 * 1024
    resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
    assert_error(resp, (400, 413), ("SIZE_INVALID", "MANIFEST_INVALID"))
    assert_not_stored(shared, name, "t", sha256(body))


def test_manifest_just_under_limit_is_accepted(shared):
    name = uniq("big")
    config, layer = _pushed_parts(shared, name)
    doc = json.loads(image_manifest(OCI_MANIFEST, config, [layer]))
    doc["annotations"] = {"padding": ""}
    base = len(manifest_bytes(doc))
    doc["annotations"]["padding"] = "y" * (4 * 1024 * 1024 - base - 16)
    body = manifest_bytes(doc)
    assert len(body) < 4 * 1024 * 1024
    resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
    assert_status(resp, 201)
    resp = get_manifest(shared, name, "t")
    assert_status(resp, 200)
    assert resp.content == body


@pytest.mark.parametrize("tag", ["-lead", ".lead", "a" * 129, "bad!tag", "sp ace"])
def test_invalid_tag_in_manifest_path(shared, tag):
    name = uniq("tag")
    img = make_image(shared, name, tag="ok")
    path = f"/v2/{name}/manifests/{tag.replace(' ', '%20')}"
    resp = http("PUT", shared, path, data=img.body, headers={"Content-Type": OCI_MANIFEST})
    assert_error(resp, 400, "TAG_INVALID")
    # Read with GET or HEAD, a reference that is no valid tag names no manifest (the OCI
    # conformance suite asks this of .INVALID_MANIFEST_NAME).
    resp = http("GET", shared, path)
    assert_error(resp, 404, "MANIFEST_UNKNOWN")
    assert http("HEAD", shared, path).status_code == 404
    assert tags_of(shared, name) == ["ok"]


@pytest.mark.parametrize("digest", ["sha256:abc", "sha256:" + "A" * 64, "sha256:" + "z" * 64,
                                    "md5:" + "a" * 32, "sha512:" + "a" * 64])
def test_invalid_digest_in_manifest_path(shared, digest):
    name = uniq("dig")
    img = make_image(shared, name, tag="ok")
    assert_error(get_manifest(shared, name, digest), 404, "MANIFEST_UNKNOWN")
    resp = http("PUT", shared, f"/v2/{name}/manifests/{digest}", data=img.body, headers={"Content-Type": OCI_MANIFEST})
    assert_error(resp, 400, "DIGEST_INVALID")


# ----------------------------------------------------------------- unknown

def test_unknown_manifest_is_404(shared):
    name = uniq("unk")
    make_image(shared, name, tag="present")
    assert_error(get_manifest(shared, name, "absent"), 404, "MANIFEST_UNKNOWN")
    assert_error(get_manifest(shared, name, fake_digest()), 404, "MANIFEST_UNKNOWN")
    assert_error(get_manifest(shared, name, "absent", method="HEAD"), 404, None)
    assert_error(get_manifest(shared, name, fake_digest(), method="HEAD"), 404, None)


def test_manifest_in_unknown_repository_is_404(shared):
    resp = get_manifest(shared, uniq("nobody"), "latest")
    assert_error(resp, 404, ("MANIFEST_UNKNOWN", "NAME_UNKNOWN"))


def test_manifest_is_not_visible_in_another_repository(shared):
    a, b = uniq("a"), uniq("b")
    img = make_image(shared, a, tag="v1")
    make_image(shared, b, tag="other")
    assert_error(get_manifest(shared, b, img.digest), 404, "MANIFEST_UNKNOWN")
    assert_error(get_manifest(shared, b, "v1"), 404, "MANIFEST_UNKNOWN")


# ----------------------------------------------------------------- deletion

def test_delete_manifest_by_digest_removes_all_its_tags(shared):
    name = uniq("del")
    keep = make_image(shared, name, tag="keep")
    img = make_image(shared, name, tag="one")
    assert_status(put_manifest(shared, name, "two", img.body, img.media_type), 201)
    resp = http("DELETE", shared, f"/v2/{name}/manifests/{img.digest}")
    assert_status(resp, 202)
    assert_error(get_manifest(shared, name, img.digest), 404, "MANIFEST_UNKNOWN")
    assert_error(get_manifest(shared, name, "one"), 404, "MANIFEST_UNKNOWN")
    assert_error(get_manifest(shared, name, "two"), 404, "MANIFEST_UNKNOWN")
    assert tags_of(shared, name) == ["keep"]
    assert_manifest_response(get_manifest(shared, name, "keep"), keep)
    # deleting it again: it is unknown now
    assert_error(http("DELETE", shared, f"/v2/{name}/manifests/{img.digest}"), 404, "MANIFEST_UNKNOWN")


def test_delete_manifest_by_tag_removes_only_the_tag(shared):
    name = uniq("del")
    img = make_image(shared, name, tag="one")
    assert_status(put_manifest(shared, name, "two", img.body, img.media_type), 201)
    resp = http("DELETE", shared, f"/v2/{name}/manifests/one")
    assert_status(resp, 202)
    assert_error(get_manifest(shared, name, "one"), 404, "MANIFEST_UNKNOWN")
    assert_manifest_response(get_manifest(shared, name, "two"), img)
    assert_manifest_response(get_manifest(shared, name, img.digest), img)
    assert tags_of(shared, name) == ["two"]


def test_delete_unknown_manifest_is_404(shared):
    name = uniq("del")
    make_image(shared, name, tag="x")
    assert_error(http("DELETE", shared, f"/v2/{name}/manifests/{fake_digest()}"), 404, "MANIFEST_UNKNOWN")
    assert_error(http("DELETE", shared, f"/v2/{name}/manifests/nosuchtag"), 404, "MANIFEST_UNKNOWN")


def test_delete_manifest_disabled_is_405(make_registry):
    reg = make_registry(delete=False).start()
    name = uniq("nodel")
    img = make_image(reg, name, tag="v1")
    assert_error(http("DELETE", reg, f"/v2/{name}/manifests/{img.digest}"), 405, "UNSUPPORTED")
    assert_error(http("DELETE", reg, f"/v2/{name}/manifests/v1"), 405, "UNSUPPORTED")
    assert_manifest_response(get_manifest(reg, name, "v1"), img)
    assert_manifest_response(get_manifest(reg, name, img.digest), img)


# ----------------------------------------------------------------- content negotiation

def test_accept_matching_type(shared):
    name = uniq("acc")
    img = make_image(shared, name, tag="v1", media_type=OCI_MANIFEST)
    assert_manifest_response(get_manifest(shared, name, "v1", accept=OCI_MANIFEST), img)
    assert_manifest_response(get_manifest(shared, name, "v1", accept="*/*"), img)
    # no Accept header at all (requests would send */* by default)
    resp = http("GET", shared, f"/v2/{name}/manifests/v1", headers={"Accept": None})
    assert "Accept" not in resp.request.headers
    assert_manifest_response(resp, img)
    multi = f"{DOCKER_MANIFEST}, {OCI_INDEX}, {OCI_MANIFEST}"
    assert_manifest_response(get_manifest(shared, name, "v1", accept=multi), img)
    # comma-separated without spaces, with a q-value
    accept = f"{DOCKER_MANIFEST},{OCI_MANIFEST};q=0.9"
    assert_manifest_response(get_manifest(shared, name, "v1", accept=accept), img)


def test_accept_not_matching_stored_type_is_404(shared):
    name = uniq("acc")
    children = [make_image(shared, name, tag=None, media_type=OCI_MANIFEST)]
    body = index_body(OCI_INDEX, children)
    assert_status(put_manifest(shared, name, "idx", body, OCI_INDEX), 201)
    resp = get_manifest(shared, name, "idx", accept=DOCKER_MANIFEST)
    assert_error(resp, 404, "MANIFEST_UNKNOWN")
    resp = get_manifest(shared, name, sha256(body), accept=f"{DOCKER_MANIFEST}, {OCI_MANIFEST}")
    assert_error(resp, 404, "MANIFEST_UNKNOWN")
    # and it is still there for a client that accepts it
    resp = get_manifest(shared, name, "idx", accept=OCI_INDEX)
    assert_status(resp, 200)
    assert resp.content == body
    assert resp.headers.get("Content-Type") == OCI_INDEX


# ----------------------------------------------------------------- concurrency

def test_concurrent_pushes_to_one_tag(shared):
    from concurrent.futures import ThreadPoolExecutor
    name = uniq("race")
    images = [make_image(shared, name, tag=None, push=False, layer_sizes=(500,)) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda img: put_manifest(shared, name, "hot", img.body, img.media_type),
                                images))
    for img, resp in zip(images, results):
        assert_status(resp, 201)
        assert resp.headers.get("Docker-Content-Digest") == img.digest
        assert_manifest_response(get_manifest(shared, name, img.digest), img)
    resp = get_manifest(shared, name, "hot")
    assert_status(resp, 200)
    assert resp.content in {img.body for img in images}
    assert tags_of(shared, name) == ["hot"]
