"""End-to-end: a multi-arch manifest list built with `docker manifest create` and pushed with
`docker manifest push`, inspected with `docker manifest inspect`; then a child deleted by digest
through the API, after which `docker pull` of it fails cleanly."""
import json
import re

import pytest
import requests

from e2e_support import DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_V2, output, sha256_digest

PUSH_DIGEST = re.compile(r": digest: (sha256:[0-9a-f]{64}) size: (\d+)")


def _build_and_push(docker, ref, tmp_path, size):
    docker.build_image(ref, tmp_path, sizes=(size, size + 11))
    out = output(docker.docker("push", ref))
    m = PUSH_DIGEST.search(out)
    assert m, out
    return m.group(1), int(m.group(2))


@pytest.mark.compat("docker", "manifest create / push / inspect of a multi-arch list")
@pytest.mark.compat("docker", "pull after delete by digest through the API fails cleanly")
def test_manifest_list_create_push_inspect_delete(registry, docker, tmp_path):
    repo = f"{registry.host}/multi/app"
    amd64, _ = _build_and_push(docker, f"{repo}:amd64", tmp_path, 40_000)
    arm64, _ = _build_and_push(docker, f"{repo}:arm64", tmp_path, 50_000)

    docker.docker("manifest", "create", "--insecure", f"{repo}:v1", f"{repo}:amd64", f"{repo}:arm64")
    docker.docker("manifest", "annotate", "--arch", "arm64", "--variant", "v8", f"{repo}:v1", f"{repo}:arm64")
    pushed = docker.docker("manifest", "push", "--insecure", "--purge", f"{repo}:v1").stdout.strip()
    list_digest = pushed.splitlines()[-1].strip()
    assert list_digest.startswith("sha256:"), pushed

    # Stored as a Docker manifest list whose children are in the same repository.
    r = requests.get(f"{registry.url}/v2/multi/app/manifests/v1",
                     headers={"Accept": DOCKER_MANIFEST_LIST}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == DOCKER_MANIFEST_LIST
    assert r.headers["Docker-Content-Digest"] == sha256_digest(r.content) == list_digest
    children = {m["digest"]: m["platform"] for m in r.json()["manifests"]}
    assert set(children) == {amd64, arm64}
    assert children[arm64]["architecture"] == "arm64" and children[arm64].get("variant") == "v8"
    assert children[amd64]["architecture"] == "amd64"

    inspected = json.loads(docker.docker("manifest", "inspect", "--insecure", f"{repo}:v1").stdout)
    assert inspected["mediaType"] == DOCKER_MANIFEST_LIST
    assert {m["digest"] for m in inspected["manifests"]} == {amd64, arm64}
    assert all(m["mediaType"] == DOCKER_MANIFEST_V2 for m in inspected["manifests"])
    verbose = json.loads(docker.docker("manifest", "inspect", "--insecure", "--verbose", f"{repo}:amd64").stdout)
    assert verbose["Descriptor"]["digest"] == amd64

    # docker pulls the list and picks its own platform (amd64 here).
    docker.docker("rmi", f"{repo}:amd64", f"{repo}:arm64")
    out = output(docker.docker("pull", f"{repo}:v1"))
    assert f"Digest: {list_digest}" in out, out
    docker.docker("rmi", f"{repo}:v1")

    # Delete the arm64 child by digest through the API: the pull then fails cleanly.
    d = requests.delete(f"{registry.url}/v2/multi/app/manifests/{arm64}", timeout=30)
    assert d.status_code == 202, d.text
    gone = docker.docker("pull", f"{repo}@{arm64}", check=False)
    text = output(gone)
    assert gone.returncode != 0, text
    assert "manifest unknown" in text.lower() or "not found" in text.lower(), text
    # (the registry's address and the digest are taken out first: a port like 50029 or a
    # digest holds "500" by chance)
    plain = text.replace(registry.host, "").replace(arm64, "")
    for bad in ("500", "Internal Server Error", "EOF", "connection refused"):
        assert bad not in plain, text
    gone_tag = docker.docker("pull", f"{repo}:arm64", check=False)
    assert gone_tag.returncode != 0, output(gone_tag)
    # The amd64 image is untouched.
    docker.docker("pull", f"{repo}@{amd64}")
    docker.docker("rmi", f"{repo}@{amd64}")
