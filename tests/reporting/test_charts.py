"""The report's charts, drawn from parts of report documents built here (the shapes of
report-contract version 2), read back as SVG: what a manager would see in them."""

from __future__ import annotations

import base64
import gzip
import json
import math
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

from jira_chase.reports.manager.charts import burnup
from jira_chase.reports.manager.render import findings_payload, render_html, team_ids
from jira_chase.reports.manager.svg import date_ticks, day
from jira_chase.reports.manager.team_charts import (
    AGING_DOTS_PER_STEP,
    SCATTER_DOTS,
    aging,
    cumulative_flow_chart,
    cycle_histogram,
    cycle_scatter,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in parse(svg).iter(f"{SVG}text")]


def labels(svg: str) -> list[str]:
    """The x axis's tick labels (the texts just under the plot)."""
    return [t.text or "" for t in parse(svg).iter(f"{SVG}text") if t.get("y") == "216"]


def dots(svg: str) -> list[tuple[ET.Element, ET.Element | None]]:
    """Each circle of a chart's issue dots with the link around it (or None)."""
    found = []
    for group in parse(svg).iter(f"{SVG}g"):
        if "dots" not in (group.get("class") or ""):
            continue
        for child in group:
            if child.tag == f"{SVG}a":
                found.append((child.find(f"{SVG}circle"), child))
            else:
                found.append((child, None))
    return found


# -- dates on the x axis -----------------------------------------------------------------


def test_date_ticks_name_the_year_on_the_first_tick_and_where_it_changes():
    weeks = date_ticks(day("2026-12-10"), day("2027-01-20"))
    assert [text for _, text in weeks] == [
        "Dec 14, 2026", "Dec 21", "Dec 28", "Jan 04, 2027", "Jan 11", "Jan 18"
    ]  # fmt: skip
    months = date_ticks(day("2026-09-15"), day("2027-08-01"))
    assert [text for _, text in months] == ["Nov 2026", "Jan 2027", "Mar", "May", "Jul"]
    days = date_ticks(day("2026-11-16"), day("2026-11-20"))
    assert [text for _, text in days] == ["Nov 16, 2026", "Nov 17", "Nov 18", "Nov 19", "Nov 20"]
    years = date_ticks(day("2024-02-01"), day("2027-06-01"))
    assert [text for _, text in years] == ["Jan 2025", "Jan 2026", "Jan 2027"]


def test_a_burn_up_across_two_years_shows_them_on_its_axis():
    goal = {
        "name": "Platform", "status": "on-track", "unit": "issues", "done": 40.0,
        "total": 100.0, "start": "2026-10-01",
        "actual": [["2026-10-01", 0.0], ["2026-11-20", 40.0]],
        "plan": [["2026-10-01", 0.0], ["2027-03-31", 100.0]],
        "checkpoints": [{"name": "beta", "date": "2027-01-15", "target_units": 70.0,
                         "status": "at-risk"}],
        "forecast": {"p50": "2027-03-01", "p85": "2027-04-15"},
    }  # fmt: skip
    ticks = labels(burnup(goal, "2026-11-20"))
    assert ticks[0].endswith("2026") and "Jan 2027" in ticks
    assert all(t.endswith(("2026", "2027")) or " " not in t for t in ticks)
    (checkpoint, link) = dots(burnup(goal, "2026-11-20"))[0]
    assert link is None and checkpoint.findtext(f"{SVG}title") == "beta 2027-01-15: at-risk"


# -- a team's charts -------------------------------------------------------------------


def item(n: int, age: float) -> dict[str, Any]:
    return {"key": f"APP-{n}", "summary": f"Work item {n}", "age_days": age,
            "health": "at-risk", "url": f"https://jira.example.com/browse/APP-{n}"}  # fmt: skip


def test_aging_draws_the_crowd_as_bands_and_only_the_oldest_as_dots_apart():
    # 300 issues in build, 290 of them beyond the p85: no column of solid dots
    ages = [300 - i * 0.9 for i in range(290)] + [5.0 - i * 0.4 for i in range(10)]
    steps = [{"name": "build", "count": 300, "items": [item(i, a) for i, a in enumerate(ages)]},
             {"name": "review", "count": 1, "items": [item(900, 3.0)]}]  # fmt: skip
    svg = aging({"percentiles": {"p50": 10.0, "p85": 10.5, "p95": 11.0}, "steps": steps}, "days")
    drawn = dots(svg)
    assert 20 <= len(drawn) <= AGING_DOTS_PER_STEP
    # the oldest, each a link named by its key and summary
    oldest = steps[0]["items"][: len(drawn)]
    assert [link.get("href") for _, link in drawn] == [i["url"] for i in oldest]
    assert drawn[0][0].findtext(f"{SVG}title") == "APP-0 Work item 0 — 300 days in progress"
    centres = [(float(c.get("cx")), float(c.get("cy"))) for c, _ in drawn]
    closest = min(math.dist(a, b) for i, a in enumerate(centres) for b in centres[i + 1 :])
    assert closest >= 7  # (radius 3.5: none covers another)
    rects = [r.findtext(f"{SVG}title") for r in parse(svg).iter(f"{SVG}rect")]
    assert "build: 10 within p85, 1.4–5 days" in rects
    rest = steps[0]["items"][len(drawn) : 290]
    assert (f"build: {len(rest)} more beyond p85, {rest[-1]['age_days']:g}–"
            f"{rest[0]['age_days']:g} days") in rects  # fmt: skip
    assert "300 · 290 > p85" in texts(svg) and "1" in texts(svg)
    # three percentiles a day apart: three labels, none over another
    marks = {t.text: float(t.get("y")) for t in parse(svg).iter(f"{SVG}text")
             if (t.text or "").startswith("p")}  # fmt: skip
    assert set(marks) == {"p50 10 days", "p85 10.5 days", "p95 11 days"}
    ys = sorted(marks.values())
    assert all(b - a >= 12 for a, b in zip(ys, ys[1:]))


def test_the_scatter_names_and_links_each_finished_issue_and_keeps_every_outlier():
    start = date(2026, 9, 1)
    points = [
        {"key": f"WEB-{n}", "summary": f"Page {n}", "days": float(n % 50),
         "finished": (start + timedelta(days=n % 80)).isoformat(),
         "url": f"https://jira.example.com/browse/WEB-{n}"}
        for n in range(3000)
    ]  # fmt: skip
    points.sort(key=lambda p: (p["finished"], p["key"]))
    cycle = {"p50": 25.0, "p85": 42.0, "p95": 47.0, "count": 3000}
    svg = cycle_scatter(points, cycle, "days")
    drawn = dots(svg)
    beyond = {p["url"] for p in points if p["days"] > 42}
    assert len(drawn) == SCATTER_DOTS and beyond <= {link.get("href") for _, link in drawn}
    assert f"{SCATTER_DOTS} of 3000 drawn" in texts(svg)[0]
    circle, link = drawn[0]
    shown = next(p for p in points if p["url"] == link.get("href"))
    assert circle.findtext(f"{SVG}title") == (
        f"{shown['key']} {shown['summary']} — {shown['days']:g} days, finished {shown['finished']}"
    )
    assert {"p50 25 days", "p85 42 days", "p95 47 days"} <= set(texts(svg))
    few = cycle_scatter(points[:100], cycle, "days")
    assert len(dots(few)) == 100


def test_the_histogram_marks_the_same_percentiles():
    histogram = {"bin_days": 5.0, "bins": [{"from": i * 5.0, "to": i * 5.0 + 5, "count": c}
                                           for i, c in enumerate([3, 9, 4, 0, 1])]}  # fmt: skip
    svg = cycle_histogram(histogram, {"p50": 7.0, "p85": 12.0, "p95": 21.0}, "business days")
    bars = [r.findtext(f"{SVG}title") for r in parse(svg).iter(f"{SVG}rect")
            if r.get("class") == "series"]  # fmt: skip
    assert bars[:2] == ["0–5 business days: 3 issues", "5–10 business days: 9 issues"]
    assert {"p50 7 days", "p85 12 days", "p95 21 days"} <= set(texts(svg))


def test_the_cumulative_flow_stacks_done_at_the_bottom_and_the_backlog_on_top():
    days = [(date(2026, 11, 1) + timedelta(days=i)).isoformat() for i in range(10)]
    cfd = {"days": days, "series": [
        {"name": "backlog", "counts": [10] * 10},
        {"name": "build", "counts": [4] * 10},
        {"name": "done", "counts": [500 + i for i in range(10)]},
    ]}  # fmt: skip
    svg = cumulative_flow_chart(cfd)
    layers = [p.findtext(f"{SVG}title") for p in parse(svg).iter(f"{SVG}polygon")]
    assert layers == [f"done since {days[0]}: 9 on {days[-1]}", f"build: 4 on {days[-1]}",
                      f"backlog: 10 on {days[-1]}"]  # fmt: skip
    legend = [t for t in texts(svg) if t in ("backlog", "build", f"done since {days[0]}")]
    assert legend == ["backlog", "build", f"done since {days[0]}"]


# -- the page's findings rows ------------------------------------------------------------


def doc_with(teams: list[dict[str, Any]], named: bool = False) -> dict[str, Any]:
    return {"name_people": named, "steps": [{"name": "build"}, {"name": "review"}],
            "teams": teams}  # fmt: skip


def flagged(key: str, summary: str, severity: int = 2) -> dict[str, Any]:
    return {"key": key, "url": f"https://jira.example.com/browse/{key}", "summary": summary,
            "status": "In Progress", "team": "APP", "step": "build", "assignee": None,
            "health": "off-track" if severity == 2 else "at-risk", "severity": severity,
            "families": ["stuck"], "findings": ["not moving"], "age_days": 3.0}  # fmt: skip


def test_the_findings_rows_travel_compressed_and_cannot_end_their_block():
    evil = "</script><script>document.title='pwned'</script>"
    doc = doc_with([{"name": "APP", "flagged": [flagged("APP-1", evil), flagged("APP-2", "x", 1)]}])
    text = findings_payload(doc)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
    data = json.loads(gzip.decompress(base64.b64decode(text)))
    assert data["group_by"] == "step" and "assignee" not in [c[0] for c in data["columns"]]
    assert [r["key"] for r in data["teams"][0]["rows"]] == ["APP-1", "APP-2"]
    assert data["teams"][0]["rows"][0]["summary"] == evil
    assert findings_payload(doc) == text  # the same document, the same page
    named = json.loads(gzip.decompress(base64.b64decode(findings_payload(doc_with([], True)))))
    assert named["group_by"] == "assignee" and "assignee" in [c[0] for c in named["columns"]]


def test_each_team_gets_its_own_section_id():
    doc = doc_with([{"name": n, "flagged": []} for n in ("Web", "web", "Web!", "Платформа")])
    assert team_ids(doc) == ["team-web", "team-web-2", "team-web-3", "team-x"]


def test_the_page_carries_one_script_and_no_markup_from_the_data():
    from jira_chase.reports.manager.render import content_security_policy

    evil = "<img src=x onerror=alert(1)>"
    doc = json.loads(json.dumps(PAGE_DOC).replace("SUMMARY", evil))
    html = render_html(doc)
    assert "<img" not in html and html.count("<script>") == 1
    assert content_security_policy() in html.replace("&#39;", "'")


PAGE_DOC: dict[str, Any] = {
    "format": "jira-chase-report/2", "as_of": "2026-11-20T16:00:00+00:00",
    "as_of_local": "2026-11-20 16:00 UTC", "timezone": "UTC",
    "tracker": {"kind": "jira", "url": "https://jira.example.com", "deployment": "cloud"},
    "unit": "calendar days", "name_people": False,
    "headline": {"issues": 3, "off_track": 1, "at_risk": 0, "healthy": 2, "since": None,
                 "change": None},
    "attention": {"flagged_unfinished": 1, "unfinished": 2, "flagged_share": 0.5,
                  "labels_per_flagged_issue": {"median": 1, "max": 1}, "baseline": None,
                  "since_rollout": None, "since_rollout_by_week": []},
    "goals": [], "steps": [{"name": "build"}], "bottleneck": None,
    "recovery": {"summary": {}, "by_week": []},
    "waits": {"teams": {}, "open": [], "by_week": []},
    "portfolio": [{"team": "APP", "issues": 3, "unfinished": 2, "flagged": 1,
                   "share_flagged": 0.5, "off_track": 1, "at_risk": 0, "bottleneck": None,
                   "cycle_p85": 4.0, "cycle_p85_before": 5.0,
                   "waits_open": {"caused": 0, "suffered": 0}}],
    "teams": [{
        "name": "APP", "jql": None,
        "headline": {"issues": 3, "unfinished": 2, "flagged": 1, "off_track": 1,
                     "at_risk": 0, "healthy": 2},
        "steps": [], "bottleneck": None, "cycle_time": None,
        "cycle_times": [{"key": "APP-3", "summary": "SUMMARY", "finished": "2026-11-19",
                         "days": 4.0, "url": "https://jira.example.com/browse/APP-3"}],
        "histogram": None, "throughput": [], "cfd": {"days": [], "series": []},
        "wip": {"days": [], "steps": []},
        "aging": {"percentiles": None, "steps": [{"name": "build", "count": 1, "items": [
            {"key": "APP-1", "summary": "SUMMARY", "age_days": 9.0,
             "url": "https://jira.example.com/browse/APP-1"}]}]},
        "health": [], "recovery": {"summary": {}, "by_week": []},
        "flagged": [flagged("APP-1", "SUMMARY")],
        "red_lines": [], "blockers": [], "over_wip": [], "waits": None,
    }],
}  # fmt: skip
