"""Base endpoint, health check and headers present on every response."""
import pytest

from helpers import (API_VERSION, API_VERSION_HEADER, OCI_MANIFEST, assert_common_headers,
                     assert_error, assert_status, describe, fake_digest, http, make_image,
                     push_blob, rand_bytes, sha256, shared, start_upload, location_path, uniq)  # noqa: F401


def test_v2_base_returns_empty_json_object(shared):
    resp = http("GET", shared, "/v2/")
    assert_status(resp, 200)
    assert resp.json() == {}, describe(resp)


def test_healthz_is_json_object(shared):
    resp = http("GET", shared, "/healthz")
    assert_status(resp, 200)
    assert resp.headers.get("Content-Type", "").split(";")[0] == "application/json", describe(resp)
    body = resp.json()
    assert isinstance(body, dict) and body, describe(resp)


def test_healthz_is_not_under_v2(shared):
    resp = http("GET", shared, "/v2/healthz")
    assert_error(resp, 404, None)


def _requests_for_header_check(reg):
    """A wide mix of requests: successes, client errors, HEADs, uploads."""
    name = uniq("hdr")
    img = make_image(reg, name, tag="v1")
    layer = img.layers[0]
    digest_layer = sha256(layer)
    up = start_upload(reg, name)
    loc = location_path(up)
    return [
        ("GET", "/v2/", {}),
        ("GET", "/healthz", {}),
        ("GET", "/v2/_catalog", {}),
        ("GET", f"/v2/{name}/tags/list", {}),
        ("GET", f"/v2/{name}/manifests/v1", {}),
        ("HEAD", f"/v2/{name}/manifests/v1", {}),
        ("GET", f"/v2/{name}/blobs/{digest_layer}", {}),
        ("HEAD", f"/v2/{name}/blobs/{digest_layer}", {}),
        ("GET", f"/v2/{name}/blobs/{digest_layer}", {"headers": {"Range": "bytes=0-9"}}),
        ("GET", loc, {}),
        ("PATCH", loc, {"data": b"abc"}),
        ("POST", f"/v2/{name}/blobs/uploads/", {}),
        ("GET", f"/v2/{name}/manifests/nope", {}),
        ("HEAD", f"/v2/{name}/manifests/nope", {}),
        ("GET", f"/v2/{name}/blobs/{fake_digest()}", {}),
        ("HEAD", f"/v2/{name}/blobs/{fake_digest()}", {}),
        ("GET", "/v2/Bad/tags/list", {}),
        ("GET", "/v2/nosuchrepo-zz/tags/list", {}),
        ("GET", "/no/such/path", {}),
        ("DELETE", "/v2/_catalog", {}),
    ]


def test_every_response_carries_api_version_and_configured_headers(shared):
    failures = []
    for method, path, kwargs in _requests_for_header_check(shared):
        resp = http(method, shared, path, **kwargs)
        if resp.headers.get(API_VERSION_HEADER) != API_VERSION \
                or resp.headers.get("X-Content-Type-Options") != "nosniff":
            failures.append(f"{method} {path} -> {resp.status_code} {dict(resp.headers)}")
    assert not failures, "responses missing headers:\n" + "\n".join(failures)


def test_configured_extra_header_is_sent(make_registry):
    # extra_config is appended right after the default http.headers entry, so this
    # indented line becomes a second configured header.
    reg = make_registry(extra_config="    X-Berth-Test: [hello]\n").start()
    for path in ("/v2/", "/v2/nosuch/tags/list", "/healthz"):
        resp = http("GET", reg, path)
        assert resp.headers.get("X-Berth-Test") == "hello", describe(resp)
        assert_common_headers(resp)


@pytest.mark.parametrize("path", ["/nothing", "/v2/foo/bar/unknownthing", "/v3/", "/v2/foo/blobs"])
def test_unknown_path_is_404_with_error_body(shared, path):
    resp = http("GET", shared, path)
    assert_error(resp, 404, None)


@pytest.mark.parametrize("method,path", [
    ("POST", "/v2/{name}/tags/list"),
    ("PATCH", "/v2/{name}/manifests/latest"),
    ("POST", "/v2/{name}/manifests/latest"),
    ("DELETE", "/v2/_catalog"),
    ("POST", "/v2/_catalog"),
    ("PUT", "/v2/{name}/blobs/{digest}"),
    ("PATCH", "/v2/{name}/blobs/{digest}"),
])
def test_unsupported_method_on_known_path_is_405(shared, method, path):
    name = uniq("meth")
    digest = push_blob(shared, name, rand_bytes(100))
    resp = http(method, shared, path.format(name=name, digest=digest), data=b"{}")
    assert_error(resp, 405, "UNSUPPORTED")
