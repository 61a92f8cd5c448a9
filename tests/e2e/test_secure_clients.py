"""End-to-end: real clients against registryd with TLS, mutual TLS and htpasswd.

skopeo presents a client certificate (--cert-dir) and credentials (--creds) on 127.0.0.1.
docker treats 127.0.0.0/8 as insecure (no server verification, no client certificate), so
docker login/push/pull/logout run there with TLS and htpasswd, and docker over mutual TLS
runs against registryd in a network namespace of its own at a 10.x address.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from e2e_support import NetworkNamespace, OciLayout, loud_skip, output, run
from registry import RegistryProcess, default_config, registryd_binary
from security import (apache_htpasswd, basic, cert_dir_for_clients, htpasswd_config, make_certs,
                      tls_config)

USER, PASSWORD = "pusher", "pusher-Pa55"


@pytest.fixture
def users(tmp_path) -> Path:
    return apache_htpasswd(tmp_path / "users.htpasswd", {USER: PASSWORD})


@pytest.mark.compat("skopeo", "push and pull over mutual TLS with --cert-dir and --creds")
def test_skopeo_mutual_tls_and_htpasswd(make_registry, skopeo, tmp_path, users):
    certs = make_certs(tmp_path / "certs")
    reg = make_registry(tls=True, extra_config=tls_config(certs, client_cas=True) + htpasswd_config(users)).start()
    cert_dir = cert_dir_for_clients(certs, tmp_path / "cert-dir")
    layout = OciLayout(tmp_path / "layout")
    image = layout.add_image()
    layout.tag("v1", image.descriptor)
    dest = f"docker://{reg.host}/secure/app:v1"

    push = skopeo("copy", "--dest-cert-dir", str(cert_dir), "--dest-creds", f"{USER}:{PASSWORD}",
                  f"oci:{layout.path}:v1", dest)
    assert "Writing manifest" in output(push)
    info = skopeo("inspect", "--cert-dir", str(cert_dir), "--creds", f"{USER}:{PASSWORD}", "--raw", dest)
    assert info.stdout.encode() == image.manifest_bytes
    pulled = tmp_path / "pulled"
    skopeo("copy", "--src-cert-dir", str(cert_dir), "--src-creds", f"{USER}:{PASSWORD}", dest, f"dir:{pulled}")
    assert (pulled / "manifest.json").read_bytes() == image.manifest_bytes

    # Without the client certificate the handshake fails; without credentials, 401.
    ca_only = tmp_path / "ca-only"
    ca_only.mkdir()
    shutil.copyfile(certs / "ca.pem", ca_only / "ca.crt")
    no_cert = skopeo("inspect", "--cert-dir", str(ca_only), "--creds", f"{USER}:{PASSWORD}", dest, check=False)
    assert no_cert.returncode != 0
    assert any(word in output(no_cert).lower() for word in ("certificate", "tls", "handshake")), output(no_cert)
    no_creds = skopeo("inspect", "--cert-dir", str(cert_dir), dest, check=False)
    assert no_creds.returncode != 0 and _refused_for_credentials(no_creds), output(no_creds)
    wrong = skopeo("inspect", "--cert-dir", str(cert_dir), "--creds", f"{USER}:wrong", dest, check=False)
    assert wrong.returncode != 0


def _refused_for_credentials(proc: subprocess.CompletedProcess) -> bool:
    text = output(proc).lower()
    return any(words in text for words in ("unauthorized", "authentication required", "no basic auth credentials"))


def _build(docker, tmp_path, tag: str) -> str:
    return docker.build_image(tag, tmp_path, sizes=(2048, 70_000))


def _login(docker, host: str) -> subprocess.CompletedProcess:
    """`docker login` with the password on stdin, into the private daemon's client config."""
    return subprocess.run(["docker", "login", "--username", USER, "--password-stdin", host], input=PASSWORD,
                          env=docker.env, capture_output=True, text=True, timeout=120)


@pytest.mark.compat("docker", "login, push, pull and logout over TLS with htpasswd")
def test_docker_login_push_pull_logout(make_registry, docker, tmp_path, users):
    certs = make_certs(tmp_path / "certs")
    reg = make_registry(tls=True, extra_config=tls_config(certs) + htpasswd_config(users)).start()
    ref = f"{reg.host}/secure/app:v1"
    image_id = _build(docker, tmp_path, ref)
    try:
        refused = docker.docker("push", ref, check=False)
        assert refused.returncode != 0 and _refused_for_credentials(refused), output(refused)

        login = _login(docker, reg.host)
        assert login.returncode == 0 and "Login Succeeded" in output(login), output(login)
        docker.docker("push", ref)
        docker.docker("rmi", ref)
        docker.docker("pull", ref)
        assert docker.image_id(ref) == image_id

        docker.docker("logout", reg.host)
        docker.docker("rmi", ref)
        seen = len(reg.log())
        after = docker.docker("pull", ref, check=False)
        assert after.returncode != 0, output(after)
        # Docker answers the 401 by falling back to plain HTTP on 127.0.0.1 (an insecure
        # registry to it), so its message is about that; the registry's log shows the refusal.
        since = reg.log()[seen:]
        assert "status=401 user=-" in since and "status=200" not in since, since
        assert not docker.has_image(ref)
        assert PASSWORD not in reg.log()
    finally:
        docker.docker("logout", reg.host, check=False)
        docker.docker("rmi", "-f", ref, check=False)


# --------------------------------------------------------------------------- docker over mutual TLS

@pytest.mark.compat("docker", "push and pull over mutual TLS (certs.d client certificate)")
def test_docker_mutual_tls_in_a_network_namespace(docker, tmp_path, users):
    if os.geteuid() != 0 or shutil.which("ip") is None:
        loud_skip("docker over mutual TLS needs root and iproute2 for a network namespace")
    namespace = NetworkNamespace()
    port = random.randint(20000, 40000)
    host = f"{namespace.ns_ip}:{port}"
    certs_d = Path("/etc/docker/certs.d") / host
    created_dirs = [d for d in (certs_d.parent.parent, certs_d.parent) if not d.exists()]
    proc = None
    try:
        try:
            namespace.create()
        except AssertionError as error:
            loud_skip(f"cannot make a network namespace for docker over mutual TLS: {error}")
        certs = make_certs(tmp_path / "certs", (namespace.ns_ip,))
        config = tmp_path / "config.yml"
        config.write_text(default_config(tmp_path / "data", port)
                          .replace("127.0.0.1", namespace.ns_ip)
                          .replace("http:\n", "http:\n" + tls_config(certs, client_cas=True), 1)
                          + htpasswd_config(users))
        log = open(tmp_path / "registryd.log", "ab")
        proc = subprocess.Popen(["ip", "netns", "exec", namespace.name, registryd_binary(), "--config", str(config)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        log.close()
        client = (str(certs / "cert.pem"), str(certs / "key.pem"))
        deadline = time.time() + 30
        while True:
            try:
                assert requests.get(f"https://{host}/v2/", verify=str(certs / "ca.pem"), cert=client,
                                    timeout=2).status_code == 401
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.time() < deadline, (tmp_path / "registryd.log").read_text()
                time.sleep(0.2)

        ref = f"{host}/mtls/app:v1"
        image_id = _build(docker, tmp_path, ref)
        # No client certificate in certs.d yet: the handshake fails.
        refused = _login(docker, host)
        assert refused.returncode != 0, output(refused)

        cert_dir_for_clients(certs, certs_d)
        login = _login(docker, host)
        assert login.returncode == 0, output(login)
        docker.docker("push", ref)
        docker.docker("rmi", ref)
        docker.docker("pull", ref)
        assert docker.image_id(ref) == image_id
        docker.docker("logout", host)
    finally:
        docker.docker("rmi", "-f", f"{host}/mtls/app:v1", check=False)
        shutil.rmtree(certs_d, ignore_errors=True)
        for folder in reversed(created_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        if proc is not None:
            # `ip netns exec` execs registryd, so this PID is registryd's.
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        namespace.delete()
