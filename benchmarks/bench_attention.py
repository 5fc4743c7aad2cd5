"""What a first sync costs the team's attention: on a generated tracker with the example
configuration (its statuses mapped to the generated ones), how many issues get a label,
how many of our labels each carries, and how many comments (each one emails the
watchers) the first `sync` creates.

    python benchmarks/bench_attention.py                       # 3,000 issues, seed 11
    python benchmarks/bench_attention.py --issues 3000 --seed 5 --sync
    python benchmarks/bench_attention.py --no-baseline         # as if baseline = false

The simulator runs in its own process; the run is `plan --json` (and with `--sync` a
real first `sync --json` followed by the tracker read back), as of the generated data's
`now`. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from jira_chase.simulator.generated_issues import example_on_generated

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-20T16:00:00Z"


def example_config(url: str, state: str, *, baseline: bool) -> str:
    """config.example.toml on the generated data (see `example_on_generated`)."""
    text = example_on_generated((ROOT / "config.example.toml").read_text(), url, state)
    if not baseline:
        text = text.replace("baseline = true", "baseline = false", 1)
    return text


def run(args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "jira_chase", *args], capture_output=True, text=True
    )
    if done.returncode not in (0, 4):
        raise SystemExit(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def attention(doc: dict, prefix: str = "chase-") -> dict:
    """The numbers a team feels, from a plan's or sync's JSON."""
    ops = doc.get("applied", doc["operations"])
    labels: dict[str, int] = {}
    combos: Counter[str] = Counter()
    for op in ops:
        if op["kind"] == "labels":
            added = [label for label in op["add"] if label.startswith(prefix)]
            labels[op["issue"]] = len(added)
            combos[" + ".join(sorted(a.removeprefix(prefix) for a in added))] += 1
    per_issue = sorted(labels.values())
    families: Counter[str] = Counter()
    for issue in doc["issues"]:
        for finding in issue["findings"]:
            families[finding["family"]] += 1
    comments = [op for op in ops if op["kind"] == "comment.create"]
    sizes = sorted(len(op["text"] or "") for op in comments)
    return {
        "issues": doc["summary"]["issues"],
        "flagged": doc["summary"]["unhealthy"],
        "off_track": doc["summary"]["off_track"],
        "at_risk": doc["summary"]["at_risk"],
        "findings": doc["summary"]["findings"],
        "findings_by_family": dict(families.most_common()),
        "labelled_issues": sum(1 for n in per_issue if n),
        "labels_per_labelled_issue": {
            "max": per_issue[-1] if per_issue else 0,
            "median": statistics.median([n for n in per_issue if n] or [0]),
            "histogram": dict(sorted(Counter(per_issue).items())),
        },
        "top_label_sets": dict(combos.most_common(5)),
        "comments_created": len(comments),
        "comment_chars": {
            "median": statistics.median(sizes) if sizes else None,
            "p90": sizes[int(0.9 * (len(sizes) - 1))] if sizes else None,
            "max": sizes[-1] if sizes else None,
        },
        "attention": doc["summary"].get("attention"),
        "warnings": doc.get("warnings", []),
        "team_findings": [f["message"] for f in doc.get("team", {}).get("findings", [])],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sync", action="store_true", help="also run a real first sync")
    parser.add_argument("--no-baseline", action="store_true", help="writeback.baseline = false")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.json"
        with data.open("w") as fh:
            subprocess.run(
                [sys.executable, "-m", "jira_chase", "simulator", "--generate",
                 str(args.issues), "--seed", str(args.seed)], stdout=fh, check=True,
            )  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "jira_chase", "simulator", "--dataset", str(data),
             "--port", "0"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split(" at ")[1].strip()
            config = Path(tmp) / "chase.toml"
            config.write_text(
                example_config(url, str(Path(tmp) / "state.sqlite"), baseline=not args.no_baseline)
            )
            common = ["--now", NOW, "--json", "--config", str(config)]
            out = {
                "issues": args.issues,
                "seed": args.seed,
                "plan": attention(run(["plan", *common])),
            }
            if args.sync:
                out["sync"] = attention(run(["sync", *common]))
            print(json.dumps(out, indent=2))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
