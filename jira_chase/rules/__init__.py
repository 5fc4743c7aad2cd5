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

from jira_chase.config import ISSUE_FAMILIES, RULE_FAMILIES
from jira_chase.model import Finding
from jira_chase.rules import (
    cooperation,
    focus,
    goals,
    habits,
    hygiene,
    metrics,
    redlines,
    steps,
)
from jira_chase.rules.context import RuleContext, Subject

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
    "focus": focus.check,
    "cooperation": cooperation.check,
    "hygiene": hygiene.check,
}

#: The families that read a timeline's intervals (the whole status history) rather than
#: only where the issue is now: an evaluation runs them first, and then lets every
#: timeline drop its intervals (`Timeline.release`).
READS_INTERVALS = frozenset({"redline", "hygiene"})

#: Families with team-level findings (`metrics` and `skills` have no issue-level part).
TEAM_FAMILIES = ("wip", "goal", "metrics", "hygiene", "skills")

assert tuple(FAMILIES) == ISSUE_FAMILIES
assert set(TEAM_FAMILIES) <= set(RULE_FAMILIES)
assert set(FAMILIES) >= READS_INTERVALS

__all__ = ["FAMILIES", "READS_INTERVALS", "TEAM_FAMILIES", "Rule", "RuleContext", "Subject"]
