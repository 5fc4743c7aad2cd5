"""Run the enabled rules over every issue and fold the findings into per-issue health;
measure the team's flow and goals and judge them as a whole."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from jira_chase.config import Settings
from jira_chase.model import Finding, Health, Issue, Severity, TeamFinding
from jira_chase.rules import FAMILIES, RuleContext, Subject, cooperation, goals, metrics, steps
from jira_chase.rules.goals import GoalStatus
from jira_chase.rules.metrics import FlowMetrics
from jira_chase.timeline import Timeline, build_timeline

SEVERITY_NAMES = {"warn": Severity.WARN, "critical": Severity.CRITICAL}


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
    """A run's judgement.

    `verdicts`: one per issue in scope. `team_findings`: findings about the team's
    process as a whole (never labels). `metrics`: the core flow metrics, per-step
    numbers and the bottleneck. `goals`: each goal's checkpoint status and forecast.
    `blockers`: when `cooperation.label_blockers` is on, the key of every issue (usually
    of another project, outside the scope) that blocks an issue in scope long enough
    for a cooperation finding -> those findings.
    """

    now: datetime
    verdicts: tuple[Verdict, ...]
    team_findings: tuple[TeamFinding, ...] = ()
    metrics: FlowMetrics | None = None
    goals: tuple[GoalStatus, ...] = ()
    blockers: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)

    def unhealthy(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.findings]

    def by_key(self) -> dict[str, Verdict]:
        return {v.issue.key: v for v in self.verdicts}


def evaluate(
    issues: Iterable[Issue], settings: Settings, now: datetime, *, bot_id: str | None = None
) -> Evaluation:
    """Judge every issue as of `now`. Pure: same inputs, same evaluation.

    `bot_id` is the tracker id of the account the run signs in as: its own changes and
    comments never count as activity (stale). Families in `rules.disabled` do not run;
    findings below `rules.min_severity` (or the family's `rules.family_min_severity`)
    are dropped.
    """
    with _gc_paused():
        return _evaluate(issues, settings, now, bot_id)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Judging makes millions of small records and no reference cycles: spare the cyclic
    collector its walks over them (at 100,000 issues, seconds of CPU)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _evaluate(
    issues: Iterable[Issue], settings: Settings, now: datetime, bot_id: str | None
) -> Evaluation:
    ctx = RuleContext.build(settings, now, bot_id=bot_id)
    subjects = [
        Subject(issue, build_timeline(issue, ctx.steps, now))
        for issue in sorted(issues, key=lambda i: _key_order(i.key))
    ]
    flow = metrics.measure(subjects, ctx)
    ctx = replace(ctx, metrics=flow)
    goal_statuses = tuple(goals.judge_goals(subjects, ctx))
    ctx = replace(ctx, goals=goal_statuses)

    enabled = [name for name in FAMILIES if name not in settings.rules.disabled]
    by_issue: dict[str, list[Finding]] = {s.issue.key: [] for s in subjects}
    kept: list[Finding] = []
    for name in enabled:
        for finding in FAMILIES[name](subjects, ctx):
            if _reported(finding.family, finding.severity, settings):
                by_issue[finding.issue_key].append(finding)
                kept.append(finding)

    team: list[TeamFinding] = []
    if "wip" not in settings.rules.disabled:
        team += steps.team_wip(subjects, ctx)
    if "goal" not in settings.rules.disabled:
        team += goals.team_goals(goal_statuses)
    if "metrics" not in settings.rules.disabled:
        team += metrics.team_thresholds(flow, ctx)
    team = [f for f in team if _reported(f.family, f.severity, settings)]

    verdicts = []
    for subject in subjects:
        findings = sorted(
            by_issue[subject.issue.key], key=lambda f: (-f.severity, f.family, f.rule)
        )
        verdicts.append(Verdict(subject.issue, subject.timeline, tuple(findings)))
    return Evaluation(
        now=now,
        verdicts=tuple(verdicts),
        team_findings=tuple(sorted(team, key=lambda f: (-f.severity, f.family, f.subject))),
        metrics=flow,
        goals=goal_statuses,
        blockers=cooperation.blockers(kept) if settings.cooperation.label_blockers else {},
    )


def _reported(family: str, severity: Severity, settings: Settings) -> bool:
    rules = settings.rules
    floor = rules.family_min_severity.get(family, rules.min_severity)
    return severity >= SEVERITY_NAMES[floor]


def _key_order(key: str) -> tuple[str, int, str]:
    project, _, number = key.rpartition("-")
    return (project, int(number), key) if number.isdigit() else (key, 0, key)
