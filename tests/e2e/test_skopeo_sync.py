"""End-to-end: `skopeo sync` of a whole repository, registry -> dir -> registry and
registry -> registry, every tag and every byte kept."""
import json

import pytest
import requests

from e2e_support import ALL_MANIFEST_TYPES, OciLayout


def _tags(registry, repo):
    r = requests.get(f"{registry.url}/v2/{repo}/tags/list", timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    return sorted(r.json()["tags"])


def _manifest(registry, repo, tag):
    r = requests.get(f"{registry.url}/v2/{repo}/manifests/{tag}", headers={"Accept": ALL_MANIFEST_TYPES},
                     timeout=30)
    assert r.status_code == 200, r.text
    return r.content


@pytest.mark.compat("skopeo", "sync of a whole repository (registry → dir: → registry, registry → registry)")
def test_sync_whole_repository(registry, skopeo, tmp_path):
    layout = OciLayout(tmp_path / "layout")
    tags = {"1.0": layout.add_image(), "1.1": layout.add_image(), "latest": layout.add_image()}
    for tag, img in tags.items():
        layout.tag(tag, img.descriptor)
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:{tag}",
               f"docker://{registry.host}/team/app:{tag}")
    assert _tags(registry, "team/app") == sorted(tags)

    # registry -> dir: one directory per tag
    out = tmp_path / "mirror"
    skopeo("sync", "--src", "docker", "--dest", "dir", "--src-tls-verify=false",
           f"{registry.host}/team/app", str(out))
    synced = sorted(p.name for p in out.iterdir())
    assert synced == [f"app:{t}" for t in sorted(tags)], synced
    for tag, img in tags.items():
        assert (out / f"app:{tag}" / "manifest.json").read_bytes() == img.manifest_bytes

    # dir -> registry, into another repository
    skopeo("sync", "--src", "dir", "--dest", "docker", "--dest-tls-verify=false",
           str(out), f"{registry.host}/restored")
    assert _tags(registry, "restored/app") == sorted(tags)
    for tag, img in tags.items():
        assert _manifest(registry, "restored/app", tag) == img.manifest_bytes

    # registry -> registry
    skopeo("sync", "--src", "docker", "--dest", "docker", "--src-tls-verify=false", "--dest-tls-verify=false",
           f"{registry.host}/team/app", f"{registry.host}/copy")
    assert _tags(registry, "copy/app") == sorted(tags)
    for tag, img in tags.items():
        assert _manifest(registry, "copy/app", tag) == img.manifest_bytes
        for _, digest, data in img.layers:
            b = requests.get(f"{registry.url}/v2/copy/app/blobs/{digest}", timeout=30)
            assert b.status_code == 200 and b.content == data
    catalog = requests.get(f"{registry.url}/v2/_catalog", timeout=30).json()["repositories"]
    assert catalog == ["copy/app", "restored/app", "team/app"]


@pytest.mark.compat("skopeo", "copy registry → oci: converting Docker schema 2 to OCI")
def test_copy_docker_format_back_to_oci_layout(registry, skopeo, tmp_path):
    layout = OciLayout(tmp_path / "layout")
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    dest = f"docker://{registry.host}/fmt/app:v2s2"
    skopeo("copy", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{layout.path}:v1", dest)
    out = tmp_path / "back"
    skopeo("copy", "--src-tls-verify=false", "--format", "oci", dest, f"oci:{out}:back")
    index = json.loads((out / "index.json").read_text())
    manifest = json.loads((out / "blobs" / "sha256" / index["manifests"][0]["digest"].split(":")[1]).read_bytes())
    assert [l["digest"] for l in manifest["layers"]] == img.layer_digests
    for _, digest, data in img.layers:
        assert (out / "blobs" / "sha256" / digest.split(":")[1]).read_bytes() == data
