#!/usr/bin/env python3
"""Soak benchmark (not a test): 200 keep-alive connections of mixed reads and writes for N
minutes against one registryd, reporting unexpected errors, and the server's RSS and open file
descriptors over time (from /proc/PID).

    REGISTRYD_BIN=.build/release/registryd bench/soak.py [--minutes 5] [--connections 200]

It starts its own registryd on a free 127.0.0.1 port with a temporary storage root (access
log off) and stops it by its PID at the end. Each connection loops over: GET a manifest by tag
(40%), HEAD a blob (20%), GET a 4 KiB blob (15%), push a small blob monolithically (10%),
a chunked upload of two PATCHes (5%), push a manifest under a tag (7%), delete that manifest by
digest (3%). Standard library only. Exit status 1 if any request failed unexpectedly.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manifest(config: bytes, layers: list[bytes]) -> bytes:
    def d(mt, b):
        return {"mediaType": mt, "digest": sha256(b), "size": len(b)}
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": d("application/vnd.oci.image.config.v1+json", config),
                       "layers": [d("application/vnd.oci.image.layer.v1.tar", l) for l in layers]}).encode()


class Connection:
    def __init__(self, port: int):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
            return resp.status, dict(resp.getheaders()), data
        except Exception:
            self.conn.close()
            self.conn = None
            raise


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.errors: list[str] = []

    def ok(self):
        with self.lock:
            self.requests += 1

    def fail(self, what: str):
        with self.lock:
            self.requests += 1
            if len(self.errors) < 50:
                self.errors.append(what)
            else:
                self.errors.append("…")
                del self.errors[50:]


def worker(index: int, port: int, stop: threading.Event, stats: Stats, fixtures: dict):
    rng = random.Random(index)
    conn = Connection(port)
    repo = f"soak/c{index}"
    pushed: list[str] = []

    def expect(method, path, statuses, body=None, headers=None):
        try:
            status, hdrs, data = conn.request(method, path, body, headers)
        except Exception as error:  # noqa: BLE001
            stats.fail(f"{method} {path}: {error!r}")
            return None, None
        if status not in statuses:
            stats.fail(f"{method} {path}: {status} {data[:200]!r}")
            return None, None
        stats.ok()
        return hdrs, data

    while not stop.is_set():
        roll = rng.random()
        if roll < 0.40:
            _, data = expect("GET", f"/v2/soak/base/manifests/latest", {200},
                             headers={"Accept": OCI_MANIFEST})
            if data is not None and data != fixtures["manifest"]:
                stats.fail("manifest bytes differ")
        elif roll < 0.60:
            expect("HEAD", f"/v2/soak/base/blobs/{fixtures['big']}", {200})
        elif roll < 0.75:
            _, data = expect("GET", f"/v2/soak/base/blobs/{fixtures['small']}", {200})
            if data is not None and sha256(data) != fixtures["small"]:
                stats.fail("blob bytes differ")
        elif roll < 0.85:
            blob = os.urandom(rng.randint(1, 64 * 1024))
            expect("POST", f"/v2/{repo}/blobs/uploads/?digest={sha256(blob)}", {201}, blob,
                   {"Content-Type": "application/octet-stream"})
        elif roll < 0.90:
            blob = os.urandom(rng.randint(2, 256 * 1024))
            hdrs, _ = expect("POST", f"/v2/{repo}/blobs/uploads/", {202})
            if hdrs is None:
                continue
            half = len(blob) // 2
            hdrs, _ = expect("PATCH", hdrs["Location"], {202}, blob[:half],
                             {"Content-Type": "application/octet-stream", "Content-Range": f"0-{half - 1}"})
            if hdrs is None:
                continue
            location = hdrs["Location"]
            sep = "&" if "?" in location else "?"
            expect("PUT", f"{location}{sep}digest={sha256(blob)}", {201}, blob[half:],
                   {"Content-Type": "application/octet-stream"})
        elif roll < 0.97:
            config = json.dumps({"n": rng.random()}).encode()
            if expect("POST", f"/v2/{repo}/blobs/uploads/?digest={sha256(config)}", {201}, config)[0] is None:
                continue
            expect("POST", f"/v2/{repo}/blobs/uploads/?mount={fixtures['small']}&from=soak/base", {201})
            body = manifest(config, [fixtures["small_bytes"]])
            if expect("PUT", f"/v2/{repo}/manifests/t{rng.randint(0, 9)}", {201}, body,
                      {"Content-Type": OCI_MANIFEST})[0] is not None:
                pushed.append(sha256(body))
        elif pushed:
            expect("DELETE", f"/v2/{repo}/manifests/{pushed.pop(rng.randrange(len(pushed)))}", {202, 404})


def sample(pid: int) -> tuple[float, int]:
    rss_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
    return rss_kib / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples")
    args = parser.parse_args()

    binary = os.environ.get("REGISTRYD_BIN", str(ROOT / ".build" / "release" / "registryd"))
    workdir = Path(tempfile.mkdtemp(prefix="berth-soak-"))
    port = free_port()
    (workdir / "config.yml").write_text(
        f"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir}/data\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n")
    log = open(workdir / "registryd.log", "wb")
    server = subprocess.Popen([binary, "--config", str(workdir / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    try:
        conn = Connection(port)
        for _ in range(300):
            try:
                conn.request("GET", "/v2/")
                break
            except OSError:
                time.sleep(0.1)
        small, big = os.urandom(4096), os.urandom(1 << 20)
        config = b'{"soak":true}'
        for blob in (small, big, config):
            assert conn.request("POST", f"/v2/soak/base/blobs/uploads/?digest={sha256(blob)}", blob)[0] == 201
        body = manifest(config, [small, big])
        assert conn.request("PUT", "/v2/soak/base/manifests/latest", body, {"Content-Type": OCI_MANIFEST})[0] == 201
        fixtures = {"manifest": body, "small": sha256(small), "small_bytes": small, "big": sha256(big)}

        stats, stop = Stats(), threading.Event()
        threading.stack_size(256 * 1024)
        threads = [threading.Thread(target=worker, args=(i, port, stop, stats, fixtures), daemon=True)
                   for i in range(args.connections)]
        for thread in threads:
            thread.start()
        start = time.time()
        samples = []
        last_requests = 0
        print(f"{'time (s)':>8} {'requests/s':>10} {'RSS (MiB)':>9} {'fds':>5} {'errors':>6}", flush=True)
        while time.time() - start < args.minutes * 60:
            time.sleep(args.interval)
            rss, fds = sample(server.pid)
            with stats.lock:
                done, errors = stats.requests, len(stats.errors)
            rate = (done - last_requests) / args.interval
            last_requests = done
            samples.append({"t": round(time.time() - start), "rss_mib": round(rss, 1), "fds": fds,
                            "requests": done, "errors": errors})
            print(f"{samples[-1]['t']:>8} {rate:>10.0f} {rss:>9.1f} {fds:>5} {errors:>6}", flush=True)
        stop.set()
        for thread in threads:
            thread.join(120)
        rss, fds = sample(server.pid)
        print(json.dumps({"connections": args.connections, "minutes": args.minutes, "requests": stats.requests,
                          "errors": stats.errors, "samples": samples, "rss_mib_end": round(rss, 1),
                          "fds_end": fds}, indent=1))
        return 1 if stats.errors else 0
    finally:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    sys.exit(main())
