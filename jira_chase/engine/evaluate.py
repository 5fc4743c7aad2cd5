"""Run the enabled rules over every issue and fold the findings into per-issue health;
measure the team's flow and goals and judge them as a whole."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from jira_chase.config.settings import Settings
from jira_chase.engine.gc_pause import gc_paused
from jira_chase.engine.model import Finding, Health, Issue, Severity, TeamFinding
from jira_chase.engine.rules import (
    CAUSE_LABELS,
    FAMILIES,
    MAX_CAUSES,
    NOTE_FAMILIES,
    READS_INTERVALS,
    RuleContext,
    Subject,
    cause,
    cooperation,
    focus,
    goals,
    hygiene,
    metrics,
    skills,
    steps,
    stuck,
    waits,
)
from jira_chase.engine.rules.values import WEEK, FlowMetrics, GoalStatus
from jira_chase.engine.teams import Teams, assign, unmatched
from jira_chase.engine.timeline import Timeline, build_timeline, release, settled_timeline

SEVERITY_NAMES = {"warn": Severity.WARN, "critical": Severity.CRITICAL}


@dataclass(frozen=True, slots=True)
class Verdict(Subject):
    """One issue's judged state: its findings (worst first) and overall health.

    An evaluation hands the rules its verdicts as the subjects they judge, and gives
    each its findings once all are in (the one time a verdict changes)."""

    findings: tuple[Finding, ...] = ()
    #: What the rules found on the issue that is for the team to act on (hygiene):
    #: shown by `explain`, the JSON and the report; no label, no line in its comment.
    notes: tuple[Finding, ...] = ()

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    @property
    def health(self) -> Health:
        return Health.from_severity(self.worst)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted({f.family for f in self.findings}))

    @property
    def causes(self) -> tuple[str, ...]:
        """The cause labels (without the prefix) of its findings: one per kind of thing
        to act on, at most `MAX_CAUSES` (the most severe, then in `CAUSE_LABELS`
        order), shown in that order."""
        worst: dict[str, int] = {}
        for finding in self.findings:
            name = cause(finding)
            worst[name] = max(worst.get(name, 0), int(finding.severity))
        ranked = sorted(worst, key=lambda name: (-worst[name], CAUSE_LABELS.index(name)))
        kept = set(ranked[:MAX_CAUSES])
        return tuple(name for name in CAUSE_LABELS if name in kept)


#: Rule families that read an issue's status history, and what they could not judge
#: without it (in the words the run summary uses).
HISTORY_RULES = {
    "stalled": "time in step",
    "redline": "required and skipped steps, reopens",
    "aging": "aging",
    "stale": "stale (activity)",
    "metrics": "cycle time, throughput, reopen rate",
}


@dataclass(frozen=True)
class Coverage:
    """What the run could not judge, and what the configuration names that the scope
    does not have: said in the run summary and by `check`, never a finding.

    `unknown_history`: issues whose status history is unknown (they left the status
    they were created in, but the tracker shows no status change); `no_history`: no
    issue in scope came with any history at all; `skipped_rules`: the enabled rules
    that could not judge those issues; `unmapped`: statuses met in the scope (now or in
    the history) that no step, done or cancelled status names -> issues with them;
    `exempt`: issues not judged because of `rules.exempt_labels`; `unused`: config keys
    naming a type, priority or project no issue in scope has."""

    unknown_history: tuple[str, ...] = ()
    no_history: bool = False
    skipped_rules: tuple[str, ...] = ()
    unmapped: Mapping[str, int] = field(default_factory=dict)
    exempt: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    #: Waits between teams whose start is not known (no link date, no waiting status).
    unknown_waits: int = 0

    def lines(self, total: int) -> list[str]:
        """One warning line per gap, for people."""
        out = []
        if self.no_history and self.unknown_history:
            out.append(
                "the tracker returned no change history for any issue in scope (likely "
                "cause: the bot account may not see issue history, or a proxy strips it); "
                "rules that need history did not judge"
            )
        if self.unknown_history:
            shown = ", ".join(self.unknown_history[:5])
            more = (
                f" and {len(self.unknown_history) - 5} more"
                if len(self.unknown_history) > 5
                else ""
            )
            out.append(
                f"{len(self.unknown_history)} of {total} issues have no status history "
                f"({shown}{more}): not judged by {'; '.join(self.skipped_rules) or 'no rule'}"
            )
        if self.unmapped:
            names = ", ".join(f"{name} ({count})" for name, count in sorted(self.unmapped.items()))
            out.append(
                f"statuses in scope that no workflow step, done or cancelled status names: "
                f"{names} (they count as outside the workflow)"
            )
        if self.exempt:
            out.append(
                f"{len(self.exempt)} issues not judged: they carry a label in "
                f"rules.exempt_labels ({', '.join(self.exempt[:5])}"
                f"{' …' if len(self.exempt) > 5 else ''})"
            )
        out += self.unused
        if self.unknown_waits:
            out.append(
                f"{self.unknown_waits} waits between teams have no known start (no link date "
                "in the history, no waiting status): counted open, without a duration"
            )
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "unknown_history": list(self.unknown_history),
            "no_history": self.no_history,
            "skipped_rules": list(self.skipped_rules),
            "unmapped_statuses": dict(sorted(self.unmapped.items())),
            "exempt": list(self.exempt),
            "unused_config_names": list(self.unused),
            "waits_without_start": self.unknown_waits,
        }


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
    coverage: Coverage = field(default_factory=Coverage)
    #: Of the issues finished in the window, how many look like the process (None when
    #: the `hygiene` family is disabled).
    process: hygiene.ProcessShare | None = None
    #: Waits between the teams, both ways (None when `cooperation` is disabled).
    waits: waits.TeamWaits | None = None
    #: Each issue's team (`[[teams]]`, or its project) and the teams in their order.
    teams: Teams = field(default_factory=Teams)

    def unhealthy(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.findings]

    def by_key(self) -> dict[str, Verdict]:
        return {v.issue.key: v for v in self.verdicts}


def health_counts(evaluation: Evaluation) -> dict[str, int]:
    """Issues per health, every health present (healthy, at-risk, off-track)."""
    counts = Counter(v.health.value for v in evaluation.verdicts)
    return {health.value: counts.get(health.value, 0) for health in Health}


def family_counts(evaluation: Evaluation) -> dict[str, int]:
    """Unhealthy issues per rule family (an issue counts once per family), most first."""
    counts = Counter(family for v in evaluation.unhealthy() for family in v.families)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def evaluate(
    issues: Iterable[Issue], settings: Settings, now: datetime, *, bot_id: str | None = None
) -> Evaluation:
    """Judge every issue as of `now`. Pure: same inputs, same evaluation.

    `bot_id` is the tracker id of the account the run signs in as: its own changes and
    comments never count as activity (stale). Families in `rules.disabled` do not run;
    findings below `rules.min_severity` (or the family's `rules.family_min_severity`)
    are dropped.
    """
    with gc_paused():
        return _evaluate(issues, settings, now, bot_id)


def _evaluate(
    issues: Iterable[Issue], settings: Settings, now: datetime, bot_id: str | None
) -> Evaluation:
    ctx = RuleContext.build(settings, now, bot_id=bot_id)
    # Issues finished and unchanged since before the metrics window get timelines that
    # build their intervals only if asked (few rules read any of them: see `_settled`).
    window_start = now - settings.metrics.window_weeks * WEEK
    steps_map = ctx.steps
    ordered = sorted(issues, key=lambda i: _key_order(i.key))
    settled = [settled_timeline(issue, steps_map, now, window_start) for issue in ordered]
    # The others' intervals are built together (see `release`).
    subjects = [
        Verdict(issue, timeline or build_timeline(issue, steps_map, now))
        for issue, timeline in zip(ordered, settled)
    ]
    del settled
    teams = assign(ordered, settings)
    del ordered
    ctx = replace(ctx, teams=teams)
    flow = metrics.measure(subjects, ctx)
    between = (
        None
        if "cooperation" in settings.rules.disabled
        else (waits.team_waits(subjects, ctx, window_start))
    )
    ctx = replace(ctx, metrics=flow, waits=between)
    goal_statuses = tuple(goals.judge_goals(subjects, ctx))
    ctx = replace(ctx, goals=goal_statuses)

    # Issues carrying an exempt label are not judged (their labels then come off).
    exempt_labels = {label.casefold() for label in settings.rules.exempt_labels}
    exempt = {
        s.issue.key
        for s in (subjects if exempt_labels else ())
        if exempt_labels & {x.casefold() for x in s.issue.labels}
    }
    judged = [s for s in subjects if s.issue.key not in exempt] if exempt else subjects
    # Issues finished long ago are not judged issue by issue: whatever a rule found,
    # `_close_finished` would clear it, and they are outside every window.
    active = [s for s in judged if not _settled(s.timeline, ctx, window_start)]
    ctx = replace(ctx, scope=tuple(judged))

    # The families that read whole histories run first; then every timeline drops its
    # intervals (built again if asked: explain, report), so that the findings of the
    # rest do not pile up on top of every issue's history.
    disabled = settings.rules.disabled
    enabled = [
        name
        for name in FAMILIES
        if name not in disabled and not (name in stuck.PARTS and stuck.FAMILY in disabled)
    ]
    enabled.sort(key=lambda name: name not in READS_INTERVALS)
    released = False
    by_issue: dict[str, list[Finding]] = {}  # (only issues with findings)
    kept: list[Finding] = []
    process = None
    for name in enabled:
        if not released and name not in READS_INTERVALS:
            release([subject.timeline for subject in subjects])
            released = True
        found = FAMILIES[name](active, ctx)
        if name == "hygiene":
            process = hygiene.measure_process(judged, ctx, found)
        for finding in found:
            if _reported(finding.family, finding.severity, settings):
                listed = by_issue.get(finding.issue_key)
                if listed is None:
                    by_issue[finding.issue_key] = [finding]
                else:
                    listed.append(finding)
                if finding.family not in NOTE_FAMILIES:
                    kept.append(finding)
    if not released:
        release([subject.timeline for subject in subjects])
    # (the notes expire with the findings: a finished issue keeps both for a while)
    _close_finished(judged, by_issue, ctx)
    notes = {key: _fold(found, settings) for key, found in by_issue.items() if found}
    by_issue = {key: issue_level for key, (issue_level, _) in notes.items() if issue_level}
    noted = [note for _, issue_notes in notes.values() for note in issue_notes]

    team: list[TeamFinding] = []
    if "wip" not in settings.rules.disabled:
        team += steps.team_wip(judged, ctx)
    if "focus" not in settings.rules.disabled:
        team += focus.team_focus(judged, ctx)
    if "goal" not in settings.rules.disabled:
        team += goals.team_goals(goal_statuses)
    if "metrics" not in settings.rules.disabled:
        team += metrics.team_thresholds(flow, ctx)
    if "skills" not in settings.rules.disabled:
        team += skills.team_skills(judged, ctx)
    if process is not None:
        team += hygiene.team_rules(noted, ctx)
        team += hygiene.team_share(process, ctx)
    team = [f for f in team if _reported(f.family, f.severity, settings)]

    for verdict in subjects:
        key = verdict.issue.key
        findings = by_issue.get(key)
        if findings:
            if len(findings) > 1:
                findings.sort(key=_finding_order)
            object.__setattr__(verdict, "findings", tuple(findings))
        folded = notes.get(key)
        if folded is not None and folded[1]:
            object.__setattr__(verdict, "notes", folded[1])
    return Evaluation(
        now=now,
        verdicts=tuple(subjects),
        team_findings=tuple(sorted(team, key=lambda f: (-f.severity, f.family, f.subject))),
        metrics=flow,
        goals=goal_statuses,
        blockers=cooperation.blockers(kept) if settings.cooperation.label_blockers else {},
        process=process,
        waits=between,
        coverage=_coverage(subjects, ctx, exempt),
        teams=teams,
    )


def _fold(findings: list[Finding], settings: Settings) -> tuple[list[Finding], tuple[Finding, ...]]:
    """One issue's findings as its assignee reads them, and its notes for the team:
    the parts of `stuck` become one finding; a missing owner that a red line already
    names is said once (by the red line); hygiene is a note."""
    issue_level: list[Finding] = []
    parts: list[Finding] = []
    notes: list[Finding] = []
    for finding in findings:
        if finding.family in NOTE_FAMILIES:
            notes.append(finding)
        elif finding.family in stuck.PARTS:
            parts.append(finding)
        else:
            issue_level.append(finding)
    if parts:
        merged = stuck.merge(parts)
        if _reported(merged.family, merged.severity, settings):
            issue_level.append(merged)
    if any(f.rule == "no-owner" for f in issue_level) and any(
        f.rule == "required-field" and dict(f.evidence).get("field", "").casefold() == "assignee"
        for f in issue_level
    ):
        issue_level = [f for f in issue_level if f.rule != "no-owner"]
    return issue_level, tuple(notes)


def _settled(timeline: Timeline, ctx: RuleContext, window_start: datetime) -> bool:
    """Finished and unchanged since before the metrics window (from `window_start`),
    and finished longer than `redlines.flag_finished_days` ago: no rule's finding would
    be kept, and no measure over the window counts it."""
    if not timeline.settled_before(window_start):
        return False
    finished = timeline.last_done_arrival()
    keep_days = ctx.settings.redlines.flag_finished_days
    return finished is not None and ctx.calendar.days_between(finished, ctx.now) > keep_days


def _close_finished(
    subjects: Sequence[Subject], by_issue: dict[str, list[Finding]], ctx: RuleContext
) -> None:
    """A finished (done or cancelled) issue keeps its findings for
    `redlines.flag_finished_days` after it finished, then recovers."""
    keep_days = ctx.settings.redlines.flag_finished_days
    for subject in subjects:
        timeline = subject.timeline
        if not timeline.is_done:
            continue
        findings = by_issue.get(subject.issue.key)
        if not findings:
            continue
        finished = timeline.last_done_arrival()
        if finished is not None and ctx.calendar.days_between(finished, ctx.now) > keep_days:
            findings.clear()


def _coverage(subjects: Sequence[Subject], ctx: RuleContext, exempt: set[str]) -> Coverage:
    settings = ctx.settings
    unknown = tuple(s.issue.key for s in subjects if not s.timeline.known)
    disabled = settings.rules.disabled
    skipped = tuple(text for family, text in HISTORY_RULES.items() if family not in disabled)
    unmapped: dict[str, int] = {}
    backlog = {name.casefold() for name in settings.workflow.backlog or ()}
    for subject in subjects:
        # The timeline has every status the issue was in, already classified.
        kind = subject.issue.type.casefold()
        for name in subject.timeline.outside_statuses():
            folded = name.casefold()
            if folded in backlog or f"{kind}:{folded}" in backlog:
                continue
            unmapped[name] = unmapped.get(name, 0) + 1
    named: list[tuple[str, str, str]] = []
    for i, rf in enumerate(settings.redlines.required_fields):
        if rf.when_type is not None:
            named.append((f"redlines.required_fields[{i}].when_type", "type", rf.when_type))
        if rf.when_priority is not None:
            key = f"redlines.required_fields[{i}].when_priority"
            named.append((key, "priority", rf.when_priority))
    for i, override in enumerate(settings.overrides):
        for what in ("type", "priority", "project"):
            wanted = getattr(override.when, what)
            for name in [wanted] if isinstance(wanted, str) else wanted or []:
                named.append((f"overrides[{i}].when.{what}", what, name))
    unused: list[str] = []
    if subjects and named:
        seen = {
            "type": {t.casefold() for t in {s.issue.type for s in subjects}},
            "priority": {p.casefold() for p in {s.issue.priority for s in subjects} if p},
            "project": {p.casefold() for p in {s.issue.project for s in subjects}},
        }
        for key, what, name in named:
            if name.casefold() not in seen[what]:
                unused.append(f"{key} names {what} {name!r}, which no issue in scope has")
    if subjects and ctx.teams is not None:
        unused += unmatched(ctx.teams, settings)
    return Coverage(
        unknown_history=unknown,
        no_history=bool(subjects) and not any(s.issue.history for s in subjects),
        skipped_rules=skipped if unknown else (),
        unmapped=unmapped,
        exempt=tuple(s.issue.key for s in subjects if s.issue.key in exempt),
        unused=tuple(dict.fromkeys(unused)),
        unknown_waits=sum(1 for w in ctx.waits.waits if w.start is None) if ctx.waits else 0,
    )


def _finding_order(finding: Finding) -> tuple[int, str, str]:
    """Worst first, then by family and rule."""
    return (-finding.severity, finding.family, finding.rule)


def _reported(family: str, severity: Severity, settings: Settings) -> bool:
    rules = settings.rules
    floor = rules.family_min_severity.get(family, rules.min_severity)
    return severity >= SEVERITY_NAMES[floor]


def _key_order(key: str) -> tuple[str, int, str]:
    project, _, number = key.rpartition("-")
    return (project, int(number), key) if number.isdigit() else (key, 0, key)
