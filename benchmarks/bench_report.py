"""The manager's report at scale: how long building and rendering it takes, how big
the HTML is, and how the trend store grows over many runs.

    python benchmarks/bench_report.py --issues 10000 --runs 200

Judges a generated scope once (fetched from the in-process simulator by the Jira source,
judged by the real code), then records `--runs` trend rows in which a share of the
issues (`--churn`, default 2 %) change health, as a steady cron job would see, and
builds and renders the report from that store. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jira_chase import trends  # noqa: E402
from jira_chase.config import ISSUE_FAMILIES  # noqa: E402
from jira_chase.config_file import load_settings  # noqa: E402
from jira_chase.evaluate import evaluate  # noqa: E402
from jira_chase.reporting import build, render  # noqa: E402
from jira_chase.simulator import JiraSimulator  # noqa: E402
from jira_chase.simulator.generate import generate_dataset  # noqa: E402
from jira_chase.sources.jira import JiraSource  # noqa: E402
from jira_chase.state import StateStore  # noqa: E402

NOW = datetime(2026, 11, 20, 16, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=200)
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
                        {"name": "review", "statuses": ["Code Review"], "limit_days": 2},
                    ],
                },
                "state": {"path": str(Path(tmp) / "state.sqlite")},
            }
        )
        source = JiraSource(settings.jira)  # type: ignore[arg-type]
        identity = source.identify()
        issues = source.fetch_issues()
        evaluation = evaluate(issues, settings, NOW, bot_id=source.bot_id())
        rng = random.Random(args.seed)
        health = {v.issue.key: (v.health.value, v.families) for v in evaluation.verdicts}
        keys = sorted(health)
        path = settings.state.path
        with StateStore(path) as store:
            started = time.perf_counter()
            changes = 0
            for number in range(args.runs):
                at = NOW - timedelta(hours=6 * (args.runs - number))
                if number:
                    for key in rng.sample(keys, int(len(keys) * args.churn)):
                        if health[key][0] == "healthy":
                            health[key] = ("at-risk", (rng.choice(ISSUE_FAMILIES),))
                        else:
                            health[key] = ("healthy", ())
                changes += store.record_trend(number + 1, "sync", at, {"n": number}, health)
            record_seconds = time.perf_counter() - started
            trends.record(store, args.runs + 1, "report", evaluation)
            started = time.perf_counter()
            doc = build(evaluation, settings, identity, store)
            build_seconds = time.perf_counter() - started
            timings, sizes = {}, {}
            for fmt in ("html", "markdown", "json"):
                started = time.perf_counter()
                text = render(doc, fmt)
                timings[fmt] = round(time.perf_counter() - started, 3)
                sizes[fmt] = len(text.encode())
        state_bytes = sum(p.stat().st_size for p in Path(tmp).glob("state.sqlite*"))
        print(
            json.dumps(
                {
                    "issues_in_scope": len(issues),
                    "teams": len(doc["teams"]),
                    "flagged": sum(len(team["flagged"]) for team in doc["teams"]),
                    "runs": args.runs,
                    "churn": args.churn,
                    "health_changes_kept": changes,
                    "record_all_runs_seconds": round(record_seconds, 2),
                    "state_file_bytes": state_bytes,
                    "build_seconds": round(build_seconds, 3),
                    "render_seconds": timings,
                    "bytes": sizes,
                    "recovered_episodes": doc["recovery"]["summary"].get("any", {}),
                }
            )
        )


if __name__ == "__main__":
    main()
