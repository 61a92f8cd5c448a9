"""SIGTERM and SIGINT: stop accepting, drain requests in flight for up to
http.draintimeout, close the database, exit 0. An upload cut off is resumable."""
from __future__ import annotations

import hashlib
import os
import signal
import threading
import time

import pytest
import requests

from helpers import (assert_status, http, location_path, push_blob, rand_bytes, sha256, start_upload,
                     uniq, upload_url, with_digest)
from registry import default_config
from registryctl import fsck

CHUNK = 64 * 1024


def drain_config(seconds: int) -> str:
    return f"  draintimeout: {seconds}s\n"


def make_server(make_registry, drain: int):
    server = make_registry(config_text="placeholder")
    text = default_config(server.root, server.port).replace(
        f"  addr: 127.0.0.1:{server.port}\n", f"  addr: 127.0.0.1:{server.port}\n" + drain_config(drain))
    server.config_path.write_text(text)
    return server.start()


class SlowUpload(threading.Thread):
    """PATCHes `data` to an upload in chunks of 64 KiB, one every `pause` seconds."""

    def __init__(self, server, location: str, data: bytes, pause: float):
        super().__init__(daemon=True)
        self.url = upload_url(server, location)
        self.data = data
        self.pause = pause
        self.sent = 0
        self.response: requests.Response | None = None
        self.error: Exception | None = None

    def body(self):
        for offset in range(0, len(self.data), CHUNK):
            chunk = self.data[offset:offset + CHUNK]
            self.sent += len(chunk)
            yield chunk
            time.sleep(self.pause)

    def run(self):
        try:
            self.response = requests.patch(
                self.url, data=self.body(), timeout=120,
                headers={"Content-Type": "application/octet-stream"})
        except requests.RequestException as error:
            self.error = error

    def wait_for_bytes(self, count: int, timeout: float = 30):
        deadline = time.time() + timeout
        while self.sent < count and time.time() < deadline:
            time.sleep(0.05)
        assert self.sent >= count


def terminate(server, sig=signal.SIGTERM) -> tuple[int, float]:
    """Sends `sig` to the server; returns its exit status and how long it took to exit."""
    started = time.monotonic()
    os.kill(server.proc.pid, sig)
    try:
        status = server.proc.wait(60)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
    server.proc = None
    return status, time.monotonic() - started


def resume_and_finish(server, name: str, location: str, data: bytes):
    """Completes an upload from where the server says it stands."""
    status = http("GET", server, location)
    if status.status_code == 404:
        return None  # cleanly refused: the client starts again
    assert_status(status, 204)
    have = int(status.headers["Range"].split("-")[1]) + 1 if "Range" in status.headers else 0
    assert 0 <= have <= len(data)
    assert http("HEAD", server, f"/v2/{name}/blobs/{sha256(data)}").status_code == 404, \
        "the blob must not be committed before the client finishes it"
    loc = location_path(status)
    if have < len(data):
        resp = http("PATCH", server, loc, data=data[have:],
                    headers={"Content-Range": f"{have}-{len(data) - 1}",
                             "Content-Type": "application/octet-stream"})
        assert_status(resp, 202)
        loc = location_path(resp)
    resp = http("PUT", server, with_digest(loc, sha256(data)))
    assert_status(resp, 201)
    got = http("GET", server, f"/v2/{name}/blobs/{sha256(data)}")
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(data).hexdigest()
    return have


def test_sigterm_lets_a_slow_upload_finish_within_the_drain_time(make_registry):
    server = make_server(make_registry, drain=20)
    name = uniq()
    data = rand_bytes(80 * CHUNK)  # 5 MiB over about 4 seconds
    upload = SlowUpload(server, location_path(start_upload(server, name)), data, pause=0.05)
    upload.start()
    upload.wait_for_bytes(8 * CHUNK)
    os.kill(server.proc.pid, signal.SIGTERM)
    # New connections are refused soon after, while the upload is still being fed.
    refused_at = None
    deadline = time.time() + 3
    while refused_at is None and time.time() < deadline:
        try:
            requests.get(server.url + "/v2/", timeout=1)
            time.sleep(0.05)
        except requests.ConnectionError:
            refused_at = upload.sent
    assert refused_at is not None, "the server still accepted connections 3s after SIGTERM"
    assert refused_at < len(data), "the upload had ended before new connections were refused"
    status = server.proc.wait(30)
    server.proc = None
    upload.join(30)
    assert status == 0, server.log()
    assert upload.error is None, upload.error
    assert upload.response.status_code == 202, upload.response.text
    assert upload.response.headers["Range"] == f"0-{len(data) - 1}"
    assert "shutting down" in server.log() and "registry stopped" in server.log()

    server.start()
    assert resume_and_finish(server, name, upload.response.headers["Location"], data) == len(data)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_drain_timeout_cuts_off_an_upload_that_stays_resumable(make_registry, sig):
    server = make_server(make_registry, drain=2)
    name = uniq()
    push_blob(server, name, b"something already stored")
    data = rand_bytes(200 * CHUNK)  # 12.5 MiB at 64 KiB per 0.1 s: far longer than the drain time
    location = location_path(start_upload(server, name))
    upload = SlowUpload(server, location, data, pause=0.1)
    upload.start()
    upload.wait_for_bytes(10 * CHUNK)
    status, took = terminate(server, sig)
    assert status == 0, server.log()
    assert 1.5 < took < 10, f"exited after {took:.1f}s with a 2s drain time"
    assert "http.draintimeout" in server.log()
    assert "registry stopped" in server.log()
    upload.join(30)
    assert upload.response is None or upload.response.status_code >= 400

    server.start()
    have = resume_and_finish(server, name, location, data)
    assert have is None or have < len(data)
    server.stop()
    code, report = fsck(server.config_path)
    assert code == 0, report
