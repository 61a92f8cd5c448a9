"""`registryctl import` under strace: every blob placed in the store (a rename to its content
address) is made durable by a `syncfs` before SQLite's WAL is fsynced with the rows that name
it, and the disk is waited on once per batch, not once per blob."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from registry import RegistryProcess
from registryctl import fsck, registryctl_binary
from test_durability_trace import fd_paths, parse
from test_import import write_small_tree

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def test_blobs_are_synced_before_the_rows_that_name_them(tmp_path):
    source = tmp_path / "distribution"
    write_small_tree(source, 60)  # 600 blobs: three batches
    reg = RegistryProcess(tmp_path / "berth")
    trace = tmp_path / "import.trace"
    result = subprocess.run(
        ["strace", "-f", "-ttt", "-s", "200", "-e", "trace=rename,renameat,renameat2,syncfs,fsync,fdatasync,openat",
         "-o", str(trace), registryctl_binary(), "import", "--from", str(source), "--config", str(reg.config_path)],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    blobs = str(reg.root / "blobs") + "/"
    unsynced = 0  # blobs renamed into place since the last syncfs
    placed = syncs = wal_commits = 0
    for event, path in fd_paths(parse(trace.read_text())):
        if event.name.startswith("rename") and event.result == "0":
            names = re.findall(r'"([^"]*)"', event.args)
            if names and names[-1].startswith(blobs):
                unsynced += 1
                placed += 1
        elif event.name == "syncfs" and event.result == "0":
            unsynced = 0
            syncs += 1
        elif event.name in ("fsync", "fdatasync") and path is not None and path.endswith("-wal"):
            assert unsynced == 0, f"the WAL was committed with {unsynced} placed blobs not yet synced: {event}"
            if placed:  # not the migrations of the fresh store
                wal_commits += 1
    assert placed == 600
    assert 3 <= syncs <= 4, syncs
    # A commit per batch of blobs, and per repository for its manifests and for its tags (and
    # the checkpoint at the end), where one at a time made one per blob, manifest and tag.
    assert 3 + 2 * 20 <= wal_commits <= 3 + 2 * 20 + 3, wal_commits
    code, report = fsck(reg.config_path)
    assert code == 0 and report["blobsChecked"] == 600
