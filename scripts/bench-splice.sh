#!/usr/bin/env bash
# Benchmark (not a test): Tollgate's CPU per GB of passthrough bulk, io.splice off and on.
#
# A Python origin sends SIZE bytes after the replayed ClientHello and closes; a Python client
# sends a captured ClientHello (lb-testkit's openssl-3.0-s_client.bin, SNI openssl.test) through
# Tollgate (passthrough, one worker thread) and reads to EOF. Tollgate is pinned to CPU 1, origin
# and client to CPU 0 (as ../shared/bench does); Tollgate's CPU is utime+stime from /proc over each
# transfer. Per setting: one unmeasured transfer (JIT), then RUNS measured ones. No TLS on either
# end (passthrough does not look past the hello), so the generator's CPU stays small.
#
# Everything runs on 127.0.0.1, loops are bounded by RUNS, and what the script starts and its temp
# dir are removed on exit. Needs java, python3, taskset.
#
# Usage: scripts/bench-splice.sh [SIZE_GIB (default 4)] [RUNS (default 3)]
# Env:   TOLLGATE_JAR (default lb-core/target/tollgate.jar), TOLLGATE_JAVA_OPTS
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gib=${1:-4}
runs=${2:-3}
jar=${TOLLGATE_JAR:-$top/lb-core/target/tollgate.jar}
hello=$top/lb-testkit/src/main/resources/io/tollgate/testkit/hellos/openssl-3.0-s_client.bin
[ -f "$jar" ] || { echo "no $jar: mvn -B -DskipTests package -pl lb-core -am" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat >"$work/origin.py" <<'EOF'
import socket, sys, threading
port, total = int(sys.argv[1]), int(sys.argv[2])
chunk = bytes(1 << 20)
def serve(c):
    try:
        c.recv(4096)  # the replayed ClientHello
        left = total
        while left > 0:
            left -= c.send(chunk[: min(len(chunk), left)])
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
    finally:
        c.close()
s = socket.socket()
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
cat >"$work/client.py" <<'EOF'
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(open(sys.argv[2], "rb").read())
buf = bytearray(1 << 20)
got, t = 0, time.time()
while True:
    n = c.recv_into(buf)
    if n == 0:
        break
    got += n
print(got, time.time() - t)
EOF

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

echo "| io.splice | run | GB | MB/s | Tollgate CPU s | CPU s per GB |"
echo "| --- | --- | --- | --- | --- | --- |"
for splice in false true; do
  origin_port=$(free_port)
  port=$(free_port)
  taskset -c 0 python3 "$work/origin.py" "$origin_port" $((gib << 30)) &
  origin=$!
  pids+=("$origin")
  cat >"$work/t.conf" <<EOF
tollgate {
  listeners = [ { name = main, address = "127.0.0.1:$port" } ]
  io { worker-threads = 1, splice = $splice }
  routes = [ { hosts = ["openssl.test"], mode = passthrough, pool = origin } ]
  default-route = reject
  pools { origin { servers = ["127.0.0.1:$origin_port"] } }
}
EOF
  # shellcheck disable=SC2086
  taskset -c 1 java ${TOLLGATE_JAVA_OPTS:-} -jar "$jar" run --config "$work/t.conf" \
    >"$work/tollgate-$splice.log" 2>&1 &
  tg=$!
  pids+=("$tg")
  for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.2
  done
  taskset -c 0 python3 "$work/client.py" "$port" "$hello" >/dev/null # JIT warm-up
  for run in $(seq "$runs"); do
    before=$(ticks "$tg")
    read -r bytes secs < <(taskset -c 0 python3 "$work/client.py" "$port" "$hello")
    after=$(ticks "$tg")
    python3 -c "
b, s, cpu = $bytes, $secs, ($after - $before) / $hz
print(f'| $splice | $run | {b/1e9:.2f} | {b/s/1e6:.0f} | {cpu:.2f} | {cpu/(b/1e9):.3f} |')"
  done
  kill "$tg" "$origin" 2>/dev/null || true
  wait "$tg" "$origin" 2>/dev/null || true
done
