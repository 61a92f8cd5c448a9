#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: Docker's daemon and CLI, skopeo,
# podman, the reference registry (for the benchmark), strace, and pytest, requests and the oras SDK.
set -euo pipefail

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v podman >/dev/null || missing+=(podman)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v strace >/dev/null || missing+=(strace)   # tests/integration/test_durability_trace.py
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -c 'import pytest, requests' 2>/dev/null || python3 -m pip install -q pytest requests
python3 -c 'import oras.provider' 2>/dev/null || python3 -m pip install -q 'oras>=0.2.43,<0.3'
