"""Focus: too much work in progress per person is a focus problem, not a process one.

It is the team's to act on (who takes what next), so it is a team finding: how many
people carry more than `focus.wip_per_person` issues in workflow steps. People are
named only with `skills.name_people`, as the skills findings do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from jira_chase.engine.model import Severity, TeamFinding
from jira_chase.engine.rules.context import RuleContext, Subject, fmt_keys


def carrying(subjects: Sequence[Subject]) -> Counter[str]:
    """Person id -> how many issues in workflow steps they are assigned."""
    counts: Counter[str] = Counter()
    for subject in subjects:
        assignee = subject.issue.assignee
        if assignee is not None and subject.timeline.current.step is not None:
            counts[assignee.id] += 1
    return counts


def team_focus(subjects: Sequence[Subject], ctx: RuleContext) -> list[TeamFinding]:
    """One warn finding when anyone carries more than `focus.wip_per_person` issues in
    workflow steps: how many people, and how much each carries."""
    limit = ctx.settings.focus.wip_per_person
    if limit is None:
        return []
    counts = carrying(subjects)
    over = sorted(((n, person) for person, n in counts.items() if n > limit), reverse=True)
    if not over:
        return []
    names = {
        s.issue.assignee.id: s.issue.assignee.name for s in subjects if s.issue.assignee is not None
    }
    named = ctx.settings.skills.name_people
    loads = [f"{names.get(person, person)} {n}" if named else str(n) for n, person in over]
    people = f"{len(over)} {'person carries' if len(over) == 1 else 'people carry'}"
    return [
        TeamFinding(
            subject="focus",
            family="focus",
            rule="wip-per-person",
            severity=Severity.WARN,
            message=(f"{people} more than {limit} issues in progress (the most: {over[0][0]})"),
            config_key="focus.wip_per_person",
            evidence=(
                ("people over the limit", str(len(over))),
                ("issues each" if not named else "issues per person", fmt_keys(loads)),
                ("limit", str(limit)),
            ),
        )
    ]
