"""Raw sockets for tests that must send what no HTTP library would: garbage, huge headers,
bodies that stop half-way, bytes trickled one at a time."""
from __future__ import annotations

import json
import socket
import time


def connect(reg, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", reg.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout` passes)."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"connection still open after {timeout}s; received {data[:300]!r}")


def exchange(reg, payload: bytes, timeout: float = 10.0) -> bytes:
    """Send `payload` on a fresh connection; everything received until the server closes."""
    with connect(reg, timeout) as sock:
        sock.sendall(payload)
        return read_until_closed(sock, timeout)


def parse_response(raw: bytes) -> tuple[int, dict, bytes]:
    """Status, lower-cased headers and body of the first response in `raw`."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(body)))
    return status, headers, body[:length]


def error_code(body: bytes) -> str:
    return json.loads(body)["errors"][0]["code"]
