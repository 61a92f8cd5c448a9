"""A full disk, a file system turned read-only in the middle of an upload, and a database
held locked: each gets a clear 5xx OCI error and a log line, nothing partial stays, reads go
on working, and writes succeed again once the cause is gone.

Needs root (it mounts a small tmpfs); skipped otherwise."""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from helpers import (OCI_MANIFEST, assert_error, assert_status, describe, http, location_path,
                     make_image, push_blob, rand_bytes, sha256, start_upload, uniq, with_digest)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")

OCTET = {"Content-Type": "application/octet-stream"}


def mount(*args):
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 32 MiB tmpfs, unmounted afterwards."""
    point = tmp_path / "disk"
    point.mkdir()
    mount("-t", "tmpfs", "-o", "size=32m", "tmpfs", str(point))
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def registry_at(make_registry, root: Path):
    """A started registryd whose storage root is `root`."""
    reg = make_registry()
    reg.config_path.write_text(reg.config_path.read_text().replace(str(reg.root), str(root)))
    reg.root = root
    return reg.start()


def session_with(reg, name: str, first: bytes) -> str:
    """An upload session holding `first`; its location."""
    loc = location_path(start_upload(reg, name))
    resp = http("PATCH", reg, loc, data=first, headers={**OCTET, "Content-Range": f"0-{len(first) - 1}"})
    assert_status(resp, 202)
    return location_path(resp)


def files_in(path: Path) -> list[str]:
    return [p.name for p in path.iterdir() if not p.name.startswith(".")]


def test_full_disk_answers_507_and_recovers(small_disk, make_registry):
    root = small_disk / "data"
    reg = registry_at(make_registry, root)
    name = uniq("full")
    kept = rand_bytes(1 << 20)
    kept_digest = push_blob(reg, name, kept)
    image = make_image(reg, name, tag="v1", layer_sizes=(1000,))
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * (12 << 20))

    # fill the disk with 4 MiB blobs until one is refused
    failure = None
    for _ in range(20):
        data = rand_bytes(4 << 20)
        resp = http("POST", reg, f"/v2/{name}/blobs/uploads/?digest={sha256(data)}", data=data, headers=OCTET)
        if resp.status_code != 201:
            failure = (resp, data)
            break
    assert failure is not None, "the disk never filled"
    resp, data = failure
    assert_error(resp, 507, "UNAVAILABLE")
    assert "full" in resp.json()["errors"][0]["message"]
    assert "storage is full" in reg.log()
    # nothing partial stays: no staging file, no blob
    assert files_in(root / "uploads") == []
    assert_error(http("HEAD", reg, f"/v2/{name}/blobs/{sha256(data)}"), 404, None)
    # reads keep working
    assert http("GET", reg, f"/v2/{name}/blobs/{kept_digest}").content == kept
    assert http("GET", reg, f"/v2/{name}/manifests/v1").content == image.body
    assert_status(http("GET", reg, "/v2/"), 200)

    ballast.unlink()
    resp = http("POST", reg, f"/v2/{name}/blobs/uploads/?digest={sha256(data)}", data=data, headers=OCTET)
    assert_status(resp, 201)
    assert http("GET", reg, f"/v2/{name}/blobs/{sha256(data)}").content == data
    make_image(reg, name, tag="v2", layer_sizes=(1000,))
    reg.stop()


def test_chunk_that_fills_the_disk_is_rolled_back(small_disk, make_registry):
    reg = registry_at(make_registry, small_disk / "data")
    name = uniq("chunk")
    first = rand_bytes(1000)
    loc = session_with(reg, name, first)
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * (26 << 20))
    big = rand_bytes(8 << 20)
    resp = http("PATCH", reg, loc, data=big, headers={**OCTET, "Content-Range": f"1000-{1000 + len(big) - 1}"})
    assert_error(resp, 507, "UNAVAILABLE")
    resp = http("GET", reg, loc)
    assert_status(resp, 204)
    assert resp.headers["Range"] == "0-999", describe(resp)
    ballast.unlink()
    resp = http("PATCH", reg, loc, data=big, headers={**OCTET, "Content-Range": f"1000-{1000 + len(big) - 1}"})
    assert_status(resp, 202)
    resp = http("PUT", reg, with_digest(location_path(resp), sha256(first + big)))
    assert_status(resp, 201)
    reg.stop()


def test_read_only_remount_in_the_middle_of_an_upload(small_disk, make_registry, tmp_path):
    """The blob store (blobs/, uploads/) sits on a bind mount that is remounted read-only
    between two chunks of an upload. registry.db is a symlink to a folder outside it: a
    mount cannot turn read-only while SQLite holds a file on it open for writing (EBUSY)."""
    store = small_disk / "store"
    store.mkdir()
    bind = tmp_path / "bind"
    bind.mkdir()
    mount("--bind", str(store), str(bind))
    try:
        dbdir = tmp_path / "db"
        dbdir.mkdir()
        (bind / "registry.db").symlink_to(dbdir / "registry.db")
        reg = registry_at(make_registry, bind)
        name = uniq("ro")
        kept = rand_bytes(5000)
        kept_digest = push_blob(reg, name, kept)
        first, rest = rand_bytes(3000), rand_bytes(2000)
        loc = session_with(reg, name, first)

        mount("-o", "remount,bind,ro", str(bind))
        resp = http("PATCH", reg, loc, data=rest, headers={**OCTET, "Content-Range": "3000-4999"})
        assert_error(resp, 503, "UNAVAILABLE")
        assert "read-only" in resp.json()["errors"][0]["message"]
        other = rand_bytes(100)
        resp = http("POST", reg, f"/v2/{name}/blobs/uploads/?digest={sha256(other)}", data=other, headers=OCTET)
        assert_error(resp, 503, "UNAVAILABLE")
        assert "storage is read-only" in reg.log()
        assert http("GET", reg, f"/v2/{name}/blobs/{kept_digest}").content == kept

        mount("-o", "remount,bind,rw", str(bind))
        resp = http("GET", reg, loc)
        assert resp.headers["Range"] == "0-2999", describe(resp)
        resp = http("PATCH", reg, loc, data=rest, headers={**OCTET, "Content-Range": "3000-4999"})
        assert_status(resp, 202)
        resp = http("PUT", reg, with_digest(location_path(resp), sha256(first + rest)))
        assert_status(resp, 201)
        assert http("GET", reg, f"/v2/{name}/blobs/{sha256(first + rest)}").content == first + rest
        reg.stop()
    finally:
        subprocess.run(["umount", "-l", str(bind)], check=False)


def test_locked_database_answers_503_then_recovers(registry):
    """Another process holds SQLite's write lock past the busy timeout (15 s)."""
    name = uniq("busy")
    image = make_image(registry, name, tag=None, push=False, layer_sizes=(100,))
    holder = sqlite3.connect(str(registry.root / "registry.db"), timeout=30, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        resp = http("PUT", registry, f"/v2/{name}/manifests/v1", data=image.body,
                    headers={"Content-Type": OCI_MANIFEST}, timeout=60)
        assert_error(resp, 503, "UNAVAILABLE")
        assert "database" in resp.json()["errors"][0]["message"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "database busy" in registry.log()
    resp = http("PUT", registry, f"/v2/{name}/manifests/v1", data=image.body, headers={"Content-Type": OCI_MANIFEST})
    assert_status(resp, 201)
