#!/usr/bin/env bash
# A real PostgreSQL 15 server for the tests: one cluster made with initdb in DIR, on a free
# loopback port, run by an unprivileged system user (PostgreSQL refuses to run as root), with
# fsync on, password (SCRAM) authentication on TCP, and its PID recorded.
#
#   scripts/postgres-server.sh start DIR   # prints PG_TEST_HOST=... PG_TEST_PORT=... lines for eval
#   scripts/postgres-server.sh stop DIR    # stops the server by its PID
#   scripts/postgres-server.sh resume DIR  # starts a stopped cluster again: same data, same port
#
# Needs Debian's postgresql-15 (scripts/install-test-deps.sh).
set -euo pipefail

command=${1:?usage: postgres-server.sh start|stop DIR}
dir=${2:?usage: postgres-server.sh start|stop DIR}
bin=/usr/lib/postgresql/15/bin
os_user=berthpg
db_user=berth
db_password=berthtestpassword
db_name=berth

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Runs a command as the unprivileged user (setpriv execs, so a background PID is the server's).
as_user() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid "$os_user" --regid "$os_user" --init-groups -- "$@"
  else
    "$@"
  fi
}

stop() {
  if [ -f "$dir/postgres.pid" ]; then
    pid=$(cat "$dir/postgres.pid")
    # SIGINT: PostgreSQL's fast shutdown (ends sessions, checkpoints, exits).
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/postgres.pid"
  fi
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop
  if [ "$(id -u)" = 0 ]; then
    id "$os_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$os_user"
    chown "$os_user:" "$dir"
  fi
  as_user rm -rf "$dir/data" "$dir/run" "$dir/postgres.log"
  as_user mkdir -p "$dir/run"
  local port pwfile
  port=$(free_port)
  pwfile="$dir/run/pwfile"
  as_user bash -c "umask 077; printf '%s\n' '$db_password' > '$pwfile'"
  as_user "$bin/initdb" -D "$dir/data" -U "$db_user" --pwfile="$pwfile" --auth-local=scram-sha-256 \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/run/initdb.log" 2>&1 || {
    echo "postgres-server: initdb failed; see $dir/run/initdb.log" >&2; tail -n 20 "$dir/run/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
  setsid setpriv --reuid "$os_user" --regid "$os_user" --init-groups -- \
    "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir/run" -c listen_addresses=127.0.0.1 \
    -c fsync=on -c synchronous_commit=on -c max_connections=300 \
    >"$dir/postgres.log" 2>&1 < /dev/null &
  echo $! > "$dir/postgres.pid"
  for _ in $(seq 300); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then break; fi
    if ! kill -0 "$(cat "$dir/postgres.pid")" 2>/dev/null; then break; fi
    sleep 0.1
  done
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || {
    echo "postgres-server: postgres did not come up; log in $dir/postgres.log" >&2
    tail -n 20 "$dir/postgres.log" >&2 || true
    stop
    exit 1
  }
  PGPASSWORD=$db_password psql -q -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres \
    -c "CREATE DATABASE $db_name" >/dev/null
  cat > "$dir/env" <<ENV
PG_TEST_HOST=127.0.0.1
PG_TEST_PORT=$port
PG_TEST_USER=$db_user
PG_TEST_PASSWORD=$db_password
PG_TEST_DBNAME=$db_name
ENV
  cat "$dir/env"
}

# The database coming back after an outage (tests of what registryd does meanwhile and after).
resume() {
  dir=$(cd "$dir" && pwd)
  local port
  port=$(sed -n 's/^PG_TEST_PORT=//p' "$dir/env")
  [ -n "$port" ] || { echo "postgres-server: no cluster in $dir to resume" >&2; exit 1; }
  setsid setpriv --reuid "$os_user" --regid "$os_user" --init-groups -- \
    "$bin/postgres" -D "$dir/data" -p "$port" -k "$dir/run" -c listen_addresses=127.0.0.1 \
    -c fsync=on -c synchronous_commit=on -c max_connections=300 \
    >>"$dir/postgres.log" 2>&1 < /dev/null &
  echo $! > "$dir/postgres.pid"
  for _ in $(seq 300); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then cat "$dir/env"; return; fi
    sleep 0.1
  done
  echo "postgres-server: postgres did not come back; log in $dir/postgres.log" >&2
  exit 1
}

case $command in
  start) start ;;
  stop) stop ;;
  resume) resume ;;
  *) echo "usage: postgres-server.sh start|stop|resume DIR" >&2; exit 2 ;;
esac
