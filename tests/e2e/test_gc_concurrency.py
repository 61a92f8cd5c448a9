"""registryctl gc running in a loop while the real docker client pushes new images:
with the default grace no push is refused and nothing is lost; with --grace 0s a push may be
refused (and is retried), but no accepted image may ever miss a blob."""
from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from registryctl import fsck, registryctl  # noqa: E402

from e2e_support import ALL_MANIFEST_TYPES, output  # noqa: E402

IMAGES = 5


def verify_complete(registry, repository: str, tag: str) -> None:
    """Every byte of the image is served and matches its digest."""
    accept = {"Accept": ", ".join(ALL_MANIFEST_TYPES)}
    reply = requests.get(f"{registry.url}/v2/{repository}/manifests/{tag}", headers=accept, timeout=30)
    assert reply.status_code == 200, f"{repository}:{tag}: {reply.status_code} {reply.text}"
    manifest = json.loads(reply.content)
    for descriptor in [manifest["config"], *manifest["layers"]]:
        blob = requests.get(f"{registry.url}/v2/{repository}/blobs/{descriptor['digest']}", timeout=60)
        assert blob.status_code == 200, f"{repository}:{tag} lost {descriptor['digest']}: {blob.status_code}"
        assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == descriptor["digest"]


def push_while_collecting(docker, registry, tmp_path, grace: str, attempts: int):
    refs = []
    for index in range(IMAGES):
        ref = f"{registry.host}/gc{grace.replace('s', '')}/app{index}:v1"
        docker.build_image(ref, tmp_path, sizes=(32 * 1024 + index, 200 * 1024 + index))
        refs.append(ref)

    stop = threading.Event()
    runs: list[dict] = []
    failures: list[str] = []

    def collect():
        while not stop.is_set():
            result = registryctl("gc", "--json", "--grace", grace, "--delete-untagged",
                                 config=registry.config_path)
            if result.returncode != 0:
                failures.append(result.stderr)
                return
            runs.append(json.loads(result.stdout))
            time.sleep(0.05)

    collector = threading.Thread(target=collect)
    collector.start()
    accepted, refused = [], 0
    try:
        for ref in refs:
            for _ in range(attempts):
                pushed = docker.docker("push", ref, check=False, timeout=300)
                if pushed.returncode == 0:
                    accepted.append(ref)
                    break
                refused += 1
                # Refused because gc removed a blob the push relied on: at the manifest PUT
                # (MANIFEST_BLOB_UNKNOWN, "blob unknown") or when docker re-checks a layer it
                # just uploaded (BLOB_UNKNOWN, "unknown blob"). Anything else is a failure.
                text = output(pushed).lower()
                assert "blob unknown" in text or "unknown blob" in text, output(pushed)
    finally:
        stop.set()
        collector.join()
    assert failures == [], failures
    assert len(runs) >= 2, "gc must actually run during the pushes"
    return refs, accepted, refused, runs


def test_default_grace_loses_nothing_and_refuses_nothing(docker, registry, tmp_path):
    refs, accepted, refused, runs = push_while_collecting(docker, registry, tmp_path, "1h", attempts=1)
    assert accepted == refs and refused == 0
    for ref in accepted:
        repository, tag = ref.split("/", 1)[1].rsplit(":", 1)
        verify_complete(registry, repository, tag)
    code, report = fsck(registry.config_path)
    assert code == 0, report
    # And docker itself pulls one back after its local copy is gone.
    docker.docker("rmi", "-f", refs[0])
    docker.docker("pull", refs[0])


def test_zero_grace_may_refuse_but_never_accepts_an_incomplete_image(docker, registry, tmp_path):
    refs, accepted, refused, runs = push_while_collecting(docker, registry, tmp_path, "0s", attempts=6)
    assert accepted, "no push was ever accepted"
    for ref in accepted:
        repository, tag = ref.split("/", 1)[1].rsplit(":", 1)
        verify_complete(registry, repository, tag)
    code, report = fsck(registry.config_path)
    assert code == 0, report
    print(f"gc runs: {len(runs)}, pushes refused and retried: {refused}, accepted: {len(accepted)}/{len(refs)}")
