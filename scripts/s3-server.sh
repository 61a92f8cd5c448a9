#!/usr/bin/env bash
# A real S3 server for the tests: one Ceph RADOS Gateway over one monitor and one memstore OSD,
# no cephx, everything under one state folder, every daemon in the foreground under setsid with
# its PID recorded.
#
#   scripts/s3-server.sh start DIR   # prints S3_TEST_ENDPOINT=... S3_TEST_ACCESS_KEY=... lines
#   scripts/s3-server.sh stop DIR    # stops the daemons by their PIDs
#
# S3_MEMSTORE_BYTES sizes the in-memory OSD (default 8 GiB, filled only as objects arrive; the benchmark asks for more).
# Needs Debian's ceph-mon, ceph-osd, radosgw and ceph-common (scripts/install-test-deps.sh).
set -euo pipefail

command=${1:?usage: s3-server.sh start|stop DIR}
dir=${2:?usage: s3-server.sh start|stop DIR}
access_key=berthtest
secret_key=berthtestsecret0123456789

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

stop() {
  for name in rgw osd mon; do
    if [ -f "$dir/$name.pid" ]; then
      pid=$(cat "$dir/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

wait_for() { # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "s3-server: $what did not come up; logs in $dir" >&2
  tail -n 20 "$dir"/*.log >&2 || true
  stop
  exit 1
}

start() {
  # With "4GiB" the OSD here filled after well under 1 GiB of objects ("full status failsafe
  # engaged"), refused writes, and RGW left requests hanging. Take bytes only.
  if [[ -n ${S3_MEMSTORE_BYTES:-} && ! $S3_MEMSTORE_BYTES =~ ^[0-9]+$ ]]; then
    echo "s3-server: S3_MEMSTORE_BYTES must be a number of bytes (4 GiB is 4294967296), not '$S3_MEMSTORE_BYTES'" >&2
    exit 2
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop
  rm -rf "$dir"/{mon,osd,run,rgw} "$dir"/*.log
  mkdir -p "$dir"/{mon,osd,run,rgw}
  local mon_port rgw_port fsid uuid
  mon_port=$(free_port)
  rgw_port=$(free_port)
  fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  cat > "$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
ms bind msgr1 = false
ms mon client mode = crc
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
paxos propose interval = 0.05
osd objectstore = memstore
memstore device bytes = ${S3_MEMSTORE_BYTES:-8589934592}
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/\$name.log
mon data = $dir/mon/\$id
osd data = $dir/osd/\$id
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
CONF
  export CEPH_CONF="$dir/ceph.conf"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$dir/monmap" >/dev/null
  setsid ceph-mon -f -i a >"$dir/mon.out" 2>&1 < /dev/null & echo $! > "$dir/mon.pid"
  wait_for 30 "ceph-mon" ceph -s --connect-timeout 2
  local id
  id=$(ceph osd new "$uuid")
  mkdir -p "$dir/osd/$id"
  ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" >/dev/null 2>&1
  setsid ceph-osd -f -i "$id" >"$dir/osd.out" 2>&1 < /dev/null & echo $! > "$dir/osd.pid"
  wait_for 30 "ceph-osd" bash -c "ceph osd dump | grep -q '^osd.$id up'"
  setsid radosgw -f -n client.rgw >"$dir/rgw.out" 2>&1 < /dev/null & echo $! > "$dir/rgw.pid"
  wait_for 60 "radosgw" curl -sf "http://127.0.0.1:$rgw_port/"
  radosgw-admin user create --uid test --display-name test \
    --access-key "$access_key" --secret-key "$secret_key" >/dev/null
  cat > "$dir/env" <<ENV
S3_TEST_ENDPOINT=http://127.0.0.1:$rgw_port
S3_TEST_ACCESS_KEY=$access_key
S3_TEST_SECRET_KEY=$secret_key
S3_TEST_REGION=us-east-1
ENV
  cat "$dir/env"
}

case $command in
  start) start ;;
  stop) stop ;;
  *) echo "usage: s3-server.sh start|stop DIR" >&2; exit 2 ;;
esac
