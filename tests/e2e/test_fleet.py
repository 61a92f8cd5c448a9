"""The fleet (issue 12): three registryd on loopback sharing one PostgreSQL database and one S3
bucket (both real servers), behind HAProxy running the shipped deploy/fleet/haproxy.cfg with
round-robin per request and /healthz checks. Each node runs deploy/fleet/config.yml.

- a chunked push whose POST, PATCH, PATCH and PUT each reach another node, pulled from the third;
- docker push through the load balancer, pulled from each node; skopeo and podman through it;
- read-your-writes: a tag moved 1,000 times through node A is never stale through node B;
- kill -9 of a node in the middle of pushes through the load balancer;
- `registryctl gc --grace 0s --delete-untagged` in a loop while pushes run on all nodes.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from fleet import Fleet, require_haproxy  # noqa: E402
from helpers import OCI_MANIFEST, describe, image_manifest, make_image, sha256  # noqa: E402
from postgres import pg_server  # noqa: E402,F401  (fixture)
from s3 import s3_server  # noqa: E402,F401  (fixture)
from test_podman import podman  # noqa: E402,F401  (fixture)

from e2e_support import ALL_MANIFEST_TYPES, OciLayout, output  # noqa: E402

OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def fleet(tmp_path, pg_server, s3_server):
    require_haproxy()
    fleet = Fleet(tmp_path, pg_server, s3_server)
    try:
        yield fleet.start()
    finally:
        fleet.stop()


# --------------------------------------------------------------------------- a client

class PushRefused(Exception):
    """The registry refused a step of a push in a way a client retries (a node went away, or
    gc removed a blob the push relied on)."""


def retryable(resp: requests.Response) -> bool:
    if resp.status_code in (502, 503, 504):
        return True
    if resp.status_code in (400, 404):
        try:
            codes = {e["code"] for e in resp.json()["errors"]}
        except (ValueError, KeyError, TypeError):
            return False
        return bool(codes & {"MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"})
    return False


def expect(resp: requests.Response, status: int) -> requests.Response:
    if resp.status_code == status:
        return resp
    if retryable(resp):
        raise PushRefused(describe(resp))
    raise AssertionError(f"unexpected answer (want {status}):\n{describe(resp)}")


def push_blob(session: requests.Session, base: str, repo: str, data: bytes, *, chunk: int = 0,
              check_first: bool = True, mount_from: str | None = None) -> None:
    """Like docker: HEAD first (skip if present), or a cross-repository mount (201: done,
    202: upload), else POST + PATCHes + PUT."""
    digest = sha256(data)
    if mount_from is not None:
        resp = session.post(f"{base}/v2/{repo}/blobs/uploads/?mount={digest}&from={mount_from}", timeout=60)
        if resp.status_code == 201:
            return
        expect(resp, 202)
    else:
        if check_first:
            head = session.head(f"{base}/v2/{repo}/blobs/{digest}", timeout=60)
            if head.status_code == 200:
                return
        resp = expect(session.post(f"{base}/v2/{repo}/blobs/uploads/", timeout=60), 202)
    location = urljoin(base + "/", resp.headers["Location"])
    step = chunk or len(data) or 1
    for offset in range(0, len(data), step):
        piece = data[offset:offset + step]
        headers = dict(OCTETS, **{"Content-Range": f"{offset}-{offset + len(piece) - 1}"})
        resp = expect(session.patch(location, data=piece, headers=headers, timeout=120), 202)
        location = urljoin(base + "/", resp.headers["Location"])
    sep = "&" if "?" in location else "?"
    expect(session.put(f"{location}{sep}digest={digest}", headers=OCTETS, timeout=120), 201)


def push_image(session, base: str, repo: str, tag: str, blobs: list[bytes], *, chunk: int = 0,
               mount_from: str | None = None, mountable: int = 0) -> bytes:
    """Push blobs[0] as config and the rest as layers (the first `mountable` layers by a mount
    from `mount_from`), then the manifest under `tag`; returns the manifest body once it was
    acknowledged with 201."""
    for i, blob in enumerate(blobs):
        push_blob(session, base, repo, blob, chunk=chunk, mount_from=mount_from if 1 <= i <= mountable else None)
    body = image_manifest(OCI_MANIFEST, blobs[0], blobs[1:], annotations={"tag": tag})
    resp = session.put(f"{base}/v2/{repo}/manifests/{tag}", data=body,
                       headers={"Content-Type": OCI_MANIFEST}, timeout=120)
    expect(resp, 201)
    assert resp.headers["Docker-Content-Digest"] == sha256(body)
    return body


def assert_complete(base: str, repo: str, tag: str, body: bytes) -> None:
    """The tag serves exactly `body`, and every blob it names is served with its bytes
    (following a redirect to the bucket)."""
    resp = requests.get(f"{base}/v2/{repo}/manifests/{tag}", headers={"Accept": ALL_MANIFEST_TYPES}, timeout=60)
    assert resp.status_code == 200, f"{repo}:{tag} at {base}: {describe(resp)}"
    assert resp.content == body, f"{repo}:{tag} at {base} serves another manifest"
    doc = json.loads(body)
    for d in [doc["config"], *doc["layers"]]:
        blob = requests.get(f"{base}/v2/{repo}/blobs/{d['digest']}", timeout=120)
        assert blob.status_code == 200, f"{repo}:{tag} lost {d['digest']} at {base}: {describe(blob)}"
        assert sha256(blob.content) == d["digest"] and len(blob.content) == d["size"]


def assert_fsck_clean(fleet: Fleet) -> dict:
    result = fleet.ctl("fsck", "--json")
    assert result.returncode == 0, f"fsck exit {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- (a)

def test_chunked_push_across_three_nodes_then_pull_from_each(fleet):
    """POST on node 1, PATCH on node 2, PATCH on node 3, PUT (with the last bytes) on node 1:
    the session's staged parts, tail and running hash live in the shared stores."""
    a, b, c = fleet.nodes
    repo = "fleet/chunked"
    # 6 MiB (a whole S3 part and a tail), 3 MiB (joins the tail), 1 MiB with the PUT.
    pieces = [os.urandom(6 << 20), os.urandom(3 << 20), os.urandom(1 << 20)]
    data = b"".join(pieces)
    digest = sha256(data)
    resp = requests.post(f"{a.url}/v2/{repo}/blobs/uploads/", timeout=30)
    assert resp.status_code == 202, describe(resp)
    path = resp.headers["Location"].split("://", 1)[-1]
    path = path[path.index("/"):] if not resp.headers["Location"].startswith("/") else resp.headers["Location"]
    offset = 0
    for node, piece in [(b, pieces[0]), (c, pieces[1])]:
        headers = dict(OCTETS, **{"Content-Range": f"{offset}-{offset + len(piece) - 1}"})
        resp = requests.patch(node.url + path, data=piece, headers=headers, timeout=120)
        assert resp.status_code == 202, describe(resp)
        offset += len(piece)
        assert resp.headers["Range"] == f"0-{offset - 1}", describe(resp)
        path = resp.headers["Location"]
        path = path if path.startswith("/") else "/" + path.split("://", 1)[1].split("/", 1)[1]
    # Node 1 reports the offset node 3 reached before the last PUT.
    status = requests.get(a.url + path, timeout=30)
    assert status.status_code == 204 and status.headers["Range"] == f"0-{offset - 1}", describe(status)
    sep = "&" if "?" in path else "?"
    resp = requests.put(f"{a.url}{path}{sep}digest={digest}", data=pieces[2], headers=OCTETS, timeout=120)
    assert resp.status_code == 201, describe(resp)
    for node in fleet.nodes:
        blob = requests.get(f"{node.url}/v2/{repo}/blobs/{digest}", timeout=120)
        assert blob.status_code == 200 and sha256(blob.content) == digest, describe(blob)
    # Each request reached the node it was sent to.
    assert ("POST", f"/v2/{repo}/blobs/uploads/") in a.api_requests()
    assert any(m == "PATCH" for m, _ in b.api_requests()) and any(m == "PATCH" for m, _ in c.api_requests())
    # And an image made of it, pushed through node 2, pulls from node 3.
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    session = requests.Session()
    body = push_image(session, b.url, repo, "v1", [config, data])
    assert_complete(c.url, repo, "v1", body)
    assert assert_fsck_clean(fleet)
    # The S3 requests and the database transactions each node made are in its metrics.
    metrics = b.metrics()
    assert 'registry_s3_requests_total{operation="upload_part",status="2xx"}' in metrics, metrics
    assert 'registry_s3_request_duration_seconds_count{operation="upload_part"}' in metrics, metrics
    assert 'registry_database_transactions_total{result="ok"}' in metrics, metrics
    assert "registry_database_connections_in_use" in metrics, metrics
    assert 'registry_s3_requests_total{operation="complete_multipart_upload"' in a.metrics()


# --------------------------------------------------------------------------- fsck on PG + S3

def test_fsck_finds_a_blob_missing_from_the_bucket(fleet):
    """fsck works on the fleet's stores: clean, then a layer object removed behind the
    registry's back is reported (and the image it belongs to)."""
    node = fleet.nodes[0]
    image = make_image(node, "fleet/fsck", tag="v1")
    assert_fsck_clean(fleet)
    layer = sha256(image.layers[0])
    key = f"docker/registry/v2/blobs/sha256/{layer[7:9]}/{layer[7:]}/data"
    assert key in fleet.s3.keys(fleet.bucket, "docker/")
    gone = fleet.s3._curl("DELETE", f"/{fleet.bucket}/{key}")
    assert gone.stdout.rstrip().endswith("204"), gone.stdout
    result = fleet.ctl("fsck", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert layer in result.stdout, result.stdout


# --------------------------------------------------------------------------- round robin

def test_the_load_balancer_spreads_one_clients_requests_over_every_node(fleet):
    """One keep-alive client through HAProxy: successive requests land on different nodes."""
    session = requests.Session()
    before = [len(n.api_requests()) for n in fleet.nodes]
    for _ in range(30):
        assert session.get(f"{fleet.lb.url}/v2/", timeout=10).status_code == 200
    counts = [len(n.api_requests()) - b for n, b in zip(fleet.nodes, before)]
    # Round robin: 10 each, give or take the odd health-unrelated request.
    assert all(8 <= c <= 12 for c in counts), counts


# --------------------------------------------------------------------------- (c)

def test_read_your_writes_a_tag_moved_1000_times(fleet):
    """Moved through node A, read through node B at once, 1,000 times: never stale."""
    a, b = fleet.nodes[0], fleet.nodes[1]
    repo = "fleet/moving"
    image = make_image(a, repo, tag="v1")
    session_a, session_b = requests.Session(), requests.Session()
    for i in range(1000):
        body = image_manifest(OCI_MANIFEST, image.config, image.layers, annotations={"n": str(i)})
        resp = session_a.put(f"{a.url}/v2/{repo}/manifests/moving", data=body,
                             headers={"Content-Type": OCI_MANIFEST}, timeout=30)
        assert resp.status_code == 201, describe(resp)
        resp = session_b.get(f"{b.url}/v2/{repo}/manifests/moving", headers={"Accept": OCI_MANIFEST}, timeout=30)
        assert resp.status_code == 200, describe(resp)
        assert resp.headers["Docker-Content-Digest"] == sha256(body), f"move {i} served stale by node B"
    # The tag list through the third node names it too.
    tags = requests.get(f"{fleet.nodes[2].url}/v2/{repo}/tags/list", timeout=30).json()["tags"]
    assert sorted(tags) == ["moving", "v1"]


# --------------------------------------------------------------------------- (e)

class Pushers:
    """Threads that push images through the load balancer and record each acknowledged one.
    Blobs come partly from a small shared pool (so that the same digest is pushed, orphaned
    by a delete and collected, and pushed again while gc runs) and partly fresh; some images
    are deleted after their push, so gc has work."""

    def __init__(self, base: str, threads: int, images_per_thread: int, *, attempts: int = 40):
        self.base = base
        self.threads = threads
        self.images = images_per_thread
        self.attempts = attempts
        self.pool = [os.urandom(random.randint(1000, 300_000)) for _ in range(6)]
        self.acknowledged: dict[tuple[str, str], bytes] = {}
        self.deleted: set[tuple[str, str]] = set()
        self.refused = Counter()
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.last_refusal = ""
        self.gave_up: list[str] = []

    def run_one(self, worker: int) -> None:
        session = requests.Session()
        rng = random.Random(worker)
        for n in range(self.images):
            repo = f"fleet/p{worker % 3}"
            tag = f"w{worker}-{n}"
            config = json.dumps({"architecture": "amd64", "os": "linux", "n": f"{worker}-{n}",
                                 "rootfs": {"type": "layers", "diff_ids": []}}).encode()
            # One layer in six is over S3's 5 MiB part size (a multipart upload with a tail); the
            # rest stay small, since the test server keeps every object in memory.
            size = rng.choice([2000, 70_000, 300_000, 1 << 20, 3 << 20, (5 << 20) + 77])
            blobs = [config, *rng.sample(self.pool, 2), os.urandom(size)]
            for attempt in range(self.attempts):
                try:
                    # Half the time the shared layers are mounted from another repository
                    # (docker's cross-repository mount), which races gc like a HEAD does.
                    other = f"fleet/p{(worker + 1) % 3}" if rng.random() < 0.5 else None
                    body = push_image(session, self.base, repo, tag, blobs, chunk=rng.choice([0, 2 << 20]),
                                      mount_from=other, mountable=2)
                except (PushRefused, requests.ConnectionError) as refused:
                    with self.lock:
                        self.refused[type(refused).__name__] += 1
                        self.last_refusal = str(refused)[:800]
                    session = requests.Session()
                    time.sleep(0.05 * (attempt + 1))
                    continue
                except Exception as failure:  # an answer no client should get
                    with self.lock:
                        self.errors.append(f"{repo}:{tag}: {failure}")
                    return
                with self.lock:
                    self.acknowledged[(repo, tag)] = body
                break
            else:
                # Starved: with --grace 0s each attempt lost a blob to a gc run before its
                # manifest arrived (refused correctly each time). Not acknowledged, not an error.
                with self.lock:
                    self.gave_up.append(f"{repo}:{tag}")
                continue
            if rng.random() < 0.3:
                resp = session.delete(f"{self.base}/v2/{repo}/manifests/{sha256(body)}", timeout=60)
                if resp.status_code == 202:
                    with self.lock:
                        self.acknowledged.pop((repo, tag), None)
                        self.deleted.add((repo, tag))

    def start(self) -> list[threading.Thread]:
        workers = [threading.Thread(target=self.run_one, args=(w,)) for w in range(self.threads)]
        for w in workers:
            w.start()
        return workers


def test_gc_in_a_loop_while_every_node_takes_pushes(fleet):
    """`registryctl gc --grace 0s --delete-untagged` runs again and again while pushes go
    through HAProxy to all three nodes. A push may be refused (gc took a blob it had uploaded
    but not yet referenced) and is retried; every push acknowledged must stay complete."""
    pushers = Pushers(fleet.lb.url, threads=6, images_per_thread=int(os.environ.get('BERTH_FLEET_IMAGES', '8')))
    before = [len(n.api_requests()) for n in fleet.nodes]
    runs, gc_failures = [], []
    stop = threading.Event()

    def collect():
        while not stop.is_set():
            result = fleet.ctl("gc", "--json", "--grace", "0s", "--delete-untagged")
            if result.returncode != 0:
                gc_failures.append(result.stdout + result.stderr)
                return
            runs.append(json.loads(result.stdout))
            # With --grace 0s every blob not yet referenced by a manifest is fair game, so a gc
            # that never pauses starves pushes (each is refused, correctly, and retried): pause
            # a random while, so that some pushes land between runs and others across them.
            stop.wait(random.uniform(0.0, 2.0))

    collector = threading.Thread(target=collect)
    collector.start()
    workers = pushers.start()
    try:
        for w in workers:
            w.join(900)
    finally:
        stop.set()
        collector.join(300)
    assert gc_failures == [], gc_failures
    assert pushers.errors == [], (pushers.errors, pushers.last_refusal)
    assert len(runs) >= 3, f"gc must run during the pushes ({len(runs)} runs)"
    removed = sum(len(r.get("blobs", [])) for r in runs)
    assert removed > 0, "gc never removed anything: the test did not race it"
    attempted = pushers.threads * pushers.images
    assert len(pushers.gave_up) <= attempted // 4, f"gc starved most pushes: {pushers.gave_up}"
    counts = [len(n.api_requests()) - b for n, b in zip(fleet.nodes, before)]
    assert all(c > 50 for c in counts), f"pushes did not reach every node: {counts}"
    # Every acknowledged image, through every node.
    for (repo, tag), body in sorted(pushers.acknowledged.items()):
        for node in fleet.nodes:
            assert_complete(node.url, repo, tag, body)
    # One more gc with nothing racing it, then the stores agree with each other.
    fleet.ctl("gc", "--json", "--grace", "0s", "--delete-untagged", check=True)
    for (repo, tag), body in sorted(pushers.acknowledged.items()):
        assert_complete(fleet.lb.url, repo, tag, body)
    assert_fsck_clean(fleet)
    print(f"gc runs {len(runs)}, blobs removed {removed}, acknowledged {len(pushers.acknowledged)}, "
          f"deleted {len(pushers.deleted)}, refused and retried {dict(pushers.refused)}, "
          f"given up {len(pushers.gave_up)}, per node {counts}")


# --------------------------------------------------------------------------- (d)

def test_kill_9_of_a_node_in_the_middle_of_pushes(fleet):
    """Pushes through HAProxy; node 2 is killed with SIGKILL while they run. Clients retry
    what failed (a request cut off answers 502, a new one goes to a live node) and finish;
    every acknowledged image is complete on the survivors and, restarted, on node 2 too;
    fsck of the PostgreSQL + S3 stores is clean."""
    pushers = Pushers(fleet.lb.url, threads=6, images_per_thread=int(os.environ.get("BERTH_FLEET_IMAGES", "6")))
    victim = fleet.nodes[1]
    workers = pushers.start()
    deadline = time.time() + 300
    while len(pushers.acknowledged) + len(pushers.deleted) < 4 and time.time() < deadline:
        time.sleep(0.1)
    in_flight_before = len(victim.api_requests())
    victim.kill()
    killed_at = len(pushers.acknowledged)
    for w in workers:
        w.join(900)
    assert pushers.errors == [] and pushers.gave_up == [], (pushers.errors, pushers.gave_up, pushers.last_refusal)
    assert in_flight_before > 0
    assert len(pushers.acknowledged) > killed_at, "no push finished after the kill"
    survivors = [fleet.nodes[0], fleet.nodes[2]]
    for (repo, tag), body in sorted(pushers.acknowledged.items()):
        for node in survivors:
            assert_complete(node.url, repo, tag, body)
    victim.start()
    for (repo, tag), body in sorted(pushers.acknowledged.items()):
        assert_complete(victim.url, repo, tag, body)
    assert_fsck_clean(fleet)
    print(f"acknowledged {len(pushers.acknowledged)} ({killed_at} before the kill), "
          f"refused and retried {dict(pushers.refused)}")


# --------------------------------------------------------------------------- (b)

def _blob_requests(node) -> int:
    return sum(1 for m, p in node.api_requests() if "/blobs/" in p)


def test_docker_push_through_the_load_balancer_pull_from_each_node(fleet, docker, tmp_path):
    lb = fleet.lb
    ref = f"{lb.host}/fleet/app:v1"
    image_id = docker.build_image(ref, tmp_path, sizes=(64 * 1024, 1024 * 1024 + 17, 6 * 1024 * 1024 + 5))
    before = [_blob_requests(n) for n in fleet.nodes]
    out = output(docker.docker("push", ref))
    assert "v1: digest: sha256:" in out, out
    spread = [_blob_requests(n) - b for n, b in zip(fleet.nodes, before)]
    assert all(s > 0 for s in spread), f"the push's blob requests did not reach every node: {spread}"
    docker.docker("rmi", ref)
    for node in fleet.nodes:
        direct = f"{node.host}/fleet/app:v1"
        pull = output(docker.docker("pull", direct))
        assert pull.count("Pull complete") == 3, pull
        assert docker.image_id(direct) == image_id
        docker.docker("rmi", direct)


def test_skopeo_and_podman_through_the_load_balancer(fleet, skopeo, podman, tmp_path):  # noqa: F811
    lb = fleet.lb
    layout = OciLayout(tmp_path / "layout")
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    dest = f"docker://{lb.host}/fleet/skopeo:v1"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1", dest)
    for node in fleet.nodes:
        assert_complete(node.url, "fleet/skopeo", "v1", img.manifest_bytes)
    back = tmp_path / "back"
    skopeo("copy", "--src-tls-verify=false", dest, f"oci:{back}:v1")
    index = json.loads((back / "index.json").read_text())
    assert index["manifests"][0]["digest"] == img.manifest_digest
    for digest in img.layer_digests:
        assert (back / "blobs" / "sha256" / digest.split(":")[1]).exists()
    podman("pull", "--tls-verify=false", f"{lb.host}/fleet/skopeo:v1")
    pulled = json.loads(podman("image", "inspect", f"{lb.host}/fleet/skopeo:v1").stdout)[0]
    assert "sha256:" + pulled["Id"] == img.config_digest
