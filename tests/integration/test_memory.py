"""Bodies are streamed, never held whole: the server's peak memory stays flat however large
a blob is, for uploads and for parallel downloads by fast clients."""
from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time

import requests

from helpers import sha256
from registry import anon_rss_mib, peak_rss_mib, status_mib
from security import make_certs, tls_config

MIB = 1024 * 1024
BLOB_MIB = 384
# Far below the blob size: a server that buffered a body would blow through it.
UPLOAD_PEAK_LIMIT_MIB = 96
DOWNLOAD_PEAK_LIMIT_MIB = 160


def body_chunks(total: int, hasher):
    block = hashlib.sha256(b"berth").digest() * (MIB // 32)  # 1 MiB, cheap to produce
    for index in range(total // MIB):
        chunk = index.to_bytes(8, "big") + block[8:]
        hasher.update(chunk)
        yield chunk


def test_large_blob_streams_in_flat_memory(registry):
    pid = registry.proc.pid
    hasher = hashlib.sha256()
    # Hash first (the digest must be known for a monolithic upload), then stream the same bytes.
    for _ in body_chunks(BLOB_MIB * MIB, hasher):
        pass
    digest = "sha256:" + hasher.hexdigest()
    response = requests.post(
        f"{registry.url}/v2/memory/blobs/uploads/?digest={digest}",
        data=body_chunks(BLOB_MIB * MIB, hashlib.sha256()),
        headers={"Content-Type": "application/octet-stream"}, timeout=300)
    assert response.status_code == 201, response.text
    after_upload = peak_rss_mib(pid)
    assert after_upload < UPLOAD_PEAK_LIMIT_MIB, f"peak RSS {after_upload:.0f} MiB after a {BLOB_MIB} MiB upload"

    # Fast clients in parallel (curl into /dev/null), competing with the server for CPU:
    # a server that reads the disk faster than its event loop drains the sockets queues up
    # the difference unless it paces itself.
    url = f"{registry.url}/v2/memory/blobs/{digest}"
    curls = [subprocess.Popen(["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", url],
                              stdout=subprocess.PIPE, text=True) for _ in range(8)]
    sizes = [curl.communicate(timeout=300)[0] for curl in curls]
    assert [curl.returncode for curl in curls] == [0] * 8
    assert sizes == [str(BLOB_MIB * MIB)] * 8
    after_downloads = peak_rss_mib(pid)
    assert after_downloads < DOWNLOAD_PEAK_LIMIT_MIB, (
        f"peak RSS {after_downloads:.0f} MiB after 8 parallel downloads of {BLOB_MIB} MiB")

    check = hashlib.sha256()
    with requests.get(url, stream=True, timeout=300) as reply:
        assert reply.status_code == 200
        for chunk in reply.iter_content(4 * MIB):
            check.update(chunk)
    assert "sha256:" + check.hexdigest() == digest


def test_code_pages_only_starting_up_ran_are_given_back(registry):
    """registryd drops its mapped code pages once started (CodePages.afterStartup, 5 s): an
    idle server's file-backed memory falls, and serving brings back only what it runs."""
    pid = registry.proc.pid
    started = status_mib(pid, "RssFile")
    deadline = time.monotonic() + 30
    while status_mib(pid, "RssFile") > started - 8 and time.monotonic() < deadline:
        time.sleep(0.5)
    released = status_mib(pid, "RssFile")
    assert released <= started - 8, f"code pages after start: {started:.1f} MiB, 30 s later {released:.1f} MiB"
    for _ in range(50):
        assert requests.get(f"{registry.url}/v2/", timeout=10).status_code == 200
        assert requests.get(f"{registry.url}/v2/team/app/tags/list", timeout=10).status_code == 404
    assert registry.proc.poll() is None
    assert status_mib(pid, "RssFile") < started, "serving mapped back every page starting up had"


# Eight parallel downloads over TLS, each streamed through user space: each should hold one
# chunk read from the file and its ciphertext, a few hundred KiB. Before the event loop was
# awaited after each chunk, each held about 2 MiB (release build: +17 to +24 MiB in all).
TLS_BLOB_MIB = 32
TLS_DOWNLOADS_ANON_GROWTH_LIMIT_MIB = 12


def test_parallel_tls_downloads_hold_little_per_connection(make_registry, tmp_path):
    certs = make_certs(tmp_path / "certs")
    ca = str(certs / "ca.pem")
    reg = make_registry(tls=True, extra_config=tls_config(certs)).start()
    digests = []
    for index in range(8):
        data = os.urandom(TLS_BLOB_MIB * MIB)
        digest = sha256(data)
        reply = requests.post(f"{reg.url}/v2/memory/tls/blobs/uploads/?digest={digest}", data=data,
                              headers={"Content-Type": "application/octet-stream"}, verify=ca, timeout=120)
        assert reply.status_code == 201, reply.text
        digests.append(digest)

    def download(digests):
        curls = [subprocess.Popen(["curl", "-sf", "--cacert", ca, "-o", "/dev/null", "-w", "%{size_download}",
                                   f"{reg.url}/v2/memory/tls/blobs/{digest}"], stdout=subprocess.PIPE, text=True)
                 for digest in digests]
        sizes = [curl.communicate(timeout=300)[0] for curl in curls]
        assert [curl.returncode for curl in curls] == [0] * len(digests)
        assert sizes == [str(TLS_BLOB_MIB * MIB)] * len(digests)

    pid = reg.proc.pid
    download(digests[:1])  # one connection's buffers and the code's first allocations
    baseline = anon_rss_mib(pid)
    peak = baseline
    done = threading.Event()

    def poll():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, anon_rss_mib(pid))
            time.sleep(0.005)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        download(digests)
    finally:
        done.set()
        poller.join()
    assert peak - baseline < TLS_DOWNLOADS_ANON_GROWTH_LIMIT_MIB, (
        f"anonymous memory grew {peak - baseline:.1f} MiB (from {baseline:.1f}) during 8 parallel "
        f"TLS downloads of {TLS_BLOB_MIB} MiB")
