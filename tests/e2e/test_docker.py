"""End-to-end: a real (private) dockerd pushes to and pulls from registryd."""
import re

import pytest
import requests

from e2e_support import ALL_MANIFEST_TYPES, DOCKER_MANIFEST_V2, output, sha256_digest

PUSH_DIGEST = re.compile(r"(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)")


def _push(docker, ref):
    out = output(docker.docker("push", ref))
    m = PUSH_DIGEST.search(out)
    assert m, f"no digest line in docker push output:\n{out}"
    return out, m.group(2), int(m.group(3))


def _layer_lines(out):
    """The per-layer final status lines of `docker push`: {layer id: status}."""
    status = {}
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]{12}): (.+)$", line.strip())
        if m and m.group(2) not in ("Preparing", "Waiting"):
            status[m.group(1)] = m.group(2)
    return status


@pytest.mark.compat("docker", "push and pull (Docker schema 2)")
def test_push_restart_pull_same_image(registry, docker, tmp_path):
    ref = f"{registry.host}/app:v3"
    image_id = docker.build_image(ref, tmp_path)

    out, digest, size = _push(docker, ref)
    assert "v3: digest: sha256:" in out
    layers = _layer_lines(out)
    assert len(layers) == 3 and set(layers.values()) == {"Pushed"}, out

    # The registry has what docker says it pushed.
    head = requests.head(f"{registry.url}/v2/app/manifests/v3",
                         headers={"Accept": ALL_MANIFEST_TYPES}, timeout=30)
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == digest
    assert int(head.headers["Content-Length"]) == size
    assert head.headers["Content-Type"].split(";")[0].strip() == DOCKER_MANIFEST_V2

    docker.docker("rmi", ref)
    assert not docker.has_image(image_id), "the image is still in dockerd after rmi"

    registry.restart()

    pull = output(docker.docker("pull", ref))
    assert f"Digest: {digest}" in pull
    assert "Downloaded newer image" in pull
    assert pull.count("Pull complete") == 3, pull
    assert docker.image_id(ref) == image_id


@pytest.mark.compat("docker", "pull by digest")
def test_pull_by_digest(registry, docker, tmp_path):
    ref = f"{registry.host}/app:v3"
    image_id = docker.build_image(ref, tmp_path)
    _, digest, _ = _push(docker, ref)
    docker.docker("rmi", ref)
    by_digest = f"{registry.host}/app@{digest}"
    pull = output(docker.docker("pull", by_digest))
    assert f"Digest: {digest}" in pull or digest in pull
    assert docker.image_id(by_digest) == image_id
    docker.docker("rmi", by_digest)


@pytest.mark.compat("docker", "cross-repository blob mount")
def test_push_to_second_repository_reuses_layers(registry, docker, tmp_path):
    ref = f"{registry.host}/app:v3"
    docker.build_image(ref, tmp_path)
    _, digest, _ = _push(docker, ref)

    # the same image again to the same repository: nothing is sent
    again, digest_again, _ = _push(docker, ref)
    assert digest_again == digest
    assert set(_layer_lines(again).values()) == {"Layer already exists"}, again

    other = f"{registry.host}/team/other:v1"
    docker.docker("tag", ref, other)
    out, other_digest, _ = _push(docker, other)
    assert other_digest == digest
    statuses = _layer_lines(out)
    assert len(statuses) == 3, out
    for layer, status in statuses.items():
        assert status.startswith("Mounted from") or status == "Layer already exists", \
            f"layer {layer} was {status!r}, expected a cross-repository mount:\n{out}"
    assert "Pushed" not in statuses.values()

    # the mounted blobs are really readable in the second repository
    manifest = requests.get(f"{registry.url}/v2/team/other/manifests/v1",
                            headers={"Accept": ALL_MANIFEST_TYPES}, timeout=30)
    assert manifest.status_code == 200
    assert sha256_digest(manifest.content) == digest
    for layer in manifest.json()["layers"]:
        blob = requests.get(f"{registry.url}/v2/team/other/blobs/{layer['digest']}", timeout=60)
        assert blob.status_code == 200
        assert sha256_digest(blob.content) == layer["digest"]
        assert len(blob.content) == layer["size"]

    docker.docker("rmi", ref, other)
    pull = output(docker.docker("pull", other))
    assert f"Digest: {digest}" in pull
    docker.docker("rmi", other)


@pytest.mark.compat("docker", "pull of a missing tag fails cleanly")
def test_pull_missing_tag_fails(registry, docker, tmp_path):
    ref = f"{registry.host}/app:v3"
    docker.build_image(ref, tmp_path)
    _push(docker, ref)

    missing = docker.docker("pull", f"{registry.host}/app:no-such-tag", check=False)
    text = output(missing)
    assert missing.returncode != 0, text
    assert "manifest unknown" in text.lower() or "not found" in text.lower(), text
    for bad in ("500", "Internal Server Error", "EOF", "connection refused"):
        assert bad not in text, text

    missing_repo = docker.docker("pull", f"{registry.host}/no/such/repo:latest", check=False)
    text = output(missing_repo)
    assert missing_repo.returncode != 0, text
    assert any(s in text.lower() for s in ("not found", "unknown", "does not exist")), text
    for bad in ("500", "Internal Server Error", "EOF", "connection refused"):
        assert bad not in text, text


@pytest.mark.compat("docker", "push of several tags")
def test_tags_list_shows_pushed_tags(registry, docker, tmp_path):
    ref = f"{registry.host}/app:v3"
    docker.build_image(ref, tmp_path)
    _push(docker, ref)
    docker.docker("tag", ref, f"{registry.host}/app:latest")
    _push(docker, f"{registry.host}/app:latest")

    r = requests.get(f"{registry.url}/v2/app/tags/list", timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["name"] == "app"
    assert sorted(body["tags"]) == ["latest", "v3"]
