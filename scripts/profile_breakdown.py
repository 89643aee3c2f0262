#!/usr/bin/env python3
"""Where an `evalgate run` spends its CPU, from `perf script` output.

  perf script -i perf.data -F comm,ip,sym | scripts/profile_breakdown.py [--top 25]

Reads the call stacks `perf record --call-graph dwarf` took and puts every sample in one
phase of the run, by the frames on its stack:

  load       checking the suite before anything is sent (YAML parsing, validation, hashing)
  send       the conversations: HTTP client (user space), kernel (sockets, loopback), the
             runtime's scheduling
  score      rule checks, outcome classification, parsing the bot's JSON
  collect    writing results.jsonl, the tally, progress
  reports    reading results back, summary, junit.xml, report.html, report.md, report.json
  other      process start and exit, anything unmatched

Prints the share of each phase (and part), then the functions with the most samples of
their own. Python 3.11 standard library only.
"""
import argparse
import collections
import sys

# (phase, part, any of these substrings in the stack); the first rule that matches wins.
RULES = [
    ("load", "YAML parsing", ("serde_saphyr", "granit_parser")),
    ("load", "checking the suite", ("evalset::suite", "evalset::load_file", "cli::load")),
    ("reports", "report.html", ("report::html",)),
    ("reports", "junit.xml", ("report::junit",)),
    ("reports", "reading results back", ("result_index", "review::review", "rundir::")),
    ("reports", "other reports", ("cli::review::finish", "review::write_reports", "report::")),
    ("collect", "results.jsonl and tally", ("ResultsWriter", "Tally", "MetricsBuilder", "runner::summarize")),
    ("collect", "collector other", ("drive::drive",)),
    ("score", "rule checks and outcome", ("scoring::",)),
    ("score", "bot JSON", ("parse_completion", "request_body")),
    ("send", "job feed", ("drive::feed",)),
]
SEND_PARTS = ("plain_http", "hyper::", "reqwest::", "hyper_util", "mio::", "tokio::net")


def stacks(lines):
    """(thread name, [frames, innermost first]) per sample."""
    comm, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                yield comm, frames
            comm, frames = None, []
        elif not line.startswith(("\t", " ")):
            comm = line.strip()
        else:
            parts = line.strip().split(" ", 1)
            frames.append(parts[1] if len(parts) > 1 else parts[0])
    if frames:
        yield comm, frames


def is_kernel(frame):
    return frame.startswith(("[k]", "0x")) or frame.endswith("_[k]")


def classify(comm, frames):
    text = " | ".join(frames)
    for phase, part, needles in RULES:
        if any(n in text for n in needles):
            return phase, part
    if comm and comm.startswith("tokio"):
        if any(n in text for n in SEND_PARTS):
            kernel = any(f.startswith(("entry_SYSCALL", "do_syscall")) for f in frames)
            return "send", "kernel: sockets, loopback" if kernel else "HTTP client"
        return "send", "runtime and lanes"
    return "other", "start, exit, unmatched"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=20, help="functions to list by own samples")
    args = ap.parse_args()
    phases, parts, own = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for comm, frames in stacks(sys.stdin):
        total += 1
        phase, part = classify(comm, frames)
        phases[phase] += 1
        parts[(phase, part)] += 1
        own[frames[0][:110]] += 1
    if total == 0:
        sys.exit("profile_breakdown: no samples on standard input (perf script -F comm,ip,sym)")
    print(f"{total} samples\n")
    print("| phase | part | share of samples |")
    print("|---|---|---|")
    for phase, n in phases.most_common():
        print(f"| **{phase}** | | **{100 * n / total:.1f} %** |")
        for (p, part), m in sorted(parts.items(), key=lambda kv: -kv[1]):
            if p == phase:
                print(f"| | {part} | {100 * m / total:.1f} % |")
    print(f"\nfunctions with the most samples of their own (top {args.top}):")
    for frame, n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
