"""Helpers for the end-to-end tests: a private dockerd, command running, and
hand-made OCI image layouts for skopeo.

Nothing here talks to an outside network or an outside registry.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
ALL_MANIFEST_TYPES = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_V2, DOCKER_MANIFEST_LIST])

COMMAND_TIMEOUT = float(os.environ.get("BERTH_E2E_COMMAND_TIMEOUT", "300"))

LOUD_SKIPS: list[str] = []


def loud_skip(reason: str) -> None:
    """Skip, and make sure nobody misses it: a banner on stderr now and a red
    section in the terminal summary (see conftest.pytest_terminal_summary)."""
    banner = "!" * 78
    sys.stderr.write(f"\n{banner}\n!! BERTH E2E TEST SKIPPED: {reason}\n{banner}\n")
    if reason not in LOUD_SKIPS:
        LOUD_SKIPS.append(reason)
    pytest.skip(f"LOUD SKIP: {reason}")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def run(cmd: list[str], *, env: dict | None = None, timeout: float = COMMAND_TIMEOUT,
        check: bool = True, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """Run a command, capture stdout and stderr as text; on `check` a failure
    raises AssertionError that shows the whole command output."""
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"command failed with exit code {proc.returncode}: {' '.join(map(str, cmd))}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    return proc


def output(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout or "") + (proc.stderr or "")


# --------------------------------------------------------------------------- dockerd

class DockerDaemon:
    """A private dockerd with its own data root, exec root and socket under a
    short /tmp directory. Started and stopped by PID."""

    def __init__(self, extra_args: tuple[str, ...] = ()) -> None:
        self.extra_args = list(extra_args)   # e.g. ("--config-file", path) for insecure-registries
        self.dir = Path(tempfile.mkdtemp(prefix="berth-dockerd-"))
        self.sock = self.dir / "docker.sock"
        self.pidfile = self.dir / "pid"
        self.log_path = self.dir / "dockerd.log"
        (self.dir / "client").mkdir()
        self.env = dict(os.environ)
        self.env.update({
            "DOCKER_HOST": f"unix://{self.sock}",
            "DOCKER_BUILDKIT": "0",
            # a private client config: no credential helpers, no contexts from $HOME
            "DOCKER_CONFIG": str(self.dir / "client"),
        })
        self.env.pop("DOCKER_CONTEXT", None)
        self.env.pop("DOCKER_TLS_VERIFY", None)
        self.env.pop("DOCKER_CERT_PATH", None)
        self.proc: subprocess.Popen | None = None
        self.proc_returncode: int | None = None
        self.server_version = ""

    def start(self, timeout: float = 90.0) -> "DockerDaemon":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
             "--storage-driver=vfs", "--data-root", str(self.dir / "data"),
             "--exec-root", str(self.dir / "exec"), "-H", f"unix://{self.sock}",
             "--pidfile", str(self.pidfile), *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                msg = self.log_tail()
                self.stop()
                raise RuntimeError(
                    f"private dockerd exited with code {self.proc_returncode} "
                    f"(it needs root and a kernel that allows it):\n{msg}")
            probe = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                                   env=self.env, capture_output=True, text=True, timeout=30)
            if probe.returncode == 0 and probe.stdout.strip():
                self.server_version = probe.stdout.strip()
                return self
            time.sleep(0.5)
        msg = self.log_tail()
        self.stop()
        raise RuntimeError(f"private dockerd did not answer `docker info` in {timeout}s:\n{msg}")

    def _containerd_pid(self) -> int | None:
        try:
            return int((self.dir / "exec" / "containerd" / "containerd.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 40.0) -> None:
        """SIGTERM dockerd by PID, wait, SIGKILL as a fallback (and then its
        containerd child by PID too), then remove the directory."""
        if self.proc is not None:
            containerd_pid = self._containerd_pid()
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
            self.proc_returncode = self.proc.returncode
            self.proc = None
            if containerd_pid is not None:
                # dockerd stops the containerd it started; only if it did not
                # (dockerd was killed) is the child still there.
                for _ in range(50):
                    try:
                        os.kill(containerd_pid, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.1)
                else:
                    try:
                        os.kill(containerd_pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- client -----------------------------------------------------------------

    def docker(self, *args, check: bool = True, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess:
        return run(["docker", *args], env=self.env, check=check, timeout=timeout)

    def image_id(self, ref: str) -> str:
        return self.docker("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()

    def has_image(self, ref: str) -> bool:
        return self.docker("image", "inspect", ref, check=False).returncode == 0

    def build_image(self, tag: str, workdir: Path, sizes=(64 * 1024, 1024 * 1024 + 17, 3 * 1024 * 1024 + 5)) -> str:
        """Build a FROM scratch image with one COPY layer per random file;
        returns the image ID."""
        ctx = Path(workdir) / f"ctx-{uuid.uuid4().hex[:8]}"
        ctx.mkdir(parents=True)
        lines = ["FROM scratch"]
        for i, size in enumerate(sizes, 1):
            (ctx / f"file{i}.bin").write_bytes(os.urandom(size))
            lines.append(f"COPY file{i}.bin /file{i}.bin")
        (ctx / "Dockerfile").write_text("\n".join(lines) + "\n")
        self.docker("build", "-t", tag, str(ctx))
        return self.image_id(tag)


# --------------------------------------------------------------------------- network namespaces

from netns import NetworkNamespace  # noqa: E402,F401  (tests/support; used by the e2e tests)


# --------------------------------------------------------------------------- OCI layouts

def make_tar(files: dict[str, bytes]) -> bytes:
    """A deterministic tar with the given regular files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


@dataclass
class OciImage:
    """An image written to an OCI layout: what the tests compare against."""
    manifest_bytes: bytes
    manifest_digest: str
    config_bytes: bytes
    config_digest: str
    layers: list[tuple[str, str, bytes]]  # (media type, digest, blob bytes)
    uncompressed_layers: list[bytes]
    platform: dict = field(default_factory=dict)

    @property
    def layer_digests(self) -> list[str]:
        return [d for _, d, _ in self.layers]

    @property
    def descriptor(self) -> dict:
        d = {"mediaType": OCI_MANIFEST, "digest": self.manifest_digest, "size": len(self.manifest_bytes)}
        if self.platform:
            d["platform"] = self.platform
        return d


class OciLayout:
    """Writes an OCI image layout directory by hand (oci-layout, index.json,
    blobs/sha256/...)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        (self.path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self.refs: list[dict] = []
        self._write_index()

    def put_blob(self, data: bytes) -> str:
        digest = sha256_digest(data)
        (self.path / "blobs" / "sha256" / digest.split(":", 1)[1]).write_bytes(data)
        return digest

    def _write_index(self) -> None:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.refs}
        (self.path / "index.json").write_text(json.dumps(index, indent=2))

    def tag(self, name: str, descriptor: dict) -> None:
        d = dict(descriptor)
        d["annotations"] = {"org.opencontainers.image.ref.name": name}
        self.refs = [r for r in self.refs
                     if r.get("annotations", {}).get("org.opencontainers.image.ref.name") != name]
        self.refs.append(d)
        self._write_index()

    def add_image(self, arch: str = "amd64", seed: str | None = None,
                  plain_second_layer: bool = False) -> OciImage:
        """An image with two gzip tar layers of random content (or, with
        `plain_second_layer`, a gzip layer and an uncompressed one, which
        skopeo compresses when it pushes), plus an OCI config."""
        seed = seed or uuid.uuid4().hex
        tar1 = make_tar({"etc/berth-release": f"berth e2e {seed}\n".encode(),
                         "data/random-a.bin": os.urandom(200 * 1024 + 3)})
        tar2 = make_tar({"data/random-b.bin": os.urandom(150 * 1024 + 7),
                         "data/arch.txt": arch.encode()})
        layer1 = gzip_bytes(tar1)
        layers = [(OCI_LAYER_GZIP, self.put_blob(layer1), layer1)]
        if plain_second_layer:
            layers.append((OCI_LAYER_TAR, self.put_blob(tar2), tar2))
        else:
            layer2 = gzip_bytes(tar2)
            layers.append((OCI_LAYER_GZIP, self.put_blob(layer2), layer2))
        config = {
            "created": "2024-01-01T00:00:00Z",
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/true"],
                       "Labels": {"org.example.seed": seed}},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar1), sha256_digest(tar2)]},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "berth e2e layer 1"},
                        {"created": "2024-01-01T00:00:00Z", "created_by": "berth e2e layer 2"}],
        }
        config_bytes = json.dumps(config, separators=(",", ":"), sort_keys=True).encode()
        config_digest = self.put_blob(config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": mt, "digest": d, "size": len(b)} for mt, d, b in layers],
            "annotations": {"org.example.seed": seed},
        }
        manifest_bytes = json.dumps(manifest, indent=3).encode()
        manifest_digest = self.put_blob(manifest_bytes)
        return OciImage(manifest_bytes, manifest_digest, config_bytes, config_digest, layers,
                        [tar1, tar2], {"architecture": arch, "os": "linux"})

    def add_index(self, images: list[OciImage]) -> tuple[bytes, str]:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                 "manifests": [img.descriptor for img in images]}
        data = json.dumps(index, indent=2).encode()
        return data, self.put_blob(data)

    def blob_path(self, digest: str) -> Path:
        return self.path / "blobs" / "sha256" / digest.split(":", 1)[1]


def read_layout_ref(layout: Path, name: str) -> dict:
    """The index.json descriptor tagged `name` in an OCI layout."""
    index = json.loads((Path(layout) / "index.json").read_text())
    for d in index.get("manifests", []):
        if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == name:
            return d
    raise AssertionError(f"no ref {name!r} in {layout}/index.json: {json.dumps(index)}")


def layout_blob(layout: Path, digest: str) -> bytes:
    algo, hexd = digest.split(":", 1)
    return (Path(layout) / "blobs" / algo / hexd).read_bytes()


def maybe_gunzip(data: bytes) -> bytes:
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
