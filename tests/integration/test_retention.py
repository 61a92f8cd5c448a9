"""Tag retention (`berth.retention`, `registryctl gc --retention`, the schedule in registryd)
and the expiry of mirrored content, on real registryd processes."""
from __future__ import annotations

import json
import time

from helpers import (OCI_INDEX, OCI_MANIFEST, blob_file, descriptor, http, image_manifest, index_body, make_image,
                     push_blob, put_manifest, sha256, tags_of, wait_for_log)
from registry import RegistryProcess
from registryctl import registryctl

ACCEPT = {"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"}


def retention_config(policies: str, *, enabled: bool = True, extra: str = "") -> str:
    return (f"berth:\n  retention:\n    enabled: {'true' if enabled else 'false'}\n    untaggedgrace: 0s\n{extra}"
            f"    policies:\n{policies}")


def gc(reg, *args) -> dict:
    result = registryctl("gc", "--retention", "--json", *args, config=reg.config_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def deleted(report: dict) -> set[str]:
    return {f"{d['repository']}:{d['tag']}" for r in report["retention"] for d in r["decisions"] if not d["keep"]}


def push_tags(reg, name: str, tags: list[str], *, layer: bytes | None = None):
    """Pushes one small image per tag (sharing one layer, so hundreds are quick)."""
    layer = layer or b"shared layer"
    push_blob(reg, name, layer)
    digests = {}
    for tag in tags:
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
        push_blob(reg, name, config)
        body = image_manifest(OCI_MANIFEST, config, [layer])
        assert put_manifest(reg, name, tag, body, OCI_MANIFEST).status_code == 201
        digests[tag] = sha256(body)
    return digests


def test_policies_over_hundreds_of_tags_dry_run_then_enabled(tmp_path):
    policies = "      - repositories: ['ci/*']\n        keeplast: 10\n        keeptags: ['release-.*']\n"
    reg = RegistryProcess(tmp_path / "reg", extra_config=retention_config(policies, enabled=False)).start()
    try:
        tags = ["release-1", "release-2"] + [f"build-{i:03d}" for i in range(200)]
        digests = push_tags(reg, "ci/app", tags)
        push_tags(reg, "team/app", [f"t{i}" for i in range(20)])  # no policy covers it
        report = gc(reg)
        assert len(deleted(report)) == 190  # would delete: 202 - 10 newest - 2 releases
        assert "ci/app:release-1" not in deleted(report)
        assert all(t.startswith("ci/app:build-") for t in deleted(report))
        assert len(tags_of(reg, "ci/app")) == 202  # disabled: nothing deleted
        reason = next(d["reason"] for r in report["retention"] for d in r["decisions"] if not d["keep"])
        assert reason == "not among the 10 most recently pushed, matches no kept pattern"

        reg.stop()
        reg.config_path.write_text(reg.config_path.read_text().replace("enabled: false", "enabled: true"))
        reg.start()
        dry = gc(reg, "--dry-run")
        assert len(deleted(dry)) == 190 and len(tags_of(reg, "ci/app")) == 202
        report = gc(reg)
        remaining = tags_of(reg, "ci/app")
        assert sorted(remaining) == sorted([f"build-{i}" for i in range(190, 200)] + ["release-1", "release-2"])
        assert len(tags_of(reg, "team/app")) == 20
        assert report["gc"]["manifestsRemoved"] == 190
        gone = digests["build-000"]
        assert http("GET", reg, f"/v2/ci/app/manifests/{gone}", headers=ACCEPT).status_code == 404
        assert http("GET", reg, "/v2/ci/app/manifests/build-199", headers=ACCEPT).status_code == 200
    finally:
        reg.stop()


def test_an_index_keeps_its_children_and_a_referrer_keeps_its_subject(tmp_path):
    policies = "      - repositories: ['*']\n        keeplast: 1\n"
    reg = RegistryProcess(tmp_path / "reg", extra_config=retention_config(policies)).start()
    try:
        children = [make_image(reg, "multi/app", tag=f"child-{i}") for i in range(2)]
        signed = make_image(reg, "multi/app", tag="signed")
        signature_config = b"{}"
        push_blob(reg, "multi/app", signature_config)
        signature = image_manifest(OCI_MANIFEST, signature_config, [], subject=descriptor(OCI_MANIFEST, signed.body),
                                   artifact_type="application/vnd.example.sig")
        assert put_manifest(reg, "multi/app", sha256(signature), signature, OCI_MANIFEST).status_code == 201
        old = make_image(reg, "multi/app", tag="old")
        index = index_body(OCI_INDEX, children)
        assert put_manifest(reg, "multi/app", "latest", index, OCI_INDEX).status_code == 201

        report = gc(reg)
        reasons = {d["tag"]: d["reason"] for r in report["retention"] for d in r["decisions"]}
        assert reasons["latest"] == "among the 1 most recently pushed"
        assert reasons["child-0"].startswith("needed by index multi/app:latest")
        assert reasons["signed"] == f"needed by referrer {sha256(signature)}"
        assert deleted(report) == {"multi/app:old"}
        assert sorted(tags_of(reg, "multi/app")) == ["child-0", "child-1", "latest", "signed"]
        for child in children:
            assert http("GET", reg, f"/v2/multi/app/manifests/{sha256(child.body)}", headers=ACCEPT).status_code == 200
        referrers = http("GET", reg, f"/v2/multi/app/referrers/{sha256(signed.body)}").json()["manifests"]
        assert [m["digest"] for m in referrers] == [sha256(signature)]
        assert http("GET", reg, f"/v2/multi/app/manifests/{sha256(old.body)}", headers=ACCEPT).status_code == 404
    finally:
        reg.stop()


def test_a_pull_keeps_a_tag_alive(tmp_path):
    policies = "      - repositories: ['*']\n        keeplast: 1\n        keeppulledwithin: 1h\n"
    reg = RegistryProcess(tmp_path / "reg", extra_config=retention_config(policies)).start()
    try:
        push_tags(reg, "app", ["a", "b", "c"])
        assert http("GET", reg, "/v2/app/manifests/a", headers=ACCEPT).status_code == 200
        time.sleep(6)  # pull times are written every 5 seconds
        report = gc(reg)
        assert deleted(report) == {"app:b"}
        assert sorted(tags_of(reg, "app")) == ["a", "c"]
    finally:
        reg.stop()


def test_registryd_applies_the_policies_on_its_schedule(tmp_path):
    policies = "      - repositories: ['*']\n        keeplast: 2\n"
    reg = RegistryProcess(tmp_path / "reg",
                          extra_config=retention_config(policies, extra="    schedule: 2s\n")).start()
    try:
        digests = push_tags(reg, "app", ["one", "two", "three", "four"])
        deadline = time.time() + 20
        while time.time() < deadline and len(tags_of(reg, "app")) > 2:
            time.sleep(0.5)
        assert sorted(tags_of(reg, "app")) == ["four", "three"]
        # The collection that follows removes what the deleted tags named.
        while time.time() < deadline and http(
                "GET", reg, f"/v2/app/manifests/{digests['one']}", headers=ACCEPT).status_code != 404:
            time.sleep(0.5)
        assert http("GET", reg, f"/v2/app/manifests/{digests['one']}", headers=ACCEPT).status_code == 404
        assert wait_for_log(reg, "retention applied", timeout=10)
    finally:
        reg.stop()


def test_mirrored_content_not_pulled_within_its_expiry_goes_and_comes_back(tmp_path):
    upstream = RegistryProcess(tmp_path / "upstream").start()
    mirror = RegistryProcess(tmp_path / "mirror", extra_config=(
        f"berth:\n  mirrors:\n    - prefix: up\n      url: {upstream.url}\n      expiry: 2s\n"
        "  retention:\n    untaggedgrace: 0s\n"))
    mirror.start()
    try:
        image = make_image(upstream, "library/app", tag="v1")
        assert http("GET", mirror, "/v2/up/library/app/manifests/v1", headers=ACCEPT).status_code == 200
        layer = sha256(image.layers[0])
        assert http("GET", mirror, f"/v2/up/library/app/blobs/{layer}").status_code == 200
        deadline = time.time() + 10
        while not blob_file(mirror, layer).exists() and time.time() < deadline:
            time.sleep(0.1)
        private = make_image(mirror, "team/app", tag="v1")
        time.sleep(6)  # past the expiry, and past the pull-time flush
        report = gc(mirror)
        assert deleted(report) == {"up/library/app:v1"}
        assert not blob_file(mirror, layer).exists()
        assert tags_of(mirror, "team/app") == ["v1"]
        assert http("GET", mirror, f"/v2/team/app/manifests/{private.digest}", headers=ACCEPT).status_code == 200
        # Pulled again: fetched again.
        assert http("GET", mirror, "/v2/up/library/app/manifests/v1", headers=ACCEPT).status_code == 200
        assert sha256(http("GET", mirror, f"/v2/up/library/app/blobs/{layer}").content) == layer
    finally:
        mirror.stop()
        upstream.stop()
