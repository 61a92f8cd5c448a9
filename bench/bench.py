#!/usr/bin/env python3
"""Measure Berth (registryd) against the reference registry.

run.sh starts both servers and creates the data files; this script only
talks HTTP to them (uploads from Python with sendfile, so the client is not
the bottleneck; downloads with curl; request rates with wrk) and watches
each server's memory through /proc/PID/status.

    bench.py --server berth=http://127.0.0.1:P1,PID1 \
             --server reference=http://127.0.0.1:P2,PID2 \
             --data DIR --out bench/out/plain

Over HTTPS, give https:// URLs and --cacert CA.pem (the clients verify the
certificate); with htpasswd, --user NAME:PASSWORD (every request sends it).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MANIFEST_ACCEPT = ", ".join([
    OCI_MANIFEST,
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


class BenchError(Exception):
    pass


class Client:
    """How every client of the run reaches the servers: the CA to trust over
    HTTPS, the credentials to send with htpasswd (set once by main)."""
    cacert: str | None = None
    user: str | None = None
    # s3redirect: blob GETs and HEADs answer 307 to a presigned URL, which clients follow.
    follow_redirects: bool = False

    @classmethod
    def auth_headers(cls) -> dict:
        if not cls.user:
            return {}
        return {"Authorization": "Basic " + base64.b64encode(cls.user.encode()).decode()}

    @classmethod
    def curl_args(cls) -> list[str]:
        return ((["--cacert", cls.cacert] if cls.cacert else []) + (["-u", cls.user] if cls.user else [])
                + (["--location"] if cls.follow_redirects else []))

    @classmethod
    def ssl_context(cls) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=cls.cacert)


# --------------------------------------------------------------------------- /proc

def proc_status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def proc_status_kibs(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    """Several fields of /proc/PID/status from one read (missing ones left out)."""
    found = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in keys:
                    found[key] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return found


def cpu_seconds(pid: int) -> float | None:
    """user + system CPU time of the process (threads included)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        return None


def machine_cpu_ticks() -> list[int]:
    """The aggregate `cpu` line of /proc/stat: user nice system idle iowait
    irq softirq steal ..."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:]]


def cpu_share(before: list[int], after: list[int]) -> dict:
    d = [b - a for a, b in zip(before, after)]
    total = sum(d[:8]) or 1
    return {"busy": 100 * (total - d[3] - d[4]) / total, "steal": 100 * d[7] / total,
            "iowait": 100 * d[4] / total}


class RssSampler(threading.Thread):
    """Polls VmRSS of every server every `interval` seconds; keeps the
    maximum since the last `mark()` and over the whole run, and the maxima of
    its two parts: anonymous memory (RssAnon: heaps, buffers, stacks) and
    file pages (RssFile: the binary's and libraries' code, mapped by the kernel
    in fault-around windows, shared and reclaimable)."""

    def __init__(self, pids: list[int], interval: float = 0.02):
        super().__init__(daemon=True)
        self.pids = pids
        self.interval = interval
        self.lock = threading.Lock()
        self.phase_max = {p: 0 for p in pids}
        self.overall_max = {p: 0 for p in pids}
        self.anon_max = {p: 0 for p in pids}
        self.file_max = {p: 0 for p in pids}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for p in self.pids:
                status = proc_status_kibs(p, ("VmRSS", "RssAnon", "RssFile"))
                rss = status.get("VmRSS")
                if rss is None:
                    continue
                with self.lock:
                    self.phase_max[p] = max(self.phase_max[p], rss)
                    self.overall_max[p] = max(self.overall_max[p], rss)
                    self.anon_max[p] = max(self.anon_max[p], status.get("RssAnon", 0))
                    self.file_max[p] = max(self.file_max[p], status.get("RssFile", 0))
            self.stopping.wait(self.interval)

    def mark(self) -> None:
        with self.lock:
            for p in self.pids:
                self.phase_max[p] = proc_status_kib(p, "VmRSS") or 0

    def peak_since_mark(self, pid: int) -> int:
        with self.lock:
            return max(self.phase_max[pid], proc_status_kib(pid, "VmRSS") or 0)


# --------------------------------------------------------------------------- HTTP

@dataclass
class Server:
    name: str
    url: str
    pid: int
    upload_method: str = "?"
    cpu_start: float | None = None
    notes: list[str] = field(default_factory=list)
    # VmHWM (MiB) after each phase, in order: which phase raised the peak.
    hwm_after: dict[str, float] = field(default_factory=dict)

    @property
    def hostport(self) -> tuple[str, int]:
        u = urllib.parse.urlsplit(self.url)
        return u.hostname, u.port

    def conn(self, timeout: float = 600) -> http.client.HTTPConnection:
        host, port = self.hostport
        if self.url.startswith("https:"):
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=Client.ssl_context())
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            return False


def path_of(server: Server, location: str) -> str:
    """Path and query of a Location (absolute or relative), keeping the query."""
    u = urllib.parse.urlsplit(urllib.parse.urljoin(server.url + "/", location))
    return u.path + ("?" + u.query if u.query else "")


def add_query(path: str, **params: str) -> str:
    sep = "&" if "?" in path else "?"
    return path + sep + urllib.parse.urlencode(params)


def request(conn: http.client.HTTPConnection, method: str, path: str, headers: dict | None = None,
            body: bytes | None = None, file: tuple[int, int, int] | None = None):
    """Send one request. `file` = (fileobj, offset, count) streams the body with
    sendfile (fileobj opened "rb"). Returns (status, headers dict lower-cased, body bytes)."""
    headers = {**Client.auth_headers(), **(headers or {})}
    if file is not None:
        headers["Content-Length"] = str(file[2])
    elif body is not None:
        headers["Content-Length"] = str(len(body))
    elif method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = "0"
    conn.putrequest(method, path, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    send_error = None
    try:
        if body:
            conn.sock.sendall(body)
        if file is not None:
            # socket.sendfile: zero-copy os.sendfile, and it copes with the
            # socket timeout (non-blocking socket) by waiting for writability;
            # over TLS it reads and sends (the kernel cannot encrypt)
            fobj, offset, count = file
            sent = conn.sock.sendfile(fobj, offset, count)
            if sent != count:
                raise BenchError(f"sendfile sent {sent} of {count} bytes")
    except (BrokenPipeError, ConnectionResetError) as e:
        send_error = e  # the server answered early; read what it said
    resp = conn.getresponse()
    data = resp.read()
    hdrs = {k.lower(): v for k, v in resp.getheaders()}
    if send_error is not None:
        raise BenchError(f"{method} {path}: connection broke while sending ({send_error}); "
                         f"server answered {resp.status} {data[:300]!r}")
    return resp.status, hdrs, data


def expect(status: int, wanted: int, what: str, data: bytes = b"") -> None:
    if status != wanted:
        raise BenchError(f"{what}: expected {wanted}, got {status} {data[:300]!r}")


def probe_monolithic_post(server: Server, repo: str) -> str:
    """Does the server take a whole blob in `POST ?digest=`? 'post' if so,
    'post+put' (POST, then a monolithic PUT of the body) if not."""
    blob = os.urandom(1024)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    c = server.conn()
    status, hdrs, data = request(c, "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}",
                                 {"Content-Type": "application/octet-stream"}, body=blob)
    c.close()
    if status == 201:
        c = server.conn()
        s2, h2, _ = request(c, "HEAD", f"/v2/{repo}/blobs/{digest}")
        c.close()
        if (s2 == 200 and h2.get("content-length") == "1024") or (s2 == 307 and Client.follow_redirects):
            return "post"
        raise BenchError(f"POST ?digest= answered 201 but HEAD of the blob gave {s2} {h2}")
    if status == 202:
        # an upload session was opened and the body ignored: cancel it
        if "location" in hdrs:
            c = server.conn()
            try:
                request(c, "DELETE", path_of(server, hdrs["location"]))
            except Exception:
                pass
            c.close()
        return "post+put"
    raise BenchError(f"POST ?digest= probe: {status} {data[:300]!r}")


def upload_monolithic(server: Server, repo: str, path: Path, digest: str) -> None:
    """Upload a whole file in one request body, streamed with sendfile."""
    size = path.stat().st_size
    fd = open(path, "rb")
    c = server.conn()
    try:
        hdr = {"Content-Type": "application/octet-stream"}
        if server.upload_method == "post":
            status, hdrs, data = request(c, "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}",
                                         hdr, file=(fd, 0, size))
        else:
            status, hdrs, data = request(c, "POST", f"/v2/{repo}/blobs/uploads/")
            expect(status, 202, f"POST /v2/{repo}/blobs/uploads/", data)
            put = add_query(path_of(server, hdrs["location"]), digest=digest)
            status, hdrs, data = request(c, "PUT", put, hdr, file=(fd, 0, size))
        expect(status, 201, f"monolithic upload of {path.name}", data)
        if hdrs.get("docker-content-digest") not in (None, digest):
            raise BenchError(f"upload answered Docker-Content-Digest {hdrs.get('docker-content-digest')}, want {digest}")
    finally:
        c.close()
        fd.close()


def upload_chunked(server: Server, repo: str, path: Path, digest: str, chunk: int) -> int:
    """POST, then PATCHes of `chunk` bytes with Content-Range, then PUT
    ?digest=. Returns the number of PATCH requests."""
    size = path.stat().st_size
    fd = open(path, "rb")
    c = server.conn()
    patches = 0
    try:
        status, hdrs, data = request(c, "POST", f"/v2/{repo}/blobs/uploads/")
        expect(status, 202, "POST upload", data)
        location = path_of(server, hdrs["location"])
        offset = 0
        while offset < size:
            n = min(chunk, size - offset)
            status, hdrs, data = request(
                c, "PATCH", location,
                {"Content-Type": "application/octet-stream",
                 "Content-Range": f"{offset}-{offset + n - 1}"}, file=(fd, offset, n))
            expect(status, 202, f"PATCH {offset}-{offset + n - 1}", data)
            if hdrs.get("range") != f"0-{offset + n - 1}":
                raise BenchError(f"PATCH {offset}-{offset + n - 1}: Range header {hdrs.get('range')!r}")
            location = path_of(server, hdrs["location"])
            offset += n
            patches += 1
        status, hdrs, data = request(c, "PUT", add_query(location, digest=digest))
        expect(status, 201, "final PUT", data)
    finally:
        c.close()
        fd.close()
    return patches


def head_blob(server: Server, repo: str, digest: str) -> int:
    c = server.conn()
    try:
        status, hdrs, data = request(c, "HEAD", f"/v2/{repo}/blobs/{digest}")
    finally:
        c.close()
    if status == 307 and Client.follow_redirects and hdrs.get("location"):
        # Distribution redirects HEAD too; the presigned URL answers for the object.
        with urllib.request.urlopen(urllib.request.Request(hdrs["location"], method="HEAD"), timeout=60) as r:
            return int(r.headers.get("content-length", "-1"))
    expect(status, 200, f"HEAD blob {digest}", data)
    if hdrs.get("docker-content-digest") not in (None, digest):
        raise BenchError(f"HEAD blob: Docker-Content-Digest {hdrs.get('docker-content-digest')}")
    return int(hdrs.get("content-length", "-1"))


def push_small_image(server: Server, repo: str, layer: bytes) -> tuple[str, str]:
    """A 1 KiB layer, a config and an OCI manifest tagged v1. Returns
    (layer digest, manifest digest)."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers",
                                    "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
    c = server.conn()
    try:
        descs = []
        for blob, mt in ((config, OCI_CONFIG), (layer, OCI_LAYER)):
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            status, hdrs, data = request(c, "POST", f"/v2/{repo}/blobs/uploads/")
            expect(status, 202, "POST", data)
            status, hdrs, data = request(c, "PUT", add_query(path_of(server, hdrs["location"]), digest=digest),
                                         {"Content-Type": "application/octet-stream"}, body=blob)
            expect(status, 201, "PUT blob", data)
            descs.append({"mediaType": mt, "digest": digest, "size": len(blob)})
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": descs[0], "layers": descs[1:]}).encode()
        mdigest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        status, hdrs, data = request(c, "PUT", f"/v2/{repo}/manifests/v1",
                                     {"Content-Type": OCI_MANIFEST}, body=manifest)
        expect(status, 201, "PUT manifest", data)
        status, hdrs, data = request(c, "GET", f"/v2/{repo}/manifests/v1", {"Accept": MANIFEST_ACCEPT})
        expect(status, 200, "GET manifest", data)
        if data != manifest or hdrs.get("docker-content-digest") != mdigest:
            raise BenchError("GET manifest does not return what was pushed")
        return descs[1]["digest"], mdigest
    finally:
        c.close()


# --------------------------------------------------------------------------- curl / wrk

def curl_download(urls: list[str]) -> tuple[int, list[str]]:
    """One curl process downloading each URL to /dev/null over one
    connection. Returns (total bytes, http codes)."""
    args = ["curl", "-sS", "--fail", *Client.curl_args(), "-w", "%{http_code} %{size_download}\\n"]
    for u in urls:
        args += ["-o", "/dev/null", u]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise BenchError(f"curl failed ({proc.returncode}): {proc.stderr.strip()}")
    codes, total = [], 0
    for line in proc.stdout.strip().splitlines():
        code, size = line.split()
        codes.append(code)
        total += int(size)
    return total, codes


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(url: str, *, method: str = "GET", headers: dict | None = None, duration: int,
            connections: int, threads: int, workdir: Path) -> dict:
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
            "--timeout", "10s"]
    for k, v in {**Client.auth_headers(), **(headers or {})}.items():
        args += ["-H", f"{k}: {v}"]
    if method != "GET":
        script = workdir / f"wrk-{method.lower()}.lua"
        script.write_text(f'wrk.method = "{method}"\n')
        args += ["-s", str(script)]
    args.append(url)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    out = proc.stdout
    if proc.returncode != 0:
        raise BenchError(f"wrk failed: {proc.stderr.strip()} {out}")
    res = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = _ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(map(int, m.groups())) if m else 0
    return res


def http10_behaviour(server: Server, path: str) -> str | None:
    """ab speaks HTTP/1.0. A server must close an HTTP/1.0 connection after the
    response unless the request said `Connection: keep-alive`, and then it
    must answer `Connection: keep-alive` (RFC 9112 section 9.3). Returns a
    description of what is wrong, or None."""
    import socket
    problems = []
    host, port = server.hostport
    for keepalive in (False, True):
        req = f"HEAD {path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
        req += "".join(f"{k}: {v}\r\n" for k, v in Client.auth_headers().items())
        req += "Connection: Keep-Alive\r\n\r\n" if keepalive else "\r\n"
        raw = socket.create_connection((host, port), timeout=2)
        if server.url.startswith("https:"):
            raw = Client.ssl_context().wrap_socket(raw, server_hostname=host)
        with raw as sock:
            sock.sendall(req.encode())
            buf, closed = b"", False
            try:
                while b"\r\n\r\n" not in buf or not keepalive:
                    d = sock.recv(65536)
                    if not d:
                        closed = True
                        break
                    buf += d
            except socket.timeout:
                pass
            except (ssl.SSLError, ConnectionResetError):
                closed = True  # a TLS peer that closes without close_notify
        head = buf.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
        status_line = head.split("\r\n", 1)[0]
        says_keepalive = re.search(r"^connection:\s*keep-alive", head, re.I | re.M) is not None
        if not keepalive and not closed:
            problems.append(f"`HEAD {path} HTTP/1.0` without keep-alive: answered `{status_line}` "
                            "and left the connection open (it must close it)")
        if keepalive and not says_keepalive:
            problems.append(f"`HEAD {path} HTTP/1.0` with `Connection: Keep-Alive`: answered `{status_line}` "
                            "without `Connection: keep-alive`, so an HTTP/1.0 client waits for the close")
    return "; ".join(problems) or None


def run_ab_head(url: str, *, duration: int, connections: int) -> dict:
    """HEAD request rate with ApacheBench (keep-alive). wrk cannot measure
    HEAD: its parser waits for the Content-Length bytes of the body a HEAD
    response does not have (wg/wrk#198), so every connection stalls."""
    args = ["ab", "-q", "-k", "-i", "-c", str(connections), "-t", str(duration),
            "-n", "5000000", "-s", "10"]
    for k, v in Client.auth_headers().items():
        args += ["-H", f"{k}: {v}"]
    args.append(url)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        last = [l for l in out.strip().splitlines() if l.strip()][-1:] or [""]
        raise BenchError(f"ab failed ({proc.returncode}): {last[0][-300:]}")

    def num(pattern, cast=float, default=None):
        m = re.search(pattern, out, re.M)
        return cast(m.group(1)) if m else default

    return {"raw": out,
            "rps": num(r"^Requests per second:\s+([\d.]+)"),
            "requests": num(r"^Complete requests:\s+(\d+)", int, 0),
            "p50_ms": num(r"^\s+50%\s+(\d+)"),
            "p99_ms": num(r"^\s+99%\s+(\d+)"),
            "non2xx": num(r"^Non-2xx responses:\s+(\d+)", int, 0),
            "socket_errors": num(r"^Failed requests:\s+(\d+)", int, 0),
            "keepalive": num(r"^Keep-Alive requests:\s+(\d+)", int, 0)}


# --------------------------------------------------------------------------- the run

@dataclass
class Metric:
    key: str
    label: str
    unit: str
    better: str  # "higher" | "lower" | ""
    values: dict = field(default_factory=dict)  # server name -> float | None
    errors: dict = field(default_factory=dict)  # server name -> str


class Bench:
    def __init__(self, servers: list[Server], data: Path, out: Path, args):
        self.servers = servers
        self.data = data
        self.out = out
        self.args = args
        self.metrics: dict[str, Metric] = {}
        self.sampler = RssSampler([s.pid for s in servers])
        self.digests: dict[str, str] = {}
        self.log_lines: list[str] = []

    def log(self, msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        self.log_lines.append(line)

    def metric(self, key, label, unit, better) -> Metric:
        if key not in self.metrics:
            self.metrics[key] = Metric(key, label, unit, better)
        return self.metrics[key]

    def record(self, key, label, unit, better, server: Server, value) -> None:
        self.metric(key, label, unit, better).values[server.name] = value

    def fail(self, keys: list[tuple], server: Server, err: Exception) -> None:
        alive = "" if server.alive() else " (the server process is gone)"
        self.log(f"ERROR {server.name}: {err}{alive}")
        for key, label, unit, better in keys:
            m = self.metric(key, label, unit, better)
            m.values[server.name] = None
            m.errors[server.name] = f"{err}{alive}"

    def digest(self, path: Path) -> str:
        if path.name not in self.digests:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(8 * MiB), b""):
                    h.update(block)
            self.digests[path.name] = "sha256:" + h.hexdigest()
        return self.digests[path.name]

    # -- phases ---------------------------------------------------------------

    def phase_big_upload(self, s: Server) -> None:
        big = self.data / "big.bin"
        size = big.stat().st_size
        keys = [("up1g", f"upload {size // MiB} MiB monolithic", "MiB/s", "higher"),
                ("up1g_rss", f"peak RSS during {size // MiB} MiB upload", "MiB", "lower"),
                ("up1g_cpu", f"server CPU for {size // MiB} MiB upload", "s", "lower")]
        try:
            self.sampler.mark()
            cpu0 = cpu_seconds(s.pid)
            t0 = time.perf_counter()
            upload_monolithic(s, "bench/big", big, self.digest(big))
            dt = time.perf_counter() - t0
            cpu1 = cpu_seconds(s.pid)
            peak = self.sampler.peak_since_mark(s.pid)
            got = head_blob(s, "bench/big", self.digest(big))
            if got != size:
                raise BenchError(f"HEAD after upload says {got} bytes, want {size}")
            self.record(*keys[0], s, size / MiB / dt)
            self.record(*keys[1], s, peak / 1024)
            self.record(*keys[2], s, (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None)
            self.log(f"{s.name}: {size // MiB} MiB upload ({s.upload_method}) {dt:.2f}s "
                     f"= {size / MiB / dt:.0f} MiB/s, peak RSS {peak / 1024:.0f} MiB")
        except Exception as e:
            self.fail(keys, s, e)

    def phase_chunked_upload(self, s: Server) -> None:
        f = self.data / "chunked.bin"
        size = f.stat().st_size
        chunk = self.args.chunk_mib * MiB
        keys = [("chunked", f"upload {size // MiB} MiB in {self.args.chunk_mib} MiB PATCHes", "MiB/s", "higher")]
        try:
            t0 = time.perf_counter()
            n = upload_chunked(s, "bench/chunked", f, self.digest(f), chunk)
            dt = time.perf_counter() - t0
            got = head_blob(s, "bench/chunked", self.digest(f))
            if got != size:
                raise BenchError(f"HEAD after chunked upload says {got} bytes, want {size}")
            self.record(*keys[0], s, size / MiB / dt)
            self.log(f"{s.name}: chunked upload {n} PATCHes {dt:.2f}s = {size / MiB / dt:.0f} MiB/s")
        except Exception as e:
            self.fail(keys, s, e)

    def phase_big_download(self, s: Server) -> None:
        big = self.data / "big.bin"
        size = big.stat().st_size
        keys = [("down1g", f"download {size // MiB} MiB blob (best of {self.args.download_runs})", "MiB/s", "higher"),
                ("down1g_cpu", f"server CPU per {size // MiB} MiB download", "s", "lower")]
        try:
            best, cpu_best = 0.0, None
            for _ in range(self.args.download_runs):
                cpu0 = cpu_seconds(s.pid)
                t0 = time.perf_counter()
                total, codes = curl_download([f"{s.url}/v2/bench/big/blobs/{self.digest(big)}"])
                dt = time.perf_counter() - t0
                cpu1 = cpu_seconds(s.pid)
                if codes != ["200"] or total != size:
                    raise BenchError(f"download got {codes} {total} bytes, want 200 {size}")
                if size / MiB / dt > best:
                    best = size / MiB / dt
                    cpu_best = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
            self.record(*keys[0], s, best)
            self.record(*keys[1], s, cpu_best)
            self.log(f"{s.name}: {size // MiB} MiB download {best:.0f} MiB/s")
        except Exception as e:
            self.fail(keys, s, e)

    def par_files(self) -> list[Path]:
        return sorted(self.data.glob("par-*.bin"))

    def phase_parallel_upload(self, s: Server) -> None:
        files = self.par_files()
        each = files[0].stat().st_size
        keys = [("parup", f"{len(files)} parallel {each // MiB} MiB uploads (aggregate)", "MiB/s", "higher"),
                ("parup_rss", f"peak RSS during parallel uploads", "MiB", "lower")]
        try:
            digests = [self.digest(f) for f in files]
            self.sampler.mark()
            t0 = time.perf_counter()
            with ThreadPoolExecutor(len(files)) as pool:
                for fut in [pool.submit(upload_monolithic, s, "bench/par", f, d) for f, d in zip(files, digests)]:
                    fut.result()
            dt = time.perf_counter() - t0
            peak = self.sampler.peak_since_mark(s.pid)
            for f, d in zip(files, digests):
                if head_blob(s, "bench/par", d) != each:
                    raise BenchError(f"HEAD of {f.name} has the wrong length")
            total = each * len(files)
            self.record(*keys[0], s, total / MiB / dt)
            self.record(*keys[1], s, peak / 1024)
            self.log(f"{s.name}: parallel upload {total // MiB} MiB in {dt:.2f}s = {total / MiB / dt:.0f} MiB/s")
        except Exception as e:
            self.fail(keys, s, e)

    def phase_parallel_download(self, s: Server) -> None:
        files = self.par_files()
        each = files[0].stat().st_size
        reps = self.args.parallel_download_repeats
        keys = [("pardown", f"{len(files)} parallel downloads ({reps}x {each // MiB} MiB each, aggregate)", "MiB/s", "higher")]
        try:
            urls = [[f"{s.url}/v2/bench/par/blobs/{self.digest(f)}"] * reps for f in files]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(len(files)) as pool:
                results = list(pool.map(curl_download, urls))
            dt = time.perf_counter() - t0
            total = sum(r[0] for r in results)
            if total != each * reps * len(files) or any(c != "200" for r in results for c in r[1]):
                raise BenchError(f"parallel downloads got {total} bytes, codes {[r[1] for r in results]}")
            self.record(*keys[0], s, total / MiB / dt)
            self.log(f"{s.name}: parallel download {total // MiB} MiB in {dt:.2f}s = {total / MiB / dt:.0f} MiB/s")
        except Exception as e:
            self.fail(keys, s, e)

    def note_hwm(self, s: Server, phase: str) -> None:
        """Logs the server's VmHWM after `phase`; VmHWM only grows, so the
        first phase after which it jumps is the one that raised the peak."""
        hwm = proc_status_kib(s.pid, "VmHWM")
        if hwm is not None:
            s.hwm_after[phase] = round(hwm / 1024, 1)
            self.log(f"{s.name}: VmHWM after {phase}: {hwm / 1024:.1f} MiB")

    def phase_wrk(self, s: Server, small_layer: bytes) -> None:
        a = self.args
        specs = [
            ("get_base", "GET /v2/ (no storage access; baseline)", "GET", None),
            ("head_blob", "HEAD blob", "HEAD", None),
            ("get_manifest", "GET manifest by tag (Accept: OCI/Docker)", "GET", {"Accept": MANIFEST_ACCEPT}),
            ("get_small_blob", "GET 1 KiB blob", "GET", None),
            ("get_tags", "GET tag list", "GET", None),
        ]
        if Client.follow_redirects:
            # Blob HEADs and GETs answer 307 there: a rate of redirects says nothing.
            specs = [spec for spec in specs if spec[0] not in ("head_blob", "get_small_blob")]
        try:
            layer_digest, _ = push_small_image(s, "bench/small", small_layer)
            if head_blob(s, "bench/small", layer_digest) != len(small_layer):
                raise BenchError("HEAD of the 1 KiB blob has the wrong Content-Length")
        except Exception as e:
            self.fail([(k + sfx, lbl, u, b) for k, lbl, _, _ in specs
                       for sfx, u, b in (("", "req/s", "higher"), ("_p99", "ms", "lower"))], s, e)
            return
        urls = {"get_base": f"{s.url}/v2/",
                "head_blob": f"{s.url}/v2/bench/small/blobs/{layer_digest}",
                "get_manifest": f"{s.url}/v2/bench/small/manifests/v1",
                "get_small_blob": f"{s.url}/v2/bench/small/blobs/{layer_digest}",
                "get_tags": f"{s.url}/v2/bench/small/tags/list"}
        for key, label, method, headers in specs:
            tool = (f"ab -k -c{a.wrk_connections} {a.wrk_duration}s" if method == "HEAD"
                    else f"wrk -c{a.wrk_connections} -t{a.wrk_threads} {a.wrk_duration}s")
            keys = [(key, f"{label}: rate ({tool})", "req/s", "higher"),
                    (key + "_p99", f"{label}: p99 latency", "ms", "lower")]
            try:
                if method == "HEAD":
                    problem = http10_behaviour(s, urllib.parse.urlsplit(urls[key]).path)
                    if problem:
                        s.notes.append(f"HTTP/1.0 handling (ab is an HTTP/1.0 client): {problem}")
                    r = run_ab_head(urls[key], duration=a.wrk_duration, connections=a.wrk_connections)
                    if r["requests"] and r["keepalive"] < r["requests"] * 0.9:
                        s.notes.append(f"{label}: only {r['keepalive']} of {r['requests']} requests "
                                       "kept the connection alive (ab speaks HTTP/1.0 keep-alive)")
                else:
                    r = run_wrk(urls[key], method=method, headers=headers, duration=a.wrk_duration,
                                connections=a.wrk_connections, threads=a.wrk_threads, workdir=self.data)
                (self.out / f"load-{s.name}-{key}.txt").write_text(r["raw"])
                bad = r["non2xx"] + r["socket_errors"]
                if r["rps"] is None or r["requests"] == 0:
                    raise BenchError(f"wrk reported no requests:\n{r['raw']}")
                if bad > 0.001 * r["requests"]:
                    raise BenchError(f"wrk: {r['non2xx']} non-2xx and {r['socket_errors']} socket errors "
                                     f"in {r['requests']} requests:\n{r['raw']}")
                if bad:
                    s.notes.append(f"{label}: {r['non2xx']} non-2xx, {r['socket_errors']} socket errors "
                                   f"in {r['requests']} requests")
                self.record(*keys[0], s, r["rps"])
                self.record(*keys[1], s, r["p99_ms"])
                self.log(f"{s.name}: {label}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
                         f"p99 {r['p99_ms']:.2f} ms, errors {bad}")
                self.note_hwm(s, key)
            except Exception as e:
                self.fail(keys, s, e)

    # -- driver ---------------------------------------------------------------

    def run(self) -> int:
        started = time.time()
        self.cpu_before = machine_cpu_ticks()
        self.loadavg_start = os.getloadavg()
        self.sampler.start()
        for s in self.servers:
            self.record("rss_idle", "RSS at start (idle)", "MiB", "lower", s,
                        (proc_status_kib(s.pid, "VmRSS") or 0) / 1024)
            s.cpu_start = cpu_seconds(s.pid)
        self.log("hashing the data files")
        for f in [self.data / "big.bin", self.data / "chunked.bin", *self.par_files()]:
            self.digest(f)
        for s in self.servers:
            try:
                s.upload_method = probe_monolithic_post(s, "bench/probe")
                if s.upload_method != "post":
                    s.notes.append("does not take a blob in `POST ?digest=` (answers 202 and ignores the body); "
                                   "monolithic uploads use POST then PUT ?digest= with the body")
            except Exception as e:
                s.upload_method = "post+put"
                s.notes.append(f"monolithic POST probe failed ({e}); using POST then PUT")
            self.log(f"{s.name}: monolithic upload method: {s.upload_method}")

        phases = [self.phase_big_upload, self.phase_chunked_upload, self.phase_big_download,
                  self.phase_parallel_upload, self.phase_parallel_download]
        for phase in phases:
            for s in self.servers:
                phase(s)
                self.note_hwm(s, phase.__name__.removeprefix("phase_"))
        small = os.urandom(1024)
        for s in self.servers:
            self.phase_wrk(s, small)

        for s in self.servers:
            hwm = proc_status_kib(s.pid, "VmHWM")
            self.record("rss_peak_polled", "peak RSS over the run (polled VmRSS)", "MiB", "lower", s,
                        self.sampler.overall_max[s.pid] / 1024)
            self.record("rss_hwm", "peak RSS over the run (VmHWM)", "MiB", "lower", s,
                        hwm / 1024 if hwm is not None else None)
            self.record("rss_anon_peak", "of which at most anonymous (polled RssAnon)", "MiB", "lower", s,
                        self.sampler.anon_max[s.pid] / 1024)
            self.record("rss_file_peak", "of which at most file pages (polled RssFile)", "MiB", "lower", s,
                        self.sampler.file_max[s.pid] / 1024)
            cpu = cpu_seconds(s.pid)
            self.record("cpu_total", "server CPU time over the whole run", "s", "lower", s,
                        (cpu - s.cpu_start) if cpu is not None and s.cpu_start is not None else None)
        self.sampler.stopping.set()
        self.write(time.time() - started)
        return 1 if any(m.errors for m in self.metrics.values()) else 0

    # -- output ---------------------------------------------------------------

    def rows(self):
        a, b = self.servers[0].name, self.servers[1].name
        for m in self.metrics.values():
            va, vb = m.values.get(a), m.values.get(b)
            ratio = (va / vb) if va is not None and vb not in (None, 0) else None
            yield m, va, vb, ratio

    @staticmethod
    def fmt(v, unit="") -> str:
        if v is None:
            return "ERR"
        if unit in ("MiB/s", "req/s", "MiB"):
            return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
        return f"{v:.3g}" if v < 100 else f"{v:,.0f}"

    def write(self, elapsed: float) -> None:
        a, b = self.servers[0].name, self.servers[1].name
        self.cpu = cpu_share(self.cpu_before, machine_cpu_ticks())
        header = ["metric", "unit", a, b, f"ratio {a}/{b}", "better"]
        table = [[m.label, m.unit, self.fmt(va, m.unit), self.fmt(vb, m.unit),
                  "-" if r is None else f"{r:.2f}", m.better] for m, va, vb, r in self.rows()]
        widths = [max(len(str(x)) for x in col) for col in zip(header, *table)]
        print()
        for row in [header, ["-" * w for w in widths], *table]:
            print("  ".join(str(x).rjust(w) if i >= 2 else str(x).ljust(w)
                            for i, (x, w) in enumerate(zip(row, widths))))
        notes = []
        for s in self.servers:
            for n in s.notes:
                notes.append(f"{s.name}: {n}")
        for m in self.metrics.values():
            for name, err in m.errors.items():
                notes.append(f"{name}: {m.label}: ERROR {err}")
        print(f"\nmachine CPU during the run: {self.cpu['busy']:.0f}% busy, {self.cpu['steal']:.0f}% steal, "
              f"{self.cpu['iowait']:.0f}% iowait; load average at start {self.loadavg_start[0]:.2f}")
        if notes:
            print("\nNotes:")
            for n in notes:
                print(f"- {n}")

        md = [f"# Berth benchmark results ({self.args.mode})", "",
              f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
              f"- machine: {platform.node()}, {os.cpu_count()} CPUs, Linux {platform.release()}",
              f"- {a}: `{self.args.berth_bin}` at {self.servers[0].url}",
              f"- {b}: `{self.args.reference_bin}` at {self.servers[1].url}",
              f"- monolithic upload method: " + ", ".join(f"{s.name}={s.upload_method}" for s in self.servers),
              f"- run time: {elapsed:.0f} s (both servers on loopback, same machine as the clients)",
              f"- machine CPU during the run: {self.cpu['busy']:.0f}% busy, {self.cpu['steal']:.0f}% stolen by "
              f"the hypervisor, {self.cpu['iowait']:.0f}% iowait; load average at start "
              f"{self.loadavg_start[0]:.2f} (anything else running makes these numbers noise)",
              "", "| " + " | ".join(header) + " |",
              "|" + "|".join(["---"] * 2 + ["---:"] * 3 + ["---"]) + "|"]
        for row in table:
            md.append("| " + " | ".join(str(x) for x in row) + " |")
        if notes:
            md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
        md += ["", "## Log", "", "```", *self.log_lines, "```", ""]
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "results.md").write_text("\n".join(md))
        (self.out / "results.json").write_text(json.dumps({
            "mode": self.args.mode,
            "servers": [{"name": s.name, "url": s.url, "upload_method": s.upload_method, "notes": s.notes,
                         "vmhwm_mib_after_phase": s.hwm_after}
                        for s in self.servers],
            "metrics": [{"key": m.key, "label": m.label, "unit": m.unit, "better": m.better,
                         "values": m.values, "errors": m.errors} for m in self.metrics.values()],
            "machine_cpu": self.cpu, "loadavg_start": self.loadavg_start,
            "elapsed_s": elapsed}, indent=2))
        print(f"\nwrote {self.out / 'results.md'}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", action="append", required=True, metavar="NAME=URL,PID",
                   help="twice: first the server under test, then the reference")
    p.add_argument("--data", required=True, type=Path, help="directory with big.bin, chunked.bin, par-*.bin")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--mode", default="plain", help="what this run is (plain, https, htpasswd): a label")
    p.add_argument("--cacert", help="CA certificate the clients trust (https:// servers)")
    p.add_argument("--user", metavar="NAME:PASSWORD", help="HTTP Basic credentials for every request")
    p.add_argument("--berth-bin", default="registryd")
    p.add_argument("--reference-bin", default="docker-registry")
    p.add_argument("--chunk-mib", type=int, default=8)
    p.add_argument("--download-runs", type=int, default=2)
    p.add_argument("--parallel-download-repeats", type=int, default=4)
    p.add_argument("--wrk-duration", type=int, default=10)
    p.add_argument("--wrk-connections", type=int, default=64)
    p.add_argument("--wrk-threads", type=int, default=2)
    args = p.parse_args()
    if len(args.server) != 2:
        p.error("give --server twice")
    servers = []
    for spec in args.server:
        name, rest = spec.split("=", 1)
        url, pid = rest.rsplit(",", 1)
        servers.append(Server(name, url.rstrip("/"), int(pid)))
    Client.cacert, Client.user = args.cacert, args.user
    Client.follow_redirects = args.mode == "s3redirect"
    args.out.mkdir(parents=True, exist_ok=True)
    return Bench(servers, args.data, args.out, args).run()


if __name__ == "__main__":
    sys.exit(main())
