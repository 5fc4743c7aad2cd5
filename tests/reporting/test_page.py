"""The report's HTML page in a real headless Chromium (Debian's `chromium`, driven by
Playwright, every request but the file itself refused): the demo's report, and the
report of 20,000 generated issues, which must stay small and usable."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jira_chase.cli.commands import main
from jira_chase.config.file import load_settings
from jira_chase.engine.evaluate import evaluate
from jira_chase.reports.manager import build_report
from jira_chase.reports.manager.produce import write_report
from jira_chase.reports.manager.render import team_ids
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.simulator.generated_issues import generated_issues, report_settings
from jira_chase.sources.base import ServerIdentity
from jira_chase.store import trends
from jira_chase.store.state import StateStore
from tests.factories import demo_config, write_toml

NOW = "2026-11-20T16:00:00Z"
#: The page of 20,000 issues may weigh this much at most.
MAX_BYTES = 2_000_000


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="needs Debian's chromium (.ci/run installs it)"
)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


class Offline:
    """Pages opened with every request but file:// refused, their console errors and
    the requests refused kept."""

    def __init__(self, browser: Any):
        self.browser = browser
        self.errors: list[str] = []
        self.requested: list[str] = []

    def open(self, path: Path, width: int = 1200, height: int = 900) -> Any:
        page = self.browser.new_page(viewport={"width": width, "height": height})

        def block(route: Any) -> None:
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                self.requested.append(route.request.url)
                route.abort()

        page.route("**/*", block)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(path.as_uri())
        # the findings tables are built once the embedded rows are unpacked
        page.wait_for_selector("#findings-controls:not([hidden])", state="attached")
        return page


#: Per group of a team's findings table: its name and its rows' keys and severities.
GROUPS = """(id) => Array.from(document.querySelectorAll(`#${id} tbody[data-group]`)).map(
  (body) => [body.dataset.group, Array.from(body.querySelectorAll("tr:not(.group)")).map(
    (row) => [row.querySelector("a.issue").textContent, row.className])])"""


def show_every_row(page: Any, section: str) -> None:
    while page.locator(f"#{section} tr.group button").count():
        page.locator(f"#{section} tr.group button").first.click()


def grouped(rows: list[dict[str, Any]], by: str, none: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for row in rows:
        groups.setdefault(row[by] or none, []).append(row["key"])
    return groups


def payload(html: str) -> dict[str, Any]:
    start = html.index('<script type="application/gzip" id="findings-data">')
    text = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(gzip.decompress(base64.b64decode(text)))


# -- the demo's report ------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path, jira_sim):
    sim = jira_sim(build_demo_dataset())

    def configure(**overrides: Any) -> Path:
        return write_toml(
            tmp_path / "c.toml",
            demo_config(sim.url, str(tmp_path / "state.sqlite"),
                        calendar={"timezone": "Europe/Berlin"}, **overrides),
        )  # fmt: skip

    return configure


def write_both(config: Path, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / "report.html"
    printed = invoke("report", "--config", str(config), "--now", NOW, "--out", str(out))
    assert printed.strip() == f"report written: {out.resolve()}"
    invoke("report", "--config", str(config), "--now", NOW, "--out",
           str(tmp_path / "report.json"), "--format", "json")  # fmt: skip
    return out, json.loads((tmp_path / "report.json").read_text())


@needs_chromium
def test_the_demo_report_opens_offline_in_chromium(tmp_path, demo):
    sync_api = pytest.importorskip("playwright.sync_api")
    config = demo()
    invoke("sync", "--config", str(config), "--now", NOW)
    out, doc = write_both(config, tmp_path)
    html = out.read_text()
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    (team,) = doc["teams"]
    (section,) = team_ids(doc)

    with sync_api.sync_playwright() as p:
        offline = Offline(p.chromium.launch(executable_path=chromium()))
        page = offline.open(out)
        charts = page.locator("svg.chart")
        # burn-up per goal, time to recovery, the map of waits; eight per team
        assert charts.count() == len(doc["goals"]) + 2 + 8
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 40
            drawn = charts.nth(i).locator(".series, text").count()
            assert drawn > 0, charts.nth(i).get_attribute("aria-label")
        assert page.locator(f"#{section} svg.chart .series").count() > 30
        # The portfolio leads to the team's section.
        assert page.locator(f'#portfolio a[href="#{section}"]').inner_text() == team["name"]
        show_every_row(page, section)
        links = page.locator(f"#{section} a.issue")
        assert {links.nth(i).get_attribute("href") for i in range(links.count())} == {
            f["url"] for f in team["flagged"]
        }
        # The health filter narrows the table to the off-track issues.
        page.select_option("#findings-controls select[name=severity]", "2")
        off_track = [f["key"] for f in team["flagged"] if f["severity"] == 2]
        assert sorted(links.all_inner_texts()) == sorted(off_track)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        phone = offline.open(out, width=390, height=844)
        width = phone.evaluate("document.documentElement.scrollWidth")
        offline.browser.close()
    assert offline.errors == []
    assert offline.requested == []
    assert width <= 390  # readable on a phone: nothing wider than the screen
    assert (tmp_path / "report.png").stat().st_size > 10_000


@needs_chromium
def test_each_group_of_the_findings_table_is_most_severe_first(tmp_path, demo):
    sync_api = pytest.importorskip("playwright.sync_api")
    out, doc = write_both(demo(), tmp_path)
    (team,) = doc["teams"]
    (section,) = team_ids(doc)
    expected = grouped(team["flagged"], "step", "not in a step")
    assert len(expected) > 2 and {f["severity"] for f in team["flagged"]} == {1, 2}
    with sync_api.sync_playwright() as p:
        offline = Offline(p.chromium.launch(executable_path=chromium()))
        page = offline.open(out)
        show_every_row(page, section)
        shown = page.evaluate(GROUPS, section)
        offline.browser.close()
    # grouped by step in workflow order, each group in the document's order: off track
    # before at risk
    order = [s["name"] for s in doc["steps"]] + ["not in a step"]
    assert [name for name, _ in shown] == sorted(expected, key=order.index)
    for name, rows in shown:
        assert [key for key, _ in rows] == expected[name]
        severities = [int(cls[-1]) for _, cls in rows]
        assert severities == sorted(severities, reverse=True)
    assert any(len({cls for _, cls in rows}) == 2 for _, rows in shown)
    assert offline.errors == []


@needs_chromium
def test_with_people_named_the_findings_group_by_assignee(tmp_path, demo):
    sync_api = pytest.importorskip("playwright.sync_api")
    out, doc = write_both(demo(report={"name_people": True}), tmp_path)
    (team,) = doc["teams"]
    (section,) = team_ids(doc)
    expected = grouped(team["flagged"], "assignee", "unassigned")
    assert len(expected) > 2
    person = max((n for n in expected if n != "unassigned"), key=lambda n: len(expected[n]))
    with sync_api.sync_playwright() as p:
        offline = Offline(p.chromium.launch(executable_path=chromium()))
        page = offline.open(out)
        show_every_row(page, section)
        shown = dict(page.evaluate(GROUPS, section))
        assert {name: [key for key, _ in rows] for name, rows in shown.items()} == expected
        page.select_option("#findings-controls select[name=assignee]", person)
        assert page.evaluate(GROUPS, section)[0][0] == person
        assert page.locator(f"#{section} a.issue").count() == len(expected[person])
        offline.browser.close()
    assert offline.errors == []


# -- 20,000 generated issues ------------------------------------------------------------


def generated_report(tmp_path: Path, issues: int) -> tuple[Path, dict[str, Any], set[str]]:
    """The report of `issues` generated issues, every generated project in scope (one
    team each), built as benchmarks/bench_report.py builds it but from the generator's
    issues as a source gives them (the report of the simulator's data through the CLI is
    the demo's, above: fetching 20,000 issues over HTTP would triple this test's time);
    and the names of the people in them."""
    found, now = generated_issues(issues, seed=7)
    projects = sorted({issue.key.split("-")[0] for issue in found})
    settings = load_settings(
        data=report_settings(projects, "https://jira.example.com", str(tmp_path / "state.sqlite"))
    )
    evaluation = evaluate(found, settings, now, bot_id="u-bot")
    identity = ServerIdentity("jira", "https://jira.example.com", "10", "cloud", "u-bot")
    with StateStore(settings.state.path) as store:
        trends.record(store, 1, "report", evaluation)
        doc = build_report(evaluation, settings, identity, store)
    out = write_report(doc, tmp_path / "report.html", "html")
    return out, doc, {issue.assignee.name for issue in found if issue.assignee}


@needs_chromium
def test_the_report_of_20000_issues_is_small_and_usable(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    out, doc, names = generated_report(tmp_path, 20_000)
    assert doc["headline"]["issues"] == 20_000 and len(doc["teams"]) >= 5
    assert out.stat().st_size <= MAX_BYTES
    html = out.read_text()
    assert " src=" not in html and "<link" not in html and "@import" not in html
    rows = payload(html)
    assert [[r["key"] for r in t["rows"]] for t in rows["teams"]] == [
        [f["key"] for f in team["flagged"]] for team in doc["teams"]
    ]
    # people are not named (report.name_people is off): not in the page, nor in its rows
    unpacked = json.dumps(rows, ensure_ascii=False)
    assert [name for name in names if name in html or name in unpacked] == []
    ids = team_ids(doc)
    biggest = max(range(len(ids)), key=lambda i: len(doc["teams"][i]["flagged"]))
    team, section = doc["teams"][biggest], ids[biggest]

    with sync_api.sync_playwright() as p:
        offline = Offline(p.chromium.launch(executable_path=chromium()))
        page = offline.open(out)
        for section_id, each in zip(ids, doc["teams"]):
            assert page.locator(f'#portfolio a[href="#{section_id}"]').count() == 1
            # a layer per state in the cumulative flow; a bar per bin in the histogram
            cfd = page.locator(f"#{section_id} svg.chart.cfd polygon.series")
            assert cfd.count() == len(each["cfd"]["series"])
            bars = page.locator(f"#{section_id} svg.chart.histogram rect.series")
            assert bars.count() == len(each["histogram"]["bins"])
        # Each group shows its first 10 rows, most severe first.
        for section_id in ids:
            for _, shown in page.evaluate(GROUPS, section_id):
                assert len(shown) <= 10
                severities = [int(cls[-1]) for _, cls in shown]
                assert severities == sorted(severities, reverse=True)
        # A dot of the scatter names its issue and links to it.
        dot = page.locator(f"#{section} svg.chart.scatter a").first
        finished = {c["url"]: c for c in team["cycle_times"]}[dot.get_attribute("href")]
        tooltip = dot.locator("title").text_content()
        assert tooltip.startswith(f"{finished['key']} {finished['summary']} — ")
        # Typing in the search box narrows the table to the issues that match, also
        # one that was not shown before (past the first rows of its group).
        by_step = grouped(team["flagged"], "step", "not in a step")
        hidden = next(f for f in team["flagged"]
                      if by_step[f["step"] or "not in a step"].index(f["key"]) >= 10)  # fmt: skip
        links = page.locator(f"#{section} a.issue")
        before = links.all_inner_texts()
        assert hidden["key"] not in before
        page.fill("#findings-controls input[name=search]", hidden["key"])
        page.wait_for_function(
            "(key) => Array.from(document.querySelectorAll('a.issue'))"
            ".some((a) => a.textContent === key)",
            arg=hidden["key"],
        )
        after = links.all_inner_texts()
        assert hidden["key"] in after and len(after) < len(before)
        count = page.locator("#findings-controls .count").inner_text()
        assert count.endswith(" flagged issues match")
        # The whole group of the biggest team, most severe first.
        page.fill("#findings-controls input[name=search]", "")
        page.wait_for_function("() => !document.querySelector('#findings-controls .count')"
                               ".textContent.includes('match')")  # fmt: skip
        page.locator(f"#{section} tr.group button").first.click()
        name, shown = page.evaluate(GROUPS, section)[0]
        expected = [f for f in team["flagged"] if (f["step"] or "not in a step") == name]
        assert [key for key, _ in shown] == [f["key"] for f in expected]
        severities = [f["severity"] for f in expected]
        assert severities == sorted(severities, reverse=True) and len(shown) > 10
        offline.browser.close()
    assert offline.errors == []
    assert offline.requested == []
