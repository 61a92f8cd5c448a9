"""TLS material, htpasswd files and a Docker token server for the security tests.

Certificates come from `registryctl certs` (the command under test); htpasswd files
from Apache's `htpasswd -B`; tokens are signed with a key made here, whose self-signed
certificate is the registry's `rootcertbundle`.
"""
from __future__ import annotations

import base64
import datetime
import json
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from registry import registryd_binary


def registryctl_binary() -> str:
    return str(Path(registryd_binary()).parent / "registryctl")


def make_certs(folder: Path, hosts=("127.0.0.1", "localhost"), *extra: str) -> Path:
    """`registryctl certs` into `folder`; returns it."""
    args = [registryctl_binary(), "certs", "--out", str(folder)]
    for host in hosts:
        args += ["--host", host]
    subprocess.run(args + list(extra), check=True, capture_output=True, text=True, timeout=120)
    return folder


def tls_config(certs: Path, *, client_cas: bool = False, minimum: str | None = None) -> str:
    """http.tls lines for RegistryProcess(extra_config=...), at http's indentation."""
    text = f"  tls:\n    certificate: {certs}/server-cert.pem\n    key: {certs}/server-key.pem\n"
    if client_cas:
        text += f"    clientcas:\n      - {certs}/ca.pem\n"
    if minimum:
        text += f"    minimumtls: {minimum}\n"
    return text


def cert_dir_for_clients(certs: Path, folder: Path) -> Path:
    """The ca.crt / client.cert / client.key layout docker, skopeo and podman read."""
    folder.mkdir(parents=True, exist_ok=True)
    for source, name in (("ca.pem", "ca.crt"), ("cert.pem", "client.cert"), ("key.pem", "client.key")):
        (folder / name).write_bytes((certs / source).read_bytes())
    return folder


def apache_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """An htpasswd file written by Apache's `htpasswd -B` (bcrypt, $2y$)."""
    for index, (user, password) in enumerate(users.items()):
        flags = "-bB" + ("c" if index == 0 else "")
        subprocess.run(["htpasswd", flags, "-C", "5", str(path), user, password], check=True,
                       capture_output=True, timeout=30)
    return path


def htpasswd_config(path: Path, realm: str = "Berth test") -> str:
    return f"auth:\n  htpasswd:\n    realm: {realm}\n    path: {path}\n"


def basic(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# --------------------------------------------------------------------------- tokens

class TokenIssuer:
    """A signing key with a self-signed certificate, and the registry's token settings."""

    def __init__(self, folder: Path, *, kind: str = "ec", issuer: str = "berth-test-issuer",
                 service: str = "berth-test-registry"):
        folder.mkdir(parents=True, exist_ok=True)
        self.issuer = issuer
        self.service = service
        if kind == "rsa":
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.algorithm = "RS256"
        else:
            self.key = ec.generate_private_key(ec.SECP256R1())
            self.algorithm = "ES256"
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"token signer {uuid.uuid4().hex[:6]}")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                       .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - datetime.timedelta(minutes=5))
                       .not_valid_after(now + datetime.timedelta(days=1))
                       .sign(self.key, hashes.SHA256()))
        self.bundle = folder / f"token-{kind}.pem"
        self.bundle.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))

    def config(self, realm: str) -> str:
        return (f"auth:\n  token:\n    realm: {realm}\n    service: {self.service}\n"
                f"    issuer: {self.issuer}\n    rootcertbundle: {self.bundle}\n")

    def token(self, access: list[dict], *, subject: str = "alice", issuer: str | None = None,
              audience: str | None = None, expires_in: float = 300, not_before: float = -10,
              key=None, algorithm: str | None = None, headers: dict | None = None) -> str:
        now = time.time()
        claims = {
            "iss": issuer or self.issuer, "sub": subject, "aud": audience or self.service,
            "iat": int(now), "nbf": int(now + not_before), "exp": int(now + expires_in),
            "jti": uuid.uuid4().hex, "access": access,
        }
        return jwt.encode(claims, key or self.key, algorithm=algorithm or self.algorithm, headers=headers)


def repository_access(name: str, *actions: str) -> list[dict]:
    return [{"type": "repository", "name": name, "actions": list(actions)}]


class TokenServer:
    """The Docker token endpoint, in a thread of the test process on 127.0.0.1: it grants
    every scope asked for to `users` (HTTP Basic), and pull only to anonymous clients
    when `anonymous_pull`."""

    def __init__(self, issuer: TokenIssuer, users: dict[str, str], *, anonymous_pull: bool = False):
        self.issuer = issuer
        self.users = users
        self.anonymous_pull = anonymous_pull
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                user = server._user(self.headers.get("Authorization"))
                server.requests.append({"query": query, "user": user})
                if user is False:
                    self.send_response(401)
                    self.end_headers()
                    return
                access = []
                for scope in " ".join(query.get("scope", [])).split():
                    kind, _, rest = scope.partition(":")
                    name, _, actions = rest.rpartition(":")
                    wanted = actions.split(",")
                    if user is None:
                        wanted = [a for a in wanted if a == "pull" and server.anonymous_pull]
                    access.append({"type": kind, "name": name, "actions": wanted})
                token = server.issuer.token(access, subject=user or "")
                body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _user(self, header: str | None):
        """The signed-in user, None for anonymous, False for wrong credentials."""
        if not header:
            return None
        try:
            user, _, password = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
        except Exception:
            return False
        return user if self.users.get(user) == password else False

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/token"

    def __enter__(self) -> "TokenServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
