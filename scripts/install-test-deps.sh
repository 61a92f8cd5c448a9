#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: Docker's daemon and CLI, skopeo,
# podman, the reference registry (for the benchmark), strace, and pytest, requests and the oras SDK.
set -euo pipefail

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v podman >/dev/null || missing+=(podman)
command -v docker-registry >/dev/null || missing+=(docker-registry)
# the security tests: Apache's htpasswd -B, curl and openssl as TLS clients, ip for a network namespace
command -v htpasswd >/dev/null || missing+=(apache2-utils)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
command -v ip >/dev/null || missing+=(iproute2)
command -v systemd-analyze >/dev/null || missing+=(systemd)   # verifies deploy/registryd.service
command -v strace >/dev/null || missing+=(strace)   # tests/integration/test_durability_trace.py
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -c 'import pytest, requests' 2>/dev/null || python3 -m pip install -q pytest requests
python3 -c 'import oras.provider' 2>/dev/null || python3 -m pip install -q 'oras>=0.2.43,<0.3'
# the test token server signs with PyJWT; cryptography makes its key and certificate
python3 -c 'import jwt, cryptography.x509' 2>/dev/null || python3 -m pip install -q 'PyJWT>=2.6' 'cryptography>=41'
