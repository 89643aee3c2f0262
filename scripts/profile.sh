#!/usr/bin/env bash
# Profile one `evalgate run` of the benchmark's cases: where the CPU goes, by phase.
#
# Usage: scripts/profile.sh [options]
#   --cases N          cases (default 20000); the project comes from scripts/bench.sh's
#                      layout under $BENCH_DIR, and is generated the same way if missing
#   --latency MS       mock latency (default 0)
#   --concurrency C    conversations in flight (default 32)
#   --evalgate BIN     profile this binary (default: cargo build --release here)
#   --frequency HZ     perf sampling rate (default 2999)
#   --port P           mock port (default 18794)
#
# Needs perf (Debian: linux-perf) and a built mockbot (scripts/bench.sh builds it). Records
# with `perf record --call-graph dwarf`, then prints the phase table of
# scripts/profile_breakdown.py. perf.data and the breakdown stay in
# $BENCH_DIR/profiles/<stamp>/. The mock listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
KIT=$(readlink -m "$REPO/../shared/bench")
BENCH_DIR=$(readlink -m "${BENCH_DIR:-${TMPDIR:-/tmp}/evalgate-bench}")
N=20000
LATENCY=0
CONCURRENCY=32
EVALGATE=""
FREQUENCY=2999
PORT=18794

die() { echo "profile: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cases) N=$2; shift 2 ;;
    --latency) LATENCY=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --evalgate) EVALGATE=$(readlink -f "$2"); shift 2 ;;
    --frequency) FREQUENCY=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || die "--cases wants a positive integer"
command -v perf >/dev/null || die "needs perf (Debian: apt-get install linux-perf)"
MOCKBOT="$BENCH_DIR/mockbot-target/release/mockbot"
if [[ ! -x $MOCKBOT ]]; then
  cargo build --release --locked --manifest-path "$KIT/mockbot/Cargo.toml" \
    --target-dir "$BENCH_DIR/mockbot-target" >&2 || die "cannot build the kit's mockbot"
fi
if [[ -z $EVALGATE ]]; then
  (cd "$REPO" && cargo build --release --locked >&2) || die "cargo build failed"
  EVALGATE="$REPO/target/release/evalgate"
fi

OUT="$BENCH_DIR/profiles/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT" "$BENCH_DIR/cases"
PROJECT="$OUT/project"
BASE_URL="http://127.0.0.1:$PORT/v1"
[[ -f $BENCH_DIR/cases/cases_$N.jsonl ]] \
  || python3 "$KIT/gen_cases.py" "$N" --out-dir "$BENCH_DIR/cases" --base-url "$BASE_URL" >&2
python3 "$REPO/scripts/bench_cases.py" "$BENCH_DIR/cases/cases_$N.jsonl" --out-dir "$PROJECT" \
  --base-url "$BASE_URL" --concurrency "$CONCURRENCY" >&2

MOCKBOT_LATENCY_MS=$LATENCY MOCKBOT_HOST=127.0.0.1 "$MOCKBOT" "$PORT" > "$OUT/mockbot.log" 2>&1 &
MOCK_PID=$!
trap 'kill "$MOCK_PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || die "mockbot did not start (see $OUT/mockbot.log)"

echo "profile: perf record of evalgate run, N=$N, ${LATENCY} ms, concurrency $CONCURRENCY" >&2
perf record -F "$FREQUENCY" --call-graph dwarf,16384 -o "$OUT/perf.data" -- \
  "$EVALGATE" run --config "$PROJECT/evalgate.yaml" --concurrency "$CONCURRENCY" --quiet \
  --no-cache --no-baseline --out "$OUT/run" > /dev/null 2> "$OUT/perf.log" \
  || { cat "$OUT/perf.log" >&2; die "the profiled run failed"; }
python3 "$REPO/scripts/bench_cases.py" "$BENCH_DIR/cases/cases_$N.jsonl" --verify "$OUT/run" \
  > "$OUT/verify.json" || die "the profiled run's results do not match the cases (see $OUT/verify.json)"
perf script -i "$OUT/perf.data" -F comm,ip,sym 2>/dev/null \
  | python3 "$REPO/scripts/profile_breakdown.py" | tee "$OUT/breakdown.md"
python3 -c 'import json,sys; print("\nrun phase %.3f s" % json.load(open(sys.argv[1]))["run_seconds"])' \
  "$OUT/run/summary.json"
echo "profile: files in $OUT" >&2
