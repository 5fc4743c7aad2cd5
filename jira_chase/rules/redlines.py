"""Red lines: rules that are never negotiable and always critical."""

from __future__ import annotations

from collections.abc import Sequence

from jira_chase.model import Finding, Severity
from jira_chase.rules.context import RuleContext, Subject, fmt_time


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Red lines; every finding is critical."""
    return [f for s in subjects for f in _required_steps(s, ctx)]


def _required_steps(subject: Subject, ctx: RuleContext) -> list[Finding]:
    """Required step: the latest arrival in a done status must have been preceded,
    since creation or since the issue last left done, by a visit to every step marked
    `required`."""
    issue, timeline = subject.issue, subject.timeline
    required = [(i, s) for i, s in enumerate(ctx.settings.workflow.steps) if s.required]
    current = timeline.current
    if not required or not ctx.steps.is_done(current.status):
        return []
    # The stretch of work that led to this arrival in done: back to creation or to the
    # previous time the issue was done (a reopen starts a new stretch).
    stretch = []
    for interval in reversed(timeline.intervals[:-1]):
        if ctx.steps.is_done(interval.status):
            break
        stretch.append(interval)
    visited = {interval.step for interval in stretch if interval.step is not None}
    path = " -> ".join(i.status for i in reversed(stretch)) or "(created)"
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
                message=(f"reached '{current.status}' without passing required step '{step.name}'"),
                config_key=f"workflow.steps[{index}].required",
                evidence=(
                    ("required step", f"{step.name} ({', '.join(step.statuses)})"),
                    ("reached", f"{current.status} at {fmt_time(current.start)}"),
                    ("path", f"{path} -> {current.status}"),
                ),
            )
        )
    return findings
