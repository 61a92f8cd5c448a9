"""End-to-end: docker and a registry on another host over plain HTTP (README, "Plain HTTP on a
private network").

registryd serves plain HTTP, without TLS or authentication, on a 10.x address inside a network
namespace this test makes (another host, as far as docker can tell). A dockerd whose daemon.json
lists that address under `insecure-registries` pushes and pulls there; the session's dockerd,
without it, refuses to push, with docker's "server gave HTTP response to HTTPS client". So the
setting is what makes it work. registryd must have logged its loud plain-HTTP warning.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time

import pytest
import requests

from e2e_support import DockerDaemon, NetworkNamespace, loud_skip, output
from registry import default_config, registryd_binary

WARNING = "!!! SERVING PLAIN HTTP WITHOUT AUTHENTICATION ON"


def _stop(proc: subprocess.Popen | None) -> None:
    # `ip netns exec` execs registryd, so this PID is registryd's.
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.compat("docker", "push and pull over plain HTTP to another host listed in insecure-registries")
def test_docker_plain_http_needs_insecure_registries(docker, tmp_path):
    if os.geteuid() != 0 or shutil.which("ip") is None:
        loud_skip("plain HTTP to another host needs root and iproute2 for a network namespace")
    namespace = NetworkNamespace()
    port = random.randint(20000, 40000)
    host = f"{namespace.ns_ip}:{port}"
    repository = "plain/app"
    ref = f"{host}/{repository}:v1"
    proc = None
    insecure = None
    log_path = tmp_path / "registryd.log"
    try:
        try:
            namespace.create()
        except AssertionError as error:
            loud_skip(f"cannot make a network namespace for plain HTTP to another host: {error}")
        config = tmp_path / "config.yml"
        config.write_text(default_config(tmp_path / "data", port).replace("127.0.0.1", namespace.ns_ip))
        assert "tls:" not in config.read_text() and "auth:" not in config.read_text()
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(["ip", "netns", "exec", namespace.name, registryd_binary(), "--config", str(config)],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        deadline = time.time() + 30
        while True:
            try:
                assert requests.get(f"http://{host}/v2/", timeout=2).status_code == 200
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.time() < deadline, log_path.read_text()
                time.sleep(0.2)
        startup = log_path.read_text()
        assert f"{WARNING} {host} !!!" in startup, startup

        # The session's dockerd has no insecure-registries: it speaks HTTPS to a non-loopback
        # address and gives up on the plain answer.
        refused_id = docker.build_image(ref, tmp_path, sizes=(2048, 70_000))
        refused = docker.docker("push", ref, check=False)
        assert refused.returncode != 0, output(refused)
        assert "server gave HTTP response to HTTPS client" in output(refused), output(refused)
        tags = requests.get(f"http://{host}/v2/{repository}/tags/list", timeout=10)
        assert tags.status_code == 404 and tags.json()["errors"][0]["code"] == "NAME_UNKNOWN", tags.text

        # A dockerd whose daemon.json lists the address, as README shows for /etc/docker/daemon.json.
        daemon_json = tmp_path / "daemon.json"
        daemon_json.write_text(json.dumps({"insecure-registries": [host]}))
        insecure = DockerDaemon(extra_args=("--config-file", str(daemon_json)))
        insecure.start()
        info = insecure.docker("info", "--format", "{{json .RegistryConfig.IndexConfigs}}").stdout
        assert host in json.loads(info), info
        image_id = insecure.build_image(ref, tmp_path, sizes=(4096, 90_000, 300_000))
        assert image_id != refused_id
        pushed = insecure.docker("push", ref)
        assert "digest: sha256:" in output(pushed), output(pushed)
        insecure.docker("rmi", ref)
        assert not insecure.has_image(ref)
        insecure.docker("pull", ref)
        assert insecure.image_id(ref) == image_id

        tags = requests.get(f"http://{host}/v2/{repository}/tags/list", timeout=10)
        assert tags.status_code == 200 and tags.json()["tags"] == ["v1"], tags.text
        # It went over plain HTTP from the host's side of the veth pair, not over loopback.
        access = [line for line in log_path.read_text().splitlines() if f"/v2/{repository}/manifests/v1" in line]
        assert any("PUT" in line and "status=201" in line for line in access), "\n".join(access)
        assert all(namespace.host_ip in line for line in access), "\n".join(access)

        # The session's dockerd still cannot pull what the other one pushed.
        docker.docker("rmi", "-f", ref)
        still_refused = docker.docker("pull", ref, check=False)
        assert still_refused.returncode != 0, output(still_refused)
        assert "server gave HTTP response to HTTPS client" in output(still_refused), output(still_refused)
    finally:
        docker.docker("rmi", "-f", ref, check=False)
        if insecure is not None:
            insecure.stop()
            insecure.cleanup()
        _stop(proc)
        namespace.delete()
