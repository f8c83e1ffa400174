#!/usr/bin/env bash
# One tenant's handshake flood against another tenant's new connections, on one listener.
#
# usage: scripts/bench-fairness.sh [contestant...]     default: ours
#   contestants: ours, haproxy, nginx (their "-mix" configs from the shared harness)
#   env: HARNESS=../shared/bench  DUR=10  RUNS=3  B_C=4  FLOOD_C=64  WORKERS="1 2" (ours only)
#        OURS_JAVA_OPTS (JVM options), WARM=5 (s of both loads before measuring, JIT warm-up)
#
# Tenant B: B_C loops of new passthrough connections to pass.test (connect, full TLS handshake
# with the origin through the proxy, GET /, close), measured alone, then while FLOOD_C loops make
# full TLS handshakes on off.test (offload: every one costs the proxy a key exchange and a
# signature). Prints B's rate alone and during the flood, what B kept, and A's rate.
# The shared harness's rules apply: proxy pinned to CPU 1, generators and origins on CPU 0,
# loopback only, every load bounded by DUR (and `timeout`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$ROOT/../shared/bench}
[ -f "$HARNESS/lib.sh" ] || { echo "no harness at $HARNESS (set HARNESS=...)" >&2; exit 2; }
cd "$ROOT"
source "$HARNESS/lib.sh"
DUR=${DUR:-10} RUNS=${RUNS:-3} B_C=${B_C:-4} FLOOD_C=${FLOOD_C:-64} WARM=${WARM:-5}
WORKERS=${WORKERS:-1 2}
[ $# -gt 0 ] || set -- ours

"$HARNESS/certs.sh" ecdsa >/dev/null
build_tools
start_origins
if [[ " $* " == *" ours "* && ! -f lb-core/target/tollgate.jar ]]; then
  mvn -B -q -DskipTests package -pl lb-core -am
fi

tlsconn() { # sni concurrency seconds -> prints "rate errors"
  # tlsconn exits 1 when any connection failed; the error count is in its line, so go on.
  { env OPENSSL_CONF="$HARNESS/conf/client-openssl.cnf" $(pin $LOAD_CPU) timeout -k 5 $(($3 + 30)) \
    "$RUN/bin/tlsconn" -n "$1" -p $LB_PORT -c "$2" -d "$3" || true; } |
    awk '/^conns=/{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["rate"], v["errors"]}'
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
    start_mix "$name" "$w"
    # warm-up: both loads, unmeasured
    tlsconn off.test "$FLOOD_C" "$WARM" >/dev/null &
    flood_pid=$!
    tlsconn pass.test "$B_C" "$WARM" >/dev/null
    wait "$flood_pid"
    for ((r = 1; r <= RUNS; r++)); do
      read -r alone alone_err <<<"$(tlsconn pass.test "$B_C" "$DUR")"
      tlsconn off.test "$FLOOD_C" $((DUR + 2)) >"$RUN/flood.out" &
      flood_pid=$!
      sleep 1
      read -r during during_err <<<"$(tlsconn pass.test "$B_C" "$DUR")"
      wait "$flood_pid"   # not a bare wait: the origins and the proxy are children too
      read -r flood flood_err <"$RUN/flood.out"
      kept=$(awk -v a="$alone" -v d="$during" 'BEGIN {printf "%.2f", (a > 0 ? d / a : 0)}')
      rows+=("| $name | $w | $r | $alone | $during | **${kept}x** | $flood | $((alone_err + during_err)) / $flood_err |")
      echo "${rows[-1]}"
    done
    stop_contestant
  done
done
echo
echo "| proxy | worker threads | run | tenant B alone (conn/s) | B during A's flood | kept | A's flood (handshakes/s) | errors B / A |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
