"""registryd with its metadata in a real PostgreSQL 15 server (scripts/postgres-server.sh), as
GitLab's container registry is configured (`database:`): the API over it, the schema
migrations and registryd's refusals, a database lost at start and later, two nodes on one
database with read-your-writes across them, and gc and fsck."""
from __future__ import annotations

import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests

from helpers import (OCI_MANIFEST, assert_error, assert_status, describe, get_blob, get_manifest, http,
                     image_manifest, make_image, metric_sum, push_blob, put_manifest, scrape_metrics, sha256,
                     tags_of)
from postgres import pg_server, start_server, stop_server  # noqa: F401  (fixture)
from registry import RegistryProcess, anon_rss_mib, default_config, free_port, registryd_binary
from registryctl import fsck, gc, registryctl


def pg_config(tmp_path: Path, pg, dbname: str, *, name: str = "registry", root: Path | None = None,
              port: int | None = None, db_port: int | None = None, http_extra: str = "") -> tuple[Path, int]:
    """A config.yml with the filesystem for blobs and PostgreSQL for metadata."""
    port = port or free_port()
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yml"
    config.write_text(default_config(root or (tmp_path / "data"), port, extra=http_extra)
                      + pg.config(dbname, port=db_port))
    return config, port


def metered_pg_registry(tmp_path: Path, pg, dbname: str, **kwargs) -> RegistryProcess:
    """A node with its Prometheus metrics on a debug port of its own (`reg.debug_port`)."""
    debug_port = free_port()
    reg = pg_registry(tmp_path, pg, dbname, http_extra=(
        f"  debug:\n    addr: 127.0.0.1:{debug_port}\n    prometheus:\n      enabled: true\n      path: /metrics\n"),
        **kwargs)
    reg.debug_port = debug_port
    return reg


def tag_list_reads(reg, result: str) -> float:
    return metric_sum(scrape_metrics(reg.debug_port), "registry_tag_list_cache_total", result=result)


def wait_for_cached_tag_lists(reg, name: str) -> None:
    """Lists `name` until a list is answered from the node's cache (its lease is live)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        before = tag_list_reads(reg, "hit")
        tags_of(reg, name)
        if tag_list_reads(reg, "hit") > before:
            return
        time.sleep(0.1)
    raise AssertionError(f"{reg.url} never answered a tag list from its cache")


def wait_until_listed(reg, name: str, tag: str, listed: bool, why: str) -> None:
    """Lists `name` on `reg` until `tag` is in it (or, with `listed` false, gone), for 5 s at most."""
    deadline = time.monotonic() + 5
    while (tag in tags_of(reg, name)) != listed:
        assert time.monotonic() < deadline, why
        time.sleep(0.01)


@dataclass
class CachingNodes:
    """Node A writes; node B (metered) answers tag lists of `team/app` from its cache."""
    a: RegistryProcess
    b: RegistryProcess
    image: object


@contextmanager
def caching_nodes(tmp_path: Path, pg, dbname: str, *, metered_a: bool = False) -> Iterator[CachingNodes]:
    """Two nodes on one migrated database and one storage root, with an image tagged `v1`
    pushed through A and B's cache of `team/app` live; stops whichever nodes `a` and `b` name
    at the end (a test may replace one)."""
    migrate(tmp_path, pg, dbname)
    root = tmp_path / "shared-data"
    a = (metered_pg_registry if metered_a else pg_registry)(tmp_path, pg, dbname, name="a", root=root)
    nodes = CachingNodes(a, metered_pg_registry(tmp_path, pg, dbname, name="b", root=root), None)
    try:
        nodes.image = make_image(a, "team/app", tag="v1")
        wait_for_cached_tag_lists(nodes.b, "team/app")
        yield nodes
    finally:
        nodes.a.stop()
        nodes.b.stop()


def pg_registry(tmp_path: Path, pg, dbname: str, **kwargs) -> RegistryProcess:
    config, port = pg_config(tmp_path, pg, dbname, **kwargs)
    server = RegistryProcess(config.parent, config_text=config.read_text())
    server.port = port
    return server.start()


@pytest.fixture
def database(pg_server):
    """A fresh, empty database of its own for each test. (Not dropped one by one: the server is
    a throwaway cluster in a temporary folder, and DROP DATABASE's checkpoint can take a minute
    on a loaded machine.)"""
    return pg_server.make_database()


def migrate(tmp_path: Path, pg, dbname: str) -> subprocess.CompletedProcess:
    config, _ = pg_config(tmp_path, pg, dbname, name="migrate")
    return registryctl("database", "migrate", "up", config=config, check=True)


def start_failure(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True, timeout=60)


def test_migrate_up_and_status(tmp_path, pg_server, database):
    config, _ = pg_config(tmp_path, pg_server, database)
    status = registryctl("database", "migrate", "status", config=config)
    assert status.returncode == 1, status.stdout + status.stderr
    assert "1 metadata: pending" in status.stdout and "2 garbage-collection: pending" in status.stdout
    assert "3 browsing: pending" in status.stdout and "4 event-outbox: pending" in status.stdout
    assert "5 tag-list-cache: pending" in status.stdout
    up = registryctl("database", "migrate", "up", config=config, check=True)
    assert "applied 1 metadata" in up.stdout and "applied 2 garbage-collection" in up.stdout
    assert "applied 3 browsing" in up.stdout and "applied 4 event-outbox" in up.stdout
    assert "applied 5 tag-list-cache" in up.stdout
    status = registryctl("database", "migrate", "status", config=config, check=True)
    assert "pending" not in status.stdout and "5 tag-list-cache: applied" in status.stdout
    # Idempotent; recorded in schema_migrations as an independent client sees it.
    assert "up to date" in registryctl("database", "migrate", "up", config=config, check=True).stdout
    assert pg_server.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations",
                          dbname=database) == "1,2,3,4,5"


def test_push_pull_delete_and_list(tmp_path, pg_server, database):
    migrate(tmp_path, pg_server, database)
    reg = pg_registry(tmp_path, pg_server, database)
    try:
        image = make_image(reg, "team/app", tag="v1")
        assert_status(put_manifest(reg, "team/app", "v2", image.body, OCI_MANIFEST), 201)
        resp = get_manifest(reg, "team/app", "v1")
        assert_status(resp, 200)
        assert resp.content == image.body and resp.headers["Docker-Content-Digest"] == image.digest
        for layer in image.layers:
            resp = get_blob(reg, "team/app", sha256(layer))
            assert_status(resp, 200)
            assert resp.content == layer
        assert tags_of(reg, "team/app") == ["v1", "v2"]
        assert http("GET", reg, "/v2/_catalog").json()["repositories"] == ["team/app"]
        # The rows are in PostgreSQL, as psql sees them.
        assert pg_server.psql("SELECT count(*) FROM tag", dbname=database) == "2"
        assert pg_server.psql("SELECT count(*) FROM manifest", dbname=database) == "1"
        # Refusals stay OCI errors.
        assert_error(put_manifest(reg, "team/app", "bad", image_manifest(OCI_MANIFEST, b"{}", [os.urandom(10)]),
                                  OCI_MANIFEST), 400, "MANIFEST_BLOB_UNKNOWN")
        assert_error(get_manifest(reg, "team/app", "nope"), 404, "MANIFEST_UNKNOWN")
        assert_status(http("DELETE", reg, f"/v2/team/app/manifests/{image.digest}"), 202)
        assert_error(get_manifest(reg, "team/app", "v1"), 404, "MANIFEST_UNKNOWN")
        assert pg_server.psql("SELECT count(*) FROM tag", dbname=database) == "0"
        assert pg_server.password not in reg.log()
    finally:
        reg.stop()


def test_registryd_refuses_a_schema_with_pending_migrations(tmp_path, pg_server, database):
    config, _ = pg_config(tmp_path, pg_server, database)
    result = start_failure(config)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "registryctl database migrate up" in out, out
    assert out.strip().count("\n") == 0, out


def test_registryd_refuses_a_schema_newer_than_itself(tmp_path, pg_server, database):
    migrate(tmp_path, pg_server, database)
    pg_server.psql("INSERT INTO schema_migrations (version, name) VALUES (999, 'from-the-future')", dbname=database)
    config, _ = pg_config(tmp_path, pg_server, database)
    result = start_failure(config)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "999" in out and "does not know" in out, out
    status = registryctl("database", "migrate", "status", config=config)
    assert status.returncode == 1 and "999 (unknown" in status.stdout, status.stdout


def test_unreachable_database_at_start_is_one_line_and_exit_2(tmp_path, pg_server):
    config, _ = pg_config(tmp_path, pg_server, "berth", db_port=free_port())
    started = time.monotonic()
    result = start_failure(config)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "cannot reach the database" in out, out
    assert out.strip().count("\n") == 0, out
    assert pg_server.password not in out
    assert time.monotonic() - started < 30


def test_database_lost_later_is_503_with_retry_after(tmp_path, pg_server):
    # A second cluster of our own, stopped in the middle of the test.
    if not Path("/usr/lib/postgresql/15/bin/initdb").exists():
        pytest.skip("postgresql-15 is not installed")
    own, state = start_server(Path(tempfile.mkdtemp(prefix="berth-pg-lost-")))
    reg = None
    try:
        migrate(tmp_path, own, own.dbname)
        reg = pg_registry(tmp_path, own, own.dbname)
        image = make_image(reg, "team/app", tag="v1")
        assert_status(get_manifest(reg, "team/app", "v1"), 200)
        stop_server(state)
        for method, path in [("GET", "/v2/team/app/manifests/v1"), ("GET", "/v2/team/app/tags/list"),
                             ("HEAD", f"/v2/team/app/blobs/{sha256(image.layers[0])}")]:
            started = time.monotonic()
            resp = http(method, reg, path)
            assert resp.status_code == 503, describe(resp)
            assert resp.headers.get("Retry-After"), describe(resp)
            if method == "GET":
                assert_error(resp, 503, "UNAVAILABLE")
            assert time.monotonic() - started < 30
        assert reg.proc.poll() is None, "registryd must stay up"
        assert own.password not in reg.log()
    finally:
        if reg:
            reg.stop()
        stop_server(state)


def test_two_nodes_read_each_others_writes_at_once(tmp_path, pg_server, database):
    """A tag moved 1,000 times through node A is read each time through node B with the new digest."""
    migrate(tmp_path, pg_server, database)
    root = tmp_path / "shared-data"
    a = pg_registry(tmp_path, pg_server, database, name="a", root=root)
    b = pg_registry(tmp_path, pg_server, database, name="b", root=root)
    try:
        image = make_image(a, "team/app", tag="v1")
        session_a, session_b = requests.Session(), requests.Session()
        for i in range(1000):
            body = image_manifest(OCI_MANIFEST, image.config, image.layers, annotations={"n": str(i)})
            resp = session_a.put(f"{a.url}/v2/team/app/manifests/moving", data=body,
                                 headers={"Content-Type": OCI_MANIFEST}, timeout=30)
            assert resp.status_code == 201, describe(resp)
            resp = session_b.get(f"{b.url}/v2/team/app/manifests/moving", headers={"Accept": OCI_MANIFEST}, timeout=30)
            assert resp.status_code == 200, describe(resp)
            assert resp.headers["Docker-Content-Digest"] == sha256(body), f"move {i} served stale"
        # Blob pushed through A is visible through B at once too.
        digest = push_blob(a, "team/other", os.urandom(5000))
        assert_status(get_blob(b, "team/other", digest), 200)
    finally:
        a.stop()
        b.stop()


def test_tag_lists_cached_on_each_node_are_never_stale_after_a_201(tmp_path, pg_server, database):
    """Each node answers tag lists from memory, yet a tag added or deleted through node A is in
    (or gone from) node B's list as soon as A answered: A waits for every leased node to
    acknowledge the change before its 201/202."""
    with caching_nodes(tmp_path, pg_server, database, metered_a=True) as nodes:
        a, b, image = nodes.a, nodes.b, nodes.image
        hits_before = tag_list_reads(b, "hit")
        expected = {"v1"}
        session_a, session_b = requests.Session(), requests.Session()
        for i in range(300):
            # B's list is cached again before every change (the read after a change refills it).
            listed = session_b.get(f"{b.url}/v2/team/app/tags/list", timeout=30).json()["tags"]
            assert set(listed) == expected, f"round {i}: before the change"
            if i % 3 == 2:
                gone = f"t{i - 1}"
                resp = session_a.delete(f"{a.url}/v2/team/app/manifests/{gone}", timeout=30)
                assert resp.status_code == 202, describe(resp)
                expected.discard(gone)
            else:
                body = image_manifest(OCI_MANIFEST, image.config, image.layers, annotations={"n": str(i)})
                resp = session_a.put(f"{a.url}/v2/team/app/manifests/t{i}", data=body,
                                     headers={"Content-Type": OCI_MANIFEST}, timeout=30)
                assert resp.status_code == 201, describe(resp)
                expected.add(f"t{i}")
            listed = session_b.get(f"{b.url}/v2/team/app/tags/list", timeout=30).json()["tags"]
            assert set(listed) == expected, f"round {i}: node B served a stale tag list"
            assert listed == sorted(listed, key=lambda t: t.encode())
        # Most of B's lists came from its cache: the test exercised it.
        assert tag_list_reads(b, "hit") - hits_before >= 250
        # Pages of a cached list are the database's pages.
        wait_for_cached_tag_lists(b, "team/app")
        names = sorted(expected, key=lambda t: t.encode())
        resp = session_b.get(f"{b.url}/v2/team/app/tags/list?n=5&last={names[2]}", timeout=30)
        assert resp.json()["tags"] == names[3:8], describe(resp)
        # Moving a tag changes no list: no wait, and B still answers from memory.
        hits = tag_list_reads(b, "hit")
        body = image_manifest(OCI_MANIFEST, image.config, image.layers, annotations={"moved": "yes"})
        assert_status(put_manifest(a, "team/app", "v1", body, OCI_MANIFEST), 201)
        tags_of(b, "team/app")
        assert tag_list_reads(b, "hit") == hits + 1


def test_tag_changes_made_outside_registryd_reach_every_cache(tmp_path, pg_server, database):
    """The notification comes from a trigger in the writing transaction, so a tag row added or
    removed by any client of the database (here psql) empties every node's cache."""
    migrate(tmp_path, pg_server, database)
    reg = metered_pg_registry(tmp_path, pg_server, database)
    try:
        make_image(reg, "team/app", tag="v1")
        wait_for_cached_tag_lists(reg, "team/app")
        pg_server.psql("INSERT INTO tag (repository_id, name, manifest_id, updated_at) "
                       "SELECT repository_id, 'by-psql', manifest_id, updated_at FROM tag WHERE name = 'v1'",
                       dbname=database)
        wait_until_listed(reg, "team/app", "by-psql", True, "the cache kept a list from before psql's INSERT")
        wait_for_cached_tag_lists(reg, "team/app")
        pg_server.psql("DELETE FROM tag WHERE name = 'by-psql'", dbname=database)
        wait_until_listed(reg, "team/app", "by-psql", False, "the cache kept a list from before psql's DELETE")
    finally:
        reg.stop()


def test_a_node_killed_with_a_lease_delays_tag_changes_only_until_it_expires(tmp_path, pg_server, database):
    """kill -9 leaves the dead node's lease in the database: a writer waits for it (it cannot
    know the node is not serving) until the lease runs out, 3 s at most, and then answers. A
    node stopped cleanly gives its lease up, and writers do not wait at all."""
    with caching_nodes(tmp_path, pg_server, database) as nodes:
        a, image = nodes.a, nodes.image
        assert pg_server.psql("SELECT count(*) FROM cache_lease", dbname=database) == "2"
        nodes.b.kill()
        body = image_manifest(OCI_MANIFEST, image.config, image.layers, annotations={"after": "kill"})
        started = time.monotonic()
        assert_status(put_manifest(a, "team/app", "after-kill", body, OCI_MANIFEST), 201)
        waited = time.monotonic() - started
        assert waited < 5, f"the write waited {waited:.1f} s for a dead node"
        nodes.b = metered_pg_registry(tmp_path, pg_server, database, name="b", root=tmp_path / "shared-data",
                                      port=nodes.b.port)
        assert "after-kill" in tags_of(nodes.b, "team/app")
        nodes.b.stop()
        assert pg_server.psql("SELECT count(*) FROM cache_lease", dbname=database) == "1"
        started = time.monotonic()
        assert_status(put_manifest(a, "team/app", "after-stop", body, OCI_MANIFEST), 201)
        assert time.monotonic() - started < 1


def test_nodes_whose_database_connections_drop_serve_no_stale_tag_list(tmp_path, pg_server, database):
    """pg_terminate_backend ends every connection of both nodes, the listening ones among them:
    notifications sent meanwhile are lost to them, so each node starts over empty."""
    with caching_nodes(tmp_path, pg_server, database) as nodes:
        a, b, image = nodes.a, nodes.b, nodes.image
        for i in range(3):
            wait_for_cached_tag_lists(b, "team/app")
            pg_server.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           f"WHERE datname = '{database}' AND pid <> pg_backend_pid()", dbname=database)
            body = image_manifest(OCI_MANIFEST, image.config, image.layers, annotations={"n": str(i)})
            deadline = time.monotonic() + 20
            while True:
                resp = put_manifest(a, "team/app", f"after-drop-{i}", body, OCI_MANIFEST)
                if resp.status_code == 201 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert resp.status_code == 201, describe(resp)
            assert f"after-drop-{i}" in tags_of(b, "team/app"), f"round {i}: stale after the connections dropped"


def test_gc_and_fsck_against_postgres(tmp_path, pg_server, database):
    migrate(tmp_path, pg_server, database)
    reg = pg_registry(tmp_path, pg_server, database)
    try:
        keep = make_image(reg, "team/keep", tag="v1")
        drop = make_image(reg, "team/drop", tag="v1")
        assert_status(http("DELETE", reg, f"/v2/team/drop/manifests/{drop.digest}"), 202)
        report = gc(reg.config_path, "--grace", "0s")
        removed = {blob["digest"] for blob in report["blobs"]}
        assert removed == {sha256(drop.config), *(sha256(layer) for layer in drop.layers)}, report
        for blob in [keep.config, *keep.layers]:
            assert_status(get_blob(reg, "team/keep", sha256(blob)), 200)
        assert_status(get_manifest(reg, "team/keep", "v1"), 200)
        assert pg_server.psql("SELECT count(*) FROM blob_deletion", dbname=database) == "0"
        code, result = fsck(reg.config_path)
        assert code == 0, result
    finally:
        reg.stop()


# postgres-nio arms a timer each time a connection goes back to its pool idle (a keep-alive
# every 30 s, and an idle timeout for connections beyond maxidle) and cancels it when the
# connection is leased again; a cancelled Task.sleep keeps about 0.8 KiB until the time it was
# set for. With keep-alives on and the configured 1 m idle time, every read left that much
# behind for a minute. Berth turns keep-alives off and caps the idle time at 5 s.
TIMER_KIB_PER_READ = 0.8


def test_memory_stays_flat_under_a_steady_read_load(tmp_path, pg_server, database):
    migrate(tmp_path, pg_server, database)
    reg = pg_registry(tmp_path, pg_server, database)
    try:
        make_image(reg, "load/app", tag="v1")
        duration, settle = 30, 12
        load = subprocess.Popen(["wrk", "-t1", "-c8", f"-d{duration}s", f"{reg.url}/v2/load/app/tags/list"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            # Past the longest timer Berth lets the pool arm, memory has reached its level.
            time.sleep(settle)
            settled = anon_rss_mib(reg.proc.pid)
            output, _ = load.communicate(timeout=duration + 60)
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
        after = anon_rss_mib(reg.proc.pid)
        total = int(output.split(" requests in ")[0].split()[-1])
        assert "Non-2xx" not in output and "Socket errors" not in output, output
        in_window = total * (duration - settle) / duration
        # Enough reads that the timers' old cost would show: at least 6 MiB.
        assert in_window * TIMER_KIB_PER_READ / 1024 >= 6, f"only {total} reads in {duration} s:\n{output}"
        assert after - settled < 3, (
            f"anonymous memory grew {after - settled:.1f} MiB over {in_window:.0f} reads "
            f"after the first {settle} s ({settled:.1f} -> {after:.1f} MiB)")
    finally:
        reg.stop()
