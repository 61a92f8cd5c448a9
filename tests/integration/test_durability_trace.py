"""Power-loss safety, shown from the system calls: registryd runs under strace, and for a
blob push and a manifest push the trace must show, before the 201 is written to the socket,
the staged blob file fsynced, renamed to its content address, its folder fsynced, and
SQLite's WAL fsynced after the rename (the row); for the manifest, a WAL fsync between the
request arriving and its 201."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from helpers import OCI_MANIFEST, image_manifest, rand_bytes, sha256
from registry import default_config, free_port, registryd_binary

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")

SYSCALLS = "fsync,fdatasync,sync_file_range,rename,renameat,renameat2,openat,read,write,writev,sendmsg"
LINE = re.compile(r"^(\d+)\s+([\d.]+)\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)$")


class Event:
    def __init__(self, time: float, name: str, args: str, result: str):
        self.time, self.name, self.args, self.result = time, name, args, result

    def __repr__(self):
        return f"{self.time:.6f} {self.name}({self.args[:120]}) = {self.result}"


def parse(trace: str) -> list[Event]:
    """Completed system calls in completion order; unfinished calls are joined with their
    resumption."""
    pending: dict[str, tuple[str, str]] = {}
    events = []
    for line in trace.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        pid, stamp, rest = match.groups()
        if rest.endswith("<unfinished ...>"):
            call = CALL.match(rest)
            if call:
                pending[pid] = (call.group(1), call.group(2).removesuffix("<unfinished ...>"))
            continue
        resumed = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
        if resumed:
            name, args = pending.pop(pid, (resumed.group(1), ""))
            rest = f"{name}({args}{resumed.group(2)}"
        call = CALL.match(rest)
        if not call or " = " not in rest:
            continue
        args, _, result = call.group(2).rpartition(" = ")
        events.append(Event(float(stamp), call.group(1), args, result.strip()))
    events.sort(key=lambda e: e.time)
    return events


def fd_paths(events: list[Event]) -> list[tuple[Event, str | None]]:
    """Each event with the path of the file descriptor it uses (from the openat that returned it)."""
    fds: dict[str, str] = {}
    out = []
    for event in events:
        path = None
        if event.name == "openat":
            names = re.findall(r'"([^"]*)"', event.args)
            if names and event.result.split()[0].isdigit():
                fds[event.result.split()[0]] = names[0]
        elif event.name in ("fsync", "fdatasync"):
            path = fds.get(event.args.strip().rstrip(")"))
        elif event.name == "sync_file_range":
            path = fds.get(event.args.split(",")[0].strip())
        out.append((event, path))
    return out


@pytest.fixture
def traced_registry(tmp_path):
    """registryd under `strace -f`; both stopped by PID."""
    root, port = tmp_path / "data", free_port()
    config = tmp_path / "config.yml"
    config.write_text(default_config(root, port))
    trace = tmp_path / "trace.txt"
    strace = subprocess.Popen(
        ["strace", "-f", "-ttt", "-s", "48", "-e", f"trace={SYSCALLS}", "-o", str(trace),
         registryd_binary(), "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    registryd_pid = None
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                requests.get(url + "/v2/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        children = Path(f"/proc/{strace.pid}/task/{strace.pid}/children").read_text().split()
        registryd_pid = int(children[0])
        yield url, root, trace
    finally:
        if registryd_pid is not None:
            os.kill(registryd_pid, signal.SIGTERM)
        try:
            strace.wait(30)
        except subprocess.TimeoutExpired:
            if registryd_pid is not None:
                os.kill(registryd_pid, signal.SIGKILL)
            strace.kill()
            strace.wait()


def index_of(events, predicate, after=0, label=""):
    for i in range(after, len(events)):
        if predicate(*events[i]):
            return i
    raise AssertionError(f"not found after event {after}: {label}\n" +
                         "\n".join(repr(e) for e, _ in events[after:after + 60]))


def test_blob_and_manifest_are_durable_before_201(traced_registry):
    url, root, trace = traced_registry
    layer = rand_bytes(100_000)
    config = b'{"architecture":"amd64","os":"linux"}'
    layer_hex = sha256(layer).split(":")[1]
    assert requests.post(f"{url}/v2/traced/app/blobs/uploads/?digest={sha256(config)}", data=config,
                         timeout=30).status_code == 201
    resp = requests.post(f"{url}/v2/traced/app/blobs/uploads/?digest={sha256(layer)}", data=layer, timeout=30)
    assert resp.status_code == 201
    body = image_manifest(OCI_MANIFEST, config, [layer])
    resp = requests.put(f"{url}/v2/traced/app/manifests/v1", data=body,
                        headers={"Content-Type": OCI_MANIFEST}, timeout=30)
    assert resp.status_code == 201
    time.sleep(0.5)
    events = fd_paths(parse(trace.read_text()))
    wal = str(root / "registry.db-wal")
    blob_path = str(root / "blobs" / "sha256" / layer_hex[:2] / layer_hex)
    folder = str(root / "blobs" / "sha256" / layer_hex[:2])

    # the layer: staged file fsynced, renamed into place, folder fsynced, WAL fsynced, then 201
    rename = index_of(events, lambda e, _: e.name.startswith("rename") and blob_path in e.args, label="rename")
    staged = re.findall(r'"([^"]*/uploads/[^"]*)"', events[rename][0].args)[0]
    index_of(events[:rename], lambda e, p: e.name in ("fsync", "fdatasync") and p == staged, label="staged fsync")
    folder_sync = index_of(events, lambda e, p: e.name == "fsync" and p == folder, after=rename, label="dir fsync")
    wal_sync = index_of(events, lambda e, p: e.name in ("fsync", "fdatasync") and p == wal, after=rename,
                        label="WAL fsync")
    created = index_of(events, lambda e, _: e.name in ("write", "writev", "sendmsg") and "HTTP/1.1 201" in e.args,
                       after=rename, label="201")
    assert folder_sync < created and wal_sync < created, (events[folder_sync], events[wal_sync], events[created])

    # the manifest: its request arrives, the WAL is fsynced, then the 201
    arrived = index_of(events, lambda e, _: e.name == "read" and "PUT /v2/traced/app/manifests/v1" in e.args,
                       label="manifest request")
    wal_sync = index_of(events, lambda e, p: e.name in ("fsync", "fdatasync") and p == wal, after=arrived,
                        label="manifest WAL fsync")
    created = index_of(events, lambda e, _: e.name in ("write", "writev", "sendmsg") and "HTTP/1.1 201" in e.args,
                       after=arrived, label="manifest 201")
    assert wal_sync < created


def test_a_large_upload_is_written_back_as_it_arrives(traced_registry):
    """Every 8 MiB an upload starts the writeback of what it wrote (sync_file_range, which does
    not wait), so the fsync before the 201 does not have the whole file left to write; that
    fsync still comes before the rename and the 201."""
    url, root, trace = traced_registry
    layer = rand_bytes(20 * 1024 * 1024 + 4321)
    resp = requests.post(f"{url}/v2/traced/big/blobs/uploads/?digest={sha256(layer)}", data=layer, timeout=60)
    assert resp.status_code == 201, resp.text
    time.sleep(0.5)
    events = fd_paths(parse(trace.read_text()))
    layer_hex = sha256(layer).split(":")[1]
    blob_path = str(root / "blobs" / "sha256" / layer_hex[:2] / layer_hex)
    rename = index_of(events, lambda e, _: e.name.startswith("rename") and blob_path in e.args, label="rename")
    staged = re.findall(r'"([^"]*/uploads/[^"]*)"', events[rename][0].args)[0]
    fsync = index_of(events[:rename], lambda e, p: e.name in ("fsync", "fdatasync") and p == staged,
                     label="staged fsync")
    writebacks = [(e, p) for e, p in events[:fsync] if e.name == "sync_file_range" and p == staged]
    assert len(writebacks) == 2, writebacks  # at 8 and 16 MiB; the last 4 MiB are left to the fsync
    assert all("SYNC_FILE_RANGE_WRITE" in e.args and e.result.startswith("0") for e, _ in writebacks), writebacks
    created = index_of(events, lambda e, _: e.name in ("write", "writev", "sendmsg") and "HTTP/1.1 201" in e.args,
                       after=rename, label="201")
    assert fsync < rename < created
