"""Red lines: rules that are never negotiable and always critical."""

from __future__ import annotations

from collections.abc import Sequence

from jira_chase.engine.model import Finding, Severity
from jira_chase.engine.rules.context import (
    RuleContext,
    Subject,
    fmt_date,
    fmt_field,
    fmt_time,
    fmt_times,
)
from jira_chase.engine.timeline import Interval


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Red lines; every finding is critical."""
    findings = []
    for subject in subjects:
        findings += _required_steps(subject, ctx)
        findings += _skipped_steps(subject, ctx)
        findings += _reopens(subject, ctx)
        findings += _required_fields(subject, ctx)
    return findings


def _path(stretch: Sequence[Interval]) -> str:
    return " -> ".join(i.status for i in stretch)


def _required_steps(subject: Subject, ctx: RuleContext) -> list[Finding]:
    """Required step: the latest arrival in a done status must have been preceded,
    since creation or since the issue last left done, by a visit to every step marked
    `required`."""
    issue, timeline = subject.issue, subject.timeline
    required = [(i, s) for i, s in enumerate(ctx.settings.workflow.steps) if s.required]
    current = timeline.current
    # Cancelled work skipped the steps on purpose; an unknown history has no path.
    if not required or not current.done or current.cancelled or not timeline.known:
        return []
    # The arrival in done (moves between done statuses, e.g. Done -> Closed, are not
    # arrivals), and the stretch of work that led to it: back to creation or to the
    # previous time the issue was done (a reopen starts a new stretch).
    arrival = len(timeline.intervals) - 1
    while arrival > 0 and timeline.intervals[arrival - 1].done:
        arrival -= 1
    stretch = []
    for interval in reversed(timeline.intervals[:arrival]):
        if interval.done:
            break
        stretch.append(interval)
    visited = {interval.step for interval in stretch if interval.step is not None}
    path = " -> ".join(i.status for i in reversed(stretch)) or "(created)"
    current = timeline.intervals[arrival]
    findings = []
    for index, step in required:
        if step.name in visited:
            continue
        findings.append(
            Finding(
                issue_key=issue.key,
                family="redline",
                rule="required-step",
                severity=Severity.CRITICAL,
                message=(
                    f"reached '{current.status}' on {fmt_date(current.start)} without "
                    f"passing required step '{step.name}'"
                ),
                config_key=f"workflow.steps[{index}].required",
                evidence=(
                    ("required step", f"{step.name} ({', '.join(step.statuses)})"),
                    ("reached", f"{current.status} at {fmt_time(current.start)}"),
                    ("path", f"{path} -> {current.status}"),
                ),
            )
        )
    return findings


def _skipped_steps(subject: Subject, ctx: RuleContext) -> list[Finding]:
    """No skipped step: an unfinished issue that is now in a step placed after a
    required step (by order in `workflow.steps`) must have passed the required step
    since creation or since it last left done. (Once done, `required-step` covers it.)"""
    issue, timeline = subject.issue, subject.timeline
    current = timeline.current
    if current.done or current.step is None or not timeline.known:
        return []
    position = ctx.step(current.step)[0]
    stretch = timeline.stretch()
    visited = {interval.step for interval in stretch if interval.step is not None}
    findings = []
    for index, step in enumerate(ctx.settings.workflow.steps[:position]):
        if not step.required or step.name in visited:
            continue
        # The move that jumped past it: the first arrival in a step placed after it.
        jump = next(
            i
            for i, interval in enumerate(stretch)
            if interval.step is not None and ctx.step(interval.step)[0] > index
        )
        before = stretch[jump - 1].status if jump else f"{issue.initial_status} (created)"
        into = stretch[jump]
        findings.append(
            Finding(
                issue_key=issue.key,
                family="redline",
                rule="skipped-step",
                severity=Severity.CRITICAL,
                message=(
                    f"moved past required step '{step.name}' without entering it: "
                    f"'{before}' -> '{into.status}' on {fmt_time(into.start)}"
                ),
                config_key=f"workflow.steps[{index}].required",
                evidence=(
                    ("required step", f"{step.name} ({', '.join(step.statuses)})"),
                    ("skipped by", f"{before} -> {into.status} at {fmt_time(into.start)}"),
                    ("now in", f"{current.status} (step {current.step})"),
                    ("path", _path(stretch)),
                ),
            )
        )
    return findings


def _reopens(subject: Subject, ctx: RuleContext) -> list[Finding]:
    """Reopened more than `redlines.max_reopens` times (a reopen = leaving done)."""
    issue = subject.issue
    limit, config_key = ctx.threshold(issue, "redlines", "max_reopens")
    if limit is None or not subject.timeline.known:
        return []
    reopens = subject.timeline.reopens()
    if len(reopens) <= limit:
        return []
    return [
        Finding(
            issue_key=issue.key,
            family="redline",
            rule="max-reopens",
            severity=Severity.CRITICAL,
            message=f"reopened {fmt_times(len(reopens))} (last on {fmt_date(reopens[-1])}), "
            + ("never allowed" if limit == 0 else f"at most {fmt_times(limit)} allowed"),
            config_key=config_key,
            evidence=(
                ("reopened", str(len(reopens))),
                ("reopened at", ", ".join(fmt_time(t) for t in reopens)),
                ("limit", str(limit)),
            ),
        )
    ]


def _required_fields(subject: Subject, ctx: RuleContext) -> list[Finding]:
    """An unfinished issue in the named step / at the named priority / of the named
    type (every condition given must hold) must have the field set."""
    issue, timeline = subject.issue, subject.timeline
    if timeline.current.done:
        return []
    findings = []
    for index, rule in enumerate(ctx.settings.redlines.required_fields):
        conditions = []
        if rule.when_step is not None:
            if timeline.current.step != rule.when_step:
                continue
            conditions.append(f"in step {rule.when_step}")
        if rule.when_priority is not None:
            if (issue.priority or "").casefold() != rule.when_priority.casefold():
                continue
            conditions.append(f"priority {issue.priority}")
        if rule.when_type is not None:
            if issue.type.casefold() != rule.when_type.casefold():
                continue
            conditions.append(f"type {issue.type}")
        value = getattr(issue, rule.attribute)
        if value not in (None, (), ""):
            continue
        when = " and ".join(conditions) or "unfinished"
        findings.append(
            Finding(
                issue_key=issue.key,
                family="redline",
                rule="required-field",
                severity=Severity.CRITICAL,
                message=f"{fmt_field(rule.field)} is not set ({when})",
                config_key=f"redlines.required_fields[{index}]",
                evidence=(
                    ("field", rule.field),
                    ("required when", when),
                    ("status", timeline.current.status),
                ),
            )
        )
    return findings
