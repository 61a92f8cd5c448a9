"""TLS and mutual TLS: certificates from `registryctl certs`, client certificates, minimum
version, bad files, and SIGHUP reloading the certificate without dropping connections."""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import ssl
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from helpers import wait_for_log
from registry import default_config, free_port, registryd_binary
from security import make_certs, registryctl_binary, tls_config


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs") / "set")


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory) -> Path:
    """A second CA and its certificates, which the servers under test do not trust."""
    return make_certs(tmp_path_factory.mktemp("other") / "set")


def tls_registry(make_registry, certs: Path, **kwargs):
    return make_registry(tls=True, extra_config=tls_config(certs, **kwargs)).start()


def test_serves_https_for_ip_and_dns_names(make_registry, certs):
    reg = tls_registry(make_registry, certs)
    ca = str(certs / "ca.pem")
    for host in ("127.0.0.1", "localhost"):
        resp = requests.get(f"https://{host}:{reg.port}/v2/", verify=ca, timeout=10)
        assert resp.status_code == 200, resp.text
    # The port speaks TLS only.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{reg.port}/v2/", timeout=10)
    assert wait_for_log(reg, "tls=on"), reg.log()


def test_client_certificate_required_with_clientcas(make_registry, certs, other_certs):
    reg = tls_registry(make_registry, certs, client_cas=True)
    ca = str(certs / "ca.pem")
    url = reg.url + "/v2/"
    ok = requests.get(url, verify=ca, cert=(str(certs / "cert.pem"), str(certs / "key.pem")), timeout=10)
    assert ok.status_code == 200, ok.text
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=ca, timeout=10)
    # A certificate from a CA the server does not trust fails the handshake too.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(url, verify=ca, cert=(str(other_certs / "cert.pem"), str(other_certs / "key.pem")), timeout=10)
    # curl, the same both ways.
    curl = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca]
    good = subprocess.run(curl + ["--cert", str(certs / "cert.pem"), "--key", str(certs / "key.pem"), url],
                          capture_output=True, text=True, timeout=30)
    assert good.returncode == 0 and good.stdout == "200", good
    bad = subprocess.run(curl + [url], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and bad.stdout != "200", bad
    # The server stays up.
    assert requests.get(url, verify=ca, cert=(str(certs / "cert.pem"), str(certs / "key.pem")), timeout=10).ok
    assert wait_for_log(reg, "tls=mutual"), reg.log()


def test_minimum_tls13_refuses_tls12(make_registry, certs):
    reg = tls_registry(make_registry, certs, minimum="tls1.3")

    def handshake(maximum):
        context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        context.maximum_version = maximum
        conn = http.client.HTTPSConnection("127.0.0.1", reg.port, context=context, timeout=10)
        try:
            conn.request("GET", "/v2/")
            return conn.getresponse().status
        finally:
            conn.close()

    assert handshake(ssl.TLSVersion.TLSv1_3) == 200
    with pytest.raises(ssl.SSLError):
        handshake(ssl.TLSVersion.TLSv1_2)


def test_tls12_is_the_default_minimum(make_registry, certs):
    reg = tls_registry(make_registry, certs)
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    conn = http.client.HTTPSConnection("127.0.0.1", reg.port, context=context, timeout=10)
    conn.request("GET", "/v2/")
    assert conn.getresponse().status == 200
    conn.close()


def _run_with_tls(tmp_path: Path, tls_lines: str):
    port = free_port()
    config = tmp_path / "config.yml"
    config.write_text(default_config(tmp_path / "data", port) .replace("http:\n", "http:\n" + tls_lines, 1))
    return subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True,
                          timeout=30, cwd=tmp_path)


@pytest.mark.parametrize("problem", ["missing key", "mismatched key", "garbage certificate", "missing clientca"])
def test_bad_certificate_files_exit_2_naming_the_file(tmp_path, certs, other_certs, problem):
    cert, key = certs / "server-cert.pem", certs / "server-key.pem"
    clientca = None
    if problem == "missing key":
        key = tmp_path / "nowhere" / "server-key.pem"
        named = str(key)
    elif problem == "mismatched key":
        key = other_certs / "server-key.pem"
        named = str(key)
    elif problem == "garbage certificate":
        cert = tmp_path / "garbage.pem"
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        named = str(cert)
    else:
        clientca = tmp_path / "no-such-ca.pem"
        named = str(clientca)
    lines = f"  tls:\n    certificate: {cert}\n    key: {key}\n"
    if clientca:
        lines += f"    clientcas: [{clientca}]\n"
    result = _run_with_tls(tmp_path, lines)
    out = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, out
    errors = [l for l in out.splitlines() if "critical" in l.lower() or "error" in l.lower()]
    assert len(errors) == 1 and named in errors[0], out
    assert "listening" not in out, out


def _https_connection(port: int, ca: Path) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=str(ca))
    return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)


def _replace(source: Path, target: Path) -> None:
    """Replaces a (read-only) file as an operator would: a new file renamed over the old."""
    temporary = target.with_suffix(".new")
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def test_sighup_reloads_certificate_without_dropping_connections(make_registry, tmp_path, certs, other_certs):
    live = tmp_path / "live"
    live.mkdir()
    for name in ("server-cert.pem", "server-key.pem"):
        shutil.copyfile(certs / name, live / name)
    reg = make_registry(tls=True, extra_config=tls_config(live)).start()

    in_flight = _https_connection(reg.port, certs / "ca.pem")
    in_flight.request("GET", "/v2/")
    first = in_flight.getresponse()
    first.read()
    assert first.status == 200

    _replace(other_certs / "server-cert.pem", live / "server-cert.pem")
    _replace(other_certs / "server-key.pem", live / "server-key.pem")
    reg.proc.send_signal(signal.SIGHUP)
    assert wait_for_log(reg, "reloaded TLS certificate"), reg.log()
    assert reg.proc.poll() is None, "registryd died on SIGHUP"

    # New connections get the new certificate ...
    assert requests.get(reg.url + "/v2/", verify=str(other_certs / "ca.pem"), timeout=10).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(reg.url + "/v2/", verify=str(certs / "ca.pem"), timeout=10)
    # ... and the connection opened before the reload goes on.
    in_flight.request("GET", "/v2/")
    second = in_flight.getresponse()
    second.read()
    assert second.status == 200
    in_flight.close()

    # A broken certificate on the next SIGHUP keeps the current one and logs an error.
    (live / "server-key.pem").write_text("not a key\n")
    reg.proc.send_signal(signal.SIGHUP)
    assert wait_for_log(reg, "TLS reload failed"), reg.log()
    assert reg.proc.poll() is None
    assert requests.get(reg.url + "/v2/", verify=str(other_certs / "ca.pem"), timeout=10).status_code == 200


# --------------------------------------------------------------------------- registryctl certs

def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_registryctl_certs_files_modes_and_extensions(tmp_path):
    out = tmp_path / "certs"
    result = subprocess.run([registryctl_binary(), "certs", "--out", str(out), "--host", "127.0.0.1",
                             "--host", "registry.example", "--host", "::1", "--days", "30"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result
    assert "certificate:" in result.stdout and "/etc/docker/certs.d/127.0.0.1:PORT/ca.crt" in result.stdout
    for name, mode in (("ca.pem", 0o444), ("ca-key.pem", 0o400), ("server-cert.pem", 0o444),
                       ("server-key.pem", 0o400), ("cert.pem", 0o444), ("key.pem", 0o400)):
        assert stat.S_IMODE((out / name).stat().st_mode) == mode, name

    ca, server, client = _load(out / "ca.pem"), _load(out / "server-cert.pem"), _load(out / "cert.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["registry.example"]
    assert sorted(str(ip) for ip in sans.get_values_for_type(x509.IPAddress)) == ["127.0.0.1", "::1"]
    assert server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    assert client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == \
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    for leaf in (server, client):
        leaf.verify_directly_issued_by(ca)
        assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        days = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days
        assert 29 <= days <= 31, days
    # openssl agrees with the chain and the purposes.
    for leaf, purpose in (("server-cert.pem", "sslserver"), ("cert.pem", "sslclient")):
        check = subprocess.run(["openssl", "verify", "-CAfile", str(out / "ca.pem"), "-purpose", purpose,
                                str(out / leaf)], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check


def test_registryctl_certs_refuses_to_overwrite_a_ca_without_force(tmp_path):
    out = make_certs(tmp_path / "certs")
    before = (out / "ca.pem").read_bytes()
    again = subprocess.run([registryctl_binary(), "certs", "--out", str(out), "--host", "127.0.0.1"],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "--force" in again.stderr, again
    assert (out / "ca.pem").read_bytes() == before
    make_certs(out, ("127.0.0.1",), "--force")
    assert (out / "ca.pem").read_bytes() != before


def test_registryctl_certs_rsa_serves(make_registry, tmp_path):
    out = make_certs(tmp_path / "rsa", ("127.0.0.1",), "--rsa")
    assert isinstance(_load(out / "server-cert.pem").public_key(), rsa.RSAPublicKey)
    reg = tls_registry(make_registry, out, client_cas=True)
    resp = requests.get(reg.url + "/v2/", verify=str(out / "ca.pem"),
                        cert=(str(out / "cert.pem"), str(out / "key.pem")), timeout=10)
    assert resp.status_code == 200


def test_sighup_without_tls_keeps_serving(registry):
    for _ in range(3):
        registry.proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)
    assert wait_for_log(registry, "SIGHUP: reloading"), registry.log()
    assert registry.proc.poll() is None
    assert requests.get(registry.url + "/v2/", timeout=10).status_code == 200
