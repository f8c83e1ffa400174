#!/usr/bin/env bash
# Live upgrade under load, shown to a user: a real `tollgate run` process (the packaged jar) on
# 127.0.0.1 with a generated config (a throwaway CA, passthrough and offload routes to backends on
# loopback) is upgraded N times in a row, alternately with `tollgate upgrade --pid-file` and
# `POST /upgrade`, while clients open new TLS connections every few milliseconds on both routes
# and two 4 MiB transfers each way are held open across every switch. Prints the counts:
# connections attempted, served, refused, reset; long transfers and how many arrived with their
# SHA-256 intact; the pid of every generation. Exits 1 if any connection was refused or reset, or
# a transfer was damaged.
#
# It runs lb-it's UpgradeUnderLoadTest (the same scenario the test suite runs, with its default
# of 5 upgrades) with the count given here. Loopback only; bounded: at most 20 upgrades, each
# client loop at most 50,000 connections or 4 minutes, the whole run at most 15 minutes.
# Needs Linux (epoll), a JDK 17 and Maven with the project's dependencies available.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'USAGE'
Usage: scripts/restart-under-load.sh [--upgrades N] [--offline]
  --upgrades N   how many upgrades in a row (1..20, default 10)
  --offline      pass -o to Maven (dependencies already in ~/.m2)
USAGE
}

upgrades=10
offline=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --upgrades)
      [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 20 ] \
        || { echo "restart-under-load: --upgrades takes 1..20" >&2; exit 2; }
      upgrades=$2; shift 2 ;;
    --offline) offline=(-o); shift ;;
    *) echo "restart-under-load: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

report=$(mktemp)
build_log=$(mktemp)
trap 'rm -f "$report" "$build_log"' EXIT

echo "restart-under-load: building and running $upgrades upgrades under load (a few minutes)..." >&2
status=0
(cd "$top" && timeout 900 mvn -B -q "${offline[@]}" -Dstyle.color=never verify -pl lb-it -am \
  -Dtest=UpgradeUnderLoadTest#upgradesUnderLoadRefuseNothingResetNothingAndDrainLongTransfers \
  -Dsurefire.failIfNoSpecifiedTests=false -Dtollgate.it.upgrades="$upgrades" \
  -Dtollgate.it.upgrade-report="$report") >"$build_log" 2>&1 || status=$?

if [ ! -s "$report" ]; then
  tail -n 60 "$build_log" >&2
  echo "restart-under-load: the scenario did not complete (exit $status); output above" >&2
  exit 1
fi
# One line: upgrades=N pids=[...] connections attempted=... refused=... reset=...; long transfers=...
sed -e 's/ connections /\nconnections: /' -e 's/; long transfers=/\nlong transfers: total=/' \
  -e 's/^/  /; s/\n/\n  /g' "$report"
if [ "$status" -ne 0 ]; then
  grep -E 'expected|Expect|AssertionError' "$build_log" | head -n 20 >&2 || true
  echo "restart-under-load: FAILED (a connection was refused or reset, or a transfer damaged)" >&2
  exit 1
fi
echo "restart-under-load: OK: nothing refused, nothing reset, every long transfer intact"
