"""The wrong protocol on a port: TLS on the plain-HTTP port and plain HTTP on the TLS port.
Either way the connection is refused promptly and the server goes on serving."""
from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import requests

from rawhttp import connect, exchange, parse_response, read_until_closed
from security import make_certs, tls_config


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs") / "set")


def test_tls_handshake_on_the_plain_port(registry):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with connect(registry) as sock:
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            with context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
                tls.recv(1024)
    # The raw ClientHello is not HTTP: an OCI 400 and a closed connection.
    hello = bytes.fromhex("16030100a5010000a10303") + b"\x00" * 160
    status, _, _ = parse_response(exchange(registry, hello))
    assert status == 400
    assert requests.get(registry.url + "/v2/", timeout=10).status_code == 200
    assert registry.proc.poll() is None


def test_plain_http_on_the_tls_port(make_registry, certs):
    reg = make_registry(tls=True, extra_config=tls_config(certs)).start()
    with connect(reg) as sock:
        sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = read_until_closed(sock, timeout=10)
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:200]
    ok = requests.get(reg.url + "/v2/", verify=str(certs / "ca.pem"), timeout=10)
    assert ok.status_code == 200, ok.text
    assert reg.proc.poll() is None
