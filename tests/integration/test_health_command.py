"""registryctl health: the image's HEALTHCHECK asks the local registryd for /healthz (over HTTPS
when http.tls is set)."""
from __future__ import annotations

import time

from registryctl import registryctl
from security import make_certs, tls_config


def test_health_follows_the_server(registry):
    result = registryctl("health", config=registry.config_path, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "200" in result.stdout and f"127.0.0.1:{registry.port}/healthz" in result.stdout
    registry.stop()
    result = registryctl("health", config=registry.config_path, timeout=30)
    assert result.returncode == 1
    assert "unhealthy" in result.stderr and "cannot connect" in result.stderr


def test_health_reports_a_failing_check(registry):
    # Storage that cannot take writes (even root's): /healthz answers 503.
    # /healthz serves a result for up to a second before probing again, so ask until it changes.
    uploads = registry.root / "uploads"
    uploads.rename(registry.root / "uploads.moved")
    uploads.write_text("not a folder")
    try:
        result = health_until(registry, lambda r: r.returncode != 0)
    finally:
        uploads.unlink()
        (registry.root / "uploads.moved").rename(uploads)
    assert result.returncode == 1, result.stdout
    assert "503" in result.stderr
    assert health_until(registry, lambda r: r.returncode == 0).returncode == 0


def health_until(registry, done, seconds=5):
    deadline = time.time() + seconds
    while True:
        result = registryctl("health", config=registry.config_path, timeout=30)
        if done(result) or time.time() > deadline:
            return result
        time.sleep(0.2)


def _break_storage(registry):
    """Storage that cannot take writes (even root's): /healthz answers 503. Returns the undo."""
    uploads = registry.root / "uploads"
    uploads.rename(registry.root / "uploads.moved")
    uploads.write_text("not a folder")

    def undo():
        uploads.unlink()
        (registry.root / "uploads.moved").rename(uploads)
    return undo


def test_health_over_https(make_registry, tmp_path):
    # A certificate for another name, from a CA the configuration does not name: the probe asks
    # its own host's listener and does not verify it, as a HEALTHCHECK must not fail a good server.
    certs = make_certs(tmp_path / "certs", ("registry.example",))
    registry = make_registry(tls=True, extra_config=tls_config(certs)).start()
    result = registryctl("health", config=registry.config_path, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "200" in result.stdout and f"https://127.0.0.1:{registry.port}/healthz" in result.stdout
    undo = _break_storage(registry)
    try:
        result = health_until(registry, lambda r: r.returncode != 0)
    finally:
        undo()
    assert result.returncode == 1, result.stdout
    assert "503" in result.stderr and f"https://127.0.0.1:{registry.port}/healthz" in result.stderr
    registry.stop()
    result = registryctl("health", config=registry.config_path, timeout=30)
    assert result.returncode == 1 and "cannot connect" in result.stderr


def test_health_with_client_certificates_required_only_connects(make_registry, tmp_path):
    certs = make_certs(tmp_path / "certs")
    registry = make_registry(tls=True, extra_config=tls_config(certs, client_cas=True)).start()
    result = registryctl("health", config=registry.config_path, timeout=30)
    assert result.returncode == 0, result.stderr
    assert f"127.0.0.1:{registry.port} accepts connections" in result.stdout
    registry.stop()
    result = registryctl("health", config=registry.config_path, timeout=30)
    assert result.returncode == 1 and "cannot connect" in result.stderr
