"""Shared helpers for the registryd HTTP integration tests.

Everything here talks to a running RegistryProcess (tests/support/registry.py)
over plain HTTP with `requests`.  Manifests are always built from blobs that
were really pushed, with their real digests and sizes.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from registry import RegistryProcess  # tests/support, put on sys.path by tests/conftest.py

API_VERSION_HEADER = "Docker-Distribution-API-Version"
API_VERSION = "registry/2.0"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

TIMEOUT = 30

_counter = itertools.count()


# --------------------------------------------------------------------------- basics

def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rand_bytes(n: int) -> bytes:
    return os.urandom(n)


def uniq(prefix: str = "repo") -> str:
    """A fresh, valid repository name (lower case, unique per call)."""
    return f"{prefix}{next(_counter)}x{secrets.token_hex(3)}"


def fake_digest() -> str:
    """A well-formed sha256 digest that no test ever pushes."""
    return "sha256:" + secrets.token_hex(32)


def http(method: str, reg, path_or_url: str, **kwargs) -> requests.Response:
    """Request `path_or_url` (absolute, or relative to the registry root)."""
    url = path_or_url if path_or_url.startswith("http") else reg.url + path_or_url
    kwargs.setdefault("timeout", TIMEOUT)
    kwargs.setdefault("allow_redirects", False)
    return requests.request(method, url, **kwargs)


def describe(resp: requests.Response) -> str:
    body = resp.content[:600]
    return (f"{resp.request.method} {resp.request.path_url} -> {resp.status_code}\n"
            f"headers: {dict(resp.headers)}\nbody: {body!r}")


# --------------------------------------------------------------------------- assertions

def assert_common_headers(resp: requests.Response) -> None:
    assert resp.headers.get(API_VERSION_HEADER) == API_VERSION, describe(resp)
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", describe(resp)


def assert_status(resp: requests.Response, status: int) -> None:
    assert resp.status_code == status, describe(resp)
    assert_common_headers(resp)


def error_codes(resp: requests.Response) -> list[str]:
    body = resp.json()
    return [e.get("code") for e in body["errors"]]


def assert_error_body(resp: requests.Response, codes) -> None:
    """JSON OCI error body whose first error code is in `codes` (None = any code)."""
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", describe(resp)
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError("error body is not JSON\n" + describe(resp))
    assert isinstance(body, dict), describe(resp)
    assert isinstance(body.get("errors"), list) and body["errors"], describe(resp)
    for err in body["errors"]:
        assert isinstance(err, dict), describe(resp)
        assert isinstance(err.get("code"), str), describe(resp)
        assert isinstance(err.get("message"), str), describe(resp)
    if codes is not None:
        if isinstance(codes, str):
            codes = (codes,)
        assert body["errors"][0]["code"] in codes, describe(resp)


def assert_error(resp: requests.Response, status, codes) -> None:
    """Status (an int or a tuple of ints), common headers and an OCI error body.

    HEAD responses must have no body, so only the status and headers are checked.
    """
    if isinstance(status, int):
        status = (status,)
    assert resp.status_code in status, describe(resp)
    assert_common_headers(resp)
    if resp.request.method == "HEAD":
        assert resp.content == b"", describe(resp)
        return
    assert_error_body(resp, codes)


def location_path(resp: requests.Response) -> str:
    """The Location header as a path (+query), accepting absolute URLs too."""
    loc = resp.headers.get("Location")
    assert loc, "no Location header\n" + describe(resp)
    parts = urlsplit(loc)
    return parts.path + ("?" + parts.query if parts.query else "")


def blob_file(reg, digest: str) -> Path:
    """Where the filesystem store keeps a sha256 blob."""
    hexdigest = digest.split(":", 1)[1]
    return reg.root / "blobs" / "sha256" / hexdigest[:2] / hexdigest


def files_under(path: Path) -> list[Path]:
    if not path.exists():
        return []
    return [p for p in path.rglob("*") if p.is_file() or p.is_symlink()]


def assert_no_upload_files(reg) -> None:
    left = files_under(Path(reg.root) / "uploads")
    assert left == [], f"files left under {reg.root}/uploads: {left}"


def wait_for_log(reg, needle: str, timeout: float = 5.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if needle in reg.log():
            return True
        time.sleep(0.1)
    return needle in reg.log()


# --------------------------------------------------------------------------- uploads

def upload_url(reg, location: str) -> str:
    return urljoin(reg.url + "/", location)


def with_digest(location: str, digest: str) -> str:
    sep = "&" if "?" in location else "?"
    return f"{location}{sep}digest={digest}"


def start_upload(reg, name: str) -> requests.Response:
    resp = http("POST", reg, f"/v2/{name}/blobs/uploads/")
    assert_status(resp, 202)
    return resp


def push_blob(reg, name: str, data: bytes) -> str:
    """Monolithic push (POST ?digest=) of `data` into `name`; returns its digest."""
    digest = sha256(data)
    resp = http("POST", reg, f"/v2/{name}/blobs/uploads/?digest={digest}", data=data,
                headers={"Content-Type": "application/octet-stream"})
    assert_status(resp, 201)
    assert resp.headers.get("Docker-Content-Digest") == digest, describe(resp)
    return digest


def push_blob_chunked(reg, name: str, chunks: list[bytes], *, content_range: bool = True,
                      final: bytes = b"") -> requests.Response:
    """POST, one PATCH per chunk, then PUT ?digest= (with `final` as body)."""
    data = b"".join(chunks) + final
    resp = start_upload(reg, name)
    loc = location_path(resp)
    offset = 0
    for chunk in chunks:
        headers = {"Content-Type": "application/octet-stream"}
        if content_range:
            headers["Content-Range"] = f"{offset}-{offset + len(chunk) - 1}"
        resp = http("PATCH", reg, loc, data=chunk, headers=headers)
        assert_status(resp, 202)
        offset += len(chunk)
        assert resp.headers.get("Range") == f"0-{offset - 1}", describe(resp)
        loc = location_path(resp)
    resp = http("PUT", reg, with_digest(loc, sha256(data)), data=final,
                headers={"Content-Type": "application/octet-stream"})
    return resp


def get_blob(reg, name: str, digest: str) -> requests.Response:
    return http("GET", reg, f"/v2/{name}/blobs/{digest}")


# --------------------------------------------------------------------------- manifests

def descriptor(media_type: str, data: bytes, **extra) -> dict:
    d = {"mediaType": media_type, "digest": sha256(data), "size": len(data)}
    d.update(extra)
    return d


def manifest_bytes(doc: dict, *, pretty: bool = False) -> bytes:
    if pretty:
        return (json.dumps(doc, indent=3) + "\n").encode()
    return json.dumps(doc, separators=(",", ":")).encode()


def put_manifest(reg, name: str, ref: str, body: bytes, media_type: str) -> requests.Response:
    return http("PUT", reg, f"/v2/{name}/manifests/{ref}", data=body,
                headers={"Content-Type": media_type})


def get_manifest(reg, name: str, ref: str, accept=None, method: str = "GET") -> requests.Response:
    headers = {}
    if accept is not None:
        headers["Accept"] = accept
    return http(method, reg, f"/v2/{name}/manifests/{ref}", headers=headers)


class Image:
    """A pushed (or ready-to-push) image: blobs + manifest bytes."""

    def __init__(self, name, media_type, body, config, layers):
        self.name = name
        self.media_type = media_type
        self.body = body
        self.digest = sha256(body)
        self.config = config          # bytes
        self.layers = layers          # list[bytes]

    @property
    def doc(self) -> dict:
        return json.loads(self.body)


def image_manifest(media_type: str, config: bytes, layers: list[bytes], *,
                   subject: dict | None = None, annotations: dict | None = None,
                   config_media_type: str | None = None, artifact_type: str | None = None,
                   pretty: bool = False, include_media_type: bool = True) -> bytes:
    docker = media_type == DOCKER_MANIFEST
    cfg_type = config_media_type or (DOCKER_CONFIG if docker else OCI_CONFIG)
    layer_type = DOCKER_LAYER if docker else OCI_LAYER
    doc: dict = {"schemaVersion": 2}
    if include_media_type:
        doc["mediaType"] = media_type
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = descriptor(cfg_type, config)
    doc["layers"] = [descriptor(layer_type, l) for l in layers]
    if subject is not None:
        doc["subject"] = subject
    if annotations:
        doc["annotations"] = annotations
    return manifest_bytes(doc, pretty=pretty)


def config_blob(tag: str = "") -> bytes:
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []},
        "config": {"Labels": {"nonce": secrets.token_hex(8), "tag": tag}},
    }).encode()


def make_image(reg, name: str, *, tag: str | None = "latest", media_type: str = OCI_MANIFEST,
               layer_sizes=(2048, 3000), push: bool = True, pretty: bool = False,
               subject: dict | None = None) -> Image:
    """Push a config blob and layers into `name`, then (if push) the manifest under `tag`
    (or by digest when tag is None).  Returns the Image."""
    config = config_blob(tag or "")
    layers = [rand_bytes(n) for n in layer_sizes]
    push_blob(reg, name, config)
    for layer in layers:
        push_blob(reg, name, layer)
    body = image_manifest(media_type, config, layers, subject=subject, pretty=pretty)
    img = Image(name, media_type, body, config, layers)
    if push:
        ref = tag if tag is not None else img.digest
        resp = put_manifest(reg, name, ref, body, media_type)
        assert_status(resp, 201)
        assert resp.headers.get("Docker-Content-Digest") == img.digest, describe(resp)
    return img


def index_body(media_type: str, children: list[Image], platforms=None) -> bytes:
    manifests = []
    for i, child in enumerate(children):
        d = descriptor(child.media_type, child.body)
        plat = (platforms or [])[i] if platforms and i < len(platforms) else \
            {"architecture": ["amd64", "arm64", "s390x", "ppc64le"][i % 4], "os": "linux"}
        d["platform"] = plat
        manifests.append(d)
    return manifest_bytes({"schemaVersion": 2, "mediaType": media_type, "manifests": manifests})


def tags_of(reg, name: str) -> list[str]:
    resp = http("GET", reg, f"/v2/{name}/tags/list")
    assert_status(resp, 200)
    return resp.json()["tags"]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One registryd for a whole test module (delete enabled).

    Tests using it must only touch repositories with uniq() names and must not
    look at global state (catalog, storage directories)."""
    server = RegistryProcess(tmp_path_factory.mktemp("shared")).start()
    yield server
    server.stop()


# --------------------------------------------------------------------------- Prometheus metrics

def scrape_metrics(port: int) -> str:
    """The Prometheus text that registryd's debug server (`http.debug`) exposes on `port`."""
    resp = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.text


def prometheus_samples(text: str) -> dict[str, float]:
    """Prometheus text as {'name{labels}': value}, comments left out."""
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return samples


_SAMPLE_KEY = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def metric_sum(samples: str | dict[str, float], name: str, **labels: str) -> float:
    """The sum of metric `name` over its samples whose labels include `labels` (all of them
    when none are given), from Prometheus text or from ``prometheus_samples``."""
    if isinstance(samples, str):
        samples = prometheus_samples(samples)
    total = 0.0
    for key, value in samples.items():
        match = _SAMPLE_KEY.fullmatch(key)
        if not match or match.group(1) != name:
            continue
        have = dict(_LABEL.findall(match.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += value
    return total
