#!/usr/bin/env bash
# The exec provider's overhead per turn: the shipped eval sets through a Python program that
# answers every turn with the demo bot's own answer (recorded from an in-process run), next
# to the demo bot in-process. Both runs score identical transcripts, so the difference in
# run_seconds (summary.json: the conversations only, not loading or reports) is the cost of
# the pipe round trip, the JSON lines and the program's start-up.
#
# Usage: scripts/bench_exec.sh [CONCURRENCY] [REPEATS] [RUNS]   (defaults 1 50 5)
# EVALGATE=path/to/evalgate to use a built binary (default: target/release/evalgate).
set -euo pipefail
REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
E=${EVALGATE:-${CARGO_TARGET_DIR:-$REPO/target}/release/evalgate}
C=${1:-1}; R=${2:-50}; RUNS=${3:-5}
DIR=${TMPDIR:-/tmp}/evalgate-bench-exec
rm -rf "$DIR" && mkdir -p "$DIR/demo" "$DIR/exec"
for p in demo exec; do
  bot="  provider: demo"
  [ $p = exec ] && bot='  provider: exec
  command: ["python3", "replay_bot.py"]'
  printf 'bot:\n%s\n  prompt: %s/prompts/support.md.j2\nevalsets: ["%s/evalsets/**/*.yaml"]\n' \
    "$bot" "$REPO" "$REPO" > "$DIR/$p/evalgate.yaml"
done
(cd "$DIR/demo" && "$E" run --quiet --out record >/dev/null) || true
python3 - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
table = {}
for line in open(f"{d}/demo/record/results.jsonl"):
    r = json.loads(line)
    table[r["key"]] = [{"reply": t["content"], "actions": t.get("tool_calls", [])}
                       for t in r["turns"] if t["role"] == "assistant"]
json.dump(table, open(f"{d}/exec/replay.json", "w"))
PY
cat > "$DIR/exec/replay_bot.py" <<'PY'
import json, sys
table = json.load(open("replay.json"))
for line in sys.stdin:
    request = json.loads(line)
    if "end" in request:
        continue
    turns = table[request["case"]["key"]]
    print(json.dumps(turns[min(request["turn"], len(turns) - 1)]), flush=True)
PY
for run in $(seq 1 "$RUNS"); do
  for p in demo exec; do
    rm -rf "$DIR/$p/out"
    (cd "$DIR/$p" && "$E" run --quiet --out out --concurrency "$C" --repeats "$R" >/dev/null) || true
    python3 - "$DIR/$p/out" "$p" "$C" "$run" <<'PY'
import json, sys
out, p, c, run = sys.argv[1:5]
turns = sum(sum(1 for t in json.loads(l)["turns"] if t["role"] == "assistant")
            for l in open(f"{out}/results.jsonl"))
s = json.load(open(f"{out}/summary.json"))
o = s["overall"]
print(f"{p} c={c} run={run} run_seconds={s['run_seconds']:.3f} turns={turns} "
      f"errors={o['errors']} passed={o['passed']}")
PY
  done
done
