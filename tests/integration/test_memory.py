"""Bodies are streamed, never held whole: the server's peak memory stays flat however large
a blob is, for uploads and for parallel downloads by fast clients."""
from __future__ import annotations

import hashlib
import subprocess
import time

import requests

from registry import peak_rss_mib, status_mib

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
