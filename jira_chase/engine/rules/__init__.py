"""Rule families. Each issue-level family is a `check(subjects, ctx) -> list[Finding]`.

A rule is a pure function of the judged issues (each with its timeline) and the run
context; it reads thresholds from settings (after `[[overrides]]`) and names the config
key it used in each finding. Rules see every subject at once because some (focus, WIP,
goals) judge across issues. Team-level findings (a step over its WIP limit, a goal at
risk, a core metric past its threshold) come from `TEAM_FAMILIES` and never become
labels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jira_chase.config.settings import ISSUE_FAMILIES, RULE_FAMILIES
from jira_chase.engine.model import Finding
from jira_chase.engine.rules import (
    cooperation,
    goals,
    habits,
    hygiene,
    metrics,
    redlines,
    steps,
    stuck,
)
from jira_chase.engine.rules.context import RuleContext, Subject

Rule = Callable[[Sequence[Subject], RuleContext], list[Finding]]

#: family name -> rule; the family name is also the reason label (`<prefix><family>`).
FAMILIES: dict[str, Rule] = {
    "stalled": steps.check,
    "wip": steps.check_wip,
    "redline": redlines.check,
    "aging": metrics.check_aging,
    "goal": goals.check,
    "stale": habits.check_stale,
    "owner": habits.check_owner,
    "estimate": habits.check_estimate,
    "cooperation": cooperation.check,
    "hygiene": hygiene.check,
}

#: The families that read a timeline's intervals (the whole status history) rather than
#: only where the issue is now: an evaluation runs them first, and then lets every
#: timeline drop its intervals (`Timeline.release`).
READS_INTERVALS = frozenset({"redline", "hygiene", "wip"})

#: Families with team-level findings (`focus`, `metrics` and `skills` have no
#: issue-level part).
TEAM_FAMILIES = ("wip", "goal", "focus", "metrics", "hygiene", "skills")

#: Families whose findings on an issue are for the team, not its assignee: kept as the
#: issue's notes (explain, JSON, report), counted in a team finding, never a label or a
#: line in the issue's comment.
NOTE_FAMILIES = frozenset({"hygiene"})

#: The cause an issue-level finding stands for, by family: one label per cause.
CAUSES = {
    stuck.FAMILY: "stuck",
    "redline": "redline",
    "owner": "habits",
    "estimate": "habits",
    "wip": "habits",
    "cooperation": "blocked",
}
#: Causes by rule, where a family has more than one.
RULE_CAUSES = {
    "must-start": "must-start",
    "must-finish": "must-finish",
    "blocking-other-team": "blocking",
}
#: Every cause label, in the order a label set is shown and chosen when an issue has
#: more causes than `MAX_CAUSES` (after severity): a red line first, then what another
#: team must do, then what the assignee must do.
CAUSE_LABELS = (
    "redline", "blocked", "blocking", "stuck", "must-finish", "must-start", "habits",
)  # fmt: skip
#: At most this many cause labels on one issue (its comment names every finding): a
#: label a manager filters by stays a short list.
MAX_CAUSES = 3


def cause(finding: Finding) -> str:
    """The cause label (without the prefix) an issue-level finding puts on its issue."""
    return RULE_CAUSES.get(finding.rule) or CAUSES.get(finding.family) or finding.family


assert tuple(FAMILIES) == ISSUE_FAMILIES
assert set(TEAM_FAMILIES) <= set(RULE_FAMILIES)
assert set(FAMILIES) >= READS_INTERVALS

assert set(CAUSES.values()) | set(RULE_CAUSES.values()) == set(CAUSE_LABELS)

__all__ = [
    "CAUSE_LABELS",
    "MAX_CAUSES",
    "FAMILIES",
    "NOTE_FAMILIES",
    "READS_INTERVALS",
    "TEAM_FAMILIES",
    "Rule",
    "RuleContext",
    "Subject",
    "cause",
]
