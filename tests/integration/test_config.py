"""Configuration: unknown keys, malformed YAML, env overrides, relative root."""
import socket
import subprocess
from pathlib import Path

import requests

from helpers import (assert_status, get_blob, http, make_image, push_blob, rand_bytes, uniq,
                     wait_for_log)
from registry import default_config, free_port, registryd_binary


def test_unknown_top_level_key_starts_and_warns(make_registry):
    reg = make_registry(extra_config="frobnicatorsetting: 42\n").start()
    assert_status(http("GET", reg, "/v2/"), 200)
    assert wait_for_log(reg, "frobnicatorsetting"), reg.log()


def test_unknown_nested_key_starts_and_warns(make_registry):
    # appended right after http.headers, at http's indentation level -> http.quuxoption
    reg = make_registry(extra_config="  quuxoption: true\n").start()
    assert_status(http("GET", reg, "/v2/"), 200)
    assert wait_for_log(reg, "quuxoption"), reg.log()


def _run_registryd(config: Path, timeout: float = 20.0, env=None):
    return subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True,
                          timeout=timeout, cwd=config.parent, env=env, text=True)


def test_malformed_yaml_exits_2_with_one_line_error(tmp_path):
    config = tmp_path / "broken-config.yml"
    port = free_port()
    config.write_text(f"version: 0.1\nstorage:\n  filesystem: {{rootdirectory: [unclosed\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n    bad: indentation\n")
    result = _run_registryd(config)
    out = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, f"rc={result.returncode}\nstdout={result.stdout}\nstderr={result.stderr}"
    lines = [l for l in out.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected a one-line error, got:\n{out}"
    assert "broken-config.yml" in lines[0], out
    # it never listened
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_env_overrides_http_addr(make_registry):
    reg = make_registry()
    config_port = free_port()
    while config_port == reg.port:
        config_port = free_port()
    reg.config_path.write_text(default_config(reg.root, config_port))
    reg.env["REGISTRY_HTTP_ADDR"] = f"127.0.0.1:{reg.port}"
    reg.start()          # waits for reg.port, i.e. the env address
    assert_status(http("GET", reg, "/v2/"), 200)
    try:
        requests.get(f"http://127.0.0.1:{config_port}/v2/", timeout=2)
        listening = True
    except requests.ConnectionError:
        listening = False
    assert not listening, "registryd also listens on the config file's http.addr"


def test_relative_rootdirectory_resolves_against_config_folder(make_registry):
    reg = make_registry()
    confdir = reg.workdir / "etc" / "berth"
    confdir.mkdir(parents=True)
    text = default_config(Path("relstore"), reg.port)
    assert "rootdirectory: relstore" in text
    reg.config_path = confdir / "config.yml"
    reg.config_path.write_text(text)
    reg.start()          # cwd is reg.workdir, not the config folder
    data = rand_bytes(2048)
    name = uniq("rel")
    digest = push_blob(reg, name, data)
    make_image(reg, name, tag="v1")
    expected_root = confdir / "relstore"
    hexpart = digest.split(":")[1]
    found = [p for p in expected_root.rglob(hexpart + "*")] if expected_root.exists() else []
    assert found, (f"blob not stored under {expected_root}; "
                   f"files under workdir: {sorted(str(p) for p in reg.workdir.rglob('*'))[:50]}")
    assert not (reg.workdir / "relstore").exists(), "relative root resolved against the cwd"
    reg.restart()
    assert get_blob(reg, name, digest).content == data

