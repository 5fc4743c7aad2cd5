"""How long a `jira-chase plan` and `sync` take, and how much memory they use, against a
simulated Jira holding a large generated dataset.

    python benchmarks/bench_sync.py --issues 20000
    python benchmarks/bench_sync.py --issues 20000 --deployment datacenter
    python benchmarks/bench_sync.py --issues 10000 --plan-only
    python benchmarks/bench_sync.py --issues 10000 --reports

The simulator runs in its own process (started with `jira-chase simulator`), so the
client's peak RSS is measured alone. Prints wall time, peak RSS, requests and the plan
size for a dry run, a first sync and a second (idle) sync. `--reports` runs `report`
instead, around syncs, and prints what each run cost (from `runs --json`): two reports
on a fresh state, two syncs, a report after them, and — the last full read moved back
25 hours, as a day passing would — a report and a sync.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """
tracker = "jira"
[jira]
url = "{url}"
deployment = "{deployment}"
email = "bot@example.com"
token = "{token}"
scope = "{scope}"
page_size = {page_size}
[calendar]
kind = "business"
[workflow]
done = ["Done", "Closed"]
[[workflow.steps]]
name = "build"
statuses = ["In Progress"]
limit_days = 5
wip_limit = 40
[[workflow.steps]]
name = "review"
statuses = ["Code Review"]
limit_days = 2
required = true
[[workflow.steps]]
name = "test"
statuses = ["In QA"]
limit_days = 3
[[workflow.steps]]
name = "blocked"
statuses = ["Blocked"]
waiting = true
[focus]
wip_per_person = 5
[cooperation]
blocked_days = 2
[metrics]
aging = true
[writeback]
max_writes = 100000
baseline = {baseline}
[state]
path = "state.sqlite"
"""


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_run(args: list[str], tmp: Path, as_json: bool = True) -> tuple[float, float, float, dict]:
    """Run one jira-chase command in a child; (seconds, its own peak RSS MiB, its CPU
    seconds, JSON or {} when not `as_json`)."""
    out_path, err_path = tmp / "out.json", tmp / "err.txt"
    start = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "jira_chase", *args], stdout=out, stderr=err
        )
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 4):
        raise SystemExit(f"{args[0]} failed ({code}): {err_path.read_text().strip()}")
    cpu = usage.ru_utime + usage.ru_stime
    doc = json.loads(out_path.read_text()) if as_json else {}
    return seconds, usage.ru_maxrss / 1024, cpu, doc


def evaluation_cpu(config: Path, now: str) -> float:
    """CPU seconds of `evaluate()` alone over the issues the state file holds, as the
    runs judge them: what an idle run's CPU is compared with."""
    from datetime import datetime

    from jira_chase.config.file import load_settings
    from jira_chase.engine.evaluate import evaluate
    from jira_chase.store.state import StateStore

    settings = load_settings(config)
    with StateStore(settings.state.path, readonly=True) as store:
        issues = list(store.issue_snapshots("jira").values())
    moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
    start = time.process_time()
    evaluate(issues, settings, moment)
    return time.process_time() - start


def lower_bound(doc: dict, page_size: int) -> int:
    """What a first sync cannot do with less: the scope's search pages, the bulk changelog
    calls (one per 1000 issues at most), one request per comment written, and for label
    changes one call per issue or, for five or more identical ones, a bulk edit and its
    poll."""
    issues = doc["summary"]["issues"]
    ops = doc["applied"]
    comments = sum(1 for op in ops if op["kind"] != "labels")
    groups: dict[tuple, int] = {}
    for op in ops:
        if op["kind"] == "labels":
            change = (tuple(op["add"]), tuple(op["remove"]))
            groups[change] = groups.get(change, 0) + 1
    labels = sum(2 * ((n + 999) // 1000) if n >= 5 else n for n in groups.values())
    return -(-issues // page_size) + -(-issues // 1000) + comments + labels


def touch(url: str, deployment: str, keys: list[str]) -> list[str]:
    """Change `count` issues in the tracker as a person would (a label of their own)."""
    import requests

    api = "3" if deployment == "cloud" else "2"
    http = requests.Session()
    if deployment == "cloud":
        http.auth = ("bot@example.com", "t")
    else:
        http.headers["Authorization"] = "Bearer t"
    for key in keys:
        body = {"update": {"labels": [{"add": "bench-touched"}]}}
        http.put(f"{url}/rest/api/{api}/issue/{key}", json=body, timeout=30).raise_for_status()
    return keys


def last_run(config: Path) -> dict:
    """The newest run `runs --json` lists."""
    out = subprocess.run(
        [sys.executable, "-m", "jira_chase", "runs", "--json", "--last", "1",
         "--config", str(config)], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)["runs"][0]


def age_full_read(config: Path, hours: float) -> None:
    """Move the last full read of the scope `hours` back in the state file."""
    from datetime import datetime, timedelta, timezone

    from jira_chase.config.file import load_settings
    from jira_chase.sources.jira.reading import FETCH_FACTS
    from jira_chase.store.state import StateStore

    with StateStore(load_settings(config).state.path) as store:
        then = datetime.now(timezone.utc) - timedelta(hours=hours)
        store.remember(FETCH_FACTS, "full", then.isoformat())


def reports(config: Path, now: str, tmp: Path) -> None:
    """`--reports`: what `report` costs next to `sync`, by the run history."""
    steps = (
        ("report 1", "report"), ("report 2", "report"), ("sync 1", "sync"),
        ("sync 2", "sync"), ("report 3", "report"), ("age", None), ("report 4", "report"),
        ("sync 3", "sync"),
    )  # fmt: skip
    out = tmp / "report.json"
    for label, command in steps:
        if command is None:
            age_full_read(config, 25)
            print("  -- the last full read moved back 25 hours")
            continue
        args = [command, "--now", now, "--config", str(config)]
        if command == "report":
            args += ["--out", str(out), "--format", "json"]
        seconds, rss, cpu, _ = child_run(args, tmp, as_json=False)
        run = last_run(config)
        print(
            f"  {label:<9} {seconds:7.1f} s  peak RSS {rss:7.0f} MiB  client CPU {cpu:6.1f} s  "
            f"requests {run['requests']:>6}  issues {run['counts']['issues']:>6}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--deployment", choices=["cloud", "datacenter"], default="cloud")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--plan-only", action="store_true", help="run only the dry run (no writes)")
    parser.add_argument(
        "--all-projects", action="store_true", help="scope: every generated project"
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="writeback.baseline = false: the first sync comments on every unhealthy issue",
    )
    parser.add_argument(
        "--details", action="store_true", help="pass --details (per-issue JSON) to each run"
    )
    parser.add_argument("--touch", type=int, default=10, help="issues changed before sync 4")
    parser.add_argument(
        "--reports", action="store_true", help="time `report` runs around syncs instead"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.json"
        with data.open("w") as fh:
            subprocess.run(
                [sys.executable, "-m", "jira_chase", "simulator", "--generate",
                 str(args.issues), "--seed", str(args.seed)], stdout=fh, check=True,
            )  # fmt: skip
        projects = ["APP", "OPS", "WEB"]
        if args.all_projects:
            projects = [p["key"] for p in json.loads(data.read_text())["projects"]]
        scope = f"project in ({', '.join(projects)})"
        server = subprocess.Popen(
            [sys.executable, "-m", "jira_chase", "simulator", "--dataset", str(data),
             "--port", "0", "--deployment", args.deployment],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split(" at ")[1].strip()
            config = Path(tmp) / "chase.toml"
            config.write_text(
                CONFIG.format(
                    url=url,
                    deployment=args.deployment,
                    token="t",
                    page_size=args.page_size,
                    scope=scope,
                    baseline="false" if args.no_baseline else "true",
                )  # fmt: skip
            )
            now = ["--now", "2026-11-20T16:00:00Z", "--json", "--config", str(config)]
            details = ["--details"] if args.details else []
            print(f"{args.issues} issues, {args.deployment}, page size {args.page_size}, "
                  f"scope {scope}, baseline {not args.no_baseline}")  # fmt: skip
            if args.reports:
                reports(config, now[1], Path(tmp))
                return
            steps = (
                ("plan", "plan"), ("sync 1", "sync"), ("sync 2", "sync"), ("sync 3", "sync"),
                ("plan", "plan"), ("touch", None), ("sync 4", "sync"),
            )  # fmt: skip
            doc: dict = {}
            written: list[str] = []
            for label, command in steps[:1] if args.plan_only else steps:
                if command is None:
                    touched = touch(url, args.deployment, written[: args.touch])
                    print(f"  -- {len(touched)} issues changed in the tracker: {touched[:3]}...")
                    continue
                served_before = process_cpu(server.pid)
                seconds, rss, cpu, doc = child_run([command, *now, *details], Path(tmp))
                served = process_cpu(server.pid) - served_before
                doc_size = (Path(tmp) / "out.json").stat().st_size
                summary = doc["summary"]
                print(
                    f"  {label:<7} {seconds:7.1f} s  peak RSS {rss:7.0f} MiB  "
                    f"requests {summary['requests']:>6}  issues {summary['issues']:>6}  "
                    f"unhealthy {summary['unhealthy']:>5}  planned {summary['planned']:>5}  "
                    f"applied {summary['applied']:>5}  JSON {doc_size / 2**20:5.1f} MiB",
                    flush=True,
                )
                print(
                    f"          client CPU {cpu:7.1f} s  simulator CPU {served:7.1f} s  "
                    f"client / simulator {cpu / max(served, 0.01):6.2f}",
                    flush=True,
                )
                if label == "sync 3":
                    judged = evaluation_cpu(config, now[1])
                    print(f"          evaluation CPU {judged:5.2f} s (evaluate() alone, same "
                          f"issues): idle run / evaluation {cpu / judged:5.2f}")  # fmt: skip
                if label == "sync 1":
                    written = sorted({op["issue"] for op in doc["applied"]})
                    bound = lower_bound(doc, args.page_size)
                    print(f"          lower bound {bound} requests: "
                          f"{summary['requests'] / bound:.2f} x")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
