"""The charts of one team's section, the ones managers know from flow-metrics tools:
cumulative flow, WIP per step against its limit, cycle-time scatter and histogram with
the same percentiles, throughput per week, aging work in progress, and health over time.
Each is drawn from the team's part of the report document (see data.py) as inline SVG
(svg.py). A dot of an issue names it (its key and summary) on hover and opens it in the
tracker on a click.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jira_chase.reports.manager.svg import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PALETTE,
    RED,
    SKY,
    Chart,
    Dot,
    date_ticks,
    dated_labels,
    day,
    empty,
)

#: The backlog's layer in the cumulative flow: light, behind the work.
BACKLOG_GREY = "#C9CDD2"
#: How many issues each step's column of the aging chart shows as dots at most: the
#: oldest beyond the p85; the rest of the column is drawn as bands with their counts.
AGING_DOTS_PER_STEP = 40
#: The distance between the centres of two dots of the aging chart's swarm (px).
_SWARM_GAP = 7.0
#: How many finished issues the cycle-time scatter draws at most (a long metrics window
#: of a big team finishes thousands): every one beyond the p85, and an even sample of
#: the others; the chart says so.
SCATTER_DOTS = 1500
#: Percentile lines: the same colours in every chart.
PERCENTILE_COLOURS = (("p50", GREEN), ("p85", ORANGE), ("p95", RED))


def _issue_label(item: dict[str, Any], value: str) -> str:
    return f"{item['key']} {item.get('summary') or ''} — {value}".replace("  —", " —")


def _percentile_lines(chart: Chart, percentiles: dict[str, Any] | None, unit: str,
                      across: bool = True) -> None:  # fmt: skip
    if not percentiles:
        return
    for name, colour in PERCENTILE_COLOURS:
        value = percentiles.get(name)
        if value is None:
            continue
        label = f"{name} {value:g} {unit.split()[-1]}"
        if across:
            chart.hline(value, colour, label)
        else:
            chart.vline(value, colour, label)


def cumulative_flow_chart(cfd: dict[str, Any] | None) -> str:
    """Issues per state at the end of each day, stacked: done at the bottom, then the
    steps from the last to the first, the backlog on top. Done counts from the window's
    first day, so that the work in progress is not dwarfed by everything ever finished."""
    title = "Cumulative flow"
    days = (cfd or {}).get("days") or []
    series = (cfd or {}).get("series") or []
    if not days or not series:
        return empty(title, "no days in the metrics window", "cfd")
    xs = [day(d) for d in days]
    layers: list[tuple[str, list[int], str]] = []
    for i, s in enumerate(series):
        counts = list(s["counts"])
        if s["name"] == "done" and i == len(series) - 1:
            start = counts[0] if counts else 0
            layers.append((f"done since {days[0]}", [c - start for c in counts], GREEN))
        elif s["name"] == "backlog" and i == 0:
            layers.append(("backlog", counts, BACKLOG_GREY))
        else:
            layers.append((s["name"], counts, PALETTE[(i - 1) % len(PALETTE)]))
    totals = [sum(layer[1][d] for layer in layers) for d in range(len(xs))]
    chart = Chart(title, xs[0], xs[-1], max(totals + [1]), "issues", whole=True)
    lower = [0] * len(xs)
    for name, counts, colour in reversed(layers):
        upper = [lo + c for lo, c in zip(lower, counts)]
        chart.area(xs, lower, upper, colour, f"{name}: {counts[-1]} on {days[-1]}")
        lower = upper
    chart.legend = [(name, colour, "area") for name, _, colour in layers]
    return chart.render(date_ticks(xs[0], xs[-1]), "cfd")


def wip_per_step(wip: dict[str, Any] | None) -> str:
    """Issues in each step at the end of each day, with the step's WIP limit."""
    title = "Work in progress per step against its limit"
    days = (wip or {}).get("days") or []
    steps = (wip or {}).get("steps") or []
    if not days or not steps:
        return empty(title, "no workflow steps measured", "wip")
    xs = [day(d) for d in days]
    top = max([max(s["counts"], default=0) for s in steps]
              + [s["limit"] or 0 for s in steps] + [1])  # fmt: skip
    chart = Chart(title, xs[0], xs[-1], top * 1.05, "issues", whole=True)
    for i, step in enumerate(steps):
        colour = PALETTE[i % len(PALETTE)]
        chart.line(list(zip(xs, step["counts"])), colour, step["name"])
        if step["limit"] is not None:
            chart.hline(step["limit"], colour, f"{step['name']} limit {step['limit']}")
    return chart.render(date_ticks(xs[0], xs[-1]), "wip")


def cycle_scatter(points: Sequence[dict[str, Any]], cycle: Any, unit: str) -> str:
    """Each finished issue's cycle time by the day it finished, with p50, p85, p95 (at
    most SCATTER_DOTS issues: all beyond the p85, an even sample of the rest)."""
    title = "Cycle time of finished issues"
    if not points:
        return empty(title, "no issue finished in the window", "scatter")
    shown = _thinned(points, (cycle or {}).get("p85"))
    if len(shown) < len(points):
        title += f" ({len(shown)} of {len(points)} drawn: all beyond p85)"
    xs = [day(p["finished"]) for p in shown]
    top = max([p["days"] for p in points] + [(cycle or {}).get("p95") or 0, 1])
    x0, x1 = day(points[0]["finished"]) - 1, day(points[-1]["finished"]) + 1
    chart = Chart(title, min(xs + [x0]), max(xs + [x1]), top * 1.05, unit)
    _percentile_lines(chart, cycle, unit)
    chart.dots(
        [Dot(x, p["days"], _issue_label(p, f"{p['days']:g} {unit}, finished {p['finished']}"),
             p.get("url")) for x, p in zip(xs, shown)],
        BLUE,
        "finished issue (hover: which; click: open)",
        radius=3,
    )  # fmt: skip
    return chart.render(date_ticks(chart.x0, chart.x1), "scatter")


def _thinned(points: Sequence[dict[str, Any]], p85: float | None) -> list[dict[str, Any]]:
    if len(points) <= SCATTER_DOTS:
        return list(points)
    beyond = [p for p in points if p85 is not None and p["days"] > p85]
    rest = [p for p in points if p85 is None or p["days"] <= p85]
    room = max(SCATTER_DOTS - len(beyond), 0)
    sample = [rest[i * len(rest) // room] for i in range(room)] if room else []
    return beyond + sample


def cycle_histogram(histogram: dict[str, Any] | None, cycle: Any, unit: str) -> str:
    """How many finished issues took how long, with the scatter's percentiles."""
    title = "Cycle time histogram"
    bins = (histogram or {}).get("bins") or []
    if not bins:
        return empty(title, "no issue finished in the window", "histogram")
    x1 = bins[-1]["to"]
    chart = Chart(title, 0, x1, max([b["count"] for b in bins] + [1]) * 1.15, "issues",
                  whole=True)  # fmt: skip
    for b in bins:
        chart.bar(b["from"], b["to"], b["count"], SKY,
                  f"{b['from']:g}–{b['to']:g} {unit}: {b['count']} issues")  # fmt: skip
    _percentile_lines(chart, cycle, unit, across=False)
    chart.legend = [("finished issues per bin", SKY, "band")] + [
        (name, colour, "2 3") for name, colour in PERCENTILE_COLOURS if cycle
    ]
    ticks = _number_ticks(0, x1)
    return chart.render([(t, f"{t:g}") for t in ticks], "histogram")


def _number_ticks(x0: float, x1: float, count: int = 7) -> list[float]:
    span = max(x1 - x0, 1e-9)
    for step in (0.5, 1, 2, 5, 7, 10, 14, 20, 28, 50, 100, 200, 500, 1000):
        if span / step <= count - 1:
            break
    first = int(x0 // step) * step
    return [first + step * i for i in range(int(span // step) + 1) if first + step * i <= x1]


def throughput(weeks: Sequence[dict[str, Any]]) -> str:
    """Issues finished per week, oldest week first."""
    title = "Throughput per week"
    if not weeks:
        return empty(title, "no throughput measured", "throughput")
    chart = Chart(title, 0, len(weeks), max([w["finished"] for w in weeks] + [1]), "issues",
                  whole=True)  # fmt: skip
    for i, week in enumerate(weeks):
        chart.bar(i + 0.15, i + 0.85, week["finished"], BLUE,
                  f"week ending {week['week_ending']}: {week['finished']}")  # fmt: skip
    # at most about 8 labels, each week's end (the first with its year)
    every = -(-len(weeks) // 8)
    labels = dated_labels([w["week_ending"] for w in weeks[::every]])
    return chart.render([(i * every + 0.5, label) for i, label in enumerate(labels)],
                        "throughput")  # fmt: skip


def aging(aging_doc: dict[str, Any] | None, unit: str) -> str:
    """The age of each issue in progress by its step, on a log scale (ages run from
    hours to a year), with the cycle-time percentiles. Per step: the issues within the
    p85 as one band; the oldest beyond it as dots (at most AGING_DOTS_PER_STEP, and only
    as many as fit without one covering another); the rest beyond it as a second band.
    On top of each column: how many are in progress there, how many beyond the p85."""
    title = "Aging work in progress (log scale)"
    steps = [s for s in (aging_doc or {}).get("steps") or [] if s["count"]]
    if not steps:
        return empty(title, "no work in progress", "aging")
    percentiles = (aging_doc or {}).get("percentiles") or {}
    p85 = percentiles.get("p85")
    top = max([i["age_days"] for s in steps for i in s["items"][:1]]
              + [v for v in percentiles.values() if v is not None] + [1])  # fmt: skip
    chart = Chart(title, 0, len(steps), top * 1.2, unit, log=True, headroom=14)
    for column, step in enumerate(steps):
        items = step["items"]  # oldest first
        beyond = [i for i in items if p85 is not None and i["age_days"] > p85]
        within = items[len(beyond) :] if p85 is not None else items
        dots = _swarm(chart, beyond[:AGING_DOTS_PER_STEP], column, unit)
        rest = beyond[len(dots) :]
        left, right = column + 0.12, column + 0.88
        for group, colour, what in ((within, GREY, "within p85"),
                                    (rest, ORANGE, "more beyond p85")):  # fmt: skip
            if group:
                low, high = group[-1]["age_days"], group[0]["age_days"]
                chart.box(left, right, low, high, colour,
                          f"{step['name']}: {len(group)} {what}, {low:g}–{high:g} {unit}",
                          opacity=0.3)  # fmt: skip
        chart.dots(dots, RED, "oldest beyond p85", radius=3.5)
        chart.note(column + 0.5, f"{step['count']}" + (f" · {len(beyond)} > p85" if beyond else ""))
    _percentile_lines(chart, percentiles, unit)
    chart.legend = [("within p85", GREY, "band"), ("beyond p85", ORANGE, "band"),
                    ("oldest beyond p85 (hover: which; click: open)", RED, "dot")]  # fmt: skip
    return chart.render([(i + 0.5, s["name"]) for i, s in enumerate(steps)], "aging")


def _swarm(chart: Chart, items: Sequence[dict[str, Any]], column: int, unit: str) -> list[Dot]:
    """Dots for the first of `items` (oldest first, a few dozen at most) in their column:
    each at its age, moved sideways from the column's centre to the nearest place where
    it covers no dot placed before it; the first that finds no such place ends the dots
    (it and those after it are left to the chart's band)."""
    centre = chart.x(column + 0.5)
    half = (chart.x(column + 1) - chart.x(column)) * 0.42
    offsets = [0.0] + [s * k * _SWARM_GAP for k in range(1, int(half // _SWARM_GAP) + 1)
                       for s in (1, -1)]  # fmt: skip
    placed: list[tuple[float, float]] = []  # pixels
    dots = []
    for item in items:
        py = chart.y(item["age_days"])
        offset = next((o for o in offsets
                       if all((centre + o - x) ** 2 + (py - y) ** 2 >= _SWARM_GAP**2
                              for x, y in placed)), None)  # fmt: skip
        if offset is None:
            break
        placed.append((centre + offset, py))
        dots.append(Dot(chart.x_at(centre + offset), item["age_days"],
                        _issue_label(item, f"{item['age_days']:g} {unit} in progress"),
                        item.get("url")))  # fmt: skip
    return dots


def health_over_time(days: Sequence[dict[str, Any]]) -> str:
    """Flagged, off-track and at-risk issues at the end of each day with a run."""
    title = "Health over time"
    if not days:
        return empty(title, "no run recorded yet (each sync and report keeps one)", "health")
    xs = [day(d["at"]) for d in days]
    x0, x1 = (xs[0] - 1, xs[-1] + 1) if len(xs) == 1 else (xs[0], xs[-1])
    chart = Chart(title, x0, x1, max([d["flagged"] for d in days] + [1]), "issues", whole=True)
    for key, colour, name in (("flagged", GREY, "flagged"), ("off_track", RED, "off track"),
                              ("at_risk", ORANGE, "at risk")):  # fmt: skip
        chart.line([(x, d[key]) for x, d in zip(xs, days)], colour, name)
    chart.dots(
        [Dot(x, d["flagged"], f"{d['at']}: {d['flagged']} flagged ({d['off_track']} off "
             f"track, {d['at_risk']} at risk)") for x, d in zip(xs, days)],
        GREY,
        "day with a run",
        radius=2.5,
    )  # fmt: skip
    return chart.render(date_ticks(x0, x1), "health")


def team_charts(team: dict[str, Any], unit: str) -> dict[str, str]:
    """Every chart of one team's section, by name."""
    cycle = team.get("cycle_time")
    return {
        "cfd": cumulative_flow_chart(team.get("cfd")),
        "wip": wip_per_step(team.get("wip")),
        "scatter": cycle_scatter(team.get("cycle_times") or [], cycle, unit),
        "histogram": cycle_histogram(team.get("histogram"), cycle, unit),
        "throughput": throughput(team.get("throughput") or []),
        "aging": aging(team.get("aging"), unit),
        "health": health_over_time(team.get("health") or []),
    }
