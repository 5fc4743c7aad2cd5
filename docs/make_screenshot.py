"""Regenerate the README's pictures of the manager's report:
docs/report-portfolio.png (the top: headline, the teams, the search) and
docs/report-team.png (one team's section: its charts and the first rows of its table).

    .venv/bin/python docs/make_screenshot.py

Builds the report of 20,000 generated issues (every generated project a team, the
workflow of benchmarks/bench_sync.py) after four weeks of daily trend runs in which 2 %
of the issues change health, as benchmarks/bench_report.py does, and photographs it
1200 px wide in headless Chromium (Debian's `chromium` package, driven by Playwright; no
browser download). `pngquant`, when installed (Debian: `apt-get install pngquant`),
shrinks the pictures to a palette.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from jira_chase.config.file import load_settings
from jira_chase.config.settings import ISSUE_FAMILIES
from jira_chase.engine.evaluate import evaluate
from jira_chase.reports.manager import build_report
from jira_chase.reports.manager.produce import write_report
from jira_chase.simulator.generated_issues import generated_issues, report_settings
from jira_chase.sources.base import ServerIdentity
from jira_chase.store import trends
from jira_chase.store.state import StateStore

DOCS = Path(__file__).resolve().parent
WIDTH = 1200
DAYS = 28


def report(folder: Path) -> Path:
    issues, now = generated_issues(20_000, 7)
    projects = sorted({issue.key.split("-")[0] for issue in issues})
    settings = load_settings(
        data=report_settings(projects, "https://jira.example.com", str(folder / "state.sqlite"))
    )
    evaluation = evaluate(issues, settings, now, bot_id="u-bot")
    health = {v.issue.key: (v.health.value, v.families) for v in evaluation.verdicts}
    rng = random.Random(7)
    keys = sorted(health)
    # A made-up history that ends where the judgement is: walked back from today's
    # health, a fiftieth of the issues changing each day, then kept oldest first.
    walk = []
    for _ in range(DAYS):
        for key in rng.sample(keys, len(keys) // 50):
            if health[key][0] == "healthy":
                health[key] = ("at-risk", (rng.choice(ISSUE_FAMILIES),))
            else:
                health[key] = ("healthy", ())
        walk.append(dict(health))
    with StateStore(settings.state.path) as store:
        for number, state in enumerate(reversed(walk)):
            at = now - timedelta(days=DAYS - number)
            store.record_trend(number + 1, "sync", at, {"n": number}, state)
        trends.record(store, DAYS + 1, "report", evaluation)
        identity = ServerIdentity("jira", "https://jira.example.com", "10", "cloud", "u-bot")
        doc = build_report(evaluation, settings, identity, store)
    return write_report(doc, folder / "report.html", "html")


def run() -> int:
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        print("needs Chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = report(Path(tmp))
        browser = p.chromium.launch(executable_path=browser_path)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.goto(page_path.as_uri())
        page.wait_for_selector("#findings-controls:not([hidden])", state="attached")
        controls = page.locator("#findings-controls").bounding_box()
        team = page.locator("details.team").first
        top = team.bounding_box()
        first_group = team.locator("tbody[data-group]").first.bounding_box()
        assert controls and top and first_group
        shots = {
            DOCS / "report-portfolio.png": (0, controls["y"] + controls["height"] + 8),
            DOCS / "report-team.png": (top["y"] - 4, first_group["y"] + first_group["height"] + 8),
        }
        for out, (y0, y1) in shots.items():
            clip = {"x": 0, "y": y0, "width": WIDTH, "height": y1 - y0}
            page.screenshot(path=str(out), clip=clip, full_page=True)
            if shutil.which("pngquant"):
                subprocess.run(["pngquant", "--force", "--skip-if-larger", "--ext", ".png",
                                "--quality", "60-90", str(out)], check=False)  # fmt: skip
            print(out, out.stat().st_size, "bytes")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(run())
