"""End-to-end: plain HTTP clients other than docker and skopeo.

ApacheBench (`ab`) is an HTTP/1.0 client, as are some proxies and health
checkers. An HTTP/1.0 connection is persistent only when the request says
`Connection: keep-alive` and the response says so too; otherwise the server
closes it after the response (RFC 9112, section 9.3). A server that keeps
such a connection open makes these clients hang until their timeout.
"""
import hashlib
import shutil
import socket

import pytest
import requests

from e2e_support import loud_skip, run


def _push_blob(registry, repo: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = requests.post(f"{registry.url}/v2/{repo}/blobs/uploads/", timeout=30)
    assert r.status_code == 202, r.text
    loc = requests.compat.urljoin(registry.url + "/", r.headers["Location"])
    sep = "&" if "?" in loc else "?"
    r = requests.put(f"{loc}{sep}digest={digest}", data=data,
                     headers={"Content-Type": "application/octet-stream"}, timeout=30)
    assert r.status_code == 201, r.text
    return digest


def _raw_http10(registry, request: str, timeout: float = 3.0) -> tuple[bytes, bool]:
    """Send one raw request; return (bytes received, closed by the server)."""
    with socket.create_connection(("127.0.0.1", registry.port), timeout=timeout) as sock:
        sock.sendall(request.encode())
        buf = b""
        try:
            while True:
                d = sock.recv(65536)
                if not d:
                    return buf, True
                buf += d
        except socket.timeout:
            return buf, False


@pytest.fixture
def ab():
    if shutil.which("ab") is None:
        loud_skip("`ab` (apache2-utils) is not installed, HTTP/1.0 client tests did not run")
    return "ab"


def test_http10_request_without_keepalive_is_closed(registry):
    data = b"http/1.0 body"
    digest = _push_blob(registry, "h10/app", data)
    for method in ("GET", "HEAD"):
        buf, closed = _raw_http10(
            registry, f"{method} /v2/h10/app/blobs/{digest} HTTP/1.0\r\nHost: {registry.host}\r\n\r\n")
        assert buf.split(b"\r\n", 1)[0].split(b" ")[1] == b"200", buf
        if method == "GET":
            assert buf.endswith(data), buf
        assert closed, (f"{method} over HTTP/1.0 without keep-alive: the server answered but did not "
                        f"close the connection within 3 s:\n{buf.decode(errors='replace')}")


def test_http10_keepalive_is_acknowledged(registry):
    digest = _push_blob(registry, "h10/app", b"x" * 100)
    buf, _ = _raw_http10(
        registry, f"HEAD /v2/h10/app/blobs/{digest} HTTP/1.0\r\nHost: {registry.host}\r\n"
                  "Connection: Keep-Alive\r\n\r\n", timeout=1.0)
    head = buf.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    assert " 200 " in head.split("\r\n", 1)[0], head
    assert "connection: keep-alive" in head.lower(), \
        f"an HTTP/1.0 keep-alive request must get `Connection: keep-alive` back:\n{head}"


@pytest.mark.parametrize("keepalive", [False, True], ids=["close", "keepalive"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_apachebench(registry, ab, method, keepalive):
    digest = _push_blob(registry, "ab/app", b"a" * 1024)
    args = [ab, "-n", "200", "-c", "4", "-s", "5"]
    if keepalive:
        args.append("-k")
    if method == "HEAD":
        args.append("-i")
    args.append(f"{registry.url}/v2/ab/app/blobs/{digest}")
    proc = run(args, check=False, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Complete requests:      200" in out, out
    assert "Failed requests:        0" in out, out
    assert "Non-2xx responses" not in out, out
