#!/usr/bin/env python3
"""Garbage collection benchmark: fill a registry through its API with BLOBS blobs in MANIFESTS
manifests across REPOS repositories, delete half the tags, then time `registryctl gc` and
report its peak memory. Runs against the release build by default.

    python3 bench/gc.py [--repos 1000] [--manifests-per-repo 10] [--layers 9]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
from registry import RegistryProcess  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
local = threading.local()


def session() -> requests.Session:
    if not hasattr(local, "session"):
        local.session = requests.Session()
    return local.session


def push_blob(url: str, repo: str, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    reply = session().post(f"{url}/v2/{repo}/blobs/uploads/?digest={digest}", data=data)
    assert reply.status_code == 201, reply.text
    return {"mediaType": "application/octet-stream", "digest": digest, "size": len(data)}


def push_image(url: str, repo: str, tag: str, layers: int) -> None:
    config = push_blob(url, repo, json.dumps({"repo": repo, "tag": tag, "nonce": os.urandom(8).hex()}).encode())
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    descriptors = [push_blob(url, repo, os.urandom(64)) for _ in range(layers)]
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": descriptors}).encode()
    reply = session().put(f"{url}/v2/{repo}/manifests/{tag}", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert reply.status_code == 201, reply.text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--manifests-per-repo", type=int, default=10)
    parser.add_argument("--layers", type=int, default=9, help="layers per manifest (plus one config blob)")
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    build = os.environ.get("BUILD", str(HERE.parent / ".build" / "release"))
    os.environ.setdefault("REGISTRYD_BIN", f"{build}/registryd")
    registryctl = f"{build}/registryctl"

    work = Path(tempfile.mkdtemp(prefix="berth-gc-bench-"))
    registry = RegistryProcess(work, extra_config="").start()
    try:
        images = [(f"team{r // 100}/repo{r}", f"v{m}") for r in range(args.repos) for m in range(args.manifests_per_repo)]
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda image: push_image(registry.url, image[0], image[1], args.layers), images))
        fill = time.time() - started
        blobs = len(images) * (args.layers + 1)
        print(f"filled {len(images)} manifests, {blobs} blobs, {args.repos} repositories in {fill:.1f}s")

        doomed = images[::2]
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda image: session().delete(f"{registry.url}/v2/{image[0]}/manifests/{image[1]}"), doomed))
        print(f"deleted {len(doomed)} tags")

        os.sync()  # flush the fill's own writes, so that gc's timing is gc's
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.time()
        result = subprocess.run([registryctl, "gc", "--json", "--delete-untagged", "--grace", "0s",
                                 "--config", str(registry.config_path)], capture_output=True, text=True)
        elapsed = time.time() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if result.returncode != 0:
            sys.exit(f"gc failed: {result.stderr}")
        report = json.loads(result.stdout)
        print(f"registryctl gc: {elapsed:.2f}s wall ({report['sweepSeconds']:.2f}s marking and sweeping rows); removed {report['manifestsRemoved']} manifests, "
              f"{report['blobsRemoved']} blobs ({report['bytesFreed']} bytes); "
              f"peak RSS of gc {max(peak, before) / 1024:.1f} MiB (server running throughout)")
        check = subprocess.run([registryctl, "fsck", "--config", str(registry.config_path)],
                               capture_output=True, text=True)
        print(check.stdout.strip().splitlines()[-1])
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
