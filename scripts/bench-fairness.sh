#!/usr/bin/env bash
# One tenant's handshake flood against another tenant's new connections, on one listener.
#
# usage: scripts/bench-fairness.sh [contestant...]     default: ours
#   contestants: ours, haproxy, nginx (their "-mix" configs from the shared harness)
#   env: HARNESS=../shared/bench  DUR=10  RUNS=3  B_C=4  FLOOD_C=64  WORKERS="1 2" (ours only)
#        FLOODS="tls hello"  FLOOD_NICE=19  OURS_JAVA_OPTS (JVM options)
#        FLOOD_RATE (hello flood only): cap the flood at this many connections a second in all
#        (default: none, FLOOD_C closed loops as fast as the proxy answers), so proxies (or
#        settings) that serve a closed-loop flood at different rates can be compared on one flood
#        (B's loss depends on how much of the flood is served, in the proxy and on CPU 0).
#        WARM=5 (s of both loads before measuring, JIT warm-up)
#        PROBES=1 (0: off)  PROBE_RPS=200: the keep-alive and admin probes (below)
#        BENCH_A_HANDSHAKES_PER_SECOND, BENCH_A_CONCURRENT_HANDSHAKES (ours only): off.test's
#        routes[].limits, i.e. per-route handshake admission on the flooded tenant (default off)
#        BENCH_HANDSHAKE_SHARE (ours only): limits.handshake-share-percent (default 35, 100 = off)
#        BENCH_HANDSHAKE_THREADS, BENCH_HANDSHAKE_PRIORITY, BENCH_HANDSHAKE_THREADS_WHEN (ours
#        only): io.handshake-threads (Tollgate's default auto: one per worker loop; 0: steps on
#        the loops, paced only), io.handshake-priority (idle | nice) and
#        io.handshake-threads-when (gaps | contended | always)
#        CONTROL=1 (0: off), SINK_FLIGHT=730: after each hello-flood run, the generator-only
#        control: the same flood at the rate the proxy served, against scripts/bench/flightsink.c
#        (no TLS, SCHED_IDLE on the proxy core), with B through the proxy as before; B during the
#        flood over B during the control is "kept on the proxy's account" (B alone keeps CPU 0
#        busy, so the flood's generator there takes its share from B behind any proxy)
#        BENCH_TARPIT_DELAY (ours only): limits.tarpit.delay, how long a refused handshake is
#        held before its alert and close (default 1s; 0 refuses at once)
#
# Tenant B: B_C loops of new passthrough connections to pass.test (connect, full TLS handshake
# with the origin through the proxy, GET /, close), measured alone, then while FLOOD_C loops
# flood off.test, then alone again (B's rate alone is the mean of the runs before and after
# each flood). off.test is offload: every handshake costs the proxy a key exchange and a signature.
# Two floods:
#   tls    full TLS handshakes, then GET / (the harness's tlsconn). On a 2-core box the
#          generator core saturates before the proxy's does: read the "CPU busy" column.
#   hello  one recorded ClientHello replayed per connection, the server's first flight read,
#          then a reset (scripts/bench/hellorush.c): the proxy still signs and does the key
#          exchange, the generator does no crypto, so the PROXY core is the one that saturates.
#          This is the flood that tests the proxy's fairness; it is also what an attacker sends.
# Prints B's rate alone and during the flood, what B kept, A's rate, B's median latency, how busy
# each core was with B alone and during the flood (CPU 0: generators and origins, CPU 1: the
# proxy), the flood generator's own share of CPU 0 (its processes, the core's softirqs), and the
# control's figures.
# The shared harness's rules apply: proxy pinned to CPU 1, generators and origins on CPU 0,
# loopback only, every load bounded by DUR (and `timeout`). FLOOD_NICE (default 19) runs the
# flood's processes at that nice level on CPU 0, to give B's loops the generator core first: the
# generator core is 95-98% busy during every flood run, and what B loses there is not the proxy's
# doing (same setting for every contestant; FLOOD_NICE=0 for the old way).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$ROOT/../shared/bench}
[ -f "$HARNESS/lib.sh" ] || { echo "no harness at $HARNESS (set HARNESS=...)" >&2; exit 2; }
cd "$ROOT"
source "$HARNESS/lib.sh"
DUR=${DUR:-10} RUNS=${RUNS:-3} B_C=${B_C:-4} FLOOD_C=${FLOOD_C:-64} WARM=${WARM:-5}
PROBES=${PROBES:-1} PROBE_RPS=${PROBE_RPS:-200} CONTROL=${CONTROL:-1} SINK_FLIGHT=${SINK_FLIGHT:-730}
ADMIN_PORT=9909   # scripts/bench/ours-mix.conf's admin address
WORKERS=${WORKERS:-1 2} FLOOD_NICE=${FLOOD_NICE:-19} FLOODS=${FLOODS:-tls hello}
[ $# -gt 0 ] || set -- ours

"$HARNESS/certs.sh" ecdsa >/dev/null
build_tools
RUSH=$RUN/bin/hellorush
if [ ! -x "$RUSH" ] || [ "$RUSH" -ot "$ROOT/scripts/bench/hellorush.c" ]; then
  cc -O2 -Wall -o "$RUSH" "$ROOT/scripts/bench/hellorush.c" -lssl -lcrypto
fi
SINK=$RUN/bin/flightsink SINK_PORT=8449
if [ ! -x "$SINK" ] || [ "$SINK" -ot "$ROOT/scripts/bench/flightsink.c" ]; then
  cc -O2 -Wall -o "$SINK" "$ROOT/scripts/bench/flightsink.c"
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
    "$RUSH" -n "$2" -p "${6:-$LB_PORT}" -c "$3" -d "$4" ${FLOOD_RATE:+-r "$FLOOD_RATE"} || true; } |
    awk '/^conns=/{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         print v["rate"], v["errors"], v["p50_us"]}'
}

# Cheap work beside B's new connections, measured at the same time (PROBES=0: off): one
# established keep-alive connection through pass.test (relayed bytes: h2load, PROBE_RPS small
# requests a second) and, for ours, the admin endpoint's /ready (a new connection per request).
ka_probe() { # seconds -> writes $RUN/ka.log (h2load's per-request log)
  rm -f "$RUN/ka.log"
  $(pin $LOAD_CPU) timeout -k 5 $(($1 + 20)) h2load --h1 -c1 --rps "$PROBE_RPS" -D "$1" \
    --log-file="$RUN/ka.log" --connect-to="127.0.0.1:$LB_PORT" "https://pass.test:$LB_PORT/" \
    >/dev/null 2>&1 || true
}
admin_probe() { # seconds -> writes $RUN/admin.out (one total time in s per request)
  $(pin $LOAD_CPU) timeout -k 5 $(($1 + 20)) curl -s --rate "$((PROBE_RPS / 10))/s" \
    -w '%{http_code} %{time_total}\n' \
    $(for ((i = 0; i < $1 * PROBE_RPS / 10; i++)); do echo "-o /dev/null http://127.0.0.1:$ADMIN_PORT/ready"; done) \
    >"$RUN/admin.out" 2>/dev/null || true
}
pct() { # p file status_column value_column [scale] -> the p-th percentile of the values
  # (a request whose status was not 200 counts as failed, above every value)
  awk -v s="$3" -v c="$4" -v k="${5:-1}" '{ print ($s == 200) ? $c * k : 1e9 }' "$2" 2>/dev/null |
    sort -n | awk -v p="$1" '{ d[NR] = $1 } END { if (NR == 0) print "-";
      else { x = d[int(NR * p / 100) + 1]; print (x >= 1e9 ? "failed" : int(x)) } }'
}
b_run() { # name -> "rate errors p50_us ka_p50 ka_p99 admin_p50 admin_p99" (latencies in µs)
  local ka=- admin=-
  if [ "$PROBES" = 1 ]; then
    ka_probe "$DUR" & ka=$!
    [ "$1" = ours ] && { admin_probe "$DUR" & admin=$!; }
  fi
  read -r rate errs p50 <<<"$(tlsconn pass.test "$B_C" "$DUR")"
  [ "$ka" = - ] || wait "$ka"
  [ "$admin" = - ] || wait "$admin"
  if [ "$PROBES" = 1 ]; then
    echo "$rate $errs $p50 $(pct 50 "$RUN/ka.log" 2 3) $(pct 99 "$RUN/ka.log" 2 3)" \
      "$( [ "$1" = ours ] && echo "$(pct 50 "$RUN/admin.out" 1 2 1e6) $(pct 99 "$RUN/admin.out" 1 2 1e6)" || echo "- -")"
  else
    echo "$rate $errs $p50 - - - -"
  fi
}

cpu_ticks() { # -> "busy0 total0 busy1 total1" from /proc/stat (jiffies)
  awk '$1 == "cpu0" || $1 == "cpu1" { t = 0; for (i = 2; i <= NF; i++) t += $i
       printf "%d %d ", t - $5 - $6, t } END { print "" }' /proc/stat
}

gen_ticks() { # -> "flood_process_ticks cpu0_softirq cpu0_total" (USER_HZ ticks): what the flood's
  # generator took of CPU 0, its process (user + system) and the softirqs there (not charged to it)
  local pid t=0
  for pid in $(pgrep -x hellorush; pgrep -f "tlsconn -n off.test"); do
    t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$t" '$1 == "cpu0" { s = 0; for (i = 2; i <= NF; i++) s += $i; print t, $8, s }' /proc/stat
}

gen_pct() { # before after -> "flood process % of CPU 0, CPU 0 softirq %"
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[3] - x[3] + 1e-9
       printf "%.0f%% %.0f%%", 100 * (y[1] - x[1]) / d, 100 * (y[2] - x[2]) / d }'
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
    # Each flood run sits between two runs of B alone, and B's rate alone is their mean: on a
    # shared machine B's rate alone drifts by 20-30% from minute to minute, more than the flood
    # takes, so one "alone" run before the flood made "kept" mostly a measure of that drift.
    t0=$(cpu_ticks)
    read -r before before_err before_p50 ka0 ka0_99 adm0 adm0_99 <<<"$(b_run "$name")"
    read -r alone0 alone1 <<<"$(busy_pct "$t0" "$(cpu_ticks)")"
    for ((r = 1; r <= RUNS; r++)); do
      flood "$kind" off.test "$FLOOD_C" $((DUR + 2)) "$FLOOD_NICE" >"$RUN/flood.out" &
      flood_pid=$!
      sleep 1
      t0=$(cpu_ticks) g0=$(gen_ticks)
      read -r during during_err during_p50 ka1 ka1_99 adm1 adm1_99 <<<"$(b_run "$name")"
      read -r busy0 busy1 <<<"$(busy_pct "$t0" "$(cpu_ticks)")"
      read -r gen0 sirq0 <<<"$(gen_pct "$g0" "$(gen_ticks)")"
      wait "$flood_pid"   # not a bare wait: the origins and the proxy are children too
      read -r flood flood_err flood_p50 <"$RUN/flood.out"
      ctl=- ctl_rate=- proxy_kept=-
      if [ "$CONTROL" = 1 ] && [ "$kind" = hello ]; then
        # The generator-only control: the same flood, at the rate this proxy served, against
        # flightsink (no TLS; SCHED_IDLE on the proxy core, so it never delays the proxy), while B
        # goes through the proxy as before. What B loses here is the flood generator's doing.
        port_free $SINK_PORT || { echo "port $SINK_PORT busy" >&2; exit 1; }
        $(pin $PROXY_CPU) chrt -i 0 "$SINK" -p $SINK_PORT -r "${flood%.*}" -b "$SINK_FLIGHT" \
          -w "$FLOOD_C" -d $((DUR + 4)) >"$RUN/sink.out" 2>&1 &
        sink_pid=$!
        wait_port $SINK_PORT 5
        flood "$kind" off.test "$FLOOD_C" $((DUR + 2)) "$FLOOD_NICE" $SINK_PORT >"$RUN/flood-ctl.out" &
        flood_pid=$!
        sleep 1
        read -r ctl _ ctl_p50 ctl_ka _ <<<"$(b_run "$name")"
        wait "$flood_pid"
        wait "$sink_pid" || true
        read -r ctl_rate _ <"$RUN/flood-ctl.out"
      fi
      t0=$(cpu_ticks)
      read -r after after_err after_p50 ka2 ka2_99 adm2 adm2_99 <<<"$(b_run "$name")"
      read -r after0 after1 <<<"$(busy_pct "$t0" "$(cpu_ticks)")"
      kept=$(awk -v b="$before" -v a="$after" -v d="$during" 'BEGIN {
        m = (b + a) / 2; printf "%.2f", (m > 0 ? d / m : 0) }')
      if [ "$ctl" != - ]; then
        read -r ctl_kept proxy_kept <<<"$(awk -v b="$before" -v a="$after" -v d="$during" -v c="$ctl" 'BEGIN {
          m = (b + a) / 2; k = (m > 0 ? c / m : 0); printf "%.2f %.2f", k, (k > 0 ? d / c : 0) }')"
        ctl="$ctl (${ctl_kept}x) at $ctl_rate/s; B's p50 $ctl_p50, keep-alive p50 $ctl_ka"
      fi
      rows+=("| $name | $w | $kind | $r | $before / $after | $during | **${kept}x** | $flood | $before_p50 / $during_p50 | $alone0 / $alone1 | $busy0 / $busy1 | $gen0 / $sirq0 | $ctl | **${proxy_kept}x** | $ka0 / $ka0_99 → $ka1 / $ka1_99 | $adm0 / $adm0_99 → $adm1 / $adm1_99 | $((before_err + during_err + after_err)) / $flood_err |")
      echo "${rows[-1]}"
      before=$after before_err=0 before_p50=$after_p50 alone0=$after0 alone1=$after1
      ka0=$ka2 ka0_99=$ka2_99 adm0=$adm2 adm0_99=$adm2_99
    done
    stop_contestant
   done
  done
done
echo
echo "| proxy | worker threads | flood | run | tenant B alone before / after (conn/s) | B during A's flood | kept | A's flood (handshakes/s) | B's median latency alone / during (µs) | CPU 0 / CPU 1 busy, B alone before | CPU 0 / CPU 1 busy during | flood generator / softirq on CPU 0 during | B during the generator-only control (kept) at its flood rate; B's median latency and keep-alive request p50 then (µs) | kept on the proxy's account (during / control) | keep-alive request p50 / p99 alone → during (µs) | admin /ready p50 / p99 alone → during (µs) | errors B / A |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
