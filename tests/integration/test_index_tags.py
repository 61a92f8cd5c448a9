"""Manifest lists and indexes in one repository: tag deletion leaves the children."""
import pytest

from helpers import (DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, assert_error,
                     assert_status, get_manifest, http, index_body, make_image, put_manifest,
                     sha256, shared, tags_of, uniq)  # noqa: F401


@pytest.mark.parametrize("index_type,child_type", [(OCI_INDEX, OCI_MANIFEST), (DOCKER_LIST, DOCKER_MANIFEST)])
def test_deleting_the_index_tag_keeps_index_and_children(shared, index_type, child_type):
    name = uniq("multi")
    children = [make_image(shared, name, tag=None, media_type=child_type) for _ in range(3)]
    body = index_body(index_type, children)
    assert_status(put_manifest(shared, name, "latest", body, index_type), 201)
    assert_status(put_manifest(shared, name, "stable", body, index_type), 201)
    assert_status(http("DELETE", shared, f"/v2/{name}/manifests/latest"), 202)
    assert tags_of(shared, name) == ["stable"]
    assert_error(get_manifest(shared, name, "latest"), 404, "MANIFEST_UNKNOWN")
    resp = get_manifest(shared, name, sha256(body), accept=index_type)
    assert_status(resp, 200)
    assert resp.content == body
    for child in children:
        assert_status(get_manifest(shared, name, child.digest, accept=child_type), 200)
    # Deleting the same tag again is an OCI error, not a success.
    assert_error(http("DELETE", shared, f"/v2/{name}/manifests/latest"), 404, "MANIFEST_UNKNOWN")


def test_index_by_digest_after_its_tags_are_gone(shared):
    name = uniq("multi")
    children = [make_image(shared, name, tag=f"c{i}") for i in range(2)]
    body = index_body(OCI_INDEX, children)
    assert_status(put_manifest(shared, name, "v1", body, OCI_INDEX), 201)
    for tag in ["v1", "c0", "c1"]:
        assert_status(http("DELETE", shared, f"/v2/{name}/manifests/{tag}"), 202)
    assert tags_of(shared, name) == []
    assert_status(get_manifest(shared, name, sha256(body)), 200)
