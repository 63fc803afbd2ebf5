#!/usr/bin/env bash
# A real S3 server for tests: Ceph's RADOS Gateway (Debian 12, Ceph 16.2) as a one-node
# cluster on loopback — 1 mon, 1 bluestore OSD in a sparse file, radosgw; no mgr, cephx
# off, replication size 1. About 20 s to start.
#
#   scripts/services/rgw.sh start [DIR]   builds the cluster in DIR (default: a new temp dir),
#                                         starts it, creates a user and a bucket, prints:
#                                           STOWAGE_TEST_S3_ENDPOINT=http://127.0.0.1:PORT
#                                           STOWAGE_TEST_S3_REGION, _BUCKET, _ACCESS_KEY, _SECRET_KEY
#                                           STOWAGE_TEST_S3_DIR=DIR
#   scripts/services/rgw.sh stop DIR      stops the daemons (only the pids in DIR/run) and deletes DIR
#
# Pitfalls met on the way (kept so nobody meets them again):
# - radosgw defaults to ms_mon_client_mode=secure, which cephx-less auth cannot do: crc.
# - without tcp_nodelay small requests wait ~40 ms on delayed ACKs.
# - radosgw hangs in shutdown if the OSD goes first: stop rgw, then osd, then mon.
# - each pool rgw creates is one osdmap epoch: a short paxos_propose_interval saves seconds.
# - the JS SDK v3 must use requestChecksumCalculation/responseChecksumValidation
#   'WHEN_REQUIRED', or streamed PutObject/UploadPart get 411 (radosgw 16 does not know
#   aws-chunked trailing checksums). That is the client's business, not this script's.
set -euo pipefail

AK=stowage-test-access-key
SK=stowage-test-secret-key
BUCKET=stowage-test
TIMEOUT=${RGW_TIMEOUT:-120}
SIZE_GB=${RGW_OSD_SIZE_GB:-40}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
log() { echo "[rgw.sh] $*" >&2; }
pid_of() { # pid file, expected comm → the pid when it still runs that program
  local pid st
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) && [ "$st" != Z ] && echo "$pid"
}
alive() { pid_of "$@" >/dev/null; }

start() {
  local dir=${1:-}
  [ -n "$dir" ] || dir=$(mktemp -d /tmp/stowage-rgw.XXXXXX)
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl; do
    command -v "$b" >/dev/null || { log "$b not found (apt-get install ceph-mon ceph-osd radosgw uuid-runtime curl)"; exit 1; }
  done
  mkdir -p "$dir"/{run,log,mon,osd,rgw}
  local port mon1 mon2 fsid conf="$dir/ceph.conf"
  port=$(free_port); mon1=$(free_port); mon2=$(free_port)
  fsid=$(uuidgen)
  die() {
    log "ERROR: $*"
    for f in "$dir"/log/*.log; do [ -f "$f" ] && { echo "--- tail $f" >&2; tail -n 15 "$f" >&2; }; done
    stop "$dir"
    exit 1
  }
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $dir/keyring
run_dir = $dir/run
admin_socket = $dir/run/\$cluster-\$name.asok
pid_file = $dir/run/\$cluster-\$name.pid
log_file = $dir/log/\$cluster-\$name.log
mon_cluster_log_file = $dir/log/\$cluster.cluster.log
mon_data = $dir/mon/\$cluster-\$id
osd_data = $dir/osd/\$cluster-\$id
rgw_data = $dir/rgw/\$cluster-\$id
exec_dir = $dir/run
crash_dir = $dir/log/crash
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
paxos_propose_interval = 0.1
debug_ms = 0/0
log_to_stderr = false
err_to_stderr = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1

[mon]
mon_initial_members = a

[osd]
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = $((SIZE_GB * 1024 * 1024 * 1024))
bluestore_fsck_on_mount = false
bluestore_fsck_on_mkfs = false
bluestore_cache_autotune = false
bluestore_cache_size = 268435456
osd_memory_target = 1073741824
bdev_aio_poll_ms = 20
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 2
osd_scrub_begin_hour = 0
osd_scrub_end_hour = 0

[client]
log_file = $dir/log/\$cluster-\$name.log
admin_socket = $dir/run/\$cluster-\$name.\$pid.asok

[client.rgw.a]
admin_socket = $dir/run/\$cluster-\$name.asok
rgw_frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
ms_mon_client_mode = crc
rgw_init_timeout = $TIMEOUT
rgw_thread_pool_size = 64
rgw_enable_usage_log = false
rgw_dynamic_resharding = false
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
rgw_gc_processor_max_time = 60
debug_rgw = 1
CONF
  local ceph=(ceph -c "$conf" --connect-timeout 15)
  wait_for() { # what, pid file, comm, probe…
    local what=$1 pidf=$2 comm=$3; shift 3
    local end=$(( $(date +%s) + TIMEOUT ))
    until "$@" >/dev/null 2>&1; do
      alive "$pidf" "$comm" || { sleep 1; alive "$pidf" "$comm" || die "$comm exited while waiting for $what"; }
      [ "$(date +%s)" -lt "$end" ] || die "timed out after ${TIMEOUT}s waiting for $what"
      sleep 0.3
    done
  }

  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
  ceph-mon -c "$conf" -i a >>"$dir/log/start-mon.out" 2>&1 || die "ceph-mon failed"
  wait_for "the mon" "$dir/run/ceph-mon.a.pid" ceph-mon "${ceph[@]}" mon stat

  local uuid; uuid=$(uuidgen)
  mkdir -p "$dir/osd/ceph-0"
  [ "$("${ceph[@]}" osd new "$uuid" 0)" = 0 ] || die "expected osd id 0"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >"$dir/log/osd-mkfs.log" 2>&1 || die "osd mkfs failed"
  ceph-osd -c "$conf" -i 0 >>"$dir/log/start-osd.out" 2>&1 || die "ceph-osd failed"
  osd_up() {
    ceph --admin-daemon "$dir/run/ceph-osd.0.asok" status 2>/dev/null | grep -q '"state": "active"' &&
      "${ceph[@]}" osd dump -f json | grep -q '"osd":0,"uuid":"[^"]*","up":1,"in":1'
  }
  wait_for "osd.0 up+in" "$dir/run/ceph-osd.0.pid" ceph-osd osd_up

  mkdir -p "$dir/rgw/ceph-rgw.a"
  radosgw -c "$conf" -n client.rgw.a >>"$dir/log/start-rgw.out" 2>&1 || die "radosgw failed"
  wait_for "radosgw on 127.0.0.1:$port" "$dir/run/ceph-client.rgw.a.pid" radosgw curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$port/"

  radosgw-admin -c "$conf" -n client.admin user create --uid=stowage --display-name=stowage \
    --access-key="$AK" --secret="$SK" >/dev/null || die "user create failed"
  # curl signs SigV4 itself; radosgw also wants the payload hash header (of the empty body)
  local s3=(curl -s --max-time 30 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK"
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  local code
  code=$("${s3[@]}" -o "$dir/log/bucket-create.out" -w '%{http_code}' -X PUT "http://127.0.0.1:$port/$BUCKET") || code=000
  [ "$code" = 200 ] || die "bucket create returned HTTP $code: $(cat "$dir/log/bucket-create.out" 2>/dev/null)"
  wait_for "bucket $BUCKET" "$dir/run/ceph-client.rgw.a.pid" radosgw "${s3[@]}" -f -o /dev/null -I "http://127.0.0.1:$port/$BUCKET"

  echo "STOWAGE_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
  echo "STOWAGE_TEST_S3_REGION=us-east-1"
  echo "STOWAGE_TEST_S3_BUCKET=$BUCKET"
  echo "STOWAGE_TEST_S3_ACCESS_KEY=$AK"
  echo "STOWAGE_TEST_S3_SECRET_KEY=$SK"
  echo "STOWAGE_TEST_S3_DIR=$dir"
}

stop() {
  local dir=${1:?usage: rgw.sh stop DIR}
  running() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]; }
  # The data goes with DIR, so no clean shutdown is needed: SIGKILL, in the order
  # rgw → osd → mon, and wait for each to be gone.
  local entry pid
  for entry in ceph-client.rgw.a:radosgw ceph-osd.0:ceph-osd ceph-mon.a:ceph-mon; do
    if pid=$(pid_of "$dir/run/${entry%%:*}.pid" "${entry##*:}"); then
      kill -KILL "$pid" 2>/dev/null || true
      while running "$pid"; do sleep 0.1; done
    fi
  done
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2 ;;
esac
