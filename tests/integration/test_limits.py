"""berth.limits: per-client rate, concurrent uploads, manifest size, and their defaults."""
import json
import subprocess
import threading
import time

import requests

from helpers import (OCI_MANIFEST, assert_error, assert_status, describe, http, image_manifest,
                     location_path, manifest_bytes, push_blob, put_manifest, rand_bytes, sha256,
                     start_upload, uniq, with_digest)
from rawhttp import connect, read_until_closed
from registry import registryd_binary

OCTET = {"Content-Type": "application/octet-stream"}


def limits(text: str) -> str:
    return "berth:\n  limits:\n" + "".join(f"    {line}\n" for line in text.strip().splitlines())


def test_rate_limit_answers_429_with_retry_after(make_registry):
    reg = make_registry(extra_config=limits("ratelimit:\n  requestspersecond: 2\n  burst: 5")).start()
    session = requests.Session()
    time.sleep(3)   # the bucket refills after start()'s own probe
    statuses = [session.get(reg.url + "/v2/", timeout=10) for _ in range(12)]
    codes = [r.status_code for r in statuses]
    assert codes[:5] == [200] * 5, codes
    limited = [r for r in statuses if r.status_code == 429]
    assert len(limited) >= 5, codes
    resp = limited[0]
    assert_error(resp, 429, "TOOMANYREQUESTS")
    assert int(resp.headers["Retry-After"]) >= 1, describe(resp)
    # the bucket refills
    time.sleep(1.2)
    assert_status(session.get(reg.url + "/v2/", timeout=10), 200)
    # health checks are not limited
    assert session.get(reg.url + "/healthz", timeout=10).status_code == 200


def test_no_rate_limit_by_default(registry):
    session = requests.Session()
    name = uniq("many")
    digest = push_blob(registry, name, b"x")
    codes = {session.head(f"{registry.url}/v2/{name}/blobs/{digest}", timeout=10).status_code for _ in range(2000)}
    assert codes == {200}


def test_concurrent_upload_limit(make_registry):
    reg = make_registry(extra_config=limits("concurrentuploads: 1\nreadtimeout: 20s")).start()
    name = uniq("slots")
    data = rand_bytes(4000)
    loc = location_path(start_upload(reg, name))
    other = location_path(start_upload(reg, name))
    # one PATCH holds the only slot: its body arrives slowly
    sock = connect(reg, timeout=30)
    try:
        sock.sendall((f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:1000])
        time.sleep(0.5)
        resp = http("PATCH", reg, other, data=b"abc", headers=OCTET)
        assert_error(resp, 429, "TOOMANYREQUESTS")
        assert resp.headers.get("Retry-After") == "1"
        resp = http("POST", reg, f"/v2/{name}/blobs/uploads/?digest={sha256(b'abc')}", data=b"abc", headers=OCTET)
        assert_error(resp, 429, "TOOMANYREQUESTS")
        # reads and starting sessions are not uploads
        assert_status(http("GET", reg, "/v2/"), 200)
        start_upload(reg, name)
        sock.sendall(data[1000:])
        sock.settimeout(10)
        assert b" 202 " in sock.recv(4096)
    finally:
        sock.close()
    resp = http("PATCH", reg, other, data=b"abc", headers=OCTET)
    assert_status(resp, 202)
    resp = http("PUT", reg, with_digest(location_path(resp), sha256(b"abc")))
    assert_status(resp, 201)


def test_manifest_size_limit_is_configurable(make_registry):
    reg = make_registry(extra_config=limits("manifestsize: 2048")).start()
    name = uniq("small")
    config, layer = b"{}", rand_bytes(100)
    push_blob(reg, name, config)
    push_blob(reg, name, layer)
    doc = json.loads(image_manifest(OCI_MANIFEST, config, [layer]))
    assert_status(put_manifest(reg, name, "ok", manifest_bytes(doc), OCI_MANIFEST), 201)
    doc["annotations"] = {"pad": "x" * 2100}
    resp = put_manifest(reg, name, "big", manifest_bytes(doc), OCI_MANIFEST)
    assert_error(resp, 413, "SIZE_INVALID")
    assert_error(http("GET", reg, f"/v2/{name}/manifests/big"), 404, "MANIFEST_UNKNOWN")


def test_invalid_limits_stop_registryd_with_status_2(tmp_path):
    for bad in ["manifestsize: 10", "readtimeout: 0s", "idletimeout: soon", "ratelimit:\n  requestspersecond: -1"]:
        config = tmp_path / "config.yml"
        config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path}/data\n"
                          f"http:\n  addr: 127.0.0.1:0\n" + limits(bad))
        result = subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, timeout=30)
        assert result.returncode == 2, (bad, result)
        assert b"berth.limits" in result.stderr + result.stdout, (bad, result)
