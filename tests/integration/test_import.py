"""`registryctl import`: a real Distribution (Debian's docker-registry) is filled over HTTP
(Docker schema 2, an OCI index with two platforms, an artifact with a subject), stopped, and
its tree imported into Berth; the same manifests, tags, blobs and referrers come back out.
Also a second run (nothing to do), a tree with a truncated blob and a dangling tag link, an
import killed and completed by a second run (also killed in the middle of a batch of many small
blobs), and an import while registryd serves."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from distribution import DistributionProcess
from helpers import (DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Image, blob_file, config_blob, descriptor, http,
                     image_manifest, index_body, rand_bytes, sha256)
from postgres import pg_server  # noqa: F401  (fixture)
from registry import RegistryProcess, free_port
from registryctl import fsck, registryctl, registryctl_binary
from s3 import s3_server  # noqa: F401  (fixture)

ACCEPT = {"Accept": ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST,
                               "application/vnd.docker.distribution.manifest.list.v2+json"])}


def put_blob(server, name: str, data: bytes) -> str:
    """POST then PUT: Distribution 2.8 does not take a whole blob with POST ?digest=."""
    start = http("POST", server, f"/v2/{name}/blobs/uploads/")
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    done = http("PUT", server, f"{location}{'&' if '?' in location else '?'}digest={sha256(data)}", data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201, done.text
    return sha256(data)


def push(server, name: str, tag: str | None, media_type=OCI_MANIFEST, layer_sizes=(3000, 5000), **extra) -> Image:
    config = config_blob(tag or "")
    layers = [rand_bytes(n) for n in layer_sizes]
    for data in [config] + layers:
        put_blob(server, name, data)
    body = image_manifest(media_type, config, layers, **extra)
    ref = tag or sha256(body)
    resp = http("PUT", server, f"/v2/{name}/manifests/{ref}", data=body, headers={"Content-Type": media_type})
    assert resp.status_code == 201, resp.text
    return Image(name, media_type, body, config, layers)


def fill(server) -> dict:
    """The content every test imports; returns what to expect."""
    expected = {}
    expected["docker"] = push(server, "team/docker-app", "v1", media_type=DOCKER_MANIFEST)
    children = [push(server, "team/multi", None) for _ in range(2)]
    body = index_body(OCI_INDEX, children)
    assert http("PUT", server, "/v2/team/multi/manifests/latest", data=body,
                headers={"Content-Type": OCI_INDEX}).status_code == 201
    expected["index"] = (body, children)
    subject = push(server, "team/signed", "v1")
    signature = push(server, "team/signed", None, layer_sizes=(100,), artifact_type="application/vnd.example.sig",
                     subject=descriptor(OCI_MANIFEST, subject.body))
    expected["signed"] = (subject, signature)
    # The same layer in two repositories: stored once.
    shared = push(server, "other/app", "v1")
    expected["shared"] = shared
    return expected


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distribution")
    dist = DistributionProcess(folder).start()
    try:
        expected = fill(dist)
    finally:
        dist.stop()
    return folder / "data", expected


def berth(tmp_path, name="berth") -> RegistryProcess:
    return RegistryProcess(tmp_path / name)


def run_import(reg: RegistryProcess, tree: Path, *extra) -> tuple[subprocess.CompletedProcess, dict]:
    result = registryctl("import", "--from", str(tree), "--json", *extra, config=reg.config_path, timeout=300)
    return result, json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def check_content(reg: RegistryProcess, expected: dict) -> None:
    docker = expected["docker"]
    resp = http("GET", reg, "/v2/team/docker-app/manifests/v1", headers=ACCEPT)
    assert resp.status_code == 200 and resp.content == docker.body
    assert resp.headers["Content-Type"] == DOCKER_MANIFEST
    for data in [docker.config] + docker.layers:
        assert http("GET", reg, f"/v2/team/docker-app/blobs/{sha256(data)}").content == data
    body, children = expected["index"]
    assert http("GET", reg, "/v2/team/multi/manifests/latest", headers=ACCEPT).content == body
    for child in children:
        assert http("GET", reg, f"/v2/team/multi/manifests/{sha256(child.body)}", headers=ACCEPT).content == child.body
    subject, signature = expected["signed"]
    referrers = http("GET", reg, f"/v2/team/signed/referrers/{sha256(subject.body)}").json()
    assert [m["digest"] for m in referrers["manifests"]] == [sha256(signature.body)]
    assert http("GET", reg, "/v2/other/app/tags/list").json()["tags"] == ["v1"]


def test_import_brings_every_image_over_with_the_same_digests(tmp_path, source_tree):
    tree, expected = source_tree
    reg = berth(tmp_path)
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    result, report = run_import(reg, tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["problems"] == []
    assert report["repositories"] == 4 and report["tagsImported"] == 4
    assert report["manifestsImported"] == 7
    assert report["blobsLinked"] == report["blobsImported"] > 0  # same file system: hard links
    # The source is only read.
    assert {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()} == before
    docker = expected["docker"]
    layer = blob_file(reg, sha256(docker.layers[0]))
    assert os.stat(layer).st_nlink == 2
    reg.start()
    try:
        check_content(reg, expected)
        assert registryctl("fsck", config=reg.config_path).returncode == 0
    finally:
        reg.stop()

    # A second run finds everything there.
    again, report = run_import(reg, tree)
    assert again.returncode == 0, again.stderr
    assert report["blobsImported"] == 0 and report["manifestsImported"] == 0
    assert report["blobsSkipped"] > 0 and report["manifestsSkipped"] == 7


def test_a_corrupt_blob_and_a_dangling_tag_are_reported_and_the_rest_imports(tmp_path, source_tree):
    tree, expected = source_tree
    broken = tmp_path / "broken"
    shutil.copytree(tree, broken)
    docker = expected["docker"]
    digest = sha256(docker.layers[1])
    data = broken / "docker/registry/v2/blobs/sha256" / digest[7:9] / digest[7:] / "data"
    data.write_bytes(data.read_bytes()[:100])  # truncated
    tag = broken / "docker/registry/v2/repositories/other/app/_manifests/tags/ghost/current"
    tag.mkdir(parents=True)
    (tag / "link").write_text("sha256:" + "e" * 64)

    reg = berth(tmp_path)
    result, report = run_import(reg, broken)
    assert result.returncode == 1
    kinds = {(p["kind"], p["repository"], p["reference"]) for p in report["problems"]}
    assert ("corrupt blob", "team/docker-app", digest) in kinds
    assert ("dangling tag", "other/app", "ghost") in kinds
    corrupt = next(p for p in report["problems"] if p["kind"] == "corrupt blob")
    assert "tags v1" in corrupt["detail"] and sha256(docker.body) in corrupt["detail"]
    reg.start()
    try:
        # What needed the bad blob is not there; everything else is.
        assert http("GET", reg, "/v2/team/docker-app/manifests/v1", headers=ACCEPT).status_code == 404
        assert http("GET", reg, "/v2/team/multi/manifests/latest", headers=ACCEPT).status_code == 200
        assert http("GET", reg, "/v2/other/app/tags/list").json()["tags"] == ["v1"]
    finally:
        reg.stop()


def test_an_import_killed_midway_is_completed_by_a_second_run(tmp_path):
    folder = tmp_path / "distribution"
    dist = DistributionProcess(folder).start()
    try:
        images = [push(dist, f"many/app{i}", "v1", layer_sizes=(2 << 20, 1 << 20)) for i in range(12)]
    finally:
        dist.stop()
    reg = berth(tmp_path)
    proc = subprocess.Popen([registryctl_binary(), "import", "--from", str(folder / "data"), "--config",
                             str(reg.config_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.4)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result, report = run_import(reg, folder / "data")
    assert result.returncode == 0, result.stderr
    assert report["problems"] == []
    reg.start()
    try:
        for image in images:
            resp = http("GET", reg, f"/v2/{image.name}/manifests/v1", headers=ACCEPT)
            assert resp.status_code == 200 and resp.content == image.body
            for data in image.layers:
                assert sha256(http("GET", reg, f"/v2/{image.name}/blobs/{sha256(data)}").content) == sha256(data)
        assert registryctl("fsck", config=reg.config_path).returncode == 0
    finally:
        reg.stop()


def write_small_tree(root: Path, images: int) -> dict:
    """A Distribution tree written directly in its layout (as bench/import.py does): images of
    a config and 9 small layers in 20 repositories. Returns {(repo, tag): manifest bytes}."""
    v2 = root / "docker" / "registry" / "v2"

    def blob(data: bytes) -> str:
        digest = sha256(data)
        folder = v2 / "blobs" / "sha256" / digest[7:9] / digest[7:]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").write_bytes(data)
        return digest

    def link(repo: str, kind: str, digest: str) -> None:
        folder = v2 / "repositories" / repo / kind / "sha256" / digest[7:]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "link").write_text(digest)

    manifests = {}
    for i in range(images):
        repo, tag = f"small/app{i % 20}", f"v{i // 20}"
        config = config_blob(f"{repo}:{tag}")
        layers = [rand_bytes(1000 + (i * 9 + j) % 5000) for j in range(9)]
        for data in [config] + layers:
            link(repo, "_layers", blob(data))
        body = image_manifest(OCI_MANIFEST, config, layers)
        digest = blob(body)
        link(repo, "_manifests/revisions", digest)
        current = v2 / "repositories" / repo / "_manifests" / "tags" / tag / "current"
        current.mkdir(parents=True, exist_ok=True)
        (current / "link").write_text(digest)
        manifests[(repo, tag)] = body
    return manifests


def test_an_import_killed_in_the_middle_of_a_batch_leaves_no_row_without_its_bytes(tmp_path):
    """Small blobs are placed, made durable and recorded in batches: killed once some of them
    are placed, the store has no row naming missing bytes (at most placed files no row names
    yet), and a second run completes the import with the same content."""
    source = tmp_path / "distribution"
    manifests = write_small_tree(source, 200)
    reg = berth(tmp_path)
    proc = subprocess.Popen([registryctl_binary(), "import", "--from", str(source), "--config", str(reg.config_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    placed = reg.root / "blobs" / "sha256"
    deadline = time.monotonic() + 120
    try:
        # More than one batch (256 blobs) placed: the kill lands while later batches are hashed,
        # placed or recorded.
        while sum(len(files) for _, _, files in os.walk(placed)) < 300:
            assert proc.poll() is None, "the import finished before it could be killed; make the tree bigger"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    _, report = fsck(reg.config_path)
    assert report["missingFiles"] == [] and report["corruptBlobs"] == [] and report["brokenManifests"] == []
    result, summary = run_import(reg, source)
    assert result.returncode == 0, result.stderr
    assert summary["problems"] == [] and summary["blobsImported"] + summary["blobsSkipped"] + summary["blobsShared"] > 0
    code, report = fsck(reg.config_path)
    assert code == 0 and report["blobsChecked"] == 200 * 10, report
    reg.start()
    try:
        for (repo, tag), body in manifests.items():
            resp = http("GET", reg, f"/v2/{repo}/manifests/{tag}", headers=ACCEPT)
            assert resp.status_code == 200 and resp.content == body
            for layer in json.loads(body)["layers"][:2]:
                blob = http("GET", reg, f"/v2/{repo}/blobs/{layer['digest']}")
                assert blob.status_code == 200 and sha256(blob.content) == layer["digest"]
    finally:
        reg.stop()


def test_import_into_postgres_and_s3_takes_the_copying_path_in_batches(tmp_path, pg_server, s3_server):
    """S3 cannot take a hard link: each blob is copied through an upload's staging (durable on
    its own), and the batches are recorded by PostgreSQL in one transaction each."""
    source = tmp_path / "distribution"
    manifests = write_small_tree(source, 30)
    port = free_port()
    config = f"""version: 0.1
storage:
  filesystem:
    rootdirectory: {tmp_path / 'cloud' / 'data'}
{s3_server.config(s3_server.make_bucket(), redirect=False)}  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
{pg_server.config(pg_server.make_database())}"""
    reg = RegistryProcess(tmp_path / "cloud", config_text=config)
    reg.port = port
    registryctl("database", "migrate", "up", config=reg.config_path, check=True)
    result, report = run_import(reg, source)
    assert result.returncode == 0, result.stderr
    assert report["problems"] == [] and report["blobsImported"] == 300 and report["blobsLinked"] == 0
    assert report["manifestsImported"] == 30 and report["tagsImported"] == 30
    code, check = fsck(reg.config_path)
    assert code == 0 and check["blobsChecked"] == 300, check
    result, again = run_import(reg, source)
    assert result.returncode == 0 and again["blobsImported"] == 0 and again["blobsSkipped"] == 300
    reg.start()
    try:
        for (repo, tag), body in manifests.items():
            resp = http("GET", reg, f"/v2/{repo}/manifests/{tag}", headers=ACCEPT)
            assert resp.status_code == 200 and resp.content == body
    finally:
        reg.stop()


def test_import_while_registryd_serves(tmp_path, source_tree):
    tree, expected = source_tree
    reg = berth(tmp_path).start()
    try:
        # Asked for before the import: a cached "unknown" must not hide the imported image.
        assert http("GET", reg, "/v2/team/docker-app/manifests/v1", headers=ACCEPT).status_code == 404
        result, report = run_import(reg, tree)
        assert result.returncode == 0, result.stderr
        check_content(reg, expected)
    finally:
        reg.stop()


def test_dry_run_changes_nothing_and_a_bad_folder_is_a_usage_error(tmp_path, source_tree):
    tree, _ = source_tree
    reg = berth(tmp_path)
    result, report = run_import(reg, tree, "--dry-run")
    assert result.returncode == 0 and report["dryRun"] is True and report["blobsImported"] > 0
    reg.start()
    try:
        assert http("GET", reg, "/v2/_catalog").json()["repositories"] == []
    finally:
        reg.stop()
    result = registryctl("import", "--from", str(tmp_path / "nothing-here"), config=reg.config_path)
    assert result.returncode == 2 and "not a Distribution storage tree" in result.stderr
