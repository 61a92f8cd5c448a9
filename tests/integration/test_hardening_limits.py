"""berth.limits against password guessing and slow or greedy clients: authfailures,
minbodyrate and connectionsperclient, over real sockets against a real registryd.

Clients that must come from another address bind their socket to 127.0.0.2 (all of
127.0.0.0/8 is loopback on Linux; registryd listens on 127.0.0.1)."""
from __future__ import annotations

import http.client
import os
import re
import select
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from helpers import (assert_error, assert_status, describe, location_path, metric_sum, rand_bytes, scrape_metrics,
                     sha256, start_upload, uniq, with_digest, http as request)
from rawhttp import connect, read_until_closed
from registry import free_port
from security import TokenIssuer, basic, make_certs, registryctl_binary, tls_config

PASSWORD = "correct horse battery staple"
OCTET = {"Content-Type": "application/octet-stream"}
OTHER_ADDRESS = "127.0.0.2"
GUESSES = 1000


def limits(text: str) -> str:
    return "berth:\n  limits:\n" + "".join(f"    {line}\n" for line in text.strip().splitlines())


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/PID/stat (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request_from(source: str, reg, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
                 timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """One request on a fresh connection whose source address is `source`."""
    conn = http.client.HTTPConnection("127.0.0.1", reg.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def bcrypt_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """`registryctl htpasswd add` at its default cost, 10 (the absent-user hash's too)."""
    for user, password in users.items():
        subprocess.run([registryctl_binary(), "htpasswd", "add", str(path), user], input=password + "\n",
                       text=True, check=True, capture_output=True, timeout=60)
    return path


def htpasswd_registry(make_registry, tmp_path, extra: str = ""):
    users = bcrypt_htpasswd(tmp_path / "users.htpasswd", {"alice": PASSWORD, "bob": PASSWORD + "!"})
    return make_registry(extra_config=f"auth:\n  htpasswd:\n    realm: Berth\n    path: {users}\n" + extra).start()


class Guessing:
    """`count` wrong passwords from 127.0.0.1 on one keep-alive connection, alternating a real
    and an unknown user name: the statuses, the first 429, and the server's CPU seconds for the
    whole loop and for the guesses after the first `threshold` (those the limit refuses)."""

    def __init__(self, reg, count: int, threshold: int = 10):
        session = requests.Session()
        self.statuses, self.first_refusal = [], None
        cpu_start, start = cpu_seconds(reg.proc.pid), time.monotonic()
        cpu_at_threshold = cpu_start
        for index in range(count):
            if index == threshold:
                cpu_at_threshold = cpu_seconds(reg.proc.pid)
            user = "alice" if index % 2 == 0 else "nobody"
            resp = session.get(reg.url + "/v2/", headers=basic(user, f"guess-{index}"), timeout=60)
            self.statuses.append(resp.status_code)
            if resp.status_code == 429 and self.first_refusal is None:
                self.first_refusal = resp
        cpu_end = cpu_seconds(reg.proc.pid)
        self.cpu, self.cpu_past_threshold = cpu_end - cpu_start, cpu_end - cpu_at_threshold
        self.wall = time.monotonic() - start

    def report(self, label: str) -> str:
        return (f"\n{len(self.statuses)} wrong passwords, {label}: {self.cpu:.2f} CPU seconds in all, "
                f"{self.cpu_past_threshold:.2f} after the first 10; {self.wall:.1f} s")


# --------------------------------------------------------------------------- password guessing

def test_password_guessing_is_refused_without_bcrypt_and_others_still_log_in(make_registry, tmp_path):
    reg = htpasswd_registry(make_registry, tmp_path)
    guessing = Guessing(reg, GUESSES)
    print(guessing.report("default limit"))
    statuses, refusal = guessing.statuses, guessing.first_refusal
    # The default: 10 failures a minute, then 429 for the rest of the minute.
    assert statuses[:10] == [401] * 10, statuses[:12]
    assert set(statuses[10:]) == {429}, sorted(set(statuses))
    assert_error(refusal, 429, "TOOMANYREQUESTS")
    assert 1 <= int(refusal.headers["Retry-After"]) <= 60, describe(refusal)
    # The 990 refused guesses run no bcrypt: each costs a small fraction of a checked one, and
    # the whole loop a few CPU seconds (about 2 ms a request in a debug build, access log
    # included), against well over a minute with the limit off.
    checked = (guessing.cpu - guessing.cpu_past_threshold) / 10
    refused = guessing.cpu_past_threshold / (GUESSES - 10)
    assert refused < checked / 10, guessing.report("default limit")
    assert guessing.cpu < 5.0, guessing.report("default limit")

    # alice, from another address, gets in at once although her name was guessed at...
    start = time.monotonic()
    status, _, _ = request_from(OTHER_ADDRESS, reg, "GET", "/v2/", basic("alice", PASSWORD))
    assert status == 200
    # ...and so does bob.
    status, _, _ = request_from(OTHER_ADDRESS, reg, "GET", "/v2/", basic("bob", PASSWORD + "!"))
    assert status == 200
    assert time.monotonic() - start < 2
    # The guessing address stays refused, even with the right password: nothing is checked.
    status, headers, body = request_from("127.0.0.1", reg, "GET", "/v2/", basic("alice", PASSWORD))
    assert status == 429 and "retry-after" in headers, (status, body)
    # Requests without credentials are not failures and are still answered.
    assert request_from("127.0.0.1", reg, "GET", "/v2/")[0] == 401

    # Logged once for the window, with the address and the user name, never a password.
    log = reg.log()
    lines = [line for line in log.splitlines() if "too many failed authentications" in line]
    assert len(lines) == 1, lines
    assert "127.0.0.1" in lines[0] and "alice" in lines[0], lines[0]
    assert "guess-" not in log and PASSWORD not in log


def ui_sign_in(reg, user: str, password: str, source: str = "127.0.0.1") -> tuple[int, dict, bytes]:
    """The web UI's sign-in form as a browser posts it: the CSRF token from the form's page."""
    _, _, page = request_from(source, reg, "GET", "/ui/login")
    token = re.search(rb'name="csrf" value="([^"]+)"', page)
    assert token, page[:400]
    body = urlencode({"csrf": token.group(1).decode(), "user": user, "password": password}).encode()
    return request_from(source, reg, "POST", "/ui/login", body=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_guessing_through_the_web_ui_sign_in_is_limited_with_the_api(make_registry, tmp_path):
    reg = htpasswd_registry(make_registry, tmp_path, limits("authfailures: 3"))
    statuses = [ui_sign_in(reg, "alice", f"guess-{index}")[0] for index in range(3)]
    assert statuses == [401, 401, 401]
    status, headers, page = ui_sign_in(reg, "alice", PASSWORD)
    assert status == 429 and int(headers["retry-after"]) > 0, page[:400]
    assert b"Too many failed sign-ins" in page
    # One count for the form and the API: the guessing address is refused there too.
    status, _, _ = request_from("127.0.0.1", reg, "GET", "/v2/", headers=basic("alice", PASSWORD))
    assert status == 429
    # The owner signs in at once from an address that has not failed.
    status, headers, _ = ui_sign_in(reg, "alice", PASSWORD, source=OTHER_ADDRESS)
    assert status == 303 and "set-cookie" in headers


def test_a_user_name_guessed_from_elsewhere_is_refused_only_to_addresses_that_failed(make_registry, tmp_path):
    reg = htpasswd_registry(make_registry, tmp_path, limits("authfailures: 3"))
    # Three addresses guess bob's password once each: none is over its own limit.
    for source in ("127.0.0.3", "127.0.0.4", "127.0.0.5"):
        assert request_from(source, reg, "GET", "/v2/", basic("bob", "guess"))[0] == 401
    # bob's name is over the limit now: a failed address may not guess it again...
    status, headers, _ = request_from("127.0.0.3", reg, "GET", "/v2/", basic("bob", "another guess"))
    assert status == 429 and int(headers["retry-after"]) >= 1
    # ...but may still use another account,
    assert request_from("127.0.0.3", reg, "GET", "/v2/", basic("alice", PASSWORD))[0] == 200
    # and bob, from an address that did not fail, logs in; that resets his name's count.
    assert request_from(OTHER_ADDRESS, reg, "GET", "/v2/", basic("bob", PASSWORD + "!"))[0] == 200
    assert request_from("127.0.0.4", reg, "GET", "/v2/", basic("bob", "guess"))[0] == 401


def test_authfailures_zero_turns_the_limit_off(make_registry, tmp_path):
    reg = htpasswd_registry(make_registry, tmp_path, limits("authfailures: 0"))
    assert Guessing(reg, 15).statuses == [401] * 15


@pytest.mark.skipif(not os.environ.get("BERTH_MEASURE_GUESSING"), reason="set BERTH_MEASURE_GUESSING=1 to measure")
def test_measure_guessing_cost_without_the_limit(make_registry, tmp_path):
    """The "before" figure: the same loop with the limit off (every guess runs bcrypt)."""
    reg = htpasswd_registry(make_registry, tmp_path, limits("authfailures: 0"))
    guessing = Guessing(reg, GUESSES)
    print(guessing.report("authfailures: 0"))
    assert set(guessing.statuses) == {401}


def test_bad_bearer_tokens_are_limited_per_address(make_registry, tmp_path):
    issuer = TokenIssuer(tmp_path / "issuer")
    reg = make_registry(extra_config=issuer.config("https://auth.example/token")).start()
    # A token signed by a key the registry does not trust, and plain garbage.
    access = [{"type": "repository", "name": "team/app", "actions": ["pull"]}]
    forged = issuer.token(access, key=TokenIssuer(tmp_path / "other").key)
    session = requests.Session()
    statuses = []
    for index in range(200):
        token = forged if index % 2 else "not.a.token"
        statuses.append(session.get(reg.url + "/v2/", headers={"Authorization": f"Bearer {token}"}, timeout=30))
    codes = [r.status_code for r in statuses]
    assert codes[:10] == [401] * 10, codes[:12]
    assert set(codes[10:]) == {429}, sorted(set(codes))
    assert_error(statuses[10], 429, "TOOMANYREQUESTS")
    assert int(statuses[10].headers["Retry-After"]) >= 1
    # A valid token from another address works at once.
    status, _, body = request_from(OTHER_ADDRESS, reg, "GET", "/v2/",
                                   {"Authorization": f"Bearer {issuer.token([])}"})
    assert status == 200, body
    # A valid token with too little access is not a failure: it is not counted.
    for _ in range(15):
        status, headers, _ = request_from("127.0.0.3", reg, "GET", "/v2/team/app/tags/list",
                                          {"Authorization": f"Bearer {issuer.token([])}"})
        assert status == 401 and 'error="insufficient_scope"' in headers["www-authenticate"]
    status, headers, _ = request_from("127.0.0.3", reg, "GET", "/v2/", {"Authorization": "Bearer not.a.token"})
    assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"]


# --------------------------------------------------------------------------- slow bodies

def patch_head(loc: str, length: int, start: int) -> bytes:
    return (f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {length}\r\nContent-Range: {start}-{start + length - 1}\r\n\r\n").encode()


def trickle(sock: socket.socket, rate: int, seconds: float) -> float | None:
    """Sends `rate` bytes a second for up to `seconds`; when the server closed, how long it took."""
    start = time.monotonic()
    sock.settimeout(0.05)
    while time.monotonic() - start < seconds:
        try:
            sock.sendall(b"t" * max(1, rate // 10))
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def send_throttled(reg, loc: str, data: bytes, start: int, rate: int) -> tuple[int, dict, float]:
    """A PATCH whose body goes out at `rate` bytes a second, in 1/16 s slices."""
    sock = connect(reg, timeout=60)
    began = time.monotonic()
    try:
        sock.sendall(patch_head(loc, len(data), start))
        step = rate // 16
        for offset in range(0, len(data), step):
            sock.sendall(data[offset:offset + step])
            delay = began + (offset + step) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            assert chunk, f"closed after {time.monotonic() - began:.1f}s"
            raw += chunk
        head = raw.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        return int(head[0].split()[1]), headers, time.monotonic() - began
    finally:
        sock.close()


def test_a_trickled_body_is_cut_and_the_upload_resumes_while_a_64k_client_finishes(make_registry):
    # The default minimum rate (1 KiB/s) over a 3 s period instead of 30 s, to keep the test short.
    reg = make_registry(extra_config=limits("minbodyrateperiod: 3s")).start()
    name = uniq("slowbody")
    first = rand_bytes(1000)
    resp = request("PATCH", reg, location_path(start_upload(reg, name)), data=first,
                   headers={**OCTET, "Content-Range": "0-999"})
    assert_status(resp, 202)
    loc = location_path(resp)

    # A client on a 64 KiB/s link uploads to another session at the same time.
    throttled_loc = location_path(start_upload(reg, name))
    throttled_data = rand_bytes(512 * 1024)
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        answer=send_throttled(reg, throttled_loc, throttled_data, 0, 64 * 1024)))
    thread.start()

    # 200 bytes a second: it never stalls for the read timeout, but is below 1 KiB/s.
    with connect(reg, timeout=30) as sock:
        sock.sendall(patch_head(loc, 100_000, 1000))
        closed_after = trickle(sock, 200, 20)
    assert closed_after is not None, "a trickled body kept its connection"
    assert 2.5 < closed_after < 10, closed_after
    assert "below berth.limits.minbodyrate" in reg.log()

    # The session is intact: GET reports the offset, a PATCH from there continues.
    resp = request("GET", reg, loc)
    assert_status(resp, 204)
    assert resp.headers["Range"] == "0-999", describe(resp)
    rest = rand_bytes(5000)
    resp = request("PATCH", reg, loc, data=rest, headers={**OCTET, "Content-Range": "1000-5999"})
    assert_status(resp, 202)
    resp = request("PUT", reg, with_digest(location_path(resp), sha256(first + rest)))
    assert_status(resp, 201)
    assert request("GET", reg, f"/v2/{name}/blobs/{sha256(first + rest)}").content == first + rest

    thread.join(30)
    status, headers, took = result["answer"]
    assert status == 202 and headers["range"] == f"0-{len(throttled_data) - 1}", (status, headers)
    assert took > 7, took   # it really was throttled
    resp = request("PUT", reg, with_digest(throttled_loc, sha256(throttled_data)))
    assert_status(resp, 201)


def test_a_64k_client_is_not_cut_under_the_defaults(make_registry):
    """The defaults, 1 KiB/s over 30 s: a body that lasts longer than the period at 64 KiB/s."""
    reg = make_registry().start()
    name = uniq("slowlink")
    loc = location_path(start_upload(reg, name))
    data = rand_bytes(64 * 1024 * 33)
    status, headers, took = send_throttled(reg, loc, data, 0, 64 * 1024)
    assert status == 202, (status, headers)
    assert took > 31, took
    assert_status(request("PUT", reg, with_digest(loc, sha256(data))), 201)
    assert "closing a slow connection" not in reg.log()


def test_minbodyrate_zero_turns_the_check_off(make_registry):
    reg = make_registry(extra_config=limits("minbodyrate: 0\nminbodyrateperiod: 1s\nreadtimeout: 3s")).start()
    loc = location_path(start_upload(reg, uniq("off")))
    with connect(reg, timeout=30) as sock:
        sock.sendall(patch_head(loc, 100_000, 0))
        assert trickle(sock, 100, 4) is None


# --------------------------------------------------------------------------- connection floods

def scrape_counter(port: int, name: str) -> float:
    return metric_sum(scrape_metrics(port), name)


def closed_soon(sock: socket.socket, timeout: float = 2.0) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def closed_among(socks: list[socket.socket], wait: float = 1.5) -> list[socket.socket]:
    """The sockets the server has closed after `wait` seconds."""
    time.sleep(wait)
    readable, _, _ = select.select(socks, [], [], 0)
    closed = []
    for sock in readable:
        try:
            if sock.recv(1) == b"":
                closed.append(sock)
        except ConnectionResetError:
            closed.append(sock)
    return closed


def test_a_connection_flood_from_one_address_does_not_stop_another_from_pushing(make_registry):
    debug_port = free_port()
    reg = make_registry(extra_config=f"  debug:\n    addr: 127.0.0.1:{debug_port}\n    prometheus:\n"
                                     f"      enabled: true\n").start()
    time.sleep(0.5)   # the start probe's connection is gone
    flood = []
    try:
        for _ in range(200):
            flood.append(socket.create_connection(("127.0.0.1", reg.port), timeout=10))
        # The default limit, 128: the rest are closed at once, without an HTTP answer. (Which
        # ones is up to the event loops that set them up.)
        refused = closed_among(flood)
        assert len(refused) == 72, len(refused)
        held = [sock for sock in flood if sock not in refused]
        assert scrape_counter(debug_port, "registry_http_connections_refused_total") >= 72

        # Another address pushes a blob meanwhile.
        data = rand_bytes(300_000)
        name = uniq("flood")
        status, headers, body = request_from(OTHER_ADDRESS, reg, "POST", f"/v2/{name}/blobs/uploads/?digest={sha256(data)}",
                                             OCTET, data)
        assert status == 201, body
        status, _, got = request_from(OTHER_ADDRESS, reg, "GET", f"/v2/{name}/blobs/{sha256(data)}")
        assert status == 200 and got == data
        # The flooding address still gets nothing new.
        with socket.create_connection(("127.0.0.1", reg.port), timeout=10) as extra:
            assert closed_soon(extra)
        # Its held connections are served.
        held[0].sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        held[0].settimeout(10)
        assert held[0].recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        for sock in flood:
            sock.close()
    # Closing them frees the address's slots.
    deadline = time.time() + 10
    while time.time() < deadline:
        if request("GET", reg, "/v2/").status_code == 200:
            break
        time.sleep(0.2)
    assert_status(request("GET", reg, "/v2/"), 200)
    assert "too many open from this client" in reg.log()


def test_connectionsperclient_is_configurable(make_registry):
    reg = make_registry(extra_config=limits("connectionsperclient: 2")).start()
    time.sleep(0.5)
    with connect(reg) as a, connect(reg) as b, connect(reg) as c:
        # One of the three is closed (which one is up to the event loops that set them up).
        assert len(closed_among([a, b, c])) == 1
        assert request_from(OTHER_ADDRESS, reg, "GET", "/v2/")[0] == 200


def test_connectionsperclient_applies_before_the_tls_handshake(make_registry, tmp_path):
    import ssl
    certs = make_certs(tmp_path / "certs")
    reg = make_registry(tls=True, extra_config=tls_config(certs) + limits("connectionsperclient: 2")).start()
    time.sleep(0.5)
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    with connect(reg) as a, connect(reg) as b, connect(reg) as c:
        # One of the three is closed as accepted, before any handshake; a fourth too.
        closed = closed_among([a, b, c])
        assert len(closed) == 1
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError)):
            with socket.create_connection(("127.0.0.1", reg.port), timeout=5) as raw:
                context.wrap_socket(raw, server_hostname="127.0.0.1")
        # Another address still gets HTTPS.
        with socket.create_connection(("127.0.0.1", reg.port), timeout=5, source_address=(OTHER_ADDRESS, 0)) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert tls.recv(4096).startswith(b"HTTP/1.1 200")
        assert not any(closed_soon(sock, 0.2) for sock in (a, b, c) if sock not in closed)
