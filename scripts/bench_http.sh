#!/usr/bin/env bash
# The http provider's overhead next to the openai route: the same N cases against the same
# mockbot (the benchmark kit's, ../shared/bench), once through `provider: openai` and once
# through `provider: http` with a chat-completions-shaped request template and response
# expressions; runs alternate, R of each. Prints cases/s (median) per route and their ratio.
#
# Usage: scripts/bench_http.sh [--n N] [--reps R] [--concurrency C] [--port P] [--evalgate BIN]
#   --n N            cases (default 5000)
#   --reps R         runs per route, medians reported (default 3)
#   --concurrency C  conversations in flight (default 32)
#   --port P         mockbot port (default 18794)
#   --evalgate BIN   the evalgate binary (default: cargo build --release --locked, found via
#                    cargo metadata, so CARGO_TARGET_DIR is honoured)
#
# Each run is checked: exit 0, the mock saw exactly N chat requests, and exactly the
# kit's expect_pass cases passed (scripts/bench_cases.py --verify). Everything goes under
# $BENCH_DIR/http-<stamp>/ (default BENCH_DIR ${TMPDIR:-/tmp}/evalgate-bench).
set -euo pipefail

REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
KIT=$(readlink -m "$REPO/../shared/bench")
BENCH_DIR=$(readlink -m "${BENCH_DIR:-${TMPDIR:-/tmp}/evalgate-bench}")
export BENCH_DIR
N=5000 REPS=3 CONCURRENCY=32 PORT=18794 EVALGATE=""
die() { echo "bench_http: $*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --n) N=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --evalgate) EVALGATE=$(readlink -f "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
[[ -x $KIT/bench.sh ]] || die "benchmark kit not found at $KIT"
[[ -x /usr/bin/time ]] || die "needs GNU time (/usr/bin/time): apt-get install time"

if [[ -z $EVALGATE ]]; then
  (cd "$REPO" && cargo build --release --locked >&2)
  TARGET_DIR=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  EVALGATE="$TARGET_DIR/release/evalgate"
fi
SESSION="$BENCH_DIR/http-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$SESSION" "$BENCH_DIR/cases"
# A private copy: a concurrent build must not swap the binary between runs.
cp "$EVALGATE" "$SESSION/evalgate"
EVALGATE="$SESSION/evalgate"
cargo build --release --locked --manifest-path "$KIT/mockbot/Cargo.toml" \
  --target-dir "$BENCH_DIR/mockbot-target" >&2
export MOCKBOT="$BENCH_DIR/mockbot-target/release/mockbot"

BASE_URL="http://127.0.0.1:$PORT/v1"
python3 "$KIT/gen_cases.py" "$N" --out-dir "$BENCH_DIR/cases" --base-url "$BASE_URL" >&2
OPENAI="$SESSION/openai" HTTP="$SESSION/http"
python3 "$REPO/scripts/bench_cases.py" "$BENCH_DIR/cases/cases_$N.jsonl" \
  --out-dir "$OPENAI" --base-url "$BASE_URL" --concurrency "$CONCURRENCY" >&2
# The same project with the bot reached through templates and expressions.
python3 - "$OPENAI/evalgate.yaml" "$HTTP" "$BASE_URL" <<'PY'
import pathlib, shutil, sys
src, dst, base = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
shutil.copytree(src.parent, dst, dirs_exist_ok=True)
text = src.read_text()
start, end = text.index("bot:\n"), text.index("evalsets:")
bot = f"""bot:
  provider: http
  url: "{base}/chat/completions"
  body: '{{"model": "mock", "messages": [{{"role": "user", "content": {{{{ message }}}}}}]}}'
  response:
    reply: "response.choices[0].message.content"
    tokens_in: "response.usage.prompt_tokens"
    tokens_out: "response.usage.completion_tokens"
  timeout_s: 30
  handoff:
    tool: null
    markers: []
"""
(dst / "evalgate.yaml").write_text(text[:start] + bot + text[end:])
PY
for route in openai http; do
  "$EVALGATE" check --config "$SESSION/$route/evalgate.yaml" > "$SESSION/check_$route.txt" \
    || { cat "$SESSION/check_$route.txt" >&2; die "check rejected the $route project"; }
done

RESULTS="$SESSION/results.jsonl"
for rep in $(seq 1 "$REPS"); do
  for route in openai http; do
    "$KIT/bench.sh" --label "evalgate-$route" --n "$N" --latency 0 --reps 1 --port "$PORT" \
      --results "$RESULTS" --runs-dir "$SESSION/runs/rep$rep" --wait-quiet 0 -- \
      "$EVALGATE" run --config "$SESSION/$route/evalgate.yaml" --concurrency "$CONCURRENCY" \
      --quiet --no-cache --out "{run_dir}/out" >&2
    out="$SESSION/runs/rep$rep/evalgate-${route}_n${N}_lat0_r1/out"
    python3 "$REPO/scripts/bench_cases.py" "$BENCH_DIR/cases/cases_$N.jsonl" --verify "$out" >&2 \
      || die "the $route run of rep $rep does not agree with the cases (see $out)"
  done
done

python3 - "$RESULTS" "$N" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
rate = {}
for route in ("openai", "http"):
    runs = [r for r in rows if r["label"] == f"evalgate-{route}"]
    for r in runs:
        if r["rc"] != 0 or (r.get("mock") or {}).get("chat_requests") != n:
            sys.exit(f"bench_http: a {route} run failed: {r['run_dir']}")
    walls = [r["wall_s"] for r in runs]
    cpu = [r.get("user_s", 0) + r.get("sys_s", 0) for r in runs]
    rate[route] = n / statistics.median(walls)
    print(f"{route:>6}: {rate[route]:8.0f} cases/s (median wall {statistics.median(walls):.2f} s of {walls}; "
          f"median CPU {statistics.median(cpu):.2f} s)")
print(f"http / openai = {rate['http'] / rate['openai']:.1%}")
PY
