#!/usr/bin/env python3
"""Capacity of the PostgreSQL index: rows and bytes per million blobs, measured.

Starts a PostgreSQL cluster and an S3 server of its own (scripts/postgres-server.sh and
scripts/s3-server.sh) unless PG_TEST_* and S3_TEST_* are set, one registryd on them with
deploy/fleet/config.yml, and pushes IMAGES images of LAYERS small layers each (a config blob,
the layers, a manifest, a tag) into REPOS repositories. Then reads pg_total_relation_size
(table + indexes + TOAST) and the row count of every table after VACUUM ANALYZE, and prints
them per image and scaled to a million blobs. Blob bytes live in the bucket, not here; the
blobs are tiny so that the server's memory-backed test store is not the limit.

Usage: bench/fleet_capacity.py [--images 1000] [--layers 3] [--repos 20]
Writes bench/out/fleet_capacity.json. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from fleet import Fleet  # noqa: E402
from helpers import OCI_MANIFEST, image_manifest, sha256  # noqa: E402
from postgres import PostgresServer, start_server, stop_server  # noqa: E402
from s3 import S3Server, s3_from_environment  # noqa: E402

TABLES = ["repository", "blob", "repository_blob", "manifest", "manifest_blob", "manifest_child", "tag"]


def push_image(base: str, repo: str, n: int, layers: int) -> int:
    session = requests.Session()
    config = json.dumps({"architecture": "amd64", "os": "linux", "n": n}).encode()
    blobs = [config] + [os.urandom(512) + str(n).encode() + bytes([i]) for i in range(layers)]
    for blob in blobs:
        r = session.post(f"{base}/v2/{repo}/blobs/uploads/?digest={sha256(blob)}", data=blob,
                         headers={"Content-Type": "application/octet-stream"}, timeout=60)
        assert r.status_code == 201, r.text
    body = image_manifest(OCI_MANIFEST, config, blobs[1:])
    r = session.put(f"{base}/v2/{repo}/manifests/v{n}", data=body, headers={"Content-Type": OCI_MANIFEST}, timeout=60)
    assert r.status_code == 201, r.text
    return len(blobs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--repos", type=int, default=20)
    args = parser.parse_args()
    cleanup = []
    if os.environ.get("PG_TEST_HOST"):
        pg = PostgresServer(os.environ["PG_TEST_HOST"], int(os.environ["PG_TEST_PORT"]), os.environ["PG_TEST_USER"],
                            os.environ["PG_TEST_PASSWORD"], os.environ["PG_TEST_DBNAME"])
    else:
        pg, state = start_server(Path(tempfile.mkdtemp(prefix="berth-pg-cap-")))
        cleanup.append(lambda: stop_server(state))
    s3 = s3_from_environment()
    if s3 is None:
        state3 = Path("/tmp") / f"berth-s3-{uuid.uuid4().hex[:8]}"
        out = subprocess.run([str(ROOT / "scripts/s3-server.sh"), "start", str(state3)], capture_output=True,
                             text=True, check=True)
        env = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
        s3 = S3Server(env["S3_TEST_ENDPOINT"], env["S3_TEST_ACCESS_KEY"], env["S3_TEST_SECRET_KEY"], env["S3_TEST_REGION"])
        cleanup.append(lambda: subprocess.run([str(ROOT / "scripts/s3-server.sh"), "stop", str(state3)]))
    fleet = Fleet(Path(tempfile.mkdtemp(prefix="berth-cap-")), pg, s3, nodes=1)
    node = fleet.nodes[0].start()
    try:
        with ThreadPoolExecutor(8) as pool:
            blobs = sum(pool.map(lambda n: push_image(node.url, f"cap/r{n % args.repos}", n, args.layers),
                                 range(args.images)))
        pg.psql("VACUUM ANALYZE", dbname=fleet.dbname)
        result = {"images": args.images, "blobs": blobs, "repositories": args.repos, "tables": {}}
        for table in TABLES:
            rows = int(pg.psql(f"SELECT count(*) FROM {table}", dbname=fleet.dbname))
            size = int(pg.psql(f"SELECT pg_total_relation_size('{table}')", dbname=fleet.dbname))
            result["tables"][table] = {"rows": rows, "bytes": size}
        total = sum(t["bytes"] for t in result["tables"].values())
        result["bytes_total"] = total
        result["bytes_per_blob"] = total / blobs
        result["database_bytes"] = int(pg.psql(f"SELECT pg_database_size('{fleet.dbname}')", dbname=fleet.dbname))
        print(f"{args.images} images, {blobs} blobs, {args.repos} repositories")
        print(f"{'table':16} {'rows':>8} {'bytes':>10} {'rows/1M blobs':>14} {'MiB/1M blobs':>13}")
        for table, t in result["tables"].items():
            print(f"{table:16} {t['rows']:8} {t['bytes']:10} {t['rows'] * 1e6 / blobs:14.0f} "
                  f"{t['bytes'] * 1e6 / blobs / 2**20:13.0f}")
        print(f"{'total':16} {'':8} {total:10} {'':14} {total * 1e6 / blobs / 2**20:13.0f}")
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "fleet_capacity.json").write_text(json.dumps(result, indent=2))
    finally:
        fleet.stop()
        for step in cleanup:
            step()


if __name__ == "__main__":
    main()
