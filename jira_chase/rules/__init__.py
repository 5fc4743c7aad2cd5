"""Rule families. Each module exposes `check(subjects, ctx) -> list[Finding]`.

A rule is a pure function of the judged issues (each with its timeline) and the run
context; it reads thresholds from settings and names the config key it used in each
finding. Rules see every subject at once because some (focus) judge across issues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jira_chase.model import Finding
from jira_chase.rules import cooperation, focus, redlines, steps
from jira_chase.rules.context import RuleContext, Subject

Rule = Callable[[Sequence[Subject], RuleContext], list[Finding]]

#: family name -> rule; the family name is also the reason label (`<prefix><family>`).
FAMILIES: dict[str, Rule] = {
    "stalled": steps.check,
    "redline": redlines.check,
    "focus": focus.check,
    "cooperation": cooperation.check,
}

__all__ = ["FAMILIES", "Rule", "RuleContext", "Subject"]
