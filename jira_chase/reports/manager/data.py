"""The manager's report as data: one JSON-ready document that the HTML, markdown and
JSON renderings all show, so the three formats carry the same content.

Built from a run's evaluation, the settings and the trends kept in the state store.
Dates and times are in `calendar.timezone`.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jira_chase.config.settings import GoalSettings, Settings
from jira_chase.engine.evaluate import Evaluation, Verdict
from jira_chase.engine.gc_pause import gc_paused
from jira_chase.engine.plan import label_load
from jira_chase.engine.rules.goals import HORIZON_WEEKS, planned, replay_weeks
from jira_chase.engine.rules.values import WEEK, percentile
from jira_chase.engine.team_metrics import by_team, measure_teams
from jira_chase.engine.timeline import Calendar
from jira_chase.reports.manager.flow import cumulative_flow, day_ends, health_by_day, window_days
from jira_chase.reports.manager.rows import (
    bottleneck_row,
    issue_url,
    people_of,
    rounded,
    step_rows,
    throughput_rows,
)
from jira_chase.reports.manager.sections import Scope, over_wip_rows, team_section
from jira_chase.sources.base import ServerIdentity
from jira_chase.store import trends
from jira_chase.store.state import StateStore

REPORT_FORMAT = "jira-chase-report/2"

__all__ = ["REPORT_FORMAT", "build_report", "issue_url"]


def _forecast_band(
    samples: tuple[float, ...],
    remaining: float,
    now: datetime,
    cal: Calendar,
    trials: int,
    rng: random.Random,
) -> dict[str, str] | None:
    """The dates by which the remaining work is done in half and in 85 % of replays of
    the weekly throughput (the goal judgement's replay: same seed and trials, so its p85
    is the final checkpoint's forecast); None when there is nothing to replay or it
    never finishes."""
    results = replay_weeks(samples, remaining, trials, rng) if remaining > 0 else None
    if results is None:
        return None
    p50, p85 = percentile(results, 0.5), percentile(results, 0.85)
    if p85 >= HORIZON_WEEKS:
        return None
    return {
        "p50": cal.local_date(now + timedelta(weeks=p50)).isoformat(),
        "p85": cal.local_date(now + timedelta(weeks=p85)).isoformat(),
    }


def _goal(
    goal: Any, config: GoalSettings, settings: Settings, verdicts: tuple[Verdict, ...],
    cal: Calendar, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    today = cal.local_date(now)
    seed = f"{settings.metrics.forecast_seed}:{goal.name}:{config.checkpoints[-1].name}"
    members = set(goal.issues)
    finished: list[tuple[date, float]] = []
    for verdict in verdicts:
        if verdict.issue.key not in members or not verdict.timeline.is_done:
            continue
        arrived = verdict.timeline.last_done_arrival()
        assert arrived is not None  # (it is done)
        units = 1.0 if config.unit == "issues" else verdict.issue.estimate or 0.0
        finished.append((cal.local_date(arrived), units))
    # Work finished before the goal's start counts in both lines: they start together.
    at_start = sum(units for day, units in finished if day < config.start)
    actual: list[list[Any]] = [[config.start.isoformat(), round(at_start, 2)]]
    total_done = at_start
    for day, units in sorted(f for f in finished if f[0] >= config.start):
        total_done += units
        actual.append([day.isoformat(), round(total_done, 2)])
    actual.append([today.isoformat(), round(goal.done, 2)])
    plan = [[config.start.isoformat(), round(at_start, 2)]] + [
        [c.date.isoformat(), round(planned(config, c.date) * goal.total, 2)]
        for c in config.checkpoints
    ]
    return {
        "name": goal.name,
        "status": goal.status,
        "by_date": _burnup_dates(actual, plan, config, today),
        "unit": goal.unit,
        "done": round(goal.done, 2),
        "total": round(goal.total, 2),
        "fraction": round(goal.fraction, 3),
        "planned_today": round(goal.planned_today, 3),
        "start": config.start.isoformat(),
        "actual": actual,
        "done_at_start": round(at_start, 2),
        "plan": plan,
        "checkpoints": [c.to_dict() for c in goal.checkpoints],
        "forecast": _forecast_band(
            goal.weekly_throughput,
            goal.total - goal.done,
            now,
            cal,
            settings.metrics.forecast_trials,
            random.Random(seed),
        ),  # fmt: skip
    }


def _burnup_dates(
    actual: list[list[Any]], plan: list[list[Any]], config: GoalSettings, today: date
) -> list[dict[str, Any]]:
    """The burn-up as rows of dates: each week from the start up to today, each
    checkpoint and today, with what was done by then (None after today) and the plan."""
    days = {config.start + timedelta(weeks=k) for k in range((today - config.start).days // 7 + 1)}
    days |= {c.date for c in config.checkpoints} | {today}
    points = [(date.fromisoformat(d), v) for d, v in plan]
    rows = []
    done_points = [(date.fromisoformat(d), v) for d, v in actual]
    k = 0
    done = done_points[0][1]
    for day in sorted(d for d in days if d >= config.start):
        while k < len(done_points) and done_points[k][0] <= day:
            done = done_points[k][1]
            k += 1
        target = points[-1][1]
        for (d0, v0), (d1, v1) in zip(points, points[1:]):
            if day <= d1:
                target = v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days
                break
        rows.append({"date": day.isoformat(), "done": done if day <= today else None,
                     "plan": round(target, 2)})  # fmt: skip
    return rows


def _change(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any] | None:
    if before is None:
        return None
    return {key: now[key] - before.get(key, 0) for key in ("issues", "off_track", "at_risk")}


def _recovery(found: list[trends.Episode]) -> dict[str, Any]:
    return {"summary": trends.recovery_summary(found), "by_week": trends.recovery_by_week(found)}


def _waits(
    evaluation: Evaluation, runs: list[tuple[int, str, datetime, dict[str, Any]]], zone: ZoneInfo
) -> dict[str, Any]:
    """Waits between teams, both ways: per team now, the open ones, and both medians by
    week (the last sync of each week, from the trend store)."""
    between = evaluation.waits
    if between is None:
        return {"teams": {}, "open": [], "by_week": []}
    days = {
        (w, b): d
        for stats in (*between.caused.values(), *between.suffered.values())
        for w, b, d in stats.open_now
    }
    open_now: list[dict[str, Any]] = []
    for wait in between.waits:
        if not wait.open:
            continue
        found = days.get((wait.waiting, wait.blocker))
        open_now.append({
            "waiting": wait.waiting, "blocker": wait.blocker,
            "waiting_team": wait.waiting_team, "blocker_team": wait.blocker_team,
            "since": wait.start.astimezone(zone).strftime("%Y-%m-%d") if wait.start else None,
            "days": None if found is None else round(found, 1),
        })  # fmt: skip
    weeks: dict[str, dict[str, Any]] = {}
    for _, mode, at, team in runs:
        if mode == "sync" and team.get("waits"):
            year, week, _ = at.astimezone(zone).isocalendar()
            weeks[f"{year}-W{week:02d}"] = team["waits"]
    return {
        "teams": between.to_dict(),
        "open": sorted(open_now, key=lambda r: (r["days"] is None, -(r["days"] or 0.0))),
        "by_week": [{"week": week, "teams": teams} for week, teams in weeks.items()],
    }


def _rollout_by_week(
    runs: list[tuple[int, str, datetime, dict[str, Any]]], zone: ZoneInfo
) -> list[dict[str, Any]]:
    weeks: dict[str, int] = {}
    for _, mode, at, team in runs:
        if mode == "sync" and team.get("since_rollout") is not None:
            year, week, _ = at.astimezone(zone).isocalendar()
            weeks[f"{year}-W{week:02d}"] = team["since_rollout"]
    return [{"week": week, "open": count} for week, count in weeks.items()]


def build_report(
    evaluation: Evaluation,
    settings: Settings,
    identity: ServerIdentity,
    store: StateStore,
    *,
    previous: tuple[datetime, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report document as of the evaluation (format `REPORT_FORMAT`: the whole
    scope's headline, goals and waits, then a portfolio row and a section per team);
    `previous` is the last report's time and team state, for the change since then."""
    # (it builds the timelines' intervals again and many small rows, and no cycles: see
    # `gc_paused`)
    with gc_paused():
        return _build(evaluation, settings, identity, store, previous)


def _build(
    evaluation: Evaluation,
    settings: Settings,
    identity: ServerIdentity,
    store: StateStore,
    previous: tuple[datetime, dict[str, Any]] | None,
) -> dict[str, Any]:
    cal = Calendar(settings.calendar)
    zone = ZoneInfo(settings.calendar.timezone)
    now = evaluation.now
    metrics = evaluation.metrics
    team = trends.team_state(evaluation)
    runs = store.trend_runs()
    changes = store.health_changes()

    headline = {
        "issues": team["issues"],
        "off_track": team["off_track"],
        "at_risk": team["at_risk"],
        "healthy": team["issues"] - len(evaluation.unhealthy()),
        "since": previous[0].astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if previous else None,
        "change": _change(team, previous[1] if previous else None),
    }
    taken, rollout = store.open_since_rollout()
    attention = {
        **label_load(evaluation, settings.writeback),
        "baseline": taken.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if taken else None,
        "since_rollout": rollout if taken else None,
        # the last count of each week with a sync: how the baseline shrinks
        "since_rollout_by_week": _rollout_by_week(runs, zone),
    }
    goals = [
        _goal(status, settings.goals[status.index], settings, evaluation.verdicts, cal, now)
        for status in evaluation.goals
    ]

    window_start = now - settings.metrics.window_weeks * WEEK
    days = window_days(cal.local_date(now), settings.metrics.window_weeks)
    people = people_of(evaluation.verdicts, settings.report.name_people)
    scope = Scope(evaluation, settings, cal, now, window_start, days, people)
    members = by_team(evaluation)
    flows = measure_teams(evaluation, settings, members)
    step_names = [s.name for s in settings.workflow.steps]
    cfds = cumulative_flow(members, step_names, day_ends(days, zone, now), window_start)
    team_of = evaluation.teams.of_issue
    names = list(members)
    health = health_by_day(changes, [at for _, _, at, _ in runs], team_of, names, zone)
    found = trends.episodes(changes)
    episodes: dict[str, list[trends.Episode]] = {name: [] for name in names}
    for episode in found:
        owner = team_of.get(episode.key)
        if owner is not None:
            episodes[owner].append(episode)
    over_wip = over_wip_rows(scope)
    sections, portfolio = [], []
    for name, verdicts in members.items():
        section, row = team_section(
            name, verdicts, flows[name], scope, cfd=cfds[name], health=health[name],
            recovery=_recovery(episodes[name]), over_wip=over_wip.get(name, []),
        )  # fmt: skip
        sections.append(section)
        portfolio.append(row)

    tracker = identity.tracker if identity.tracker else settings.tracker
    return {
        "format": REPORT_FORMAT,
        "as_of": now.isoformat(),
        "as_of_local": now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        "timezone": settings.calendar.timezone,
        "tracker": {"kind": tracker, "url": identity.url, "deployment": identity.deployment},
        "unit": metrics.unit if metrics is not None else "days",
        "name_people": people.named,
        "headline": headline,
        "attention": attention,
        "goals": goals,
        "portfolio": portfolio,
        "teams": sections,
        "steps": step_rows(metrics) if metrics is not None else [],
        "cycle_time": None
        if metrics is None or metrics.cycle_time is None
        else {"p50": rounded(metrics.cycle_time.p50), "p85": rounded(metrics.cycle_time.p85),
              "p95": rounded(metrics.cycle_time.p95), "count": metrics.cycle_time.count},
        "throughput": throughput_rows(metrics, cal) if metrics is not None else [],
        "finished_undated": metrics.undated_finished if metrics is not None else 0,
        "bottleneck": bottleneck_row(metrics) if metrics is not None else None,
        "recovery": _recovery(found),
        "waits": _waits(evaluation, runs, zone),
    }  # fmt: skip
