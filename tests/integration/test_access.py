"""berth.access: pull, push and delete per user and group on repository patterns, and
anonymous pull, on top of auth.htpasswd."""
from __future__ import annotations

import subprocess

import pytest

from helpers import OCI_MANIFEST, http
from registry import RegistryProcess, default_config, free_port, registryd_binary
from security import apache_htpasswd, basic, htpasswd_config
from auth_support import push_image

USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw"}

ACCESS = """berth:
  access:
    anonymous: pull
    groups:
      devs: [alice, bob]
      ops: [carol]
    rules:
      - repository: "team/*"
        groups: [devs]
        actions: [pull, push]
      - repository: "team/*"
        users: [carol]
        actions: [pull, delete]
      - repository: "bob/*"
        users: [bob]
        actions: [pull, push, delete]
      - repository: "shared"
        users: ["*"]
        actions: [pull]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access")
    users = apache_htpasswd(folder / "users", USERS)
    reg = RegistryProcess(folder / "registry", extra_config=htpasswd_config(users) + ACCESS).start()
    yield reg
    reg.stop()


def who(user):
    return basic(user, USERS[user]) if user else {}


# (user, action, repository, allowed)
CASES = [
    ("alice", "push", "team/app", True),
    ("alice", "pull", "team/app", True),
    ("alice", "delete", "team/app", False),
    ("alice", "push", "team/sub/app", True),   # * spans slashes
    ("alice", "push", "bob/tool", False),
    ("alice", "push", "teamx/app", False),
    ("bob", "push", "bob/tool", True),
    ("bob", "delete", "bob/tool", True),
    ("carol", "push", "team/app", False),
    ("carol", "delete", "team/app", True),
    ("dave", "pull", "team/app", False),
    ("dave", "pull", "shared", True),
    ("dave", "push", "shared", False),
    (None, "pull", "team/app", True),          # anonymous pull
    (None, "push", "team/app", False),
    (None, "delete", "team/app", False),
]


def attempt(reg, user, action, repository):
    headers = who(user)
    if action == "pull":
        return http("GET", reg, f"/v2/{repository}/tags/list", headers=headers)
    if action == "push":
        return http("POST", reg, f"/v2/{repository}/blobs/uploads/", headers=headers)
    return http("DELETE", reg, f"/v2/{repository}/manifests/sha256:{'0' * 64}", headers=headers)


@pytest.mark.parametrize("user,action,repository,allowed", CASES,
                         ids=[f"{u or 'anonymous'}-{a}-{r}" for u, a, r, _ in CASES])
def test_rules(server, user, action, repository, allowed):
    resp = attempt(server, user, action, repository)
    if allowed:
        assert resp.status_code not in (401, 403), resp.text
    elif user is None:
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic "), resp.text
    else:
        assert resp.status_code == 403, resp.text
        assert resp.json()["errors"][0]["code"] == "DENIED"


def test_push_then_pull_across_users(server):
    digest = push_image(server, "team/web", "v1", who("alice"))
    for user in ("bob", "carol", None):
        got = http("GET", server, "/v2/team/web/manifests/v1", headers={**who(user), "Accept": OCI_MANIFEST})
        assert got.status_code == 200, (user, got.text)
    assert http("GET", server, "/v2/team/web/manifests/v1", headers=who("dave")).status_code == 403
    assert http("DELETE", server, f"/v2/team/web/manifests/{digest}", headers=who("alice")).status_code == 403
    assert http("DELETE", server, f"/v2/team/web/manifests/{digest}", headers=who("carol")).status_code == 202


def test_anonymous_is_still_challenged_at_the_base_and_catalog(server):
    # docker login and docker push need the 401 at /v2/ to send credentials at all.
    assert http("GET", server, "/v2/").status_code == 401
    assert http("GET", server, "/v2/_catalog").status_code == 401
    assert http("GET", server, "/v2/_catalog", headers=who("dave")).status_code == 200


def test_mount_from_a_repository_the_user_cannot_read_is_denied(server):
    path = f"/v2/bob/tool/blobs/uploads/?mount=sha256:{'1' * 64}&from=team/app"
    assert http("POST", server, path, headers=who("bob")).status_code == 202   # bob reads team/*
    path = f"/v2/team/app/blobs/uploads/?mount=sha256:{'1' * 64}&from=bob/tool"
    assert http("POST", server, path, headers=who("alice")).status_code == 403


def test_without_rules_every_user_may_do_everything(make_registry, tmp_path):
    users = apache_htpasswd(tmp_path / "users", {"erin": "erin-pw"})
    reg = make_registry(extra_config=htpasswd_config(users) + "berth:\n  access:\n    anonymous: none\n").start()
    assert http("POST", reg, "/v2/any/repo/blobs/uploads/", headers=basic("erin", "erin-pw")).status_code == 202
    assert http("GET", reg, "/v2/any/repo/tags/list").status_code == 401


@pytest.mark.parametrize("rules,message", [
    ('      - {repository: "a/*", groups: [nosuch], actions: [pull]}\n', "unknown group"),
    ('      - {repository: "a/*", users: [x], actions: [pull, fly]}\n', "fly"),
    ('      - {repository: "a/*", actions: [pull]}\n', "users or groups"),
])
def test_bad_rules_are_configuration_errors(tmp_path, rules, message):
    config = tmp_path / "config.yml"
    config.write_text(default_config(tmp_path / "data", free_port(),
                                     extra="berth:\n  access:\n    rules:\n" + rules))
    result = subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2, result
    assert message in result.stdout + result.stderr
