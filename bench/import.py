#!/usr/bin/env python3
"""Benchmark: `registryctl import` of a Distribution storage tree against a plain `cp -r` of
the same tree, both on one file system (so the import hard-links; it still reads and hashes
every byte, which `cp` does not).

Two trees, written directly in Distribution's layout (the layout tests/integration/
test_import.py proves against a real Distribution):
- many: 1,000 manifests in 100 repositories, each with a config and 9 layers of 4-64 KiB
  (10,000 blobs);
- big: one image with one 2 GiB layer.

Usage: bench/import.py [--registryctl BIN] [--big-mib 2048] [--manifests 1000]
Prints seconds, throughput and peak RSS of each and the ratio import/cp; writes
bench/out/import.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Tree:
    def __init__(self, root: Path):
        self.v2 = root / "docker" / "registry" / "v2"

    def blob(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        folder = self.v2 / "blobs" / "sha256" / digest[:2] / digest
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").write_bytes(data)
        return "sha256:" + digest

    def link(self, repo: str, kind: str, digest: str) -> None:
        folder = self.v2 / "repositories" / repo / kind / "sha256" / digest[7:]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "link").write_text(digest)

    def image(self, repo: str, tag: str, layers: list[tuple[str, int]]) -> None:
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
        config_digest = self.blob(config)
        self.link(repo, "_layers", config_digest)
        for digest, _ in layers:
            self.link(repo, "_layers", digest)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                       "size": len(config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s}
                       for d, s in layers],
        }).encode()
        digest = self.blob(manifest)
        self.link(repo, "_manifests/revisions", digest)
        tag_folder = self.v2 / "repositories" / repo / "_manifests" / "tags" / tag / "current"
        tag_folder.mkdir(parents=True, exist_ok=True)
        (tag_folder / "link").write_text(digest)


def make_many(root: Path, manifests: int) -> int:
    tree = Tree(root)
    total = 0
    for i in range(manifests):
        layers = []
        for j in range(9):
            data = os.urandom(4096 + (i * 9 + j) % 61440)
            layers.append((tree.blob(data), len(data)))
            total += len(data)
        tree.image(f"team/app{i % 100}", f"v{i // 100}", layers)
    return total


def make_big(root: Path, mib: int) -> int:
    tree = Tree(root)
    hasher = hashlib.sha256()
    tmp = root / "big.tmp"
    with open(tmp, "wb") as f:
        for _ in range(mib):
            chunk = os.urandom(1 << 20)
            hasher.update(chunk)
            f.write(chunk)
    digest = hasher.hexdigest()
    folder = tree.v2 / "blobs" / "sha256" / digest[:2] / digest
    folder.mkdir(parents=True)
    os.rename(tmp, folder / "data")
    tree.image("team/big", "v1", [("sha256:" + digest, mib << 20)])
    return mib << 20


def timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command, from /usr/bin/time."""
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *argv], capture_output=True, text=True)
    if out.returncode not in (0,):
        raise SystemExit(f"{argv[0]} failed ({out.returncode}): {out.stdout[-500:]} {out.stderr[-2000:]}")
    line = [l for l in out.stderr.splitlines() if l.startswith("TIME ")][-1]
    _, seconds, rss = line.split()
    return float(seconds), int(rss)


def drop_caches() -> None:
    subprocess.run(["sync"])
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registryctl", default=str(HERE.parent / ".build" / "release" / "registryctl"))
    parser.add_argument("--big-mib", type=int, default=2048)
    parser.add_argument("--manifests", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="berth-import-bench-", dir=os.environ.get("BENCH_TMPDIR", "/tmp")))
    results = {}
    try:
        for name, make in (("many", lambda r: make_many(r, args.manifests)), ("big", lambda r: make_big(r, args.big_mib))):
            source = work / f"{name}-source"
            source.mkdir()
            size = make(source)
            drop_caches()
            cp_seconds, cp_rss = timed(["cp", "-r", str(source), str(work / f"{name}-copy")])
            drop_caches()
            berth = work / f"{name}-berth"
            berth.mkdir()
            (berth / "config.yml").write_text(
                f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {berth / 'data'}\nhttp:\n  addr: 127.0.0.1:5999\n")
            import_seconds, import_rss = timed(
                [args.registryctl, "import", "--from", str(source), "--config", str(berth / "config.yml")])
            results[name] = {
                "bytes": size, "cp_seconds": cp_seconds, "cp_peak_rss_kib": cp_rss, "import_seconds": import_seconds,
                "import_peak_rss_kib": import_rss, "ratio": import_seconds / cp_seconds if cp_seconds else None,
            }
            shutil.rmtree(work / f"{name}-copy", ignore_errors=True)
        print("| tree | cp -r | registryctl import (hashing included) | import / cp | import peak RSS |")
        print("|---|---|---|---|---|")
        for name, r in results.items():
            label = f"{args.manifests} manifests, {args.manifests * 10} blobs" if name == "many" else f"one {args.big_mib} MiB blob"
            print(f"| {label} ({r['bytes'] / 2**20:,.0f} MiB) | {r['cp_seconds']:.2f} s | {r['import_seconds']:.2f} s "
                  f"| {r['ratio']:.2f}x | {r['import_peak_rss_kib'] / 1024:.0f} MiB |")
        out = HERE / "out"
        out.mkdir(exist_ok=True)
        (out / "import.json").write_text(json.dumps(results, indent=2))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
