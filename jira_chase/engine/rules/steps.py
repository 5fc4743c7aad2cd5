"""Critical steps: time in the current step against its limit, and WIP per step."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from datetime import datetime

from jira_chase.config.settings import StepSettings
from jira_chase.engine.model import Finding, Severity, TeamFinding
from jira_chase.engine.rules.context import (
    Phrasebook,
    RuleContext,
    Subject,
    fmt_date,
    fmt_days,
    fmt_keys,
    fmt_time,
)

#: Critical once time in step reaches this multiple of the limit.
CRITICAL_FACTOR = 2.0


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Stalled: warn when time in the current step reaches `limit_days`, critical at 2x."""
    findings = []
    # (step, limit) -> the evidence every issue over that limit shares
    limits: dict[tuple[str, float], tuple[tuple[str, str], ...]] = {}
    say = Phrasebook()
    for subject in subjects:
        finding = _stalled(subject, ctx, limits, say)
        if finding is not None:
            findings.append(finding)
    return findings


def _stalled(
    subject: Subject,
    ctx: RuleContext,
    limits: dict[tuple[str, float], tuple[tuple[str, str], ...]],
    say: Phrasebook,
) -> Finding | None:
    issue, timeline = subject.issue, subject.timeline
    step_name = timeline.current.step
    entered = timeline.current_step_entry()
    if step_name is None or entered is None or not timeline.known:
        return None
    limit, config_key = ctx.step_limit(issue, step_name)
    if limit is None:
        return None
    days = ctx.calendar.days_between(entered, ctx.now)
    if days < limit:
        return None
    severity = Severity.CRITICAL if days >= CRITICAL_FACTOR * limit else Severity.WARN
    shared = limits.get((step_name, limit))
    if shared is None:
        shared = limits[(step_name, limit)] = (
            ("limit", fmt_days(limit)),
            ("critical at", fmt_days(CRITICAL_FACTOR * limit)),
        )
    return Finding(
        issue_key=issue.key,
        family="stalled",
        rule="time-in-step",
        severity=severity,
        message=(
            f"in {step_name} since {fmt_date(entered)} ({fmt_days(days)}; limit {shared[0][1]})"
        ),
        config_key=config_key,
        volatile=("time in step",),
        evidence=(
            say(("step", step_name)),
            say(("status", timeline.current.status)),
            ("entered", fmt_time(entered)),
            say(("time in step", fmt_days(days, ctx.unit))),
            *shared,
        ),
    )


def occupants(subjects: Sequence[Subject], step_name: str) -> list[Subject]:
    """The issues in the step now, in the order they entered it (then by key)."""
    inside = [s for s in subjects if s.timeline.current.step == step_name]
    return sorted(inside, key=lambda s: (s.timeline.current_step_entry(), s.issue.key))


def over_wip_limit(
    subjects: Sequence[Subject], ctx: RuleContext
) -> Iterator[tuple[int, StepSettings, int, list[Subject]]]:
    """Each step holding more issues than its `wip_limit`: (its index in
    `workflow.steps`, its settings, the limit, its occupants in order of entry)."""
    for index, step in enumerate(ctx.settings.workflow.steps):
        limit = step.wip_limit
        if limit is None:
            continue
        inside = occupants(subjects, step.name)
        if len(inside) > limit:
            yield index, step, limit, inside


#: How far back a step without `limit_days` looks for issues pulled into it when full.
DEFAULT_PULL_DAYS = 5.0


def check_wip(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Pulled into a full step: an issue in a step with a `wip_limit` that entered it
    while the step already held that many issues (counting every issue in the step at
    that moment), within the step's last `limit_days` (5 without one), gets a warn
    finding: finish work before starting more. The step over its limit as a whole is a
    team finding (`team_wip`); the issues that have sat in it for months are not told
    again that it is full."""
    findings = []
    scope = ctx.scope if ctx.scope is not None else subjects
    for index, step in enumerate(ctx.settings.workflow.steps):
        limit = step.wip_limit
        if limit is None:
            continue
        recent = []
        for subject in subjects:
            timeline = subject.timeline
            entered = timeline.current_step_entry()
            if timeline.current.step != step.name or not timeline.known or entered is None:
                continue
            days = ctx.step_limit(subject.issue, step.name)[0] or DEFAULT_PULL_DAYS
            if ctx.calendar.days_between(entered, ctx.now) < days:
                recent.append((entered, subject))
        if not recent:
            continue
        since = min(entered for entered, _ in recent)
        stays = _stays(scope, step.name, since, ctx)
        starts = sorted((start, key) for start, _, key in stays)
        ends = sorted(end for _, end, _ in stays if end is not None)
        inside = sum(1 for s in scope if s.timeline.current.step == step.name)
        for entered, subject in sorted(recent, key=lambda pair: (pair[0], pair[1].issue.key)):
            key = subject.issue.key
            # In the step when it entered: came in before it (or at the same moment,
            # ahead of it by key) and had not left by then.
            held = bisect_left(starts, (entered, key)) - bisect_right(ends, entered)
            if held < limit:
                continue
            findings.append(
                Finding(
                    issue_key=key,
                    family="wip",
                    rule="pulled-into-full-step",
                    severity=Severity.WARN,
                    message=(
                        f"pulled into {step.name} on {fmt_date(entered)} while it already "
                        f"held {held} issues (limit {limit}): finish work there before "
                        "starting more"
                    ),
                    config_key=f"workflow.steps[{index}].wip_limit",
                    volatile=("in the step now",),
                    evidence=(
                        ("step", step.name),
                        ("entered", fmt_time(entered)),
                        ("already in the step", str(held)),
                        ("limit", str(limit)),
                        ("in the step now", str(inside)),
                    ),
                )
            )
    return findings


def _stays(
    subjects: Sequence[Subject], step_name: str, since: datetime, ctx: RuleContext
) -> list[tuple[datetime, datetime | None, str]]:
    """(start, end or None while ongoing, issue key) of every stay in the step that had
    not ended by `since`: back-to-back intervals of the step's statuses are one stay."""
    stays = []
    for subject in subjects:
        timeline = subject.timeline
        if not timeline.known or timeline.settled_before(since):
            continue
        intervals = timeline.intervals
        end: datetime | None = None
        inside = False
        for k in range(len(intervals) - 1, -1, -1):
            interval = intervals[k]
            if interval.step == step_name:
                if not inside:
                    inside, end = True, interval.end
                if k == 0 or intervals[k - 1].step != step_name:
                    stays.append((interval.start, end, subject.issue.key))
                    inside = False
            if interval.start <= since and not inside:
                break
    return stays


def team_wip(subjects: Sequence[Subject], ctx: RuleContext) -> list[TeamFinding]:
    """A step holding more issues than its `wip_limit`: one team-level warn finding."""
    findings = []
    for index, step, limit, inside in over_wip_limit(subjects, ctx):
        # Which issues came in over the limit follows from the order of entry: only
        # with every entry known; those without one are listed apart, unordered.
        dated = [s.issue.key for s in inside if s.timeline.known]
        undated = sorted(s.issue.key for s in inside if not s.timeline.known)
        over = (
            fmt_keys(dated[limit:])
            if not undated
            else f"not known: {len(undated)} issues have no known entry time"
        )
        apart = (("entry unknown", fmt_keys(undated)),) if undated else ()
        findings.append(
            TeamFinding(
                subject=f"step {step.name}",
                family="wip",
                rule="wip-limit",
                severity=Severity.WARN,
                message=f"step '{step.name}' holds {len(inside)} issues, limit {limit}",
                config_key=f"workflow.steps[{index}].wip_limit",
                evidence=(
                    ("step", step.name),
                    ("in the step", str(len(inside))),
                    ("limit", str(limit)),
                    ("issues", fmt_keys(dated) or "none with a known entry"),
                    *apart,
                    ("over the limit", over),
                ),
            )
        )
    return findings
