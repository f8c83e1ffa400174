#!/usr/bin/env bash
# Many tenants (issue 13): for each N, generates N tenant files (tenants-directory; even tenants
# passthrough, odd ones offload with their own ECDSA P-256 certificate, every 10th with a wildcard
# host too, one pool each) and measures, on loopback only:
#   check       `tollgate check` wall and CPU seconds
#   load        `tollgate run` from exec to the listener accepting: wall s and process CPU s
#   heap/RSS    heap used (jcmd GC.heap_info) and resident memory after load; RSS per tenant
#   rehearsal   warmup.reloads (auto: 60 rounds from 1,000 routes), which starts once the listener
#               accepts: its own seconds (log line); the reloads below wait for it (at most 120 s).
#               REHEARSE=0 turns it off (warmup.reloads = 0), for the cold figures without it
#   reload      POST /reload (it answers once the new config is in force): nothing changed, one
#               tenant's pool changed, one tenant added (with its certificate, written before the
#               start and renamed into place right before the reload); wall ms and CPU ms.
#               Those are the first three reloads after start; "warm" is the median of ten more
#               one-tenant changes
#   conn        new-connection cost through Tollgate, 200 sequential TLS connections (JDK client,
#               full handshake, one byte echoed) to one passthrough and one offload tenant: wall
#               µs per connection and Tollgate CPU µs per connection
# usage: scripts/bench-tenants.sh [N ...]   (default: 10 100 1000 10000)
# Bounded: each Tollgate start waits at most 900 s, every reload 300 s; all processes are stopped
# on exit. Needs lb-core/target/tollgate.jar (mvn -B -DskipTests package -pl lb-core -am).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$top/lb-core/target/tollgate.jar"
HELPER="$top/scripts/lib/BenchTenants.java"
W=${W:-/tmp/tollgate-tenants}
# Below the ephemeral range (32768-60999): a port picked there may be taken by a client socket.
LB=21443 ADMIN=21990 TLS_BACKEND=21444 PLAIN_BACKEND=21080 CONNS=200
SIZES=${*:-10 100 1000 10000}
[ -f "$JAR" ] || { echo "no $JAR: mvn -B -DskipTests package -pl lb-core -am" >&2; exit 1; }
mkdir -p "$W"
# A copy: a rebuild of the jar while a run is under way must not pull classes from under it.
cp "$JAR" "$W/tollgate.jar"
JAR="$W/tollgate.jar"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

java -cp "$JAR" "$HELPER" serve $TLS_BACKEND $PLAIN_BACKEND >"$W/backends.log" 2>&1 &
PIDS+=($!)

reload() { # prints "wall_ms cpu_ms"
  # Wall time is curl's own (time_total: connect to last byte of the answer), not the ~25 ms
  # this machine takes to start a curl process; POST /reload answers once the config is in force.
  local pid=$1 c0 out
  c0=$(cpu_ticks "$pid")
  out=$(curl -s -m 300 -w ' %{time_total}' -X POST -H 'X-Tollgate-Admin: 1' \
    "http://127.0.0.1:$ADMIN/reload")
  # Not `echo | grep -q`: under pipefail, grep leaving at its first match can fail the echo.
  [[ "$out" == *'"ok":true'* ]] || { echo "reload failed: $out" >&2; }
  echo "$(awk -v t="${out##* }" 'BEGIN {printf "%d", t * 1000}') $(( ( $(cpu_ticks "$pid") - c0 ) * 1000 / hz ))"
}

conn_cost() { # prints "wall_us cpu_us" for CONNS connections to SNI $2
  local pid=$1 sni=$2 c0 wall
  c0=$(cpu_ticks "$pid")
  wall=$(java -cp "$JAR" "$HELPER" connect 127.0.0.1 $LB "$sni" $CONNS)
  echo "$wall $(( ( $(cpu_ticks "$pid") - c0 ) * 1000000 / hz / CONNS ))"
}

echo "| tenants | check s (cpu) | load s (cpu) | heap MB | RSS MB | RSS KB/tenant | rehearsal s | reload same ms (cpu) | reload 1 changed ms (cpu) | reload 1 added ms (cpu) | reload 1 changed, warm ms (cpu) | conn pass µs (Tollgate cpu) | conn offload µs (Tollgate cpu) |" >"$W/results.md"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|" >>"$W/results.md"
for n in $SIZES; do
  d="$W/n$n"
  rm -rf "$d"
  java -cp "$JAR" "$HELPER" gen "$d" "$n" $TLS_BACKEND $PLAIN_BACKEND
  cat >"$d/tollgate.conf" <<EOF
tollgate {
  listeners = [ { name = main, address = "127.0.0.1:$LB" } ]
  admin { address = "127.0.0.1:$ADMIN" }
  certificates { trusted-roots = "ca.pem" }
  tenants-directory = tenants
  warmup.reloads = ${REHEARSE:-auto}
  # The load column is the config's load; the start-up warm-up (auto under tollgate run: 1000
  # loopback connections, a few seconds whatever the number of tenants) comes on top of it.
  warmup.handshakes = 0
}
EOF
  # The tenant added later is written now and kept under another name (tooling renames a finished
  # file into place): generating it then, a JVM compiling the helper on the same two cores right
  # before that reload, was part of what the reload measured.
  added_file=$(printf '%s/tenants/t%05d.conf' "$d" "$(( n + 1 ))")
  java -cp "$JAR" "$HELPER" tenant "$d" "$(( n + 1 ))" $TLS_BACKEND $PLAIN_BACKEND
  mv "$added_file" "$added_file.staged"
  /usr/bin/time -f "%e %U %S" java -jar "$JAR" check --config "$d/tollgate.conf" >/dev/null 2>"$d/check.err" || true
  check=$(tail -1 "$d/check.err" | awk '{printf "%.1f (%.1f)", $1, $2 + $3}')
  t0=$(now_ms)
  java -jar "$JAR" run --config "$d/tollgate.conf" >"$d/run.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  for _ in $(seq 1 4500); do
    (echo >/dev/tcp/127.0.0.1/$LB) 2>/dev/null && break
    kill -0 $pid 2>/dev/null || { echo "Tollgate exited, see $d/run.log" >&2; exit 1; }
    sleep 0.2
  done
  load_ms=$(( $(now_ms) - t0 ))
  load_cpu=$(( $(cpu_ticks $pid) * 1000 / hz ))
  heap=$(jcmd $pid GC.heap_info 2>/dev/null | awk '/used/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub("K,?", "", v); print int(v / 1024); exit}}')
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' /proc/$pid/status)
  per=$(( rss * 1024 / n ))
  rehearsal=-
  for _ in $(seq 1 1200); do
    line=$(grep -a 'Reload rehearsal:' "$d/run.log" || true)
    [ -n "$line" ] && { rehearsal=$(echo "$line" | sed -E 's/.* in ([0-9]+) ms.*/\1/' | awk '{printf "%.1f", $1 / 1000}'); break; }
    [ "${REHEARSE:-auto}" = 0 ] && break
    (( n < 1000 )) && [ "${REHEARSE:-auto}" = auto ] && break
    sleep 0.1
  done
  same=$(reload $pid)
  sed -i "s/servers = \[\"127.0.0.1:$TLS_BACKEND\"\]/servers = [{ address = \"127.0.0.1:$TLS_BACKEND\", weight = 2 }]/" "$d/tenants/t00000.conf"
  changed=$(reload $pid)
  mv "$added_file.staged" "$added_file"
  added=$(reload $pid)
  # The reloads above are the first after start, run by a cold JIT; then ten more one-tenant
  # changes (t00000's weight back and forth), median of the ten: what a node up for a while sees.
  warm=$(for k in $(seq 1 10); do
    if (( k % 2 )); then
      sed -i "s/{ address = \"127.0.0.1:$TLS_BACKEND\", weight = 2 }/\"127.0.0.1:$TLS_BACKEND\"/" "$d/tenants/t00000.conf"
    else
      sed -i "s/servers = \[\"127.0.0.1:$TLS_BACKEND\"\]/servers = [{ address = \"127.0.0.1:$TLS_BACKEND\", weight = 2 }]/" "$d/tenants/t00000.conf"
    fi
    reload $pid
  done | sort -n | sed -n 5p)
  pass=$(conn_cost $pid t00000.bench.test)
  off=$(conn_cost $pid t00001.bench.test)
  kill $pid
  wait $pid 2>/dev/null || true
  fmt() { echo "$1" | awk '{printf "%s (%s)", $1, $2}'; }
  echo "| $n | $check | $(awk "BEGIN {printf \"%.1f (%.1f)\", $load_ms / 1000, $load_cpu / 1000}") | $heap | $rss | $per | $rehearsal | $(fmt "$same") | $(fmt "$changed") | $(fmt "$added") | $(fmt "$warm") | $(fmt "$pass") | $(fmt "$off") |" | tee -a "$W/results.md"
done
echo "uptime at the end: $(uptime)" >>"$W/results.md"
cat "$W/results.md"
