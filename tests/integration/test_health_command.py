"""registryctl health: the image's HEALTHCHECK asks the local registryd for /healthz."""
from __future__ import annotations

from registryctl import registryctl


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
    uploads = registry.root / "uploads"
    uploads.rename(registry.root / "uploads.moved")
    uploads.write_text("not a folder")
    try:
        result = registryctl("health", config=registry.config_path, timeout=30)
    finally:
        uploads.unlink()
        (registry.root / "uploads.moved").rename(uploads)
    assert result.returncode == 1, result.stdout
    assert "503" in result.stderr
    assert registryctl("health", config=registry.config_path, timeout=30).returncode == 0
