"""`registryctl migrate`: a registryd on the filesystem and SQLite is filled over HTTP (Docker
schema 2, an OCI index with two platforms, an artifact with a subject, a layer shared by two
repositories), stopped, and copied into real PostgreSQL and S3 (Ceph RGW); registryd on the
copy serves the same tags, manifest digests and blobs. Then back into a fresh filesystem and
SQLite, compared again. Also a migration killed midway and completed by a second run that
copies only the rest, a corrupt source blob reported with what needs it while everything else
is copied, a dry run that changes nothing, and bad configurations."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import (DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, blob_file, descriptor, http, index_body, make_image,
                     put_manifest, sha256)
from postgres import pg_server  # noqa: F401  (fixture)
from registry import RegistryProcess, default_config, free_port
from registryctl import registryctl, registryctl_binary
from s3 import s3_server  # noqa: F401  (fixture)

ACCEPT = {"Accept": ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST,
                               "application/vnd.docker.distribution.manifest.list.v2+json"])}


def fill(reg) -> None:
    make_image(reg, "team/docker-app", tag="v1", media_type=DOCKER_MANIFEST)
    children = [make_image(reg, "team/multi", tag=None) for _ in range(2)]
    assert put_manifest(reg, "team/multi", "latest", index_body(OCI_INDEX, children), OCI_INDEX).status_code == 201
    subject = make_image(reg, "team/signed", tag="v1")
    # The referrer's blobs: an empty-ish config and one small layer; pushed by digest.
    make_image(reg, "team/signed", tag=None, layer_sizes=(100,), subject=descriptor(OCI_MANIFEST, subject.body))
    shared = make_image(reg, "other/app", tag="v1")
    # The same layer in a second repository (mounted), and a second tag on one manifest.
    mounted = http("POST", reg, f"/v2/other/copy/blobs/uploads/?mount={sha256(shared.layers[0])}&from=other/app")
    assert mounted.status_code == 201, mounted.text
    assert put_manifest(reg, "other/app", "stable", shared.body, OCI_MANIFEST).status_code == 201


def snapshot(reg) -> dict:
    """Everything a client sees: per repository its tags (with digests), every manifest
    reachable from them (index children, referrers) with its media type, and every blob those
    manifests name, each fetched and hashed."""
    result = {}
    for name in http("GET", reg, "/v2/_catalog").json()["repositories"]:
        tags = http("GET", reg, f"/v2/{name}/tags/list").json()["tags"] or []
        entry = {"tags": {}, "manifests": {}, "blobs": {}}
        pending = []
        for tag in tags:
            resp = http("GET", reg, f"/v2/{name}/manifests/{tag}", headers=ACCEPT)
            assert resp.status_code == 200, resp.text
            entry["tags"][tag] = resp.headers["Docker-Content-Digest"]
            pending.append(resp.headers["Docker-Content-Digest"])
        while pending:
            digest = pending.pop()
            if digest in entry["manifests"]:
                continue
            resp = http("GET", reg, f"/v2/{name}/manifests/{digest}", headers=ACCEPT)
            assert resp.status_code == 200 and sha256(resp.content) == digest, resp.text
            entry["manifests"][digest] = resp.headers["Content-Type"]
            doc = json.loads(resp.content)
            pending += [child["digest"] for child in doc.get("manifests", [])]
            for blob in ([doc["config"]] if "config" in doc else []) + doc.get("layers", []):
                data = http("GET", reg, f"/v2/{name}/blobs/{blob['digest']}").content
                entry["blobs"][blob["digest"]] = sha256(data)
            referrers = http("GET", reg, f"/v2/{name}/referrers/{digest}").json()
            pending += [m["digest"] for m in referrers["manifests"]]
        result[name] = entry
    return result


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A stopped filesystem+SQLite registry with content, and what a client saw of it."""
    reg = RegistryProcess(tmp_path_factory.mktemp("source")).start()
    try:
        fill(reg)
        seen = snapshot(reg)
    finally:
        reg.stop()
    assert sum(len(e["manifests"]) for e in seen.values()) == 7  # docker, 2 children + index, subject + referrer, app
    return reg, seen


def pg_s3_registry(tmp_path: Path, pg, s3, name: str) -> RegistryProcess:
    """A registry with blobs in a fresh bucket and metadata in a fresh, migrated database."""
    port = free_port()
    bucket = s3.make_bucket()
    database = pg.make_database()
    config = f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {tmp_path / name / 'data'}
{s3.config(bucket, redirect=False)}  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
{pg.config(database)}"""
    reg = RegistryProcess(tmp_path / name, config_text=config)
    reg.port = port
    reg.bucket = bucket
    reg.database = database
    registryctl("database", "migrate", "up", config=reg.config_path, check=True)
    return reg


def fs_registry(tmp_path: Path, name: str) -> RegistryProcess:
    return RegistryProcess(tmp_path / name)


def migrate(source: RegistryProcess, destination: RegistryProcess, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = subprocess.run(
        [registryctl_binary(), "migrate", "--from", str(source.config_path), "--to", str(destination.config_path),
         "--json", *extra], capture_output=True, text=True, timeout=600)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result, report


def seen_by(reg: RegistryProcess) -> dict:
    reg.start()
    try:
        return snapshot(reg)
    finally:
        reg.stop()


def blob_files(reg: RegistryProcess) -> dict:
    return {p: p.read_bytes() for p in (reg.root / "blobs").rglob("*") if p.is_file()}


def test_to_postgres_and_s3_and_back_with_the_same_digests(tmp_path, source, pg_server, s3_server):
    src, expected = source
    before = blob_files(src)
    cloud = pg_s3_registry(tmp_path, pg_server, s3_server, "cloud")
    result, report = migrate(src, cloud)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["problems"] == [] and report["repositories"] == 5
    assert report["manifestsCopied"] == 7 and report["tagsCopied"] == 5
    assert report["blobsCopied"] > 0 and report["blobsShared"] == 1  # the mounted layer: copied once
    assert report["bytesVerified"] == report["bytesCopied"]
    # The source is only read.
    assert blob_files(src) == before
    # Rows and objects are where a client cannot see them: in PostgreSQL and the bucket.
    assert int(pg_server.psql("SELECT count(*) FROM blob", dbname=cloud.database)) == report["blobsCopied"]
    assert len([k for k in s3_server.keys(cloud.bucket) if k.endswith("/data")]) == report["blobsCopied"]
    assert seen_by(cloud) == expected

    # A second run finds everything there.
    again, report2 = migrate(src, cloud)
    assert again.returncode == 0, again.stdout + again.stderr
    assert report2["blobsCopied"] == 0 and report2["manifestsCopied"] == 0 and report2["tagsCopied"] == 0
    assert report2["manifestsSkipped"] == 7 and report2["tagsSkipped"] == 5
    assert report2["blobsSkipped"] == report["blobsCopied"] + report["blobsShared"]

    # And back, into a fresh filesystem and SQLite.
    home = fs_registry(tmp_path, "home")
    back, report3 = migrate(cloud, home)
    assert back.returncode == 0, back.stdout + back.stderr
    assert report3["problems"] == [] and report3["blobsCopied"] == report["blobsCopied"]
    assert seen_by(home) == expected
    for entry in expected.values():
        for digest in entry["blobs"]:
            assert sha256(blob_file(home, digest).read_bytes()) == digest
    assert registryctl("fsck", config=home.config_path).returncode == 0


def test_a_migration_killed_midway_is_completed_by_a_second_run(tmp_path, pg_server, s3_server):
    src = RegistryProcess(tmp_path / "many").start()
    try:
        for i in range(16):
            make_image(src, f"many/app{i}", tag="v1", layer_sizes=(3 << 20, 1 << 20))
        expected = snapshot(src)
    finally:
        src.stop()
    total = 16 * 3
    cloud = pg_s3_registry(tmp_path, pg_server, s3_server, "cloud")
    proc = subprocess.Popen([registryctl_binary(), "migrate", "--from", str(src.config_path), "--to",
                             str(cloud.config_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if int(pg_server.psql("SELECT count(*) FROM blob", dbname=cloud.database)) >= 6:
                break
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = int(pg_server.psql("SELECT count(*) FROM blob", dbname=cloud.database))
    assert 0 < done < total, f"{done} of {total} blobs copied before the kill"
    assert int(pg_server.psql("SELECT count(*) FROM manifest", dbname=cloud.database)) == 0

    result, report = migrate(src, cloud)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["problems"] == []
    # Only the remainder: what the first run recorded is skipped, not copied again (a blob
    # whose bytes landed but whose row did not is linked without a second copy).
    assert report["blobsSkipped"] == done
    assert report["blobsCopied"] + report["blobsShared"] == total - done
    assert report["manifestsCopied"] == 16 and report["tagsCopied"] == 16
    assert seen_by(cloud) == expected


def test_a_corrupt_source_blob_is_reported_and_the_rest_is_copied(tmp_path, source):
    src, expected = source
    broken = RegistryProcess(tmp_path / "broken")
    shutil.copytree(src.root, broken.root)
    docker = expected["team/docker-app"]
    manifest = docker["tags"]["v1"]
    layer = sorted(d for d in docker["blobs"])[0]
    path = blob_file(broken, layer)
    path.write_bytes(path.read_bytes()[:100])
    home = fs_registry(tmp_path, "home")
    result, report = migrate(broken, home)
    assert result.returncode == 1, result.stdout + result.stderr
    corrupt = [p for p in report["problems"] if p["kind"] == "corrupt blob"]
    assert [(p["repository"], p["reference"]) for p in corrupt] == [("team/docker-app", layer)]
    assert f"team/docker-app@{manifest} (tags v1)" in corrupt[0]["detail"]
    assert ("manifest not copied", "team/docker-app", manifest) in {
        (p["kind"], p["repository"], p["reference"]) for p in report["problems"]}
    assert ("tag not copied", "team/docker-app", "v1") in {
        (p["kind"], p["repository"], p["reference"]) for p in report["problems"]}
    # The text summary names them too.
    text = subprocess.run([registryctl_binary(), "migrate", "--from", str(broken.config_path), "--to",
                           str(home.config_path)], capture_output=True, text=True, timeout=300)
    assert text.returncode == 1 and f"corrupt blob: team/docker-app {layer}" in text.stdout
    seen = seen_by(home)
    assert "team/docker-app" not in seen or seen["team/docker-app"]["tags"] == {}
    assert {k: v for k, v in seen.items() if k != "team/docker-app"} == \
        {k: v for k, v in expected.items() if k != "team/docker-app"}


def test_a_dry_run_changes_nothing(tmp_path, source, pg_server, s3_server):
    src, _ = source
    cloud = pg_s3_registry(tmp_path, pg_server, s3_server, "cloud")
    result, report = migrate(src, cloud, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert report["dryRun"] is True and report["blobsCopied"] > 0 and report["manifestsCopied"] == 7
    assert report["bytesVerified"] > 0
    for table in ("repository", "blob", "manifest", "tag"):
        assert pg_server.psql(f"SELECT count(*) FROM {table}", dbname=cloud.database) == "0"
    assert s3_server.keys(cloud.bucket) == []


def test_bad_configurations_exit_2(tmp_path, source):
    src, _ = source
    missing = subprocess.run([registryctl_binary(), "migrate", "--from", str(src.config_path), "--to",
                              str(tmp_path / "nope.yml")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2, missing.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 0.1\nstorage: [nonsense\n")
    result = subprocess.run([registryctl_binary(), "migrate", "--from", str(bad), "--to", str(src.config_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    same = subprocess.run([registryctl_binary(), "migrate", "--from", str(src.config_path), "--to",
                           str(src.config_path)], capture_output=True, text=True, timeout=60)
    assert same.returncode == 2 and "same metadata store" in same.stderr
    # Another configuration over the same SQLite file (blobs in S3 instead) is refused too.
    other = tmp_path / "other.yml"
    other.write_text(src.config_path.read_text().replace("  delete:\n", "  s3:\n    bucket: b\n    region: us-east-1\n"
                                                          "    regionendpoint: http://127.0.0.1:9\n  delete:\n", 1))
    assert "s3:" in other.read_text()
    shared = subprocess.run([registryctl_binary(), "migrate", "--from", str(src.config_path), "--to", str(other)],
                            capture_output=True, text=True, timeout=60)
    assert shared.returncode == 2 and "same metadata store" in shared.stderr, shared.stderr


def test_sqlite_to_postgres_keeping_the_bucket_moves_only_the_metadata(tmp_path, pg_server, s3_server):
    bucket = s3_server.make_bucket()
    port = free_port()
    src = RegistryProcess(tmp_path / "single", config_text=f"""version: 0.1
storage:
  filesystem:
    rootdirectory: {tmp_path / 'single' / 'data'}
{s3_server.config(bucket, redirect=False)}http:
  addr: 127.0.0.1:{port}
  headers:
    X-Content-Type-Options: [nosniff]
""")
    src.port = port
    src.start()
    try:
        fill(src)
        expected = snapshot(src)
    finally:
        src.stop()
    keys = sorted(s3_server.keys(bucket))
    cloud = pg_s3_registry(tmp_path, pg_server, s3_server, "cloud")
    cloud.config_path.write_text(cloud.config_path.read_text().replace(f"bucket: {cloud.bucket}", f"bucket: {bucket}"))
    result, report = migrate(src, cloud)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every blob verified, none copied: the bytes are where they were.
    assert report["blobsCopied"] == 0 and report["blobsShared"] == 18 and report["bytesVerified"] > 0
    assert report["manifestsCopied"] == 7 and report["problems"] == []
    assert sorted(s3_server.keys(bucket)) == keys
    assert seen_by(cloud) == expected


def test_while_the_source_serves_with_progress_on_a_terminal(tmp_path, source):
    src, expected = source
    live = RegistryProcess(tmp_path / "live")
    shutil.copytree(src.root, live.root)
    live.start()
    try:
        home = fs_registry(tmp_path, "home")
        # Under script(1) stderr is a terminal: the progress line is drawn there.
        command = (f"{registryctl_binary()} migrate --from {live.config_path} --to {home.config_path}")
        result = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout
        assert re.search(r"\[#{30}\] (\d+)/\1 blobs, [0-9.]+ KiB of [0-9.]+ KiB, .*/s, \d+s left", result.stdout), \
            result.stdout
        assert "0 problems" in result.stdout
        # Without a terminal, no progress line.
        quiet, report = migrate(live, home)
        assert quiet.returncode == 0 and quiet.stderr == "" and report["blobsCopied"] == 0
        # The source went on serving; what is pushed and re-tagged meanwhile comes with the next run.
        assert snapshot(live) == expected
        make_image(live, "team/new", tag="v1")
        moved = make_image(live, "other/app", tag="stable")
        again, report = migrate(live, home)
        assert again.returncode == 0, again.stdout + again.stderr
        assert report["manifestsCopied"] == 2 and report["tagsCopied"] == 2 and report["blobsCopied"] == 6
        now = snapshot(live)
        assert now["other/app"]["tags"]["stable"] == moved.digest
    finally:
        live.stop()
    assert seen_by(home) == now


MIB = 1 << 20
LARGE_BLOB_MIB = 256
# Far below the blob: a migration that held a blob in memory would blow through it.
MIGRATE_PEAK_LIMIT_MIB = 128


def large_body(hasher):
    block = hashlib.sha256(b"migrate").digest() * (MIB // 32)
    for index in range(LARGE_BLOB_MIB):
        chunk = index.to_bytes(8, "big") + block[8:]
        hasher.update(chunk)
        yield chunk


def measured_migrate(source: RegistryProcess, destination: RegistryProcess, tmp_path: Path) -> tuple[dict, float]:
    """Migrates under /usr/bin/time; returns the report and registryctl's peak RSS in MiB."""
    peak = tmp_path / "peak"
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(peak), registryctl_binary(), "migrate", "--from",
         str(source.config_path), "--to", str(destination.config_path), "--json"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout), int(peak.read_text().split()[-1]) / 1024


def test_a_large_blob_is_streamed_in_flat_memory_both_ways(tmp_path, pg_server, s3_server):
    src = RegistryProcess(tmp_path / "large").start()
    try:
        hasher = hashlib.sha256()
        for _ in large_body(hasher):
            pass
        digest = "sha256:" + hasher.hexdigest()
        response = http("POST", src, f"/v2/big/blobs/uploads/?digest={digest}", data=large_body(hashlib.sha256()),
                        headers={"Content-Type": "application/octet-stream"}, timeout=300)
        assert response.status_code == 201, response.text
    finally:
        src.stop()
    cloud = pg_s3_registry(tmp_path, pg_server, s3_server, "cloud")
    report, up = measured_migrate(src, cloud, tmp_path)  # filesystem -> S3: the file streamed into a multipart upload
    assert report["blobsCopied"] == 1 and report["bytesCopied"] == LARGE_BLOB_MIB * MIB
    home = fs_registry(tmp_path, "home")
    report, down = measured_migrate(cloud, home, tmp_path)  # S3 -> filesystem: streamed through a spool file
    assert report["blobsCopied"] == 1 and report["problems"] == []
    assert up < MIGRATE_PEAK_LIMIT_MIB and down < MIGRATE_PEAK_LIMIT_MIB, f"peak RSS {up:.0f} and {down:.0f} MiB"
    print(f"peak RSS migrating a {LARGE_BLOB_MIB} MiB blob: to S3 {up:.0f} MiB, from S3 {down:.0f} MiB")
    hasher = hashlib.sha256()
    with open(blob_file(home, digest), "rb") as copied:
        while chunk := copied.read(MIB):
            hasher.update(chunk)
    assert "sha256:" + hasher.hexdigest() == digest
