#!/usr/bin/env bash
# A new passthrough connection's proxy CPU split into user and kernel time, side by side.
#
# usage: scripts/bench-cpu-split.sh [contestant...]     default: nginx haproxy sniproxy ours
#   contestants: the shared harness's (their -pt configs), ours (lb-core/target/tollgate.jar), or
#   a path ending in .jar (another Tollgate build, e.g. to compare two builds; run from the root)
#   env: HARNESS=../shared/bench  ROUNDS=2 (each contestant's turn, alternated)  DUR=10  WARM=12
#        C=8 (concurrent connect-handshake-GET-close loops, the harness's newconn)
#
# The shared harness's newconn workload and pinning (proxy on CPU 1, tlsconn and the nginx
# origins on CPU 0), with the proxy's CPU read as utime and stime from /proc/PID/stat over its
# process tree, per connection. Why: the harness prints the total only, and whether a goal below
# a peer's figure is reachable depends on how much of that figure is the kernel's. Prints one line
# per measured window: contestant, round, connections, user µs, kernel µs, total µs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$ROOT/../shared/bench}
[ -f "$HARNESS/lib.sh" ] || { echo "no harness at $HARNESS (set HARNESS=...)" >&2; exit 2; }
cd "$ROOT"
source "$HARNESS/lib.sh"
ROUNDS=${ROUNDS:-2} DUR=${DUR:-10} WARM=${WARM:-12} C=${C:-8}
[ $# -gt 0 ] || set -- nginx haproxy sniproxy ours

"$HARNESS/certs.sh" ecdsa >/dev/null
build_tools
start_origins

# utime and stime (clock ticks) summed over a process tree
ticks() {
  local p u=0 s=0 a b
  for p in $(tree_pids "$1"); do
    read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat") || continue
    u=$((u + a)) s=$((s + b))
  done
  echo "$u $s"
}

newconn() { # sni port secs
  env OPENSSL_CONF="$HARNESS/conf/client-openssl.cnf" $(pin $LOAD_CPU) timeout -k 5 $(($3 + 30)) \
    "$RUN/bin/tlsconn" -n "$1" -p "$2" -c "$C" -d "$3"
}

echo "contestant round conns user_us kernel_us total_us"
for round in $(seq "$ROUNDS"); do
  for arg in "$@"; do
    name=$arg
    if [[ $arg == *.jar ]]; then
      name=ours
      OURS_CMD="java -jar $arg run --config {conf}"
    elif [ "$arg" = ours ]; then
      OURS_CMD="java -jar $ROOT/lb-core/target/tollgate.jar run --config {conf}"
    fi
    start_contestant "$name" pt || continue
    read -r sni port <<<"$(target "$name" pt)"
    newconn "$sni" "$port" "$WARM" >/dev/null 2>&1 || true
    read -r u0 s0 <<<"$(ticks "$LB_PID")"
    newconn "$sni" "$port" "$DUR" >"$RUN/split.out" 2>&1 || true
    read -r u1 s1 <<<"$(ticks "$LB_PID")"
    stop_contestant
    conns=$(sed -n 's/^conns=\([0-9]*\).*/\1/p' "$RUN/split.out")
    [ "${conns:-0}" -gt 0 ] || { echo "$arg $round: no connections" >&2; continue; }
    awk -v n="$arg" -v r="$round" -v c="$conns" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$HZ" \
      'BEGIN { us = 1e6 / hz / c; printf "%s %d %d %.0f %.0f %.0f\n", n, r, c, u * us, s * us, (u + s) * us }'
  done
done
