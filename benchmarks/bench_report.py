"""The manager's report at scale: how long building and rendering it takes, how big
the HTML is, and how the trend store grows over many runs.

    python benchmarks/bench_report.py --issues 10000 --runs 200

Judges a generated scope once (every generated project, with the workflow, focus and
cooperation settings of bench_sync.py; fetched from the in-process simulator by the Jira
source, judged by the real code), then records `--runs` trend rows in which a share of the
issues (`--churn`, default 2 %) change health, as a steady cron job would see, and
builds and renders the report from that store. Prints one JSON line: the times, the
sizes of the three renderings, and how the HTML opens in headless Chromium (Debian's
`chromium`, driven by Playwright, network blocked): load, first-paint and findings-
tables-built times (median of `--loads` fresh pages), the page's height, console errors
and requests refused.
`--out FILE` keeps the HTML.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jira_chase.config.file import load_settings  # noqa: E402
from jira_chase.config.settings import ISSUE_FAMILIES  # noqa: E402
from jira_chase.engine.evaluate import evaluate  # noqa: E402
from jira_chase.reports.manager import build_report, render  # noqa: E402
from jira_chase.simulator import JiraSimulator  # noqa: E402
from jira_chase.simulator.generate import generate_dataset  # noqa: E402
from jira_chase.simulator.generated_issues import report_settings  # noqa: E402
from jira_chase.sources.jira import JiraSource  # noqa: E402
from jira_chase.store import trends  # noqa: E402
from jira_chase.store.state import StateStore  # noqa: E402

NOW = datetime(2026, 11, 20, 16, tzinfo=timezone.utc)

# Paint entries arrive after the frame that painted: wait for them (buffered).
_TIMING = """() => new Promise((resolve) => {
  const paint = {};
  new PerformanceObserver((list, observer) => {
    for (const e of list.getEntries()) paint[e.name] = e.startTime;
    if (!("first-contentful-paint" in paint)) return;
    observer.disconnect();
    const nav = performance.getEntriesByType("navigation")[0];
    resolve({load: nav.loadEventEnd, first_paint: paint["first-paint"],
             first_contentful_paint: paint["first-contentful-paint"]});
  }).observe({type: "paint", buffered: true});
})"""


def open_in_chromium(path: Path, loads: int) -> dict[str, object]:
    """How the page opens in headless Chromium, 1200 px wide, offline: the median over
    `loads` fresh pages of the load and first-paint times (ms), the page's height, the
    console errors and the requests refused."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        return {"skipped": "no chromium on PATH"}
    from playwright.sync_api import sync_playwright

    samples: list[dict[str, float]] = []
    errors: list[str] = []
    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable)
        for _ in range(loads):
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else (refused.append(r.request.url), r.abort()))  # fmt: skip
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(path.as_uri(), wait_until="load")
            timing = page.evaluate(_TIMING)
            # the findings tables are built once their rows are unpacked: then the
            # script shows their search box and marks the time
            if page.locator("#findings-controls").count():
                page.wait_for_selector("#findings-controls:not([hidden])", state="attached")
                timing["tables"] = page.evaluate(
                    "performance.getEntriesByName('findings-tables')[0].startTime"
                )
            timing["height"] = page.evaluate("document.documentElement.scrollHeight")
            samples.append(timing)
            page.close()
        browser.close()
    median = {
        key: round(statistics.median(s[key] for s in samples)) if key in samples[0] else None
        for key in ("load", "first_paint", "first_contentful_paint", "tables")
    }
    return {
        "load_ms": median["load"],
        "first_paint_ms": median["first_paint"],
        "first_contentful_paint_ms": median["first_contentful_paint"],
        "findings_tables_ms": median["tables"],
        "height_px": samples[-1]["height"],
        "console_errors": len(errors),
        "requests_refused": len(refused),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--churn", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--loads", type=int, default=3, help="Chromium page loads (median)")
    parser.add_argument("--out", type=Path, help="keep the HTML report here")
    args = parser.parse_args()

    dataset = generate_dataset(args.issues, args.seed)
    projects = [p["key"] for p in dataset["projects"]]  # every generated project
    with JiraSimulator(dataset) as sim, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            data=report_settings(projects, sim.url, str(Path(tmp) / "state.sqlite"))
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
            doc = build_report(evaluation, settings, identity, store)
            build_seconds = time.perf_counter() - started
            timings, sizes = {}, {}
            for fmt in ("html", "markdown", "json"):
                started = time.perf_counter()
                text = render(doc, fmt)
                timings[fmt] = round(time.perf_counter() - started, 3)
                sizes[fmt] = len(text.encode())
                if fmt == "html":
                    page = args.out or Path(tmp) / "report.html"
                    page.write_text(text)
            chromium = open_in_chromium(page, args.loads)
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
                    "chromium": chromium,
                    "recovered_episodes": doc["recovery"]["summary"].get("any", {}),
                }
            )
        )


if __name__ == "__main__":
    main()
