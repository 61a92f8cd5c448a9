#!/usr/bin/env python3
"""One node against three: Berth on PostgreSQL + S3 behind HAProxy.

Starts its own Ceph RGW (scripts/s3-server.sh) and PostgreSQL (scripts/postgres-server.sh),
then, for one and for three registryd nodes running deploy/fleet/config.yml behind HAProxy
running deploy/fleet/haproxy.cfg (the fleet of tests/support/fleet.py, a fresh database and
bucket each time), measures through HAProxy: 8 parallel 64 MiB uploads, 8 parallel streamed
downloads, and the HEAD blob, GET manifest and tag-list rates at 64 connections; with each
node's peak RSS and CPU time. Every process is stopped by its PID.

    REGISTRYD_BIN=.build/release/registryd bench/fleet.py [--out DIR] [--duration 10]

Two cores are shared by HAProxy, the nodes, PostgreSQL, the RGW and the load generators, so
three nodes here measure what the fan-out costs, not what more hosts would gain.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests" / "support"))

from bench import (MANIFEST_ACCEPT, MiB, BenchError, Server, cpu_seconds, curl_download,  # noqa: E402
                   head_blob, proc_status_kib, push_small_image, run_ab_head, run_wrk, upload_monolithic)
from fleet import Fleet, HAProxy  # noqa: E402
from postgres import PostgresServer  # noqa: E402
from s3 import S3Server  # noqa: E402


def start_script(script: str, state: Path) -> dict:
    out = subprocess.run([str(REPO / "scripts" / script), "start", str(state)], capture_output=True, text=True,
                         timeout=180)
    if out.returncode != 0:
        raise SystemExit(f"{script} did not start: {out.stderr}")
    return dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)


def sha256_file(path: Path) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def measure(nodes: int, pg: PostgresServer, s3: S3Server, work: Path, files: list[Path], digests: list[str],
            args) -> dict:
    fleet = Fleet(work / f"fleet-{nodes}", pg, s3, nodes=nodes, redirect=False)
    for node in fleet.nodes:
        node.start()
    # HAProxy's file names three servers: one node stands behind all three entries.
    fleet.lb = HAProxy(fleet.tmp_path / "haproxy", (fleet.nodes * 3)[:3]).start()
    try:
        lb = Server("berth", fleet.lb.url, fleet.nodes[0].proc.pid, upload_method="post")
        pids = [node.proc.pid for node in fleet.nodes]
        cpu0 = [cpu_seconds(pid) or 0 for pid in pids]
        result = {"nodes": nodes}

        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(files)) as pool:
            for future in [pool.submit(upload_monolithic, lb, "bench/par", f, d) for f, d in zip(files, digests)]:
                future.result()
        result["parallel_upload_mib_s"] = sum(f.stat().st_size for f in files) / MiB / (time.perf_counter() - t0)

        urls = [[f"{lb.url}/v2/bench/par/blobs/{d}"] * 2 for d in digests]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(files)) as pool:
            downloads = list(pool.map(curl_download, urls))
        elapsed = time.perf_counter() - t0
        total = sum(size for size, _ in downloads)
        if total != 2 * sum(f.stat().st_size for f in files):
            raise BenchError(f"parallel downloads got {total} bytes")
        result["parallel_download_mib_s"] = total / MiB / elapsed

        layer_digest, _ = push_small_image(lb, "bench/small", os.urandom(1024))
        if head_blob(lb, "bench/small", layer_digest) != 1024:
            raise BenchError("HEAD of the 1 KiB blob has the wrong length")
        head = run_ab_head(f"{lb.url}/v2/bench/small/blobs/{layer_digest}", duration=args.duration,
                           connections=64)
        result["head_blob_rps"] = head["rps"]
        for key, path, headers in (("get_manifest_rps", "/v2/bench/small/manifests/v1", {"Accept": MANIFEST_ACCEPT}),
                                   ("get_tags_rps", "/v2/bench/small/tags/list", None)):
            r = run_wrk(f"{lb.url}{path}", headers=headers, duration=args.duration, connections=64, threads=2,
                        workdir=work)
            if r["non2xx"] + r["socket_errors"] > 0.001 * max(r["requests"], 1):
                raise BenchError(f"{path}: {r['non2xx']} non-2xx, {r['socket_errors']} socket errors")
            result[key] = r["rps"]
        result["peak_rss_mib"] = [(proc_status_kib(pid, "VmHWM") or 0) / 1024 for pid in pids]
        result["cpu_s"] = [(cpu_seconds(pid) or 0) - c for pid, c in zip(pids, cpu0)]
        return result
    finally:
        fleet.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "out" / "fleet")
    parser.add_argument("--duration", type=int, default=10, help="seconds per request-rate run")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--mib", type=int, default=64)
    args = parser.parse_args()
    os.environ.setdefault("REGISTRYD_BIN", str(REPO / ".build" / "release" / "registryd"))
    for tool in ("haproxy", "wrk", "ab", "curl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (scripts/install-test-deps.sh)")

    work = Path(tempfile.mkdtemp(prefix="berth-bench-fleet-"))
    s3_state = Path(tempfile.mkdtemp(prefix="bfs3-", dir="/tmp"))  # short: Ceph's socket paths
    pg_state = Path(tempfile.mkdtemp(prefix="berth-bench-fleet-pg-"))  # outside `work`: the postgres user enters it
    os.chmod(work, 0o755)
    try:
        s3_env = start_script("s3-server.sh", s3_state)
        pg_env = start_script("postgres-server.sh", pg_state)
        s3 = S3Server(s3_env["S3_TEST_ENDPOINT"], s3_env["S3_TEST_ACCESS_KEY"], s3_env["S3_TEST_SECRET_KEY"],
                      s3_env["S3_TEST_REGION"])
        pg = PostgresServer(pg_env["PG_TEST_HOST"], int(pg_env["PG_TEST_PORT"]), pg_env["PG_TEST_USER"],
                            pg_env["PG_TEST_PASSWORD"], pg_env["PG_TEST_DBNAME"])
        files = []
        for i in range(args.files):
            path = work / f"par-{i}.bin"
            path.write_bytes(os.urandom(args.mib * MiB))
            files.append(path)
        digests = [sha256_file(f) for f in files]
        results = [measure(n, pg, s3, work, files, digests, args) for n in (1, 3)]
    finally:
        for script, state in (("s3-server.sh", s3_state), ("postgres-server.sh", pg_state)):
            subprocess.run([str(REPO / "scripts" / script), "stop", str(state)], capture_output=True, timeout=120)
            shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    one, three = results
    rows = [
        (f"{args.files} parallel {args.mib} MiB uploads", "MiB/s", "parallel_upload_mib_s"),
        (f"{args.files} parallel downloads (2x each, streamed)", "MiB/s", "parallel_download_mib_s"),
        ("HEAD blob, 64 connections (ab -k)", "req/s", "head_blob_rps"),
        ("GET manifest, 64 connections (wrk)", "req/s", "get_manifest_rps"),
        ("GET tag list, 64 connections (wrk)", "req/s", "get_tags_rps"),
    ]
    lines = ["| figure | unit | 1 node | 3 nodes | 3 / 1 |", "|---|---|---:|---:|---:|"]
    for label, unit, key in rows:
        lines.append(f"| {label} | {unit} | {one[key]:,.0f} | {three[key]:,.0f} | {three[key] / one[key]:.2f}x |")
    lines.append(f"| peak RSS per node | MiB | {one['peak_rss_mib'][0]:.0f} | "
                 f"{' / '.join(f'{v:.0f}' for v in three['peak_rss_mib'])} | |")
    lines.append(f"| CPU time of the nodes | s | {sum(one['cpu_s']):.1f} | "
                 f"{sum(three['cpu_s']):.1f} ({' + '.join(f'{v:.1f}' for v in three['cpu_s'])}) | |")
    table = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(table + "\n")
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table)
    print(f"load average now: {open('/proc/loadavg').read().split()[:3]}; wrote {args.out}/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
