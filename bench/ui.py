#!/usr/bin/env python3
"""Web UI benchmark: the repository list over 10,000 repositories and the page of a
repository with 5,000 tags, under wrk at 16 connections.

    REGISTRYD_BIN=.build/release/registryd bench/ui.py [--repos 10000] [--tags 5000]
    bench/ui.py --url http://127.0.0.1:5000 --pid 1234   # a running registryd (open, mount.anywhere)

Without --url it starts its own registryd (no authentication, `berth.mount.anywhere: true`,
access log off) on a free 127.0.0.1 port with a temporary storage root, and stops it by its
PID at the end. It fills the registry the way bench/listing.py does, through the API only: one
config blob pushed once; each repository gets it by a mount and a small manifest; one repository
(`bench/tags`) gets that manifest under every tag. Then it reads registryd's RSS, runs
`wrk --latency` against each page below, reads the RSS again, and prints p99 latency and
requests per second per page. Needs wrk; otherwise the standard library only.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listing import Client, expect, fill, start_registry, stop_registry  # noqa: E402


def pages(repos: int) -> list[tuple[str, str]]:
    late = f"bench/repo-{max(repos - 60, 0):05d}"
    return [
        ("repositories, first page (by name)", "/ui/"),
        ("repositories, first page, newest push first", "/ui/?sort=pushed"),
        ("repositories, first page, largest first", "/ui/?sort=size"),
        # Matches 10 of 10,000 names: the filter scans every row, the worst case.
        ("repositories, filtered (q=repo-0999)", "/ui/?q=repo-0999"),
        ("repositories, filtered (q=repo-0, many match)", "/ui/?q=repo-0&sort=pushed"),
        (f"repositories, late page (after {late})", f"/ui/?sort=name&last={late}"),
        ("bench/tags (5,000 tags), newest first", "/ui/repository?name=bench/tags"),
        ("bench/tags, by name, late page", "/ui/repository?name=bench/tags&sort=name&last=v04900"),
        ("bench/tags, filtered (q=v049)", "/ui/repository?name=bench/tags&q=v049"),
    ]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for PID {pid}")


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, duration: int, connections: int, threads: int) -> tuple[float, float, float, int]:
    """p50 and p99 latency in ms, requests per second, and non-2xx/3xx responses."""
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         check=True, capture_output=True, text=True).stdout
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return p50, p99, rate, int(bad.group(1)) if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running registryd (no auth, berth.mount.anywhere: true)")
    parser.add_argument("--pid", type=int, help="its PID, for the RSS (with --url)")
    parser.add_argument("--repos", type=int, default=10_000)
    parser.add_argument("--tags", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="berth-ui-bench-")
    try:
        if args.url:
            url, pid = args.url, args.pid
        else:
            proc, url = start_registry(Path(tmp.name))
            pid = proc.pid
        client = Client(url)
        print(f"filling {url}: {args.repos} repositories, {args.tags} tags in bench/tags, {args.workers} workers")
        timings = fill(client, args.repos, args.tags, args.workers)
        print(f"filled in {timings['fill_repositories_s']:.1f} s (repositories) + {timings['fill_tags_s']:.1f} s (tags)")
        for _, path in pages(args.repos):
            status, _, data = client.request("GET", path)
            expect(status, 200, path, data)
            assert b"<tr data-name=" in data, f"{path}: no rows"
        # Let the API's own state settle (a manifest GET per repository page's worth) before
        # the baseline, so that the difference is what the UI's pages add.
        for i in range(0, args.repos, max(1, args.repos // 200)):
            client.request("GET", f"/v2/bench/repo-{i:05d}/manifests/latest",
                           headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        before = rss_kib(pid) if pid else None

        print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s per page"
              f"\n{'page':<50} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
        failures = 0
        for label, path in pages(args.repos):
            p50, p99, rate, bad = run_wrk(url + path, args.duration, args.connections, args.threads)
            failures += bad
            print(f"{label:<50} {p50:8.2f} {p99:8.2f} {rate:8.0f}" + (f"  ({bad} failed)" if bad else ""), flush=True)
        if pid:
            after = rss_kib(pid)
            print(f"\nregistryd RSS: {before / 1024:.1f} MiB before the UI runs, {after / 1024:.1f} MiB after "
                  f"({(after - before) / 1024:+.1f} MiB)")
        return 1 if failures else 0
    finally:
        stop_registry(proc)
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
