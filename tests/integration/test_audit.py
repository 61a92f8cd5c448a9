"""The audit trail (berth.audit): every state change and refused login as one JSON line,
written off the request path and fsynced within moments, never with a credential; gc runs
recorded by registryctl; `registryctl audit` reading and filtering it."""
from __future__ import annotations

import datetime
import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from helpers import OCI_MANIFEST, config_blob, image_manifest, sha256
from registryctl import registryctl, registryctl_binary
from security import apache_htpasswd, htpasswd_config

ALICE = ("alice", "alice-Pa55word")
BOB = ("bob", "bob-Pa55word")
# A wrong password that must appear nowhere: not in the audit log, not in registryd's log.
GUESS = "Gu3ss-N0t-In-Any-Log-7f3a9c"


@pytest.fixture
def audited(make_registry, tmp_path):
    users = apache_htpasswd(tmp_path / "users.htpasswd", dict([ALICE, BOB]))
    audit = tmp_path / "audit" / "audit.log"
    reg = make_registry(extra_config=htpasswd_config(users) + f"berth:\n  audit:\n    path: {audit}\n").start()
    return reg, audit


def api(reg, method: str, path: str, auth=ALICE, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 30)
    return requests.request(method, reg.url + path, auth=auth, allow_redirects=False, **kwargs)


def push_blob(reg, name: str, data: bytes, auth=ALICE) -> str:
    digest = sha256(data)
    resp = api(reg, "POST", f"/v2/{name}/blobs/uploads/?digest={digest}", auth=auth, data=data)
    assert resp.status_code == 201, resp.text
    return digest


def push_chunked(reg, name: str, data: bytes, auth=ALICE) -> str:
    digest = sha256(data)
    start = api(reg, "POST", f"/v2/{name}/blobs/uploads/", auth=auth)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    patch = api(reg, "PATCH", location, auth=auth, data=data,
                headers={"Content-Range": f"0-{len(data) - 1}", "Content-Type": "application/octet-stream"})
    assert patch.status_code == 202, patch.text
    location = patch.headers["Location"]
    final = api(reg, "PUT", location + ("&" if "?" in location else "?") + f"digest={digest}", auth=auth)
    assert final.status_code == 201, final.text
    return digest


def push_image(reg, name: str, tag: str, auth=ALICE) -> tuple[str, list[str], bytes]:
    config = config_blob(tag)
    layer = os.urandom(3000)
    blobs = [push_blob(reg, name, config, auth), push_blob(reg, name, layer, auth)]
    body = image_manifest(OCI_MANIFEST, config, [layer])
    resp = api(reg, "PUT", f"/v2/{name}/manifests/{tag}", auth=auth, data=body,
               headers={"Content-Type": OCI_MANIFEST})
    assert resp.status_code == 201, resp.text
    return sha256(body), blobs, body


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_events(path: Path, predicate, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        events = read_events(path) if path.exists() else []
        if predicate(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.02)


def audit(reg, *args: str) -> subprocess.CompletedProcess:
    return registryctl("audit", *args, config=reg.config_path)


def test_every_state_change_and_failed_login_is_recorded(audited):
    reg, path = audited
    manifest, blobs, _ = push_image(reg, "team/app", "v1")
    chunked = push_chunked(reg, "team/app", os.urandom(5000))
    # bob mounts a blob of team/app into team/other.
    mount = api(reg, "POST", f"/v2/team/other/blobs/uploads/?mount={blobs[1]}&from=team/app", auth=BOB)
    assert mount.status_code == 201, mount.text
    # A wrong password for alice, a token for nobody, and no credentials at all (not a login).
    assert api(reg, "GET", "/v2/", auth=("alice", GUESS)).status_code == 401
    assert api(reg, "PUT", "/v2/team/app/manifests/v9", auth=("mallory", GUESS), data=b"{}").status_code == 401
    assert requests.get(reg.url + "/v2/", timeout=10).status_code == 401
    # Deletes: the tag, then the manifest by digest, then a blob.
    assert api(reg, "DELETE", "/v2/team/app/manifests/v1").status_code == 202
    assert api(reg, "DELETE", f"/v2/team/app/manifests/{manifest}").status_code == 202
    assert api(reg, "DELETE", f"/v2/team/app/blobs/{chunked}").status_code == 202
    # Reads leave no trace.
    assert api(reg, "GET", "/v2/_catalog").status_code == 200

    events = wait_for_events(path, lambda e: len(e) >= 10)
    actions = [(e["action"], e.get("user"), e.get("repository"), e.get("reference"), e.get("digest"), e.get("status"))
               for e in events]
    assert actions == [
        ("blob.upload", "alice", "team/app", None, blobs[0], 201),
        ("blob.upload", "alice", "team/app", None, blobs[1], 201),
        ("manifest.push", "alice", "team/app", "v1", manifest, 201),
        ("blob.upload", "alice", "team/app", None, chunked, 201),
        ("blob.mount", "bob", "team/other", None, blobs[1], 201),
        ("login.failed", "alice", None, None, None, 401),
        ("login.failed", "mallory", "team/app", None, None, 401),
        ("tag.delete", "alice", "team/app", "v1", None, 202),
        ("manifest.delete", "alice", "team/app", None, manifest, 202),
        ("blob.delete", "alice", "team/app", None, chunked, 202),
    ], json.dumps(events, indent=1)
    assert events[4]["source"] == "team/app"
    for event in events:
        assert event["client"] == "127.0.0.1"
        parsed = datetime.datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        assert abs((datetime.datetime.now(datetime.timezone.utc) - parsed).total_seconds()) < 120
    # No credential anywhere: not the guess, not the real passwords, not a Basic header.
    text = path.read_text()
    log = reg.log()
    for secret in (GUESS, ALICE[1], BOB[1]):
        assert secret not in text and secret not in log
    assert "Basic " not in text and "Authorization" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_gc_runs_are_recorded_with_what_they_removed(audited):
    reg, path = audited
    manifest, blobs, _ = push_image(reg, "team/gc", "v1")
    assert api(reg, "DELETE", f"/v2/team/gc/manifests/{manifest}").status_code == 202
    dry = registryctl("gc", "--dry-run", "--grace", "0s", config=reg.config_path)
    assert dry.returncode == 0, dry.stderr
    result = registryctl("gc", "--json", "--grace", "0s", config=reg.config_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["blobsRemoved"] == 2
    events = read_events(path)
    runs = [e for e in events if e["action"] == "gc.run"]
    assert len(runs) == 1, events  # the dry run changed nothing and is not recorded
    assert runs[0]["removed"] == {"manifests": report["manifestsRemoved"], "blobs": 2,
                                  "bytes": report["bytesFreed"], "uploads": report["uploadsRemoved"]}
    assert runs[0]["client"] == "local" and runs[0].get("user")
    removed = {e["digest"] for e in events if e["action"] == "gc.blob.delete"}
    assert removed == set(blobs)


def test_registryctl_audit_filters_by_user_repository_and_time(audited):
    reg, path = audited
    push_image(reg, "team/one", "v1")
    push_image(reg, "team/two", "v1", auth=BOB)
    wait_for_events(path, lambda e: len(e) >= 6)
    time.sleep(1.1)
    middle = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.1)
    push_blob(reg, "team/one", os.urandom(100), auth=BOB)
    assert api(reg, "GET", "/v2/", auth=("bob", GUESS)).status_code == 401
    wait_for_events(path, lambda e: len(e) >= 8)

    def lines(*args: str) -> list[dict]:
        result = audit(reg, "--json", *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    assert len(lines("--since", "24h")) == 8
    bob = lines("--since", "24h", "--user", "bob")
    assert len(bob) == 5 and {e["user"] for e in bob} == {"bob"}
    one = lines("--repository", "team/one")
    assert len(one) == 4 and {e["repository"] for e in one} == {"team/one"}
    recent = lines("--since", middle)
    assert [e["action"] for e in recent] == ["blob.upload", "login.failed"]
    assert lines("--user", "bob", "--repository", "team/one") == recent[:1]
    # The text form: one line an event with action, user, address and target.
    text = audit(reg, "--since", "24h", "--user", "bob")
    assert text.returncode == 0, text.stderr
    assert len(text.stdout.splitlines()) == 5
    assert "manifest.push bob 127.0.0.1 team/two:v1@sha256:" in text.stdout
    # --path instead of the config; bad arguments are exit status 2.
    direct = subprocess.run([registryctl_binary(), "audit", "--path", str(path), "--json"], capture_output=True,
                            text=True, timeout=60)
    assert direct.returncode == 0 and len(direct.stdout.splitlines()) == 8, direct.stderr
    assert audit(reg, "--since", "yesterday").returncode == 2


def test_rotated_files_are_read_too(make_registry, tmp_path):
    users = apache_htpasswd(tmp_path / "users.htpasswd", dict([ALICE]))
    path = tmp_path / "audit.log"
    reg = make_registry(extra_config=htpasswd_config(users)
                        + f"berth:\n  audit:\n    path: {path}\n    maxsize: 4096\n    maxbackups: 50\n").start()
    for index in range(30):
        push_blob(reg, "team/rot", os.urandom(64))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        result = audit(reg, "--json")
        if len(result.stdout.splitlines()) == 30:
            break
        time.sleep(0.1)
    assert len(result.stdout.splitlines()) == 30, result.stdout + result.stderr
    rotated = sorted(tmp_path.glob("audit.log.*"))
    assert [p for p in rotated if not p.name.endswith(".lock")], "no rotation happened"
    for file in [path, *rotated]:
        assert file.stat().st_size <= 4096


def test_event_is_on_disk_right_after_the_response_and_survives_kill_9(audited):
    """The writer fsyncs each batch as soon as it is woken: the event of an acknowledged push
    is in the file within 200 ms, so a kill -9 then loses nothing."""
    reg, path = audited
    config = config_blob("crash")
    layer = os.urandom(2000)
    push_blob(reg, "team/crash", config)
    push_blob(reg, "team/crash", layer)
    body = image_manifest(OCI_MANIFEST, config, [layer])
    wait_for_events(path, lambda e: len(e) >= 2)
    latencies = []
    for tag in ("a", "b", "c"):
        resp = api(reg, "PUT", f"/v2/team/crash/manifests/{tag}", data=body, headers={"Content-Type": OCI_MANIFEST})
        answered = time.monotonic()
        assert resp.status_code == 201
        events = wait_for_events(path, lambda e: any(x.get("reference") == tag for x in e), timeout=2)
        assert any(x.get("reference") == tag for x in events)
        latencies.append(time.monotonic() - answered)
    print(f"\naudit event visible after the 201: {[f'{l * 1000:.1f} ms' for l in latencies]}")
    assert max(latencies) < 0.2, latencies
    # Push once more and kill -9 200 ms after the 201.
    resp = api(reg, "PUT", "/v2/team/crash/manifests/last", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert resp.status_code == 201
    time.sleep(0.2)
    reg.kill()
    events = read_events(path)
    assert events[-1]["action"] == "manifest.push" and events[-1]["reference"] == "last", events[-3:]
