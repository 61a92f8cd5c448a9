"""End-to-end: skopeo pushes and pulls OCI and Docker schema 2 images.

The source images are OCI image layouts written by hand (see e2e_support), so
every digest is known before anything reaches the registry.
"""
import json

import pytest
import requests

from e2e_support import (ALL_MANIFEST_TYPES, DOCKER_MANIFEST_V2, OCI_INDEX,
                         OCI_MANIFEST, OciLayout, layout_blob, maybe_gunzip, output,
                         read_layout_ref, sha256_digest)


def _inspect(skopeo, ref, *extra):
    return json.loads(skopeo("inspect", "--tls-verify=false", *extra, ref).stdout)


def _raw(skopeo, ref):
    # --raw prints the manifest bytes exactly as served
    return skopeo("inspect", "--tls-verify=false", "--raw", ref).stdout.encode()


def _http_manifest(registry, repo, ref, accept=ALL_MANIFEST_TYPES):
    return requests.get(f"{registry.url}/v2/{repo}/manifests/{ref}",
                        headers={"Accept": accept}, timeout=30)


def _tags(registry, repo):
    r = requests.get(f"{registry.url}/v2/{repo}/tags/list", timeout=30)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json().get("tags") or []


@pytest.fixture
def layout(tmp_path):
    return OciLayout(tmp_path / "src-layout")


@pytest.mark.compat("skopeo", "copy oci: → registry → oci: (OCI format)")
@pytest.mark.compat("skopeo", "inspect")
def test_oci_push_inspect_and_copy_back(registry, skopeo, layout, tmp_path):
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    dest = f"docker://{registry.host}/oci/app:1"

    out = skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1", dest)
    assert "Writing manifest to image destination" in output(out)

    info = _inspect(skopeo, dest)
    assert info["Digest"] == img.manifest_digest
    assert info["Layers"] == img.layer_digests
    assert info["Architecture"] == "amd64"
    assert info["Labels"] == {"org.example.seed": json.loads(img.config_bytes)["config"]["Labels"]["org.example.seed"]}
    assert "1" in info["RepoTags"]

    # The manifest is stored and served byte for byte, with its own media type.
    assert _raw(skopeo, dest) == img.manifest_bytes
    r = _http_manifest(registry, "oci/app", "1")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == OCI_MANIFEST
    assert r.headers["Docker-Content-Digest"] == img.manifest_digest
    assert r.content == img.manifest_bytes
    config = json.loads(skopeo("inspect", "--tls-verify=false", "--config", dest).stdout)
    assert config["rootfs"]["diff_ids"] == [sha256_digest(t) for t in img.uncompressed_layers]

    # Every blob over plain HTTP too.
    for _, digest, data in img.layers:
        b = requests.get(f"{registry.url}/v2/oci/app/blobs/{digest}", timeout=30)
        assert b.status_code == 200
        assert b.content == data

    # And back into a new OCI layout: identical manifest, config and layers.
    out_dir = tmp_path / "roundtrip"
    skopeo("copy", "--src-tls-verify=false", dest, f"oci:{out_dir}:back")
    desc = read_layout_ref(out_dir, "back")
    assert desc["digest"] == img.manifest_digest
    assert desc["mediaType"] == OCI_MANIFEST
    assert layout_blob(out_dir, img.manifest_digest) == img.manifest_bytes
    assert layout_blob(out_dir, img.config_digest) == img.config_bytes
    for _, digest, data in img.layers:
        assert layout_blob(out_dir, digest) == data, f"layer {digest} differs after the round trip"


@pytest.mark.compat("skopeo", "copy oci: → registry (Docker schema 2) → dir:")
def test_v2s2_push_of_the_same_image(registry, skopeo, layout, tmp_path):
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    # the same image in OCI format in one repository and Docker schema 2 in another
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
           f"docker://{registry.host}/oci/app:1")
    dest = f"docker://{registry.host}/docker/app:1"
    skopeo("copy", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{layout.path}:v1", dest)

    raw = _raw(skopeo, dest)
    manifest = json.loads(raw)
    assert manifest["mediaType"] == DOCKER_MANIFEST_V2
    assert manifest["config"]["digest"] == img.config_digest
    assert [l["digest"] for l in manifest["layers"]] == img.layer_digests
    assert sha256_digest(raw) != img.manifest_digest

    r = _http_manifest(registry, "docker/app", "1")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == DOCKER_MANIFEST_V2
    assert r.headers["Docker-Content-Digest"] == sha256_digest(r.content) == sha256_digest(raw)

    info = _inspect(skopeo, dest)
    assert info["Digest"] == sha256_digest(raw)
    assert info["Layers"] == img.layer_digests

    # Both manifests stay as they are, each in its repository.
    assert _raw(skopeo, f"docker://{registry.host}/oci/app:1") == img.manifest_bytes

    # Copy the v2s2 image back out unchanged (the dir: transport keeps the
    # Docker format; oci: would convert the config) and compare byte for byte.
    out_dir = tmp_path / "roundtrip"
    skopeo("copy", "--src-tls-verify=false", dest, f"dir:{out_dir}")
    assert (out_dir / "manifest.json").read_bytes() == raw
    assert (out_dir / img.config_digest.split(":")[1]).read_bytes() == img.config_bytes
    for _, digest, data in img.layers:
        assert (out_dir / digest.split(":")[1]).read_bytes() == data


@pytest.mark.compat("skopeo", "list-tags")
def test_list_tags(registry, skopeo, layout):
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    for tag in ("1", "1.0", "latest"):
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
               f"docker://{registry.host}/oci/app:{tag}")
    listed = json.loads(skopeo("list-tags", "--tls-verify=false",
                               f"docker://{registry.host}/oci/app").stdout)
    assert listed["Repository"] == f"{registry.host}/oci/app"
    assert sorted(listed["Tags"]) == ["1", "1.0", "latest"]
    assert sorted(_tags(registry, "oci/app")) == ["1", "1.0", "latest"]


def test_list_tags_of_missing_repository_fails(registry, skopeo):
    proc = skopeo("list-tags", "--tls-verify=false", f"docker://{registry.host}/nothing/here",
                  check=False)
    assert proc.returncode != 0
    text = output(proc).lower()
    assert "unknown" in text or "not found" in text, text


def test_uncompressed_layer_is_compressed_by_skopeo_and_survives(registry, skopeo, layout, tmp_path):
    img = layout.add_image(plain_second_layer=True)
    layout.tag("v1", img.descriptor)
    dest = f"docker://{registry.host}/plain/app:1"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1", dest)

    manifest = json.loads(_raw(skopeo, dest))
    assert manifest["mediaType"] == OCI_MANIFEST
    assert len(manifest["layers"]) == 2
    assert manifest["layers"][0]["digest"] == img.layer_digests[0]
    # whatever skopeo sent, what comes back decompresses to the original tars
    for desc, tar in zip(manifest["layers"], img.uncompressed_layers):
        b = requests.get(f"{registry.url}/v2/plain/app/blobs/{desc['digest']}", timeout=30)
        assert b.status_code == 200
        assert sha256_digest(b.content) == desc["digest"]
        assert len(b.content) == desc["size"]
        assert maybe_gunzip(b.content) == tar

    out_dir = tmp_path / "roundtrip"
    skopeo("copy", "--src-tls-verify=false", dest, f"oci:{out_dir}:back")
    back = json.loads(layout_blob(out_dir, read_layout_ref(out_dir, "back")["digest"]))
    assert [maybe_gunzip(layout_blob(out_dir, l["digest"])) for l in back["layers"]] == img.uncompressed_layers


@pytest.mark.compat("skopeo", "copy --all of a multi-arch OCI index, both directions")
def test_multi_arch_index_roundtrip(registry, skopeo, layout, tmp_path):
    amd64 = layout.add_image(arch="amd64")
    arm64 = layout.add_image(arch="arm64")
    index_bytes, index_digest = layout.add_index([amd64, arm64])
    layout.tag("multi", {"mediaType": OCI_INDEX, "digest": index_digest, "size": len(index_bytes)})
    dest = f"docker://{registry.host}/multi/app:1"

    skopeo("copy", "--all", "--dest-tls-verify=false", f"oci:{layout.path}:multi", dest)

    assert _raw(skopeo, dest) == index_bytes
    r = _http_manifest(registry, "multi/app", "1")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0].strip() == OCI_INDEX
    assert r.headers["Docker-Content-Digest"] == index_digest
    for img in (amd64, arm64):
        m = _http_manifest(registry, "multi/app", img.manifest_digest)
        assert m.status_code == 200, m.text
        assert m.content == img.manifest_bytes
    arm = _inspect(skopeo, dest, "--override-arch", "arm64")
    assert arm["Architecture"] == "arm64"
    assert arm["Layers"] == arm64.layer_digests
    amd = _inspect(skopeo, dest, "--override-arch", "amd64")
    assert amd["Layers"] == amd64.layer_digests

    out_dir = tmp_path / "roundtrip"
    skopeo("copy", "--all", "--src-tls-verify=false", dest, f"oci:{out_dir}:back")
    assert read_layout_ref(out_dir, "back")["digest"] == index_digest
    for img in (amd64, arm64):
        assert layout_blob(out_dir, img.manifest_digest) == img.manifest_bytes
        assert layout_blob(out_dir, img.config_digest) == img.config_bytes
        for _, digest, data in img.layers:
            assert layout_blob(out_dir, digest) == data


@pytest.mark.compat("skopeo", "copy between repositories")
def test_copy_between_repositories_of_the_registry(registry, skopeo, layout):
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
           f"docker://{registry.host}/src/app:1")
    skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
           f"docker://{registry.host}/src/app:1", f"docker://{registry.host}/dst/deeper/app:2")
    assert _raw(skopeo, f"docker://{registry.host}/dst/deeper/app:2") == img.manifest_bytes
    for _, digest, data in img.layers:
        b = requests.get(f"{registry.url}/v2/dst/deeper/app/blobs/{digest}", timeout=30)
        assert b.status_code == 200
        assert b.content == data
    assert _tags(registry, "dst/deeper/app") == ["2"]


@pytest.mark.compat("skopeo", "delete")
def test_delete_image(registry, skopeo, layout):
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    dest = f"docker://{registry.host}/oci/app:gone"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1", dest)
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
           f"docker://{registry.host}/other/app:kept")
    assert "gone" in _tags(registry, "oci/app")

    skopeo("delete", "--tls-verify=false", dest)

    proc = skopeo("inspect", "--tls-verify=false", dest, check=False)
    assert proc.returncode != 0
    assert "manifest unknown" in output(proc).lower() or "not found" in output(proc).lower(), output(proc)
    r = _http_manifest(registry, "oci/app", img.manifest_digest)
    assert r.status_code == 404, (r.status_code, r.text)
    assert "gone" not in _tags(registry, "oci/app")
    # deleting in one repository leaves the other alone
    assert _raw(skopeo, f"docker://{registry.host}/other/app:kept") == img.manifest_bytes


@pytest.mark.compat("docker", "pull of images pushed by skopeo (OCI and Docker schema 2)")
def test_docker_pulls_what_skopeo_pushed(registry, skopeo, docker, layout):
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
           f"docker://{registry.host}/fromskopeo/oci:1")
    skopeo("copy", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
           f"docker://{registry.host}/fromskopeo/v2s2:1")
    for repo in ("fromskopeo/oci", "fromskopeo/v2s2"):
        ref = f"{registry.host}/{repo}:1"
        out = output(docker.docker("pull", ref))
        assert "Digest: sha256:" in out
        # docker's image ID is the config digest
        assert docker.image_id(ref) == img.config_digest
        docker.docker("rmi", ref)


def test_skopeo_reads_what_docker_pushed(registry, skopeo, docker, tmp_path):
    ref = f"{registry.host}/fromdocker/app:v3"
    image_id = docker.build_image(ref, tmp_path)
    push = output(docker.docker("push", ref))
    pushed_digest = push.split("v3: digest: ")[1].split()[0]
    info = _inspect(skopeo, f"docker://{ref}")
    assert info["Digest"] == pushed_digest
    assert len(info["Layers"]) == 3
    out_dir = tmp_path / "fromdocker"
    skopeo("copy", "--src-tls-verify=false", f"docker://{ref}", f"dir:{out_dir}")
    raw = (out_dir / "manifest.json").read_bytes()
    assert sha256_digest(raw) == pushed_digest
    manifest = json.loads(raw)
    assert manifest["mediaType"] == DOCKER_MANIFEST_V2
    # docker's image ID is the config digest
    assert manifest["config"]["digest"] == image_id
    assert sha256_digest((out_dir / image_id.split(":")[1]).read_bytes()) == image_id
    assert [l["digest"] for l in manifest["layers"]] == info["Layers"]
    for l in manifest["layers"]:
        blob = (out_dir / l["digest"].split(":")[1]).read_bytes()
        assert sha256_digest(blob) == l["digest"]
        assert len(blob) == l["size"]
    docker.docker("rmi", ref)
