#!/usr/bin/env bash
# Fuzzes the ClientHello inspection and the PROXY header reader with Jazzer (coverage-guided,
# libFuzzer) for about SECONDS in total (default 120), split between the two targets, and prints
# per target the executions, the coverage reached and any crash input.
#
#   scripts/fuzz.sh [SECONDS] [clientHello|proxyHeaderThenHello]
#
# Inputs that found new coverage are kept in lb-core/.cifuzz-corpus/ (not committed; later runs
# start from it). A crash is written to lb-core/src/test/resources/io/tollgate/fuzz/
# <Target>Inputs/<method>/crash-<sha1>: fix the bug and commit the file, and every `mvn verify`
# replays it from then on. Each target runs in its own JVM (Jazzer fuzzes one test per JVM).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-120}
only=${2:-}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 2 )); then
  echo "usage: $0 [SECONDS>=2] [clientHello|proxyHeaderThenHello]" >&2
  exit 2
fi
targets=("ClientHelloFuzzTest#clientHello" "ProxyHeaderFuzzTest#proxyHeaderThenHello")
if [[ -n "$only" ]]; then
  targets=()
  case "$only" in
    clientHello) targets=("ClientHelloFuzzTest#clientHello") ;;
    proxyHeaderThenHello) targets=("ProxyHeaderFuzzTest#proxyHeaderThenHello") ;;
    *) echo "unknown target $only" >&2; exit 2 ;;
  esac
fi
per_target=$(( seconds / ${#targets[@]} ))

offline=-o
if [[ "${FUZZ_ONLINE:-}" == 1 ]]; then offline=; fi
logdir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-fuzz.XXXXXX")
echo "Building lb-core and its test classes..."
if ! mvn -B $offline -q test-compile -pl lb-core -am >"$logdir/build.log" 2>&1; then
  cat "$logdir/build.log" >&2
  exit 1
fi
status=0
for target in "${targets[@]}"; do
  log="$logdir/${target%%#*}.log"
  echo "Fuzzing ${target} for ${per_target}s (log: $log)..."
  # The leak detector stays on at its sampling level: the per-input byte accounting in the test
  # is exact, and paranoid tracking would cost more than the parsing.
  argline="-Dio.netty.leakDetection.level=simple -Xmx1g -Djazzer.hooks=true"
  argline+=" -Djazzer.max_duration=${per_target}s -Djazzer.instrumentation_includes=io.tollgate.**"
  set +e
  JAZZER_FUZZ=1 mvn -B $offline verify -pl lb-core -am -Dtest="$target" \
    -Dsurefire.failIfNoSpecifiedTests=false -Dsurefire.argLine="$argline" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -aoE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
  last=$(grep -aE '^#[0-9]+' "$log" | tail -1 || true)
  echo "  ${runs:-no libFuzzer summary}"
  echo "  last status: ${last:-none}"
  crashes=$(grep -aoE "(crash|Crash)[^ ]* (saved|written|file)[^\n]*|[^ ]*crash-[0-9a-f]{40}" "$log" \
    | sort -u || true)
  if (( rc != 0 )); then
    status=1
    echo "  FAILED (exit $rc); finding:"
    grep -aE "FuzzTestFinding|AssertionError|Exception" "$log" | grep -av "^INFO" | head -3 | sed 's/^/    /'
    echo "  crash input: ${crashes:-see $log}"
  fi
done
exit $status
