"""docker, podman and skopeo against a registryd whose blobs are in a real S3 server (Ceph RGW),
with blob reads redirected to presigned URLs (the default) and streamed by registryd
(`storage.redirect.disable: true`)."""
import json
import sys
from pathlib import Path

import pytest
import requests

from e2e_support import ALL_MANIFEST_TYPES, OciLayout, output

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from test_s3_storage import s3_registry  # noqa: E402
from test_podman import podman  # noqa: E402,F401  (fixture)
from s3 import s3_server  # noqa: E402,F401  (fixture)

MODES = pytest.mark.parametrize("redirect", [True, False], ids=["redirect", "streamed"])


@pytest.fixture
def s3_registry_for(tmp_path, s3_server):
    servers = []

    def make(redirect: bool):
        server = s3_registry(tmp_path, s3_server, redirect=redirect)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def _blob_answer(registry, repo, digest):
    return requests.get(f"{registry.url}/v2/{repo}/blobs/{digest}", allow_redirects=False, timeout=30).status_code


@MODES
def test_docker_push_and_pull(s3_registry_for, docker, tmp_path, redirect):
    registry = s3_registry_for(redirect)
    ref = f"{registry.host}/s3/app:v1"
    image_id = docker.build_image(ref, tmp_path)
    out = output(docker.docker("push", ref))
    assert "v1: digest: sha256:" in out, out
    docker.docker("rmi", ref)
    pull = output(docker.docker("pull", ref))
    assert pull.count("Pull complete") == 3, pull
    assert docker.image_id(ref) == image_id
    manifest = requests.get(f"{registry.url}/v2/s3/app/manifests/v1", headers={"Accept": ALL_MANIFEST_TYPES},
                            timeout=30).json()
    assert _blob_answer(registry, "s3/app", manifest["layers"][0]["digest"]) == (307 if redirect else 200)
    docker.docker("rmi", ref)


@MODES
def test_skopeo_copy_there_and_back(s3_registry_for, skopeo, tmp_path, redirect):
    registry = s3_registry_for(redirect)
    layout = OciLayout(tmp_path / "layout")
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    dest = f"docker://{registry.host}/s3/skopeo:v1"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1", dest)
    back = tmp_path / "back"
    skopeo("copy", "--src-tls-verify=false", dest, f"oci:{back}:v1")
    index = json.loads((back / "index.json").read_text())
    assert index["manifests"][0]["digest"] == img.manifest_digest
    for digest in img.layer_digests:
        assert (back / "blobs" / "sha256" / digest.split(":")[1]).exists()
        assert _blob_answer(registry, "s3/skopeo", digest) == (307 if redirect else 200)


@MODES
def test_podman_push_and_pull(s3_registry_for, podman, tmp_path, redirect):  # noqa: F811
    registry = s3_registry_for(redirect)
    layout = OciLayout(tmp_path / "layout")
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    podman("pull", f"oci:{layout.path}:v1")
    image_id = json.loads(podman("images", "--format", "json").stdout)[0]["Id"]
    ref = f"{registry.host}/s3/podman:v1"
    podman("push", "--tls-verify=false", image_id, f"docker://{ref}")
    podman("rmi", "--all", "--force")
    podman("pull", "--tls-verify=false", ref)
    pulled = json.loads(podman("image", "inspect", ref).stdout)[0]
    assert "sha256:" + pulled["Id"] == img.config_digest
    podman("rmi", "--all", "--force")
