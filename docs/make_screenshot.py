"""Regenerate docs/report.png, the README's picture of the manager's report.

    .venv/bin/python docs/make_screenshot.py

Runs the demo (which writes the report of the demo data) and photographs the top of the
report in headless Chromium (Debian's `chromium` package, driven by Playwright; no
browser download).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from click.testing import CliRunner
from playwright.sync_api import sync_playwright

from jira_chase.cli.commands import main
from jira_chase.cli.demo import demo_report_path

OUT = Path(__file__).resolve().parent / "report.png"
WIDTH, HEIGHT = 1100, 1900


def run() -> int:
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        print("needs Chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    result = CliRunner().invoke(main, ["demo"])
    if result.exit_code != 0:
        print(result.output, file=sys.stderr)
        return 1
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path)
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.goto(demo_report_path().as_uri())
        page.screenshot(path=str(OUT), clip={"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT})
        browser.close()
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(run())
