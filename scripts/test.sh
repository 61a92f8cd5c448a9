#!/usr/bin/env bash
# Runs every test: Swift unit tests (Core, Storage), HTTP integration tests against a real
# registryd, and end-to-end tests with a private dockerd, podman, skopeo and oras. One debug
# build serves all. A full run (no pytest arguments) renders the client compatibility table into
# the build folder and fails if README.md's table differs from it (scripts/compat_table.py --write
# updates README on purpose). The run writes no tracked file.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

echo "== build"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "build failed"; exit 1; }
bin=$(swift build --show-bin-path)

# One real S3 server (Ceph RGW) for the object-store tests of both suites, stopped by its
# PIDs when the run ends however it ends. S3_TEST_REQUIRED makes a missing server a failure.
# Likewise one real PostgreSQL 15 server (scripts/postgres-server.sh) for the PostgreSQL
# metadata store's tests; PG_TEST_REQUIRED makes a missing server a failure.
s3_state=$(mktemp -d /tmp/berth-s3.XXXXXX)
pg_state=$(mktemp -d /tmp/berth-pg.XXXXXX)
stop_servers() {
  scripts/s3-server.sh stop "$s3_state" >/dev/null 2>&1 || true
  scripts/postgres-server.sh stop "$pg_state" >/dev/null 2>&1 || true
  rm -rf "$s3_state" "$pg_state"
}
trap stop_servers EXIT
echo "== S3 server (scripts/s3-server.sh)"
set -a
eval "$(scripts/s3-server.sh start "$s3_state")"
S3_TEST_REQUIRED=1
set +a
echo "== PostgreSQL server (scripts/postgres-server.sh)"
set -a
eval "$(scripts/postgres-server.sh start "$pg_state")"
PG_TEST_REQUIRED=1
set +a

echo "== unit tests (swift test)"
swift test --skip-build

echo "== integration and end-to-end tests (pytest)"
results="$bin/compat-results.json"
rm -f "$results"
REGISTRYD_BIN="$bin/registryd" BERTH_COMPAT_RESULTS="$results" python3 -m pytest tests -q -p no:cacheprovider "$@"

if [ "${BERTH_FUZZ_SECONDS:-20}" != 0 ]; then
  echo "== fuzzing (scripts/fuzz.sh, ${BERTH_FUZZ_SECONDS:-20}s per target)"
  scripts/fuzz.sh "${BERTH_FUZZ_SECONDS:-20}"
fi

if [ $# -eq 0 ]; then
  echo "== client compatibility table (README.md must agree with this run)"
  python3 scripts/compat_table.py --out "$bin/compat-table.md" "$results" README.md
fi
