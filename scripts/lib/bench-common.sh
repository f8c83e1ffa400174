# Shared by the benchmark scripts (sourced, not run): logging, installing the tools, stopping
# only our own processes, free ports, waiting for listeners, CPU samples.

log() { echo "bench: $*" >&2; }

# command -> Debian package. apt-get update runs at most once, and only if something is missing.
ensure_tools() {
  local -A pkg=([nginx]=nginx [wrk]=wrk [openssl]=openssl [curl]=curl [ss]=iproute2
                [timeout]=coreutils [java]=default-jdk-headless)
  local missing=() cmd
  for cmd in "${!pkg[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg[$cmd]}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing packages: ${missing[*]}; install them (apt-get install ${missing[*]}) and rerun"
    exit 1
  fi
  log "installing: ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

stop_pid() {     # TERM, wait up to 5 s, then KILL; only ever for a pid this script started
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

pick_port() {   # [ports to avoid...] -> prints a free port. Called in $(...), a subshell, so
                # the ports picked before are passed in: nothing is bound to them yet.
  local p i avoid=" $* "
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    [[ "$avoid" == *" $p "* ]] && continue
    if [ -z "$(ss -ltnH "( sport = :$p )")" ]; then
      echo "$p"
      return 0
    fi
  done
  log "no free port found"
  return 1
}

listening() { [ -n "$(ss -ltnH "( sport = :$1 )")" ]; }

wait_listening() {   # port pid what seconds
  local port="$1" pid="$2" what="$3" secs="$4" i
  for ((i = 0; i < secs * 10; i++)); do
    listening "$port" && return 0
    kill -0 "$pid" 2>/dev/null || { log "$what exited during start-up"; return 1; }
    sleep 0.1
  done
  log "$what did not listen on 127.0.0.1:$port within ${secs}s"
  return 1
}

cpu_sample() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }
