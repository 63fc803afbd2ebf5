# Sourced by the service scripts that run a daemon in the background
# (docker.sh, containerd.sh): their state dir, starting, waiting until it answers,
# stopping, and the `start [DIR] | stop DIR` command line. A script defines
# start DIR and stop_daemon DIR, then calls service_main NAME MAXLEN "$@".

# state_dir NAME MAXLEN [DIR]: prints DIR (created) or a new temp dir; refuses one
# longer than MAXLEN (the daemon's unix sockets sit below it, at most 108 bytes).
state_dir() {
  local name=$1 max=$2 d=${3:-}
  if [ -z "$d" ]; then d=$(mktemp -d "${TMPDIR:-/tmp}/stowage-$name.XXXXXX"); else mkdir -p "$d"; fi
  [ ${#d} -le "$max" ] || { echo "$name.sh: state dir path too long for unix sockets: $d" >&2; exit 1; }
  echo "$d"
}

# spawn PIDFILE LOG CMD...: runs CMD in a session of its own (it outlives the
# script and takes none of the caller's signals), output to LOG, its pid to PIDFILE.
spawn() {
  local pidfile=$1 log=$2
  shift 2
  setsid "$@" </dev/null >"$log" 2>&1 &
  echo $! >"$pidfile"
}

# wait_ready NAME PID LOG CMD...: polls CMD every 0.1 s for up to 30 s while PID lives.
# On failure prints the log's tail, stops PID and exits.
wait_ready() {
  local name=$1 pid=$2 log=$3 i
  shift 3
  for i in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$log" >&2
      echo "$name exited during start (log above, $log)" >&2
      exit 1
    fi
    sleep 0.1
  done
  tail -n 30 "$log" >&2
  kill "$pid" 2>/dev/null || true
  echo "$name did not answer within 30 s (log above, $log)" >&2
  exit 1
}

# stop_pidfile FILE: SIGTERM the process whose pid FILE holds, SIGKILL after 15 s.
stop_pidfile() {
  local pid i
  [ -f "$1" ] || return 0
  pid=$(cat "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# service_main NAME MAXLEN start [DIR] | stop DIR: start "$(state_dir …)", or
# stop_daemon DIR then removes DIR (nothing to do when it is gone).
service_main() {
  local name=$1 max=$2 d
  shift 2
  case "${1:-}" in
    start)
      d=$(state_dir "$name" "$max" "${2:-}")
      start "$d"
      ;;
    stop)
      d=${2:-}
      [ -n "$d" ] || { echo "usage: $name.sh start [DIR] | stop DIR" >&2; exit 2; }
      [ -d "$d" ] || return 0
      stop_daemon "$d"
      rm -rf "$d"
      ;;
    *) echo "usage: $name.sh start [DIR] | stop DIR" >&2; exit 2 ;;
  esac
}
