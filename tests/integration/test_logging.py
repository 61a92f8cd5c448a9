"""log.formatter json, log.fields, log.level and the access log line."""
from __future__ import annotations

import json

from helpers import http, push_blob, rand_bytes, uniq, wait_for_log
from registry import default_config


def json_config(root, port, *, level="info", accesslog_disabled=False) -> str:
    return default_config(root, port).replace(
        "log:\n  level: info\n  fields:\n    service: registry\n",
        f"""log:
  level: {level}
  formatter: json
  fields:
    service: registry
    environment: staging
  accesslog:
    disabled: {"true" if accesslog_disabled else "false"}
""")


def start_json(make_registry, **kwargs):
    server = make_registry(config_text="placeholder")
    server.config_path.write_text(json_config(server.root, server.port, **kwargs))
    return server.start()


def json_lines(server) -> list[dict]:
    lines = [line for line in server.log().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line must parse


def test_every_line_is_a_json_object_with_the_fields(make_registry):
    server = start_json(make_registry)
    name = uniq()
    secret = "s3cr3t-password-value"
    push_blob(server, name, rand_bytes(1000))
    http("GET", server, f"/v2/{name}/tags/list?n=5", headers={"Authorization": f"Basic {secret}"})
    assert wait_for_log(server, f"/v2/{name}/tags/list")
    server.stop()
    records = json_lines(server)
    assert len(records) >= 4
    for record in records:
        assert {"time", "level", "msg"} <= record.keys(), record
        assert record["service"] == "registry" and record["environment"] == "staging", record
        assert record["level"] in ("debug", "info", "warning", "error", "fatal"), record
    startup = next(r for r in records if r["msg"].startswith("berth registryd"))
    assert startup["storage"] == str(server.root)
    assert startup["database"] == str(server.root / "registry.db")
    assert startup["tls"] == "off" and "auth" in startup
    access = next(r for r in records if f"/v2/{name}/tags/list" in r["msg"])
    assert access["msg"] == f"GET /v2/{name}/tags/list 200"
    assert access["status"] == "200"
    assert access["remote"] == "127.0.0.1"
    assert int(access["duration_ms"]) >= 0
    assert "bytes" in access
    upload = next(r for r in records if r["msg"].startswith(f"POST /v2/{name}/blobs/uploads/"))
    assert upload["status"] == "201"
    assert any(r["msg"] == "registry stopped" for r in records)
    # Neither the credential nor the query string is logged.
    assert secret not in server.log()
    assert "n=5" not in server.log()


def test_level_and_disabled_access_log(make_registry):
    server = start_json(make_registry, level="warn", accesslog_disabled=True)
    name = uniq()
    push_blob(server, name, rand_bytes(10))
    server.stop()
    records = json_lines(server)
    assert all(r["level"] not in ("info", "debug") for r in records), records
    assert not any(name in r["msg"] for r in records)


def test_text_access_log_has_remote_address(registry):
    name = uniq()
    http("GET", registry, f"/v2/{name}/tags/list")
    assert wait_for_log(registry, f"GET /v2/{name}/tags/list 404")
    line = next(l for l in registry.log().splitlines() if f"GET /v2/{name}/tags/list 404" in l)
    assert "remote=127.0.0.1" in line
    assert "service=registry" in line
