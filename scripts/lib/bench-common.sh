# Shared by the benchmark scripts (sourced, not run): logging, installing the tools, stopping
# only our own processes and cleaning up, free ports, waiting for listeners, CPU samples, the
# nginx origin, starting Tollgate, wrk runs and the report's machine lines.
# The scripts set 'top' (the repository) and 'nio' (options for `tollgate run`) before using it.

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

# --- processes and cleanup -----------------------------------------------------------------------
# Every background process a script starts goes into 'pids', so that cleanup ends exactly those;
# 'tmp' is the script's temp dir, removed on exit.
tmp=""
pids=()

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

cleanup() {
  local rc=$? i f
  trap - EXIT INT TERM
  # Newest first: load generators before Tollgate before nginx, so no client sees its server die.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[$i]}"; done
  if [ "$rc" -ne 0 ] && [ -n "$tmp" ]; then
    # Show why a start-up failed before the logs are removed with the temp dir.
    for f in "$tmp"/tollgate*.log "$tmp/nginx/error.log" "$tmp/nginx/stderr.log"; do
      [ -s "$f" ] && { log "last lines of $f:"; tail -n 20 "$f" >&2; }
    done
  fi
  [ -n "$tmp" ] && rm -rf "$tmp"
  exit "$rc"
}

install_cleanup() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# --- ports ---------------------------------------------------------------------------------------
# Free TCP port outside the ephemeral range (so the load's own client sockets cannot take it).
# nginx cannot listen on port 0 and report the port, so pick one and check it with ss.
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

# --- CPU -----------------------------------------------------------------------------------------
cpu_sample() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }

# How busy the CPUs are before we start anything (1 s sample of /proc/stat): other work on these
# few cores skews the numbers. The load average alone would also count a previous run of this.
# Sets busy_start (%) and load_start.
measure_busy_start() {
  local busy0 idle0 busy1 idle1
  read -r busy0 idle0 < <(cpu_sample); sleep 1; read -r busy1 idle1 < <(cpu_sample)
  busy_start=$(( (busy1 - busy0) * 100 / (busy1 - busy0 + idle1 - idle0 + 1) ))
  load_start=$(cut -d' ' -f1-3 /proc/loadavg)
}

# --- nginx ---------------------------------------------------------------------------------------
# The start of $tmp/nginx/nginx.conf, up to inside 'http {': the caller adds its directives and
# servers and the closing brace. 'user root' only when root: otherwise workers drop to another
# user that cannot read the 0700 temp dir. All temp paths point into the temp dir so nothing
# outside it is written.
nginx_conf_head() {
  local user=""
  [ "$(id -u)" = 0 ] && user="user root;"
  cat <<CONF
$user
daemon off;
master_process on;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  # Keep-alive: do not let nginx close a connection after its default 1000 requests, which
  # would mix handshakes into a keep-alive measurement.
  keepalive_requests 10000000;
  keepalive_timeout 60s;
CONF
}

# nginx in the foreground on $tmp/nginx/nginx.conf (the system nginx service and /etc/nginx are
# not touched); waits until it listens on every port given. Sets nginx_pid.
start_nginx() {   # port...
  local port
  nginx -t -q -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"
  nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
    2>"$tmp/nginx/stderr.log" &
  nginx_pid=$!; pids+=("$nginx_pid")
  for port in "$@"; do
    wait_listening "$port" "$nginx_pid" nginx 10
  done
}

# --- Tollgate ------------------------------------------------------------------------------------
# 'check' first: it builds tollgate.jar if needed (that takes a while the first time) and fails
# fast on a bad config, before anything is timed.
check_tollgate() {   # config...
  local conf
  log "checking Tollgate config (builds tollgate.jar on first use)..."
  for conf in "$@"; do
    "$top/scripts/tollgate" check --config "$conf" >&2
  done
}

# Runs Tollgate on a config (with the options in the 'nio' array), its log in a file, and waits
# until it listens on $tollgate_port. Sets tollgate_pid.
start_tollgate() {   # config log
  "$top/scripts/tollgate" run "${nio[@]}" --config "$1" 2>"$2" &
  tollgate_pid=$!; pids+=("$tollgate_pid")   # the launcher execs java, so this is the JVM
  wait_listening "$tollgate_port" "$tollgate_pid" Tollgate 60
}

# --- measurements --------------------------------------------------------------------------------
# The measuring functions set the global 'result' rather than print it: a $(...) subshell would
# lose what they add to 'pids' (cleanup) and 'wrk_errors' (report).
result=""
wrk_errors=()   # "label: errors" lines for the report

# wrk run, 2 threads, 32 connections; result = Requests/sec. Socket errors and non-2xx answers
# are collected in wrk_errors for the report.
wrk_rate() {   # label url seconds [extra wrk args...]
  local label="$1" url="$2" secs="$3" out rate errs
  shift 3
  out="$tmp/wrk.out"
  # timeout(1) on top of -d: wrk must end even if a connection hangs.
  timeout --kill-after=5 $((secs + 30)) \
    wrk -t2 -c32 -d"${secs}s" --timeout 5s "$@" "$url" >"$out" 2>&1 || {
    log "wrk ($label) failed:"; cat "$out" >&2; return 1; }
  rate=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  [ -n "$rate" ] || { log "wrk ($label) printed no rate:"; cat "$out" >&2; return 1; }
  errs=$(grep -E 'Socket errors|Non-2xx' "$out" | sed 's/^ *//' | paste -sd ';' - || true)
  [ -n "$errs" ] && wrk_errors+=("$label: $errs")
  result="$rate"
}

ratio() {   # a b [decimals] -> a / b, or n/a
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b > 0) printf "%.*f\n", d, a / b; else print "n/a" }'
}

# --- report --------------------------------------------------------------------------------------
machine_line() {
  echo "machine: nproc $(nproc), kernel $(uname -r), CPU busy before start ${busy_start}%, load avg at start ${load_start} / at end ${load_after}"
}

warn_if_busy() {
  if [ "$busy_start" -ge 20 ]; then
    echo "warning: the CPUs were ${busy_start}% busy with other work before the run:"
    echo "         expect noise of tens of percent; rerun when the machine is idle."
  fi
}
