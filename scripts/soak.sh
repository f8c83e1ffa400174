#!/usr/bin/env bash
# Soak test on loopback: a mixed load through one Tollgate for a given time, with a config reload
# every 3 s and Netty's leak detector at 'advanced'; fails on anything that went wrong.
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'EOF'
Usage: scripts/soak.sh [seconds] [--nio]
Runs a mixed load through Tollgate on loopback for the given time (default 60, at most 3600):
  - passthrough connection churn: wrk, one new TLS connection per request (Connection: close),
    to nginx over TLS; Tollgate runs 2 event loops (io.worker-threads = 2);
  - offload (to nginx in plaintext) and reencrypt (to nginx over verified TLS) requests with
    curl: keep-alive pairs, 'Connection: close', HTTP/1.0, and 4 MiB downloads whose size and
    SHA-256 are checked;
  - SIGHUP (config reload) every 3 s;
  - Netty's leak detector at 'advanced'.
Exits 1 if the log shows an exception that reached the tail of a pipeline, an ERROR line, a
leak report ('LEAK:') or an unexpected error (close reason internal_error), if any client
connection failed, if a reload failed, or if Tollgate's
open file descriptors do not return to their baseline once the load has stopped. Prints a
summary: connections per kind, close reasons, failures, reloads, descriptors.

Env: TOLLGATE_JAVA_OPTS (default "-Xms256m -Xmx256m"; the leak detector option is added).
EOF
}

seconds=60
nio=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --nio) nio=(--nio); shift ;;
    *)
      if [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 5 ] && [ "$1" -le 3600 ]; then
        seconds="$1"; shift
      else
        echo "soak: seconds must be an integer from 5 to 3600 (got '$1')" >&2; usage >&2; exit 2
      fi ;;
  esac
done

source "$(dirname "$0")/lib/bench-common.sh"
log() { echo "soak: $*" >&2; }
install_cleanup
ensure_tools
command -v sha256sum >/dev/null || { log "sha256sum (coreutils) is needed"; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-soak.XXXXXX")"
mkdir -p "$tmp/nginx/www" "$tmp/out"
nginx_tls=$(pick_port)
nginx_plain=$(pick_port "$nginx_tls")
tollgate_port=$(pick_port "$nginx_tls" "$nginx_plain")

# --- certificates: one private CA; nginx holds pass.test and re.test, Tollgate off.test, re.test
cd "$tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
  -subj "/CN=Tollgate soak CA" -keyout ca.key -out ca.pem 2>/dev/null
issue() {   # name dns...
  local name="$1" san
  shift
  san=$(printf 'DNS:%s,' "$@"); san=${san%,}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$name.key" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 \
    -extfile <(printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$san") \
    -out "$name.pem" 2>/dev/null
}
issue origin pass.test re.test
issue front off.test re.test
cd "$top"

head -c 1024 /dev/urandom >"$tmp/nginx/www/small"
head -c $((4 << 20)) /dev/urandom >"$tmp/nginx/www/big"
big_sha=$(sha256sum "$tmp/nginx/www/big" | cut -d' ' -f1)
big_bytes=$((4 << 20))

{
  nginx_conf_head
  cat <<EOF
  server {
    listen 127.0.0.1:$nginx_tls ssl;
    ssl_certificate $tmp/origin.pem;
    ssl_certificate_key $tmp/origin.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $tmp/nginx/www;
    location = /hello { return 200 "hello\n"; }
  }
  server {
    listen 127.0.0.1:$nginx_plain;
    root $tmp/nginx/www;
    location = /hello { return 200 "hello\n"; }
  }
}
EOF
} >"$tmp/nginx/nginx.conf"
start_nginx "$nginx_tls" "$nginx_plain"

cat >"$tmp/tollgate.conf" <<EOF
tollgate {
  listeners = [ { name = soak, address = "127.0.0.1:$tollgate_port" } ]
  io { worker-threads = 2 }
  access-log { path = "access.log" }
  limits.per-source { max-connections = 0, new-per-second = 0 }
  certificates { trusted-roots = "ca.pem" }
  routes = [
    { hosts = ["pass.test"], mode = passthrough, pool = tls }
    { hosts = ["off.test"], mode = offload, pool = plain,
      certificate { chain = "front.pem", key = "front.key" } }
    { hosts = ["re.test"], mode = reencrypt, pool = retls,
      certificate { chain = "front.pem", key = "front.key" } }
  ]
  # wrk sends no SNI to 127.0.0.1: its connections are the passthrough churn.
  default-route { pool = tls }
  pools {
    tls { servers = ["127.0.0.1:$nginx_tls"] }
    plain { servers = ["127.0.0.1:$nginx_plain"] }
    retls { servers = ["127.0.0.1:$nginx_tls"], tls { ca = "ca.pem" } }
  }
}
EOF
check_tollgate "$tmp/tollgate.conf"
export TOLLGATE_JAVA_OPTS="${TOLLGATE_JAVA_OPTS:--Xms256m -Xmx256m} -Dio.netty.leakDetection.level=advanced"
start_tollgate "$tmp/tollgate.conf" "$tmp/tollgate.log"

# --- one request of each kind, then the descriptor baseline
curl_base=(curl -sS --connect-timeout 5 --max-time 30 --cacert "$tmp/ca.pem")
resolve() { echo "--resolve" "$1:$tollgate_port:127.0.0.1"; }
for host in pass.test off.test re.test; do
  # shellcheck disable=SC2046
  body=$("${curl_base[@]}" $(resolve "$host") "https://$host:$tollgate_port/hello") ||
    { log "first request to $host failed"; exit 1; }
  [ "$body" = "hello" ] || { log "first request to $host answered '$body'"; exit 1; }
done
fds() { find "/proc/$tollgate_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sleep 1
fd_baseline=$(fds)
log "Tollgate pid $tollgate_pid on 127.0.0.1:$tollgate_port, $fd_baseline fds; load for ${seconds}s..."

end_at=$(( $(date +%s) + seconds ))

# --- load 1: passthrough churn (wrk, Connection: close)
timeout --kill-after=5 $((seconds + 30)) wrk -t2 -c16 -d"${seconds}s" --timeout 5s \
  -H 'Connection: close' "https://127.0.0.1:$tollgate_port/small" >"$tmp/wrk.out" 2>&1 &
wrk_pid=$!; pids+=("$wrk_pid")

# --- load 2 and 3: curl loops for offload and reencrypt; each request's outcome is one line
curl_loop() {   # host -> lines "ok KIND" / "fail KIND detail" in $tmp/out/HOST
  local host="$1" out="$tmp/out/$1" i=0 kind r got
  local -a c=("${curl_base[@]}" --resolve "$host:$tollgate_port:127.0.0.1")
  local url="https://$host:$tollgate_port"
  set +e   # a failed request is counted, not the end of the loop
  while [ "$(date +%s)" -lt "$end_at" ]; do
    i=$((i + 1))
    case $((i % 4)) in
      0) kind=keepalive
         r=$("${c[@]}" -o /dev/null -o /dev/null -w '%{http_code} ' "$url/small" "$url/hello" 2>&1) &&
           [ "$r" = "200 200 " ] ;;
      1) kind=connection-close
         r=$("${c[@]}" -H 'Connection: close' "$url/hello" 2>&1) && [ "$r" = "hello" ] ;;
      2) kind=http1.0
         r=$("${c[@]}" --http1.0 -o /dev/null -w '%{http_code} %{size_download}' "$url/small" 2>&1) &&
           [ "$r" = "200 1024" ] ;;
      3) kind=download
         r=$("${c[@]}" --http1.0 "$url/big" 2>&1 | sha256sum | cut -d' ' -f1) &&
           [ "$r" = "$big_sha" ] ;;
    esac
    # shellcheck disable=SC2181
    if [ $? -eq 0 ]; then echo "ok $kind"; else echo "fail $kind ${r//$'\n'/ }"; fi
  done >"$out"
}
curl_loop off.test & pids+=($!); off_pid=$!
curl_loop re.test & pids+=($!); re_pid=$!

# --- reloads every 3 s while the load runs
reloads=0
while [ "$(date +%s)" -lt "$end_at" ]; do
  sleep 3
  [ "$(date +%s)" -lt "$end_at" ] || break
  kill -HUP "$tollgate_pid"
  reloads=$((reloads + 1))
done

wait "$off_pid" || true
wait "$re_pid" || true
wait "$wrk_pid" || { log "wrk failed:"; cat "$tmp/wrk.out" >&2; }

# --- after the load: descriptors back to the baseline (open connections drain first)
fd_end=$(fds)
for ((i = 0; i < 150 && fd_end > fd_baseline; i++)); do
  sleep 0.1
  fd_end=$(fds)
done
sleep 1   # the access log is written when a connection closes

# --- verdict
failures=()
wrk_requests=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
wrk_errors=$(grep -E 'Socket errors|Non-2xx' "$tmp/wrk.out" | sed 's/^ *//' | paste -sd ';' - || true)
[ -n "$wrk_requests" ] || failures+=("wrk printed no result: $(tr '\n' ' ' <"$tmp/wrk.out")")
[ -z "$wrk_errors" ] || failures+=("wrk: $wrk_errors")
for host in off.test re.test; do
  n_fail=$(grep -c '^fail' "$tmp/out/$host" || true)
  if [ "$n_fail" -gt 0 ]; then
    failures+=("$host: $n_fail failed request(s), first: $(grep -m1 '^fail' "$tmp/out/$host")")
  fi
done
tail_count=$(grep -c 'reached at the tail of the pipeline' "$tmp/tollgate.log" || true)
error_count=$(grep -c '^[0-9:.]* ERROR ' "$tmp/tollgate.log" || true)
leak_count=$(grep -c 'LEAK:' "$tmp/tollgate.log" || true)
# Tollgate logs an exception it has no close reason for as "unexpected" (reason internal_error).
unexpected_count=$(grep -c ' WARN .*unexpected' "$tmp/tollgate.log" || true)
internal_count=$(grep -c '"reason":"internal_error"' "$tmp/access.log" || true)
[ "$tail_count" -eq 0 ] || failures+=("$tail_count exception(s) reached the tail of a pipeline")
[ "$error_count" -eq 0 ] || failures+=("$error_count ERROR line(s) in the log")
[ "$leak_count" -eq 0 ] || failures+=("$leak_count leak report(s)")
[ "$unexpected_count" -eq 0 ] || failures+=("$unexpected_count unexpected error(s) logged")
[ "$internal_count" -eq 0 ] || failures+=("$internal_count connection(s) closed as internal_error")
reloaded=$(grep -c 'Reloaded ' "$tmp/tollgate.log" || true)
[ "$reloaded" -eq "$reloads" ] || failures+=("$reloads SIGHUP(s) sent, $reloaded reload(s) logged")
[ "$fd_end" -le "$fd_baseline" ] ||
  failures+=("file descriptors: $fd_baseline at the start, still $fd_end 15 s after the load")
kill -0 "$tollgate_pid" 2>/dev/null || failures+=("Tollgate exited")

echo "soak: ${seconds}s, Tollgate with 2 event loops, leak detection advanced, reload every 3 s"
echo "connections per kind (access log, mode):"
grep -o '"mode":"[a-z]*"' "$tmp/access.log" | sort | uniq -c | sed 's/"mode"://; s/"//g; s/^/  /'
echo "close reasons per mode (access log):"
sed -n 's/.*"mode":"\([a-z]*\)".*"reason":"\([a-z_]*\)".*/\1 \2/p' "$tmp/access.log" |
  sort | uniq -c | sort -k2,2 -k1,1rn | sed 's/^/  /'
echo "clients: wrk passthrough churn ${wrk_requests:-?} requests (errors: ${wrk_errors:-none})"
for host in off.test re.test; do
  echo "  curl $host: $(grep -c '^ok' "$tmp/out/$host" || true) ok, $(grep -c '^fail' "$tmp/out/$host" || true) failed ($(awk '{ print $2 }' "$tmp/out/$host" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep=", " }'))"
done
echo "reloads: $reloads SIGHUP sent, $reloaded logged as done"
echo "log: $tail_count unhandled (tail of pipeline), $error_count ERROR, $leak_count LEAK, $unexpected_count unexpected"
echo "file descriptors: baseline $fd_baseline, after the load $fd_end"
unusual=$(grep -v -E '"reason":"(client|backend)_(closed|reset)"' "$tmp/access.log" | head -n 5 || true)
if [ -n "$unusual" ]; then
  echo "connections with other reasons (first 5):"
  sed 's/^/  /' <<<"$unusual"
fi
if [ ${#failures[@]} -gt 0 ]; then
  echo "FAILED:"
  printf '  %s\n' "${failures[@]}"
  log "first unhandled/ERROR/LEAK lines of the log:"
  grep -m 5 -A 8 -E 'reached at the tail|^[0-9:.]* ERROR |LEAK:| WARN .*unexpected' \
    "$tmp/tollgate.log" >&2 || true
  # At -Dtollgate.log.level=debug: exceptions on a backend channel while connecting.
  grep -m 5 -A 6 'failed before the relay was wired' "$tmp/tollgate.log" >&2 || true
  exit 1
fi
echo "PASSED"
