#!/usr/bin/env python3
"""Benchmark: Berth's pull-through cache against Distribution's proxy mode, in one run, with a
local upstream (a plain registryd on loopback holding the content).

Measures, for Berth (`berth.mirrors`) and Distribution (`proxy.remoteurl`), side by side:
- the first pull of a big blob through the mirror (nothing cached: the mirror downloads from the
  upstream and streams to the client), against pulling it straight from the upstream;
- the second pull of the same blob (from the cache);
- HEAD blob and GET manifest (by digest) rates of cached content with wrk;
- the peak RSS of each mirror process over the run (VmHWM);
- with `--link-mbit` (as root, with iproute2): the first pull again from a second upstream in a
  network namespace behind a veth pair whose egress is shaped to that rate (a `tbf` qdisc), as an
  upstream across a real network link is. On loopback the upstream sends at page-cache speed and
  the first pull is bounded by the mirror's own hashing and writing on the same two cores; across
  a link slower than that, streaming while writing should make the first pull as fast as a
  direct pull.

Usage: bench/mirror.py [--registryd BIN] [--reference docker-registry] [--big-mib 1024]
                       [--link-mbit 1000,2500,5000] [--link-mib 512]
Writes bench/out/mirror.json and prints a table. Needs curl, wrk and ab (apache2-utils). Not a test: it fails only
when a measurement cannot be made.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from netns import NetworkNamespace  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], port: int, workdir: Path, env: dict | None = None,
                 host: str = "127.0.0.1"):
        self.name, self.port, self.workdir, self.host = name, port, workdir, host
        self.log = open(workdir / f"{name}.log", "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env or dict(os.environ))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/v2/", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"{name} exited; see {workdir / (name + '.log')}")
                time.sleep(0.1)
        raise SystemExit(f"{name} did not start")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def peak_rss_mib(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def shape(link: NetworkNamespace, mbit: int) -> None:
    """What leaves the namespace (upstream to mirror) at `mbit`, with a 1 MB token bucket."""
    link.ip("netns", "exec", link.name, "tc", "qdisc", "replace", "dev", link.ns_if, "root",
            "tbf", "rate", f"{mbit}mbit", "burst", "1mb", "latency", "50ms")


def can_shape_links() -> bool:
    return os.geteuid() == 0 and shutil.which("ip") is not None and shutil.which("tc") is not None


def random_file(path: Path, mib: int) -> Path:
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    return path


def config(root: Path, port: int, extra: str, host: str = "127.0.0.1") -> str:
    return (f"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {root}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}:{port}\n{extra}")


def request(method: str, url: str, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=600) as resp:
        return resp.status, dict(resp.headers), resp.read()


def push_image(upstream: Server, name: str, big: Path) -> tuple[str, str]:
    """The big file as the only layer of an image tagged v1; returns (manifest, layer) digests."""
    hasher = hashlib.sha256()
    with open(big, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    digest = "sha256:" + hasher.hexdigest()
    import http.client
    conn = http.client.HTTPConnection(upstream.host, upstream.port, timeout=600)
    with open(big, "rb") as body:  # streamed from the file, not held in memory
        conn.request("POST", f"/v2/{name}/blobs/uploads/?digest={digest}", body=body,
                     headers={"Content-Type": "application/octet-stream", "Content-Length": str(big.stat().st_size)})
        answer = conn.getresponse()
        answer.read()
        if answer.status != 201:
            raise SystemExit(f"upload to the upstream answered {answer.status}")
    conn.close()
    config_bytes = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                                                                                  "diff_ids": []}}).encode()
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    request("POST", f"{upstream.url}/v2/{name}/blobs/uploads/?digest={config_digest}", config_bytes,
            {"Content-Type": "application/octet-stream"})
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config_bytes)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest,
                    "size": big.stat().st_size}],
    }).encode()
    request("PUT", f"{upstream.url}/v2/{name}/manifests/v1", manifest,
            {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    return "sha256:" + hashlib.sha256(manifest).hexdigest(), digest


def download_mbps(url: str, size: int) -> float:
    start = time.perf_counter()
    proc = subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}", url],
                          capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or int(proc.stdout) != size:
        raise SystemExit(f"download of {url} failed: {proc.stderr} ({proc.stdout} bytes)")
    return size / elapsed / 1e6


def head_rate(url: str, seconds: int) -> float:
    """HEAD with ApacheBench: wrk waits for the body a HEAD response does not have (wg/wrk#198)."""
    out = subprocess.run(["ab", "-q", "-k", "-i", "-c", "64", "-t", str(seconds), "-n", "5000000", "-s", "10", url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    for line in out.splitlines():
        if line.startswith("Non-2xx responses:"):
            raise SystemExit(f"ab saw errors on {url}:\n{out}")
        if line.startswith("Requests per second:"):
            return float(line.split()[3])
    print(f"ab gave no rate for {url}:\n{out[-400:]}", file=sys.stderr)
    return float("nan")


def wrk_rate(url: str, seconds: int, accept: str) -> float:
    args = ["wrk", "-t2", "-c64", f"-d{seconds}s", "-H", f"Accept: {accept}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors on {url}:\n{out}")
    for line in out.splitlines():
        if line.startswith("Requests/sec:") and float(line.split()[1]) > 0:
            return float(line.split()[1])
    raise SystemExit(f"wrk gave no rate:\n{out}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registryd", default=str(HERE.parent / ".build" / "release" / "registryd"))
    parser.add_argument("--reference", default="docker-registry")
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--link-mbit", default="1000,2500,5000",
                        help="rates of the shaped upstream link, comma-separated; empty for none")
    parser.add_argument("--link-mib", type=int, default=512, help="blob size for the shaped-link pulls")
    args = parser.parse_args()
    link_rates = [int(r) for r in args.link_mbit.split(",") if r.strip()]
    for tool in ("curl", "wrk", "ab", args.reference):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    work = Path(tempfile.mkdtemp(prefix="berth-mirror-bench-"))
    servers: list[Server] = []
    link: NetworkNamespace | None = None
    try:
        big = random_file(work / "big.bin", args.big_mib)
        size = big.stat().st_size
        up_port, berth_port, ref_port = free_port(), free_port(), free_port()
        (work / "up.yml").write_text(config(work / "up", up_port, ""))
        upstream = Server("upstream", [args.registryd, "--config", str(work / "up.yml")], up_port, work)
        servers.append(upstream)
        manifest_digest, layer = push_image(upstream, "library/big", big)
        big.unlink()

        (work / "berth.yml").write_text(config(
            work / "berth", berth_port, f"berth:\n  mirrors:\n    - prefix: up\n      url: {upstream.url}\n"))
        berth = Server("berth", [args.registryd, "--config", str(work / "berth.yml")], berth_port, work)
        (work / "ref.yml").write_text(config(work / "ref", ref_port, f"proxy:\n  remoteurl: {upstream.url}\n"))
        env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE" and not k.startswith("REGISTRY_")}
        reference = Server("reference", [shutil.which(args.reference), "serve", str(work / "ref.yml")], ref_port,
                           work, env)
        servers += [berth, reference]
        paths = {"berth": "/v2/up/library/big", "reference": "/v2/library/big"}
        mirrors = {"berth": berth, "reference": reference}
        accept = "application/vnd.oci.image.manifest.v1+json"

        results: dict = {"big_mib": args.big_mib}
        results["direct_mbps"] = download_mbps(f"{upstream.url}/v2/library/big/blobs/{layer}", size)
        for name, server in mirrors.items():
            # The manifest first, as a client would.
            request("GET", f"{server.url}{paths[name]}/manifests/v1", headers={"Accept": accept})
            results[f"{name}_first_mbps"] = download_mbps(f"{server.url}{paths[name]}/blobs/{layer}", size)
            time.sleep(2)  # the cache commits after the last byte
            results[f"{name}_cached_mbps"] = download_mbps(f"{server.url}{paths[name]}/blobs/{layer}", size)
            results[f"{name}_head_blob_rps"] = head_rate(f"{server.url}{paths[name]}/blobs/{layer}", args.seconds)
            results[f"{name}_get_manifest_rps"] = wrk_rate(
                f"{server.url}{paths[name]}/manifests/{manifest_digest}", args.seconds, accept)
            results[f"{name}_peak_rss_mib"] = server.peak_rss_mib()

        if link_rates and not can_shape_links():
            print("shaped-link pulls skipped: they need root, ip and tc", file=sys.stderr)
            link_rates = []
        if link_rates:
            link = NetworkNamespace()
            link.create()
            results["link"] = shaped_link_pulls(args, link, link_rates, work, env, servers)

        rows = [
            ("first pull through the mirror, MB/s", "first_mbps"),
            ("cached pull, MB/s", "cached_mbps"),
            ("HEAD blob (cached), 64 connections, /s", "head_blob_rps"),
            ("GET manifest by digest (cached), /s", "get_manifest_rps"),
            ("peak RSS, MiB", "peak_rss_mib"),
        ]
        print(f"\n{args.big_mib} MiB blob; straight from the upstream: {results['direct_mbps']:.0f} MB/s")
        print(f"| figure | Berth | Distribution proxy | ratio |\n|---|---|---|---|")
        for label, key in rows:
            b, r = results[f"berth_{key}"], results[f"reference_{key}"]
            ratio = f"{b / r:.2f}x" if r == r and b == b and r else "n/a"
            print(f"| {label} | {b:,.0f} | {r:,.0f} | {ratio} |")
        print(f"| first pull vs direct from the upstream | {results['berth_first_mbps'] / results['direct_mbps']:.2f}x "
              f"| {results['reference_first_mbps'] / results['direct_mbps']:.2f}x | |")
        for row in results.get("link", []):
            print(f"| first pull over a {row['mbit']:,} Mbit/s link ({args.link_mib} MiB): direct "
                  f"{row['direct_mbps']:,.0f} MB/s | {row['berth_first_mbps']:,.0f} MB/s, "
                  f"{row['berth_first_mbps'] / row['direct_mbps']:.2f}x of direct | "
                  f"{row['reference_first_mbps']:,.0f} MB/s, "
                  f"{row['reference_first_mbps'] / row['direct_mbps']:.2f}x of direct | "
                  f"{row['berth_first_mbps'] / row['reference_first_mbps']:.2f}x |")
        out = HERE / "out"
        out.mkdir(exist_ok=True)
        (out / "mirror.json").write_text(json.dumps(results, indent=2))
        return 0
    finally:
        for server in servers:
            server.stop()
        if link is not None:
            link.delete()
        shutil.rmtree(work, ignore_errors=True)


def shaped_link_pulls(args, link: NetworkNamespace, rates: list[int], work: Path, env: dict,
                      servers: list[Server]) -> list[dict]:
    """For each rate: a fresh image on the upstream behind the link, pulled once straight from
    it and once through each mirror (nothing cached yet), the link shaped to that rate."""
    port = free_port()
    (work / "far.yml").write_text(config(work / "far", port, "", host=link.ns_ip))
    far = Server("far-upstream", link.exec_prefix() + [args.registryd, "--config", str(work / "far.yml")],
                 port, work, host=link.ns_ip)
    servers.append(far)
    berth_port, ref_port = free_port(), free_port()
    (work / "berth-far.yml").write_text(config(
        work / "berth-far", berth_port, f"berth:\n  mirrors:\n    - prefix: far\n      url: {far.url}\n"))
    berth = Server("berth-far", [args.registryd, "--config", str(work / "berth-far.yml")], berth_port, work)
    (work / "ref-far.yml").write_text(config(work / "ref-far", ref_port, f"proxy:\n  remoteurl: {far.url}\n"))
    reference = Server("reference-far", [shutil.which(args.reference), "serve", str(work / "ref-far.yml")],
                       ref_port, work, env)
    servers += [berth, reference]
    accept = "application/vnd.oci.image.manifest.v1+json"
    rows = []
    for mbit in rates:
        name = f"library/link{mbit}"
        blob = random_file(work / "link.bin", args.link_mib)
        size = blob.stat().st_size
        shape(link, 100_000)  # pushing is not what is measured
        _, layer = push_image(far, name, blob)
        blob.unlink()
        shape(link, mbit)
        row = {"mbit": mbit, "direct_mbps": download_mbps(f"{far.url}/v2/{name}/blobs/{layer}", size)}
        for label, server, path in (("berth", berth, f"/v2/far/{name}"), ("reference", reference, f"/v2/{name}")):
            request("GET", f"{server.url}{path}/manifests/v1", headers={"Accept": accept})
            row[f"{label}_first_mbps"] = download_mbps(f"{server.url}{path}/blobs/{layer}", size)
        rows.append(row)
    return rows


if __name__ == "__main__":
    sys.exit(main())
