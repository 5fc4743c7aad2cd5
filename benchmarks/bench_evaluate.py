"""How much CPU and memory evaluating a large generated dataset takes (no tracker, no I/O).

    python benchmarks/bench_evaluate.py --issues 100000
    python benchmarks/bench_evaluate.py --issues 30000 --profile     # cProfile, top 25
    python benchmarks/bench_evaluate.py --issues 100000 --comments   # longest comment
    python benchmarks/bench_evaluate.py --issues 100000 --status-changes 10

Generates `--issues` issues with `jira_chase.simulator.generate` (streamed: the dataset
document never sits in memory), turns each into the tracker-neutral `Issue` the sources
produce, then times `evaluate()` alone (the same settings as `bench_sync.py`: every rule
family on, a business calendar). Prints one JSON line: `cpu_s` (process CPU time of the
evaluation), `peak_rss_mib` (the process's peak RSS: the issues themselves plus the
evaluation), `issues_rss_mib` (RSS once the issues are built, before evaluating),
`status_changes` per issue, and the findings. With `--comments`, also every unhealthy
issue's managed comment in all three renderings (Cloud ADF, Data Center wiki markup,
ZenTao HTML): the longest, measured as the tracker counts it, and how many exceed the
limit.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import resource
import sys
import time
from datetime import datetime
from typing import Any

from jira_chase.config.file import load_settings
from jira_chase.engine.comment import (
    COMMENT_LIMIT,
    adf_length,
    build_comment,
    to_adf,
    to_wiki,
    to_zentao_html,
)
from jira_chase.engine.evaluate import evaluate
from jira_chase.simulator.generated_issues import GENERATED_SETTINGS, generated_issues

SETTINGS = GENERATED_SETTINGS


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def comment_sizes(evaluation: Any, now: datetime) -> dict[str, object]:
    longest = {"adf": 0, "wiki": 0, "zentao": 0}
    over = 0
    for verdict in evaluation.unhealthy():
        doc = build_comment(verdict, {}, now)
        sizes = {
            "adf": adf_length(to_adf(doc)),
            "wiki": len(to_wiki(doc)),
            "zentao": len(to_zentao_html(doc)),
        }
        over += any(size > COMMENT_LIMIT for size in sizes.values())
        for name, size in sizes.items():
            longest[name] = max(longest[name], size)
    return {"longest_comment": longest, "comments_over_limit": over, "limit": COMMENT_LIMIT}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--status-changes",
        type=int,
        help="give every issue exactly this many status changes (default: 5 to 30)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 25")
    parser.add_argument("--comments", action="store_true", help="measure every comment")
    args = parser.parse_args()

    settings = load_settings(data=SETTINGS)
    issues, now = generated_issues(args.issues, args.seed, args.status_changes)
    gc.collect()
    before = rss_mib()
    profiler = cProfile.Profile() if args.profile else None
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    evaluation = evaluate(issues, settings, now, bot_id="u-bot")
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    result: dict[str, object] = {
        "issues": len(issues),
        "status_changes": round(sum(len(i.status_changes) for i in issues) / len(issues), 2),
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(peak_rss_mib()),
        "issues_rss_mib": round(before),
        "unhealthy": len(evaluation.unhealthy()),
        "findings": sum(len(v.findings) for v in evaluation.verdicts),
    }
    if args.comments:
        result.update(comment_sizes(evaluation, now))
    print(json.dumps(result), flush=True)
    if profiler is not None:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
