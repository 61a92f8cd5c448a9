"""auth.htpasswd: HTTP Basic against bcrypt entries on every route, Apache's files,
`registryctl htpasswd add`, reloading the file, and no secret in any log."""
from __future__ import annotations

import json
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from auth_support import ROUTE_IDS, ROUTES, push_image
from helpers import OCI_MANIFEST, error_codes, http, sha256, wait_for_log
from security import apache_htpasswd, basic, htpasswd_config, registryctl_binary

PASSWORD = "s3cret-Pa55word"
REALM = "Berth test"


# These tables send hundreds of wrong credentials from one address on purpose; the limit on
# failed authentications (berth.limits.authfailures) has its own tests in test_hardening_limits.py.
NO_GUESSING_LIMIT = "berth:\n  limits:\n    authfailures: 0\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from registry import RegistryProcess
    folder = tmp_path_factory.mktemp("htpasswd")
    users = apache_htpasswd(folder / "users.htpasswd", {"alice": PASSWORD, "bob": "bobs-password"})
    reg = RegistryProcess(folder / "registry", extra_config=htpasswd_config(users, REALM) + NO_GUESSING_LIMIT).start()
    yield reg
    reg.stop()


@pytest.mark.parametrize("method,path,scope", ROUTES, ids=ROUTE_IDS)
def test_every_route_needs_credentials(server, method, path, scope):
    for headers in ({}, basic("alice", "wrong password"), basic("mallory", PASSWORD), {"Authorization": "Basic !!"},
                    {"Authorization": "Bearer abc"}):
        resp = http(method, server, path, headers=headers, data=b"x" if method in ("PATCH", "PUT") else None)
        assert resp.status_code == 401, (headers, resp.status_code, resp.text)
        assert resp.headers["WWW-Authenticate"] == f'Basic realm="{REALM}"'
        if method != "HEAD":
            assert error_codes(resp) == ["UNAUTHORIZED"], resp.text
    right = http(method, server, path, headers=basic("alice", PASSWORD),
                 data=b"x" if method in ("PATCH", "PUT") else None)
    assert right.status_code not in (401, 403), (right.status_code, right.text)
    if method != "HEAD" and right.status_code >= 400:
        assert "UNAUTHORIZED" not in error_codes(right) and "DENIED" not in error_codes(right)


def test_healthz_stays_open(server):
    assert http("GET", server, "/healthz").status_code == 200


def test_push_and_pull_with_credentials_and_user_in_access_log(server):
    digest = push_image(server, "team/app", "v1", basic("alice", PASSWORD))
    got = http("GET", server, "/v2/team/app/manifests/v1", headers={**basic("bob", "bobs-password"),
                                                                     "Accept": OCI_MANIFEST})
    assert got.status_code == 200 and sha256(got.content) == digest
    assert http("GET", server, "/v2/team/app/manifests/v1").status_code == 401
    assert wait_for_log(server, "user=alice"), server.log()
    assert wait_for_log(server, "user=bob"), server.log()


def test_no_secret_reaches_the_log(server):
    http("GET", server, "/v2/", headers=basic("alice", "a-wrong-password-42"))
    http("GET", server, "/v2/", headers=basic("alice", PASSWORD))
    time.sleep(0.3)
    log = server.log()
    for secret in (PASSWORD, "a-wrong-password-42", basic("alice", PASSWORD)["Authorization"].split()[1],
                   "bobs-password"):
        assert secret not in log
    assert "authorization" not in log.lower()


def test_wrong_passwords_answer_quickly_enough_to_be_bcrypt_only_once(server):
    """A right password is cached after the first check; a wrong one never is."""
    headers = basic("alice", PASSWORD)
    http("GET", server, "/v2/", headers=headers)
    start = time.monotonic()
    for _ in range(20):
        assert http("GET", server, "/v2/", headers=headers).status_code == 200
    cached = time.monotonic() - start
    assert cached < 5, cached


def test_registryctl_htpasswd_add_creates_replaces_and_registryd_reloads(make_registry, tmp_path):
    users = tmp_path / "users"
    add = lambda user, password: subprocess.run(  # noqa: E731
        [registryctl_binary(), "htpasswd", "add", str(users), user], input=password + "\n",
        capture_output=True, text=True, timeout=60)
    assert add("carol", "first-password").returncode == 0
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert users.read_text().startswith("carol:$2")
    reg = make_registry(extra_config=htpasswd_config(users)).start()
    assert http("GET", reg, "/v2/", headers=basic("carol", "first-password")).status_code == 200

    # Replacing the password and adding a user take effect without a restart.
    assert add("carol", "second-password").returncode == 0
    assert add("dave", "daves-password").returncode == 0
    assert users.read_text().count("carol:") == 1
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert http("GET", reg, "/v2/", headers=basic("carol", "second-password")).status_code == 200
    assert http("GET", reg, "/v2/", headers=basic("carol", "first-password")).status_code == 401
    assert http("GET", reg, "/v2/", headers=basic("dave", "daves-password")).status_code == 200
    # Apache's htpasswd verifies what registryctl wrote.
    check = subprocess.run(["htpasswd", "-vb", str(users), "dave", "daves-password"], capture_output=True)
    assert check.returncode == 0, check
    # No password on the command line: nothing on stdin is an error.
    empty = subprocess.run([registryctl_binary(), "htpasswd", "add", str(users), "erin"], input="",
                           capture_output=True, text=True, timeout=60)
    assert empty.returncode == 2


def test_non_bcrypt_entries_are_refused_with_a_warning(make_registry, tmp_path):
    users = apache_htpasswd(tmp_path / "users", {"good": "good-password"})
    subprocess.run(["htpasswd", "-bm", str(users), "md5user", "md5-password"], check=True, capture_output=True)
    subprocess.run(["htpasswd", "-bs", str(users), "shauser", "sha-password"], check=True, capture_output=True)
    reg = make_registry(extra_config=htpasswd_config(users)).start()
    assert http("GET", reg, "/v2/", headers=basic("good", "good-password")).status_code == 200
    assert http("GET", reg, "/v2/", headers=basic("md5user", "md5-password")).status_code == 401
    assert http("GET", reg, "/v2/", headers=basic("shauser", "sha-password")).status_code == 401
    assert wait_for_log(reg, "user=md5user"), reg.log()
    assert "not bcrypt" in reg.log()


def test_missing_htpasswd_file_exits_2(tmp_path):
    from registry import default_config, free_port, registryd_binary
    config = tmp_path / "config.yml"
    config.write_text(default_config(tmp_path / "data", free_port(), extra=htpasswd_config(tmp_path / "absent")))
    result = subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2, result
    assert str(tmp_path / "absent") in result.stdout + result.stderr
