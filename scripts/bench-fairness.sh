#!/usr/bin/env bash
# One tenant's handshake flood against another tenant's new connections, on one listener.
#
# usage: scripts/bench-fairness.sh [contestant...]     default: ours
#   contestants: ours, haproxy, nginx (their "-mix" configs from the shared harness)
#   env: HARNESS=../shared/bench  DUR=10  RUNS=3  B_C=4  FLOOD_C=64  WORKERS="1 2" (ours only)
#        FLOODS="tls hello"  FLOOD_NICE=0  OURS_JAVA_OPTS (JVM options)
#        WARM=5 (s of both loads before measuring, JIT warm-up)
#        BENCH_A_HANDSHAKES_PER_SECOND, BENCH_A_CONCURRENT_HANDSHAKES (ours only): off.test's
#        routes[].limits, i.e. per-route handshake admission on the flooded tenant (default off)
#        BENCH_HANDSHAKE_SHARE (ours only): limits.handshake-share-percent (default 50, 100 = off)
#        BENCH_TARPIT_DELAY (ours only): limits.tarpit.delay, how long a refused handshake is
#        held before its alert and close (default 1s; 0 refuses at once)
#
# Tenant B: B_C loops of new passthrough connections to pass.test (connect, full TLS handshake
# with the origin through the proxy, GET /, close), measured alone, then while FLOOD_C loops
# flood off.test (offload: every handshake costs the proxy a key exchange and a signature).
# Two floods:
#   tls    full TLS handshakes, then GET / (the harness's tlsconn). On a 2-core box the
#          generator core saturates before the proxy's does: read the "CPU busy" column.
#   hello  one recorded ClientHello replayed per connection, the server's first flight read,
#          then a reset (scripts/bench/hellorush.c): the proxy still signs and does the key
#          exchange, the generator does no crypto, so the PROXY core is the one that saturates.
#          This is the flood that tests the proxy's fairness; it is also what an attacker sends.
# Prints B's rate alone and during the flood, what B kept, A's rate, B's median latency, and how
# busy each core was during the flood (CPU 0: generators and origins, CPU 1: the proxy).
# The shared harness's rules apply: proxy pinned to CPU 1, generators and origins on CPU 0,
# loopback only, every load bounded by DUR (and `timeout`). FLOOD_NICE runs the flood's processes
# at that nice level on CPU 0, to give B's loops the generator core first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$ROOT/../shared/bench}
[ -f "$HARNESS/lib.sh" ] || { echo "no harness at $HARNESS (set HARNESS=...)" >&2; exit 2; }
cd "$ROOT"
source "$HARNESS/lib.sh"
DUR=${DUR:-10} RUNS=${RUNS:-3} B_C=${B_C:-4} FLOOD_C=${FLOOD_C:-64} WARM=${WARM:-5}
WORKERS=${WORKERS:-1 2} FLOOD_NICE=${FLOOD_NICE:-0} FLOODS=${FLOODS:-tls hello}
[ $# -gt 0 ] || set -- ours

"$HARNESS/certs.sh" ecdsa >/dev/null
build_tools
RUSH=$RUN/bin/hellorush
if [ ! -x "$RUSH" ] || [ "$RUSH" -ot "$ROOT/scripts/bench/hellorush.c" ]; then
  cc -O2 -Wall -o "$RUSH" "$ROOT/scripts/bench/hellorush.c" -lssl -lcrypto
fi
start_origins
if [[ " $* " == *" ours "* && ! -f lb-core/target/tollgate.jar ]]; then
  mvn -B -q -DskipTests package -pl lb-core -am
fi

tlsconn() { # sni concurrency seconds [nice] -> prints "rate errors p50_us"
  # tlsconn exits 1 when any connection failed; the error count is in its line, so go on.
  { env OPENSSL_CONF="$HARNESS/conf/client-openssl.cnf" $(pin $LOAD_CPU) nice -n "${4:-0}" \
    timeout -k 5 $(($3 + 30)) \
    "$RUN/bin/tlsconn" -n "$1" -p $LB_PORT -c "$2" -d "$3" || true; } |
    awk '/^conns=/{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["rate"], v["errors"], v["p50_us"]}'
}

flood() { # kind sni concurrency seconds nice -> prints "rate errors p50_us"
  if [ "$1" = tls ]; then
    tlsconn "$2" "$3" "$4" "$5"
    return
  fi
  { $(pin $LOAD_CPU) nice -n "$5" timeout -k 5 $(($4 + 30)) \
    "$RUSH" -n "$2" -p $LB_PORT -c "$3" -d "$4" || true; } |
    awk '/^conns=/{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["rate"], v["errors"], v["p50_us"]}'
}

cpu_ticks() { # -> "busy0 total0 busy1 total1" from /proc/stat (jiffies)
  awk '$1 == "cpu0" || $1 == "cpu1" { t = 0; for (i = 2; i <= NF; i++) t += $i
       printf "%d %d ", t - $5 - $6, t } END { print "" }' /proc/stat
}

busy_pct() { # before after -> "cpu0% cpu1%"
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
       printf "%.0f%% %.0f%%", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9),
                               100 * (y[3] - x[3]) / (y[4] - x[4] + 1e-9) }'
}

start_mix() { # contestant workers
  local cmd conf
  LB_PID=
  case $1 in
    ours) conf=$ROOT/scripts/bench/ours-mix.conf
          cmd="java ${OURS_JAVA_OPTS:-} -jar $ROOT/lb-core/target/tollgate.jar run --config $conf" ;;
    haproxy|nginx) conf=$(ls "$HARNESS/conf/$1-mix".*); cmd=$(contestant_cmd "$1" "$conf") ;;
    *) echo "unknown contestant $1" >&2; return 1 ;;
  esac
  port_free $LB_PORT || { echo "port $LB_PORT busy" >&2; return 1; }
  rm -f "$RUN"/lb-nginx/*.sock
  BENCH_WORKERS=$2 $(pin $PROXY_CPU) bash -c "exec $cmd" >"$RUN/logs/fair-$1.log" 2>&1 &
  LB_PID=$!
  PIDS+=("$LB_PID")
  wait_port $LB_PORT 30 || { tail -5 "$RUN/logs/fair-$1.log" >&2; return 1; }
  pin_tree "$LB_PID" $PROXY_CPU
}

rows=()
for name in "$@"; do
  for w in $( [ "$name" = ours ] && echo "$WORKERS" || echo 1 ); do
   for kind in $FLOODS; do
    start_mix "$name" "$w"
    # warm-up: both loads, unmeasured
    flood "$kind" off.test "$FLOOD_C" "$WARM" 0 >/dev/null &
    flood_pid=$!
    tlsconn pass.test "$B_C" "$WARM" >/dev/null
    wait "$flood_pid"
    for ((r = 1; r <= RUNS; r++)); do
      read -r alone alone_err alone_p50 <<<"$(tlsconn pass.test "$B_C" "$DUR")"
      flood "$kind" off.test "$FLOOD_C" $((DUR + 2)) "$FLOOD_NICE" >"$RUN/flood.out" &
      flood_pid=$!
      sleep 1
      t0=$(cpu_ticks)
      read -r during during_err during_p50 <<<"$(tlsconn pass.test "$B_C" "$DUR")"
      read -r busy0 busy1 <<<"$(busy_pct "$t0" "$(cpu_ticks)")"
      wait "$flood_pid"   # not a bare wait: the origins and the proxy are children too
      read -r flood flood_err flood_p50 <"$RUN/flood.out"
      kept=$(awk -v a="$alone" -v d="$during" 'BEGIN {printf "%.2f", (a > 0 ? d / a : 0)}')
      rows+=("| $name | $w | $kind | $r | $alone | $during | **${kept}x** | $flood | $alone_p50 / $during_p50 | $busy0 / $busy1 | $((alone_err + during_err)) / $flood_err |")
      echo "${rows[-1]}"
    done
    stop_contestant
   done
  done
done
echo
echo "| proxy | worker threads | flood | run | tenant B alone (conn/s) | B during A's flood | kept | A's flood (handshakes/s) | B's median latency alone / during (µs) | CPU 0 / CPU 1 busy during | errors B / A |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
