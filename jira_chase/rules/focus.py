"""Focus: too much work in progress per person is a focus problem."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from jira_chase.model import Finding, Severity
from jira_chase.rules.context import RuleContext, Subject, fmt_keys


def check(subjects: Sequence[Subject], ctx: RuleContext) -> list[Finding]:
    """A person with more than `focus.wip_per_person` issues in workflow steps gets a
    warn finding on each of those issues, naming the count and the limit."""
    limit = ctx.settings.focus.wip_per_person
    if limit is None:
        return []
    carrying: dict[str, list[Subject]] = defaultdict(list)
    for subject in subjects:
        assignee = subject.issue.assignee
        if assignee is not None and subject.timeline.current.step is not None:
            carrying[assignee.id].append(subject)
    findings = []
    for items in carrying.values():
        if len(items) <= limit:
            continue
        person = items[0].issue.assignee
        assert person is not None
        # The same words for each of the person's issues: one copy of them.
        message = f"{person.name} has {len(items)} issues in progress, limit {limit}"
        evidence = (
            ("person", person.name),
            ("in progress", str(len(items))),
            ("limit", str(limit)),
            ("issues", fmt_keys([s.issue.key for s in items])),
        )
        for subject in items:
            findings.append(
                Finding(
                    issue_key=subject.issue.key,
                    family="focus",
                    rule="wip-per-person",
                    severity=Severity.WARN,
                    message=message,
                    config_key="focus.wip_per_person",
                    # The person's other issues come and go without this one changing.
                    volatile=("in progress", "issues"),
                    evidence=evidence,
                )
            )
    return findings
