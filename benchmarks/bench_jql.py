"""How long JQL takes in both its uses: goal scopes over fetched issues, and the
simulator's search over a dataset (no HTTP).

Run by hand (not part of the test suite)::

    python benchmarks/bench_jql.py                    # 100,000 issues
    python benchmarks/bench_jql.py --issues 20000 --parses 20000

Generates a dataset with `jira_chase.simulator.generate`, loads it, and builds the
tracker-neutral `Issue`s a source would give for the same records. For each query it
times the goal-scope matcher over every `Issue` and the simulator's search (parse,
bind to the dataset, select and sort) over every dataset issue, and checks that both
select the same number of issues; then it times parsing alone. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jira_chase import jql  # noqa: E402
from jira_chase.simulator import jql as search  # noqa: E402
from jira_chase.simulator import load_dataset  # noqa: E402
from jira_chase.simulator.generate import generate_dataset  # noqa: E402
from jira_chase.simulator.generated_issues import generated_issues  # noqa: E402

QUERIES = (
    "project = APP",
    "status in ('In Progress', 'Code Review') AND assignee is not EMPTY",
    "labels != customer OR fixVersion in (1.2, 2.3)",
    "NOT (type = Bug AND priority in (High, Highest))",
    "parent is EMPTY AND status != Done AND labels in (infra, ux, security)",
    "project in (APP, OPS) AND NOT (labels is EMPTY OR assignee is EMPTY) ORDER BY key",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--parses", type=int, default=10_000, help="parses of each query")
    args = parser.parse_args()

    document = generate_dataset(args.issues, args.seed)
    dataset = load_dataset(document)
    del document
    # The same records (same generator, same seed) as the `Issue`s a source gives.
    issues, now = generated_issues(args.issues, args.seed)

    scope_s = search_s = 0.0
    selected = []
    for text in QUERIES:
        started = time.perf_counter()
        scope = jql.parse_scope(text)
        in_scope = sum(1 for issue in issues if scope.matches(issue))
        scope_s += time.perf_counter() - started
        started = time.perf_counter()
        prepared = search.parse(text).prepare(dataset, now=now, current_user="u-1")
        found = len(prepared.select(dataset.issues.values()))
        search_s += time.perf_counter() - started
        if in_scope != found:
            raise SystemExit(f"{text!r}: the goal scope selects {in_scope}, the search {found}")
        selected.append(found)

    started = time.perf_counter()
    for text in QUERIES:
        for _ in range(args.parses):
            search.parse(text)
    parse_us = (time.perf_counter() - started) / (args.parses * len(QUERIES)) * 1e6

    print(
        json.dumps(
            {
                "issues": args.issues,
                "queries": len(QUERIES),
                "selected": selected,
                "goal_scope_s": round(scope_s, 3),
                "search_s": round(search_s, 3),
                "parse_us_per_query": round(parse_us, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
