"""Skills: where the team's knowledge sits in one head.

Two team-level judgements over the metrics window (`metrics.window_weeks`), never a
label on anyone's issue:

- knowledge concentration: per area (`skills.area`: the issue's Jira components, its
  labels, or its parent), the finished issues (not cancelled) and who they are
  assigned to. An area with at least `skills.min_issues` finished issues where one person
  holds at least `skills.max_share` of them is a warn finding;
- review spread: for each `required` step, who moved issues out of it (the person in
  the history entry that left the step). At least `skills.min_issues` such moves with
  one person making at least `skills.max_share` of them is a bottleneck of people.

People are named only with `skills.name_people = true`; otherwise "one person".
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from jira_chase.engine.model import Change, Issue, Severity, TeamFinding
from jira_chase.engine.rules.context import RuleContext, Subject, fmt_share

CONCENTRATION = "knowledge-concentration"
REVIEW_SPREAD = "review-spread"


def _at(change: Change) -> datetime:
    return change.at


#: `skills.area` -> how the area is named in findings.
AREA_NAMES = {"component": "component", "labels": "label", "parent": "parent"}


def areas(issue: Issue, ctx: RuleContext) -> Iterable[str]:
    """The issue's areas under `skills.area` (jira-chase's own labels are no area)."""
    kind = ctx.settings.skills.area
    if kind == "component":
        return issue.components
    if kind == "labels":
        prefix = ctx.settings.writeback.label_prefix.casefold()
        return [label for label in issue.labels if not label.casefold().startswith(prefix)]
    return (issue.parent,) if issue.parent else ()


def team_skills(subjects: Sequence[Subject], ctx: RuleContext) -> list[TeamFinding]:
    """Knowledge concentration per area and review spread per required step (one pass
    over the histories)."""
    settings = ctx.settings.skills
    weeks = ctx.settings.metrics.window_weeks
    window_start = ctx.now - timedelta(weeks=weeks)
    required = [s.name for s in ctx.settings.workflow.steps if s.required]
    by_area: dict[str, Counter[str | None]] = {}
    exits: dict[str, Counter[str]] = {name: Counter() for name in required}
    step_of, now = ctx.steps.step, ctx.now

    for subject in subjects:
        issue, timeline = subject.issue, subject.timeline
        if timeline.finished_within(window_start, now):
            owner = issue.assignee.id if issue.assignee is not None else None
            for area in dict.fromkeys(areas(issue, ctx)):
                by_area.setdefault(area, Counter())[owner] += 1
        if not required or timeline.settled_before(window_start):
            continue  # (settled: every status change is older than the window)
        changes = issue.status_changes  # (oldest first: start at the window)
        for k in range(bisect_left(changes, window_start, key=_at), len(changes)):
            change = changes[k]
            if change.at > now:
                break
            if change.by is None:
                continue
            left = step_of(change.from_value, issue.type)
            if (
                left in exits
                and step_of(change.to_value, issue.type) != left
                and not ctx.is_own_change(change)
            ):
                exits[left][change.by] += 1

    names: dict[str, str] = {}
    summaries: dict[str, str] = {}

    def who(person: str) -> str:
        if not settings.name_people:
            return "one person"
        if not names:  # (only once a finding names someone)
            for subject in subjects:
                for known in (subject.issue.assignee, subject.issue.reporter):
                    if known is not None:
                        names.setdefault(known.id, known.name)
        return names.get(person, person)

    def summary(key: str) -> str | None:
        if not summaries:  # (only once a finding names a parent)
            summaries.update((s.issue.key, s.issue.summary) for s in subjects)
        return summaries.get(key)

    def top(counts: Counter[str] | Counter[str | None]) -> tuple[str, int] | None:
        people = [(n, p) for p, n in counts.items() if p is not None]
        if not people:
            return None
        count, person = min(people, key=lambda item: (-item[0], item[1]))
        return person, count

    findings: list[TeamFinding] = []
    window = f"{weeks} week{'s' if weeks != 1 else ''}"
    limits = (
        ("limit", fmt_share(settings.max_share)),
        ("minimum issues", str(settings.min_issues)),
        ("window", window),
    )
    kind = AREA_NAMES[settings.area]
    for area, counts in sorted(by_area.items()):
        total = sum(counts.values())
        leader = top(counts)
        if leader is None or total < settings.min_issues:
            continue
        person, count = leader
        if count / total < settings.max_share:
            continue
        parent = summary(area) if kind == "parent" else None
        title = f"{area} ({parent})" if parent is not None else area
        findings.append(
            TeamFinding(
                subject=f"{kind} {area}",
                family="skills",
                rule=CONCENTRATION,
                severity=Severity.WARN,
                message=(
                    f"{title}: {count} of {total} finished issues by {who(person)} in {window}"
                ),
                config_key="skills.max_share",
                evidence=(
                    (kind, area),
                    ("finished issues", str(total)),
                    ("by one person", str(count)),
                    *((("person", who(person)),) if settings.name_people else ()),
                    ("share", fmt_share(count / total)),
                    *limits,
                ),
            )
        )
    for step, movers in exits.items():
        total = sum(movers.values())
        leader = top(movers)
        if leader is None or total < settings.min_issues:
            continue
        person, count = leader
        if count / total < settings.max_share:
            continue
        findings.append(
            TeamFinding(
                subject=f"step {step}",
                family="skills",
                rule=REVIEW_SPREAD,
                severity=Severity.WARN,
                message=(
                    f"{count} of {total} moves out of required step '{step}' made by "
                    f"{who(person)} in {window}: a bottleneck of people, not of process"
                ),
                config_key="skills.max_share",
                evidence=(
                    ("step", step),
                    ("moves out", str(total)),
                    ("by one person", str(count)),
                    *((("person", who(person)),) if settings.name_people else ()),
                    ("share", fmt_share(count / total)),
                    *limits,
                ),
            )
        )
    return findings
