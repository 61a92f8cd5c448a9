"""The fleet layout in deploy/fleet/ as shipped: HAProxy accepts haproxy.cfg (with its default
addresses and with the environment's), systemd accepts the template unit as an instance, and
the Compose file wires the three nodes, the migration and HAProxy to the shipped files.
(tests/e2e/test_fleet.py runs haproxy.cfg and config.yml with real servers.)"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from e2e_support import loud_skip
from test_deploy import binaries, copy_preserving

FLEET = Path(__file__).resolve().parents[2] / "deploy" / "fleet"


def test_haproxy_accepts_the_shipped_configuration(tmp_path):
    if shutil.which("haproxy") is None:
        loud_skip("`haproxy` is not installed; deploy/fleet/haproxy.cfg was not checked")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "BERTH_LB_BIND": "127.0.0.1:5999",
           "BERTH_NODE1": "127.0.0.1:5001", "BERTH_NODE2": "127.0.0.1:5002", "BERTH_NODE3": "127.0.0.1:5003"}
    checked = subprocess.run(["haproxy", "-c", "-f", str(FLEET / "haproxy.cfg")], capture_output=True, text=True,
                             env=env, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "WARNING" not in checked.stdout + checked.stderr, checked.stdout + checked.stderr
    text = (FLEET / "haproxy.cfg").read_text()
    for line in ("balance roundrobin", "option httpchk GET /healthz", "option http-server-close",
                 "no option prefer-last-server", "option redispatch"):
        assert line in text, line
    # Without the environment (compose's service names, unresolvable here) it still starts.
    defaults = subprocess.run(["haproxy", "-c", "-f", str(FLEET / "haproxy.cfg")], capture_output=True, text=True,
                              env={"PATH": env["PATH"]}, timeout=30)
    assert defaults.returncode == 0, defaults.stdout + defaults.stderr


def test_systemd_template_unit_verifies(tmp_path):
    if shutil.which("systemd-analyze") is None:
        loud_skip("`systemd-analyze` is not installed; deploy/fleet/registryd@.service was not verified")
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for path in binaries():
        target = root / "usr/local/bin" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    copy_preserving(Path("/bin/kill"), root)
    (root / "etc/berth").mkdir(parents=True)
    shutil.copy2(FLEET / "config.yml", root / "etc/berth/fleet.yml")
    (root / "etc/berth/fleet.env").write_text("REGISTRY_DATABASE_PASSWORD=x\n")
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy2(FLEET / "registryd@.service", root / "etc/systemd/system/registryd@.service")
    (root / "etc/systemd/system/registryd@2.service").symlink_to("registryd@.service")
    result = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "/etc/systemd/system/registryd@2.service"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"warnings:\n{result.stderr}"


def test_compose_file_wires_the_shipped_files():
    compose = yaml.safe_load((FLEET / "compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "migrate", "registryd1", "registryd2", "registryd3", "haproxy"} <= set(services)
    for name in ("registryd1", "registryd2", "registryd3"):
        node = services[name]
        assert node["build"]["dockerfile"] == "deploy/Dockerfile"
        assert "./config.yml:/etc/docker/registry/config.yml:ro" in node["volumes"]
        assert node["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        env = node["environment"]
        assert env["REGISTRY_DATABASE_HOST"] == "postgres"
        assert {"REGISTRY_STORAGE_S3_BUCKET", "REGISTRY_STORAGE_S3_ACCESSKEY", "REGISTRY_STORAGE_S3_SECRETKEY"} <= set(env)
    assert services["migrate"]["entrypoint"][:4] == ["/usr/local/bin/registryctl", "database", "migrate", "up"]
    lb = services["haproxy"]
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in lb["volumes"]
    assert [lb["environment"][f"BERTH_NODE{i}"] for i in (1, 2, 3)] == [f"registryd{i}:5000" for i in (1, 2, 3)]
    # The node configuration compose mounts is the one test_fleet.py runs.
    config = yaml.safe_load((FLEET / "config.yml").read_text())
    assert config["database"]["enabled"] is True and "s3" in config["storage"]
