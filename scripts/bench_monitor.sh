#!/usr/bin/env bash
# Monitoring figures for BENCHMARKS.md ("Monitoring a production export"): generates an
# export of N conversations (default 1,000,000; scripts/gen_export.py, seeded) and times
# `evalgate monitor` over it with the shipped gate: wall time and peak RSS, three runs.
# Everything goes under $BENCH_DIR/monitor (default /tmp/evalgate-bench/monitor).
#
#   scripts/bench_monitor.sh              # 1,000,000 conversations
#   scripts/bench_monitor.sh 100000       # a quicker look
set -euo pipefail

REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
BENCH_DIR=$(readlink -m "${BENCH_DIR:-${TMPDIR:-/tmp}/evalgate-bench}")
OUT=$BENCH_DIR/monitor
N=${1:-1000000}
mkdir -p "$OUT"

command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
(cd "$REPO" && cargo build --release --locked -q)
EVALGATE=${CARGO_TARGET_DIR:-$REPO/target}/release/evalgate

EXPORT=$OUT/export-$N.jsonl
if [ ! -s "$EXPORT" ]; then
  python3 "$REPO/scripts/gen_export.py" --conversations "$N" --out "$EXPORT"
fi
echo "export: $(wc -l <"$EXPORT") conversations, $(du -m "$EXPORT" | cut -f1) MB"

for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall, %U s user, %M KB peak RSS" \
    "$EVALGATE" monitor "$EXPORT" --gate "$REPO/gates/launch.yaml" --out "$OUT/report" --quiet \
    >"$OUT/stdout.txt" 2>"$OUT/time.txt" || true   # exit 1: the drifting language fires
  tail -1 "$OUT/time.txt"
done
grep -E "FAIL|Rollback" "$OUT/stdout.txt" || true
