"""The pull-through cache: `berth.mirrors` (several upstreams under prefixes, a default for
unprefixed names) and `proxy.remoteurl` (Distribution's single-upstream mode), against real
upstream registries started here: a Berth with htpasswd, a Berth with token auth (the token
server of tests/support/security.py), an anonymous Berth, and Distribution. Also an upstream
that lies, which must leave nothing in the cache."""
from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from distribution import DistributionProcess
from helpers import (DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Image, blob_file, config_blob,
                     error_codes, files_under, http, image_manifest, index_body, make_image, metric_sum, rand_bytes,
                     sha256, uniq)
from registry import RegistryProcess, free_port, peak_rss_mib
from security import TokenIssuer, TokenServer, apache_htpasswd, basic, htpasswd_config, repository_access

ACCEPT = {"Accept": ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])}
NOSNIFF = "  headers:\n    X-Content-Type-Options: [nosniff]\n"


@contextlib.contextmanager
def sending(headers: dict):
    """Adds `headers` to every request the test helpers make (pushes to upstreams with auth)."""
    original = requests.request

    def request(method, url, **kwargs):
        kwargs["headers"] = {**headers, **(kwargs.get("headers") or {})}
        return original(method, url, **kwargs)

    requests.request = request
    try:
        yield
    finally:
        requests.request = original


def config(root, port, mirrors: str, extra: str = "", debug_port: int | None = None) -> str:
    debug = f"  debug:\n    addr: 127.0.0.1:{debug_port}\n    prometheus:\n      enabled: true\n" if debug_port else ""
    return f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
{NOSNIFF}{debug}berth:
  mirrors:
{mirrors}{extra}"""


class Upstreams:
    def __init__(self, folder):
        self.issuer = TokenIssuer(folder / "issuer")
        self.tokens = TokenServer(self.issuer, {"mirror": "token-password"}).__enter__()
        users = apache_htpasswd(folder / "users.htpasswd", {"mirror": "basic-password"})
        self.basic = RegistryProcess(folder / "basic", extra_config=htpasswd_config(users, "upstream")).start()
        self.token = RegistryProcess(folder / "token", extra_config=self.issuer.config(self.tokens.realm)).start()
        self.anon = RegistryProcess(folder / "anon").start()
        self.dist = DistributionProcess(folder / "dist").start()

    def stop(self):
        for server in (self.basic, self.token, self.anon, self.dist):
            server.stop()
        self.tokens.__exit__(None, None, None)

    def push(self, which: str, name: str, **kwargs):
        """Pushes an image to one upstream with that upstream's credentials."""
        server = getattr(self, which)
        headers = {}
        if which == "basic":
            headers = basic("mirror", "basic-password")
        elif which == "token":
            access = repository_access(name, "pull", "push", "delete")
            headers = {"Authorization": "Bearer " + self.issuer.token(access, subject="mirror")}
        with sending(headers):
            if which == "dist":
                return push_in_two_steps(server, name, **kwargs)
            return make_image(server, name, **kwargs)


def push_in_two_steps(server, name: str, *, tag: str, media_type: str = OCI_MANIFEST,
                      layer_sizes=(2048, 3000)):
    """Distribution 2.8 does not take a whole blob with POST ?digest=: POST, then PUT."""
    config_bytes = config_blob(tag)
    layers = [rand_bytes(n) for n in layer_sizes]
    image = Image(name, media_type, image_manifest(media_type, config_bytes, layers), config_bytes, layers)
    for data in [image.config] + image.layers:
        start = http("POST", server, f"/v2/{name}/blobs/uploads/")
        assert start.status_code == 202, start.text
        location = start.headers["Location"]
        separator = "&" if "?" in location else "?"
        done = http("PUT", server, f"{location}{separator}digest={sha256(data)}", data=data,
                    headers={"Content-Type": "application/octet-stream"})
        assert done.status_code == 201, done.text
    resp = http("PUT", server, f"/v2/{name}/manifests/{tag}", data=image.body, headers={"Content-Type": media_type})
    assert resp.status_code == 201, resp.text
    return image


@pytest.fixture(scope="module")
def upstreams(tmp_path_factory):
    ups = Upstreams(tmp_path_factory.mktemp("upstreams"))
    yield ups
    ups.stop()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory, upstreams):
    folder = tmp_path_factory.mktemp("mirror")
    reg = RegistryProcess(folder)
    mirrors = f"""    - prefix: basic
      url: {upstreams.basic.url}
      username: mirror
      password: basic-password
    - prefix: token
      url: {upstreams.token.url}
      username: mirror
      password: token-password
    - prefix: anon
      url: {upstreams.anon.url}
      default: true
    - prefix: dist
      url: {upstreams.dist.url}
"""
    reg.debug_port = free_port()
    reg.config_path.write_text(config(reg.root, reg.port, mirrors, debug_port=reg.debug_port))
    reg.start()
    yield reg
    reg.stop()


def pull(reg, name: str, ref: str) -> tuple[str, dict]:
    """Pulls a manifest and every blob it names through `reg`, checking each blob's digest."""
    resp = http("GET", reg, f"/v2/{name}/manifests/{ref}", headers=ACCEPT)
    assert resp.status_code == 200, resp.text
    doc = json.loads(resp.content)
    for desc in [doc.get("config")] + doc.get("layers", []):
        if desc is None:
            continue
        blob = http("GET", reg, f"/v2/{name}/blobs/{desc['digest']}")
        assert blob.status_code == 200, blob.text
        assert sha256(blob.content) == desc["digest"]
    return resp.headers["Docker-Content-Digest"], doc


def stored(reg, digest: str, timeout: float = 10.0) -> bytes:
    """The blob's file in the mirror's store. The download is committed just after the last
    byte reached the client, so it may take a moment to appear."""
    deadline = time.time() + timeout
    path = blob_file(reg, digest)
    while not path.exists() and time.time() < deadline:
        time.sleep(0.05)
    return path.read_bytes()


def upstream_requests(server, needle: str) -> int:
    text = server.log() if hasattr(server, "log") else server.log_path.read_text(errors="replace")
    return sum(1 for line in text.splitlines() if needle in line)


@pytest.mark.parametrize("which", ["basic", "token", "anon", "dist"])
def test_pulls_through_each_kind_of_upstream(upstreams, mirror, which):
    name = uniq("lib")
    img = upstreams.push(which, name, tag="v1", media_type=DOCKER_MANIFEST)
    digest, doc = pull(mirror, f"{which}/{name}", "v1")
    assert digest == img.digest
    # Cached now: the same bytes by digest, and the blobs are ordinary stored blobs.
    assert http("GET", mirror, f"/v2/{which}/{name}/manifests/{img.digest}", headers=ACCEPT).content == img.body
    for layer in img.layers:
        assert stored(mirror, sha256(layer)) == layer


def test_an_index_and_its_children_by_digest(upstreams, mirror):
    name = uniq("multi")
    children = [upstreams.push("anon", name, tag=None) for _ in range(2)]
    body = index_body(OCI_INDEX, children)
    assert http("PUT", upstreams.anon, f"/v2/{name}/manifests/multi", data=body,
                headers={"Content-Type": OCI_INDEX}).status_code == 201
    digest, doc = pull(mirror, f"anon/{name}", "multi")
    assert digest == sha256(body)
    for child in doc["manifests"]:
        child_digest, _ = pull(mirror, f"anon/{name}", child["digest"])
        assert child_digest == child["digest"]


def test_pushes_and_deletes_into_a_mirror_are_refused_but_private_names_work(upstreams, mirror):
    name = uniq("ro")
    img = upstreams.push("anon", name, tag="v1")
    pull(mirror, f"anon/{name}", "v1")
    refused = [
        http("POST", mirror, f"/v2/anon/{name}/blobs/uploads/"),
        http("PUT", mirror, f"/v2/anon/{name}/manifests/v2", data=img.body, headers={"Content-Type": OCI_MANIFEST}),
        http("DELETE", mirror, f"/v2/anon/{name}/manifests/{img.digest}"),
        http("DELETE", mirror, f"/v2/anon/{name}/blobs/{sha256(img.config)}"),
    ]
    for resp in refused:
        assert resp.status_code == 405, resp.text
        assert error_codes(resp) == ["UNSUPPORTED"]
    private = make_image(mirror, uniq("team/app"), tag="v1")
    assert http("GET", mirror, f"/v2/{private.name}/manifests/v1", headers=ACCEPT).content == private.body


def test_the_default_mirror_answers_unprefixed_names_unless_they_are_private(upstreams, mirror):
    name = uniq("library/tool")
    img = upstreams.push("anon", name, tag="v1")
    # docker's registry-mirrors asks for the upstream's own name.
    assert pull(mirror, name, "v1")[0] == img.digest
    # Cached once, under the prefixed name.
    before = upstream_requests(upstreams.anon, f"GET /v2/{name}/blobs/")
    assert pull(mirror, f"anon/{name}", "v1")[0] == img.digest
    assert upstream_requests(upstreams.anon, f"GET /v2/{name}/blobs/") == before
    # A private repository of an unprefixed name wins over the default mirror.
    private_name = uniq("library/mine")
    upstreams.push("anon", private_name, tag="v1")
    private = make_image(mirror, private_name, tag="v1")
    assert pull(mirror, private_name, "v1")[0] == private.digest


def test_concurrent_pulls_of_a_missing_blob_make_one_upstream_download(upstreams, mirror):
    name = uniq("big")
    img = upstreams.push("anon", name, tag="v1", layer_sizes=(64 << 20,))
    digest = sha256(img.layers[0])
    assert http("GET", mirror, f"/v2/anon/{name}/manifests/v1", headers=ACCEPT).status_code == 200

    def fetch(_):
        resp = requests.get(f"{mirror.url}/v2/anon/{name}/blobs/{digest}", timeout=120)
        return resp.status_code, sha256(resp.content)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, range(8)))
    assert results == [(200, digest)] * 8
    stored(mirror, digest)
    assert upstream_requests(upstreams.anon, f"GET /v2/{name}/blobs/{digest}") == 1
    # Later pulls come from the store; the spool is empty.
    assert fetch(0) == (200, digest)
    assert upstream_requests(upstreams.anon, f"GET /v2/{name}/blobs/{digest}") == 1
    assert files_under(mirror.root / "mirror-spool") == []


def test_the_first_pull_of_a_large_blob_keeps_memory_flat(tmp_path, upstreams):
    """The upstream's body is gathered into a few 1 MiB buffers and paused beyond them; the
    clients read the spool file, so neither the blob's size nor a slow client shows in memory."""
    name = uniq("large")
    img = upstreams.push("anon", name, tag="v1", layer_sizes=(256 << 20,))
    digest = sha256(img.layers[0])
    reg = RegistryProcess(tmp_path / "mirror")
    reg.config_path.write_text(config(reg.root, reg.port, f"""    - prefix: anon
      url: {upstreams.anon.url}
"""))
    reg.start()
    try:
        assert http("GET", reg, f"/v2/anon/{name}/manifests/v1", headers=ACCEPT).status_code == 200
        before = peak_rss_mib(reg.proc.pid)

        def fetch(slow: bool):
            hasher = hashlib.sha256()
            with requests.get(f"{reg.url}/v2/anon/{name}/blobs/{digest}", stream=True, timeout=300) as resp:
                assert resp.status_code == 200
                for i, chunk in enumerate(resp.iter_content(1 << 20)):
                    hasher.update(chunk)
                    if slow and i < 64:
                        time.sleep(0.02)
            return "sha256:" + hasher.hexdigest()

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            assert list(pool.map(fetch, [True, False, False])) == [digest] * 3
        assert stored(reg, digest, timeout=30) == img.layers[0]
        growth = peak_rss_mib(reg.proc.pid) - before
        assert growth < 48, f"peak RSS grew by {growth:.1f} MiB for a 256 MiB first pull"
    finally:
        reg.stop()


def test_unknown_content_is_a_404_naming_the_upstream(mirror):
    resp = http("GET", mirror, "/v2/anon/no/such/image/manifests/v1", headers=ACCEPT)
    assert resp.status_code == 404 and error_codes(resp) == ["MANIFEST_UNKNOWN"]
    assert "anon" in resp.text
    resp = http("GET", mirror, f"/v2/anon/no/such/image/blobs/sha256:{'ab' * 32}")
    assert resp.status_code == 404 and error_codes(resp) == ["BLOB_UNKNOWN"]


def test_wrong_credentials_for_the_upstream_are_a_503(tmp_path, upstreams):
    reg = RegistryProcess(tmp_path / "mirror")
    reg.config_path.write_text(config(reg.root, reg.port, f"""    - prefix: basic
      url: {upstreams.basic.url}
      username: mirror
      password: Not-The-Pa55word
"""))
    reg.start()
    try:
        name = uniq("creds")
        upstreams.push("basic", name, tag="v1")
        resp = http("GET", reg, f"/v2/basic/{name}/manifests/v1", headers=ACCEPT)
        assert resp.status_code == 503 and error_codes(resp) == ["UNAVAILABLE"]
        assert "Not-The-Pa55word" not in reg.log()
    finally:
        reg.stop()


def test_a_moved_tag_after_ttl_and_the_cache_while_the_upstream_is_down(tmp_path):
    upstream = RegistryProcess(tmp_path / "upstream").start()
    reg = RegistryProcess(tmp_path / "mirror")
    reg.config_path.write_text(config(reg.root, reg.port, f"""    - prefix: always
      url: {upstream.url}
    - prefix: lazy
      url: {upstream.url}
      ttl: 3s
"""))
    reg.start()
    try:
        old = make_image(upstream, "app", tag="v1")
        never_pulled = make_image(upstream, "other", tag="v1")
        for prefix in ("always", "lazy"):
            assert pull(reg, f"{prefix}/app", "v1")[0] == old.digest

        # The tag moves upstream. ttl 0: the next pull sees it; ttl 3s: the cached tag until then.
        new = make_image(upstream, "app", tag="v1")
        assert pull(reg, "always/app", "v1")[0] == new.digest
        assert pull(reg, "lazy/app", "v1")[0] == old.digest
        time.sleep(3.5)
        assert pull(reg, "lazy/app", "v1")[0] == new.digest

        upstream.stop()
        for prefix in ("always", "lazy"):
            assert pull(reg, f"{prefix}/app", "v1")[0] == new.digest
            assert pull(reg, f"{prefix}/app", old.digest)[0] == old.digest
        resp = http("GET", reg, "/v2/always/other/manifests/v1", headers=ACCEPT)
        assert resp.status_code == 503 and error_codes(resp) == ["UNAVAILABLE"]
        assert "always" in resp.text
        resp = http("GET", reg, f"/v2/always/other/blobs/{sha256(never_pulled.config)}")
        assert resp.status_code == 503
        assert "serving a cached tag the upstream could not confirm" in reg.log()

        upstream.start()
        newer = make_image(upstream, "app", tag="v1")
        assert pull(reg, "always/app", "v1")[0] == newer.digest
    finally:
        reg.stop()
        upstream.stop()


class LyingUpstream:
    """A registry that answers with content that does not match what it claims."""

    def __init__(self):
        self.config = b'{"architecture":"amd64","os":"linux"}'
        self.good_layer = rand_bytes(4096)
        self.bad_layer_digest = sha256(b"what the manifest promises")
        self.short_layer = rand_bytes(100_000)
        layers = [(self.good_layer, sha256(self.good_layer)), (b"something else entirely", self.bad_layer_digest),
                  (self.short_layer, sha256(self.short_layer))]
        self.blobs = {sha256(self.config): self.config, **{digest: data for data, digest in layers}}
        self.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(self.config),
                       "size": len(self.config)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(data)}
                       for data, d in layers],
        }).encode()
        lying = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None, length=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                path = self.path
                if path == "/v2/":
                    return self.reply(200, b"{}")
                if path.endswith("/manifests/wrong-digest"):
                    return self.reply(200, lying.manifest, {"Content-Type": OCI_MANIFEST,
                                                            "Docker-Content-Digest": "sha256:" + "0" * 64})
                if path.endswith("/manifests/not-json"):
                    return self.reply(200, b"<html>hello</html>", {"Content-Type": OCI_MANIFEST})
                if path.endswith("/manifests/huge"):
                    body = json.dumps({"schemaVersion": 2, "padding": "x" * (5 << 20)}).encode()
                    return self.reply(200, body, {"Content-Type": OCI_MANIFEST})
                if path.endswith("/manifests/v1"):
                    return self.reply(200, lying.manifest, {"Content-Type": OCI_MANIFEST,
                                                            "Docker-Content-Digest": sha256(lying.manifest)})
                if "/blobs/" in path:
                    digest = path.rsplit("/", 1)[1]
                    data = lying.blobs.get(digest)
                    if data is None:
                        return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"no"}]}')
                    if data is lying.short_layer:
                        # Announce the whole size, send half, hang up.
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        if self.command != "HEAD":
                            self.wfile.write(data[: len(data) // 2])
                        self.close_connection = True
                        return
                    return self.reply(200, data)
                self.reply(404, b"{}")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_an_upstream_that_lies_caches_nothing(tmp_path):
    liar = LyingUpstream()
    reg = RegistryProcess(tmp_path / "mirror")
    reg.config_path.write_text(config(reg.root, reg.port, f"""    - prefix: liar
      url: {liar.url}
"""))
    reg.start()
    try:
        for ref in ("wrong-digest", "not-json", "huge"):
            resp = http("GET", reg, f"/v2/liar/app/manifests/{ref}", headers=ACCEPT)
            assert resp.status_code == 503 and error_codes(resp) == ["UNAVAILABLE"], (ref, resp.text)
        resp = http("GET", reg, "/v2/_catalog")
        assert resp.json()["repositories"] == []

        resp = http("GET", reg, "/v2/liar/app/manifests/v1", headers=ACCEPT)
        assert resp.status_code == 200
        good = sha256(liar.good_layer)
        assert sha256(http("GET", reg, f"/v2/liar/app/blobs/{good}").content) == good
        for digest in (liar.bad_layer_digest, sha256(liar.short_layer)):
            try:
                resp = requests.get(f"{reg.url}/v2/liar/app/blobs/{digest}", timeout=30)
                # The body is cut off (or never starts): never the promised bytes.
                assert resp.status_code != 200 or sha256(resp.content) != digest
            except requests.exceptions.RequestException:
                pass
            time.sleep(0.5)
            assert not blob_file(reg, digest).exists()
            resp = http("HEAD", reg, f"/v2/liar/app/blobs/{digest}")
            assert resp.status_code == 200  # the upstream still claims it: nothing local decides
        assert files_under(reg.root / "mirror-spool") == []
        assert reg.proc.poll() is None
        assert stored(reg, good) == liar.good_layer
    finally:
        reg.stop()
        liar.stop()


def test_proxy_remoteurl_mirrors_the_whole_registry(tmp_path):
    upstream = RegistryProcess(tmp_path / "upstream").start()
    reg = RegistryProcess(tmp_path / "proxy", extra_config=f"proxy:\n  remoteurl: {upstream.url}\n  ttl: 168h\n")
    reg.start()
    try:
        img = make_image(upstream, "library/app", tag="v1")
        assert pull(reg, "library/app", "v1")[0] == img.digest
        resp = http("POST", reg, "/v2/library/app/blobs/uploads/")
        assert resp.status_code == 405 and error_codes(resp) == ["UNSUPPORTED"]
        resp = http("POST", reg, "/v2/anything/else/blobs/uploads/")
        assert resp.status_code == 405
    finally:
        reg.stop()
        upstream.stop()


@pytest.mark.parametrize("text,message", [
    ("berth:\n  mirrors:\n    - prefix: a\n      url: ftp://x\n", "expected an http:// or https:// URL"),
    ("berth:\n  mirrors:\n    - url: http://x\n", "prefix"),
    ("berth:\n  mirrors:\n    - {prefix: a, url: 'http://x.example'}\n    - {prefix: a/b, url: 'http://y.example'}\n", "overlap"),
    ("berth:\n  mirrors:\n    - {prefix: a, url: 'http://x.example', default: true}\n"
     "    - {prefix: b, url: 'http://y.example', default: true}\n", "only one mirror"),
    ("proxy:\n  remoteurl: http://x.example\nberth:\n  mirrors:\n    - {prefix: a, url: 'http://x.example'}\n", "cannot be combined"),
])
def test_bad_mirror_configuration_is_refused_with_one_line(tmp_path, text, message):
    import subprocess
    from registry import registryd_binary
    reg = RegistryProcess(tmp_path / "bad", extra_config=text)
    result = subprocess.run([registryd_binary(), "--config", str(reg.config_path)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_metrics_count_hits_misses_and_upstream_bytes_per_upstream(upstreams, mirror):
    name = uniq("metrics")
    upstreams.push("anon", name, tag="v1")
    pull(mirror, f"anon/{name}", "v1")
    pull(mirror, f"anon/{name}", "v1")
    text = requests.get(f"http://127.0.0.1:{mirror.debug_port}/metrics", timeout=30).text

    def value(metric: str, **labels) -> float:
        return metric_sum(text, metric, **labels)

    assert value("registry_mirror_cache_requests_total", upstream="anon", result="miss") >= 3
    assert value("registry_mirror_cache_requests_total", upstream="anon", result="hit") >= 3
    assert value("registry_mirror_upstream_bytes_total", upstream="anon") >= 5000
    assert value("registry_mirror_upstream_request_duration_seconds_count", upstream="anon") >= 3


def test_the_web_ui_marks_mirrored_repositories(upstreams, mirror):
    name = uniq("shown")
    upstreams.push("anon", name, tag="v1")
    pull(mirror, f"anon/{name}", "v1")
    private = make_image(mirror, uniq("team/ui"), tag="v1")
    page = requests.get(f"{mirror.url}/ui/?q={name}", timeout=30).text
    row = next(line for line in page.splitlines() if f'data-name="anon/{name}"' in line)
    assert "mirror-badge" in row and upstreams.anon.url in row
    page = requests.get(f"{mirror.url}/ui/?q={private.name.split('/')[1]}", timeout=30).text
    row = next(line for line in page.splitlines() if f'data-name="{private.name}"' in line)
    assert "mirror-badge" not in row
    page = requests.get(f"{mirror.url}/ui/repository?name=anon/{name}", timeout=30)
    assert page.status_code == 200, page.text[:500]
    assert 'id="mirror-note"' in page.text and "Delete" not in page.text


def test_an_https_upstream_is_verified_against_the_system_roots_or_the_configured_ca(tmp_path):
    from security import make_certs, tls_config
    certs = make_certs(tmp_path / "certs")
    upstream = RegistryProcess(tmp_path / "upstream", extra_config=tls_config(certs), tls=True).start()
    reg = RegistryProcess(tmp_path / "mirror")
    reg.config_path.write_text(config(reg.root, reg.port, f"""    - prefix: trusted
      url: {upstream.url}
      ca: {certs / 'ca.pem'}
    - prefix: untrusted
      url: {upstream.url}
"""))
    reg.start()
    try:
        original = requests.request

        def verified(method, url, **kwargs):
            kwargs.setdefault("verify", str(certs / "ca.pem"))
            return original(method, url, **kwargs)

        requests.request = verified
        try:
            image = make_image(upstream, "app", tag="v1")
        finally:
            requests.request = original
        assert pull(reg, "trusted/app", "v1")[0] == image.digest
        resp = http("GET", reg, "/v2/untrusted/app/manifests/v1", headers=ACCEPT)
        assert resp.status_code == 503 and error_codes(resp) == ["UNAVAILABLE"]
        assert "untrusted" in resp.text
    finally:
        reg.stop()
        upstream.stop()
