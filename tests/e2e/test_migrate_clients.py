"""End-to-end: `registryctl migrate` both ways with real clients. docker pushes an image and
skopeo an OCI index with two platforms into a registryd on the filesystem and SQLite; the store
is migrated into PostgreSQL and S3 (Ceph RGW), where docker pulls the same image ID and skopeo
the same index; then migrated back into a fresh filesystem and SQLite, and pulled again."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from e2e_support import OCI_INDEX, OciLayout  # noqa: E402
from postgres import pg_server  # noqa: E402,F401  (fixture)
from registry import RegistryProcess  # noqa: E402
from s3 import s3_server  # noqa: E402,F401  (fixture)
from test_migrate import fs_registry, migrate, pg_s3_registry  # noqa: E402


def _pull_and_compare(docker, skopeo, reg: RegistryProcess, image_id: str, index_digest: str, tmp_path: Path,
                      name: str) -> None:
    ref = f"{reg.host}/team/app:v1"
    docker.docker("pull", ref)
    assert docker.image_id(ref) == image_id
    docker.docker("rmi", ref)
    out = tmp_path / f"pulled-{name}"
    skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false", f"docker://{reg.host}/team/multi:v1",
           f"oci:{out}:multi")
    assert json.loads((out / "index.json").read_text())["manifests"][0]["digest"] == index_digest


def test_docker_and_skopeo_images_survive_migrate_to_postgres_and_s3_and_back(
        docker, skopeo, pg_server, s3_server, tmp_path):
    source = RegistryProcess(tmp_path / "source").start()
    try:
        image_id = docker.build_image("migrate-e2e:v1", tmp_path)
        docker.docker("tag", "migrate-e2e:v1", f"{source.host}/team/app:v1")
        docker.docker("push", f"{source.host}/team/app:v1")
        docker.docker("rmi", "migrate-e2e:v1", f"{source.host}/team/app:v1")

        layout = OciLayout(tmp_path / "layout")
        images = [layout.add_image(arch="amd64"), layout.add_image(arch="arm64")]
        index_bytes, index_digest = layout.add_index(images)
        layout.tag("multi", {"mediaType": OCI_INDEX, "digest": index_digest, "size": len(index_bytes)})
        skopeo("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout.path}:multi",
               f"docker://{source.host}/team/multi:v1")
    finally:
        source.stop()

    cloud = pg_s3_registry(tmp_path, pg_server, s3_server, "cloud")
    result, report = migrate(source, cloud)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["problems"] == [] and report["repositories"] == 2 and report["tagsCopied"] == 2
    cloud.start()
    try:
        _pull_and_compare(docker, skopeo, cloud, image_id, index_digest, tmp_path, "cloud")
    finally:
        cloud.stop()

    home = fs_registry(tmp_path, "home")
    result, report = migrate(cloud, home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["problems"] == [] and report["tagsCopied"] == 2
    home.start()
    try:
        _pull_and_compare(docker, skopeo, home, image_id, index_digest, tmp_path, "home")
    finally:
        home.stop()
