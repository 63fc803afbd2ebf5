# Sourced by the service scripts that run a daemon in the background
# (docker.sh, containerd.sh): waiting until it answers, and stopping it.

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
