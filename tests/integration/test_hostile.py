"""Hostile and malformed input at the HTTP level: huge headers, garbage instead of HTTP,
slow clients, bodies that stop or lie, deeply nested JSON, path tricks. Each gets the right
status and OCI error, stores nothing, and the server keeps serving."""
import socket
import time

import pytest

from helpers import (OCI_MANIFEST, assert_error, assert_no_upload_files, assert_status, describe,
                     http, location_path, make_image, put_manifest, rand_bytes, sha256, shared,
                     start_upload, uniq, with_digest)  # noqa: F401
from rawhttp import connect, error_code, exchange, parse_response, read_until_closed

OCTET = {"Content-Type": "application/octet-stream"}


def assert_serving(reg):
    assert_status(http("GET", reg, "/v2/"), 200)


@pytest.fixture
def slow_registry(make_registry):
    """A registry with short read and idle timeouts."""
    return make_registry(extra_config="berth:\n  limits:\n    readtimeout: 2s\n    idletimeout: 3s\n").start()


# --------------------------------------------------------------------------- garbage and huge headers

@pytest.mark.parametrize("payload", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),   # a TLS ClientHello's first bytes
    b"GARBAGE GARBAGE GARBAGE\r\n\r\n",
    b"GET /v2/ HTTP/9.9\r\n\r\n",
    b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    b"GET /v2/ HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
], ids=["tls-hello", "words", "version", "binary", "header-syntax"])
def test_garbage_gets_400_and_close(shared, payload):
    raw = exchange(shared, payload)
    status, headers, body = parse_response(raw)
    assert status == 400, raw[:300]
    assert headers.get("connection") == "close"
    assert error_code(body) == "UNSUPPORTED"
    assert_serving(shared)


def test_headers_over_the_limit_get_431_and_close(shared):
    request = (b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n")
    raw = exchange(shared, request)
    status, headers, body = parse_response(raw)
    assert status == 431, raw[:300]
    assert headers.get("connection") == "close"
    assert error_code(body) == "SIZE_INVALID"
    # many small headers add up the same way
    request = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(1000)) + b"\r\n"
    status, _, body = parse_response(exchange(shared, request))
    assert status == 431
    assert_serving(shared)


def test_headers_under_the_limit_are_served(shared):
    resp = http("GET", shared, "/v2/", headers={"X-Big": "a" * (60 * 1024)})
    assert_status(resp, 200)


# --------------------------------------------------------------------------- slow clients

def test_trickled_request_head_is_closed_by_the_read_timeout(slow_registry):
    with connect(slow_registry, timeout=15) as sock:
        start = time.time()
        closed_after = None
        for byte in b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.time() - start
                break
            # the server closes once 2 s have passed since the first byte
            sock.settimeout(0.5)
            try:
                if sock.recv(1024) == b"":
                    closed_after = time.time() - start
                    break
            except socket.timeout:
                pass
        assert closed_after is not None, "a trickled head kept the connection open"
        assert closed_after < 6, closed_after
    assert_serving(slow_registry)
    assert "closing a slow connection" in slow_registry.log()


def test_stalled_upload_body_is_closed_and_the_upload_keeps_its_bytes(slow_registry):
    name = uniq("stall")
    first = rand_bytes(1000)
    loc = location_path(start_upload(slow_registry, name))
    resp = http("PATCH", slow_registry, loc, data=first, headers={**OCTET, "Content-Range": "0-999"})
    assert_status(resp, 202)
    loc = location_path(resp)
    with connect(slow_registry, timeout=15) as sock:
        start = time.time()
        sock.sendall((f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: 5000\r\nContent-Range: 1000-5999\r\n\r\n").encode() + rand_bytes(100))
        read_until_closed(sock, timeout=12)   # no answer is owed; the connection just ends
        assert time.time() - start < 8
    # the cut-off chunk left nothing: the session still has exactly its first 1000 bytes
    resp = http("GET", slow_registry, loc)
    assert_status(resp, 204)
    assert resp.headers["Range"] == "0-999", describe(resp)
    rest = rand_bytes(500)
    resp = http("PATCH", slow_registry, loc, data=rest, headers={**OCTET, "Content-Range": "1000-1499"})
    assert_status(resp, 202)
    resp = http("PUT", slow_registry, with_digest(location_path(resp), sha256(first + rest)))
    assert_status(resp, 201)
    assert http("GET", slow_registry, f"/v2/{name}/blobs/{sha256(first + rest)}").content == first + rest
    assert_no_upload_files(slow_registry)


def test_idle_keepalive_connection_is_closed_after_idletimeout(slow_registry):
    with connect(slow_registry, timeout=15) as sock:
        sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        start = time.time()
        raw = read_until_closed(sock, timeout=12)
        assert parse_response(raw)[0] == 200
        assert 2 < time.time() - start < 8


def test_slow_client_does_not_block_others(slow_registry):
    socks = [connect(slow_registry) for _ in range(20)]
    try:
        for sock in socks:
            sock.sendall(b"GET /v2/ HTTP/1.1\r\nHo")
        for _ in range(20):
            assert_serving(slow_registry)
    finally:
        for sock in socks:
            sock.close()


# --------------------------------------------------------------------------- bodies that lie or stop

def test_body_cut_off_midway_stores_nothing(registry):
    name = uniq("cut")
    data = rand_bytes(200_000)
    with connect(registry) as sock:
        sock.sendall((f"POST /v2/{name}/blobs/uploads/?digest={sha256(data)} HTTP/1.1\r\nHost: x\r\n"
                      f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n").encode()
                     + data[:50_000])
        time.sleep(0.3)
    # the server notices the close; the staging file goes
    deadline = time.time() + 5
    while time.time() < deadline and list((registry.root / "uploads").iterdir()):
        time.sleep(0.1)
    assert_no_upload_files(registry)
    assert_error(http("HEAD", registry, f"/v2/{name}/blobs/{sha256(data)}"), 404, None)
    assert_serving(registry)


@pytest.mark.parametrize("kind", ["blob", "manifest"])
def test_body_ending_before_its_content_length_is_400_and_stores_nothing(registry, kind):
    """The client closes its side midway and waits for the answer: the client's error (400
    SIZE_INVALID, not a 500 logged as the server's), and nothing of the body is kept."""
    name = uniq("short")
    data = rand_bytes(200_000)
    target = (f"POST /v2/{name}/blobs/uploads/?digest={sha256(data)}" if kind == "blob"
              else f"PUT /v2/{name}/manifests/v1")
    ctype = "application/octet-stream" if kind == "blob" else OCI_MANIFEST
    with connect(registry) as sock:
        sock.sendall((f"{target} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:50_000])
        sock.shutdown(socket.SHUT_WR)
        raw = read_until_closed(sock)
    status, headers, body = parse_response(raw)
    assert status == 400, raw[:400]
    assert headers.get("content-type", "").startswith("application/json"), raw[:400]
    assert error_code(body) == "SIZE_INVALID", raw[:400]
    assert "request failed" not in registry.log()
    assert_no_upload_files(registry)
    if kind == "blob":
        assert_error(http("HEAD", registry, f"/v2/{name}/blobs/{sha256(data)}"), 404, None)
    else:
        assert_error(http("GET", registry, f"/v2/{name}/manifests/v1"), 404, ("MANIFEST_UNKNOWN", "NAME_UNKNOWN"))
    assert_serving(registry)


def test_content_length_shorter_than_body(registry):
    """The bytes past Content-Length are read as the next request, which is not HTTP: 400."""
    name = uniq("lie")
    loc = location_path(start_upload(registry, name))
    raw = exchange(registry, (f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                              f"Content-Length: 10\r\n\r\n").encode() + b"0123456789" + b"\x01" * 30)
    status, headers, _ = parse_response(raw)
    assert status == 202
    assert headers["range"] == "0-9"
    assert b"HTTP/1.1 400" in raw
    resp = http("GET", registry, loc)
    assert resp.headers["Range"] == "0-9"


def test_content_range_disagreeing_with_content_length(shared):
    name = uniq("cr")
    loc = location_path(start_upload(shared, name))
    resp = http("PATCH", shared, loc, data=b"x" * 10, headers={**OCTET, "Content-Range": "0-19"})
    assert_error(resp, 416, "BLOB_UPLOAD_INVALID")


@pytest.mark.parametrize("content_range", ["abc", "5-", "-5", "9-3", "0-18446744073709551616"])
def test_malformed_content_range(shared, content_range):
    name = uniq("cr")
    loc = location_path(start_upload(shared, name))
    resp = http("PATCH", shared, loc, data=b"x" * 10, headers={**OCTET, "Content-Range": content_range})
    assert_error(resp, 416, "BLOB_UPLOAD_INVALID")


# --------------------------------------------------------------------------- manifests and paths

@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deeply_nested_json_manifest(shared, depth):
    name = uniq("deep")
    body = b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","annotations":' + \
        b"[" * depth + b"]" * depth + b"}"
    resp = put_manifest(shared, name, "t", body, OCI_MANIFEST)
    assert_error(resp, 400, "MANIFEST_INVALID")
    assert_error(http("GET", shared, f"/v2/{name}/manifests/t"), 404, ("MANIFEST_UNKNOWN", "NAME_UNKNOWN"))
    assert_serving(shared)


@pytest.mark.parametrize("path", [
    "/v2/%2e%2e/blobs/uploads/", "/v2/a/%2e%2e/b/blobs/uploads/", "/v2/a/../b/blobs/uploads/",
    "/v2//a/blobs/uploads/", "/v2/a//b/blobs/uploads/", "/v2/a%2fb/blobs/uploads/", "/v2/-a/blobs/uploads/",
    "/v2/a%00b/blobs/uploads/",
])
def test_path_tricks_in_names_store_nothing(registry, path):
    with connect(registry) as sock:   # sent as is: requests would normalise the dots
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        status, _, body = parse_response(read_until_closed(sock))
    assert status in (400, 404), body
    assert error_code(body) in ("NAME_INVALID", "UNSUPPORTED")
    assert_no_upload_files(registry)
    assert http("GET", registry, "/v2/_catalog").json()["repositories"] == []
