#!/usr/bin/env bash
# JIT warm-up: proxy CPU per new connection in the first 5 s after Tollgate starts accepting, next to
# the same figure at 25 s (warm), for each way of starting the JVM. Uses the shared harness
# (HARNESS, default ../shared/bench): its pinning (Tollgate on CPU 1, generator and nginx origins on
# CPU 0), CPU accounting (utime+stime of the process tree from /proc), certs.sh and the tlsconn
# handshake generator (full TLS 1.3 handshake, GET /, close; never resumed).
#
# usage: scripts/bench-warmup.sh [--runs N] [--options "jdk17 cds17 ..."] [--jar PATH] [-h]
# Options (each a way to start the same jar; all on loopback, bounded in time):
#   jdk17    plain `java -jar` on the default JDK 17, no start-up warm-up (warmup.handshakes = 0; the
#            config default, auto, warms up 1000 under `tollgate run`, i.e. selfwarm1000)
#   cds17    JDK 17 dynamic AppCDS: a training run writes -XX:ArchiveClassesAtExit, runs use it
#   c1fast   JDK 17 with -XX:Tier3InvocationThreshold=100 -XX:Tier4InvocationThreshold=2000 (compile sooner);
#            a -c2 suffix adds the same flags to selfwarmN (selfwarm1000-c2)
#   selfwarm[N]  JDK 17 with tollgate.warmup { handshakes = N } in the config (default WARMUP_N=1000)
#   jdk25    plain `java -jar` on Temurin 25 (JDK25, default /usr/lib/jvm/temurin-25-jdk-amd64)
#   aot25    JDK 25 AOT cache (JEP 483/514/515): a training run writes -XX:AOTCacheOutput, runs use it
#   upgrade[-OPT]  live upgrade instead of a cold start: OPT (default jdk17; e.g. upgrade-selfwarm1000)
#            runs with --pid-file and serves the same load for 25 s, then `tollgate upgrade --pid-file`
#            (SIGUSR2) starts the new process, which the old one launches with the same command line;
#            the figures are the NEW process's (pid from the pid file), from the moment `upgrade`
#            returns (the new process accepts by then); "ready" = how long `upgrade` took. No load
#            runs during the upgrade itself, so the new process's first connections are measured.
# For each option and run: Tollgate starts twice (once per mode: passthrough pass.test, offload
# off.test with an ECDSA P-256 certificate); from the moment its port accepts, tlsconn -c 8 drives new
# connections for 5 s (measured: "first 5 s"), then 20 s unmeasured, then 5 s measured ("warm").
# THREADS=1 also splits each cold start's CPU by thread (worker loops, C2 and C1 compilers, GC,
# the rest; /proc/PID/task/*/stat) and prints a second table: where the first 5 s's extra goes.
# "ready" = seconds from exec to the port accepting. Each run is a line of /tmp/tollgate-warmup/results.tsv; the
# table shows medians and spread = (max - min) / median over the runs.
#
# After a live upgrade (issue 11): `--options "jdk17 selfwarm1000 upgrade upgrade-selfwarm1000"`, 3
# run(s) on the same machine (load average 6-7 from other jobs). `upgrade[-OPT]` starts Tollgate as
# OPT (default `jdk17`) with `--pid-file`, serves the same load for 25 s, runs `tollgate upgrade
# --pid-file`, and measures the new process (pid from the pid file, its /proc utime+stime) from the
# moment `upgrade` returns, then warm at +25 s; for those rows "ready" is how long `upgrade` took. ± =
# (max - min) / median over the runs:
#
# | option | first 5 s µs/conn passthrough | warm (25 s) passthrough | ratio | first 5 s offload | warm offload | ratio | ready s | errors |
# |---|---|---|---|---|---|---|---|---|
# | jdk17 | 1790 (±31%) | 409 (±32%) | 4.19 (4.14-4.38) | 1771 (±51%) | 482 (±18%) | 3.67 (3.58-4.75) | 3.22 | 0 |
# | selfwarm1000 | 1087 (±36%) | 355 (±28%) | 2.63 (2.05-3.58) | 984 (±40%) | 514 (±20%) | 1.78 (1.70-2.75) | 8.57 | 0 |
# | upgrade | 1309 (±32%) | 453 (±8%) | 2.94 (2.17-2.95) | 1830 (±99%) | 457 (±34%) | 4.00 (3.38-5.49) | 4.14 | 0 |
# | upgrade-selfwarm1000 | 957 (±41%) | 403 (±29%) | 2.29 (2.02-3.00) | 1217 (±107%) | 666 (±41%) | 2.63 (1.58-3.20) | 10.52 | 0 |
#
# What this says: yes, the upgraded process pays the warm-up, as a cold start does (plain `upgrade`:
# first 5 s at 2.2-2.95x its warm CPU for passthrough, 3.4-5.5x for offload; the old process's
# compiled code does not carry over to the new JVM). With `warmup.handshakes = 1000` the new process
# makes its 1000 loopback connections before it takes the sockets over, that is while the old one
# still serves, so the upgrade takes ~10.5 s instead of ~4.1 s but no client waits for it, and the
# medians drop (offload 4.00x -> 2.63x, passthrough 2.94x -> 2.29x), though the ranges overlap: 3 runs
# on a loaded machine (load average 6-7) with spreads up to ±107%; read the direction, not the digits.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS=${HARNESS:-$top/../shared/bench}
[ -f "$HARNESS/lib.sh" ] || HARNESS=/work/shared/bench
RUNS=3 OPTIONS="jdk17 cds17 jdk25 aot25" JAR="$top/lb-core/target/tollgate.jar"
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
WARMUP_N=${WARMUP_N:-1000}
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --options) OPTIONS=$2; shift 2 ;;
    --jar) JAR=$2; shift 2 ;;
    -h | --help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (-h for help)" >&2; exit 2 ;;
  esac
done
[ -f "$JAR" ] || { echo "no $JAR: mvn -B -DskipTests package -pl lb-core -am" >&2; exit 1; }
[ -f "$HARNESS/lib.sh" ] || { echo "no harness at $HARNESS (set HARNESS=)" >&2; exit 1; }
# shellcheck source=/dev/null
source "$HARNESS/lib.sh" # pin, pin_tree, tree_ticks, stop_pid, wait_port, build_tools, PIDS cleanup
# Own ports and files, so that this can run beside the harness (8443/9443/9080) on a shared machine.
W=/tmp/tollgate-warmup
LB=28443 ORIGIN_TLS=29443 ORIGIN_PLAIN=29080 FIRST=5 GAP=20 WARMS=5
mkdir -p "$W/logs" "$W/origins"
CERTS=/tmp/lbbench/certs

"$HARNESS/certs.sh" ecdsa >/dev/null
build_tools
cat >"$W/origins.conf" <<EOF
worker_processes 1;
pid $W/origins/nginx.pid;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_tickets off;
  server {
    listen 127.0.0.1:$ORIGIN_TLS ssl; server_name pass.test;
    ssl_certificate $CERTS/pass.test.ecdsa.crt; ssl_certificate_key $CERTS/pass.test.ecdsa.key;
    location = / { return 200 "origin=tls\n"; }
  }
  server { listen 127.0.0.1:$ORIGIN_PLAIN; location = / { return 200 "origin=plain\n"; } }
}
EOF
cat >"$W/tollgate.conf" <<EOF
tollgate {
  listeners = [ { name = main, address = "127.0.0.1:$LB" } ]
  io { worker-threads = 1 }
  warmup { handshakes = 0 }
  timeouts { connect = 2s, idle = 30s, drain = 1s }
  certificates { trusted-roots = "$CERTS/ca.crt" }
  tls { session-tickets = false, session-cache-size = 0 }
  routes = [
    { hosts = ["pass.test"], mode = passthrough, pool = tls }
    { hosts = ["off.test"], mode = offload, pool = plain,
      certificate { chain = "$CERTS/off.test.ecdsa.crt", key = "$CERTS/off.test.ecdsa.key" } }
  ]
  default-route = reject
  pools { tls { servers = ["127.0.0.1:$ORIGIN_TLS"] }, plain { servers = ["127.0.0.1:$ORIGIN_PLAIN"] } }
}
EOF
port_free $ORIGIN_TLS || { echo "port $ORIGIN_TLS busy" >&2; exit 1; }
$(pin $LOAD_CPU) nginx -p "$W/origins" -e "$W/logs/origins.err" -c "$W/origins.conf" >"$W/logs/origins.out" 2>&1 &
PIDS+=("$!")
wait_port $ORIGIN_TLS 10 && wait_port $ORIGIN_PLAIN 10 || { cat "$W/logs/origins.err" >&2; exit 1; }

# the java command line of an option (training runs write the archive their option reads)
java_cmd() { # option [train]
  local j=java pidf=
  case $1 in upgrade*) pidf="--pid-file $W/$1.pid"; set -- "$(base_opt "$1")" "${2:-}" ;; esac
  case $1 in jdk25 | aot25) j=$JDK25/bin/java ;; esac
  case $1:${2:-} in
    cds17:train) j="$j -XX:ArchiveClassesAtExit=$W/tollgate17.jsa" ;;
    cds17:) j="$j -XX:SharedArchiveFile=$W/tollgate17.jsa" ;;
    aot25:train) j="$j -XX:AOTCacheOutput=$W/tollgate25.aot" ;;
    aot25:) j="$j -XX:AOTCache=$W/tollgate25.aot" ;;
    c1fast:* | *-c2:*) j="$j -XX:Tier3InvocationThreshold=100 -XX:Tier4InvocationThreshold=2000" ;;
  esac
  local conf=$W/tollgate.conf n
  case $1 in
    selfwarm*)
      n=${1#selfwarm}
      n=${n%-c2}
      conf=$W/tollgate-selfwarm${n:=$WARMUP_N}.conf
      sed "s/^  warmup { handshakes = 0 }/  warmup { handshakes = $n }/" "$W/tollgate.conf" >"$conf" ;;
  esac
  echo "$j ${BENCH_JAVA_OPTS:-} -jar $JAR run --config $conf $pidf"
}

# upgrade -> jdk17, upgrade-selfwarm1000 -> selfwarm1000: how the old (and so the new) process starts
base_opt() { case $1 in upgrade) echo jdk17 ;; upgrade-*) echo "${1#upgrade-}" ;; *) echo "$1" ;; esac; }

gen() { # sni secs  -> "conns errors"
  env OPENSSL_CONF="$HARNESS/conf/client-openssl.cnf" $(pin $LOAD_CPU) timeout -k 5 $(($2 + 30)) \
    "$RUN/bin/tlsconn" -n "$1" -p $LB -c 8 -d "$2" 2>&1 |
    awk '/^conns=/{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } print v["conns"], v["errors"]}'
}

per_conn() { awk -v t="$1" -v c="$2" -v hz="$HZ" 'BEGIN { if (c > 0) printf "%.0f", t / hz * 1e6 / c; else print "nan" }'; }

# one upgrade: the old process serves FIRST + GAP seconds of the same load (warm), then is upgraded;
# prints "upgrade_s first_us warm_us first_conns warm_conns errors" for the new process
one_upgrade() { # option mode
  local opt=$1 sni=pass.test t0 up p0 p1 p2 p3 a b c old new pidf=$W/$1.pid e0 ea eb ec x
  [ "$2" = off ] && sni=off.test
  port_free $LB || { echo "port $LB busy" >&2; return 1; }
  rm -f "$pidf" "$pidf.upgrade"
  $(pin $PROXY_CPU) bash -c "exec $(java_cmd "$opt")" >"$W/logs/$opt-$2.log" 2>&1 &
  old=$!
  PIDS+=("$old")
  # the pid file is written just after the listeners accept
  if wait_port $LB 60; then for ((x = 0; x < 50; x++)); do [ -s "$pidf" ] && break; sleep 0.1; done; fi
  if ! [ -s "$pidf" ]; then
    echo "$opt did not start:" >&2; tail -5 "$W/logs/$opt-$2.log" >&2; stop_pid "$old"; return 1
  fi
  pin_tree "$old" $PROXY_CPU
  read -r x e0 <<<"$(gen $sni $((FIRST + GAP)))"
  t0=$EPOCHREALTIME
  if ! $(pin $LOAD_CPU) timeout -k 5 120 java -jar "$JAR" upgrade --pid-file "$pidf" >>"$W/logs/$opt-$2.upgrade" 2>&1; then
    echo "$opt: upgrade failed:" >&2; tail -5 "$W/logs/$opt-$2.upgrade" >&2; stop_pid "$old"; return 1
  fi
  up=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
  new=$(tr -dc 0-9 <"$pidf")
  [ -n "$new" ] && [ "$new" != "$old" ] || { echo "$opt: no new pid in $pidf" >&2; stop_pid "$old"; return 1; }
  PIDS+=("$new")
  pin_tree "$new" $PROXY_CPU
  p0=$(tree_ticks "$new"); read -r a ea <<<"$(gen $sni $FIRST)"; p1=$(tree_ticks "$new")
  read -r b eb <<<"$(gen $sni $GAP)"
  p2=$(tree_ticks "$new"); read -r c ec <<<"$(gen $sni $WARMS)"; p3=$(tree_ticks "$new")
  stop_pid "$new"
  stop_pid "$old" # drained and gone by now (timeouts.drain = 1s); reaps it
  echo "$up $(per_conn $((p1 - p0)) "$a") $(per_conn $((p3 - p2)) "$c") $a $c $((e0 + ea + eb + ec))"
}

# CPU ticks of a JVM's threads by kind: "worker C2 C1 GC other"
thread_ticks() { # pid
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" "$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"
  done | awk -F'\t' '$2 != "" {
    k = "other"
    if ($1 ~ /^tollgate-/) k = "worker"; else if ($1 ~ /^C2 /) k = "C2"; else if ($1 ~ /^C1 /) k = "C1"
    else if ($1 ~ /^(GC |G1 )/) k = "GC"
    n[k] += $2 } END { printf "%d %d %d %d %d\n", n["worker"], n["C2"], n["C1"], n["GC"], n["other"] }'
}

# per-connection µs of each kind between two thread_ticks lines, appended to threads.tsv
threads_row() { # option mode window conns "before" "after"
  awk -v o="$1" -v m="$2" -v w="$3" -v c="$4" -v a="$5" -v b="$6" -v hz="$HZ" 'BEGIN {
    split(a, x, " "); split(b, y, " "); printf "%s\t%s\t%s", o, m, w
    for (i = 1; i <= 5; i++) printf "\t%.0f", (c > 0 ? (y[i] - x[i]) / hz * 1e6 / c : 0); print "" }' >>"$W/threads.tsv"
}

# one start: prints "ready_s first_us warm_us first_conns warm_conns errors"
one() { # option mode [train]
  local opt=$1 sni=pass.test t0 ready p0 p1 p2 p3 a b c pid
  [ "$2" = off ] && sni=off.test
  port_free $LB || { echo "port $LB busy" >&2; return 1; }
  t0=$EPOCHREALTIME
  $(pin $PROXY_CPU) bash -c "exec $(java_cmd "$opt" "${3:-}")" >"$W/logs/$opt-$2.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! wait_port $LB 60; then
    echo "$opt did not start:" >&2; tail -5 "$W/logs/$opt-$2.log" >&2; stop_pid "$pid"; return 1
  fi
  ready=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
  pin_tree "$pid" $PROXY_CPU
  local t0= t1= t2= t3=
  [ "${THREADS:-0}" = 1 ] && t0=$(thread_ticks "$pid")
  p0=$(tree_ticks "$pid"); read -r a ea <<<"$(gen $sni $FIRST)"; p1=$(tree_ticks "$pid")
  [ "${THREADS:-0}" = 1 ] && t1=$(thread_ticks "$pid")
  read -r b eb <<<"$(gen $sni $GAP)"
  [ "${THREADS:-0}" = 1 ] && t2=$(thread_ticks "$pid")
  p2=$(tree_ticks "$pid"); read -r c ec <<<"$(gen $sni $WARMS)"; p3=$(tree_ticks "$pid")
  [ "${THREADS:-0}" = 1 ] && t3=$(thread_ticks "$pid")
  stop_pid "$pid"
  if [ "${THREADS:-0}" = 1 ] && [ -z "${3:-}" ]; then
    threads_row "$opt" "$2" first "$a" "$t0" "$t1"
    threads_row "$opt" "$2" warm "$c" "$t2" "$t3"
  fi
  echo "$ready $(per_conn $((p1 - p0)) "$a") $(per_conn $((p3 - p2)) "$c") $a $c $((ea + eb + ec))"
}

# training runs (not measured) for the options that read an archive: one process serves 8 s of
# passthrough and 8 s of offload, then exits (SIGTERM), which writes the archive
for opt in $OPTIONS; do
  case $opt in
    cds17 | aot25)
      $(pin $PROXY_CPU) bash -c "exec $(java_cmd "$opt" train)" >"$W/logs/$opt-train.log" 2>&1 &
      tp=$!; PIDS+=("$tp")
      wait_port $LB 60 && gen pass.test 8 >/dev/null && gen off.test 8 >/dev/null
      # not stop_pid: writing the archive at exit takes longer than its 5 s before SIGKILL
      kill "$tp"; for ((i = 0; i < 1200 && $(kill -0 "$tp" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 0.1; done
      stop_pid "$tp"
      ls -la "$W"/tollgate*.jsa "$W"/tollgate*.aot 2>/dev/null >&2 || true ;;
  esac
done

R=$W/results.tsv
: >"$R"
: >"$W/threads.tsv"
for ((r = 1; r <= RUNS; r++)); do
  for opt in $OPTIONS; do # round-robin, so drift on the shared machine falls on every option
    for mode in pt off; do
      case $opt in
        upgrade*) line=$(one_upgrade "$opt" $mode) || continue ;;
        *) line=$(one "$opt" $mode) || continue ;;
      esac
      printf '%s\t%s\t%s\t%s\n' "$opt" $mode $r "$line" | tr ' ' '\t' | tee -a "$R" >&2
    done
  done
done

# table: medians over runs; warm = median of both modes' warm figures relative to their first 5 s
python3 - "$R" "$OPTIONS" <<'EOF'
import sys, statistics as st
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
def med(xs): return st.median(xs) if xs else float('nan')
def spread(xs): return (max(xs) - min(xs)) / med(xs) * 100 if xs and med(xs) else float('nan')
print("| option | first 5 s µs/conn passthrough | warm (25 s) passthrough | ratio | first 5 s offload | warm offload | ratio | ready s | errors |")
print("|---|---|---|---|---|---|---|---|---|")
for opt in sys.argv[2].split():
    cell = {}
    ready, errs = [], 0
    for mode in ("pt", "off"):
        rs = [r for r in rows if r[0] == opt and r[1] == mode]
        f = [float(r[4]) for r in rs if r[4] != "nan"]
        w = [float(r[5]) for r in rs if r[5] != "nan"]
        q = [float(r[4]) / float(r[5]) for r in rs if r[4] != "nan" and r[5] != "nan"]
        ready += [float(r[3]) for r in rs]
        errs += sum(int(r[8]) for r in rs)
        cell[mode] = "%.0f (±%.0f%%) | %.0f (±%.0f%%) | %.2f (%.2f-%.2f)" % (
            med(f), spread(f), med(w), spread(w), med(q), min(q or [0]), max(q or [0]))
    print("| %s | %s | %s | %.2f | %d |" % (opt, cell["pt"], cell["off"], med(ready), errs))
EOF

# THREADS=1: where each window's CPU per connection went, medians over runs
if [ "${THREADS:-0}" = 1 ]; then python3 - "$W/threads.tsv" "$OPTIONS"; fi <<'EOF'
import sys, statistics as st
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
print()
print("| option | mode | window | worker µs/conn | C2 | C1 | GC | other |")
print("|---|---|---|---|---|---|---|---|")
for opt in sys.argv[2].split():
    for mode in ("pt", "off"):
        for window in ("first", "warm"):
            rs = [r for r in rows if r[:3] == [opt, mode, window]]
            if rs:
                cols = [st.median(float(r[i]) for r in rs) for i in range(3, 8)]
                print("| %s | %s | %s | %s |" % (opt, mode, window, " | ".join("%.0f" % v for v in cols)))
EOF
