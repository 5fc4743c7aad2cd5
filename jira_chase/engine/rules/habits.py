"""Work habits: stale work, work without an owner, committed work without an estimate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jira_chase.engine.model import Finding, Issue, Severity
from jira_chase.engine.rules.context import RuleContext, Subject, fmt_date, fmt_days, fmt_time


def last_human_activity(issue: Issue, ctx: RuleContext) -> tuple[datetime, str | None, str]:
    """(when, who, what) of the latest thing a person did on the issue up to now:
    creating it, changing a field, commenting. The bot's own changes and comments
    never count (see `RuleContext.is_own_change`)."""
    latest: tuple[datetime, str | None, str] = (
        issue.created,
        issue.reporter.id if issue.reporter else None,
        "created",
    )
    for change in issue.history:
        if latest[0] <= change.at <= ctx.now and not ctx.is_own_change(change):
            latest = (change.at, change.by, f"changed {change.field}")
    for comment in issue.comments:
        own = ctx.bot_id is not None and comment.by == ctx.bot_id
        if latest[0] <= comment.at <= ctx.now and not own:
            latest = (comment.at, comment.by, "commented")
    return latest


def _person_name(issue: Issue, person_id: str | None) -> str:
    for person in (issue.assignee, issue.reporter):
        if person is not None and person.id == person_id:
            return person.name
    return person_id or "unknown"


def check_stale(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Stale: an issue in an active step (not `waiting`) with no human update for
    `habits.stale_days` gets a warn finding."""
    findings = []
    for subject in subjects:
        issue, step = subject.issue, subject.timeline.current.step
        if not ctx.is_active(step) or not subject.timeline.known:
            continue
        limit, config_key = ctx.threshold(issue, "habits", "stale_days")
        if limit is None:
            continue
        at, by, what = last_human_activity(issue, ctx)
        idle = ctx.calendar.days_between(at, ctx.now)
        if idle < limit:
            continue
        findings.append(
            Finding(
                issue_key=issue.key,
                family="stale",
                rule="no-update",
                severity=Severity.WARN,
                message=(
                    f"no update by a person since {fmt_date(at)} ({fmt_days(idle)}; "
                    f"limit {fmt_days(limit)})"
                ),
                config_key=config_key,
                volatile=("idle for",),
                evidence=(
                    ("step", f"{step} ({subject.timeline.current.status})"),
                    ("last update", f"{fmt_time(at)}: {what} by {_person_name(issue, by)}"),
                    ("idle for", fmt_days(idle, ctx.unit)),
                    ("limit", fmt_days(limit)),
                ),
            )
        )
    return findings


def _missing(
    subject: Subject,
    family: str,
    rule: str,
    what: str,
    config_key: str,
    extra: tuple[tuple[str, str], ...] = (),
) -> Finding:
    """A warn finding for an issue sitting in its step without `what`."""
    step = subject.timeline.current.step
    entered = subject.timeline.current_step_entry()
    assert entered is not None
    # Without a status history the entry into the step is not known: say so, no date.
    known = subject.timeline.known
    since = fmt_time(entered) if known else "unknown (no status history)"
    return Finding(
        issue_key=subject.issue.key,
        family=family,
        rule=rule,
        severity=Severity.WARN,
        message=f"in {step}{f' since {fmt_date(entered)}' if known else ''} without {what}",
        config_key=config_key,
        evidence=(
            ("step", f"{step} ({subject.timeline.current.status})"),
            ("entered", since),
            *extra,
        ),
    )


def check_owner(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """No owner: an issue in an active step without an assignee (`habits.require_owner`)."""
    findings = []
    for subject in subjects:
        issue, step = subject.issue, subject.timeline.current.step
        if not ctx.is_active(step) or issue.assignee is not None:
            continue
        required, config_key = ctx.threshold(issue, "habits", "require_owner")
        if required:
            findings.append(_missing(subject, "owner", "no-owner", "an assignee", config_key,
                                     (("assignee", "none"),)))  # fmt: skip
    return findings


def check_estimate(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """No estimate once committed: an issue in any workflow step without an estimate
    (`habits.require_estimate`)."""
    findings = []
    for subject in subjects:
        issue, step = subject.issue, subject.timeline.current.step
        if step is None or issue.estimate is not None:
            continue
        required, config_key = ctx.threshold(issue, "habits", "require_estimate")
        if required:
            extra = (("type", issue.type), ("estimate", "none"))
            findings.append(
                _missing(subject, "estimate", "no-estimate", "an estimate", config_key, extra)
            )
    return findings
