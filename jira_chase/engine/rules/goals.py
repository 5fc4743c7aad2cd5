"""Goals and checkpoints: where each goal stands against its planned path and forecast.

A goal's scope is JQL matched against the fetched issues (`jira_chase.jql`). Its plan
runs linearly from 0 on `start` to each checkpoint's `done` fraction on its date (and
between checkpoints). Each checkpoint is judged:

- met: the done fraction has reached the checkpoint's fraction;
- off track: its date has passed unmet, or (the next checkpoint only) the goal is
  behind today's plan by more than `tolerance`;
- at risk: (the next checkpoint only) behind today's plan by up to `tolerance`, or the
  Monte Carlo forecast's p85 completion date falls after the checkpoint's date;
- on track: otherwise;
- unknown: a goal counted in estimates whose issues carry none: nothing to measure
  progress by, so nothing is judged (never "met" on 0 of 0 points).

The forecast replays the goal's weekly throughput (in the goal's unit) over the trailing
metrics window, since the goal's start: each trial draws past weeks at random until the
remaining work is done. It is seeded (`metrics.forecast_seed`, the goal and checkpoint
names), so a run is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from jira_chase.config.settings import GoalSettings
from jira_chase.engine.model import Finding, Severity, TeamFinding
from jira_chase.engine.rules.context import RuleContext, Subject, fmt_days, fmt_keys, fmt_share
from jira_chase.engine.rules.values import (
    AT_RISK,
    EMPTY,
    MET,
    OFF_TRACK,
    ON_TRACK,
    UNKNOWN,
    WEEK,
    CheckpointStatus,
    GoalStatus,
    percentile,
)

#: Forecasts give up after this many simulated weeks.
HORIZON_WEEKS = 520


def planned(goal: GoalSettings, day: date) -> float:
    """The plan's fraction done on `day`: linear from 0 at start through each checkpoint."""
    points = [(goal.start, 0.0)] + [(c.date, c.done) for c in goal.checkpoints]
    if day <= points[0][0]:
        return 0.0
    for (d0, f0), (d1, f1) in zip(points, points[1:]):
        if day <= d1:
            return f0 + (f1 - f0) * (day - d0).days / (d1 - d0).days
    return points[-1][1]


def forecast_weeks(
    samples: Sequence[float], remaining: float, trials: int, rng: random.Random
) -> float | None:
    """The p85 number of weeks to finish `remaining` units, replaying weekly samples;
    None when the samples hold no throughput or the work does not finish in time."""
    if remaining <= 0:
        return 0.0
    results = replay_weeks(samples, remaining, trials, rng)
    if results is None:
        return None
    p85 = percentile(results, 0.85)
    return None if p85 >= HORIZON_WEEKS else p85


def replay_weeks(
    samples: Sequence[float], remaining: float, trials: int, rng: random.Random
) -> list[float] | None:
    """Weeks to finish `remaining` units in each of `trials` replays of the weekly
    samples (at most HORIZON_WEEKS); None when the samples hold no throughput."""
    if not samples or max(samples) <= 0:
        return None
    results = []
    for _ in range(trials):
        done, weeks = 0.0, 0.0
        while weeks < HORIZON_WEEKS:
            week = rng.choice(samples)
            if done + week >= remaining:
                weeks += (remaining - done) / week
                break
            done += week
            weeks += 1
        results.append(weeks)
    return results


def _units(subject: Subject, goal: GoalSettings) -> float:
    if goal.unit == "issues":
        return 1.0
    return subject.issue.estimate or 0.0


def judge_goals(subjects: Sequence[Subject], ctx: RuleContext) -> list[GoalStatus]:
    """Every configured goal's status as of `ctx.now` (pure, seeded)."""
    return [_judge(i, goal, subjects, ctx) for i, goal in enumerate(ctx.settings.goals)]


def _judge(
    index: int, goal: GoalSettings, subjects: Sequence[Subject], ctx: RuleContext
) -> GoalStatus:
    metrics = ctx.settings.metrics
    today = ctx.calendar.local_date(ctx.now)
    scope = goal.filter
    members = [s for s in subjects if scope.matches(s.issue)]
    total = sum(_units(s, goal) for s in members)
    finished = [s for s in members if s.timeline.is_done]
    done = sum(_units(s, goal) for s in finished)

    # Weekly throughput since the goal started (within the metrics window), weeks
    # counted back from now.
    goal_start = datetime.combine(goal.start, datetime.min.time(), ctx.calendar.zone)
    since = max(ctx.now - metrics.window_weeks * WEEK, goal_start)
    weeks = max(1, int((ctx.now - since) / WEEK))
    weekly = [0.0] * weeks
    for subject in finished:
        arrived = subject.timeline.last_done_arrival()
        assert arrived is not None  # (it is done)
        back = int((ctx.now - arrived) / WEEK)
        if back < weeks:
            weekly[weeks - 1 - back] += _units(subject, goal)

    planned_today = planned(goal, today)
    fraction = done / total if total else 0.0
    behind = planned_today - fraction
    upcoming = next((i for i, c in enumerate(goal.checkpoints) if c.date >= today), None)
    statuses = []
    for j, checkpoint in enumerate(goal.checkpoints):
        target_units = checkpoint.done * total
        key = f"goals[{index}].checkpoints[{j}]"
        forecast: date | None = None
        if goal.unit == "estimate" and members and total <= 0:
            status, config_key = UNKNOWN, _estimate_key(index, ctx)
            reason = f"no estimate on any of its {len(members)} issues"
        elif not members or done >= target_units - 1e-9:
            status, reason, config_key = MET, "reached", f"{key}.done"
        elif today <= goal.start:
            status, reason, config_key = ON_TRACK, "not started yet", f"goals[{index}].start"
        elif checkpoint.date < today:
            status, config_key = OFF_TRACK, f"{key}.date"
            reason = (
                f"date passed with {fmt_share(fraction)} done, {fmt_share(checkpoint.done)} due"
            )
        else:
            rng = random.Random(f"{metrics.forecast_seed}:{goal.name}:{checkpoint.name}")
            weeks_needed = forecast_weeks(weekly, target_units - done, metrics.forecast_trials, rng)
            if weeks_needed is not None:
                forecast = ctx.calendar.local_date(ctx.now + timedelta(weeks=weeks_needed))
            status, reason, config_key = ON_TRACK, "on plan and forecast in time", f"{key}.date"
            if j == upcoming and behind > goal.tolerance + 1e-9:
                status, config_key = OFF_TRACK, f"goals[{index}].tolerance"
                reason = (
                    f"behind plan by {fmt_share(behind)} (more than the tolerance "
                    f"{fmt_share(goal.tolerance)})"
                )
            elif j == upcoming and behind > 1e-9:
                status, config_key = AT_RISK, f"goals[{index}].tolerance"
                reason = (
                    f"behind plan by {fmt_share(behind)} (within the tolerance "
                    f"{fmt_share(goal.tolerance)})"
                )
            elif weeks_needed is None:
                status, config_key = AT_RISK, f"{key}.date"
                reason = (
                    f"no forecast: no finished work in the last {weeks} weeks to forecast from"
                    if max(weekly) <= 0
                    else "forecast beyond the horizon"
                )
            elif forecast is not None and forecast > checkpoint.date:
                status, config_key = AT_RISK, f"{key}.date"
                reason = f"forecast p85 {forecast} is after the checkpoint date"
        statuses.append(
            CheckpointStatus(
                index=j,
                name=checkpoint.name,
                date=checkpoint.date,
                target=checkpoint.done,
                target_units=target_units,
                status=status,
                reason=reason,
                forecast_p85=forecast,
                config_key=config_key,
            )
        )
    return GoalStatus(
        index=index,
        name=goal.name,
        scope=goal.scope,
        unit=goal.unit,
        tolerance=goal.tolerance,
        issues=tuple(s.issue.key for s in members),
        open_issues=tuple(s.issue.key for s in members if not s.timeline.is_done),
        total=total,
        done=done,
        unestimated=sum(1 for s in members if s.issue.estimate is None)
        if goal.unit == "estimate"
        else 0,
        planned_today=planned_today,
        weekly_throughput=tuple(weekly),
        checkpoints=tuple(statuses),
    )


def _estimate_key(index: int, ctx: RuleContext) -> str:
    """Where estimates come from: the Jira field, or (ZenTao, whose `estimate` is fixed)
    the goal's unit."""
    return "jira.estimate_field" if ctx.settings.tracker == "jira" else f"goals[{index}].unit"


def _evidence(goal: GoalStatus, checkpoint: CheckpointStatus) -> tuple[tuple[str, str], ...]:
    due = f"{fmt_share(checkpoint.target)} = {goal.describe(checkpoint.target_units)}"
    evidence = [
        ("goal", f"{goal.name} ({goal.scope})"),
        ("checkpoint", f"{checkpoint.name} on {checkpoint.date}"),
        ("due by then", due),
        ("done", f"{round(goal.done, 1):g} of {goal.describe(goal.total)} "
                 f"({fmt_share(goal.fraction)})"),
        ("planned today", fmt_share(goal.planned_today)),
        ("tolerance", fmt_share(goal.tolerance)),
        ("forecast p85", str(checkpoint.forecast_p85) if checkpoint.forecast_p85 else "none"),
        ("weekly throughput", ", ".join(f"{x:g}" for x in goal.weekly_throughput)),
        ("why", checkpoint.reason),
    ]  # fmt: skip
    if goal.unestimated:
        evidence.append(("without estimate", f"{goal.unestimated} issues (count as 0)"))
    return tuple(evidence)


#: Evidence that moves with the clock alone (the plan line, the forecast window) or with
#: other issues of the goal (how much is done, how big the scope is), not with this one.
VOLATILE = (
    "planned today",
    "forecast p85",
    "weekly throughput",
    "why",
    "due by then",
    "done",
    "without estimate",
)


def target(goal: GoalStatus, today: date) -> CheckpointStatus | None:
    """The checkpoint a goal at risk or off track must move for now: the first unmet
    one whose date has not passed, else (every date passed) its last unmet one."""
    if goal.status not in (AT_RISK, OFF_TRACK):
        return None
    unmet = [c for c in goal.checkpoints if c.status != MET]
    upcoming = [c for c in unmet if c.date >= today]
    if upcoming:
        return upcoming[0]
    return unmet[-1] if unmet else None


def start_by(day: date, days: float, ctx: RuleContext) -> date:
    """The last day work can start to take `days` (in the calendar's unit) by the end of
    `day`: counting back working days (business calendar) or days."""
    left, moment = days, day
    while left > 0:
        if ctx.calendar.kind == "calendar" or ctx.calendar.is_working_day(moment):
            left -= 1
        if left > 0:
            moment -= timedelta(days=1)
    return moment


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """What one issue must do now for a goal at risk or off track (warn; critical when
    off track), judged against the team's p85 cycle time of the metrics window:

    - `must-start`: not in progress (in no workflow step) while the checkpoint it
      counts for is closer than the p85 cycle time;
    - `must-finish`: started, and already older than the p85 cycle time.

    The goal's own status (plan, forecast, throughput) is a team finding, never a line
    on every issue of the goal. Without enough finished issues for percentiles nothing
    is said here."""
    metrics = ctx.metrics
    statuses = ctx.goals if ctx.goals is not None else judge_goals(subjects, ctx)
    if metrics is None or not metrics.percentiles_ready or not statuses:
        return []
    assert metrics.cycle_time is not None
    p85 = metrics.cycle_time.p85
    typical = f"85% of issues take {fmt_days(p85)} or less"
    by_key = {s.issue.key: s for s in subjects if not s.timeline.is_done}
    today = ctx.calendar.local_date(ctx.now)
    findings = []
    for goal in statuses:
        checkpoint = target(goal, today)
        if checkpoint is None:
            continue
        critical = goal.status == OFF_TRACK
        deadline = datetime.combine(checkpoint.date + timedelta(days=1), time.min,
                                    ctx.calendar.zone)  # fmt: skip
        left = ctx.calendar.days_between(ctx.now, deadline)
        latest = start_by(checkpoint.date, p85, ctx)
        when = f"'{checkpoint.name}' of {goal.name} on {checkpoint.date}"
        shared = (
            ("goal", f"{goal.name} ({goal.status.replace('-', ' ')})"),
            ("checkpoint", f"{checkpoint.name} on {checkpoint.date}: {checkpoint.reason}"),
            ("p85 cycle time", fmt_days(p85)),
        )
        for key in goal.open_issues:
            subject = by_key.get(key)
            if subject is None:
                continue
            step = subject.timeline.current.step
            if step is None and left < p85:
                start = "now" if latest <= today else f"by {latest}"
                findings.append(_goal_finding(
                    key, "must-start", critical,
                    f"not in progress: must start {start} to make {when} ({typical})",
                    checkpoint.config_key,
                    (*shared, ("days left", fmt_days(left, ctx.unit)),
                     ("start by", str(latest))),
                ))  # fmt: skip
            elif step is not None and metrics.ages.get(key, 0.0) > p85:
                age = metrics.ages[key]
                findings.append(_goal_finding(
                    key, "must-finish", critical,
                    f"in progress for {fmt_days(age)}, longer than {typical}: finish it "
                    f"first to make {when}",
                    checkpoint.config_key,
                    (*shared, ("age", fmt_days(age, ctx.unit))),
                ))  # fmt: skip
    return findings


def _goal_finding(
    key: str, rule: str, critical: bool, message: str, config_key: str,
    evidence: tuple[tuple[str, str], ...],
) -> Finding:  # fmt: skip
    return Finding(
        issue_key=key,
        family="goal",
        rule=rule,
        severity=Severity.CRITICAL if critical else Severity.WARN,
        message=message,
        config_key=config_key,
        volatile=("goal", "checkpoint", "p85 cycle time", "days left", "start by", "age"),
        evidence=evidence,
    )


def team_goals(statuses: Sequence[GoalStatus]) -> list[TeamFinding]:
    """A goal at risk or off track (or whose scope matches nothing): team-level."""
    findings = []
    for goal in statuses:
        if goal.status == EMPTY:
            findings.append(
                TeamFinding(
                    subject=f"goal {goal.name}",
                    family="goal",
                    rule="empty-scope",
                    severity=Severity.WARN,
                    message=f"goal '{goal.name}': its scope matches no issue in the tracker scope",
                    config_key=f"goals[{goal.index}].scope",
                    evidence=(("scope", goal.scope),),
                )
            )
            continue
        checkpoint = goal.judged
        if checkpoint is None:
            continue
        critical = checkpoint.status == OFF_TRACK
        findings.append(
            TeamFinding(
                subject=f"goal {goal.name}",
                family="goal",
                rule="checkpoint-off-track" if critical else "checkpoint-at-risk",
                severity=Severity.CRITICAL if critical else Severity.WARN,
                message=(
                    f"goal '{goal.name}': checkpoint '{checkpoint.name}' ({checkpoint.date}) "
                    f"{checkpoint.status.replace('-', ' ')} — {checkpoint.reason}"
                ),
                config_key=checkpoint.config_key,
                evidence=_evidence(goal, checkpoint)
                + (("open issues", fmt_keys(goal.open_issues)),),
            )
        )
    return findings
