"""Critical steps: time in the current step against its limit, and WIP per step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from jira_chase.config import StepSettings
from jira_chase.model import Finding, Severity, TeamFinding
from jira_chase.rules.context import (
    EVIDENCE_KEYS,
    Phrasebook,
    RuleContext,
    Subject,
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
        message=say(
            f"in step '{step_name}' for {fmt_days(days)}, limit {shared[0][1]}"
            + (" (2x exceeded)" if severity is Severity.CRITICAL else "")
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


def check_wip(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """WIP per step: when a step holds more than its `wip_limit`, every issue that
    entered it after it was already at the limit (by entry time) gets a warn finding."""
    findings = []
    for index, step, limit, inside in over_wip_limit(subjects, ctx):
        first_keys = [s.issue.key for s in inside[:EVIDENCE_KEYS]]
        named, now_and_limit = (
            ("step", step.name),
            (
                ("in the step now", str(len(inside))),
                ("limit", str(limit)),
            ),
        )
        for position, subject in enumerate(inside[limit:], start=limit):
            entered = subject.timeline.current_step_entry()
            assert entered is not None
            if not subject.timeline.known:
                continue  # when it entered is not known, so neither is its place in line
            ahead = fmt_keys(first_keys, total=position)
            findings.append(
                Finding(
                    issue_key=subject.issue.key,
                    family="wip",
                    rule="wip-limit",
                    severity=Severity.WARN,
                    message=(
                        f"entered step '{step.name}' when it already held {position} "
                        f"issues, limit {limit} (it holds {len(inside)} now)"
                    ),
                    config_key=f"workflow.steps[{index}].wip_limit",
                    # Who is ahead and how full the step is now move with other
                    # issues, not this one.
                    volatile=("already in the step", "in the step now"),
                    evidence=(
                        named,
                        ("entered", fmt_time(entered)),
                        ("already in the step", f"{position} ({ahead})"),
                        *now_and_limit,
                    ),
                )
            )
    return findings


def team_wip(subjects: Sequence[Subject], ctx: RuleContext) -> list[TeamFinding]:
    """A step holding more issues than its `wip_limit`: one team-level warn finding."""
    findings = []
    for index, step, limit, inside in over_wip_limit(subjects, ctx):
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
                    ("issues", fmt_keys([s.issue.key for s in inside])),
                    ("over the limit", fmt_keys([s.issue.key for s in inside[limit:]])),
                ),
            )
        )
    return findings
