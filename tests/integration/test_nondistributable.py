"""Non-distributable layers: descriptors with `urls` (berth.manifests.allownondistributable)."""
import pytest

from helpers import (DOCKER_CONFIG, DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST, assert_error,
                     assert_status, config_blob, describe, descriptor, get_manifest,
                     manifest_bytes, push_blob, put_manifest, rand_bytes, uniq)

FOREIGN_DOCKER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
NONDIST_OCI = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
ALLOW = "berth:\n  manifests:\n    allownondistributable: true\n"


@pytest.fixture
def allowing(make_registry):
    return make_registry("nondist", extra_config=ALLOW).start()


def foreign_manifest(reg, name, media_type, urls):
    """A manifest whose first layer lives elsewhere (never pushed) and second is local."""
    docker = media_type == DOCKER_MANIFEST
    config, local = config_blob(), rand_bytes(1200)
    push_blob(reg, name, config)
    push_blob(reg, name, local)
    foreign = descriptor(FOREIGN_DOCKER if docker else NONDIST_OCI, rand_bytes(3000), urls=urls)
    doc = {"schemaVersion": 2, "mediaType": media_type,
           "config": descriptor(DOCKER_CONFIG if docker else OCI_CONFIG, config),
           "layers": [foreign, descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip" if docker
                                          else "application/vnd.oci.image.layer.v1.tar+gzip", local)]}
    return manifest_bytes(doc)


@pytest.mark.parametrize("media_type", [DOCKER_MANIFEST, OCI_MANIFEST])
def test_layers_with_urls_are_accepted_with_the_switch(allowing, media_type):
    name = uniq("win")
    body = foreign_manifest(allowing, name, media_type, ["https://mcr.example.com/layer.tar.gz"])
    assert_status(put_manifest(allowing, name, "v1", body, media_type), 201)
    resp = get_manifest(allowing, name, "v1", accept=media_type)
    assert_status(resp, 200)
    assert resp.content == body


@pytest.mark.parametrize("media_type", [DOCKER_MANIFEST, OCI_MANIFEST])
def test_layers_with_urls_are_refused_by_default(registry, media_type):
    name = uniq("win")
    body = foreign_manifest(registry, name, media_type, ["https://mcr.example.com/layer.tar.gz"])
    assert_error(put_manifest(registry, name, "v1", body, media_type), 400, "MANIFEST_BLOB_UNKNOWN")
    assert_error(get_manifest(registry, name, "v1"), 404, "MANIFEST_UNKNOWN")


@pytest.mark.parametrize("url", ["ftp://example.com/l.tgz", "/relative", "https://example.com/l#frag"])
def test_bad_urls_are_manifest_invalid(allowing, url):
    name = uniq("win")
    body = foreign_manifest(allowing, name, OCI_MANIFEST, [url])
    resp = put_manifest(allowing, name, "v1", body, OCI_MANIFEST)
    assert_error(resp, 400, "MANIFEST_INVALID")
    assert "layers[0]" in resp.text, describe(resp)


def test_local_layers_are_still_checked_with_the_switch(allowing):
    name = uniq("win")
    config = config_blob()
    push_blob(allowing, name, config)
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptor(OCI_CONFIG, config),
           "layers": [descriptor(NONDIST_OCI, rand_bytes(10), urls=["https://example.com/a"]),
                      descriptor("application/vnd.oci.image.layer.v1.tar+gzip", rand_bytes(10))]}
    resp = put_manifest(allowing, name, "v1", manifest_bytes(doc), OCI_MANIFEST)
    assert_error(resp, 400, "MANIFEST_BLOB_UNKNOWN")
