#!/usr/bin/env bash
# One eval-set file of 20,000 cases: `evalgate check` when it is valid, and when three of
# its cases have a problem each (the every-problem pass: the file read again as a tree,
# checked against its schema, the other cases read again and checked). Prints wall time
# and peak RSS of each. Everything goes under $BENCH_DIR/large-file (default
# /tmp/evalgate-bench/large-file).
set -euo pipefail

REPO=$(git -C "$(dirname "$(readlink -f "$0")")" rev-parse --show-toplevel)
BENCH_DIR=$(readlink -m "${BENCH_DIR:-${TMPDIR:-/tmp}/evalgate-bench}")
OUT=$BENCH_DIR/large-file
CASES=${CASES:-20000}
mkdir -p "$OUT/valid/evalsets" "$OUT/broken/evalsets"

command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null
(cd "$REPO" && cargo build --release --locked -q)
EVALGATE=${CARGO_TARGET_DIR:-$REPO/target}/release/evalgate

python3 - "$OUT" "$CASES" <<'PY'
import sys
out, n = sys.argv[1], int(sys.argv[2])
case = ('  - id: c{i:05}\n    stratum: {stratum}\n    intent: refund_status\n    context: {{order_id: "PL-{i}"}}\n'
        '    turns:\n      - user: "Where is my refund for order PL-{i}?"\n'
        '    expect:\n      outcome: resolve\n      must_include: ["PL-{i}"]\n')
def cases(broken):
    for i in range(n):
        text = case.format(i=i, stratum="routine")
        if broken and i == n // 4:
            text = text.replace("stratum: routine", "stratum: rutine")
        if broken and i == n // 2:
            text = text.replace("must_include:", "must_inclde:")
        if broken and i == 3 * n // 4:
            text = text.replace("outcome: resolve", "outcome: resolve\n      regex: [\"(unclosed\"]")
        yield text
for kind in ("valid", "broken"):
    with open(f"{out}/{kind}/evalsets/en.yaml", "w") as f:
        f.write("language: en\ncases:\n")
        f.writelines(cases(kind == "broken"))
    with open(f"{out}/{kind}/evalgate.yaml", "w") as f:
        f.write('bot:\n  provider: demo\nevalsets: ["evalsets/*.yaml"]\n')
PY

for kind in valid broken; do
  (cd "$OUT/$kind" && /usr/bin/time -f "check, $CASES cases, $kind: %e s wall, %M KB peak RSS" \
    "$EVALGATE" check >/dev/null 2>"$OUT/$kind.err" || true)
  tail -1 "$OUT/$kind.err"
  [ "$kind" = broken ] && grep -c '^error:' "$OUT/$kind.err" | sed 's/^/problems reported: /'
done
ls -l "$OUT/valid/evalsets/en.yaml" | awk '{print "file size: " $5 " bytes"}'
