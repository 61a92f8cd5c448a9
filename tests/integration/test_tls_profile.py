"""The TLS profile: Mozilla's "intermediate" by default (TLS 1.3, and TLS 1.2 with ECDHE and
AEAD suites only), `http.tls.ciphersuites` narrowing it, and Strict-Transport-Security.

testssl.sh (Debian's package) scans registryd and must find nothing rated MEDIUM or worse, no
CBC suite, and an HSTS header; the same scan against the profile registryd had before (CBC and
RSA key exchange suites offered, no HSTS) must fail, so that the check is known to bite.
openssl s_client checks single suites: CBC and RSA key exchange are refused, ECDHE with GCM
works.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from registry import default_config, free_port, registryd_binary
from security import make_certs, tls_config

# The TLS 1.2 suites registryd offered before the intermediate profile (swift-nio-ssl's
# default cipher string, as BoringSSL implements it), in Go's names.
OLD_PROFILE = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
]
OLD_PROFILE_CONFIG = ("    ciphersuites:\n" + "".join(f"      - {name}\n" for name in OLD_PROFILE)
                      + "berth:\n  tls:\n    hsts: false\n")
BAD_SEVERITIES = {"MEDIUM", "HIGH", "CRITICAL"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    """ECDSA P-256, registryctl certs' default."""
    return make_certs(tmp_path_factory.mktemp("certs") / "ecdsa")


@pytest.fixture(scope="module")
def rsa_certs(tmp_path_factory) -> Path:
    """RSA 2048: the only kind with which RSA key exchange suites could be negotiated."""
    return make_certs(tmp_path_factory.mktemp("certs") / "rsa", ("127.0.0.1", "localhost"), "--rsa")


def handshake(port: int, *args: str) -> subprocess.CompletedProcess:
    """openssl s_client with `args`; returncode 0 only when the handshake completed."""
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
                           *args], input="", capture_output=True, text=True, timeout=30)


def negotiated(result: subprocess.CompletedProcess) -> str | None:
    for line in result.stdout.splitlines():
        if "Cipher is" in line and "(NONE)" not in line:
            return line.split("Cipher is", 1)[1].strip()
    return None


def offers_tls12(port: int, openssl_cipher: str) -> bool:
    result = handshake(port, "-tls1_2", "-cipher", openssl_cipher)
    return result.returncode == 0 and negotiated(result) == openssl_cipher


# --------------------------------------------------------------------------- single suites


def test_default_profile_refuses_cbc_and_rsa_key_exchange(make_registry, certs, rsa_certs):
    ecdsa = make_registry("ecdsa", tls=True, extra_config=tls_config(certs)).start()
    rsa = make_registry("rsa", tls=True, extra_config=tls_config(rsa_certs)).start()
    # What must work: ECDHE with GCM or ChaCha20 on TLS 1.2, and TLS 1.3.
    assert offers_tls12(ecdsa.port, "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert offers_tls12(ecdsa.port, "ECDHE-ECDSA-AES256-GCM-SHA384")
    assert offers_tls12(ecdsa.port, "ECDHE-ECDSA-CHACHA20-POLY1305")
    assert offers_tls12(rsa.port, "ECDHE-RSA-AES128-GCM-SHA256")
    tls13 = handshake(ecdsa.port, "-tls1_3")
    assert tls13.returncode == 0 and negotiated(tls13), tls13.stdout + tls13.stderr
    # What must not: CBC with ECDHE, and RSA key exchange (CBC or GCM).
    for port, cipher in [(ecdsa.port, "ECDHE-ECDSA-AES128-SHA"), (ecdsa.port, "ECDHE-ECDSA-AES256-SHA"),
                         (rsa.port, "ECDHE-RSA-AES128-SHA"), (rsa.port, "AES128-SHA"),
                         (rsa.port, "AES256-SHA"), (rsa.port, "AES128-GCM-SHA256")]:
        result = handshake(port, "-tls1_2", "-cipher", cipher)
        assert result.returncode != 0 and negotiated(result) is None, (cipher, result.stdout)
    # TLS 1.1 and older stay off.
    assert handshake(ecdsa.port, "-tls1_1").returncode != 0
    # The server is still up and answering.
    assert requests.get(ecdsa.url + "/v2/", verify=str(certs / "ca.pem"), timeout=10).status_code == 200


def test_the_same_checks_pass_with_the_old_profile(make_registry, rsa_certs):
    """The refusals above are the profile's doing: with the old suites configured, the same
    client handshakes complete."""
    reg = make_registry(tls=True, extra_config=tls_config(rsa_certs) + OLD_PROFILE_CONFIG).start()
    assert offers_tls12(reg.port, "AES128-SHA")
    assert offers_tls12(reg.port, "ECDHE-RSA-AES128-SHA")
    assert offers_tls12(reg.port, "ECDHE-RSA-AES128-GCM-SHA256")
    assert "outside Mozilla's intermediate profile" in reg.log()


def test_ciphersuites_narrow_the_profile(make_registry, certs):
    lines = "    ciphersuites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256]\n"
    reg = make_registry(tls=True, extra_config=tls_config(certs) + lines).start()
    assert offers_tls12(reg.port, "ECDHE-ECDSA-AES256-GCM-SHA384")
    for cipher in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"):
        result = handshake(reg.port, "-tls1_2", "-cipher", cipher)
        assert result.returncode != 0, (cipher, result.stdout)
    # TLS 1.3 is not narrowed by TLS 1.2 names.
    assert handshake(reg.port, "-tls1_3").returncode == 0


@pytest.mark.parametrize("suite, words", [
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA257", "not a cipher suite name"),
    ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "not supported"),
])
def test_bad_ciphersuite_is_a_one_line_startup_error(tmp_path, certs, suite, words):
    port = free_port()
    config = tmp_path / "config.yml"
    lines = tls_config(certs) + f"    ciphersuites: [{suite}]\n"
    config.write_text(default_config(tmp_path / "data", port).replace("http:\n", "http:\n" + lines, 1))
    result = subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True,
                            timeout=30, cwd=tmp_path)
    out = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, out
    assert len(out.splitlines()) == 1, out
    assert "http.tls.ciphersuites" in out and suite in out and words in out, out


# --------------------------------------------------------------------------- HSTS


def test_hsts_on_every_https_response_and_configurable_off(make_registry, certs):
    reg = make_registry("on", tls=True, extra_config=tls_config(certs)).start()
    ca = str(certs / "ca.pem")
    for path in ("/v2/", "/healthz", "/v2/nothing/manifests/latest", "/not-an-api-path"):
        resp = requests.get(reg.url + path, verify=ca, timeout=10)
        assert resp.headers.get("Strict-Transport-Security") == "max-age=63072000", (path, resp.headers)
    short = make_registry("short", tls=True, extra_config=tls_config(certs) + "berth:\n  tls:\n    hstsmaxage: 600\n").start()
    resp = requests.get(short.url + "/v2/", verify=ca, timeout=10)
    assert resp.headers.get("Strict-Transport-Security") == "max-age=600"
    off = make_registry("off", tls=True, extra_config=tls_config(certs) + "berth:\n  tls:\n    hsts: false\n").start()
    assert "Strict-Transport-Security" not in requests.get(off.url + "/v2/", verify=ca, timeout=10).headers
    # Plain HTTP never sends it (it would mean nothing there).
    plain = make_registry("plain").start()
    assert "Strict-Transport-Security" not in requests.get(plain.url + "/v2/", timeout=10).headers


# --------------------------------------------------------------------------- testssl.sh


def find_testssl() -> str | None:
    return shutil.which("testssl") or shutil.which("testssl.sh")


def run_testssl(port: int, folder: Path) -> tuple[list[dict], float]:
    """Protocols (-p), cipher categories (-s), forward secrecy (-f), server preferences (-P),
    each cipher per protocol (-E), HTTP headers (-h) and vulnerabilities (-U), as JSON."""
    binary = find_testssl()
    if binary is None:
        pytest.fail("testssl.sh is not installed (scripts/install-test-deps.sh installs Debian's testssl.sh)")
    report = folder / f"testssl-{port}.json"
    start = time.monotonic()
    result = subprocess.run(
        [binary, "--jsonfile", str(report), "--warnings", "off", "--openssl-timeout", "5", "--color", "0",
         "-p", "-s", "-f", "-P", "-E", "-h", "-U", f"127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - start
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    findings = json.loads(report.read_text())
    if isinstance(findings, dict):  # --json-pretty's shape, in case
        findings = [f for section in findings.get("scanResult", []) for f in section.values() if isinstance(f, list)]
    return findings, seconds


def offered_suites(findings: list[dict]) -> list[list[str]]:
    """-E's lines, one per suite offered, split into columns: `TLS 1.2 xc02b
    ECDHE-ECDSA-AES128-GCM-SHA256 ECDH 253 AESGCM 128 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`."""
    return [f["finding"].split() for f in findings if f["id"].startswith("cipher-") and f["id"] != "cipher_order"]


def is_cbc(columns: list[str]) -> bool:
    return any("CBC" in c for c in columns) or any(c in ("AES", "3DES", "DES", "Camellia", "ARIA", "SEED", "IDEA")
                                                    for c in columns)


def problems(findings: list[dict]) -> dict[str, list[str]]:
    """What fails the scan: findings rated MEDIUM or worse, CBC suites offered, no HSTS, and
    scanner errors (a scan that could not run proves nothing)."""
    cbc = [" ".join(columns) for columns in offered_suites(findings) if is_cbc(columns)]
    weak_kx = [" ".join(columns) for columns in offered_suites(findings)
               if len(columns) > 4 and columns[1] == "1.2" and columns[4] != "ECDH"]
    # testssl 3.0 rates a server that lets the client pick among its suites HIGH ("NOT a
    # cipher order configured"). Mozilla's intermediate profile asks for exactly that ("cipher
    # preference: client chooses") once every suite offered is strong, and BoringSSL through
    # swift-nio-ssl has no server-preference switch. So that one finding is accepted, and only
    # while every TLS 1.2 suite offered is ECDHE with AEAD.
    client_order_ok = not cbc and not weak_kx
    bad = [f"{f['id']} {f['severity']}: {f['finding']}" for f in findings if f.get("severity") in BAD_SEVERITIES
           and not (f["id"] == "cipher_order" and client_order_ok)]
    # With the header testssl reports HSTS_time (OK for two years); without it, HSTS "not offered".
    hsts = [f for f in findings if f["id"] in ("HSTS", "HSTS_time")]
    missing_hsts = [] if any(f["id"] == "HSTS_time" and f["severity"] == "OK" for f in hsts) else [
        f"{f['id']}: {f['severity']} {f['finding']}" for f in hsts] or ["HSTS: no finding"]
    errors = [f"{f['id']}: {f['finding']}" for f in findings if f.get("severity") == "FATAL" or f["id"] == "scanProblem"]
    return {"rated MEDIUM or worse": bad, "CBC suites": cbc, "RSA key exchange": weak_kx, "HSTS": missing_hsts,
            "scanner": errors}


def summary(findings: list[dict]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.get("severity", "?")] = counts.get(f.get("severity", "?"), 0) + 1
    offered = [columns[3] for columns in offered_suites(findings) if len(columns) > 3]
    return f"severities {dict(sorted(counts.items()))}; suites offered: {offered}"


def test_testssl_finds_nothing_medium_or_worse(make_registry, tmp_path, certs):
    """registryctl certs' default ECDSA certificate; RSA key exchange, which only an RSA
    certificate could offer, is checked with openssl s_client above (a scan takes minutes)."""
    reg = make_registry(tls=True, extra_config=tls_config(certs)).start()
    findings, seconds = run_testssl(reg.port, tmp_path)
    print(f"\ntestssl (intermediate profile, {seconds:.0f}s): {summary(findings)}")
    found = problems(findings)
    assert not any(found.values()), json.dumps(found, indent=1)
    ids = {f["id"] for f in findings}
    assert {"TLS1_2", "TLS1_3", "HSTS_time", "LUCKY13", "cipher_order"} <= ids, sorted(ids)
    offered = {f["id"]: f["finding"] for f in findings if f["id"] in ("TLS1", "TLS1_1", "TLS1_2", "TLS1_3")}
    assert offered["TLS1_2"].startswith("offered") and offered["TLS1_3"].startswith("offered"), offered
    assert len(offered_suites(findings)) == 6, summary(findings)  # 3 ECDSA suites for TLS 1.2, 3 for 1.3
    assert reg.proc.poll() is None, reg.log()


def test_testssl_flags_the_old_profile(make_registry, tmp_path, certs):
    """The same scan against the suites registryd offered before, without HSTS, must fail."""
    reg = make_registry(tls=True, extra_config=tls_config(certs) + OLD_PROFILE_CONFIG).start()
    findings, seconds = run_testssl(reg.port, tmp_path)
    print(f"\ntestssl (old profile, {seconds:.0f}s): {summary(findings)}")
    found = problems(findings)
    print(json.dumps(found, indent=1))
    assert found["CBC suites"], summary(findings)
    assert found["HSTS"], [f for f in findings if f["id"].startswith("HSTS")]
