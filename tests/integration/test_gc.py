"""registryctl gc against a running registryd: what it keeps, what it removes, dry runs,
and a run killed half-way that the next run completes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from helpers import (OCI_INDEX, blob_file, OCI_MANIFEST, descriptor, get_blob, get_manifest, http, index_body,
                     make_image, put_manifest, sha256, assert_status)
from registryctl import fsck, gc, registryctl, registryctl_binary


def image_blobs(image) -> list[str]:
    return [sha256(image.config)] + [sha256(layer) for layer in image.layers]


def test_shared_layer_survives_when_one_image_is_deleted(registry):
    a = make_image(registry, "team/a", tag="v1")
    # b shares a's first layer (pushed again into b's repository) and has its own.
    b_layers = [a.layers[0], os.urandom(4000)]
    from helpers import config_blob, image_manifest, push_blob
    b_config = config_blob("b")
    for blob in [b_config, *b_layers]:
        push_blob(registry, "team/b", blob)
    b_body = image_manifest(OCI_MANIFEST, b_config, b_layers)
    assert_status(put_manifest(registry, "team/b", "v1", b_body, OCI_MANIFEST), 201)
    assert_status(http("DELETE", registry, f"/v2/team/b/manifests/{sha256(b_body)}"), 202)

    report = gc(registry.config_path, "--grace", "0s")
    assert report["manifestsRemoved"] == 0  # the delete already removed b's manifest row
    removed = {blob["digest"] for blob in report["blobs"]}
    assert removed == {sha256(b_config), sha256(b_layers[1])}
    assert report["bytesFreed"] == len(b_config) + len(b_layers[1])
    for digest in removed:
        assert not blob_file(registry, digest).exists()
    for digest in image_blobs(a):
        assert blob_file(registry, digest).exists()
        assert_status(get_blob(registry, "team/a", digest), 200)
    assert_status(get_manifest(registry, "team/a", "v1"), 200)
    assert fsck(registry.config_path)[0] == 0


def test_default_grace_keeps_recent_unreferenced_blobs(registry):
    from helpers import push_blob
    digest = push_blob(registry, "loose", os.urandom(1000))
    report = gc(registry.config_path)
    assert report["blobsRemoved"] == 0
    assert_status(get_blob(registry, "loose", digest), 200)
    report = gc(registry.config_path, "--grace", "0s")
    assert report["blobsRemoved"] == 1
    assert get_blob(registry, "loose", digest).status_code == 404


def test_untagged_manifests_go_only_with_delete_untagged(registry):
    tagged = make_image(registry, "app", tag="v1")
    untagged = make_image(registry, "app", tag=None)  # pushed by digest only
    report = gc(registry.config_path, "--grace", "0s")
    assert report["manifestsRemoved"] == 0
    assert_status(get_manifest(registry, "app", untagged.digest), 200)

    report = gc(registry.config_path, "--grace", "0s", "--delete-untagged")
    assert [m["digest"] for m in report["manifests"]] == [untagged.digest]
    assert get_manifest(registry, "app", untagged.digest).status_code == 404
    assert_status(get_manifest(registry, "app", "v1"), 200)
    shared_blobs = set(image_blobs(tagged))
    for digest in image_blobs(untagged):
        if digest not in shared_blobs:
            assert not blob_file(registry, digest).exists()
    for digest in image_blobs(tagged):
        assert_status(get_blob(registry, "app", digest), 200)
    assert fsck(registry.config_path)[0] == 0


def test_children_of_a_kept_index_survive_delete_untagged(registry):
    children = [make_image(registry, "multi", tag=None) for _ in range(2)]
    body = index_body(OCI_INDEX, children)
    assert_status(put_manifest(registry, "multi", "latest", body, OCI_INDEX), 201)
    report = gc(registry.config_path, "--grace", "0s", "--delete-untagged")
    assert report["manifestsRemoved"] == 0 and report["blobsRemoved"] == 0
    for child in children:
        assert_status(get_manifest(registry, "multi", child.digest), 200)
        for digest in image_blobs(child):
            assert_status(get_blob(registry, "multi", digest), 200)


def test_referrer_of_a_kept_manifest_survives(registry):
    subject = make_image(registry, "signed", tag="v1")
    subject_descriptor = descriptor(OCI_MANIFEST, subject.body)
    signature = make_image(registry, "signed", tag=None, subject=subject_descriptor)
    orphan_subject = descriptor(OCI_MANIFEST, b'{"not":"pushed"}')
    orphan = make_image(registry, "signed", tag=None, subject=orphan_subject)
    report = gc(registry.config_path, "--grace", "0s", "--delete-untagged")
    assert [m["digest"] for m in report["manifests"]] == [orphan.digest]
    assert_status(get_manifest(registry, "signed", signature.digest), 200)
    for digest in image_blobs(signature):
        assert_status(get_blob(registry, "signed", digest), 200)


def test_dry_run_changes_nothing(registry):
    make_image(registry, "dry", tag="keep")
    gone = make_image(registry, "dry", tag=None)
    before = sorted(p.name for p in (registry.root / "blobs").rglob("*") if p.is_file())
    result = registryctl("gc", "--dry-run", "--delete-untagged", "--grace", "0s",
                         config=registry.config_path)
    assert result.returncode == 0, result.stderr
    assert f"would remove manifest dry@{gone.digest}" in result.stdout
    assert "gc (dry run): would remove 1 manifests" in result.stdout
    after = sorted(p.name for p in (registry.root / "blobs").rglob("*") if p.is_file())
    assert before == after
    assert_status(get_manifest(registry, "dry", gone.digest), 200)
    # And the real run then removes exactly what the dry run listed.
    report = gc(registry.config_path, "--delete-untagged", "--grace", "0s")
    assert [m["digest"] for m in report["manifests"]] == [gone.digest]


# A collector killed by SIGKILL after its sweep committed is completed by the next run:
# Tests/RegistryStorageTests/StorageTests.swift kills one in a child process (a Swift exit
# test), so production gc carries no test hook.


def test_stale_upload_sessions_are_purged(make_registry):
    registry = make_registry()
    registry.config_path.write_text(registry.config_path.read_text().replace(
        "  delete:\n    enabled: true\n",
        "  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n      age: 1s\n"))
    registry.start()
    from helpers import start_upload
    assert_status(start_upload(registry, "purge"), 202)
    assert len(list((registry.root / "uploads").iterdir())) == 1
    time.sleep(1.2)
    report = gc(registry.config_path)
    assert report["uploadsRemoved"] == 1
    assert list((registry.root / "uploads").iterdir()) == []


def test_registryd_purges_stale_uploads_itself(make_registry):
    registry = make_registry()
    registry.config_path.write_text(registry.config_path.read_text().replace(
        "  delete:\n    enabled: true\n",
        "  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: true\n"
        "      age: 1s\n      interval: 1s\n"))
    registry.start()
    from helpers import start_upload
    assert_status(start_upload(registry, "purge"), 202)
    deadline = time.time() + 10
    while list((registry.root / "uploads").iterdir()) and time.time() < deadline:
        time.sleep(0.2)
    assert list((registry.root / "uploads").iterdir()) == []
    assert "purged stale uploads" in registry.log()


def test_bad_arguments_exit_2(registry):
    result = registryctl("gc", "--grace", "soon", config=registry.config_path)
    assert result.returncode == 2
    assert "--grace" in result.stderr
    result = subprocess.run([registryctl_binary(), "gc", "--config", "/nonexistent/config.yml"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "/nonexistent/config.yml" in result.stderr
