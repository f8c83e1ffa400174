#!/usr/bin/env bash
# Benchmark (not a test): what does one held connection cost Tollgate when its ClientHello is as
# large and as full as a client can make it, next to a normal hello?
#
# For each kind of hello (normal; 16 KiB of 2-byte ALPN names; 16 KiB of 1-byte names; a
# "kitchen sink" hello with a 253-character SNI, 16 KiB of ALPN names, 2000 cipher suites,
# groups and signature algorithms and 1000 extensions) it starts a fresh Tollgate (passthrough
# route to a Python backend that accepts and holds connections, max-client-hello = 64k so every
# hello is accepted), warms it up with 200 connections of that kind, then opens N connections
# that each send one hello and stay open. Resident memory (VmRSS) and Java heap in use after a
# full GC are read before and after; the per-connection cost is the difference divided by N.
#
# Everything runs on 127.0.0.1; every loop is bounded by N; everything the script starts and its
# temp dir are removed on exit. Needs java, jcmd, python3, ss.
#
# Usage: scripts/bench-hostile-hello.sh [--connections N] [--pace MS] [--jar PATH] [--kinds "..."]
#                                       [--nmt] [-h]
# Env:   TOLLGATE_JAVA_OPTS   JVM options for Tollgate (default: -Xmx1g)
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'EOF'
Usage: scripts/bench-hostile-hello.sh [options]
Resident memory and heap per held connection, normal ClientHello vs maximal ones (passthrough).

  --connections N   connections held open per kind of hello (default 2000)
  --jar PATH        run this tollgate.jar instead of building lb-core/target/tollgate.jar
                    (e.g. one built from an older commit, to compare)
  --kinds "K ..."   which hellos (default: normal alpn2 alpn1 kitchen)
  --pace MS         pause MS milliseconds between new connections (default 0: as fast as the
                    client can; then the hellos of many connections wait for their backend
                    connect at once, and the buffer pool's high-water mark shows in RSS)
  --nmt             also print the JVM's native memory tracking diff per kind (where RSS went)
  -h, --help        show this help

Env: TOLLGATE_JAVA_OPTS (default "-Xmx1g").
EOF
}

connections=2000
jar=""
kinds="normal alpn2 alpn1 kitchen"
nio=()
nmt=0
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) [ $# -ge 2 ] || { usage >&2; exit 2; }; connections="$2"; shift 2 ;;
    --jar) [ $# -ge 2 ] || { usage >&2; exit 2; }; jar="$2"; shift 2 ;;
    --kinds) [ $# -ge 2 ] || { usage >&2; exit 2; }; kinds="$2"; shift 2 ;;
    --nmt) nmt=1; shift ;;
    --pace) [ $# -ge 2 ] || { usage >&2; exit 2; }; export HELLO_PACE_MS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$connections" in ''|*[!0-9]*) echo "bench: --connections needs a number" >&2; exit 2 ;; esac
[ "$connections" -ge 1 ] && [ "$connections" -le 20000 ] || {
  echo "bench: --connections must be 1..20000" >&2; exit 2; }

# shellcheck source=lib/bench-common.sh
source "$(dirname "$0")/lib/bench-common.sh"
install_cleanup
for cmd in java jcmd python3 ss; do
  command -v "$cmd" >/dev/null 2>&1 || { log "$cmd is needed"; exit 1; }
done
need=$((connections * 2 + 1000))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || { log "ulimit -n is below $need; raise it"; exit 1; }
fi

helper="$top/scripts/lib/hostile_hello.py"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")"
backend_port=$(pick_port)
tollgate_port=$(pick_port "$backend_port")
java_opts="${TOLLGATE_JAVA_OPTS:--Xmx1g}"
[ "$nmt" = 1 ] && java_opts="$java_opts -XX:NativeMemoryTracking=summary"

cat >"$tmp/tollgate.conf" <<EOF
tollgate {
  listeners = [ { name = bench, address = "127.0.0.1:$tollgate_port" } ]
  # No start-up warm-up (the default under tollgate run): the table in the README was measured
  # without it, and this script warms up with hellos of its own.
  warmup.handshakes = 0
  timeouts { client-hello = 30s, idle = 10m }
  limits { max-client-hello = 64k, per-source { max-connections = 0, new-per-second = 0 } }
  routes = [ { hosts = ["bench.test"], mode = passthrough, pool = backend } ]
  default-route { pool = backend }
  pools { backend { servers = ["127.0.0.1:$backend_port"] } }
}
EOF

if [ -z "$jar" ]; then
  check_tollgate "$tmp/tollgate.conf"   # builds lb-core/target/tollgate.jar when needed
  jar="$top/lb-core/target/tollgate.jar"
fi
[ -f "$jar" ] || { log "no jar at $jar"; exit 1; }

python3 "$helper" backend "$backend_port" >"$tmp/backend.out" 2>&1 &
backend_pid=$!; pids+=("$backend_pid")
wait_listening "$backend_port" "$backend_pid" backend 10

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Java heap in use after a full GC, in KiB (G1 / Serial / Parallel all print "used NK").
heap_kib() {
  jcmd "$1" GC.run >/dev/null
  jcmd "$1" GC.heap_info | awk '/used [0-9]+K/ { for (i = 1; i < NF; i++) if ($i == "used") { sub(/K.*/, "", $(i+1)); print $(i+1); exit } }'
}
backend_established() { ss -tnH state established "( sport = :$backend_port )" | wc -l; }

rows=()
for kind in $kinds; do
  size=$(python3 "$helper" size "$kind")
  log "$kind ($size-byte hello): fresh Tollgate"
  java $java_opts -jar "$jar" run --config "$tmp/tollgate.conf" 2>"$tmp/tollgate-$kind.log" &
  tollgate_pid=$!; pids+=("$tollgate_pid")
  wait_listening "$tollgate_port" "$tollgate_pid" Tollgate 60
  base_backend=$(backend_established)
  # Warm-up: the JIT, Netty's buffer pools and the heap settle on this kind of connection.
  HELLO_PACE_MS=0 timeout 120 python3 "$helper" client "$tollgate_port" "$kind" 200 0 >/dev/null
  for ((i = 0; i < 100; i++)); do
    [ "$(backend_established)" -le "$base_backend" ] && break
    sleep 0.1
  done
  heap0=$(heap_kib "$tollgate_pid"); rss0=$(rss_kib "$tollgate_pid")   # both after a full GC
  [ "$nmt" = 1 ] && jcmd "$tollgate_pid" VM.native_memory baseline >/dev/null
  # N held connections; the client's stdin is a fifo we keep open until we are done measuring.
  mkfifo "$tmp/hold-$kind"
  timeout 600 python3 "$helper" client "$tollgate_port" "$kind" "$connections" 1 \
    <"$tmp/hold-$kind" >"$tmp/client-$kind.out" &
  client_pid=$!; pids+=("$client_pid")
  exec 9>"$tmp/hold-$kind"
  for ((i = 0; i < 1200; i++)); do   # at most 120 s
    [ "$(backend_established)" -ge $((base_backend + connections)) ] && break
    kill -0 "$client_pid" 2>/dev/null || { log "client exited early"; cat "$tmp/client-$kind.out" >&2; exit 1; }
    sleep 0.1
  done
  held=$(( $(backend_established) - base_backend ))
  [ "$held" -ge "$connections" ] || log "only $held of $connections connections reached the backend"
  sleep 1
  heap1=$(heap_kib "$tollgate_pid"); rss1=$(rss_kib "$tollgate_pid")
  if [ "$nmt" = 1 ]; then
    echo "== $kind: native memory, with the connections open vs before (KB) ==" >&2
    jcmd "$tollgate_pid" VM.native_memory summary.diff | grep -E '^(Total|-) ' >&2 || true
  fi
  exec 9>&-                 # the client closes its connections and exits
  wait "$client_pid" 2>/dev/null || true
  stop_pid "$tollgate_pid"
  rows+=("$kind $size $held $rss0 $rss1 $heap0 $heap1")
done

echo
echo "Tollgate $(basename "$jar") ($jar), JVM options: $java_opts, $connections connections per kind," \
  "${HELLO_PACE_MS:-0} ms between connections"
printf '%-8s %7s %6s %11s %11s %13s %11s %14s %11s\n' hello bytes held "RSS before" "RSS after" \
  "RSS KiB/conn" "vs normal" "heap KiB/conn" "vs normal"
normal_rss=""; normal_heap=""
for row in "${rows[@]}"; do
  read -r kind size held rss0 rss1 heap0 heap1 <<<"$row"
  per_rss=$(awk -v a="$rss0" -v b="$rss1" -v n="$held" 'BEGIN { printf "%.1f", (b - a) / n }')
  per_heap=$(awk -v a="$heap0" -v b="$heap1" -v n="$held" 'BEGIN { printf "%.1f", (b - a) / n }')
  if [ "$kind" = normal ]; then normal_rss="$per_rss"; normal_heap="$per_heap"; fi
  vs_rss="n/a"; vs_heap="n/a"
  [ -n "$normal_rss" ] && vs_rss="$(ratio "$per_rss" "$normal_rss")"
  [ -n "$normal_heap" ] && vs_heap="$(ratio "$per_heap" "$normal_heap")"
  printf '%-8s %7s %6s %9s K %9s K %13s %11s %14s %11s\n' "$kind" "$size" "$held" "$rss0" \
    "$rss1" "$per_rss" "$vs_rss" "$per_heap" "$vs_heap"
done
echo "RSS: VmRSS of the Tollgate JVM after a full GC (jcmd GC.run), before the N connections (after"
echo "a 200-connection warm-up) and with them open; heap: Java heap in use after that full GC (what"
echo "the connections retain). 'vs normal': per-connection cost over the normal hello's."
