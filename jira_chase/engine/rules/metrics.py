"""Core flow metrics over a trailing window, aging work in progress, and thresholds.

Definitions (all durations in the configured calendar; the window is the last
`metrics.window_weeks` calendar weeks up to now):

- cycle time: from an issue's first entry into any workflow step (`metrics.cycle_start
  = "first"`; with "last", its last entry from a status outside the steps) to its last
  arrival in a done status, for issues that are done now (not cancelled) and arrived
  there inside the window; cancelled issues are counted apart;
- issues whose status history is unknown count in WIP but in no measure that needs
  dates (cycle time, throughput, ages, reopens, step stays, blocked share); one done
  now and touched inside the window may have finished there: throughput is then
  unknown, not a count that leaves it out;
- throughput: those finished issues per week with data: from the window's start, or
  from the first issue's creation when that is later (a young project is not judged
  by weeks before it existed);
- WIP: issues in a workflow step now; their age counts from the first entry into a
  workflow step since creation or since they were last reopened;
- aging WIP: WIP older than the window's p85 cycle time is at risk, older than p95 off
  track (only with at least `metrics.min_samples` cycle times);
- reopen rate: reopens (leaving done) in the window / arrivals in done in the window;
- blocked share: of all time issues spent in workflow steps inside the window, the
  part they were flagged or had an unfinished "is blocked by" issue;
- flow efficiency: of the finished issues' cycle time, the part spent in steps not
  marked `waiting`;
- bottleneck: the step holding the largest share of the finished issues' cycle time.

Percentiles are nearest-rank: p85 is the smallest value with at least 85% of the
values at or below it, so it is always one of the measured values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jira_chase.engine.model import Finding, Issue, Severity, TeamFinding
from jira_chase.engine.rules.context import (
    Phrasebook,
    RuleContext,
    Subject,
    fmt_date,
    fmt_days,
    fmt_share,
    fmt_time,
    is_blocked_by,
    is_unfinished,
)
from jira_chase.engine.rules.values import WEEK, FlowMetrics, Percentiles, StepStats, percentile
from jira_chase.engine.timeline import DAY_MICROS, Timeline

# --- measuring ------------------------------------------------------------------------


def wip_age_start(timeline: Timeline, cycle_start: str = "first") -> datetime | None:
    """When the current piece of work started: the first entry into a workflow step
    since creation or since the issue was last reopened (with `cycle_start = "last"`,
    the last entry from a status outside the steps)."""
    if cycle_start == "last":
        return timeline.last_step_entry()
    return next((i.start for i in timeline.stretch() if i.step is not None), None)


def _overlap(start: int, end: int, lo: int, hi: int) -> float:
    """Days of [start, end) inside [lo, hi), all positions on the calendar's clock."""
    return max(0, min(end, hi) - max(start, lo)) / DAY_MICROS


def blocked_periods(issue: Issue, ctx: RuleContext) -> list[tuple[datetime, datetime]]:
    """When the issue was flagged or had an unfinished blocker, merged, up to now."""
    periods: list[tuple[datetime, datetime]] = []
    opened: datetime | None = None
    seen_flag = False
    # (a history of status changes alone holds no flag: `Issue.status_changes`)
    for change in () if issue.status_changes is issue.history else issue.history:
        field = change.field
        if field == "status" or field.casefold() != "flagged" or change.at > ctx.now:
            continue
        seen_flag = True
        if change.to_value and opened is None:
            opened = max(change.at, issue.created)
        elif not change.to_value and opened is not None:
            periods.append((opened, change.at))
            opened = None
    if opened is not None:
        periods.append((opened, ctx.now))
    elif issue.flagged and not seen_flag:
        periods.append((issue.created, ctx.now))
    for link in issue.links:
        if is_blocked_by(link) and is_unfinished(link, ctx):
            since = max(link.since or issue.created, issue.created)
            if since < ctx.now:
                periods.append((since, ctx.now))
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def measure(subjects: Sequence[Subject], ctx: RuleContext) -> FlowMetrics:
    """The team's flow metrics as of `ctx.now` (pure)."""
    settings, cal, now = ctx.settings.metrics, ctx.calendar, ctx.now
    window_start = now - settings.window_weeks * WEEK
    steps = ctx.settings.workflow.steps

    cycles: list[float] = []
    finished_at: list[datetime] = []
    in_step: dict[str, float] = {s.name: 0.0 for s in steps}
    active_total = cycle_total = 0.0
    reopens = arrivals = 0
    blocked = in_workflow = 0.0
    visits: dict[str, list[float]] = {s.name: [] for s in steps}
    breaches: dict[str, int] = {s.name: 0 for s in steps}
    ages: dict[str, float] = {}
    starts: dict[str, datetime] = {}
    cancelled = undated_wip = undated_done = 0
    mode = settings.cycle_start
    first_created = min((s.issue.created for s in subjects), default=window_start)

    by_step: dict[str, list[Subject]] = {s.name: [] for s in steps}
    # Each team's time per step of its finished issues' cycles, and their total.
    team_of = ctx.teams.of_issue if ctx.teams is not None else None
    team_in_step: dict[str, dict[str, float]] = {}
    team_cycle: dict[str, float] = {}
    # Durations are differences of positions on the calendar's clock (see
    # `Calendar.position`): each moment is placed once per issue.
    pos = cal.position
    window_pos, now_pos = pos(window_start), pos(now)
    for subject in subjects:
        timeline = subject.timeline
        current = timeline.current
        if current.step is not None:
            by_step.setdefault(current.step, []).append(subject)
        if timeline.settled_before(window_start):
            # Finished before the window and unchanged since: nothing to measure.
            continue
        intervals = timeline.intervals
        if not timeline.known:
            # No dates to measure from: it counts as WIP only, or (done, and touched
            # inside the window) makes throughput unknown.
            undated_wip += current.step is not None and not current.done
            undated_done += (
                current.done and not current.cancelled and subject.issue.updated >= window_start
            )
            continue
        done_arrivals = timeline.done_arrivals()
        if current.cancelled:
            cancelled += done_arrivals[-1] >= window_start
        reopens += sum(1 for t in timeline.reopens() if window_start <= t <= now)
        arrivals += sum(1 for t in done_arrivals if window_start <= t <= now)
        cycle = None
        if current.done:
            last = done_arrivals[-1]
            if last >= window_start and not current.cancelled:
                finished_at.append(last)
                cycle = timeline.cycle(mode)
        elif current.step is not None:
            started = wip_age_start(timeline, mode)
            assert started is not None
            ages[subject.issue.key] = cal.days_between(started, now)
            starts[subject.issue.key] = started
        # Only intervals from `first` on can count: those that end inside the window
        # (with the start of the stay they end), and those of a finished cycle.
        first = len(intervals) - 1
        while first > 0 and intervals[first - 1].end_or(now) >= window_start:
            first -= 1
        while (
            first > 0
            and intervals[first].step is not None
            and (intervals[first - 1].step == intervals[first].step)
        ):
            first -= 1
        if cycle is not None:
            while first > 0 and intervals[first].start > cycle[0]:
                first -= 1
        counted = intervals[first:]
        # Where each counted interval starts and ends: the next one's start, or now.
        marks = [pos(interval.start) for interval in counted]
        marks.append(now_pos)
        if cycle is not None:
            cycle_from, cycle_to = pos(cycle[0]), pos(cycle[1])
            days = (cycle_to - cycle_from) / DAY_MICROS
            cycles.append(days)
            cycle_total += days
            mine = None
            if team_of is not None:
                team = team_of.get(subject.issue.key, "")
                mine = team_in_step.setdefault(team, {})
                team_cycle[team] = team_cycle.get(team, 0.0) + days
            for k, interval in enumerate(counted):
                if interval.step is not None:
                    part = _overlap(marks[k], marks[k + 1], cycle_from, cycle_to)
                    in_step[interval.step] += part
                    if mine is not None:
                        mine[interval.step] = mine.get(interval.step, 0.0) + part
                    if ctx.is_active(interval.step):
                        active_total += part
        k, count = 0, len(counted)
        while k < count:  # each stay in a step: adjacent intervals of one step merged
            stay = counted[k].step
            if stay is None:
                k += 1
                continue
            last_k = k
            while last_k + 1 < count and counted[last_k + 1].step == stay:
                last_k += 1
            end = counted[last_k].end
            if end is not None and window_start <= end <= now:
                days = (marks[last_k + 1] - marks[k]) / DAY_MICROS
                visits[stay].append(days)
                limit, _ = ctx.step_limit(subject.issue, stay)
                if limit is not None and days >= limit:
                    breaches[stay] += 1
            k = last_k + 1
        spans = [(pos(a), pos(b)) for a, b in blocked_periods(subject.issue, ctx)]
        for k, interval in enumerate(counted):
            if interval.step is None:
                continue
            if interval.end_or(now) <= max(interval.start, window_start):
                continue
            lo, hi = max(marks[k], window_pos), marks[k + 1]
            in_workflow += (hi - lo) / DAY_MICROS
            if spans:
                blocked += sum(_overlap(lo, hi, a, b) for a, b in spans)

    weekly = [0] * settings.window_weeks
    for moment in finished_at:
        index = min(int((moment - window_start) / WEEK), settings.window_weeks - 1)
        weekly[index] += 1

    cycle_time = Percentiles.of(cycles)
    at_risk: list[str] = []
    off_track: list[str] = []
    if cycle_time is not None and cycle_time.count >= settings.min_samples:
        for key, age in ages.items():
            if age > cycle_time.p95:
                off_track.append(key)
            elif age > cycle_time.p85:
                at_risk.append(key)

    step_stats = []
    for step in steps:
        inside = by_step[step.name]
        over = 0
        for subject in inside:
            limit, _ = ctx.step_limit(subject.issue, step.name)
            entered = subject.timeline.current_step_entry()
            if limit is not None and entered is not None and subject.timeline.known:
                over += cal.days_between(entered, now) >= limit
        stays = visits[step.name]
        step_stats.append(
            StepStats(
                name=step.name,
                waiting=step.waiting,
                wip=len(inside),
                wip_limit=step.wip_limit,
                limit_days=step.limit_days,
                visits=len(stays),
                p85_days=percentile(stays, 0.85) if stays else None,
                breaches=breaches[step.name],
                over_limit=over,
                share_of_cycle_time=in_step[step.name] / cycle_total if cycle_total else None,
            )
        )
    shares = [(s.share_of_cycle_time, s.name) for s in step_stats if s.share_of_cycle_time]
    bottleneck = max(shares)[1] if shares else None
    team_bottlenecks = {}
    for team, spent in team_in_step.items():
        # (the same sums, in the same order, as `measure` over the team's issues alone)
        team_shares = [(spent[s.name] / team_cycle[team], s.name) for s in steps
                       if spent.get(s.name) and team_cycle[team]]  # fmt: skip
        if team_shares:
            team_bottlenecks[team] = max(team_shares)[1]

    return FlowMetrics(
        window_start=window_start,
        window_end=now,
        window_weeks=settings.window_weeks,
        unit=ctx.unit,
        finished=len(finished_at),
        cycle_time=cycle_time,
        weekly_throughput=tuple(weekly),
        wip=len(ages) + undated_wip,
        ages=ages,
        aging_at_risk=tuple(at_risk),
        aging_off_track=tuple(off_track),
        min_samples=settings.min_samples,
        reopens=reopens,
        done_arrivals=arrivals,
        blocked_share=blocked / in_workflow if in_workflow else None,
        flow_efficiency=active_total / cycle_total if cycle_total else None,
        steps=tuple(step_stats),
        bottleneck=bottleneck,
        data_start=max(window_start, first_created),
        cancelled=cancelled,
        cycle_start=mode,
        aging_since={key: starts[key] for key in (*at_risk, *off_track)},
        undated_finished=undated_done,
        team_bottlenecks=team_bottlenecks,
    )


# --- judging ----------------------------------------------------------------------------


def check_aging(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Aging WIP (`metrics.aging`): an issue in a workflow step whose age exceeds the
    window's p85 cycle time gets a warn finding, beyond p95 a critical one."""
    metrics = ctx.metrics
    if not ctx.settings.metrics.aging or metrics is None or not metrics.percentiles_ready:
        return []
    assert metrics.cycle_time is not None
    p85, p95 = metrics.cycle_time.p85, metrics.cycle_time.p95
    findings = []
    at_risk, off_track = set(metrics.aging_at_risk), set(metrics.aging_off_track)
    window = (
        ("p85 cycle time", fmt_days(p85)),
        ("p95 cycle time", fmt_days(p95)),
        ("finished in window", f"{metrics.cycle_time.count} issues"),
    )
    say = Phrasebook()
    for subject in subjects:
        key = subject.issue.key
        if key not in at_risk and key not in off_track:
            continue
        age, started = metrics.ages[key], metrics.aging_since[key]
        critical = key in off_track
        findings.append(
            Finding(
                issue_key=key,
                family="aging",
                rule="older-than-p95" if critical else "older-than-p85",
                severity=Severity.CRITICAL if critical else Severity.WARN,
                message=(
                    f"in progress since {fmt_date(started)} ({fmt_days(age)}), longer than "
                    f"{'95' if critical else '85'}% of the issues finished in the last "
                    f"{metrics.window_weeks} weeks took ({fmt_days(p95 if critical else p85)})"
                ),
                config_key="metrics.aging",
                volatile=("age", "p85 cycle time", "p95 cycle time", "finished in window"),
                evidence=(
                    ("started", fmt_time(started)),
                    say(("status", subject.timeline.current.status)),
                    say(("age", fmt_days(age, ctx.unit))),
                    *window,
                ),
            )
        )
    return findings


def team_thresholds(metrics: FlowMetrics, ctx: RuleContext) -> list[TeamFinding]:
    """A core metric past its optional `[metrics]` threshold: a team-level warn finding.
    `max_*` fire above the threshold, `min_*` below it."""
    settings = ctx.settings.metrics
    window = f"last {metrics.window_weeks} weeks"
    data_start = metrics.data_start or metrics.window_start
    if metrics.young:
        # A project younger than the window is judged by the weeks it has existed.
        window = (
            f"{round(metrics.data_weeks, 1):g} weeks with data since {fmt_time(data_start)}, "
            f"of the last {metrics.window_weeks}"
        )
    checks: list[tuple[str, str, float | None, float | None, bool, str]] = []
    if metrics.percentiles_ready:
        assert metrics.cycle_time is not None
        checks.append(
            ("cycle-time-p85", "max_cycle_time_p85_days", metrics.cycle_time.p85,
             settings.max_cycle_time_p85_days, True, "days")
        )  # fmt: skip
    checks += [
        ("throughput", "min_throughput_per_week", metrics.throughput_per_week,
         settings.min_throughput_per_week, False, "per week"),
        ("wip", "max_wip", metrics.wip, settings.max_wip, True, "issues"),
        ("reopen-rate", "max_reopen_rate", metrics.reopen_rate, settings.max_reopen_rate,
         True, "share"),
        ("blocked-share", "max_blocked_share", metrics.blocked_share,
         settings.max_blocked_share, True, "share"),
        ("flow-efficiency", "min_flow_efficiency", metrics.flow_efficiency,
         settings.min_flow_efficiency, False, "share"),
    ]  # fmt: skip
    findings = []
    for rule, key, value, threshold, is_max, unit in checks:
        if value is None or threshold is None:
            continue
        if (value <= threshold) if is_max else (value >= threshold):
            continue

        def show(x: float, unit: str = unit) -> str:
            if unit == "share":
                return fmt_share(x)
            if unit == "days":
                return fmt_days(x)
            return f"{round(x, 2):g} {unit}"

        word = "above" if is_max else "below"
        findings.append(
            TeamFinding(
                subject=f"metric {rule}",
                family="metrics",
                rule=rule,
                severity=Severity.WARN,
                message=f"{rule.replace('-', ' ')} {show(value)} is {word} "
                f"{show(threshold)} ({window})",
                config_key=f"metrics.{key}",
                evidence=(
                    ("value", show(value)),
                    ("threshold", f"{'at most' if is_max else 'at least'} {show(threshold)}"),
                    (
                        "window",
                        f"{fmt_time(data_start)} to {fmt_time(metrics.window_end)}"
                        + (
                            f" ({round(metrics.data_weeks, 1):g} weeks with data: the first "
                            f"issue was created after the {metrics.window_weeks}-week window "
                            "began)"
                            if metrics.young
                            else ""
                        ),
                    ),
                    ("finished in window", str(metrics.finished)),
                ),
            )
        )
    return findings
