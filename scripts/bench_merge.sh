#!/usr/bin/env bash
# Merge figures for BENCHMARKS.md "Merging shards": a 35,000-case suite (35 languages x
# 1,000 cases, scripts/gen_scale.py) run as 8 shards on the built-in demo bot, with 1 and
# with 3 repeats (35,000 and 105,000 results), then `evalgate merge` of the 8 run
# directories timed with /usr/bin/time -v: wall time and peak RSS, for the whole command
# (merging, the summary, and every report) and for the reports alone (`evalgate gate
# --out` of the merged run) to tell the two apart. Prints one line per figure.
# Everything goes under $BENCH_DIR/merge (default /tmp/evalgate-bench/merge); nothing
# listens on any port.
#
# usage: scripts/bench_merge.sh [--keep]   (--keep: reuse shard runs left by a previous call)
set -euo pipefail

REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
BENCH_DIR=$(readlink -m "${BENCH_DIR:-${TMPDIR:-/tmp}/evalgate-bench}")
OUT=$BENCH_DIR/merge
SHARDS=8
KEEP=${1:-}
mkdir -p "$OUT"

command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
(cd "$REPO" && cargo build --release --locked -q)
EVALGATE=${CARGO_TARGET_DIR:-$REPO/target}/release/evalgate

# The generated suite, on the demo bot: no server, the same answers on every machine.
python3 "$REPO/scripts/gen_scale.py" "$OUT/p35k" "http://127.0.0.1:9/v1" --langs 35 --cases 1000 >/dev/null
cat >"$OUT/p35k/evalgate.yaml" <<'YAML'
# Written by scripts/bench_merge.sh: the generated 35,000-case suite on the demo bot.
bot:
  provider: demo
evalsets: ["evalsets/scale/*.yaml"]
run: { concurrency: 64, retries: 0 }
YAML

measure() { # label, then the command; prints wall seconds and peak RSS
  local label=$1; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time.txt" || true
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/time.txt")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/time.txt")
  echo "$label: $wall wall, $((rss / 1024)) MB peak RSS"
}

for repeats in 1 3; do
  runs=$OUT/r$repeats
  if [ "$KEEP" != --keep ] || [ ! -f "$runs/shard-$SHARDS/summary.json" ]; then
    rm -rf "$runs"
    mkdir -p "$runs"
    for i in $(seq 1 "$SHARDS"); do
      "$EVALGATE" run --config "$OUT/p35k/evalgate.yaml" --shard "$i/$SHARDS" --repeats "$repeats" \
        --quiet --no-cache --out "$runs/shard-$i" >/dev/null
    done
  fi
  dirs=()
  for i in $(seq 1 "$SHARDS"); do dirs+=("$runs/shard-$i"); done
  results=$(cat "${dirs[@]/%//results.jsonl}" | wc -l)
  bytes=$(cat "${dirs[@]/%//results.jsonl}" | wc -c)
  echo "$SHARDS shards, repeats $repeats: $results results, $((bytes / 1024 / 1024)) MB of results.jsonl"
  rm -rf "$runs/merged" "$runs/regate"
  measure "merge, $results results (merge + summary + every report)" \
    "$EVALGATE" --config "$OUT/p35k/evalgate.yaml" merge "$runs/merged" "${dirs[@]}" --quiet --no-baseline
  measure "  of which the reports alone (gate --out of the merged run)" \
    "$EVALGATE" --config "$OUT/p35k/evalgate.yaml" gate "$runs/merged" --gate "$REPO/gates/launch.yaml" --no-baseline --out "$runs/regate"
  merged=$(wc -l <"$runs/merged/results.jsonl")
  [ "$merged" -eq "$results" ] || { echo "merged $merged of $results results" >&2; exit 1; }
done
