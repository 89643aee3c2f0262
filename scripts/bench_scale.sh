#!/usr/bin/env bash
# Scale figures for BENCHMARKS.md: `evalgate --version`, `evalgate check` on 35 languages x
# 1,000 cases, a 35,000-case run and a 100,000-case run against the kit's mockbot (wall
# time and peak RSS), `evalgate diff` of two 35,000-case runs, and the size and open time
# of a 5,000-case report.html in headless Chromium (when installed). Prints one line per
# figure. Everything goes under $BENCH_DIR/scale (default /tmp/evalgate-bench/scale);
# the mock listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail

REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
KIT=$(readlink -m "$REPO/../shared/bench")
BENCH_DIR=$(readlink -m "${BENCH_DIR:-${TMPDIR:-/tmp}/evalgate-bench}")
OUT=$BENCH_DIR/scale
PORT=${PORT:-18797}
mkdir -p "$OUT"

command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
(cd "$REPO" && cargo build --release --locked -q)
EVALGATE=$REPO/target/release/evalgate
MOCKBOT=${MOCKBOT:-$BENCH_DIR/mockbot-target/release/mockbot}
if [ ! -x "$MOCKBOT" ]; then
  CARGO_TARGET_DIR=$BENCH_DIR/mockbot-target cargo build --release -q --manifest-path "$KIT/mockbot/Cargo.toml"
fi
MOCKBOT_THREADS=1 "$MOCKBOT" "$PORT" >"$OUT/mockbot.log" 2>&1 &
MOCK_PID=$!
trap 'kill $MOCK_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done

measure() { # label, then the command; prints wall seconds and peak RSS
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %M KB peak RSS" "$@" >/dev/null 2>"$OUT/time.txt" || true
  tail -1 "$OUT/time.txt"
}

python3 - "$EVALGATE" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(30):
    t = time.perf_counter(); subprocess.run([sys.argv[1], "--version"], stdout=subprocess.DEVNULL, check=True); runs.append(time.perf_counter() - t)
runs.sort()
print(f"evalgate --version: median {runs[len(runs)//2]*1000:.1f} ms over 30 runs")
PY

python3 "$REPO/scripts/gen_scale.py" "$OUT/p35k" "http://127.0.0.1:$PORT/v1" --langs 35 --cases 1000
python3 "$REPO/scripts/gen_scale.py" "$OUT/p100k" "http://127.0.0.1:$PORT/v1" --langs 35 --cases 2858
python3 "$REPO/scripts/gen_scale.py" "$OUT/p5k" "http://127.0.0.1:$PORT/v1" --langs 5 --cases 1000
for p in p35k p100k p5k; do rm -rf "$OUT/$p/run"; done

measure "check, 35 languages x 1,000 cases" "$EVALGATE" check --config "$OUT/p35k/evalgate.yaml"
measure "run, 35,000 cases, concurrency 64" "$EVALGATE" run --config "$OUT/p35k/evalgate.yaml" --quiet --no-cache --out "$OUT/p35k/run"
measure "run, 100,030 cases, concurrency 64" "$EVALGATE" run --config "$OUT/p100k/evalgate.yaml" --quiet --no-cache --out "$OUT/p100k/run"
measure "run, 5,000 cases" "$EVALGATE" run --config "$OUT/p5k/evalgate.yaml" --quiet --no-cache --out "$OUT/p5k/run"

# A second 35,000-case run with one case in ten regressed in five languages.
python3 - "$OUT/p35k/run" "$OUT/p35k/new" <<'PY'
import json, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
shutil.copy(os.path.join(src, "summary.json"), os.path.join(dst, "summary.json"))
with open(os.path.join(src, "results.jsonl")) as f, open(os.path.join(dst, "results.jsonl"), "w") as g:
    for i, line in enumerate(f):
        r = json.loads(line)
        if r["language"] in ("af", "am", "ar", "az", "be") and i % 10 == 0:
            r.update(passed=False, observed_outcome="deflected", reply="Your issue has been logged.")
            r["checks"].append({"name": "must_include", "passed": False, "detail": "missing"})
        g.write(json.dumps(r) + "\n")
PY
measure "diff, 35,000 vs 35,000 cases" "$EVALGATE" diff "$OUT/p35k/run" "$OUT/p35k/new" --format json

html=$OUT/p5k/run/report.html
echo "report.html, 5,000 cases: $(stat -c %s "$html") bytes"
if command -v chromium >/dev/null; then
  flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync "--user-data-dir=$OUT/chromium")
  echo '<html><body>empty</body></html>' >"$OUT/empty.html"
  for page in "$OUT/empty.html" "$html"; do
    python3 - "$page" "${flags[@]}" <<'PY'
import subprocess, sys, time
page, flags = sys.argv[1], sys.argv[2:]
runs = []
for _ in range(5):
    t = time.perf_counter()
    subprocess.run(["chromium", *flags, "--dump-dom", "file://" + page], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    runs.append(time.perf_counter() - t)
runs.sort()
print(f"chromium --dump-dom {page.rsplit('/', 1)[-1]}: median {runs[2]:.2f} s over 5 runs (browser start included)")
PY
  done
fi
