"""deploy/: the container image (built on the private dockerd from a base made here) and the
systemd unit (systemd-analyze verify against a root laid out as the unit's install steps say).

No outside registry is reachable, so neither the Swift build image nor debian:bookworm-slim
can be pulled. The image test therefore builds deploy/Dockerfile's own runtime stage, as
written, with two build arguments pointing at local images: BINARIES, holding the registryd
and registryctl this test run built (debug builds, Swift runtime linked dynamically), and
BASE_IMAGE, a FROM scratch image with exactly the shared libraries `ldd` lists for them. The
build stage (swift build -c release --static-swift-stdlib) is not exercised here.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from e2e_support import loud_skip, output, run
from registry import REPO_ROOT, free_port, registryd_binary

DEPLOY = REPO_ROOT / "deploy"


def binaries() -> list[Path]:
    registryd = Path(registryd_binary())
    return [registryd, registryd.with_name("registryctl")]


def shared_libraries(paths: list[Path]) -> set[Path]:
    """Every library (and the loader) `ldd` resolves for `paths`."""
    libraries = set()
    for path in paths:
        for line in run(["ldd", str(path)]).stdout.splitlines():
            assert "not found" not in line, line
            match = re.search(r"(/\S+) \(0x", line)
            if match:
                libraries.add(Path(match.group(1)))
    return libraries


def copy_preserving(source: Path, root: Path) -> None:
    """Copies `source` to the same absolute path under `root`, following symlinks."""
    target = root / source.relative_to("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source.resolve(), target)


def runtime_stage() -> str:
    """deploy/Dockerfile without its build stage: the ARGs, the `binaries` stage and the runtime."""
    text = (DEPLOY / "Dockerfile").read_text()
    header = text[:text.index("\nFROM ")]
    stages = text[text.index("FROM ${BINARIES} AS binaries"):]
    return header + "\n" + stages


@pytest.fixture(scope="module")
def image(docker, tmp_path_factory):
    work = tmp_path_factory.mktemp("deploy")
    tag = f"berth-test-{uuid.uuid4().hex[:8]}"

    out = work / "binaries" / "out"
    for folder in ("usr/local/bin", "usr/local/lib", "var/lib/registry"):
        (out / folder).mkdir(parents=True)
    for path in binaries():
        shutil.copy2(path, out / "usr/local/bin" / path.name)
    (work / "binaries" / "Dockerfile").write_text("FROM scratch\nCOPY out /out\n")
    docker.docker("build", "-t", f"{tag}-binaries", str(work / "binaries"))

    base = work / "base" / "root"
    for library in shared_libraries(binaries()):
        copy_preserving(library, base)
    (base / "tmp").mkdir()
    (work / "base" / "Dockerfile").write_text("FROM scratch\nCOPY root/ /\n")
    docker.docker("build", "-t", f"{tag}-base", str(work / "base"))

    context = work / "runtime"
    (context / "deploy").mkdir(parents=True)
    shutil.copy2(DEPLOY / "config.yml", context / "deploy" / "config.yml")
    (context / "Dockerfile").write_text(runtime_stage())
    docker.docker("build", "--build-arg", f"BASE_IMAGE={tag}-base", "--build-arg", f"BINARIES={tag}-binaries",
                  "-t", tag, str(context))
    yield tag
    docker.docker("rmi", "-f", tag, f"{tag}-base", f"{tag}-binaries", check=False)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_image_serves_pushes_and_reports_health(docker, image, tmp_path):
    inspect = docker.docker("image", "inspect", "-f",
                            "{{.Config.User}} {{json .Config.ExposedPorts}} {{json .Config.Volumes}} "
                            "{{json .Config.Healthcheck.Test}}", image).stdout
    assert inspect.startswith("65532:65532 ")
    assert '"5000/tcp"' in inspect and '"/var/lib/registry"' in inspect
    assert '"/usr/local/bin/registryctl","health"' in inspect

    port = free_port()
    config = tmp_path / "config.yml"
    # The seeds' line: a config.yml mounted at the reference registry's path.
    config.write_text((DEPLOY / "config.yml").read_text().replace("addr: :5000", f"addr: 127.0.0.1:{port}"))
    name = f"berth-deploy-{uuid.uuid4().hex[:8]}"
    volume = f"{name}-data"
    docker.docker("run", "-d", "--name", name, "--network", "host", "--health-interval", "1s",
                  "-v", f"{config}:/etc/docker/registry/config.yml:ro", "-v", f"{volume}:/var/lib/registry", image)
    try:
        url = f"http://127.0.0.1:{port}"

        def healthz():
            try:
                return requests.get(url + "/healthz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(healthz, 60, "/healthz")
        wait_for(lambda: docker.docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip()
                 == "healthy", 60, "the HEALTHCHECK to pass")
        pid = int(docker.docker("inspect", "-f", "{{.State.Pid}}", name).stdout)
        uids = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("Uid:"))
        assert uids.split()[1:] == ["65532"] * 4, uids

        ref = f"127.0.0.1:{port}/deploy/app:v1"
        image_id = docker.build_image(ref, tmp_path, sizes=(100_000, 700_000))
        output(docker.docker("push", ref))
        docker.docker("rmi", ref)
        docker.docker("pull", ref)
        assert docker.image_id(ref) == image_id
        assert requests.get(url + "/v2/deploy/app/tags/list", timeout=5).json()["tags"] == ["v1"]
        docker.docker("rmi", ref)

        docker.docker("stop", "-t", "40", name)
        assert docker.docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "0"
        logs = output(docker.docker("logs", name))
        assert "berth registryd" in logs and "storage=/var/lib/registry" in logs
        assert "registry stopped" in logs
    finally:
        docker.docker("rm", "-f", "-v", name, check=False)
        docker.docker("volume", "rm", "-f", volume, check=False)


def test_systemd_unit_verifies(tmp_path):
    if shutil.which("systemd-analyze") is None:
        loud_skip("`systemd-analyze` is not installed; deploy/registryd.service was not verified")
    unit = (DEPLOY / "registryd.service").read_text()
    for line in ("DynamicUser=yes", "StateDirectory=berth", "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert line in unit.splitlines(), line
    # A root laid out as the unit's header says to install Berth, plus systemd's own units.
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for path in binaries():
        target = root / "usr/local/bin" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    copy_preserving(Path("/bin/kill"), root)
    (root / "etc/berth").mkdir(parents=True)
    shutil.copy2(DEPLOY / "config.yml", root / "etc/berth/config.yml")
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy2(DEPLOY / "registryd.service", root / "etc/systemd/system/registryd.service")
    result = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "/etc/systemd/system/registryd.service"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"warnings:\n{result.stderr}"
