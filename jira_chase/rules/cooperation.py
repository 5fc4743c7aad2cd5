"""Cooperation: work blocked by another team's issue is where progress dies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jira_chase.model import Finding, Issue, Link, Severity
from jira_chase.rules.context import RuleContext, Subject, fmt_days, fmt_time

BLOCKS = "blocks"


def _blocked_by_other_team(issue: Issue, ctx: RuleContext) -> list[Link]:
    return [
        link
        for link in issue.links
        if link.type.casefold() == BLOCKS
        and link.direction == "inward"
        and link.project != issue.project
        and link.status_category != "done"
        and not ctx.steps.is_done(link.status)
    ]


def _flagged_since(issue: Issue) -> datetime:
    since = issue.created
    for change in issue.history:
        if change.field.casefold() == "flagged" and change.to_value:
            since = change.at
    return since


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """An unfinished issue blocked for at least `cooperation.blocked_days` — by an
    unfinished issue of another project, or flagged — gets a warn finding naming the
    blocker."""
    threshold = ctx.settings.cooperation.blocked_days
    if threshold is None:
        return []
    findings = []
    for subject in subjects:
        issue = subject.issue
        if ctx.steps.is_done(issue.status):
            continue
        for link in _blocked_by_other_team(issue, ctx):
            since = link.since or issue.created
            days = ctx.calendar.days_between(since, ctx.now)
            if days < threshold:
                continue
            findings.append(
                Finding(
                    issue_key=issue.key,
                    family="cooperation",
                    rule="blocked-by-other-team",
                    severity=Severity.WARN,
                    message=(
                        f"blocked by {link.key} ({link.project}, {link.status or 'unknown status'})"
                        f" for {fmt_days(days)}, limit {fmt_days(threshold)}"
                    ),
                    config_key="cooperation.blocked_days",
                    volatile=("blocked for",),
                    evidence=(
                        ("blocked by", link.key),
                        ("blocker project", link.project),
                        ("blocker status", link.status or "unknown"),
                        (
                            "blocked since",
                            fmt_time(since) if link.since else f"{fmt_time(since)} (created)",
                        ),
                        ("blocked for", fmt_days(days)),
                        ("limit", fmt_days(threshold)),
                    ),
                )
            )
        if issue.flagged:
            since = _flagged_since(issue)
            days = ctx.calendar.days_between(since, ctx.now)
            if days >= threshold:
                findings.append(
                    Finding(
                        issue_key=issue.key,
                        family="cooperation",
                        rule="flagged",
                        severity=Severity.WARN,
                        message=(
                            f"flagged as impeded for {fmt_days(days)}, limit {fmt_days(threshold)}"
                        ),
                        config_key="cooperation.blocked_days",
                        volatile=("flagged for",),
                        evidence=(
                            ("flagged since", fmt_time(since)),
                            ("flagged for", fmt_days(days)),
                            ("limit", fmt_days(threshold)),
                        ),
                    )
                )
    return findings
