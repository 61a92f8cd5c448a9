"""Prometheus metrics and /debug/health on the debug listener (http.debug)."""
from __future__ import annotations


import pytest
import requests

from helpers import http, make_image, metric_sum, prometheus_samples, push_blob, rand_bytes, start_upload, uniq
from registry import free_port
from registryctl import gc


def debug_config(port: int, *, prometheus: bool = True) -> str:
    return f"""  debug:
    addr: 127.0.0.1:{port}
    prometheus:
      enabled: {"true" if prometheus else "false"}
      path: /metrics
"""


def scrape(port: int) -> dict[str, float]:
    """Samples as {'name{labels}': value}."""
    resp = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return prometheus_samples(resp.text)


sample = metric_sum


@pytest.fixture
def metered(make_registry):
    port = free_port()
    server = make_registry(extra_config=debug_config(port)).start()
    server.debug_port = port
    return server


def test_request_metrics_move_after_requests(metered):
    port = metered.debug_port
    before = scrape(port)
    name = uniq()
    data = rand_bytes(100_000)
    push_blob(metered, name, data)
    for _ in range(3):
        assert http("GET", metered, f"/v2/{name}/manifests/missing").status_code == 404
    after = scrape(port)

    assert sample(after, "registry_http_requests_total", route="uploads", method="POST", status="201") == \
        sample(before, "registry_http_requests_total", route="uploads", method="POST", status="201") + 1
    assert sample(after, "registry_http_requests_total", route="manifest", method="GET", status="404") == \
        sample(before, "registry_http_requests_total", route="manifest", method="GET", status="404") + 3
    # No label carries the repository name: bounded cardinality.
    assert not any(name in key for key in after)
    assert sample(after, "registry_http_request_duration_seconds_count", route="manifest", method="GET") >= 3
    assert sample(after, "registry_http_request_bytes_total") - sample(before, "registry_http_request_bytes_total") \
        >= len(data)
    sent = sample(after, "registry_http_response_bytes_total")
    assert http("GET", metered, f"/v2/{name}/blobs/sha256:{__import__('hashlib').sha256(data).hexdigest()}") \
        .status_code == 200
    assert sample(scrape(port), "registry_http_response_bytes_total") - sent >= len(data)


def test_storage_gauges_and_gc(metered):
    port = metered.debug_port
    name = uniq()
    make_image(metered, name, tag="v1")
    make_image(metered, name, tag="v2", layer_sizes=(5000,))
    start_upload(metered, name)
    samples = scrape(port)
    assert sample(samples, "registry_manifests") == 2
    assert sample(samples, "registry_tags") == 2
    assert sample(samples, "registry_blobs") == 5
    assert sample(samples, "registry_blob_bytes") > 10_000
    assert sample(samples, "registry_uploads_in_progress") == 1
    assert sample(samples, "registry_health_ok") == 1
    assert sample(samples, "registry_gc_runs") == 0

    assert http("DELETE", metered, f"/v2/{name}/manifests/v2").status_code == 202
    report = gc(metered.config_path, "--delete-untagged", "--grace", "0s")
    assert report["blobsRemoved"] >= 2
    samples = scrape(port)
    assert sample(samples, "registry_gc_runs") == 1
    assert sample(samples, "registry_gc_last_freed_bytes") == report["bytesFreed"] > 0
    assert sample(samples, "registry_gc_last_duration_seconds") >= 0
    assert sample(samples, "registry_gc_last_run_timestamp_seconds") > 1.7e9
    assert sample(samples, "registry_manifests") == 1
    assert sample(samples, "registry_tags") == 1


def test_debug_health_and_unknown_paths(metered):
    base = f"http://127.0.0.1:{metered.debug_port}"
    resp = requests.get(base + "/debug/health", timeout=10)
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
    resp = requests.get(base + "/v2/", timeout=10)
    assert resp.status_code == 404
    assert resp.json()["errors"][0]["code"] == "UNSUPPORTED"
    # The main listener does not serve metrics.
    assert http("GET", metered, "/metrics").status_code == 404
    # A loopback debug listener raises no warning.
    assert "reachable from other hosts" not in metered.log()


def test_debug_listener_without_prometheus(make_registry):
    port = free_port()
    server = make_registry(extra_config=debug_config(port, prometheus=False)).start()
    assert requests.get(f"http://127.0.0.1:{port}/debug/health", timeout=10).status_code == 200
    assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 404
    assert http("GET", server, "/v2/").status_code == 200
