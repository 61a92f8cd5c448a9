"""End-to-end: images pushed by docker (Docker schema 2) and skopeo (an OCI index with two
platforms) into a real Distribution, the registry stopped, its tree imported with
`registryctl import`, and the same images pulled from Berth: identical manifest digests and
image IDs."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from distribution import DistributionProcess  # noqa: E402
from e2e_support import ALL_MANIFEST_TYPES, OCI_INDEX, OciLayout  # noqa: E402
from registryctl import registryctl  # noqa: E402

import requests  # noqa: E402


def test_images_pushed_to_distribution_by_docker_and_skopeo_pull_from_berth_after_import(
        docker, skopeo, make_registry, tmp_path):
    dist = DistributionProcess(tmp_path / "distribution").start()
    host = f"127.0.0.1:{dist.port}"
    try:
        image_id = docker.build_image("import-e2e:v1", tmp_path)
        docker.docker("tag", "import-e2e:v1", f"{host}/team/built:v1")
        docker.docker("push", f"{host}/team/built:v1")
        docker_digest = requests.get(f"{dist.url}/v2/team/built/manifests/v1",
                                     headers={"Accept": ALL_MANIFEST_TYPES}, timeout=30).headers["Docker-Content-Digest"]

        layout = OciLayout(tmp_path / "layout")
        images = [layout.add_image(arch="amd64"), layout.add_image(arch="arm64")]
        index_bytes, index_digest = layout.add_index(images)
        layout.tag("multi", {"mediaType": OCI_INDEX, "digest": index_digest, "size": len(index_bytes)})
        skopeo("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout.path}:multi",
               f"docker://{host}/team/multi:v1")
    finally:
        dist.stop()

    berth = make_registry("berth")
    result = registryctl("import", "--from", str(tmp_path / "distribution" / "data"), config=berth.config_path,
                         timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    berth.start()

    docker.docker("rmi", "import-e2e:v1", f"{host}/team/built:v1")
    docker.docker("pull", f"{berth.host}/team/built:v1")
    assert docker.image_id(f"{berth.host}/team/built:v1") == image_id
    resp = requests.get(f"{berth.url}/v2/team/built/manifests/v1", headers={"Accept": ALL_MANIFEST_TYPES}, timeout=30)
    assert resp.headers["Docker-Content-Digest"] == docker_digest

    out = tmp_path / "back"
    skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false", f"docker://{berth.host}/team/multi:v1",
           f"oci:{out}:multi")
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["digest"] == index_digest
    for image in images:
        assert (out / "blobs" / "sha256" / image.config_digest.split(":")[1]).exists()
