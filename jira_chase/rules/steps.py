"""Critical steps: time in the current step against its limit."""

from __future__ import annotations

from collections.abc import Sequence

from jira_chase.model import Finding, Severity
from jira_chase.rules.context import RuleContext, Subject, fmt_days, fmt_time

#: Critical once time in step reaches this multiple of the limit.
CRITICAL_FACTOR = 2.0


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Stalled: warn when time in the current step reaches `limit_days`, critical at 2x."""
    return [f for s in subjects for f in _stalled(s, ctx)]


def _stalled(subject: Subject, ctx: RuleContext) -> list[Finding]:
    issue, timeline = subject.issue, subject.timeline
    step_name = timeline.current.step
    entered = timeline.current_step_entry()
    if step_name is None or entered is None:
        return []
    index, step = next(
        (i, s) for i, s in enumerate(ctx.settings.workflow.steps) if s.name == step_name
    )
    if step.limit_days is None:
        return []
    days = ctx.calendar.days_between(entered, ctx.now)
    if days < step.limit_days:
        return []
    severity = Severity.CRITICAL if days >= CRITICAL_FACTOR * step.limit_days else Severity.WARN
    unit = "business days" if ctx.calendar.kind == "business" else "calendar days"
    return [
        Finding(
            issue_key=issue.key,
            family="stalled",
            rule="time-in-step",
            severity=severity,
            message=(
                f"in step '{step.name}' for {fmt_days(days)}, limit {fmt_days(step.limit_days)}"
                + (" (2x exceeded)" if severity is Severity.CRITICAL else "")
            ),
            config_key=f"workflow.steps[{index}].limit_days",
            volatile=("time in step",),
            evidence=(
                ("step", step.name),
                ("status", timeline.current.status),
                ("entered", fmt_time(entered)),
                ("time in step", f"{fmt_days(days)} ({unit})"),
                ("limit", fmt_days(step.limit_days)),
                ("critical at", fmt_days(CRITICAL_FACTOR * step.limit_days)),
            ),
        )
    ]
