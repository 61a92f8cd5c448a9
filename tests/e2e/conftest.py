"""Fixtures for the end-to-end tests with real clients (docker, skopeo, ab).

`registry` and `make_registry` come from tests/conftest.py one level up.
`docker` is a private dockerd for the whole session, started and stopped by
PID, with its own data root under a short /tmp directory.
"""
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compat  # noqa: E402
from e2e_support import LOUD_SKIPS, DockerDaemon, loud_skip, run  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "compat(client, operation): a client operation this test proves")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.when == "call" or (report.when == "setup" and not report.passed):
        compat.record(item, "passed" if report.passed else "skipped" if report.skipped else "failed")


_results_path = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    path = compat.write_results()
    if path is not None:
        _results_path.append(path)


def pytest_terminal_summary(terminalreporter):
    for path in _results_path:
        terminalreporter.write_line(f"client compatibility results: {path}")
    if LOUD_SKIPS:
        terminalreporter.write_sep("!", "BERTH E2E TESTS WERE SKIPPED", red=True, bold=True)
        for reason in LOUD_SKIPS:
            terminalreporter.write_line(f"SKIPPED: {reason}", red=True, bold=True)
        terminalreporter.write_line(
            "Install the missing tool(s) (scripts/install-test-deps.sh: docker.io skopeo podman, pip oras; apache2-utils for ab) to run them.",
            red=True, bold=True)


@pytest.fixture(scope="session")
def docker():
    """A private dockerd (vfs storage, no bridge, no iptables)."""
    for tool in ("dockerd", "docker"):
        if shutil.which(tool) is None:
            loud_skip(f"`{tool}` is not installed, docker end-to-end tests did not run")
    daemon = DockerDaemon()
    try:
        daemon.start()
    except BaseException:
        daemon.cleanup()
        raise
    compat.note_version("docker", f"dockerd {daemon.server_version}")
    try:
        yield daemon
    finally:
        daemon.stop()
        daemon.cleanup()


@pytest.fixture(scope="session")
def skopeo():
    """A function that runs skopeo with the insecure policy (signatures are not
    what these tests are about) and returns the CompletedProcess."""
    if shutil.which("skopeo") is None:
        loud_skip("`skopeo` is not installed, skopeo end-to-end tests did not run")

    def skopeo_run(*args, check=True, timeout=300):
        return run(["skopeo", "--insecure-policy", *args], check=check, timeout=timeout)

    return skopeo_run
