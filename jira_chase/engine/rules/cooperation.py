"""Cooperation: work blocked by another team's issue is where progress dies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from jira_chase.engine.model import Finding, Issue, Link, Severity
from jira_chase.engine.rules.context import (
    RuleContext,
    Subject,
    fmt_date,
    fmt_days,
    fmt_time,
    is_blocked_by,
    is_unfinished,
)

#: The rule whose findings name a blocking issue of another project.
BLOCKED_BY_OTHER_TEAM = "blocked-by-other-team"
#: The rule whose findings say that another team waits on this issue.
BLOCKING_OTHER_TEAM = "blocking-other-team"
#: Critical once another team has waited this multiple of `cooperation.wait_days`.
CRITICAL_FACTOR = 2.0


def _blocked_by_other_team(issue: Issue, ctx: RuleContext) -> list[Link]:
    return [
        link
        for link in issue.links
        if is_blocked_by(link) and link.project != issue.project and is_unfinished(link, ctx)
    ]


def flagged_since(issue: Issue) -> datetime:
    since = issue.created
    for change in issue.history:
        if change.field.casefold() == "flagged" and change.to_value:
            since = change.at
    return since


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """An unfinished issue blocked for at least `cooperation.blocked_days` — by an
    unfinished issue of another project, or flagged — gets a warn finding naming the
    blocker, its project, status and assignee."""
    findings = check_blocking(subjects, ctx)
    for subject in subjects:
        issue = subject.issue
        if subject.timeline.current.done:
            continue
        threshold, config_key = ctx.threshold(issue, "cooperation", "blocked_days")
        if threshold is None:
            continue
        for link in _blocked_by_other_team(issue, ctx):
            since = link.since or issue.created
            days = ctx.calendar.days_between(since, ctx.now)
            if days < threshold:
                continue
            owner = link.assignee or "unassigned"
            findings.append(
                Finding(
                    issue_key=issue.key,
                    family="cooperation",
                    rule=BLOCKED_BY_OTHER_TEAM,
                    severity=Severity.WARN,
                    message=(
                        f"blocked by {link.key} ({link.project}, "
                        f"{link.status or 'unknown status'}, {owner}) since "
                        f"{fmt_date(since)} ({fmt_days(days)}; limit {fmt_days(threshold)})"
                    ),
                    config_key=config_key,
                    volatile=("blocked for",),
                    evidence=(
                        ("blocked by", link.key),
                        ("blocker project", link.project),
                        ("blocker status", link.status or "unknown"),
                        ("blocker assignee", owner),
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
            since = flagged_since(issue)
            days = ctx.calendar.days_between(since, ctx.now)
            if days >= threshold:
                findings.append(
                    Finding(
                        issue_key=issue.key,
                        family="cooperation",
                        rule="flagged",
                        severity=Severity.WARN,
                        message=(
                            f"flagged as impeded since {fmt_date(since)} ({fmt_days(days)}; "
                            f"limit {fmt_days(threshold)})"
                        ),
                        config_key=config_key,
                        volatile=("flagged for",),
                        evidence=(
                            ("flagged since", fmt_time(since)),
                            ("flagged for", fmt_days(days)),
                            ("limit", fmt_days(threshold)),
                        ),
                    )
                )
    return findings


def check_blocking(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """Another team waits on us: our unfinished issue that blocks an unfinished issue of
    another project for `cooperation.wait_days` or longer (since the link was made) gets
    a finding naming who waits and since when — warn at 1x, critical at 2x. A wait whose
    start is not known is counted for the team, never judged here."""
    limit = ctx.settings.cooperation.wait_days
    team = ctx.waits
    if limit is None or team is None:
        return []
    ours = {s.issue.key for s in subjects if not s.timeline.current.done}
    findings = []
    for wait in team.waits:
        if not wait.open or wait.blocker not in ours or wait.start is None:
            continue
        days = ctx.calendar.days_between(wait.start, ctx.now)
        if days < limit:
            continue
        critical = days >= CRITICAL_FACTOR * limit
        findings.append(
            Finding(
                issue_key=wait.blocker,
                family="cooperation",
                rule=BLOCKING_OTHER_TEAM,
                severity=Severity.CRITICAL if critical else Severity.WARN,
                message=(
                    f"{wait.waiting} ({wait.waiting_team}) has waited on this since "
                    f"{fmt_date(wait.start)} ({fmt_days(days)}; limit {fmt_days(limit)})"
                ),
                config_key="cooperation.wait_days",
                volatile=("waited for",),
                evidence=(
                    ("waiting issue", wait.waiting),
                    ("waiting team", wait.waiting_team),
                    ("waiting since", fmt_time(wait.start)),
                    ("waited for", fmt_days(days)),
                    ("limit", fmt_days(limit)),
                    ("critical at", fmt_days(CRITICAL_FACTOR * limit)),
                ),
            )
        )
    return findings


def blockers(findings: Iterable[Finding]) -> dict[str, tuple[Finding, ...]]:
    """Blocking issue key -> the findings (on the issues it blocks) that name it."""
    named: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.family == "cooperation" and finding.rule == BLOCKED_BY_OTHER_TEAM:
            named.setdefault(dict(finding.evidence)["blocked by"], []).append(finding)
    return {key: tuple(found) for key, found in sorted(named.items())}
