"""storage.maintenance.readonly.enabled: every read works, every write answers 405 UNSUPPORTED
saying the registry is read-only, and nothing changes on disk."""
from __future__ import annotations

import pytest

from helpers import (OCI_MANIFEST, assert_error, assert_status, http, image_manifest, location_path,
                     make_image, rand_bytes, sha256, start_upload, uniq, with_digest, files_under)
from registry import default_config


def set_readonly(server, enabled: bool) -> None:
    text = default_config(server.root, server.port)
    if enabled:
        text = text.replace("  delete:\n", "  maintenance:\n    readonly:\n      enabled: true\n  delete:\n")
    server.config_path.write_text(text)


@pytest.fixture(scope="module")
def readonly(tmp_path_factory):
    from registry import RegistryProcess
    server = RegistryProcess(tmp_path_factory.mktemp("readonly")).start()
    name = uniq()
    image = make_image(server, name, tag="v1")
    referrer = make_image(server, name, tag=None, subject={
        "mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.body)})
    upload = location_path(start_upload(server, name))
    server.stop()
    set_readonly(server, True)
    server.start()
    server.state = dict(name=name, image=image, referrer=referrer, upload=upload)
    yield server
    server.stop()


def test_every_read_works(readonly):
    s = readonly.state
    name, image = s["name"], s["image"]
    for method in ("GET", "HEAD"):
        assert_status(http(method, readonly, "/v2/"), 200)
        assert_status(http(method, readonly, f"/v2/{name}/manifests/v1",
                           headers={"Accept": OCI_MANIFEST}), 200)
        assert_status(http(method, readonly, f"/v2/{name}/manifests/{image.digest}",
                           headers={"Accept": OCI_MANIFEST}), 200)
        assert_status(http(method, readonly, f"/v2/{name}/blobs/{sha256(image.layers[0])}"), 200)
    assert http("GET", readonly, f"/v2/{name}/manifests/v1").content == image.body
    assert http("GET", readonly, f"/v2/{name}/blobs/{sha256(image.config)}").content == image.config
    ranged = http("GET", readonly, f"/v2/{name}/blobs/{sha256(image.layers[0])}", headers={"Range": "bytes=0-9"})
    assert_status(ranged, 206)
    assert ranged.content == image.layers[0][:10]
    assert name in http("GET", readonly, "/v2/_catalog").json()["repositories"]
    assert http("GET", readonly, f"/v2/{name}/tags/list").json()["tags"] == ["v1"]
    referrers = http("GET", readonly, f"/v2/{name}/referrers/{image.digest}").json()
    assert [m["digest"] for m in referrers["manifests"]] == [s["referrer"].digest]
    assert_status(http("GET", readonly, s["upload"]), 204)
    assert_status(http("GET", readonly, "/healthz"), 200)


def test_every_write_is_refused(readonly):
    s = readonly.state
    name, image, upload = s["name"], s["image"], s["upload"]
    data = rand_bytes(100)
    digest = sha256(data)
    manifest = image_manifest(OCI_MANIFEST, image.config, image.layers)
    other = uniq()
    writes = [
        ("POST", f"/v2/{name}/blobs/uploads/", {}),
        ("POST", f"/v2/{name}/blobs/uploads/?digest={digest}", {"data": data}),
        ("POST", f"/v2/{other}/blobs/uploads/?mount={sha256(image.config)}&from={name}", {}),
        ("PATCH", upload, {"data": data}),
        ("PUT", with_digest(upload, digest), {"data": data}),
        ("DELETE", upload, {}),
        ("PUT", f"/v2/{name}/manifests/v2", {"data": manifest, "headers": {"Content-Type": OCI_MANIFEST}}),
        ("PUT", f"/v2/{name}/manifests/{sha256(manifest)}",
         {"data": manifest, "headers": {"Content-Type": OCI_MANIFEST}}),
        ("DELETE", f"/v2/{name}/manifests/v1", {}),
        ("DELETE", f"/v2/{name}/manifests/{image.digest}", {}),
        ("DELETE", f"/v2/{name}/blobs/{sha256(image.config)}", {}),
    ]
    before = sorted(str(p) for p in files_under(readonly.root) if p.suffix not in (".db-wal", ".db-shm"))
    for method, path, kwargs in writes:
        resp = http(method, readonly, path, **kwargs)
        assert_error(resp, 405, "UNSUPPORTED")
        assert "read-only" in resp.json()["errors"][0]["message"], (method, path, resp.text)
    after = sorted(str(p) for p in files_under(readonly.root) if p.suffix not in (".db-wal", ".db-shm"))
    assert after == before
    # Everything is still there.
    assert http("GET", readonly, f"/v2/{name}/manifests/v1").content == image.body
    assert_status(http("GET", readonly, upload), 204)
    assert other not in http("GET", readonly, "/v2/_catalog").json()["repositories"]
