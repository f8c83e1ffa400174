#!/usr/bin/env bash
# Benchmark (not a test): what does Tollgate's passthrough relay cost, on loopback?
#
# Starts a throwaway TLS origin (nginx, self-signed cert) and Tollgate in passthrough mode in
# front of it, then measures with the same tool and parameters, once direct to nginx and once
# through Tollgate:
#   1. bulk throughput      N parallel curl downloads of a large sparse file   (MB/s, 1 MB = 10^6 B)
#   2. new TLS connections  wrk with 'Connection: close': each request is a new TCP + TLS handshake
#   3. keep-alive requests  wrk on kept-alive connections: per-request relay cost, no handshakes
# and prints a table with the ratios (through Tollgate / direct).
#
# Everything runs on 127.0.0.1, every load loop is bounded in count and time, and everything the
# script starts (nginx, Tollgate, load generators) and its temp dir are removed on exit.
# Missing tools are installed with apt-get (as root). The system nginx service and /etc/nginx
# are not touched: nginx runs in the foreground on a config in the temp dir.
#
# Usage: scripts/bench-passthrough.sh [--duration N] [--quick] [--bulk-size SIZE]
#                                     [--streams N] [--nio] [-h]
# Env:   TOLLGATE_JAVA_OPTS   JVM options for Tollgate (default: -Xms512m -Xmx512m)
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'EOF'
Usage: scripts/bench-passthrough.sh [options]
Measure bulk throughput, new-TLS-connection rate and keep-alive request rate on loopback,
direct to an nginx TLS origin and through Tollgate (passthrough), and print the ratios.

  --duration N      seconds per wrk measurement (default 10)
  --quick           short run: 3 s per wrk measurement, 256M bulk file, 2 s warm-up
  --bulk-size SIZE  size of the bulk file, as for truncate(1) (default 1G)
  --streams N       parallel curl downloads in the bulk test (default 2)
  --nio             run Tollgate with the JDK NIO transport instead of epoll
  -h, --help        show this help

Env: TOLLGATE_JAVA_OPTS (default "-Xms512m -Xmx512m").
The machine's cores are shared by nginx, Tollgate and the load generator: compare the
ratios, not the absolute numbers.
EOF
}

duration=10
warmup=5
bulk_size=1G
streams=2
nio=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration)
      [ $# -ge 2 ] || { echo "bench: --duration needs a value" >&2; exit 2; }
      duration="$2"; shift 2 ;;
    --duration=*) duration="${1#*=}"; shift ;;
    --quick) duration=3; warmup=2; bulk_size=256M; shift ;;
    --bulk-size)
      [ $# -ge 2 ] || { echo "bench: --bulk-size needs a value" >&2; exit 2; }
      bulk_size="$2"; shift 2 ;;
    --bulk-size=*) bulk_size="${1#*=}"; shift ;;
    --streams)
      [ $# -ge 2 ] || { echo "bench: --streams needs a value" >&2; exit 2; }
      streams="$2"; shift 2 ;;
    --streams=*) streams="${1#*=}"; shift ;;
    --nio) nio=(--nio); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
# Bounded loops need sane numbers: reject anything that is not a small positive integer.
for v in "$duration" "$streams"; do
  if ! [[ "$v" =~ ^[0-9]+$ ]] || [ "$v" -lt 1 ] || [ "$v" -gt 600 ]; then
    echo "bench: --duration and --streams must be integers from 1 to 600 (got '$v')" >&2
    exit 2
  fi
done
if ! [[ "$bulk_size" =~ ^[0-9]+[KMG]?$ ]]; then
  echo "bench: --bulk-size must look like 512M or 1G (got '$bulk_size')" >&2
  exit 2
fi

# shellcheck source=lib/bench-common.sh
source "$(dirname "$0")/lib/bench-common.sh"
install_cleanup

# --- measurements -------------------------------------------------------------------------------
big_bytes=0

# Bulk: $streams parallel downloads of /big; aggregate MB/s = all bytes / wall time of the batch.
# Each download must be complete (size check), so a relay that drops bytes cannot look fast.
bulk() {   # port -> result = MB/s
  local port="$1" i start end total=0 n bpids=()
  start=$(date +%s.%N)
  for ((i = 0; i < streams; i++)); do
    curl -k -sS -o /dev/null --connect-timeout 5 --max-time 300 \
      --resolve "bench.test:$port:127.0.0.1" -w '%{size_download}\n' \
      "https://bench.test:$port/big" >"$tmp/bulk.$i" &
    bpids+=($!); pids+=($!)
  done
  for ((i = 0; i < streams; i++)); do
    wait "${bpids[$i]}" || { log "curl #$i to port $port failed"; return 1; }
  done
  end=$(date +%s.%N)
  for ((i = 0; i < streams; i++)); do
    n=$(cat "$tmp/bulk.$i")
    if [ "$n" != "$big_bytes" ]; then
      log "curl #$i to port $port got $n bytes, expected $big_bytes"
      return 1
    fi
    total=$((total + n))
  done
  result=$(awk -v b="$total" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", b / 1e6 / (e - s) }')
}

# wrk on the small page at a port; result = Requests/sec.
wrk_port() {   # label port seconds [extra wrk args...]
  local label="$1" port="$2"
  shift 2
  wrk_rate "$label" "https://127.0.0.1:$port/small" "$@"
}

# --- main ---------------------------------------------------------------------------------------
ensure_tools
measure_busy_start
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")"
mkdir -p "$tmp/nginx/www"

nginx_port=$(pick_port)
tollgate_port=$(pick_port "$nginx_port")

# Throwaway self-signed cert; nginx does all the TLS, Tollgate only relays the bytes.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench.test \
  -addext subjectAltName=DNS:bench.test \
  -keyout "$tmp/nginx/key.pem" -out "$tmp/nginx/cert.pem" 2>/dev/null

# Small page for the request-rate tests; a sparse file for bulk (no disk I/O: the kernel hands
# out zero pages, so the cost measured is TLS + the network path).
head -c 512 /dev/zero | tr '\0' 'x' >"$tmp/nginx/www/small"
truncate -s "$bulk_size" "$tmp/nginx/www/big"
big_bytes=$(stat -c %s "$tmp/nginx/www/big")

{
  nginx_conf_head
  cat <<EOF
  server {
    listen 127.0.0.1:$nginx_port ssl;
    server_name bench.test;
    ssl_certificate $tmp/nginx/cert.pem;
    ssl_certificate_key $tmp/nginx/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    # Every new connection is a full handshake (wrk does not resume sessions anyway).
    ssl_session_tickets off;
    ssl_session_cache off;
    root $tmp/nginx/www;
    location / { }
  }
}
EOF
} >"$tmp/nginx/nginx.conf"
start_nginx "$nginx_port"

cat >"$tmp/tollgate.conf" <<EOF
tollgate {
  listeners = [ { name = bench, address = "127.0.0.1:$tollgate_port" } ]
  routes = [ { hosts = ["bench.test"], mode = passthrough, pool = origin } ]
  # Clients connecting by IP (wrk) send no usable SNI: they take the default route.
  default-route { pool = origin }
  pools { origin { servers = ["127.0.0.1:$nginx_port"] } }
  # Every load generator connects from 127.0.0.1: per-source limits would measure themselves.
  limits.per-source { max-connections = 0, new-per-second = 0 }
}
EOF
check_tollgate "$tmp/tollgate.conf"
export TOLLGATE_JAVA_OPTS="${TOLLGATE_JAVA_OPTS:--Xms512m -Xmx512m}"
start_tollgate "$tmp/tollgate.conf" "$tmp/tollgate.log"

# Both paths must serve the page before anything is timed.
for port in "$nginx_port" "$tollgate_port"; do
  body=$(curl -k -sS --connect-timeout 5 --max-time 10 --resolve "bench.test:$port:127.0.0.1" \
    "https://bench.test:$port/small")
  [ "${#body}" -eq 512 ] || { log "sanity fetch on port $port returned ${#body} bytes"; exit 1; }
done

# JIT warm-up through Tollgate: handshake path, keep-alive path and a bulk transfer.
log "warming up Tollgate (${warmup}s x2 + one bulk transfer)..."
wrk_port warmup-close "$tollgate_port" "$warmup" -H 'Connection: close'
wrk_port warmup-keepalive "$tollgate_port" "$warmup"
saved_streams=$streams; streams=1
bulk "$tollgate_port"
streams=$saved_streams
wrk_errors=()   # errors during warm-up are not part of the results

log "bulk: $streams x $bulk_size, direct..."
bulk "$nginx_port"; bulk_direct=$result
log "bulk: through Tollgate..."
bulk "$tollgate_port"; bulk_tg=$result
log "new connections: ${duration}s, direct..."
wrk_port "conn direct" "$nginx_port" "$duration" -H 'Connection: close'; conn_direct=$result
log "new connections: ${duration}s, through Tollgate..."
wrk_port "conn tollgate" "$tollgate_port" "$duration" -H 'Connection: close'; conn_tg=$result
log "keep-alive: ${duration}s, direct..."
wrk_port "keepalive direct" "$nginx_port" "$duration"; ka_direct=$result
log "keep-alive: ${duration}s, through Tollgate..."
wrk_port "keepalive tollgate" "$tollgate_port" "$duration"; ka_tg=$result
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report -------------------------------------------------------------------------------------
transport=$(grep -o 'transport [A-Za-z_]*' "$tmp/tollgate.log" | head -n 1 | cut -d' ' -f2 || true)
java_version=$(java -version 2>&1 | head -n 1)
tls=$(openssl s_client -brief -connect "127.0.0.1:$tollgate_port" -servername bench.test \
        </dev/null 2>&1 | awk -F': ' '/^Protocol version|^Ciphersuite/ { print $2 }' | paste -sd ' ' - || true)

echo
echo "Tollgate passthrough benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), loopback 127.0.0.1)"
printf '%-34s %14s %16s %8s\n' metric direct "via Tollgate" ratio
printf '%-34s %14s %16s %8s\n' "bulk MB/s ($streams x $bulk_size)" "$bulk_direct" "$bulk_tg" \
  "$(ratio "$bulk_tg" "$bulk_direct")"
printf '%-34s %14s %16s %8s\n' "new TLS conns/s (wrk close, ${duration}s)" "$conn_direct" \
  "$conn_tg" "$(ratio "$conn_tg" "$conn_direct")"
printf '%-34s %14s %16s %8s\n' "keep-alive req/s (wrk, ${duration}s)" "$ka_direct" "$ka_tg" \
  "$(ratio "$ka_tg" "$ka_direct")"
echo "ratio = via Tollgate / direct (1.00 = no cost). wrk: 2 threads, 32 connections, 512 B page."
if [ ${#wrk_errors[@]} -gt 0 ]; then
  echo "wrk errors:"
  printf '  %s\n' "${wrk_errors[@]}"
fi
machine_line
echo "java: ${java_version}; TOLLGATE_JAVA_OPTS: ${TOLLGATE_JAVA_OPTS}; transport: ${transport:-unknown}"
echo "origin: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(openssl version | cut -d' ' -f1-2), TLS: ${tls:-unknown}"
echo "note: nginx, Tollgate and the load generators share these $(nproc) cores on one machine:"
echo "      the ratios matter more than the absolute numbers."
warn_if_busy
