"""registryctl backup DIR while pushing; restore into a fresh root; everything pulls, fsck is clean."""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from helpers import OCI_MANIFEST, http, make_image, uniq
from registry import RegistryProcess, default_config
from registryctl import fsck, registryctl


class Pusher(threading.Thread):
    """Pushes small images into a few repositories until stopped; remembers the finished ones."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.stopping = threading.Event()
        self.pushed: list = []
        self.error: Exception | None = None

    def run(self):
        names = [uniq("busy") for _ in range(3)]
        try:
            i = 0
            while not self.stopping.is_set():
                self.pushed.append(make_image(self.server, names[i % 3], tag=f"t{i}", layer_sizes=(4096, 20_000)))
                i += 1
        except Exception as error:  # reported by the test
            self.error = error


def pull_everything(server) -> int:
    """GETs every tag of every repository and checks each blob's digest; returns the image count."""
    count = 0
    for name in http("GET", server, "/v2/_catalog").json()["repositories"]:
        for tag in http("GET", server, f"/v2/{name}/tags/list").json()["tags"] or []:
            resp = http("GET", server, f"/v2/{name}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
            assert resp.status_code == 200, (name, tag, resp.text)
            doc = resp.json()
            for d in [doc["config"], *doc["layers"]]:
                blob = http("GET", server, f"/v2/{name}/blobs/{d['digest']}")
                assert blob.status_code == 200, (name, tag, d)
                assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == d["digest"]
            count += 1
    return count


def restore(backup: Path, workdir: Path) -> RegistryProcess:
    """The documented restore: copy the backup folder to be the new storage root."""
    server = RegistryProcess(workdir, config_text="placeholder")
    shutil.copytree(backup, server.root)
    server.config_path.write_text(default_config(server.root, server.port))
    return server


def test_backup_while_pushing_restores_completely(registry, tmp_path):
    settled = [make_image(registry, "settled/app", tag=f"v{i}") for i in range(3)]
    pusher = Pusher(registry)
    pusher.start()
    while len(pusher.pushed) < 3 and pusher.error is None:
        pusher.join(0.1)
    done_before = list(pusher.pushed)
    backup = tmp_path / "backup"
    result = registryctl("backup", "--json", str(backup), config=registry.config_path)
    # Pushes go on after the backup (and were going on during it).
    while len(pusher.pushed) < len(done_before) + 3 and pusher.is_alive():
        pusher.join(0.1)
    pusher.stopping.set()
    pusher.join(60)
    assert pusher.error is None, pusher.error
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["linked"] is True and summary["blobs"] >= 9 + 3 * len(done_before)

    restored = restore(backup, tmp_path / "restored").start()
    try:
        images = pull_everything(restored)
        assert images >= len(settled) + len(done_before)
        for image in settled + done_before:
            got = http("GET", restored, f"/v2/{image.name}/manifests/{image.digest}",
                       headers={"Accept": OCI_MANIFEST})
            assert got.content == image.body
        # The restored registry takes pushes.
        make_image(restored, "after/restore", tag="v1")
    finally:
        restored.stop()
    code, report = fsck(restored.config_path)
    assert code == 0, report


def test_backup_to_another_file_system_copies(registry):
    if not Path("/dev/shm").is_dir():
        pytest.skip("no /dev/shm")
    image = make_image(registry, uniq(), tag="v1", layer_sizes=(300_000,))
    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        backup = Path(folder) / "backup"
        result = registryctl("backup", "--json", str(backup), config=registry.config_path)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        if Path(folder).stat().st_dev == registry.root.stat().st_dev:
            pytest.skip("/dev/shm is on the same file system here")
        assert summary["linked"] is False
        assert summary["blobs"] == 2
        assert not list(registry.root.glob("backup-staging-*")), "the staging folder is removed"
        restored = restore(backup, Path(folder) / "restored").start()
        try:
            assert pull_everything(restored) == 1
            assert http("GET", restored, f"/v2/{image.name}/manifests/v1").content == image.body
        finally:
            restored.stop()


def test_backup_refuses_a_folder_that_is_not_empty(registry, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something").write_text("x")
    result = registryctl("backup", str(tmp_path / "full"), config=registry.config_path)
    assert result.returncode == 1
    assert "not empty" in result.stderr
    assert (tmp_path / "full" / "something").read_text() == "x"
