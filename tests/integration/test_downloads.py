"""Blob downloads larger than the store's first read (256 KiB): on plain HTTP the rest of the file
goes out by sendfile, over TLS it is streamed. Whole bodies, ranges on both sides of the first
read, HTTP/1.0, keep-alive reuse, and a blob that garbage collection removes while it is being
downloaded (sent whole, then 404)."""
from __future__ import annotations

import hashlib
import os
import socket

import pytest
import requests

from helpers import assert_error, blob_file, http, push_blob, sha256
from registryctl import gc
from security import make_certs, tls_config

MIB = 1024 * 1024
FIRST_READ = 256 * 1024  # the filesystem store's first read; TLS streams the rest in chunks as large
SIZE = 3 * MIB + 12345  # past the first read, not a multiple of anything
RANGES = [(0, 99), (FIRST_READ - 10, FIRST_READ + 10), (FIRST_READ, 2 * FIRST_READ - 1),
          (MIB - 10, MIB + 10), (MIB, 2 * MIB - 1), (2 * MIB + 5, SIZE - 1), (SIZE - 1, SIZE - 1)]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs") / "set")


def check_downloads(reg, data: bytes, digest: str, **kwargs) -> None:
    whole = http("GET", reg, f"/v2/dl/big/blobs/{digest}", **kwargs)
    assert whole.status_code == 200, whole.text[:300]
    assert whole.headers["Content-Length"] == str(SIZE)
    assert sha256(whole.content) == digest
    for start, end in RANGES:
        part = http("GET", reg, f"/v2/dl/big/blobs/{digest}", headers={"Range": f"bytes={start}-{end}"}, **kwargs)
        assert part.status_code == 206, part.text[:300]
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{SIZE}"
        assert part.content == data[start:end + 1], f"range {start}-{end}"
    # One keep-alive connection: each response ends where it says, or the next one breaks.
    with requests.Session() as session:
        for start in (0, MIB + 1, 0):
            resp = session.get(f"{reg.url}/v2/dl/big/blobs/{digest}", headers={"Range": f"bytes={start}-"},
                               timeout=60, **kwargs)
            assert resp.status_code == 206 and resp.content == data[start:]


def test_large_blob_whole_and_ranges_over_plain_http(registry):
    data = os.urandom(SIZE)
    digest = push_blob(registry, "dl/big", data)
    check_downloads(registry, data, digest)


def test_large_blob_whole_and_ranges_over_tls(make_registry, certs):
    reg = make_registry(tls=True, extra_config=tls_config(certs)).start()
    data = os.urandom(SIZE)
    digest = push_blob_tls(reg, "dl/big", data, verify=str(certs / "ca.pem"))
    check_downloads(reg, data, digest, verify=str(certs / "ca.pem"))


def push_blob_tls(reg, name: str, data: bytes, verify: str) -> str:
    digest = sha256(data)
    resp = http("POST", reg, f"/v2/{name}/blobs/uploads/?digest={digest}", data=data,
                headers={"Content-Type": "application/octet-stream"}, verify=verify)
    assert resp.status_code == 201, resp.text
    return digest


def read_response(sock: socket.socket, first: bytes = b"") -> tuple[bytes, bytes]:
    """Head and body of a response the server ends by closing the connection."""
    buf = first
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    return head, body


def test_http10_download_is_whole_and_closes(registry):
    data = os.urandom(SIZE)
    digest = push_blob(registry, "dl/big", data)
    with socket.create_connection(("127.0.0.1", registry.port), timeout=30) as sock:
        sock.sendall(f"GET /v2/dl/big/blobs/{digest} HTTP/1.0\r\n\r\n".encode())
        head, body = read_response(sock)
    assert head.startswith(b"HTTP/1.0 200"), head
    assert f"content-length: {SIZE}".encode() in head.lower()
    assert sha256(body) == digest


def test_blob_removed_by_gc_during_a_download_is_sent_whole_then_404(registry):
    data = os.urandom(16 * MIB)
    digest = push_blob(registry, "dl/gone", data)
    with socket.create_connection(("127.0.0.1", registry.port), timeout=60) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(f"GET /v2/dl/gone/blobs/{digest} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        first = sock.recv(64 * 1024)
        assert first.startswith(b"HTTP/1.1 200"), first[:200]
        # The server is mid-body, waiting for this client to read. Unlink the blob and collect it.
        assert http("DELETE", registry, f"/v2/dl/gone/blobs/{digest}").status_code == 202
        report = gc(registry.config_path, "--grace", "0s")
        assert digest in {blob["digest"] for blob in report["blobs"]}
        assert not blob_file(registry, digest).exists()
        head, body = read_response(sock, first)
    assert len(body) == len(data)
    assert hashlib.sha256(body).hexdigest() == digest.split(":", 1)[1]
    assert_error(http("GET", registry, f"/v2/dl/gone/blobs/{digest}"), 404, "BLOB_UNKNOWN")
