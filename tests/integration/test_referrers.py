"""The OCI 1.1 referrers API: GET /v2/<name>/referrers/<digest>, artifact manifests with
the empty config, `?artifactType=` filtering and the OCI-Subject header."""
import json

import pytest

from helpers import (OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, assert_error, assert_status, describe,
                     descriptor, fake_digest, http, index_body, make_image, manifest_bytes,
                     push_blob, put_manifest, rand_bytes, sha256, shared, uniq)  # noqa: F401

EMPTY = b"{}"
SBOM = "application/vnd.example.sbom.v1"
SIGNATURE = "application/vnd.example.signature.v1"


def push_artifact(reg, name, subject: dict | None, artifact_type: str | None, *,
                  annotations: dict | None = None, layer_type="application/octet-stream",
                  tag: str | None = None, include_artifact_type=True):
    """An artifact manifest: the empty config, one layer of any media type, a subject."""
    push_blob(reg, name, EMPTY)
    payload = rand_bytes(200)
    push_blob(reg, name, payload)
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type and include_artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = descriptor(OCI_EMPTY, EMPTY)
    doc["layers"] = [descriptor(layer_type, payload)]
    if subject is not None:
        doc["subject"] = subject
    if annotations:
        doc["annotations"] = annotations
    body = manifest_bytes(doc)
    resp = put_manifest(reg, name, tag or sha256(body), body, OCI_MANIFEST)
    assert_status(resp, 201)
    if subject is not None:
        assert resp.headers.get("OCI-Subject") == subject["digest"], describe(resp)
    else:
        assert "OCI-Subject" not in resp.headers, describe(resp)
    return body


def referrers(reg, name, digest, artifact_type=None):
    path = f"/v2/{name}/referrers/{digest}"
    if artifact_type is not None:
        path += f"?artifactType={artifact_type}"
    return http("GET", reg, path)


def assert_index(resp) -> list[dict]:
    assert_status(resp, 200)
    assert resp.headers.get("Content-Type") == OCI_INDEX, describe(resp)
    doc = resp.json()
    assert doc["schemaVersion"] == 2 and doc["mediaType"] == OCI_INDEX, describe(resp)
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    return doc["manifests"]


def test_referrers_list_artifacts_with_type_and_annotations(shared):
    name = uniq("refs")
    image = make_image(shared, name, tag="v1")
    subject = descriptor(OCI_MANIFEST, image.body)
    sbom = push_artifact(shared, name, subject, SBOM, annotations={"org.example.kind": "sbom"},
                         layer_type="text/spdx+json")
    sig = push_artifact(shared, name, subject, SIGNATURE, annotations={"org.example.signer": "ci"})
    entries = assert_index(referrers(shared, name, image.digest))
    by_digest = {e["digest"]: e for e in entries}
    assert set(by_digest) == {sha256(sbom), sha256(sig)}
    assert by_digest[sha256(sbom)] == {
        "mediaType": OCI_MANIFEST, "digest": sha256(sbom), "size": len(sbom),
        "artifactType": SBOM, "annotations": {"org.example.kind": "sbom"}}
    assert by_digest[sha256(sig)]["artifactType"] == SIGNATURE
    assert by_digest[sha256(sig)]["annotations"] == {"org.example.signer": "ci"}
    # The artifacts themselves are ordinary manifests, served byte for byte.
    resp = http("GET", shared, f"/v2/{name}/manifests/{sha256(sbom)}")
    assert_status(resp, 200)
    assert resp.content == sbom


def test_artifact_type_filter(shared):
    name = uniq("refs")
    image = make_image(shared, name, tag="v1")
    subject = descriptor(OCI_MANIFEST, image.body)
    push_artifact(shared, name, subject, SBOM)
    sig = push_artifact(shared, name, subject, SIGNATURE)
    resp = referrers(shared, name, image.digest, SIGNATURE)
    entries = assert_index(resp)
    assert [e["digest"] for e in entries] == [sha256(sig)]
    assert resp.headers.get("OCI-Filters-Applied") == "artifactType", describe(resp)
    resp = referrers(shared, name, image.digest, "application/vnd.example.none")
    assert assert_index(resp) == []
    assert resp.headers.get("OCI-Filters-Applied") == "artifactType"
    resp = referrers(shared, name, image.digest)
    assert len(assert_index(resp)) == 2
    assert "OCI-Filters-Applied" not in resp.headers, describe(resp)


def test_artifact_type_defaults_to_config_media_type(shared):
    name = uniq("refs")
    image = make_image(shared, name, tag="v1")
    body = push_artifact(shared, name, descriptor(OCI_MANIFEST, image.body), SBOM,
                         include_artifact_type=False)
    entries = assert_index(referrers(shared, name, image.digest))
    assert entries == [{"mediaType": OCI_MANIFEST, "digest": sha256(body), "size": len(body),
                        "artifactType": OCI_EMPTY}]
    assert [e["digest"] for e in assert_index(referrers(shared, name, image.digest, OCI_EMPTY))] \
        == [sha256(body)]


def test_subject_need_not_exist_yet(shared):
    name = uniq("refs")
    image = make_image(shared, name, tag="v1", push=False)
    subject = descriptor(OCI_MANIFEST, image.body)
    sig = push_artifact(shared, name, subject, SIGNATURE)
    assert [e["digest"] for e in assert_index(referrers(shared, name, image.digest))] == [sha256(sig)]
    assert_status(put_manifest(shared, name, "v1", image.body, OCI_MANIFEST), 201)
    assert [e["digest"] for e in assert_index(referrers(shared, name, image.digest))] == [sha256(sig)]


def test_empty_index_for_unknown_digest_and_repository(shared):
    name = uniq("refs")
    make_image(shared, name, tag="v1")
    assert assert_index(referrers(shared, name, fake_digest())) == []
    assert assert_index(referrers(shared, uniq("never-pushed"), fake_digest())) == []


def test_referrers_are_per_repository(shared):
    name, other = uniq("refs"), uniq("refs")
    image = make_image(shared, name, tag="v1")
    push_artifact(shared, name, descriptor(OCI_MANIFEST, image.body), SBOM)
    assert assert_index(referrers(shared, other, image.digest)) == []


def test_index_can_refer_and_be_referred_to(shared):
    name = uniq("refs")
    a, b = make_image(shared, name, tag="a"), make_image(shared, name, tag="b")
    index = index_body(OCI_INDEX, [a, b])
    assert_status(put_manifest(shared, name, "multi", index, OCI_INDEX), 201)
    sig = push_artifact(shared, name, descriptor(OCI_INDEX, index), SIGNATURE)
    assert [e["digest"] for e in assert_index(referrers(shared, name, sha256(index)))] == [sha256(sig)]
    # An index with a subject and an artifactType is itself listed as a referrer.
    doc = json.loads(index)
    doc["artifactType"] = "application/vnd.example.bundle"
    doc["subject"] = descriptor(OCI_MANIFEST, a.body)
    doc["annotations"] = {"org.example.bundle": "yes"}
    body = manifest_bytes(doc)
    resp = put_manifest(shared, name, sha256(body), body, OCI_INDEX)
    assert_status(resp, 201)
    assert resp.headers.get("OCI-Subject") == a.digest
    assert assert_index(referrers(shared, name, a.digest)) == [{
        "mediaType": OCI_INDEX, "digest": sha256(body), "size": len(body),
        "artifactType": "application/vnd.example.bundle", "annotations": {"org.example.bundle": "yes"}}]


def test_deleted_referrer_disappears(shared):
    name = uniq("refs")
    image = make_image(shared, name, tag="v1")
    sig = push_artifact(shared, name, descriptor(OCI_MANIFEST, image.body), SIGNATURE)
    assert len(assert_index(referrers(shared, name, image.digest))) == 1
    assert_status(http("DELETE", shared, f"/v2/{name}/manifests/{sha256(sig)}"), 202)
    assert assert_index(referrers(shared, name, image.digest)) == []


def test_tagged_referrer_and_head(shared):
    name = uniq("refs")
    image = make_image(shared, name, tag="v1")
    push_artifact(shared, name, descriptor(OCI_MANIFEST, image.body), SBOM, tag="sbom")
    resp = http("HEAD", shared, f"/v2/{name}/referrers/{image.digest}")
    assert_status(resp, 200)
    assert resp.content == b""
    assert resp.headers.get("Content-Type") == OCI_INDEX


@pytest.mark.parametrize("digest", ["sha256:abc", "notadigest", "sha256:" + "G" * 64])
def test_invalid_digest_is_digest_invalid(shared, digest):
    assert_error(referrers(shared, uniq("refs"), digest), 400, "DIGEST_INVALID")


def test_invalid_name_is_name_invalid(shared):
    assert_error(referrers(shared, "Bad_Name", fake_digest()), 400, "NAME_INVALID")


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
def test_write_methods_are_unsupported(shared, method):
    resp = http(method, shared, f"/v2/{uniq('refs')}/referrers/{fake_digest()}")
    assert_error(resp, 405, "UNSUPPORTED")


def test_artifact_layers_of_any_media_type(shared):
    name = uniq("artifacts")
    for layer_type in ["application/vnd.cncf.helm.chart.content.v1.tar+gzip", "text/plain",
                       "application/vnd.example.weird+x-y;version=2"]:
        body = push_artifact(shared, name, None, "application/vnd.example.any", layer_type=layer_type)
        resp = http("GET", shared, f"/v2/{name}/manifests/{sha256(body)}",
                    headers={"Accept": OCI_MANIFEST})
        assert_status(resp, 200)
        assert resp.content == body
