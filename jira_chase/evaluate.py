"""Run the enabled rules over every issue and fold the findings into per-issue health."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from jira_chase.config import Settings
from jira_chase.model import Finding, Health, Issue, Severity
from jira_chase.rules import FAMILIES, RuleContext, Subject
from jira_chase.timeline import Timeline, build_timeline


@dataclass(frozen=True)
class Verdict:
    """One issue's judged state: its findings (worst first) and overall health."""

    issue: Issue
    timeline: Timeline
    findings: tuple[Finding, ...]

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    @property
    def health(self) -> Health:
        return Health.from_severity(self.worst)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted({f.family for f in self.findings}))


@dataclass(frozen=True)
class Evaluation:
    now: datetime
    verdicts: tuple[Verdict, ...]

    def unhealthy(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.findings]

    def by_key(self) -> dict[str, Verdict]:
        return {v.issue.key: v for v in self.verdicts}


def evaluate(issues: Iterable[Issue], settings: Settings, now: datetime) -> Evaluation:
    """Judge every issue as of `now`. Pure: same inputs, same evaluation."""
    ctx = RuleContext.build(settings, now)
    subjects = [
        Subject(issue, build_timeline(issue, ctx.steps, now))
        for issue in sorted(issues, key=lambda i: _key_order(i.key))
    ]
    by_issue: dict[str, list[Finding]] = {s.issue.key: [] for s in subjects}
    for rule in FAMILIES.values():
        for finding in rule(subjects, ctx):
            by_issue[finding.issue_key].append(finding)
    verdicts = []
    for subject in subjects:
        findings = sorted(
            by_issue[subject.issue.key], key=lambda f: (-f.severity, f.family, f.rule)
        )
        verdicts.append(Verdict(subject.issue, subject.timeline, tuple(findings)))
    return Evaluation(now, tuple(verdicts))


def _key_order(key: str) -> tuple[str, int, str]:
    project, _, number = key.rpartition("-")
    return (project, int(number), key) if number.isdigit() else (key, 0, key)
