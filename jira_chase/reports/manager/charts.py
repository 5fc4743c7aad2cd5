"""The report's whole-scope charts (goals' burn-ups, time in step, time to recovery, who
waits on whom), and every chart of the page by name (`all_charts`); each team's are in
team_charts.py. All are drawn from the report document (see data.py)."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from jira_chase.reports.manager.svg import (
    BLUE,
    GREEN,
    GREY,
    HALO,
    HEIGHT,
    ORANGE,
    RED,
    SKY,
    WIDTH,
    Chart,
    Dot,
    date_ticks,
    day,
    empty,
)
from jira_chase.reports.manager.team_charts import team_charts


def burnup(goal: dict[str, Any], today: str) -> str:
    """Done over time against the plan line, the checkpoints and the forecast band."""
    title = f"Burn-up: {goal['name']}"
    points = [(day(d), v) for d, v in goal["actual"]]
    plan = [(day(d), v) for d, v in goal["plan"]]
    forecast = goal["forecast"]
    ends = [p[0] for p in points + plan]
    if forecast:
        ends.append(day(forecast["p85"]))
    x0, x1 = min(ends), max(ends)
    unit = "issues" if goal["unit"] == "issues" else "points"
    chart = Chart(title, x0, x1, max(goal["total"], 1), unit)
    chart.hline(goal["total"], GREY, f"scope {goal['total']:g}")
    if forecast:
        now = day(today)
        chart.band(
            [(now, goal["done"]), (day(forecast["p50"]), goal["total"]),
             (day(forecast["p85"]), goal["total"])],
            ORANGE,
            "forecast p50–p85",
        )  # fmt: skip
    chart.line(plan, GREY, "plan", dash="6 4")
    chart.line(points, BLUE, "done")
    for checkpoint in goal["checkpoints"]:
        colour = {"off-track": RED, "at-risk": ORANGE}.get(checkpoint["status"], GREEN)
        chart.dots(
            [Dot(day(checkpoint["date"]), checkpoint["target_units"],
                 f"{checkpoint['name']} {checkpoint['date']}: {checkpoint['status']}")],
            colour,
            "checkpoint (colour: status)",
        )  # fmt: skip
    chart.vline(day(today), GREY, "today")
    return chart.render(date_ticks(x0, x1), "burnup")


def time_in_step(steps: list[dict[str, Any]], unit: str) -> str:
    """Each step's p85 stay as a bar, its limit as a mark."""
    title = "Time in step (p85) against its limit"
    if not steps:
        return empty(title, "no workflow steps measured")
    top = max([s["p85_days"] or 0 for s in steps] + [s["limit_days"] or 0 for s in steps] + [1])
    chart = Chart(title, 0, len(steps), top * 1.1, unit)
    for i, step in enumerate(steps):
        p85 = step["p85_days"] or 0
        limit = step["limit_days"]
        colour = RED if limit is not None and p85 >= limit else SKY
        chart.bar(i + 0.15, i + 0.85, p85, colour, f"{step['name']}: p85 {p85:g} {unit}")
        if limit is not None:
            chart.line([(i + 0.05, limit), (i + 0.95, limit)], RED,
                       f"limit {step['name']}", dash="4 2")  # fmt: skip
    chart.legend = [("p85 stay", SKY, "band"), ("limit", RED, "4 2")]
    return chart.render([(i + 0.5, s["name"]) for i, s in enumerate(steps)], "steps")


def recovery(by_week: list[dict[str, Any]]) -> str:
    """Time to recovery (median and p85) per week in which flagged issues recovered."""
    title = "Time to recovery over time"
    if not by_week:
        return empty(title, "no flagged issue has recovered yet (kept by each sync and report)")
    xs = [day(w["week"]) for w in by_week]
    top = max(w["p85_days"] for w in by_week)
    x0, x1 = min(xs) - 3.5, max(xs) + 3.5
    chart = Chart(title, x0, x1, max(top * 1.1, 1), "days")
    chart.line([(x, w["median_days"]) for x, w in zip(xs, by_week)], BLUE, "median")
    chart.line([(x, w["p85_days"]) for x, w in zip(xs, by_week)], RED, "p85", dash="6 4")
    chart.dots(
        [Dot(x, w["median_days"], f"week of {w['week']}: {w['recovered']} recovered, median "
             f"{w['median_days']:g} days") for x, w in zip(xs, by_week)],
        BLUE,
        "week",
    )  # fmt: skip
    return chart.render(date_ticks(x0, x1, min(6, len(xs) + 1)), "recovery")


def dependency_map(waits: list[dict[str, Any]]) -> str:
    """Teams as nodes on a circle, open waits between them as arrows from the team that
    waits to the team it waits on, as thick as the days waited (summed)."""
    title = "Who waits on whom (open waits)"
    edges: dict[tuple[str, str], tuple[int, float]] = {}
    for wait in waits:
        pair = (wait["waiting_team"], wait["blocker_team"])
        count, days = edges.get(pair, (0, 0.0))
        edges[pair] = (count + 1, days + (wait["days"] or 0.0))
    if not edges:
        return empty(title, "no team waits on another now")
    teams = sorted({team for pair in edges for team in pair})
    cx, cy, radius = WIDTH / 2, (HEIGHT + 20) / 2, min(WIDTH, HEIGHT) / 2 - 40
    where = {
        team: (cx + 1.8 * radius * math.cos(math.pi + 2 * math.pi * i / len(teams)),
               cy + radius * math.sin(math.pi + 2 * math.pi * i / len(teams)))
        for i, team in enumerate(teams)
    }  # fmt: skip
    heaviest = max(days for _, days in edges.values()) or 1.0
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + 20}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" '
        'markerHeight="12" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{RED}"/></marker></defs>',
        f'<text x="8" y="18" font-weight="bold">{escape(title)}</text>',
    ]
    for (waiting, blocker), (count, days) in sorted(edges.items()):
        (x1, y1), (x2, y2) = where[waiting], where[blocker]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        # stop short of the nodes; bend apart the two directions of one pair
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        nx, ny = -uy * 9, ux * 9
        a = (x1 + ux * 28 + nx, y1 + uy * 28 + ny)
        b = (x2 - ux * 28 + nx, y2 - uy * 28 + ny)
        width = 1.5 + 6 * days / heaviest
        label = f"{waiting} waits on {blocker}: {count} open, {days:.1f} days in all"
        parts.append(
            f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
            f'stroke="{RED}" stroke-width="{width:.1f}" marker-end="url(#arrow)">'
            f"<title>{escape(label)}</title></line>"
        )
        mid = ((a[0] + b[0]) / 2 + nx * 1.8, (a[1] + b[1]) / 2 + ny * 1.8 + 4)
        parts.append(
            f'<text x="{mid[0]:.1f}" y="{mid[1]:.1f}" text-anchor="middle" font-size="11" '
            f"{HALO}>{count} open · {days:.0f} days</text>"
        )
    for team, (x, y) in where.items():
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="24" fill="{SKY}" stroke="{BLUE}"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-weight="bold">'
            f"{escape(team)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def all_charts(doc: dict[str, Any]) -> dict[str, Any]:
    """Every chart of the page: the whole scope's by name, and `teams`, each team's
    charts by name (team_charts.team_charts) in team order."""
    today = doc["as_of_local"][:10]
    unit = doc["unit"]
    return {
        "burnups": [burnup(goal, today) for goal in doc["goals"]],
        "recovery": recovery(doc["recovery"]["by_week"]),
        "dependency_map": dependency_map(doc["waits"]["open"]),
        "teams": [
            {**team_charts(team, unit), "steps": time_in_step(team.get("steps") or [], unit)}
            for team in doc.get("teams") or []
        ],
    }
