"""Event notifications (`notifications.endpoints`, as Distribution reads them): a real webhook
receiver on loopback records what registryd posts for pushes, pulls, mounts and deletes, in
Distribution's envelope. Pushes and deletes are written to an outbox in the change's own
transaction, so a receiver that is down and a registryd killed with -9 meanwhile lose none:
after both come back every event arrives exactly once (a repeat only with the same id), in
order. Ignored actions and media types are honoured per endpoint; configured headers arrive."""
from __future__ import annotations

import json
import re
import time

import pytest
import requests

from postgres import pg_server  # noqa: F401  (fixture)
from helpers import (OCI_MANIFEST, assert_status, config_blob, get_blob, get_manifest, http,
                     image_manifest, metric_sum, push_blob, put_manifest, rand_bytes, scrape_metrics, sha256, uniq)
from registry import RegistryProcess, default_config, free_port
from registryctl import registryctl
from security import apache_htpasswd, htpasswd_config
from webhook import Receiver

ENVELOPE = "application/vnd.docker.distribution.events.v1+json"
SECRET = "Bearer s3cr3t-n0t-in-any-log-5d1e"
BLOB = "application/octet-stream"


@pytest.fixture
def receivers():
    started = [Receiver().start(), Receiver().start()]
    yield started
    for receiver in started:
        receiver.stop()


def notifications_config(everything: Receiver, quiet: Receiver) -> str:
    return f"""notifications:
  endpoints:
    - name: everything
      url: {everything.url}
      headers:
        Authorization: [{SECRET}]
        X-Berth-Test: [one, two]
      timeout: 1s
      threshold: 2
      backoff: 300ms
    - name: quiet
      url: {quiet.url}
      timeout: 1s
      ignoredmediatypes: [{BLOB}]
      ignore:
        actions: [pull]
    - name: off
      url: http://127.0.0.1:9/never
      disabled: true
"""


def unique(events: list[dict]) -> list[dict]:
    """Events by first arrival; a repeat must be the same event (same id, same content)."""
    seen: dict[str, dict] = {}
    result = []
    for event in events:
        if event["id"] in seen:
            assert seen[event["id"]] == event, "two different events with one id"
            continue
        seen[event["id"]] = event
        result.append(event)
    return result


def key(event: dict) -> tuple:
    target = event["target"]
    return (event["action"], target.get("repository"), target.get("digest"), target.get("tag"))


def push_image(reg, name: str, tag: str) -> tuple[list[tuple], bytes]:
    """Config, one layer, then the manifest under `tag`: the push events expected, in order."""
    config = config_blob(tag)
    layer = rand_bytes(1500)
    push_blob(reg, name, config)
    push_blob(reg, name, layer)
    body = image_manifest(OCI_MANIFEST, config, [layer])
    assert_status(put_manifest(reg, name, tag, body, OCI_MANIFEST), 201)
    expected = [("push", name, sha256(config), None), ("push", name, sha256(layer), None),
                ("push", name, sha256(body), tag)]
    return expected, body


def test_push_pull_delete_envelope(make_registry, receivers):
    everything, quiet = receivers
    reg = make_registry(extra_config=notifications_config(everything, quiet)).start()
    name = uniq("notify")
    expected, body = push_image(reg, name, "v1")
    digest = sha256(body)
    assert_status(get_manifest(reg, name, "v1", accept=OCI_MANIFEST), 200)
    layer_digest = expected[1][2]
    assert_status(get_blob(reg, name, layer_digest), 200)
    assert_status(http("DELETE", reg, f"/v2/{name}/manifests/v1"), 202)

    events = everything.wait_for(lambda e: len(unique(e)) >= 6)
    time.sleep(1.5)  # nothing more arrives
    events = unique(everything.events())
    pushes_deletes = [key(e) for e in events if e["action"] != "pull"]
    assert pushes_deletes == expected + [("delete", name, None, "v1")]
    pulls = [key(e) for e in events if e["action"] == "pull"]
    assert sorted(pulls, key=str) == sorted([("pull", name, digest, "v1"), ("pull", name, layer_digest, None)], key=str)

    # The envelope and the request as Distribution sends them.
    headers, envelope = everything.posts[0]
    assert headers["Content-Type"] == ENVELOPE
    assert headers["Authorization"] == SECRET
    assert set(envelope) == {"events"}
    manifest_push = next(e for e in events if e["action"] == "push" and e["target"].get("tag") == "v1")
    target = manifest_push["target"]
    assert target["mediaType"] == OCI_MANIFEST
    assert target["size"] == target["length"] == len(body)
    assert target["url"] == f"{reg.url}/v2/{name}/manifests/{digest}"
    assert manifest_push["request"]["method"] == "PUT"
    assert manifest_push["request"]["host"] == reg.host
    assert manifest_push["request"]["addr"] == "127.0.0.1"
    assert manifest_push["request"]["useragent"].startswith("python-requests")
    assert manifest_push["request"]["id"]
    assert manifest_push["source"]["instanceID"]
    assert manifest_push["timestamp"].endswith("Z")
    blob_push = next(e for e in events if e["action"] == "push" and e["target"]["digest"] == layer_digest)
    assert blob_push["target"]["mediaType"] == BLOB and blob_push["target"]["size"] == 1500
    assert blob_push["target"]["url"] == f"{reg.url}/v2/{name}/blobs/{layer_digest}"
    tag_delete = events[-1] if events[-1]["action"] == "delete" else next(e for e in events if e["action"] == "delete")
    assert tag_delete["target"] == {"repository": name, "tag": "v1"}
    assert tag_delete["request"]["method"] == "DELETE"

    # Ignored: pulls and blobs (application/octet-stream) are not sent to "quiet".
    quiet_events = unique(quiet.wait_for(lambda e: len(unique(e)) >= 2))
    time.sleep(1.0)
    assert [key(e) for e in unique(quiet.events())] == [expected[2], ("delete", name, None, "v1")]
    # The secret header value is in no log.
    assert SECRET not in reg.log()


@pytest.fixture(params=["sqlite", "postgres"])
def metadata_config(request, tmp_path):
    """The metadata store's part of config.yml: SQLite (none), or a fresh, migrated
    PostgreSQL database (a real server: scripts/postgres-server.sh)."""
    if request.param == "sqlite":
        return ""
    pg = request.getfixturevalue("pg_server")
    dbname = pg.make_database()
    text = pg.config(dbname)
    config = tmp_path / "migrate.yml"
    config.write_text(default_config(tmp_path / "migrate-data", free_port()) + text)
    registryctl("database", "migrate", "up", config=config, check=True)
    return text


def registry_with(tmp_path, name: str, extra: str, root=None) -> RegistryProcess:
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    server = RegistryProcess(folder, config_text="")
    server.config_path.write_text(default_config(root or folder / "data", server.port) + extra)
    return server


def test_outage_and_kill_lose_nothing(tmp_path, receivers, metadata_config):
    everything, quiet = receivers
    reg = registry_with(tmp_path, "registry", notifications_config(everything, quiet) + metadata_config).start()
    name = uniq("notify")
    other = uniq("mounted")
    expected, _ = push_image(reg, name, "v1")
    everything.wait_for(lambda e: len(unique(e)) >= 3)

    # The receiver goes down; the registry goes on accepting changes.
    everything.stop()
    quiet.stop()
    more, body2 = push_image(reg, name, "v2")
    expected += more
    mount = http("POST", reg, f"/v2/{other}/blobs/uploads/?mount={more[1][2]}&from={name}")
    assert_status(mount, 201)
    expected.append(("mount", other, more[1][2], None))
    assert_status(http("DELETE", reg, f"/v2/{name}/manifests/v1"), 202)
    expected.append(("delete", name, None, "v1"))
    assert_status(http("DELETE", reg, f"/v2/{name}/manifests/{sha256(body2)}"), 202)
    expected.append(("delete", name, sha256(body2), None))
    assert_status(http("DELETE", reg, f"/v2/{other}/blobs/{more[1][2]}"), 202)
    expected.append(("delete", other, more[1][2], None))
    time.sleep(1.5)  # some failed deliveries, then backoff
    delivered_before = len(unique(everything.events()))
    # A crash after every change was answered.
    reg.kill()

    # Both come back.
    everything.start()
    quiet.start()
    reg.start()
    events = everything.wait_for(lambda e: len([x for x in unique(e) if x["action"] != "pull"]) >= len(expected),
                                 timeout=60)
    time.sleep(1.5)
    events = unique(everything.events())
    assert delivered_before == 3, "events were delivered while the receiver was down"
    assert [key(e) for e in events if e["action"] != "pull"] == expected
    mounted = next(e for e in events if e["action"] == "mount")
    assert mounted["target"]["fromRepository"] == name
    assert mounted["target"]["size"] == 1500
    # All made by the first process (the source's instance id), sent by the second.
    assert len({e["source"]["instanceID"] for e in events}) == 1

    manifests = [k for k in expected if k[0] == "push" and k[3] is not None] + \
                [k for k in expected if k[0] == "delete"]
    quiet.wait_for(lambda e: len(unique(e)) >= len(manifests), timeout=30)
    assert [key(e) for e in unique(quiet.events())] == [k for k in expected if k in manifests]
    reg.stop()


def test_two_nodes_on_one_database_deliver_once(tmp_path, receivers, pg_server):
    """Two registryd processes on one PostgreSQL database, both delivering: each event is
    sent once (one holds an endpoint's lease at a time), in commit order."""
    everything, quiet = receivers
    dbname = pg_server.make_database()
    extra = notifications_config(everything, quiet) + pg_server.config(dbname)
    config = tmp_path / "migrate.yml"
    config.write_text(default_config(tmp_path / "migrate-data", free_port()) + extra)
    registryctl("database", "migrate", "up", config=config, check=True)
    shared = tmp_path / "blobs"
    nodes = [registry_with(tmp_path, f"node{i}", extra, root=shared).start() for i in range(2)]
    try:
        expected = []
        for round_ in range(3):
            for i, node in enumerate(nodes):
                more, _ = push_image(node, f"team/app{i}", f"r{round_}")
                expected += more
        events = everything.wait_for(lambda e: len(e) >= len(expected), timeout=60)
        time.sleep(2)
        events = everything.events()
        assert len(events) == len(unique(events)) == len(expected), "an event was sent twice"
        assert [key(e) for e in events] == expected
    finally:
        for node in nodes:
            node.stop()


def metric(port: int, name: str, endpoint: str) -> float:
    return metric_sum(scrape_metrics(port), name, endpoint=endpoint)


def test_actor_and_metrics(make_registry, tmp_path):
    """The authenticated user is the actor; the queue depth, deliveries and failures per
    endpoint are metrics."""
    receiver = Receiver()  # down at first
    users = apache_htpasswd(tmp_path / "users.htpasswd", {"alice": "alice-Pa55word"})
    debug_port = free_port()
    extra = (f"  debug:\n    addr: 127.0.0.1:{debug_port}\n    prometheus:\n      enabled: true\n      path: /metrics\n"
             + htpasswd_config(users)
             + f"notifications:\n  endpoints:\n    - name: hook\n      url: {receiver.url}\n"
               "      timeout: 500ms\n      threshold: 1\n      backoff: 200ms\n")
    reg = make_registry(extra_config=extra).start()
    auth = ("alice", "alice-Pa55word")
    try:
        layer = rand_bytes(100)
        digest = sha256(layer)
        resp = requests.post(f"{reg.url}/v2/team/app/blobs/uploads/?digest={digest}", data=layer, auth=auth, timeout=30)
        assert resp.status_code == 201, resp.text
        config = config_blob("v1")
        resp = requests.post(f"{reg.url}/v2/team/app/blobs/uploads/?digest={sha256(config)}", data=config,
                             auth=auth, timeout=30)
        assert resp.status_code == 201, resp.text
        body = image_manifest(OCI_MANIFEST, config, [layer])
        resp = requests.put(f"{reg.url}/v2/team/app/manifests/v1", data=body, auth=auth, timeout=30,
                            headers={"Content-Type": OCI_MANIFEST})
        assert resp.status_code == 201, resp.text
        # Refused requests make no events.
        assert requests.delete(f"{reg.url}/v2/team/app/manifests/v1", timeout=30).status_code == 401

        deadline = time.time() + 20
        while time.time() < deadline and not (metric(debug_port, "registry_notifications_pending", "hook") == 3
                                              and metric(debug_port, "registry_notifications_failures_total", "hook") >= 2):
            time.sleep(0.2)
        assert metric(debug_port, "registry_notifications_pending", "hook") == 3
        assert metric(debug_port, "registry_notifications_failures_total", "hook") >= 2
        assert metric(debug_port, "registry_notifications_delivered_total", "hook") == 0

        receiver.start()
        events = unique(receiver.wait_for(lambda e: len(unique(e)) >= 3))
        assert [e["actor"] for e in events] == [{"name": "alice"}] * 3
        deadline = time.time() + 20
        while time.time() < deadline and metric(debug_port, "registry_notifications_pending", "hook") != 0:
            time.sleep(0.2)
        assert metric(debug_port, "registry_notifications_pending", "hook") == 0
        assert metric(debug_port, "registry_notifications_delivered_total", "hook") == 3
    finally:
        reg.stop()
        receiver.stop()


def test_web_ui_delete_names_the_signed_in_user(make_registry, tmp_path):
    """A tag deleted in the web UI makes the same delete event, with the UI's user as actor."""
    receiver = Receiver().start()
    users = apache_htpasswd(tmp_path / "users.htpasswd", {"alice": "alice-Pa55word"})
    extra = htpasswd_config(users) + f"notifications:\n  endpoints:\n    - name: hook\n      url: {receiver.url}\n"
    reg = make_registry(extra_config=extra).start()
    try:
        auth = ("alice", "alice-Pa55word")
        config = config_blob("v1")
        for blob in (config,):
            resp = requests.post(f"{reg.url}/v2/team/web/blobs/uploads/?digest={sha256(blob)}", data=blob,
                                 auth=auth, timeout=30)
            assert resp.status_code == 201, resp.text
        body = image_manifest(OCI_MANIFEST, config, [])
        resp = requests.put(f"{reg.url}/v2/team/web/manifests/v1", data=body, auth=auth, timeout=30,
                            headers={"Content-Type": OCI_MANIFEST})
        assert resp.status_code == 201, resp.text

        browser = requests.Session()
        page = browser.get(f"{reg.url}/ui/login", timeout=30).text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        resp = browser.post(f"{reg.url}/ui/login", data={"csrf": token, "user": "alice", "password": auth[1]},
                            headers={"Origin": reg.url}, allow_redirects=False, timeout=30)
        assert resp.status_code in (302, 303), resp.text[:400]
        page = browser.get(f"{reg.url}/ui/repository?name=team/web", timeout=30).text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        resp = browser.post(f"{reg.url}/ui/delete", data={"csrf": token, "name": "team/web", "ref": "v1"},
                            headers={"Origin": reg.url}, allow_redirects=False, timeout=30)
        assert resp.status_code in (302, 303), resp.text[:400]

        events = unique(receiver.wait_for(lambda e: any(x["action"] == "delete" for x in e)))
        delete = next(e for e in events if e["action"] == "delete")
        assert delete["target"] == {"repository": "team/web", "tag": "v1"}
        assert delete["actor"] == {"name": "alice"}
        assert delete["request"]["method"] == "POST" and delete["request"]["id"]
    finally:
        reg.stop()
        receiver.stop()
