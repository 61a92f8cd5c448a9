"""End-to-end: the pull-through cache with real clients. An image built and pushed by docker
to an upstream Berth is pulled by a second dockerd whose `registry-mirrors` is the mirror
(docker asks for `library/<name>`, the default mirror answers), and by skopeo and podman
through the prefixed name; every client ends with the same image ID as the one built."""
import json

import requests

from e2e_support import DockerDaemon
from test_podman import podman  # noqa: F401  (the podman fixture)


def test_docker_registry_mirrors_skopeo_and_podman_pull_through_berth(docker, make_registry, skopeo, podman,
                                                                     tmp_path):
    upstream = make_registry("upstream").start()
    mirror = make_registry(
        "mirror", extra_config=f"berth:\n  mirrors:\n    - prefix: docker.io\n      url: {upstream.url}\n"
                               f"      default: true\n").start()
    image_id = docker.build_image("mirror-e2e:v1", tmp_path)
    docker.docker("tag", "mirror-e2e:v1", f"{upstream.host}/library/mirrortest:v1")
    docker.docker("push", f"{upstream.host}/library/mirrortest:v1")

    # docker: only Docker Hub names go through registry-mirrors; Docker Hub is unreachable
    # here, so the pull succeeds only through Berth.
    daemon_config = tmp_path / "daemon.json"
    daemon_config.write_text(json.dumps({"registry-mirrors": [mirror.url]}))
    second = DockerDaemon(("--config-file", str(daemon_config)))
    try:
        second.start()
        second.docker("pull", "mirrortest:v1")
        assert second.image_id("mirrortest:v1") == image_id
    finally:
        second.stop()
        second.cleanup()
    tags = requests.get(f"{mirror.url}/v2/docker.io/library/mirrortest/tags/list", timeout=30).json()["tags"]
    assert tags == ["v1"]

    # skopeo and podman through the prefix: the cache answers without a second download.
    pulled_blobs = upstream.log().count("GET /v2/library/mirrortest/blobs/")
    ref = f"{mirror.host}/docker.io/library/mirrortest:v1"
    out = tmp_path / "copy"
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{out}")  # dir: keeps the manifest as is
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["digest"] == image_id

    podman("pull", "--tls-verify=false", ref)
    images = json.loads(podman("images", "--format", "json").stdout)
    assert ["sha256:" + i["Id"] for i in images] == [image_id]
    assert upstream.log().count("GET /v2/library/mirrortest/blobs/") == pulled_blobs
