#!/usr/bin/env bash
# Benchmark Berth (registryd) against the reference registry (CNCF
# Distribution, Debian's docker-registry) in one run. See bench/README.md.
#
#   REGISTRYD_BIN   registryd to measure (default: <repo>/.build/release/registryd)
#   REFERENCE_BIN   reference registry (default: docker-registry); run as `BIN serve CONFIG`
#   BERTH_CMD_STYLE "registryd" (BIN --config CONFIG, default) or "distribution" (BIN serve CONFIG)
#   BENCH_TMPDIR    where data files and storage roots go (default: /tmp)
#   BIG_MIB, CHUNKED_MIB, PAR_MIB, PAR_N   data sizes (default 1024, 256, 64, 8)
#   WRK_DURATION, WRK_CONNECTIONS, WRK_THREADS   (default 10, 64, 2)
#   LOG_LEVEL       log level for both servers (default warn); access logs are off for both
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
REGISTRYD_BIN=${REGISTRYD_BIN:-$REPO/.build/release/registryd}
REFERENCE_BIN=${REFERENCE_BIN:-docker-registry}
BERTH_CMD_STYLE=${BERTH_CMD_STYLE:-registryd}
BIG_MIB=${BIG_MIB:-1024}
CHUNKED_MIB=${CHUNKED_MIB:-256}
PAR_MIB=${PAR_MIB:-64}
PAR_N=${PAR_N:-8}
WRK_DURATION=${WRK_DURATION:-10}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
LOG_LEVEL=${LOG_LEVEL:-warn}
OUT=${BENCH_OUT:-$HERE/out}

die() { echo "bench: $*" >&2; exit 2; }
[[ -x "$REGISTRYD_BIN" ]] || die "registryd not found at $REGISTRYD_BIN (build it with 'swift build -c release' or set REGISTRYD_BIN)"
REFERENCE_PATH=$(command -v "$REFERENCE_BIN") || die "reference registry '$REFERENCE_BIN' not found (apt-get install docker-registry)"
for tool in curl wrk ab python3 head; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install curl wrk apache2-utils python3)"
done

WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/berth-bench-XXXXXX")
BERTH_PID=""
REF_PID=""

stop_pid() {  # SIGTERM, wait up to 10 s, then SIGKILL; only our own children
    local pid=$1
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$BERTH_PID"
    stop_pid "$REF_PID"
    mkdir -p "$OUT"
    for name in berth reference; do
        [[ -f "$WORK/$name/server.log" ]] && tail -n 200 "$WORK/$name/server.log" > "$OUT/$name.log" || true
    done
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

write_config() {  # DIR PORT
    mkdir -p "$1/data"
    cat > "$1/config.yml" <<EOF
version: 0.1
log:
  level: $LOG_LEVEL
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
EOF
}

wait_ready() {  # NAME PID PORT
    for _ in $(seq 300); do
        kill -0 "$2" 2>/dev/null || { cat "$WORK/$1/server.log" >&2; die "$1 exited during start-up"; }
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/v2/")" == "200" ]]; then
            return 0
        fi
        sleep 0.1
    done
    die "$1 did not answer GET /v2/ with 200 within 30 s"
}

BERTH_PORT=$(free_port)
write_config "$WORK/berth" "$BERTH_PORT"
if [[ "$BERTH_CMD_STYLE" == "distribution" ]]; then
    "$REGISTRYD_BIN" serve "$WORK/berth/config.yml" > "$WORK/berth/server.log" 2>&1 &
else
    "$REGISTRYD_BIN" --config "$WORK/berth/config.yml" > "$WORK/berth/server.log" 2>&1 &
fi
BERTH_PID=$!

REF_PORT=$(free_port)
while [[ "$REF_PORT" == "$BERTH_PORT" ]]; do REF_PORT=$(free_port); done
write_config "$WORK/reference" "$REF_PORT"
"$REFERENCE_PATH" serve "$WORK/reference/config.yml" > "$WORK/reference/server.log" 2>&1 &
REF_PID=$!

wait_ready berth "$BERTH_PID" "$BERTH_PORT"
wait_ready reference "$REF_PID" "$REF_PORT"
echo "berth:     $REGISTRYD_BIN pid $BERTH_PID on 127.0.0.1:$BERTH_PORT"
echo "reference: $REFERENCE_PATH pid $REF_PID on 127.0.0.1:$REF_PORT"

echo "generating random data in $WORK/files ($BIG_MIB + $CHUNKED_MIB + $PAR_N x $PAR_MIB MiB)"
mkdir -p "$WORK/files"
head -c "${BIG_MIB}M" /dev/urandom > "$WORK/files/big.bin"
head -c "${CHUNKED_MIB}M" /dev/urandom > "$WORK/files/chunked.bin"
for i in $(seq 1 "$PAR_N"); do
    head -c "${PAR_MIB}M" /dev/urandom > "$WORK/files/par-$i.bin"
done

set +e
python3 "$HERE/bench.py" \
    --server "berth=http://127.0.0.1:$BERTH_PORT,$BERTH_PID" \
    --server "reference=http://127.0.0.1:$REF_PORT,$REF_PID" \
    --data "$WORK/files" --out "$OUT" \
    --berth-bin "$REGISTRYD_BIN" --reference-bin "$REFERENCE_PATH" \
    --wrk-duration "$WRK_DURATION" --wrk-connections "$WRK_CONNECTIONS" --wrk-threads "$WRK_THREADS"
rc=$?
set -e
kill -0 "$BERTH_PID" 2>/dev/null || echo "bench: berth (pid $BERTH_PID) is no longer running" >&2
kill -0 "$REF_PID" 2>/dev/null || echo "bench: reference (pid $REF_PID) is no longer running" >&2
exit $rc
