"""Tag listing and the catalog, with n/last pagination and Link headers."""
import pytest

from helpers import (OCI_MANIFEST, assert_error, assert_status, describe, http, make_image,
                     put_manifest, shared, uniq)  # noqa: F401


def push_tags(reg, name, tags):
    img = make_image(reg, name, tag=tags[0])
    for tag in tags[1:]:
        assert_status(put_manifest(reg, name, tag, img.body, OCI_MANIFEST), 201)
    return img


def link_target(resp):
    """The URL inside `Link: <url>; rel="next"`, or None."""
    link = resp.headers.get("Link")
    if link is None:
        return None
    assert link.endswith('; rel="next"'), describe(resp)
    assert link.startswith("<") and ">" in link, describe(resp)
    return link[1:link.index(">")]


TAGS = ["v2", "latest", "a1", "v10", "Beta", "1.0", "_x"]


@pytest.fixture(scope="module")
def tagged(shared):
    name = uniq("tags")
    push_tags(shared, name, TAGS)
    return name


def test_tags_list_sorted(shared, tagged):
    resp = http("GET", shared, f"/v2/{tagged}/tags/list")
    assert_status(resp, 200)
    assert resp.headers.get("Content-Type", "").split(";")[0] == "application/json", describe(resp)
    assert resp.json() == {"name": tagged, "tags": sorted(TAGS)}, describe(resp)
    assert "Link" not in resp.headers, describe(resp)


def test_tags_list_pagination(shared, tagged):
    expected = sorted(TAGS)       # 7 tags -> pages of 2, 2, 2, 1
    resp = http("GET", shared, f"/v2/{tagged}/tags/list?n=2")
    assert_status(resp, 200)
    assert resp.json() == {"name": tagged, "tags": expected[:2]}
    assert resp.headers.get("Link") == \
        f'</v2/{tagged}/tags/list?n=2&last={expected[1]}>; rel="next"', describe(resp)
    seen = list(resp.json()["tags"])
    pages = 1
    while (nxt := link_target(resp)) is not None:
        resp = http("GET", shared, nxt)
        assert_status(resp, 200)
        page = resp.json()["tags"]
        assert resp.json()["name"] == tagged
        assert 1 <= len(page) <= 2, describe(resp)
        seen += page
        pages += 1
        assert pages <= 10, "pagination does not end"
    assert seen == expected
    assert pages == 4
    assert len(page) == 1


def test_tags_list_last(shared, tagged):
    expected = sorted(TAGS)
    resp = http("GET", shared, f"/v2/{tagged}/tags/list?last=latest")
    assert_status(resp, 200)
    assert resp.json()["tags"] == [t for t in expected if t > "latest"]
    resp = http("GET", shared, f"/v2/{tagged}/tags/list?last=latest&n=1")
    assert_status(resp, 200)
    assert resp.json()["tags"] == ["v10"]
    assert resp.headers.get("Link") == f'</v2/{tagged}/tags/list?n=1&last=v10>; rel="next"', describe(resp)
    # `last` need not be an existing tag
    resp = http("GET", shared, f"/v2/{tagged}/tags/list?last=b")
    assert_status(resp, 200)
    assert resp.json()["tags"] == [t for t in expected if t > "b"]
    # past the end
    resp = http("GET", shared, f"/v2/{tagged}/tags/list?last=zzz")
    assert_status(resp, 200)
    assert not resp.json()["tags"], describe(resp)
    assert "Link" not in resp.headers


def test_tags_list_n_larger_than_count(shared, tagged):
    resp = http("GET", shared, f"/v2/{tagged}/tags/list?n=100")
    assert_status(resp, 200)
    assert resp.json()["tags"] == sorted(TAGS)
    assert "Link" not in resp.headers, describe(resp)


def test_tags_list_nested_name(shared):
    name = f"{uniq('team')}/app/api"
    push_tags(shared, name, ["b", "a"])
    resp = http("GET", shared, f"/v2/{name}/tags/list")
    assert_status(resp, 200)
    assert resp.json() == {"name": name, "tags": ["a", "b"]}


def test_tags_list_unknown_repository(shared):
    resp = http("GET", shared, f"/v2/{uniq('nobody')}/tags/list")
    assert_error(resp, 404, "NAME_UNKNOWN")


def test_tags_list_invalid_name(shared):
    resp = http("GET", shared, "/v2/NotValid/tags/list")
    assert_error(resp, 400, "NAME_INVALID")


# ----------------------------------------------------------------- catalog (fresh server)

def test_catalog_empty(registry):
    resp = http("GET", registry, "/v2/_catalog")
    assert_status(resp, 200)
    assert resp.json() == {"repositories": []}, describe(resp)


def test_catalog_sorted_and_paginated(registry):
    # names with '/' sit at odd positions so every page boundary is a plain name
    repos = ["e/f/g", "b", "a/x", "d", "c/y"]
    for repo in repos:
        make_image(registry, repo, tag="t")
    expected = sorted(repos)
    assert expected == ["a/x", "b", "c/y", "d", "e/f/g"]

    resp = http("GET", registry, "/v2/_catalog")
    assert_status(resp, 200)
    assert resp.json() == {"repositories": expected}
    assert "Link" not in resp.headers, describe(resp)

    resp = http("GET", registry, "/v2/_catalog?n=2")
    assert_status(resp, 200)
    assert resp.json() == {"repositories": ["a/x", "b"]}
    assert resp.headers.get("Link") == '</v2/_catalog?n=2&last=b>; rel="next"', describe(resp)

    resp = http("GET", registry, link_target(resp))
    assert_status(resp, 200)
    assert resp.json() == {"repositories": ["c/y", "d"]}
    assert resp.headers.get("Link") == '</v2/_catalog?n=2&last=d>; rel="next"', describe(resp)

    resp = http("GET", registry, link_target(resp))
    assert_status(resp, 200)
    assert resp.json() == {"repositories": ["e/f/g"]}
    assert "Link" not in resp.headers, describe(resp)

    resp = http("GET", registry, "/v2/_catalog?last=b")
    assert_status(resp, 200)
    assert resp.json() == {"repositories": ["c/y", "d", "e/f/g"]}

    resp = http("GET", registry, "/v2/_catalog?last=c/y&n=10")
    assert_status(resp, 200)
    assert resp.json() == {"repositories": ["d", "e/f/g"]}
    assert "Link" not in resp.headers, describe(resp)
