"""The manager's report as data: one JSON-ready document that the HTML, markdown and
JSON renderings all show, so the three formats carry the same content.

Built from a run's evaluation, the settings and the trends kept in the state store.
Dates and times are in `calendar.timezone`.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jira_chase.config.settings import GoalSettings, Settings
from jira_chase.engine.evaluate import Evaluation, Verdict
from jira_chase.engine.model import Health
from jira_chase.engine.plan import label_load
from jira_chase.engine.rules.goals import HORIZON_WEEKS, planned, replay_weeks
from jira_chase.engine.rules.values import percentile
from jira_chase.engine.timeline import Calendar
from jira_chase.sources.base import ServerIdentity
from jira_chase.store import trends
from jira_chase.store.state import StateStore

REPORT_FORMAT = "jira-chase-report/1"


def issue_url(settings: Settings, key: str) -> str:
    """Where a person opens the issue in the tracker."""
    if settings.tracker == "jira":
        assert settings.jira is not None
        return f"{settings.jira.url.rstrip('/')}/browse/{key}"
    assert settings.zentao is not None
    kind, _, number = key.partition("-")
    return f"{settings.zentao.url.rstrip('/')}/index.php?m={kind}&f=view&{kind}ID={number}"


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


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
    actual: list[list[Any]] = [[config.start.isoformat(), 0.0]]
    total_done = 0.0
    for day, units in sorted(finished):
        total_done += units
        actual.append([max(day, config.start).isoformat(), round(total_done, 2)])
    actual.append([today.isoformat(), round(goal.done, 2)])
    plan_days = [config.start] + [c.date for c in config.checkpoints]
    return {
        "name": goal.name,
        "status": goal.status,
        "unit": goal.unit,
        "done": round(goal.done, 2),
        "total": round(goal.total, 2),
        "fraction": round(goal.fraction, 3),
        "planned_today": round(goal.planned_today, 3),
        "start": config.start.isoformat(),
        "actual": actual,
        "plan": [[d.isoformat(), round(planned(config, d) * goal.total, 2)] for d in plan_days],
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


def _change(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any] | None:
    if before is None:
        return None
    return {key: now[key] - before.get(key, 0) for key in ("issues", "off_track", "at_risk")}


def _waits(evaluation: Evaluation, store: StateStore, zone: ZoneInfo) -> dict[str, Any]:
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
    for _, mode, at, team in store.trend_runs():
        if mode == "sync" and team.get("waits"):
            year, week, _ = at.astimezone(zone).isocalendar()
            weeks[f"{year}-W{week:02d}"] = team["waits"]
    return {
        "teams": between.to_dict(),
        "open": sorted(open_now, key=lambda r: (r["days"] is None, -(r["days"] or 0.0))),
        "by_week": [{"week": week, "teams": teams} for week, teams in weeks.items()],
    }


def _rollout_by_week(store: StateStore, zone: ZoneInfo) -> list[dict[str, Any]]:
    weeks: dict[str, int] = {}
    for _, mode, at, team in store.trend_runs():
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
    """The report document as of the evaluation; `previous` is the last report's time
    and team state, for the change since then."""
    cal = Calendar(settings.calendar)
    zone = ZoneInfo(settings.calendar.timezone)
    now = evaluation.now
    metrics = evaluation.metrics
    unhealthy = evaluation.unhealthy()
    team = trends.team_state(evaluation)
    by_key = evaluation.by_key()

    headline = {
        "issues": team["issues"],
        "off_track": team["off_track"],
        "at_risk": team["at_risk"],
        "healthy": team["issues"] - len(unhealthy),
        "since": previous[0].astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if previous else None,
        "change": _change(team, previous[1] if previous else None),
    }
    taken, rollout = store.open_since_rollout()
    attention = {
        **label_load(evaluation, settings.writeback),
        "baseline": taken.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if taken else None,
        "since_rollout": rollout if taken else None,
        # the last count of each week with a sync: how the baseline shrinks
        "since_rollout_by_week": _rollout_by_week(store, zone),
    }

    goals = []
    for status in evaluation.goals:
        config = settings.goals[status.index]
        goals.append(_goal(status, config, settings, evaluation.verdicts, cal, now))

    steps: list[dict[str, Any]] = []
    aging: list[dict[str, Any]] = []
    cycle_times: list[dict[str, Any]] = []
    throughput: list[dict[str, Any]] = []
    cycle: dict[str, Any] | None = None
    bottleneck = None
    unit = "days"
    if metrics is not None:
        unit = metrics.unit
        steps = [
            {
                "name": s.name,
                "waiting": s.waiting,
                "wip": s.wip,
                "wip_limit": s.wip_limit,
                "p85_days": _r(s.p85_days),
                "limit_days": s.limit_days,
                "breaches": s.breaches,
                "over_limit": s.over_limit,
                "share_of_cycle_time": _r(s.share_of_cycle_time, 3),
            }
            for s in metrics.steps
        ]
        for key, age in sorted(metrics.ages.items(), key=lambda kv: -kv[1]):
            verdict = by_key.get(key)
            aging.append(
                {
                    "key": key,
                    "step": verdict.timeline.current.step if verdict else None,
                    "age_days": round(age, 1),
                    "url": issue_url(settings, key),
                }
            )
        for verdict in evaluation.verdicts:
            # (only those finished in the window have a cycle here: their timelines
            # alone build their intervals again)
            if not verdict.timeline.finished_within(metrics.window_start, evaluation.now):
                continue
            span = verdict.timeline.cycle()
            if span is None:
                continue
            cycle_times.append(
                {
                    "key": verdict.issue.key,
                    "finished": cal.local_date(span[1]).isoformat(),
                    "days": round(cal.days_between(*span), 1),
                    "url": issue_url(settings, verdict.issue.key),
                }
            )
        cycle_times.sort(key=lambda c: (c["finished"], c["key"]))
        if metrics.cycle_time is not None:
            cycle = {
                "p50": _r(metrics.cycle_time.p50),
                "p85": _r(metrics.cycle_time.p85),
                "count": metrics.cycle_time.count,
            }
        weeks = len(metrics.weekly_throughput)
        # Unknown (issues finished at times nobody knows): no weeks, rather than zeros.
        measured = metrics.throughput_per_week is not None
        for i, count in enumerate(metrics.weekly_throughput if measured else ()):
            ends = cal.local_date(metrics.window_end - timedelta(weeks=weeks - 1 - i))
            throughput.append({"week_ending": ends.isoformat(), "finished": count})
        if metrics.bottleneck is not None:
            top = next(s for s in metrics.steps if s.name == metrics.bottleneck)
            bottleneck = {"step": top.name, "share_of_cycle_time": _r(top.share_of_cycle_time, 3)}

    red_lines = [
        {
            "key": v.issue.key,
            "url": issue_url(settings, v.issue.key),
            "summary": v.issue.summary,
            "rule": f.rule,
            "message": f.message,
        }
        for v in unhealthy
        for f in v.findings
        if f.family == "redline"
    ]

    carrying: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for verdict in evaluation.verdicts:
        person = verdict.issue.assignee
        if person is not None and verdict.timeline.current.step is not None:
            carrying[person.id].append(verdict.issue.key)
            names[person.id] = person.name
    limit = settings.focus.wip_per_person
    over_wip = (
        [
            {"person": names[pid], "in_progress": len(keys), "limit": limit, "issues": sorted(keys)}
            for pid, keys in sorted(carrying.items(), key=lambda kv: (-len(kv[1]), names[kv[0]]))
            if len(keys) > limit
        ]
        if limit is not None
        else []
    )

    named: dict[str, dict[str, Any]] = {}
    for verdict in unhealthy:
        for finding in verdict.findings:
            evidence = dict(finding.evidence)
            blocker = evidence.get("blocked by")
            if finding.family != "cooperation" or not blocker:
                continue
            entry = named.setdefault(
                blocker,
                {
                    "blocker": blocker,
                    "url": issue_url(settings, blocker),
                    "project": evidence.get("blocker project"),
                    "status": evidence.get("blocker status"),
                    "blocks": [],
                },
            )
            entry["blocks"] = sorted({*entry["blocks"], verdict.issue.key})
    blockers = [named[key] for key in sorted(named)]

    found = trends.episodes(store.health_changes())
    flagged = [
        {
            "key": v.issue.key,
            "url": issue_url(settings, v.issue.key),
            "summary": v.issue.summary,
            "status": v.issue.status,
            "assignee": v.issue.assignee.name if v.issue.assignee else None,
            "health": v.health.value,
            "severity": 2 if v.health is Health.OFF_TRACK else 1,
            "families": list(v.families),
            "findings": [f.message for f in v.findings],
        }
        for v in unhealthy
    ]
    tracker = identity.tracker if identity.tracker else settings.tracker
    return {
        "format": REPORT_FORMAT,
        "as_of": now.isoformat(),
        "as_of_local": now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        "timezone": settings.calendar.timezone,
        "tracker": {"kind": tracker, "url": identity.url, "deployment": identity.deployment},
        "unit": unit,
        "headline": headline,
        "attention": attention,
        "goals": goals,
        "steps": steps,
        "aging": aging,
        "cycle_time": cycle,
        "cycle_times": cycle_times,
        "throughput": throughput,
        "finished_undated": metrics.undated_finished if metrics is not None else 0,
        "bottleneck": bottleneck,
        "red_lines": red_lines,
        "over_wip": over_wip,
        "blockers": blockers,
        "recovery": {
            "summary": trends.recovery_summary(found),
            "by_week": trends.recovery_by_week(found),
        },
        "flagged": flagged,
        "waits": _waits(evaluation, store, zone),
    }
