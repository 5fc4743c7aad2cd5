"""How big the state file grows: one first sync of a generated scope, then many runs that
each change a share of the issues, recorded by the real state store.

    python benchmarks/bench_state.py --issues 10000 --runs 100

The state holds the issue snapshots of the incremental pull; the operations are the
real plan of the generated data (fetched from the simulator by
the Jira source, judged and planned by the real code); each later run re-records a
share (`--churn`, default 2 %) of them as that run's writes, as a steady cron job
would. Prints one JSON line: the file's size after the first run and after the last,
and the rows it holds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jira_chase.config.file import load_settings  # noqa: E402
from jira_chase.engine.comment import ManagedComment  # noqa: E402
from jira_chase.engine.evaluate import evaluate  # noqa: E402
from jira_chase.engine.plan import LABELS, Seen, plan_writes  # noqa: E402
from jira_chase.simulator import JiraSimulator  # noqa: E402
from jira_chase.simulator.generate import generate_dataset  # noqa: E402
from jira_chase.sources.jira import JiraSource  # noqa: E402
from jira_chase.store.state import StateStore  # noqa: E402

NOW = datetime(2026, 11, 20, 16, tzinfo=timezone.utc)


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--churn", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    dataset = generate_dataset(args.issues, args.seed)
    with JiraSimulator(dataset) as sim, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data={
                "tracker": "jira",
                "jira": {
                    "url": sim.url,
                    "email": "bot@example.com",
                    "token": "t",
                    "scope": "project in (APP, OPS, WEB)",
                },  # fmt: skip
                "workflow": {
                    "done": ["Done", "Closed"],
                    "steps": [
                        {"name": "build", "statuses": ["In Progress"], "limit_days": 5},
                        {
                            "name": "review",
                            "statuses": ["Code Review"],
                            "limit_days": 2,
                            "required": True,
                        },  # fmt: skip
                    ],
                },
                "writeback": {"max_writes": 10**9},
                "state": {"path": str(Path(tmp) / "state.sqlite")},
            }
        )
        source = JiraSource(settings.jira)  # type: ignore[arg-type]
        issues = source.fetch_issues()
        evaluation = evaluate(issues, settings, NOW, bot_id=source.bot_id())
        # every issue's comment too (as without the baseline): the comments table grows as well
        operations = plan_writes(evaluation, settings.writeback, seen=Seen(first=False)).operations
        path = settings.state.path
        rng = random.Random(args.seed)
        started = time.perf_counter()
        with StateStore(path) as store:
            # The incremental pull's snapshot of every issue in the scope.
            store.update_issue_snapshots("jira", issues, (), replace=True)
            for number in range(args.runs):
                run_id = store.start_run("sync", NOW)
                chosen = (
                    operations
                    if number == 0
                    else rng.sample(operations, int(len(operations) * args.churn))
                )
                for seq, op in enumerate(chosen):
                    # as the run's WriteRecorder keeps an operation: its JSON without the text
                    recorded = json.dumps(op.to_dict(text=False), sort_keys=True)
                    store.record_operation(run_id, seq, op.issue_key, op.kind, recorded, "done")
                    if op.kind == LABELS:
                        store.record_labels(op.issue_key, op.add, op.remove)
                    elif op.comment is not None:
                        comment_id = str(abs(hash(op.issue_key)))
                        store.save_comment(ManagedComment(op.issue_key, comment_id,
                                                          op.comment.digest))  # fmt: skip
                store.finish_run(run_id, "ok", {"issues": len(issues), "applied": len(chosen)})
                store.prune(settings.state.keep_days)
                if number == 0:
                    first = size(path)
            rows = {
                table: store._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("runs", "operations", "comments", "facts")
            }
        print(
            json.dumps(
                {
                    "issues_in_scope": len(issues),
                    "operations_first_run": len(operations),
                    "runs": args.runs,
                    "churn": args.churn,
                    "size_after_first_run_mib": round(first / 2**20, 2),
                    "size_after_last_run_mib": round(size(path) / 2**20, 2),
                    "rows": rows,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
