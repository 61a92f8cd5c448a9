"""Repository name and digest validation, and the shape of error responses."""
import pytest

from helpers import (OCI_MANIFEST, assert_error, assert_status, describe, fake_digest, get_blob,
                     http, location_path, make_image, push_blob, rand_bytes, sha256, shared,
                     start_upload, uniq, with_digest)  # noqa: F401

NAME_255 = "a" * 100 + "/" + "b" * 154
NAME_256 = "a" * 100 + "/" + "b" * 155

VALID_NAMES = [
    "a", "0", "abc123", "team/app/api", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b-c_d__e",
    "org/sub-team/app.v2", "x/y/z/w/v", NAME_255,
]

INVALID_NAMES = [
    "Upper", "team/App", "a..b", "-a", "a-", ".a", "a.", "_a", "a_", "a//b", "a/", "a___b",
    "a._b", "a-.b", "a b", "a/-b", "a/.b", NAME_256,
]


def _name_id(name):
    return name if len(name) < 40 else f"len{len(name)}"


@pytest.mark.parametrize("name", VALID_NAMES, ids=_name_id)
def test_valid_names_are_accepted(shared, name):
    # names are shared across tests of this module, so put something unique inside
    data = rand_bytes(64)
    digest = push_blob(shared, name, data)
    resp = get_blob(shared, name, digest)
    assert_status(resp, 200)
    assert resp.content == data
    tag = uniq("t")
    img = make_image(shared, name, tag=tag, layer_sizes=(100,))
    resp = http("GET", shared, f"/v2/{name}/tags/list")
    assert_status(resp, 200)
    assert resp.json()["name"] == name
    assert tag in resp.json()["tags"]
    resp = http("GET", shared, f"/v2/{name}/manifests/{tag}")
    assert_status(resp, 200)
    assert resp.content == img.body


@pytest.mark.parametrize("name", INVALID_NAMES, ids=_name_id)
@pytest.mark.parametrize("endpoint", ["tags", "upload", "manifest_get", "manifest_put", "blob_get"])
def test_invalid_names_are_rejected(shared, name, endpoint):
    path_name = name.replace(" ", "%20")
    if endpoint == "tags":
        resp = http("GET", shared, f"/v2/{path_name}/tags/list")
    elif endpoint == "upload":
        resp = http("POST", shared, f"/v2/{path_name}/blobs/uploads/")
    elif endpoint == "manifest_get":
        resp = http("GET", shared, f"/v2/{path_name}/manifests/latest")
    elif endpoint == "manifest_put":
        resp = http("PUT", shared, f"/v2/{path_name}/manifests/latest", data=b"{}",
                    headers={"Content-Type": OCI_MANIFEST})
    else:
        resp = http("GET", shared, f"/v2/{path_name}/blobs/{fake_digest()}")
    assert_error(resp, 400, "NAME_INVALID")


def test_invalid_name_in_monolithic_push_stores_nothing(registry):
    data = rand_bytes(100)
    resp = http("POST", registry, f"/v2/Bad/blobs/uploads/?digest={sha256(data)}", data=data)
    assert_error(resp, 400, "NAME_INVALID")
    resp = http("GET", registry, "/v2/_catalog")
    assert_status(resp, 200)
    assert resp.json()["repositories"] == []


BAD_DIGESTS = [
    "sha256:" + "a" * 63,
    "sha256:" + "a" * 65,
    "sha256:" + "A" * 64,
    "sha256:" + "aB" * 32,
    "sha256:" + "g" * 64,
    "sha256:",
    "md5:" + "a" * 32,
    "foo:" + "a" * 64,
    "SHA256:" + "a" * 64,
    "sha512:" + "a" * 64,
    "sha512:" + "a" * 127,
    "sha256" + "a" * 64,
    ":" + "a" * 64,
]


@pytest.mark.parametrize("digest", BAD_DIGESTS, ids=lambda d: d[:12] + f"..{len(d)}")
def test_invalid_digest_on_blob_get(shared, digest):
    # A digest that cannot be valid names no blob: a read of it is a blob that does not exist.
    name = uniq("dig")
    push_blob(shared, name, rand_bytes(10))
    resp = get_blob(shared, name, digest)
    assert_error(resp, 404, "BLOB_UNKNOWN")


@pytest.mark.parametrize("digest", BAD_DIGESTS[:7], ids=lambda d: d[:12] + f"..{len(d)}")
def test_invalid_digest_on_monolithic_push(shared, digest):
    name = uniq("dig")
    resp = http("POST", shared, f"/v2/{name}/blobs/uploads/?digest={digest}", data=b"hello")
    assert_error(resp, 400, "DIGEST_INVALID")


@pytest.mark.parametrize("digest", ["sha256:" + "A" * 64, "sha256:abc"])
def test_invalid_digest_on_blob_delete(shared, digest):
    name = uniq("dig")
    push_blob(shared, name, rand_bytes(10))
    resp = http("DELETE", shared, f"/v2/{name}/blobs/{digest}")
    assert_error(resp, 400, "DIGEST_INVALID")


def test_sha512_digest_of_right_length_is_well_formed(shared):
    name = uniq("dig")
    push_blob(shared, name, rand_bytes(10))
    assert_error(get_blob(shared, name, "sha512:" + "0f" * 64), 404, "BLOB_UNKNOWN")
    assert_error(http("GET", shared, f"/v2/{name}/manifests/sha512:" + "0f" * 64), 404,
                 "MANIFEST_UNKNOWN")


def test_error_body_shape(shared):
    name = uniq("shape")
    push_blob(shared, name, rand_bytes(10))
    cases = [
        (get_blob(shared, name, fake_digest()), 404, "BLOB_UNKNOWN"),
        (http("GET", shared, f"/v2/{name}/manifests/nope"), 404, "MANIFEST_UNKNOWN"),
        (http("GET", shared, f"/v2/{uniq('nope')}/tags/list"), 404, "NAME_UNKNOWN"),
        (http("GET", shared, "/v2/UPPER/tags/list"), 400, "NAME_INVALID"),
        (get_blob(shared, name, "sha256:xyz"), 404, "BLOB_UNKNOWN"),
        (http("DELETE", shared, f"/v2/{name}/blobs/sha256:xyz"), 400, "DIGEST_INVALID"),
        (http("GET", shared, f"/v2/{name}/blobs/uploads/0d9c1d4e-0000-4000-8000-000000000000"),
         404, "BLOB_UPLOAD_UNKNOWN"),
        (http("PUT", shared, f"/v2/{name}/manifests/t", data=b"nope",
              headers={"Content-Type": OCI_MANIFEST}), 400, "MANIFEST_INVALID"),
    ]
    for resp, status, code in cases:
        assert_error(resp, status, code)
        body = resp.json()
        assert list(body.keys()) == ["errors"], describe(resp)
        assert len(body["errors"]) >= 1
        err = body["errors"][0]
        assert set(err) <= {"code", "message", "detail"}, describe(resp)
        assert err["message"].strip(), describe(resp)


def test_head_errors_have_no_body(shared):
    name = uniq("head")
    push_blob(shared, name, rand_bytes(10))
    for path in (f"/v2/{name}/blobs/{fake_digest()}", f"/v2/{name}/manifests/nope",
                 f"/v2/{name}/blobs/sha256:xyz"):
        resp = http("HEAD", shared, path)
        assert resp.status_code in (400, 404), describe(resp)
        assert resp.content == b"", describe(resp)
