#!/usr/bin/env bash
# A real S3 server on loopback for the tests: Ceph's Object Gateway (radosgw) in front of a one-node
# Ceph cluster (one monitor, one OSD that keeps its data in memory). Everything binds 127.0.0.1.
#
#   scripts/s3-server.sh start DIR PORT   install Debian's ceph packages if missing, start the server
#                                         with its state in DIR, serve S3 on 127.0.0.1:PORT, print
#                                         `export ...` lines (eval them) for the AWS SDKs and the tests
#   scripts/s3-server.sh stop DIR         stop the server started in DIR and remove DIR
#
# The OSD holds at most QUILT_S3_MEMORY_BYTES of data (default 4 GiB; deleted objects free their space only when
# radosgw's garbage collection runs, hours later), and refuses writes once full.
# Credentials TESTKEY/TESTSECRET, region us-east-1, path-style addressing. A second S3 user (uid role,
# ROLEKEY/ROLESECRET, printed as QUILT_TEST_S3_ROLE_ACCESS_KEY/QUILT_TEST_S3_ROLE_SECRET_KEY) owns nothing of the
# first: on Ceph a bucket belongs to its creator, so the tests use it for a gateway role with S3 keys of its own.
# Starting again into a DIR
# whose server is running just prints its environment again. Missing: S3 flexible checksums
# (x-amz-checksum-*), so clients hash data themselves.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR PORT | $0 stop DIR" >&2
  exit 2
}

log() { echo "s3-server: $*" >&2; }
die() { log "$*"; exit 1; }

# Written into DIR so that `stop` never deletes a folder this script did not create.
MARKER=.quilt-s3-server
PACKAGES=(ceph-mon ceph-osd radosgw ceph-common curl)

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

daemon_pids() {
  local d=$1 p
  for p in rgw osd mon; do
    [ -s "$d/$p.pid" ] && cat "$d/$p.pid"
  done
  return 0
}

stop_server() {
  local d=$1 pids=() p alive
  [ -d "$d" ] || return 0
  [ -f "$d/$MARKER" ] || die "$d was not created by this script (no $MARKER in it); not touching it"
  mapfile -t pids < <(daemon_pids "$d")
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    # Everything lives in memory, so a slow graceful exit buys nothing: wait 2 s, then kill.
    for _ in $(seq 1 8); do
      alive=0
      for p in "${pids[@]}"; do pid_alive "$p" && alive=1; done
      [ $alive = 0 ] && break
      sleep 0.25
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  fi
  rm -rf "$d"
}

print_env() {
  local port=$1
  echo "export AWS_ACCESS_KEY_ID=TESTKEY"
  echo "export AWS_SECRET_ACCESS_KEY=TESTSECRET"
  echo "export AWS_REGION=us-east-1"
  echo "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port"
  echo "export QUILT_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
  echo "export QUILT_TEST_S3_ROLE_ACCESS_KEY=ROLEKEY"
  echo "export QUILT_TEST_S3_ROLE_SECRET_KEY=ROLESECRET"
}

install_if_missing() {
  local missing=0
  command -v ceph-mon >/dev/null || missing=1
  command -v ceph-osd >/dev/null || missing=1
  command -v radosgw >/dev/null || missing=1
  command -v radosgw-admin >/dev/null || missing=1
  command -v curl >/dev/null || missing=1
  [ $missing = 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "Ceph is not installed and this is not root. Install it first: sudo apt-get install ${PACKAGES[*]}"
  log "installing ${PACKAGES[*]} (once, about 15-30 s)"
  # Lock::Timeout waits for another apt run (a parallel test process) instead of failing.
  local out=/tmp/s3-server-apt.$$.log
  if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${PACKAGES[@]}"; } >"$out" 2>&1; then
    tail -n 20 "$out" >&2
    rm -f "$out"
    die "installing Ceph failed (output above); check that Debian's package mirror is reachable"
  fi
  rm -f "$out"
}

# The second S3 user (uid role), created unless it exists.
ensure_role_user() {
  local d=$1
  timeout 60 radosgw-admin -c "$d/ceph.conf" user info --uid=role </dev/null >/dev/null 2>&1 && return 0
  timeout 60 radosgw-admin -c "$d/ceph.conf" user create --uid=role --display-name=role \
    --access-key=ROLEKEY --secret=ROLESECRET </dev/null >>"$d/log/setup.out" 2>&1
}

# Waits until `$@` succeeds, for at most $1 seconds.
wait_for() {
  local secs=$1
  shift
  for _ in $(seq 1 $((secs * 2))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

fail_start() {
  local d=$1 msg=$2 f
  log "$msg"
  for f in "$d"/log/*.log "$d"/log/*.out; do
    [ -s "$f" ] || continue
    echo "---- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
  stop_server "$d" || true
  exit 1
}

start_server() {
  local d=$1 port=$2
  [[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "PORT must be a number from 1 to 65535, got '$port'"

  # Started before: reuse it while all daemons live and the gateway answers; otherwise start afresh.
  if [ -f "$d/$MARKER" ]; then
    local running=1 old_port p
    old_port=$(cat "$d/port" 2>/dev/null || true)
    for p in rgw osd mon; do pid_alive "$(cat "$d/$p.pid" 2>/dev/null || true)" || running=0; done
    if [ $running = 1 ] && [ "$old_port" = "$port" ] && curl -sf --max-time 5 "http://127.0.0.1:$port/" >/dev/null; then
      log "already running in $d on 127.0.0.1:$port"
      # A server started by an older version of this script has only the first user.
      ensure_role_user "$d" || die "creating the second S3 user (role) in $d failed; see $d/log/setup.out"
      print_env "$port"
      return 0
    fi
    log "stopping the previous server in $d"
    stop_server "$d"
  elif [ -e "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ]; then
    die "$d exists, is not empty and was not created by this script; choose another DIR"
  fi

  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use; choose another PORT"
  install_if_missing

  # The monitor needs a port of its own; PORT+1000 unless taken.
  local monport=$((port + 1000))
  [ $monport -gt 65535 ] && monport=$((port - 1000))
  while port_in_use "$monport"; do monport=$((monport + 1)); done

  mkdir -p "$d"/{mon,osd0,log,run}
  touch "$d/$MARKER"
  echo "$port" >"$d/port"
  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)

  # The HTTP front end. Up to Ceph 17 this is civetweb: beast there answers an error to a request with a body
  # (a PUT to a missing bucket) without reading the body, and the next request on that keep-alive connection
  # then fails with a bare 400. Ceph 18 dropped civetweb, so beast it is from there on.
  local major frontend
  major=$(radosgw --version 2>/dev/null | sed -n 's/^ceph version \([0-9]*\)\..*/\1/p')
  if [ -n "$major" ] && [ "$major" -le 17 ]; then
    frontend="civetweb port=127.0.0.1:$port num_threads=64"
  else
    frontend="beast endpoint=127.0.0.1:$port"
  fi

  # No cephx (auth none): the cluster is reachable only from this machine and lives for one test run.
  cat >"$d/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$monport
mon initial members = a
ms bind ipv4 = true
ms bind ipv6 = false
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# The OSD's own crush/class updates at start sometimes race its first monitor map ("wrong fsid")
# and fail its start; the OSD is placed in the crush map below instead.
osd crush update on start = false
osd class update on start = false
run dir = $d/run
log file = $d/log/\$name.log
admin socket = $d/run/\$name.asok
[mon.a]
mon data = $d/mon
[osd.0]
osd data = $d/osd0
osd objectstore = memstore
memstore device bytes = ${QUILT_S3_MEMORY_BYTES:-4294967296}
[client.rgw]
rgw frontends = $frontend
CONF

  local c=(-c "$d/ceph.conf")
  # Daemons get their own stdio, so that a caller reading this script's output is not held open by
  # them, and not the lock (fd 9), which would otherwise stay held for as long as they run.
  ceph-authtool --create-keyring "$d/keyring" --gen-key -n mon. --cap mon 'allow *' >>"$d/log/setup.out" 2>&1 ||
    fail_start "$d" "creating the monitor keyring failed"
  monmaptool --create --addv a "[v1:127.0.0.1:$monport]" --fsid "$fsid" "$d/monmap" >>"$d/log/setup.out" 2>&1 ||
    fail_start "$d" "creating the monitor map failed"
  ceph-mon "${c[@]}" --mkfs -i a --monmap "$d/monmap" --keyring "$d/keyring" >>"$d/log/setup.out" 2>&1 ||
    fail_start "$d" "initialising the monitor failed"
  ceph-mon "${c[@]}" -i a --pid-file "$d/mon.pid" 9>&- </dev/null >>"$d/log/mon.out" 2>&1 ||
    fail_start "$d" "starting the monitor failed"
  timeout 60 ceph "${c[@]}" osd new "$osd_uuid" 0 </dev/null >>"$d/log/setup.out" 2>&1 ||
    fail_start "$d" "the monitor did not answer within 60 s"
  timeout 60 ceph "${c[@]}" osd crush add osd.0 1.0 host=localhost root=default </dev/null >>"$d/log/setup.out" 2>&1 ||
    fail_start "$d" "placing the OSD in the crush map failed"
  ceph-osd "${c[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" </dev/null >>"$d/log/setup.out" 2>&1 ||
    fail_start "$d" "initialising the OSD failed"
  ceph-osd "${c[@]}" -i 0 --pid-file "$d/osd.pid" 9>&- </dev/null >>"$d/log/osd.out" 2>&1 ||
    fail_start "$d" "starting the OSD failed"
  radosgw "${c[@]}" -n client.rgw --pid-file "$d/rgw.pid" 9>&- </dev/null >>"$d/log/rgw.out" 2>&1 ||
    fail_start "$d" "starting radosgw failed"

  wait_for 90 curl -sf --max-time 2 "http://127.0.0.1:$port/" ||
    fail_start "$d" "radosgw did not answer on 127.0.0.1:$port within 90 s"
  # Tests make a bucket each and never delete them; radosgw allows a user 1000 by default, which a long-lived server
  # (bench.sh, a developer's) outgrows.
  timeout 60 radosgw-admin "${c[@]}" user create --uid=test --display-name=test \
    --access-key=TESTKEY --secret=TESTSECRET --max-buckets=100000 </dev/null >>"$d/log/setup.out" 2>&1 ||
    fail_start "$d" "creating the S3 user failed"
  ensure_role_user "$d" || fail_start "$d" "creating the second S3 user (role) failed"
  log "running in $d on 127.0.0.1:$port"
  print_env "$port"
}

[ $# -ge 1 ] || usage
case $1 in
  start)
    [ $# -eq 3 ] || usage
    dir=$(realpath -m "$2")
    mkdir -p "$(dirname "$dir")"
    # One start at a time per DIR: a second concurrent start waits and then reuses the first server.
    exec 9>"$dir.lock"
    flock -w 300 9 || die "another start into $dir has held its lock for 5 minutes; stop it first: $0 stop $dir"
    start_server "$dir" "$3"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    stop_server "$(realpath -m "$2")"
    rm -f "$(realpath -m "$2").lock"
    ;;
  *) usage ;;
esac
