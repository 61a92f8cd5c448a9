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
#   BENCH_MODES     which runs, in order (default "plain https htpasswd"): plain HTTP; HTTPS with
#                   one ECDSA certificate from `registryctl certs` for both; htpasswd (plain HTTP,
#                   one bcrypt file from `htpasswd -Bbn` for both)
#                   s3 and s3redirect (opt-in): both servers keep blobs in buckets of one Ceph RGW
#                   (scripts/s3-server.sh), Berth its index in PostgreSQL (scripts/postgres-server.sh);
#                   s3 streams blob GETs through the registry, s3redirect answers them with 307 to
#                   a presigned URL (Distribution's default), which curl follows
#   REGISTRYCTL_BIN registryctl that makes the certificate (default: next to REGISTRYD_BIN)
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
BENCH_MODES=${BENCH_MODES:-plain https htpasswd}
REGISTRYCTL_BIN=${REGISTRYCTL_BIN:-$(dirname "$REGISTRYD_BIN")/registryctl}
BENCH_USER=bench
BENCH_PASSWORD=bench-password-$RANDOM$RANDOM

die() { echo "bench: $*" >&2; exit 2; }
[[ -x "$REGISTRYD_BIN" ]] || die "registryd not found at $REGISTRYD_BIN (build it with 'swift build -c release' or set REGISTRYD_BIN)"
REFERENCE_PATH=$(command -v "$REFERENCE_BIN") || die "reference registry '$REFERENCE_BIN' not found (apt-get install docker-registry)"
for tool in curl wrk ab python3 head; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install curl wrk apache2-utils python3)"
done
for mode in $BENCH_MODES; do
    case $mode in
        plain) ;;
        https) [[ -x "$REGISTRYCTL_BIN" ]] || die "registryctl not found at $REGISTRYCTL_BIN (set REGISTRYCTL_BIN)" ;;
        htpasswd) command -v htpasswd >/dev/null || die "htpasswd is not installed (apt-get install apache2-utils)" ;;
        s3|s3redirect)
            command -v radosgw >/dev/null && command -v psql >/dev/null \
                || die "$mode needs Ceph's radosgw and postgresql-15 (scripts/install-test-deps.sh)"
            [[ -x "$REGISTRYCTL_BIN" ]] || die "registryctl not found at $REGISTRYCTL_BIN (set REGISTRYCTL_BIN)" ;;
        *) die "unknown mode '$mode' in BENCH_MODES (plain, https, htpasswd, s3, s3redirect)" ;;
    esac
done
if ! python3 -c 'import matplotlib' 2>/dev/null; then
    echo "installing matplotlib for the chart (bench/requirements.txt)"
    python3 -m pip install -q -r "$HERE/requirements.txt" || die "pip could not install bench/requirements.txt"
fi

WORK=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/berth-bench-XXXXXX")
BERTH_PID=""
REF_PID=""
S3_STATE=""
PG_STATE=""

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
    [[ -z "$S3_STATE" ]] || "$REPO/scripts/s3-server.sh" stop "$S3_STATE" >/dev/null 2>&1 || true
    [[ -z "$PG_STATE" ]] || "$REPO/scripts/postgres-server.sh" stop "$PG_STATE" >/dev/null 2>&1 || true
    [[ -z "$PG_STATE" ]] || rm -rf "$PG_STATE"
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The S3 server (one Ceph RGW) and the PostgreSQL server of an s3 run, new for each mode:
# RGW's memstore holds every object in memory, and one run's objects would fill it for the next.
start_object_store() {
    [[ -n "$S3_STATE" ]] && return 0
    # PostgreSQL runs as an unprivileged user, which cannot enter $WORK (mode 700): its own folder.
    S3_STATE="$WORK/s3-server" PG_STATE=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/berth-bench-pg-XXXXXX")
    mkdir -p "$S3_STATE"
    echo "starting Ceph RGW (scripts/s3-server.sh) and PostgreSQL (scripts/postgres-server.sh)"
    local s3_env pg_env
    s3_env=$(S3_MEMSTORE_BYTES=${S3_MEMSTORE_BYTES:-12884901888} "$REPO/scripts/s3-server.sh" start "$S3_STATE") \
        || die "the S3 server did not start"
    eval "$s3_env"
    pg_env=$("$REPO/scripts/postgres-server.sh" start "$PG_STATE") || die "PostgreSQL did not start"
    eval "$pg_env"
}

stop_object_store() {
    [[ -z "$S3_STATE" ]] || "$REPO/scripts/s3-server.sh" stop "$S3_STATE" >/dev/null 2>&1 || true
    [[ -z "$PG_STATE" ]] || "$REPO/scripts/postgres-server.sh" stop "$PG_STATE" >/dev/null 2>&1 || true
    [[ -z "$PG_STATE" ]] || rm -rf "$PG_STATE"
    [[ -z "$S3_STATE" ]] || rm -rf "$S3_STATE"
    S3_STATE="" PG_STATE=""
}

s3_request() {  # METHOD PATH: one signed request to the RGW (curl's SigV4), prints the status
    curl -sS -o /dev/null -w '%{http_code}' -X "$1" --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$S3_TEST_ACCESS_KEY:$S3_TEST_SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
        "$S3_TEST_ENDPOINT$2"
}

make_bucket() {  # NAME
    [[ "$(s3_request PUT "/$1")" == 200 ]] || die "cannot make bucket $1"
}

make_database() {  # NAME
    PGPASSWORD=$PG_TEST_PASSWORD psql -X -q -h "$PG_TEST_HOST" -p "$PG_TEST_PORT" -U "$PG_TEST_USER" \
        -d "$PG_TEST_DBNAME" -c "CREATE DATABASE $1" >/dev/null || die "cannot create database $1"
}

storage_config() {  # DIR MODE NAME: the storage: section (and Berth's database:)
    case $2 in
        s3|s3redirect)
            local bucket="bench-$3-$2-$RANDOM$RANDOM"
            make_bucket "$bucket"
            cat <<EOF
storage:
  s3:
    accesskey: $S3_TEST_ACCESS_KEY
    secretkey: $S3_TEST_SECRET_KEY
    region: us-east-1
    regionendpoint: $S3_TEST_ENDPOINT
    bucket: $bucket
    forcepathstyle: true
    secure: false
  redirect:
    disable: $([[ $2 == s3 ]] && echo true || echo false)
  delete:
    enabled: true
EOF
            if [[ $3 == berth ]]; then
                local db="bench_${2}_$RANDOM$RANDOM"
                make_database "$db"
                cat <<EOF
database:
  enabled: true
  host: $PG_TEST_HOST
  port: $PG_TEST_PORT
  user: $PG_TEST_USER
  password: $PG_TEST_PASSWORD
  dbname: $db
  sslmode: disable
EOF
            fi
            ;;
        *) cat <<EOF
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
EOF
        ;;
    esac
}

write_config() {  # DIR PORT MODE
    mkdir -p "$1/data"
    {
        cat <<EOF
version: 0.1
log:
  level: $LOG_LEVEL
  accesslog:
    disabled: true
EOF
        storage_config "$1" "$3" "$(basename "$1")"
        cat <<EOF
http:
  addr: 127.0.0.1:$2
EOF
    } > "$1/config.yml"
    case $3 in
        https) cat >> "$1/config.yml" <<EOF
  tls:
    certificate: $WORK/certs/server-cert.pem
    key: $WORK/certs/server-key.pem
EOF
        ;;
        htpasswd) cat >> "$1/config.yml" <<EOF
auth:
  htpasswd:
    realm: bench
    path: $WORK/htpasswd
EOF
        ;;
    esac
}

SCHEME=http
CURL_OPTS=()
wait_ready() {  # NAME PID PORT
    for _ in $(seq 300); do
        kill -0 "$2" 2>/dev/null || { cat "$WORK/$1/server.log" >&2; die "$1 exited during start-up"; }
        if [[ "$(curl -s "${CURL_OPTS[@]}" -o /dev/null -w '%{http_code}' "$SCHEME://127.0.0.1:$3/v2/")" == "200" ]]; then
            return 0
        fi
        sleep 0.1
    done
    die "$1 did not answer GET /v2/ with 200 within 30 s"
}

start_servers() {  # MODE
    SCHEME=http
    CURL_OPTS=(--max-time 5)
    [[ "$1" == https ]] && { SCHEME=https; CURL_OPTS+=(--cacert "$WORK/certs/ca.pem"); }
    [[ "$1" == htpasswd ]] && CURL_OPTS+=(-u "$BENCH_USER:$BENCH_PASSWORD")
    rm -rf "$WORK/berth" "$WORK/reference"
    [[ "$1" == s3* ]] && start_object_store
    BERTH_PORT=$(free_port)
    write_config "$WORK/berth" "$BERTH_PORT" "$1"
    if [[ "$1" == s3* ]]; then
        # A new database gets its schema as an operator's would: registryctl, before registryd.
        "$REGISTRYCTL_BIN" database migrate up --config "$WORK/berth/config.yml" > /dev/null \
            || die "registryctl database migrate up failed"
    fi
    if [[ "$BERTH_CMD_STYLE" == "distribution" ]]; then
        "$REGISTRYD_BIN" serve "$WORK/berth/config.yml" > "$WORK/berth/server.log" 2>&1 &
    else
        "$REGISTRYD_BIN" --config "$WORK/berth/config.yml" > "$WORK/berth/server.log" 2>&1 &
    fi
    BERTH_PID=$!

    REF_PORT=$(free_port)
    while [[ "$REF_PORT" == "$BERTH_PORT" ]]; do REF_PORT=$(free_port); done
    write_config "$WORK/reference" "$REF_PORT" "$1"
    # Distribution's S3 driver panics on AWS_CA_BUNDLE, which this machine sets.
    env -u AWS_CA_BUNDLE "$REFERENCE_PATH" serve "$WORK/reference/config.yml" > "$WORK/reference/server.log" 2>&1 &
    REF_PID=$!

    wait_ready berth "$BERTH_PID" "$BERTH_PORT"
    wait_ready reference "$REF_PID" "$REF_PORT"
    echo "[$1] berth:     $REGISTRYD_BIN pid $BERTH_PID on $SCHEME://127.0.0.1:$BERTH_PORT"
    echo "[$1] reference: $REFERENCE_PATH pid $REF_PID on $SCHEME://127.0.0.1:$REF_PORT"
}

stop_servers() {  # MODE: stops both, keeps the last log lines of each
    mkdir -p "$OUT/$1"
    stop_pid "$BERTH_PID"
    stop_pid "$REF_PID"
    for name in berth reference; do
        [[ -f "$WORK/$name/server.log" ]] && tail -n 200 "$WORK/$name/server.log" > "$OUT/$1/$name.log" || true
    done
    BERTH_PID=""
    REF_PID=""
    [[ "$1" != s3* ]] || stop_object_store
}

if [[ " $BENCH_MODES " == *" https "* ]]; then
    # One ECDSA P-256 certificate for both servers; the clients trust its CA.
    "$REGISTRYCTL_BIN" certs --out "$WORK/certs" --host 127.0.0.1 --host localhost > /dev/null \
        || die "registryctl certs failed"
fi
if [[ " $BENCH_MODES " == *" htpasswd "* ]]; then
    # One bcrypt entry (htpasswd's default cost) for both servers.
    htpasswd -Bbn "$BENCH_USER" "$BENCH_PASSWORD" > "$WORK/htpasswd"
fi

echo "generating random data in $WORK/files ($BIG_MIB + $CHUNKED_MIB + $PAR_N x $PAR_MIB MiB)"
mkdir -p "$WORK/files"
head -c "${BIG_MIB}M" /dev/urandom > "$WORK/files/big.bin"
head -c "${CHUNKED_MIB}M" /dev/urandom > "$WORK/files/chunked.bin"
for i in $(seq 1 "$PAR_N"); do
    head -c "${PAR_MIB}M" /dev/urandom > "$WORK/files/par-$i.bin"
done
# Written back now, not during the first measured upload (which then shares the disk with it).
sync

rc=0
for mode in $BENCH_MODES; do
    start_servers "$mode"
    extra=()
    [[ "$mode" == https ]] && extra=(--cacert "$WORK/certs/ca.pem")
    [[ "$mode" == htpasswd ]] && extra=(--user "$BENCH_USER:$BENCH_PASSWORD")
    set +e
    python3 "$HERE/bench.py" --mode "$mode" \
        --server "berth=$SCHEME://127.0.0.1:$BERTH_PORT,$BERTH_PID" \
        --server "reference=$SCHEME://127.0.0.1:$REF_PORT,$REF_PID" \
        --data "$WORK/files" --out "$OUT/$mode" "${extra[@]}" \
        --berth-bin "$REGISTRYD_BIN" --reference-bin "$REFERENCE_PATH" \
        --wrk-duration "$WRK_DURATION" --wrk-connections "$WRK_CONNECTIONS" --wrk-threads "$WRK_THREADS"
    mode_rc=$?
    set -e
    (( mode_rc == 0 )) || rc=$mode_rc
    kill -0 "$BERTH_PID" 2>/dev/null || echo "bench: berth (pid $BERTH_PID) is no longer running" >&2
    kill -0 "$REF_PID" 2>/dev/null || echo "bench: reference (pid $REF_PID) is no longer running" >&2
    stop_servers "$mode"
done

# One table over all runs (summary.md, summary.json) and the ratios as a chart (ratios.png).
python3 "$HERE/report.py" --out "$OUT" --modes $BENCH_MODES || rc=1
exit $rc
