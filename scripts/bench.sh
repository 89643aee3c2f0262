#!/usr/bin/env bash
# Reproduce evalgate's overhead benchmark (BENCHMARKS.md) on this machine, in one command.
#
# Usage: scripts/bench.sh [options]
#   --reps R            runs per configuration, medians reported (default 3)
#   --run N:MS          a configuration: N cases at mock latency MS ms (repeatable;
#                       default: 5000:0 only)
#   --with-latency      also run 1000:50 (N=1000 at 50 ms mock latency)
#   --concurrency C     conversations in flight for evalgate (default 32, as promptfoo)
#   --no-wrk            skip the loopback limit (wrk against one mockbot thread)
#   --wrk-reps K        wrk runs of --wrk-duration each, median reported (default 3)
#   --wrk-duration D    (default 10s)
#   --with-promptfoo    also run promptfoo 0.123.1 (the kit's reference harness) on the same
#                       N and latency; installs node + promptfoo under $BENCH_DIR/promptfoo
#                       (~2 GB, ~2.5 min, needs npm and the npm registry)
#   --wait-quiet SECS   before each run, wait up to SECS for the machine to be < 25 % busy
#                       (passed to the kit's bench.sh; default 60, 0 = never wait)
#   --port P            mock port for the runs (default 18790); wrk uses P-2
#   --from-head         build evalgate from `git archive HEAD` (into $BENCH_DIR/src-head)
#                       instead of the working tree, so uncommitted edits are not measured
#   --evalgate BIN      use this evalgate binary; do not build evalgate
#   --no-install        do not apt-get install missing tools
#
# What it does: installs GNU time and wrk if missing; builds evalgate (cargo build --release --locked)
# and the kit's mockbot (into $BENCH_DIR/mockbot-target: the kit folder stays untouched);
# generates the kit's neutral cases (gen_cases.py); converts them into an evalgate project
# (scripts/bench_cases.py); runs
#   evalgate run --config <abs>/evalgate.yaml --concurrency 32 --quiet [--no-cache] --out {run_dir}/out
# under the kit's bench.sh (fresh mockbot, /usr/bin/time -v); fails loudly unless every run
# exited 0, the mock saw exactly N chat requests and exactly the expect_pass cases passed
# (checked in summary.json and case by case in results.jsonl); then measures the loopback
# limit with wrk and prints a table of medians.
#
# Everything goes under $BENCH_DIR (default ${TMPDIR:-/tmp}/evalgate-bench); this
# invocation's results are in $BENCH_DIR/sessions/<stamp>/ (results.jsonl, wrk.txt,
# table.md, meta.json) and are also appended to $BENCH_DIR/results.jsonl (for the kit's
# summarize.py). Servers listen on 127.0.0.1 only.
set -euo pipefail

REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
KIT=$(readlink -m "$REPO/../shared/bench")
BENCH_DIR=$(readlink -m "${BENCH_DIR:-${TMPDIR:-/tmp}/evalgate-bench}")
export BENCH_DIR

REPS=3
RUNS=()
WITH_LATENCY=0
WITH_WRK=1
WRK_REPS=3
WRK_DURATION=10s
WITH_PROMPTFOO=0
WAIT_QUIET=60
PORT=18790
FROM_HEAD=0
EVALGATE=""
INSTALL=1
CONCURRENCY=32

die() { echo "bench: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --run) RUNS+=("$2"); shift 2 ;;
    --with-latency) WITH_LATENCY=1; shift ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --no-wrk) WITH_WRK=0; shift ;;
    --wrk-reps) WRK_REPS=$2; shift 2 ;;
    --wrk-duration) WRK_DURATION=$2; shift 2 ;;
    --with-promptfoo) WITH_PROMPTFOO=1; shift ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --from-head) FROM_HEAD=1; shift ;;
    --evalgate) EVALGATE=$(readlink -f "$2"); shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
[[ ${#RUNS[@]} -gt 0 ]] || RUNS=("5000:0")
[[ $WITH_LATENCY == 1 ]] && RUNS+=("1000:50")
for r in "${RUNS[@]}"; do [[ $r =~ ^[0-9]+:[0-9]+$ ]] || die "--run wants N:MS, got $r"; done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "--reps wants a positive integer"
[[ -d $KIT && -x $KIT/bench.sh ]] || die "benchmark kit not found at $KIT"
WRK_PORT=$((PORT - 2))
BASE_URL="http://127.0.0.1:$PORT/v1"

# ---- tools ----------------------------------------------------------------------------
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }
apt_install() {
  [[ $INSTALL == 1 ]] || die "missing: $* (run without --no-install, or install them)"
  command -v apt-get >/dev/null || die "missing: $* and no apt-get; install them by hand"
  echo "bench: installing $*" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2 \
    || { as_root apt-get update >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2; } \
    || die "apt-get install $* failed"
}
need=()
[[ -x /usr/bin/time ]] || need+=(time)
[[ $WITH_WRK == 0 ]] || command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
[[ $WITH_PROMPTFOO == 0 ]] || command -v npm >/dev/null || need+=(npm)
[[ ${#need[@]} -eq 0 ]] || apt_install "${need[@]}"
command -v python3 >/dev/null || die "needs python3 (3.11+)"
command -v cargo >/dev/null || [[ -n $EVALGATE ]] || die "needs cargo (Rust 1.89+, https://rustup.rs)"

SESSION="$BENCH_DIR/sessions/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$SESSION" "$BENCH_DIR/cases"
RESULTS="$SESSION/results.jsonl"
: > "$RESULTS"

# ---- builds ---------------------------------------------------------------------------
# The revision is read once, before building: others may commit while this runs.
REV=$(git -C "$REPO" rev-parse HEAD)
git_rev=${REV:0:7}
dirty=$(git -C "$REPO" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | wc -l)
[[ $FROM_HEAD == 1 ]] && dirty=0
if [[ -n $EVALGATE ]]; then git_rev="unknown (--evalgate $EVALGATE)"; dirty=0; fi
if [[ -z $EVALGATE ]]; then
  SRC=$REPO
  if [[ $FROM_HEAD == 1 ]]; then
    SRC="$BENCH_DIR/src-head"
    rm -rf "$SRC"; mkdir -p "$SRC"
    git -C "$REPO" archive "$REV" | tar -x -C "$SRC"
    export CARGO_TARGET_DIR="$BENCH_DIR/head-target"  # kept between invocations: incremental
  fi
  echo "bench: cargo build --release --locked ($SRC)" >&2
  # --locked: never rewrite the checkout's Cargo.lock (CI builds the same way).
  (cd "$SRC" && cargo build --release --locked >&2) || die "cargo build --release --locked failed in $SRC
  (a Cargo.lock out of date with Cargo.toml? commit both, or measure the last commit with --from-head)"
  TARGET_DIR=$(cd "$SRC" && cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  EVALGATE="$TARGET_DIR/release/evalgate"
fi
[[ -x $EVALGATE ]] || die "evalgate binary not found: $EVALGATE"
# Measure a private copy: a concurrent `cargo build` in the checkout must not swap the binary
# between runs.
cp "$EVALGATE" "$SESSION/evalgate"
EVALGATE="$SESSION/evalgate"
echo "bench: cargo build --release mockbot -> $BENCH_DIR/mockbot-target" >&2
cargo build --release --locked --manifest-path "$KIT/mockbot/Cargo.toml" \
  --target-dir "$BENCH_DIR/mockbot-target" >&2
export MOCKBOT="$BENCH_DIR/mockbot-target/release/mockbot"

# ---- what was measured ----------------------------------------------------------------
python3 - "$SESSION/meta.json" <<EOF
import json, os, platform, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = sh("awk '/MemTotal/{printf \"%.1f\", \$2/1048576}' /proc/meminfo")
json.dump({
  "date_utc": sh("date -u +%Y-%m-%dT%H:%M:%SZ"), "cores": os.cpu_count(), "cpu": cpu,
  "mem_gib": mem, "kernel": platform.release(), "rustc": sh("rustc --version"),
  "evalgate": "$EVALGATE", "evalgate_version": sh("'$EVALGATE' --version"),
  "git_rev": "$git_rev", "uncommitted_src_files": int("$dirty"), "from_head": bool($FROM_HEAD),
  "load_at_start": open("/proc/loadavg").read().split()[:3],
  "runs": "${RUNS[*]}", "reps": $REPS, "concurrency": $CONCURRENCY,
}, open(sys.argv[1], "w"), indent=2)
EOF
echo "bench: evalgate $git_rev ($dirty uncommitted file(s) under src/, Cargo.*), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# ---- cases and projects ---------------------------------------------------------------
Ns=$(for r in "${RUNS[@]}"; do echo "${r%%:*}"; done | sort -un | tr '\n' ' ')
# shellcheck disable=SC2086
python3 "$KIT/gen_cases.py" $Ns --out-dir "$BENCH_DIR/cases" --base-url "$BASE_URL" >&2
for n in $Ns; do
  python3 "$REPO/scripts/bench_cases.py" "$BENCH_DIR/cases/cases_$n.jsonl" \
    --out-dir "$BENCH_DIR/project_$n" --base-url "$BASE_URL" --concurrency "$CONCURRENCY" >&2
  "$EVALGATE" check --config "$BENCH_DIR/project_$n/evalgate.yaml" > "$SESSION/check_$n.txt" \
    || { cat "$SESSION/check_$n.txt" >&2; die "evalgate check rejected the generated project for N=$n"; }
done

# ---- runs -----------------------------------------------------------------------------
# Cache off where evalgate has one (it caches only temperature-0 bots, and this config sets
# no temperature, but say so explicitly): every case must reach the mock.
EXTRA=()
if "$EVALGATE" run --help | grep -q -- '--no-cache'; then EXTRA+=(--no-cache); fi
failures=0
check_group() { # label n latency: rc, requests and pass counts of every rep
  local label=$1 n=$2 lat=$3 rep dir
  for rep in $(seq 1 "$REPS"); do
    dir="$BENCH_DIR/runs/${label}_n${n}_lat${lat}_r${rep}"
    python3 - "$RESULTS" "$label" "$n" "$lat" "$rep" <<'EOF' || failures=$((failures + 1))
import json, sys
path, label, n, lat, rep = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = [json.loads(l) for l in open(path) if l.strip()]
r = [x for x in rows if x["label"] == label and x["n"] == n and x["latency_ms"] == lat and x["rep"] == rep][-1]
ok_rc = r["rc"] == 0 or (label == "promptfoo" and r["rc"] == 100)  # promptfoo: 100 = some tests failed
seen = (r.get("mock") or {}).get("chat_requests")
bad = []
if not ok_rc: bad.append(f"exit code {r['rc']}")
if seen != n: bad.append(f"mock saw {seen} chat requests, expected {n}")
if bad:
    print(f"bench: FAILED {label} N={n} latency={lat} rep {rep}: " + "; ".join(bad) + f" (see {r['run_dir']})", file=sys.stderr)
    sys.exit(1)
EOF
    if [[ $label == evalgate ]]; then
      python3 "$REPO/scripts/bench_cases.py" "$BENCH_DIR/cases/cases_$n.jsonl" --verify "$dir/out" \
        > "$dir/verify.json" || { failures=$((failures + 1)); cat "$dir/verify.json" >&2
          echo "bench: FAILED evalgate N=$n latency=$lat rep $rep: passes do not match expect_pass (see $dir)" >&2; }
    else
      python3 "$KIT/check_promptfoo_results.py" "$dir/results.json" "$BENCH_DIR/cases/cases_$n.jsonl" \
        > "$dir/verify.json" || { failures=$((failures + 1)); cat "$dir/verify.json" >&2
          echo "bench: FAILED promptfoo N=$n latency=$lat rep $rep: results do not match expect_pass (see $dir)" >&2; }
    fi
  done
}

for r in "${RUNS[@]}"; do
  n=${r%%:*}; lat=${r##*:}
  echo "bench: evalgate N=$n latency=${lat}ms x$REPS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  "$KIT/bench.sh" --label evalgate --n "$n" --latency "$lat" --reps "$REPS" --port "$PORT" \
    --cases-dir "$BENCH_DIR/cases" --results "$RESULTS" --wait-quiet "$WAIT_QUIET" -- \
    "$EVALGATE" run --config "$BENCH_DIR/project_$n/evalgate.yaml" --concurrency "$CONCURRENCY" \
    --quiet "${EXTRA[@]}" --out "{run_dir}/out" > /dev/null
  check_group evalgate "$n" "$lat"
done

if [[ $WITH_PROMPTFOO == 1 ]]; then
  "$KIT/install_promptfoo.sh" >&2
  for r in "${RUNS[@]}"; do
    n=${r%%:*}; lat=${r##*:}
    echo "bench: promptfoo N=$n latency=${lat}ms x$REPS" >&2
    "$KIT/bench.sh" --label promptfoo --n "$n" --latency "$lat" --reps "$REPS" --port "$PORT" \
      --cases-dir "$BENCH_DIR/cases" --results "$RESULTS" --wait-quiet "$WAIT_QUIET" -- \
      "$KIT/run_promptfoo.sh" eval -c "{config}" --no-cache --no-share --no-table \
      --no-progress-bar -o "{run_dir}/results.json" > /dev/null
    check_group promptfoo "$n" "$lat"
  done
fi
cat "$RESULTS" >> "$BENCH_DIR/results.jsonl"

# ---- loopback limit -------------------------------------------------------------------
busy_idle() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
wait_quiet() { # like the kit's bench.sh: up to WAIT_QUIET s for >= 75 % idle over 2 s
  local waited=0 a b
  while (( waited < WAIT_QUIET )); do
    a=$(busy_idle); sleep 2; b=$(busy_idle)
    python3 -c "a=[int(x) for x in '$a'.split()]; b=[int(x) for x in '$b'.split()]; i=b[1]-a[1]; import sys; sys.exit(0 if i/max(1, b[0]-a[0]+i) >= 0.75 else 1)" && break
    waited=$((waited + 2))
  done
}
: > "$SESSION/wrk.txt"
if [[ $WITH_WRK == 1 ]]; then
  if curl -s -o /dev/null "http://127.0.0.1:$WRK_PORT/health"; then die "port $WRK_PORT is in use (wrk's mock; pick another --port)"; fi
  MOCKBOT_THREADS=1 MOCKBOT_HOST=127.0.0.1 "$MOCKBOT" "$WRK_PORT" > "$SESSION/wrk_mockbot.log" 2>&1 &
  WRK_MOCK=$!
  trap 'kill "$WRK_MOCK" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$WRK_PORT/health" && break; sleep 0.05; done
  for i in $(seq 1 "$WRK_REPS"); do
    (( WAIT_QUIET > 0 )) && wait_quiet
    echo "bench: wrk -t1 -c32 -d$WRK_DURATION ($i/$WRK_REPS, load $(cut -d' ' -f1 /proc/loadavg))" >&2
    echo "## run $i, load before: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$SESSION/wrk.txt"
    wrk -t1 -c32 -d"$WRK_DURATION" -s "$KIT/wrk_post.lua" \
      "http://127.0.0.1:$WRK_PORT/v1/chat/completions" >> "$SESSION/wrk.txt"
  done
  kill "$WRK_MOCK" 2>/dev/null || true; wait "$WRK_MOCK" 2>/dev/null || true
  trap - EXIT
  # With a latency, the mock itself cannot quite reach concurrency / latency (its timer
  # rounds up): wrk with as many connections as evalgate has in flight shows what can.
  for lat in $(for r in "${RUNS[@]}"; do echo "${r##*:}"; done | sort -un); do
    (( lat > 0 )) || continue
    MOCKBOT_LATENCY_MS=$lat MOCKBOT_HOST=127.0.0.1 "$MOCKBOT" "$WRK_PORT" > "$SESSION/wrk_mockbot_$lat.log" 2>&1 &
    WRK_MOCK=$!
    trap 'kill "$WRK_MOCK" 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$WRK_PORT/health" && break; sleep 0.05; done
    (( WAIT_QUIET > 0 )) && wait_quiet
    echo "bench: wrk -t1 -c$CONCURRENCY -d$WRK_DURATION against the mock at ${lat} ms" >&2
    wrk -t1 -c"$CONCURRENCY" -d"$WRK_DURATION" -s "$KIT/wrk_post.lua" \
      "http://127.0.0.1:$WRK_PORT/v1/chat/completions" > "$SESSION/wrk_lat$lat.txt"
    kill "$WRK_MOCK" 2>/dev/null || true; wait "$WRK_MOCK" 2>/dev/null || true
    trap - EXIT
  done
fi

# ---- table ----------------------------------------------------------------------------
python3 - "$RESULTS" "$SESSION/wrk.txt" "$SESSION/meta.json" "$SESSION" <<'EOF' | tee "$SESSION/table.md"
import json, os, re, statistics, sys
results, wrk_path, meta_path, session = sys.argv[1:5]
meta = json.load(open(meta_path))
rows = [json.loads(l) for l in open(results) if l.strip()]
groups = {}
for r in rows:
    groups.setdefault((r["label"], r["n"], r["latency_ms"]), []).append(r)
med = lambda xs: statistics.median([x for x in xs if x is not None])
def run_seconds(r):
    """evalgate's own timing of the conversations (summary.json), loading and reports apart."""
    try:
        return json.load(open(os.path.join(r["run_dir"], "out", "summary.json"))).get("run_seconds")
    except (OSError, ValueError):
        return None
rates = [float(x) for x in re.findall(r"Requests/sec:\s+([0-9.]+)", open(wrk_path).read())]
wrk = med(rates) if rates else None
print(f"{meta['evalgate_version']} at {meta['git_rev']}"
      f" ({meta['uncommitted_src_files']} uncommitted file(s) under src/, Cargo.*),"
      f" {meta['cores']} cores, {meta['cpu']}; concurrency {meta['concurrency']}, medians of {meta['reps']} runs")
print()
print("| harness | N | mock latency | runs | wall s | wall s min-max | cases/s | run phase s | run-phase cases/s | CPU s | peak RSS MB | other procs CPU s | load before |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for (label, n, lat), rs in sorted(groups.items(), key=lambda kv: (kv[0][0] != "evalgate", kv[0][0], -kv[0][1], kv[0][2])):
    walls = [r["wall_s"] for r in rs]
    w = med(walls)
    phases = [p for p in map(run_seconds, rs) if p] if label == "evalgate" else []
    phase = f"{med(phases):.2f} | {n / med(phases):,.0f}" if phases else "- | -"
    print(f"| {label} | {n} | {lat} ms | {len(rs)} | {w:.2f} | {min(walls):.2f}-{max(walls):.2f} | {n / w:,.0f} | {phase} |"
          f" {med([r['cpu_s'] for r in rs]):.2f} | {med([r['max_rss_mb'] for r in rs]):.1f} |"
          f" {med([r.get('other_cpu_s') for r in rs]):.2f} | {med([float(r['load_before']) for r in rs]):.2f} |")
print()
if wrk is not None:
    print(f"loopback limit (wrk -t1 -c32, one mockbot thread): {wrk:,.0f} req/s (median of {len(rates)}: "
          + ", ".join(f"{x:,.0f}" for x in rates) + ")")
key = ("evalgate", 5000, 0)
if key in groups:
    rs = groups[key]
    cps = 5000 / med([r["wall_s"] for r in rs])
    rss = med([r["max_rss_mb"] for r in rs])
    print()
    print("targets at N=5000, 0 ms:")
    print(f"  throughput  {cps:,.0f} cases/s  (target >= 2,000)   {'met' if cps >= 2000 else 'MISSED'}")
    print(f"  peak RSS    {rss:.1f} MB       (target < 100)       {'met' if rss < 100 else 'MISSED'}")
    if wrk:
        share = cps / wrk
        print(f"  vs wrk      {share:.1%} of {wrk:,.0f} req/s end to end (target >= 50%)   {'met' if share >= 0.5 else 'MISSED'}")
        phases = [p for p in map(run_seconds, rs) if p]
        if phases:
            share = 5000 / med(phases) / wrk
            print(f"              {share:.1%} in the run phase (conversations only)   {'met' if share >= 0.5 else 'MISSED'}")
for (label, n, lat), rs in sorted(groups.items()):
    if label != "evalgate" or lat == 0:
        continue
    ideal = meta["concurrency"] * 1000 / lat
    cps = n / med([r["wall_s"] for r in rs])
    print()
    print(f"N={n}, {lat} ms, concurrency {meta['concurrency']}: ideal {ideal:,.0f} cases/s")
    print(f"  end to end  {cps:,.0f} cases/s = {cps / ideal:.1%} of ideal (target >= 95%)   {'met' if cps >= 0.95 * ideal else 'MISSED'}")
    phases = [p for p in map(run_seconds, rs) if p]
    if phases:
        rate = n / med(phases)
        print(f"  run phase   {rate:,.0f} cases/s = {rate / ideal:.1%} of ideal   {'met' if rate >= 0.95 * ideal else 'MISSED'}")
    wrk_lat = os.path.join(session, f"wrk_lat{lat}.txt")
    if os.path.exists(wrk_lat):
        found = re.findall(r"Requests/sec:\s+([0-9.]+)", open(wrk_lat).read())
        if found:
            limit = float(found[0])
            print(f"  the mock's own limit: wrk -c{meta['concurrency']} gets {limit:,.0f} req/s = {limit / ideal:.1%} of ideal;"
                  f" evalgate's run phase is {(n / med(phases) if phases else cps) / limit:.1%} of it")
EOF
echo "bench: session files in $SESSION" >&2
if (( failures > 0 )); then
  die "$failures run(s) FAILED their correctness check (see above); their timings are not valid"
fi
