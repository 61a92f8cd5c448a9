"""auth.token: the Docker token protocol. Challenges on every route; tokens with the wrong
audience, issuer, signature, scope or times refused; a token server of the test's own."""
from __future__ import annotations

import re

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from auth_support import REPO, ROUTE_IDS, ROUTES
from helpers import error_codes, http, wait_for_log
from registry import RegistryProcess
from security import TokenIssuer, TokenServer, basic, repository_access

REALM = "https://auth.example/token"


# These tables send many wrong tokens from one address on purpose; the limit on failed
# authentications (berth.limits.authfailures) has its own tests in test_hardening_limits.py.
NO_GUESSING_LIMIT = "berth:\n  limits:\n    authfailures: 0\n"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    return TokenIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture(scope="module")
def server(tmp_path_factory, issuer):
    reg = RegistryProcess(tmp_path_factory.mktemp("token") / "registry",
                          extra_config=issuer.config(REALM) + NO_GUESSING_LIMIT).start()
    yield reg
    reg.stop()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def challenge(resp) -> dict:
    header = resp.headers["WWW-Authenticate"]
    assert header.startswith("Bearer "), header
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def full_access(scope: str | None) -> list[dict]:
    if scope is None:
        return []
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return [{"type": kind, "name": name, "actions": actions.split(",")}]


def body_for(method):
    return b"x" if method in ("PATCH", "PUT") else None


@pytest.mark.parametrize("method,path,scope", ROUTES, ids=ROUTE_IDS)
def test_every_route_challenges_and_accepts_the_right_token(server, issuer, method, path, scope):
    resp = http(method, server, path, data=body_for(method))
    assert resp.status_code == 401, resp.text
    params = challenge(resp)
    assert params["realm"] == REALM and params["service"] == issuer.service
    assert params.get("scope") == scope
    if method != "HEAD":
        assert error_codes(resp) == ["UNAUTHORIZED"]

    other_key = ec.generate_private_key(ec.SECP256R1())
    access = full_access(scope)
    wrong_tokens = {
        "garbage": "not.a.token",
        "audience": issuer.token(access, audience="another-service"),
        "issuer": issuer.token(access, issuer="someone-else"),
        "signature": issuer.token(access, key=other_key),
        "expired": issuer.token(access, expires_in=-600),
        "not yet valid": issuer.token(access, not_before=600),
    }
    for reason, token in wrong_tokens.items():
        resp = http(method, server, path, headers=bearer(token), data=body_for(method))
        assert resp.status_code == 401, (reason, resp.status_code, resp.text)
        assert challenge(resp).get("error") == "invalid_token", reason
    if scope is not None:
        # A valid token for something else: 401 naming the scope needed.
        for access_given in ([], repository_access("other/repo", "pull", "push", "delete")):
            resp = http(method, server, path, headers=bearer(issuer.token(access_given)), data=body_for(method))
            assert resp.status_code == 401, resp.text
            assert challenge(resp) == {"realm": REALM, "service": issuer.service, "scope": scope,
                                            "error": "insufficient_scope"}
    right = http(method, server, path, headers=bearer(issuer.token(access)), data=body_for(method))
    assert right.status_code not in (401, 403), (right.status_code, right.text)


def test_pull_token_cannot_push_or_delete(server, issuer):
    pull = bearer(issuer.token(repository_access(REPO, "pull")))
    assert http("GET", server, f"/v2/{REPO}/tags/list", headers=pull).status_code == 404  # allowed, no repo yet
    assert http("POST", server, f"/v2/{REPO}/blobs/uploads/", headers=pull).status_code == 401
    assert http("DELETE", server, f"/v2/{REPO}/manifests/latest", headers=pull).status_code == 401
    star = bearer(issuer.token(repository_access(REPO, "*")))
    assert http("POST", server, f"/v2/{REPO}/blobs/uploads/", headers=star).status_code == 202


def test_mount_needs_pull_on_the_source(server, issuer):
    path = f"/v2/{REPO}/blobs/uploads/?mount=sha256:{'a' * 64}&from=secret/base"
    push_only = bearer(issuer.token(repository_access(REPO, "pull", "push")))
    resp = http("POST", server, path, headers=push_only)
    assert resp.status_code == 401
    assert challenge(resp)["scope"] == f"repository:{REPO}:pull,push repository:secret/base:pull"
    both = bearer(issuer.token(repository_access(REPO, "pull", "push") + repository_access("secret/base", "pull")))
    assert http("POST", server, path, headers=both).status_code == 202


def test_refused_algorithms(server, issuer):
    access = repository_access(REPO, "pull")
    unsigned = jwt.encode({"iss": issuer.issuer, "aud": issuer.service, "exp": 9999999999, "access": access},
                          None, algorithm="none")
    path = f"/v2/{REPO}/tags/list"
    assert http("GET", server, path, headers=bearer(unsigned)).status_code == 401
    # HS256 keyed with the public certificate (the algorithm confusion attack).
    forged = jwt.encode({"iss": issuer.issuer, "aud": issuer.service, "exp": 9999999999, "access": access},
                        "a-secret-of-nobody-at-least-32-bytes", algorithm="HS256")
    assert http("GET", server, path, headers=bearer(forged)).status_code == 401


def test_rsa_signed_tokens_and_kid(tmp_path):
    issuer = TokenIssuer(tmp_path / "rsa", kind="rsa")
    reg = RegistryProcess(tmp_path / "registry", extra_config=issuer.config(REALM)).start()
    try:
        token = issuer.token(repository_access(REPO, "pull"), headers={"kid": "ABCD:EFGH:IJKL"})
        assert http("GET", reg, f"/v2/{REPO}/tags/list", headers=bearer(token)).status_code == 404
        assert http("GET", reg, "/v2/", headers=bearer(issuer.token([]))).status_code == 200
    finally:
        reg.stop()


def test_bundle_with_several_certificates(tmp_path):
    first, second = TokenIssuer(tmp_path / "a"), TokenIssuer(tmp_path / "b", kind="rsa")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(first.bundle.read_bytes() + second.bundle.read_bytes())
    first.bundle = bundle
    reg = RegistryProcess(tmp_path / "registry", extra_config=first.config(REALM)).start()
    try:
        for signer in (first, second):
            token = signer.token([], issuer=first.issuer, audience=first.service)
            assert http("GET", reg, "/v2/", headers=bearer(token)).status_code == 200
    finally:
        reg.stop()


def test_the_docker_token_flow_with_a_token_server(tmp_path, issuer):
    """What docker does: 401 -> GET realm?service&scope with Basic credentials -> retry with the token."""
    with TokenServer(issuer, {"alice": "alice-password"}) as tokens:
        reg = RegistryProcess(tmp_path / "registry", extra_config=issuer.config(tokens.realm)).start()
        try:
            path = f"/v2/{REPO}/blobs/uploads/"
            first = http("POST", reg, path)
            params = challenge(first)
            assert params["realm"] == tokens.realm
            got = requests.get(params["realm"], params={"service": params["service"], "scope": params["scope"]},
                               headers=basic("alice", "alice-password"), timeout=10)
            assert got.status_code == 200
            assert http("POST", reg, path, headers=bearer(got.json()["token"])).status_code == 202
            assert tokens.requests[-1]["query"]["scope"] == [f"repository:{REPO}:pull,push"]
            # An anonymous token from this server grants nothing.
            anonymous = requests.get(params["realm"], params={"service": params["service"],
                                                              "scope": params["scope"]}, timeout=10).json()
            assert http("POST", reg, path, headers=bearer(anonymous["token"])).status_code == 401
            assert wait_for_log(reg, "user=alice"), reg.log()
        finally:
            reg.stop()


def test_token_and_htpasswd_together_is_a_configuration_error(tmp_path, issuer):
    import subprocess
    from registry import default_config, free_port, registryd_binary
    config = tmp_path / "config.yml"
    extra = issuer.config(REALM) + f"  htpasswd:\n    realm: x\n    path: {tmp_path}/users\n"
    config.write_text(default_config(tmp_path / "data", free_port(), extra=extra))
    result = subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "not both" in result.stdout + result.stderr, result
