#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian 12 machine that has the Swift
# toolchain: the C libraries and tools the Swift build links against, Docker's daemon and CLI,
# skopeo, podman, the reference registry (for the benchmark), the security and durability tests'
# tools, and the Python packages pinned in tests/requirements.txt.
# Idempotent: when everything is there it installs nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v swift >/dev/null || {
  echo "swift is not on PATH: install a Swift 6 toolchain (swift.org) first; Debian does not package it" >&2
  exit 1
}

# Debian packages, each checked with dpkg (installed, not merely known), so that a library
# with no command of its own (libsqlite3-dev, libssl-dev) is not taken for present.
packages=(
  # the Swift build: GRDB links the system SQLite (found through pkg-config), libcrypto from
  # OpenSSL; the C and C++ targets (swift-crypto's and swift-nio-ssl's BoringSSL are C++) and
  # the link use gcc's C runtime, the C++ standard library's headers and binutils; registryctl's
  # HTTP client (async-http-client, through swift-nio-extras' compression) links zlib
  libsqlite3-dev pkg-config libssl-dev zlib1g-dev gcc libc6-dev libstdc++-12-dev binutils
  # the end-to-end tests: a private dockerd, skopeo, podman; the benchmark: the reference registry
  docker.io skopeo podman docker-registry
  wrk  # bench/: request rates (the benchmarks are not tests, but their tools are installed here)
  # the security tests: Apache's htpasswd -B (and ab), curl and openssl as TLS clients,
  # ip for network namespaces
  apache2-utils curl openssl iproute2
  testssl.sh  # tests/integration/test_tls_profile.py scans registryd's TLS profile
  systemd   # systemd-analyze verifies deploy/registryd.service
  strace    # tests/integration/test_durability_trace.py
  chromium chromium-driver  # tests/e2e/test_ui_browser.py: the web UI in a headless browser
  postgresql-15  # scripts/postgres-server.sh: the PostgreSQL metadata store's tests (initdb, postgres)
  haproxy  # tests/e2e/test_fleet.py: three registryd behind deploy/fleet/haproxy.cfg
)
missing=()
for package in "${packages[@]}"; do
  # (sed reads dpkg's whole answer: grep -q would stop early and, with pipefail, fail; dpkg -s
  # itself fails for a package that is not installed, which must not end the script)
  status=$(dpkg -s "$package" 2>/dev/null | sed -n 's/^Status: //p' || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A real S3 server for the object-store tests (scripts/s3-server.sh): Ceph's monitor, OSD and
# RADOS Gateway, without the recommended extras (ceph-mgr and its Python stack are not needed).
ceph=(ceph-mon ceph-osd radosgw ceph-common)
missing=()
for package in "${ceph[@]}"; do
  status=$(dpkg -s "$package" 2>/dev/null | sed -n 's/^Status: //p' || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python packages: exactly the pinned versions. Checking the installed versions first keeps a
# second run offline and fast; pip runs only when a pin is missing or differs.
requirements=tests/requirements.txt
if ! python3 - "$requirements" <<'EOF'
import re, sys
from importlib import metadata
wrong = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, version = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line).groups()
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        have = None
    if have != version:
        wrong.append(f"{name} {have or 'missing'} (want {version})")
if wrong:
    print("python packages to install: " + ", ".join(wrong))
    sys.exit(1)
EOF
then
  # Debian's own python3 is "externally managed" (PEP 668); the tests run with that python3,
  # so its packages are what must be there.
  pip_flags=()
  if python3 -c 'import sys, sysconfig, os; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    pip_flags+=(--break-system-packages)
  fi
  python3 -m pip install -q --disable-pip-version-check "${pip_flags[@]}" -r "$requirements"
fi
