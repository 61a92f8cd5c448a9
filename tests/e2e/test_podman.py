"""End-to-end: podman (as root, vfs storage, isolated storage folders) pushes and pulls.

The image comes from a hand-written OCI layout (`podman pull oci:`), so nothing is fetched
from outside. Every podman run is a short-lived command; nothing is left running."""
import json
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from e2e_support import (ALL_MANIFEST_TYPES, DOCKER_MANIFEST_V2, OCI_MANIFEST, OciLayout, loud_skip,
                         run, sha256_digest)


@pytest.fixture
def podman():
    if shutil.which("podman") is None:
        loud_skip("`podman` is not installed, podman end-to-end tests did not run")
    # podman refuses a run root path longer than 50 characters: a short folder under /tmp.
    base = Path(tempfile.mkdtemp(prefix="berth-podman-"))
    (base / "tmp").mkdir(parents=True)
    (base / "config").mkdir()
    # No registries.conf search list or credentials from the host: everything is fully qualified.
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(base), "TMPDIR": str(base / "tmp"),
           "XDG_CONFIG_HOME": str(base / "config"), "XDG_RUNTIME_DIR": str(base / "tmp")}
    flags = ["--root", str(base / "root"), "--runroot", str(base / "runroot"), "--storage-driver", "vfs",
             "--events-backend", "file", "--cgroup-manager", "cgroupfs", "--tmpdir", str(base / "tmp")]

    def podman_run(*args, check=True):
        return run(["podman", *flags, *args], env=env, check=check)

    yield podman_run
    podman_run("rmi", "--all", "--force", check=False)
    shutil.rmtree(base, ignore_errors=True)


def _manifest(registry, repo, ref):
    r = requests.get(f"{registry.url}/v2/{repo}/manifests/{ref}", headers={"Accept": ALL_MANIFEST_TYPES},
                     timeout=30)
    assert r.status_code == 200, r.text
    return r


@pytest.mark.parametrize("fmt,media_type", [("oci", OCI_MANIFEST), ("v2s2", DOCKER_MANIFEST_V2)])
@pytest.mark.compat("podman", "push and pull (OCI and Docker schema 2)")
def test_podman_push_and_pull(registry, podman, tmp_path, fmt, media_type):
    layout = OciLayout(tmp_path / "layout")
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    podman("pull", f"oci:{layout.path}:v1")
    local = json.loads(podman("images", "--format", "json").stdout)
    assert len(local) == 1
    image_id = local[0]["Id"]
    assert "sha256:" + image_id == img.config_digest

    ref = f"{registry.host}/podman/{fmt}:v1"
    podman("push", "--tls-verify=false", "--format", fmt, image_id, f"docker://{ref}")
    r = _manifest(registry, f"podman/{fmt}", "v1")
    assert r.headers["Content-Type"] == media_type
    manifest = r.json()
    assert manifest["config"]["digest"] == img.config_digest
    assert len(manifest["layers"]) == 2
    for layer in manifest["layers"]:
        b = requests.get(f"{registry.url}/v2/podman/{fmt}/blobs/{layer['digest']}", timeout=30)
        assert b.status_code == 200 and sha256_digest(b.content) == layer["digest"]

    podman("rmi", "--all", "--force")
    assert json.loads(podman("images", "--format", "json").stdout or "[]") == []
    podman("pull", "--tls-verify=false", ref)
    pulled = json.loads(podman("image", "inspect", ref).stdout)[0]
    assert "sha256:" + pulled["Id"] == img.config_digest
    assert r.headers["Docker-Content-Digest"] in pulled["RepoDigests"][0]
    podman("rmi", "--all", "--force")


@pytest.mark.compat("podman", "pull of a missing tag fails cleanly")
def test_podman_pull_missing_fails(registry, podman):
    proc = podman("pull", "--tls-verify=false", f"{registry.host}/podman/none:v1", check=False)
    text = (proc.stdout + proc.stderr).lower()
    assert proc.returncode != 0, text
    assert "manifest unknown" in text or "not found" in text, text
