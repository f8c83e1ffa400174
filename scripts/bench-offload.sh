#!/usr/bin/env bash
# Benchmark (not a test): what does TLS offload in Tollgate cost, on loopback?
#
# Starts a plaintext HTTP origin (nginx: a small page and a large sparse file) and Tollgate with
# one offload route in front of it, once with an ECDSA P-256 certificate and once with an
# RSA-2048 one (certificates made here with openssl), and measures:
#   1. full handshakes/s    wrk with 'Connection: close': every request is a new TCP connection
#                           and a FULL TLS handshake. wrk would resume sessions if it could (it
#                           keeps the last session across reconnects), so the benchmark config
#                           turns resumption off in Tollgate (tls.session-tickets = false,
#                           tls.session-cache-size = 0), and checks that with openssl s_client
#                           -reconnect before measuring. The same is measured against nginx
#                           terminating TLS itself with the same certificate, for reference.
#   2. bulk throughput      one curl download of a large file through offload (MB/s, 10^6 B),
#                           next to the same download straight from the plaintext origin
# next to 'openssl speed' for the same key (sign/s, verify/s; one core) and for the AEAD the
# bulk transfer negotiated, and prints a table with the ratios.
#
# Everything runs on 127.0.0.1, every load loop is bounded in count and time, and everything the
# script starts (nginx, Tollgate, load generators) and its temp dir are removed on exit.
# Missing tools are installed with apt-get (as root). The system nginx service and /etc/nginx
# are not touched: nginx runs in the foreground on a config in the temp dir.
#
# Usage: scripts/bench-offload.sh [--duration N] [--quick] [--bulk-size SIZE] [--nio] [-h]
# Env:   TOLLGATE_JAVA_OPTS   JVM options for Tollgate (default: -Xms512m -Xmx512m)
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'EOF'
Usage: scripts/bench-offload.sh [options]
Measure the full-TLS-handshake rate (ECDSA P-256 and RSA-2048 certificates) and bulk throughput
through a Tollgate offload route on loopback, next to 'openssl speed' for the same keys, and
print the ratios.

  --duration N      seconds per wrk measurement and per 'openssl speed' test (default 10)
  --quick           short run: 3 s per wrk measurement, 2 s per speed test, 256M bulk file,
                    8 s warm-up (instead of 12)
  --bulk-size SIZE  size of the bulk file, as for truncate(1) (default 1G)
  --nio             run Tollgate with the JDK NIO transport instead of epoll
  -h, --help        show this help

Env: TOLLGATE_JAVA_OPTS (default "-Xms512m -Xmx512m").
The machine's cores are shared by nginx, Tollgate and the load generator: compare the
ratios, not the absolute numbers.
EOF
}

duration=10
speed_secs=10
# The handshake path needs ~10 s of load before the JIT is done with it (measured: 530, 780,
# 1180, 1670 handshakes/s in four 3 s runs from a cold start), so the warm-up is not shortened
# much by --quick.
warmup=12
bulk_size=1G
nio=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration)
      [ $# -ge 2 ] || { echo "bench: --duration needs a value" >&2; exit 2; }
      duration="$2"; speed_secs="$2"; shift 2 ;;
    --duration=*) duration="${1#*=}"; speed_secs="$duration"; shift ;;
    --quick) duration=3; speed_secs=2; warmup=8; bulk_size=256M; shift ;;
    --bulk-size)
      [ $# -ge 2 ] || { echo "bench: --bulk-size needs a value" >&2; exit 2; }
      bulk_size="$2"; shift 2 ;;
    --bulk-size=*) bulk_size="${1#*=}"; shift ;;
    --nio) nio=(--nio); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
# Bounded loops need sane numbers: reject anything that is not a small positive integer.
if ! [[ "$duration" =~ ^[0-9]+$ ]] || [ "$duration" -lt 1 ] || [ "$duration" -gt 600 ]; then
  echo "bench: --duration must be an integer from 1 to 600 (got '$duration')" >&2
  exit 2
fi
if ! [[ "$bulk_size" =~ ^[0-9]+[KMG]?$ ]]; then
  echo "bench: --bulk-size must look like 512M or 1G (got '$bulk_size')" >&2
  exit 2
fi

# shellcheck source=lib/bench-common.sh
source "$(dirname "$0")/lib/bench-common.sh"
install_cleanup

# --- measurements -------------------------------------------------------------------------------
big_bytes=0

# Bulk: one download of /big; MB/s = bytes / wall time. The download must be complete (size
# check), so a relay that drops bytes cannot look fast.
bulk() {   # url -> result = MB/s
  local url="$1" start end n cpid
  start=$(date +%s.%N)
  curl -sS -o /dev/null --connect-timeout 5 --max-time 600 --cacert "$tmp/ca.pem" \
    -w '%{size_download}\n' "$url" >"$tmp/bulk.out" &
  cpid=$!; pids+=("$cpid")
  wait "$cpid" || { log "curl $url failed"; return 1; }
  end=$(date +%s.%N)
  n=$(cat "$tmp/bulk.out")
  if [ "$n" != "$big_bytes" ]; then
    log "curl $url got $n bytes, expected $big_bytes"
    return 1
  fi
  result=$(awk -v b="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", b / 1e6 / (e - s) }')
}

# wrk with 'Connection: close' on the small page; result = Requests/sec = new TLS
# connections/s. 'localhost' in the URL is the SNI wrk sends (it has no option for another), so
# the route is for localhost.
wrk_close_rate() {   # label port seconds
  wrk_rate "$1" "https://localhost:$2/small" "$3" -H 'Connection: close'
}

# 'openssl speed' on one core: sets speed_sign and speed_verify (operations/s).
speed_sign=""; speed_verify=""
speed_keys() {   # ecdsap256 | rsa2048
  local alg="$1" out
  out=$(timeout $((speed_secs * 2 + 30)) openssl speed -seconds "$speed_secs" "$alg" 2>/dev/null)
  case "$alg" in
    ecdsap256) read -r speed_sign speed_verify < <(awk '/ecdsa \(nistp256\)/ { print $(NF-1), $NF }' <<<"$out") ;;
    rsa2048) read -r speed_sign speed_verify < <(awk '/^rsa 2048 bits/ { print $(NF-1), $NF }' <<<"$out") ;;
  esac
  [ -n "$speed_sign" ] || { log "openssl speed $alg printed no figures"; return 1; }
}

# Key agreement each full handshake also does (X25519 is what wrk and curl offer first).
speed_x25519() {   # -> result = op/s
  local out
  out=$(timeout $((speed_secs + 30)) openssl speed -seconds "$speed_secs" ecdhx25519 2>/dev/null)
  result=$(awk '/X25519/ { print $NF }' <<<"$out")
  [ -n "$result" ] || result="n/a"
}

# AEAD throughput for 16 KiB records (the TLS record size), one core, MB/s (10^6 B).
speed_aead() {   # evp cipher name, e.g. aes-128-gcm -> result = MB/s
  local cipher="$1" out
  out=$(timeout $((speed_secs + 30)) openssl speed -seconds "$speed_secs" -bytes 16384 \
          -evp "$cipher" 2>/dev/null)
  result=$(awk 'END { v = $NF; sub(/k$/, "", v); printf "%.1f", v / 1000 }' <<<"$out")
}

# How many of 6 connections s_client -reconnect resumed (0 when resumption is off).
resumed_count() {   # port
  timeout 30 openssl s_client -connect "127.0.0.1:$1" -servername localhost -reconnect \
    </dev/null 2>/dev/null | grep -c '^Reused,' || true
}

# --- main ---------------------------------------------------------------------------------------
ensure_tools
measure_busy_start
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-offload.XXXXXX")"
mkdir -p "$tmp/nginx/www"

origin_port=$(pick_port)
nginx_ec_port=$(pick_port "$origin_port")
nginx_rsa_port=$(pick_port "$origin_port" "$nginx_ec_port")
tollgate_port=$(pick_port "$origin_port" "$nginx_ec_port" "$nginx_rsa_port")

# --- certificates: a throwaway CA and one leaf per key type, all for 'localhost' ---------------
log "making certificates (CA, ECDSA P-256 and RSA-2048 leaves for localhost)..."
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
  -subj "/CN=Tollgate bench CA" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
for kind in ec rsa; do
  if [ "$kind" = ec ]; then
    newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); usage=digitalSignature
  else
    newkey=(-newkey rsa:2048); usage=digitalSignature,keyEncipherment
  fi
  openssl req -new "${newkey[@]}" -nodes -subj /CN=localhost \
    -keyout "$tmp/$kind.key" -out "$tmp/$kind.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,%s\nextendedKeyUsage=serverAuth\n' \
    "$usage" >"$tmp/$kind.ext"
  openssl x509 -req -in "$tmp/$kind.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 90 -extfile "$tmp/$kind.ext" -out "$tmp/$kind.pem" 2>/dev/null
  chmod 600 "$tmp/$kind.key"
done

# --- origin: plaintext for Tollgate, and TLS on two more ports for the nginx reference ----------
# Small page for the handshake test; a sparse file for bulk (no disk I/O: the kernel hands out
# zero pages, so the cost measured is TLS + the network path).
head -c 512 /dev/zero | tr '\0' 'x' >"$tmp/nginx/www/small"
truncate -s "$bulk_size" "$tmp/nginx/www/big"
big_bytes=$(stat -c %s "$tmp/nginx/www/big")

tls_server() {   # port kind
  cat <<EOF
  server {
    listen 127.0.0.1:$1 ssl;
    ssl_certificate $tmp/$2.pem;
    ssl_certificate_key $tmp/$2.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    # Same rules as Tollgate's bench config: every new connection is a full handshake.
    ssl_session_tickets off;
    ssl_session_cache off;
    root $tmp/nginx/www;
    location / { }
  }
EOF
}
{
  nginx_conf_head
  cat <<EOF
  sendfile on;
  server {
    listen 127.0.0.1:$origin_port;
    root $tmp/nginx/www;
    location / { }
  }
$(tls_server "$nginx_ec_port" ec)
$(tls_server "$nginx_rsa_port" rsa)
}
EOF
} >"$tmp/nginx/nginx.conf"
start_nginx "$origin_port" "$nginx_ec_port" "$nginx_rsa_port"

for kind in ec rsa; do
  cat >"$tmp/tollgate-$kind.conf" <<EOF
tollgate {
  listeners = [ { name = bench, address = "127.0.0.1:$tollgate_port" } ]
  # This script warms Tollgate up itself and reports the rate during that warm-up: no start-up
  # warm-up (the default under tollgate run), so that row still shows a cold JIT.
  warmup.handshakes = 0
  certificates { trusted-roots = "ca.pem" }
  # No resumption: wrk keeps the last session across reconnects and would resume it, and a
  # resumed handshake is not what this measures.
  tls { session-tickets = false, session-cache-size = 0 }
  routes = [
    { hosts = ["localhost"], mode = offload, pool = origin,
      certificate { chain = "$kind.pem", key = "$kind.key" } }
  ]
  pools { origin { servers = ["127.0.0.1:$origin_port"] } }
}
EOF
done
check_tollgate "$tmp/tollgate-ec.conf" "$tmp/tollgate-rsa.conf"
export TOLLGATE_JAVA_OPTS="${TOLLGATE_JAVA_OPTS:--Xms512m -Xmx512m}"

declare -A hs_tg hs_nginx sign verify resumed tls_seen warm_rate
bulk_tg=""; bulk_direct=""; bulk_cipher=""
for kind in ec rsa; do
  log "--- $kind: starting Tollgate with the $kind certificate"
  start_tollgate "$tmp/tollgate-$kind.conf" "$tmp/tollgate-$kind.log"
  # Every path must serve the page before anything is timed.
  body=$(curl -sS --connect-timeout 5 --max-time 10 --cacert "$tmp/ca.pem" \
    "https://localhost:$tollgate_port/small")
  [ "${#body}" -eq 512 ] || { log "sanity fetch through Tollgate returned ${#body} bytes"; exit 1; }
  resumed[$kind]=$(resumed_count "$tollgate_port")
  tls_seen[$kind]=$(openssl s_client -brief -connect "127.0.0.1:$tollgate_port" \
      -servername localhost </dev/null 2>&1 |
    awk -F': ' '/^Protocol version|^Ciphersuite|^Peer signature type/ { print $2 }' |
    paste -sd ' ' - || true)

  log "$kind: warming up Tollgate (${warmup}s of new connections)..."
  wrk_close_rate "warmup $kind" "$tollgate_port" "$warmup"; warm_rate[$kind]=$result
  wrk_errors=()   # errors during warm-up are not part of the results
  log "$kind: full handshakes ${duration}s through Tollgate..."
  wrk_close_rate "handshakes $kind tollgate" "$tollgate_port" "$duration"; hs_tg[$kind]=$result
  if [ "$kind" = ec ]; then nginx_port=$nginx_ec_port; else nginx_port=$nginx_rsa_port; fi
  log "$kind: full handshakes ${duration}s to nginx (TLS in nginx, same certificate)..."
  wrk_close_rate "handshakes $kind nginx" "$nginx_port" "$duration"; hs_nginx[$kind]=$result

  if [ "$kind" = ec ]; then
    # Bulk does not depend on the certificate: measured once.
    # The bulk path warms up too: at least 1 GiB through Tollgate first (at most 8 transfers).
    warm_transfers=$(( (1073741824 + big_bytes - 1) / big_bytes ))
    [ "$warm_transfers" -gt 8 ] && warm_transfers=8
    log "bulk: warm-up, $warm_transfers transfer(s) of $bulk_size through Tollgate..."
    for ((i = 0; i < warm_transfers; i++)); do bulk "https://localhost:$tollgate_port/big"; done
    log "bulk: $bulk_size through Tollgate..."
    bulk "https://localhost:$tollgate_port/big"; bulk_tg=$result
    log "bulk: $bulk_size straight from the origin (plaintext)..."
    bulk "http://127.0.0.1:$origin_port/big"; bulk_direct=$result
    bulk_cipher=$(openssl s_client -brief -connect "127.0.0.1:$tollgate_port" \
      -servername localhost </dev/null 2>&1 | awk -F': ' '/^Ciphersuite/ { print $2 }' || true)
  fi
  stop_pid "$tollgate_pid"
done

log "openssl speed (one core, ${speed_secs}s per operation)..."
speed_keys ecdsap256; sign[ec]=$speed_sign; verify[ec]=$speed_verify
speed_keys rsa2048; sign[rsa]=$speed_sign; verify[rsa]=$speed_verify
speed_x25519; x25519=$result
case "${bulk_cipher:-}" in
  *AES_128_GCM*|*AES128-GCM*) aead=aes-128-gcm ;;
  *AES_256_GCM*|*AES256-GCM*) aead=aes-256-gcm ;;
  *CHACHA20*) aead=chacha20-poly1305 ;;
  *) aead=aes-128-gcm ;;
esac
speed_aead "$aead"; aead_speed=$result
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report -------------------------------------------------------------------------------------
transport=$(grep -o 'transport [A-Za-z_]*' "$tmp/tollgate-ec.log" | head -n 1 | cut -d' ' -f2 || true)
# Tollgate warns once at start when BoringSSL cannot load and it falls back to the JDK provider.
if grep -q 'cannot be loaded, so TLS termination uses the JDK provider' "$tmp/tollgate-ec.log"; then
  provider="JDK provider (BoringSSL did not load, see the warning in Tollgate's log)"
else
  provider="BoringSSL via netty-tcnative"
fi
java_version=$(java -version 2>&1 | head -n 1)

echo
echo "Tollgate offload benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), loopback 127.0.0.1)"
echo
echo "Full TLS handshakes (wrk 'Connection: close', 2 threads, 32 connections, ${duration}s, 512 B page;"
echo "no session resumption anywhere: tickets and session caches off)"
printf '%-44s %14s %14s\n' "" "ECDSA P-256" "RSA-2048"
printf '%-44s %14s %14s\n' "openssl speed sign/s (1 core)" "${sign[ec]}" "${sign[rsa]}"
printf '%-44s %14s %14s\n' "openssl speed verify/s (1 core)" "${verify[ec]}" "${verify[rsa]}"
printf '%-44s %14s %14s\n' "handshakes/s through Tollgate (offload)" "${hs_tg[ec]}" "${hs_tg[rsa]}"
printf '%-44s %14s %14s\n' "  (during the ${warmup}s JIT warm-up)" "${warm_rate[ec]}" "${warm_rate[rsa]}"
printf '%-44s %14s %14s\n' "handshakes/s to nginx (TLS in nginx)" "${hs_nginx[ec]}" "${hs_nginx[rsa]}"
printf '%-44s %14s %14s\n' "ratio Tollgate / sign/s" "$(ratio "${hs_tg[ec]}" "${sign[ec]}" 3)" \
  "$(ratio "${hs_tg[rsa]}" "${sign[rsa]}" 3)"
printf '%-44s %14s %14s\n' "ratio Tollgate / nginx" "$(ratio "${hs_tg[ec]}" "${hs_nginx[ec]}")" \
  "$(ratio "${hs_tg[rsa]}" "${hs_nginx[rsa]}")"
printf '%-44s %14s %14s\n' "resumed of 6 (s_client -reconnect; must be 0)" "${resumed[ec]}" \
  "${resumed[rsa]}"
echo "TLS seen through Tollgate: ec: ${tls_seen[ec]:-unknown}; rsa: ${tls_seen[rsa]:-unknown}"
echo "openssl speed X25519 key agreement (1 core): ${x25519} op/s (each handshake does one on each side)"
echo
echo "Bulk throughput (one curl download of $bulk_size, MB/s = 10^6 B/s)"
printf '%-44s %14s\n' "straight from the origin (plaintext HTTP)" "$bulk_direct"
printf '%-44s %14s\n' "through Tollgate offload (${bulk_cipher:-?})" "$bulk_tg"
printf '%-44s %14s\n' "openssl speed $aead, 16 KiB (1 core)" "$aead_speed"
printf '%-44s %14s\n' "ratio Tollgate / origin plaintext" "$(ratio "$bulk_tg" "$bulk_direct")"
printf '%-44s %14s\n' "ratio Tollgate / openssl speed $aead" "$(ratio "$bulk_tg" "$aead_speed")"
if [ ${#wrk_errors[@]} -gt 0 ]; then
  echo "wrk errors:"
  printf '  %s\n' "${wrk_errors[@]}"
fi
for kind in ec rsa; do
  if [ "${resumed[$kind]}" != 0 ]; then
    echo "warning: $kind: s_client resumed ${resumed[$kind]} of 6 connections: the handshake rate"
    echo "         includes resumptions, not only full handshakes."
  fi
done
echo
machine_line
echo "java: ${java_version}; TOLLGATE_JAVA_OPTS: ${TOLLGATE_JAVA_OPTS}; transport: ${transport:-unknown}; TLS: ${provider}"
echo "origin: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(openssl version | cut -d' ' -f1-2) (openssl speed and the clients)"
echo "notes: Tollgate does its TLS with BoringSSL (netty-tcnative), 'openssl speed' measures OpenSSL: same"
echo "       algorithms, different implementations. 'openssl speed' uses one core; the handshake test"
echo "       shares the machine's $(nproc) cores between wrk (which verifies every handshake's signature,"
echo "       an ECDSA verify costing ~3 signs), Tollgate and nginx, so a ratio of 1.0 to sign/s is not"
echo "       reachable; compare the ratios between runs and machines, not the absolute numbers."
warn_if_busy
