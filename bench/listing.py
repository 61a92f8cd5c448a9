#!/usr/bin/env python3
"""Listing benchmark: `_catalog` with 10,000 repositories and `tags/list` with 10,000 tags in
one repository, filled through the API, timed page by page.

    REGISTRYD_BIN=.build/release/registryd bench/listing.py [--repos 10000] [--tags 10000]
    bench/listing.py --url http://127.0.0.1:5000      # a running registryd with berth.mount.anywhere

Without --url it starts its own registryd on a free 127.0.0.1 port with a temporary storage
root and `berth.mount.anywhere: true`, and stops it by its PID at the end. Filling uses the API
only, batched over --workers connections: one config blob is pushed once; each repository gets
it by a mount without `from` and a small manifest; the tag repository gets one manifest under
every tag. Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ROOT = Path(__file__).resolve().parents[1]


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None):
        for attempt in range(3):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, dict(resp.getheaders()), data
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def expect(status, wanted, what, data=b""):
    if status != wanted:
        raise SystemExit(f"{what}: HTTP {status}, wanted {wanted}: {data[:300]!r}")


def fill(client: Client, repos: int, tags: int, workers: int) -> dict:
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    status, _, data = client.request("POST", f"/v2/bench/seed/blobs/uploads/?digest={digest}", config,
                                     {"Content-Type": "application/octet-stream"})
    expect(status, 201, "seed blob", data)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {
        "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": len(config)},
        "layers": []}).encode()

    def repository(i):
        name = f"bench/repo-{i:05d}"
        status, _, data = client.request("POST", f"/v2/{name}/blobs/uploads/?mount={digest}")
        expect(status, 201, f"mount into {name} (is berth.mount.anywhere on?)", data)
        status, _, data = client.request("PUT", f"/v2/{name}/manifests/latest", manifest,
                                         {"Content-Type": OCI_MANIFEST})
        expect(status, 201, f"manifest of {name}", data)

    def tag(i):
        status, _, data = client.request("PUT", f"/v2/bench/tags/manifests/v{i:05d}", manifest,
                                         {"Content-Type": OCI_MANIFEST})
        expect(status, 201, f"tag v{i:05d}", data)

    timings = {}
    status, _, data = client.request("POST", f"/v2/bench/tags/blobs/uploads/?mount={digest}&from=bench/seed")
    expect(status, 201, "mount into bench/tags", data)
    with ThreadPoolExecutor(workers) as pool:
        start = time.perf_counter()
        list(pool.map(repository, range(repos)))
        timings["fill_repositories_s"] = time.perf_counter() - start
        start = time.perf_counter()
        list(pool.map(tag, range(tags)))
        timings["fill_tags_s"] = time.perf_counter() - start
    return timings


def walk(client: Client, first: str, key: str) -> tuple[list[float], int]:
    """Follows Link headers from `first`; returns the time of each page in ms and the item count."""
    times, count, path = [], 0, first
    while path:
        start = time.perf_counter()
        status, headers, data = client.request("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        expect(status, 200, path, data)
        count += len(json.loads(data)[key])
        link = headers.get("Link")
        path = link[1:link.index(">")] if link else None
    return times, count


def timed(client: Client, path: str, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        status, _, data = client.request("GET", path)
        best = min(best, (time.perf_counter() - start) * 1000)
        expect(status, 200, path, data)
    return best


def describe(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"{len(times):5d} pages  median {statistics.median(times):7.2f} ms  p95 {p95:7.2f} ms  "
            f"max {max(times):7.2f} ms")


def measure(client: Client, repos: int, tags: int) -> None:
    print(f"\n{'listing':<44} time per page")
    for n in (100, 1000):
        times, count = walk(client, f"/v2/_catalog?n={n}", "repositories")
        assert count >= repos, count
        print(f"{f'_catalog, n={n}, all {count} repositories':<44} {describe(times)}")
    for n in (100, 1000):
        times, count = walk(client, f"/v2/bench/tags/tags/list?n={n}", "tags")
        assert count == tags, count
        print(f"{f'tags/list, n={n}, all {count} tags':<44} {describe(times)}")
    middle_repo = f"bench/repo-{repos // 2:05d}"
    middle_tag = f"v{tags // 2:05d}"
    rows = [
        ("_catalog?n=100 (first page)", "/v2/_catalog?n=100"),
        (f"_catalog?n=100&last=<middle>", f"/v2/_catalog?n=100&last={middle_repo}"),
        ("_catalog (all, one response)", "/v2/_catalog"),
        ("tags/list?n=100 (first page)", "/v2/bench/tags/tags/list?n=100"),
        ("tags/list?n=100&last=<middle>", f"/v2/bench/tags/tags/list?n=100&last={middle_tag}"),
        ("tags/list (all, one response)", "/v2/bench/tags/tags/list"),
    ]
    print()
    for label, path in rows:
        print(f"{label:<44} best of 5: {timed(client, path):7.2f} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(workdir: Path) -> tuple[subprocess.Popen, str]:
    binary = os.environ.get("REGISTRYD_BIN", str(ROOT / ".build" / "release" / "registryd"))
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {workdir / 'data'}
http:
  addr: 127.0.0.1:{port}
berth:
  mount:
    anywhere: true
""")
    proc = subprocess.Popen([binary, "--config", str(config)], stdout=open(workdir / "registryd.log", "wb"),
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"registryd exited: {(workdir / 'registryd.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    raise SystemExit("registryd did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running registryd (with berth.mount.anywhere: true)")
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--tags", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="berth-listing-")
    try:
        if args.url:
            url = args.url
        else:
            proc, url = start_registry(Path(tmp.name))
        client = Client(url)
        print(f"filling {url}: {args.repos} repositories, {args.tags} tags in bench/tags, {args.workers} workers")
        timings = fill(client, args.repos, args.tags, args.workers)
        print(f"filled in {timings['fill_repositories_s']:.1f} s (repositories) + {timings['fill_tags_s']:.1f} s (tags)")
        measure(client, args.repos, args.tags)
    finally:
        stop_registry(proc)
        tmp.cleanup()
    return 0


def stop_registry(proc) -> None:
    """Stops a registryd that start_registry started, by its PID (SIGKILL after 20 s)."""
    if proc is None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
