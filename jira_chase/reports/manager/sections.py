"""The report's team sections and the portfolio's rows: per team its headline, flow,
cycle times, cumulative flow, WIP and aging work per step, health over time, flagged
issues (most severe first), red lines, blockers, people over their WIP limit and
waits; one row per team on top."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jira_chase.config.settings import Settings
from jira_chase.engine.evaluate import Evaluation, Verdict
from jira_chase.engine.model import Health
from jira_chase.engine.rules.values import FlowMetrics, percentile
from jira_chase.engine.timeline import Calendar
from jira_chase.reports.manager.flow import histogram
from jira_chase.reports.manager.rows import (
    ReportPeople,
    blocker_rows,
    bottleneck_row,
    flagged_row,
    issue_url,
    red_line_rows,
    rounded,
    severity_order,
    step_rows,
    throughput_rows,
)


@dataclass(frozen=True)
class Scope:
    """What every section is built against."""

    evaluation: Evaluation
    settings: Settings
    cal: Calendar
    now: datetime
    window_start: datetime
    days: Sequence[date]
    people: ReportPeople


def over_wip_rows(scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """Team name -> the people over `focus.wip_per_person` (in the whole scope) who
    carry issues of the team, most loaded first. Without naming, a person is
    "person N" and their issues are not listed."""
    limit = scope.settings.focus.wip_per_person
    if limit is None:
        return {}
    carrying: dict[str, list[Verdict]] = defaultdict(list)
    names: dict[str, str] = {}
    for verdict in scope.evaluation.verdicts:
        person = verdict.issue.assignee
        if person is not None and verdict.timeline.current.step is not None:
            carrying[person.id].append(verdict)
            names[person.id] = person.name
    named = scope.people.named
    over = sorted(
        ((pid, held) for pid, held in carrying.items() if len(held) > limit),
        key=lambda item: (-len(item[1]), names[item[0]] if named else item[0]),
    )
    teams = scope.evaluation.teams
    found: dict[str, list[dict[str, Any]]] = {}
    for pid, held in over:
        called = scope.people.call(pid, names[pid])
        mine: dict[str, list[str]] = defaultdict(list)
        for verdict in held:
            mine[teams.team_of(verdict.issue.key, verdict.issue.project)].append(verdict.issue.key)
        for team, keys in mine.items():
            found.setdefault(team, []).append({
                "person": called, "in_progress": len(held), "in_team": len(keys),
                "limit": limit, "issues": sorted(keys) if named else [],
            })  # fmt: skip
    return found


def _cycle_times(
    verdicts: Sequence[Verdict], scope: Scope
) -> tuple[list[dict[str, Any]], list[tuple[datetime, float]]]:
    """The team's issues finished in the window, with their cycle times; and (finished,
    days) of each, for the measures of part of the window."""
    rows: list[dict[str, Any]] = []
    spans: list[tuple[datetime, float]] = []
    mode = scope.settings.metrics.cycle_start
    for verdict in verdicts:
        timeline = verdict.timeline
        if not timeline.finished_within(scope.window_start, scope.now):
            continue
        span = timeline.cycle(mode)
        if span is None:
            continue
        days = scope.cal.days_between(*span)
        spans.append((span[1], days))
        rows.append({
            "key": verdict.issue.key, "summary": verdict.issue.summary,
            "finished": scope.cal.local_date(span[1]).isoformat(), "days": round(days, 1),
            "url": issue_url(scope.settings, verdict.issue.key),
        })  # fmt: skip
    rows.sort(key=lambda c: (c["finished"], c["key"]))
    return rows, spans


def _aging(verdicts: Sequence[Verdict], metrics: FlowMetrics, scope: Scope) -> dict[str, Any]:
    by_key = {v.issue.key: v for v in verdicts if v.issue.key in metrics.ages}
    steps: dict[str, list[dict[str, Any]]] = {s.name: [] for s in metrics.steps}
    for key, age in sorted(metrics.ages.items(), key=lambda kv: -kv[1]):
        verdict = by_key[key]
        step = verdict.timeline.current.step
        if step is None:
            continue
        steps.setdefault(step, []).append({
            "key": key, "summary": verdict.issue.summary, "age_days": round(age, 1),
            "health": verdict.health.value, "url": issue_url(scope.settings, key),
        })  # fmt: skip
    cycle = metrics.cycle_time
    return {
        "percentiles": None
        if cycle is None
        else {"p50": rounded(cycle.p50), "p85": rounded(cycle.p85), "p95": rounded(cycle.p95)},
        "steps": [
            {"name": name, "count": len(items), "items": items} for name, items in steps.items()
        ],  # fmt: skip
    }


def team_section(
    name: str,
    verdicts: Sequence[Verdict],
    metrics: FlowMetrics,
    scope: Scope,
    *,
    cfd: Mapping[str, Any],
    health: list[dict[str, Any]],
    recovery: dict[str, Any],
    over_wip: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The team's section of the report and its row in the portfolio."""
    settings = scope.settings
    unhealthy = [v for v in verdicts if v.findings]
    off_track = sum(1 for v in unhealthy if v.health is Health.OFF_TRACK)
    unfinished = [v for v in verdicts if not v.timeline.is_done]
    flagged_unfinished = sum(1 for v in unfinished if v.findings)
    cycle_times, spans = _cycle_times(verdicts, scope)
    cycle = metrics.cycle_time
    flagged = sorted(
        (flagged_row(v, name, settings, scope.cal, scope.now, scope.people) for v in unhealthy),
        key=severity_order,
    )
    waits = scope.evaluation.waits
    day_texts = [d.isoformat() for d in scope.days]
    limits = {s.name: s.wip_limit for s in settings.workflow.steps}
    by_step = {row["name"]: row["counts"] for row in cfd["series"]}
    jql = next((t.jql for t in settings.teams if t.name == name), None)
    headline = {
        "issues": len(verdicts), "unfinished": len(unfinished), "flagged": len(unhealthy),
        "off_track": off_track, "at_risk": len(unhealthy) - off_track,
        "healthy": len(verdicts) - len(unhealthy),
    }  # fmt: skip
    section = {
        "name": name,
        "jql": jql,
        "headline": headline,
        "steps": step_rows(metrics),
        "bottleneck": bottleneck_row(metrics),
        "cycle_time": None
        if cycle is None
        else {
            "p50": rounded(cycle.p50),
            "p85": rounded(cycle.p85),
            "p95": rounded(cycle.p95),
            "count": cycle.count,
        },  # fmt: skip
        "cycle_times": cycle_times,
        "histogram": histogram([days for _, days in spans]),
        "throughput": throughput_rows(metrics, scope.cal),
        "finished_undated": metrics.undated_finished,
        "cfd": {
            "days": day_texts,
            "series": cfd["series"],
            "unknown_history": cfd["unknown_history"],
        },  # fmt: skip
        "wip": {
            "days": day_texts,
            "steps": [
                {"name": step, "limit": limits[step], "counts": by_step[step]} for step in limits
            ],
        },  # fmt: skip
        "aging": _aging(verdicts, metrics, scope),
        "health": health,
        "recovery": recovery,
        "flagged": flagged,
        "red_lines": red_line_rows(unhealthy, settings, scope.people),
        "blockers": blocker_rows(unhealthy, settings),
        "over_wip": over_wip,
        "waits": None
        if waits is None or name not in waits.caused
        else {"caused": waits.caused[name].to_dict(), "suffered": waits.suffered[name].to_dict()},
    }
    middle = scope.window_start + (scope.now - scope.window_start) / 2
    before = [days for finished, days in spans if finished < middle]
    row = {
        "team": name,
        "issues": len(verdicts),
        "unfinished": len(unfinished),
        "flagged": len(unhealthy),
        "flagged_unfinished": flagged_unfinished,
        "share_flagged": round(flagged_unfinished / len(unfinished), 3) if unfinished else None,
        "off_track": off_track,
        "at_risk": len(unhealthy) - off_track,
        "bottleneck": metrics.bottleneck,
        "cycle_p85": rounded(cycle.p85) if cycle is not None else None,
        "cycle_p85_before": rounded(percentile(before, 0.85)) if before else None,
        "waits_open": {
            "caused": waits.caused[name].open if waits and name in waits.caused else 0,
            "suffered": waits.suffered[name].open if waits and name in waits.suffered else 0,
        },
    }
    return section, row
