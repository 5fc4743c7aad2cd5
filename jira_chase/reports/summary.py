"""Render a run for people (terminal text) and machines (JSON).

The JSON document (`plan --json`, `sync --json`) is a documented contract; see the
README section "The plan as JSON".
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jira_chase.config.settings import Settings
from jira_chase.engine.evaluate import Evaluation, Verdict, family_counts, health_counts
from jira_chase.engine.model import Finding, Health
from jira_chase.engine.plan import LABELS, project_of
from jira_chase.engine.rules.context import fmt_days, fmt_share, fmt_time
from jira_chase.run.pipeline import RunResult

JSON_FORMAT = "jira-chase-run/1"


def team_to_dict(evaluation: Evaluation) -> dict[str, Any]:
    """The team-level judgement: core metrics, steps, bottleneck, goals, findings."""
    metrics = evaluation.metrics
    bottleneck = None
    if metrics is not None and metrics.bottleneck is not None:
        share = next(s.share_of_cycle_time for s in metrics.steps if s.name == metrics.bottleneck)
        bottleneck = {"step": metrics.bottleneck, "share_of_cycle_time": round(share or 0, 3)}
    return {
        "metrics": metrics.to_dict() if metrics is not None else None,
        "steps": [s.to_dict() for s in metrics.steps] if metrics is not None else [],
        "bottleneck": bottleneck,
        "goals": [g.to_dict() for g in evaluation.goals],
        "findings": [f.to_dict() for f in evaluation.team_findings],
        "process": evaluation.process.to_dict() if evaluation.process is not None else None,
        "blockers": {
            key: sorted({f.issue_key for f in found}) for key, found in evaluation.blockers.items()
        },
        "waits": evaluation.waits.to_dict() if evaluation.waits is not None else None,
    }


def _num(value: float | None, fmt: str = "{:g}") -> str:
    return "-" if value is None else fmt.format(round(value, 1))


def render_team(evaluation: Evaluation) -> list[str]:
    """The team summary for a terminal: core metrics, steps, goals, team findings."""
    metrics = evaluation.metrics
    lines: list[str] = []
    if metrics is not None:
        cycle = metrics.cycle_time
        cycle_text = (
            f"p50 {fmt_days(cycle.p50)}, p85 {fmt_days(cycle.p85)}, p95 {fmt_days(cycle.p95)} "
            f"({cycle.count} finished)"
            if cycle is not None
            else "unknown (no finish time is known)"
            if metrics.cycle_time_unknown()
            else "no finished issues"
        )
        if metrics.cancelled:
            cycle_text += f"; {metrics.cancelled} cancelled (not counted)"
        data = ""
        if metrics.young and metrics.data_start is not None:
            data = (
                f"; data since {metrics.data_start.date()} ({round(metrics.data_weeks, 1):g} "
                "weeks): throughput counts those weeks"
            )

        def share(value: float | None) -> str:
            return "-" if value is None else fmt_share(value)

        name_width = max(
            [len("step")] + [len(s.name) + (10 if s.waiting else 0) for s in metrics.steps]
        )

        lines += [
            "",
            f"Team — last {metrics.window_weeks} weeks, in {metrics.unit}{data}",
            f"  cycle time {cycle_text}",
            f"  throughput {metrics.throughput_text()} "
            f"({', '.join(str(n) for n in metrics.weekly_throughput)}) · WIP {metrics.wip} "
            f"(aging: {len(metrics.aging_at_risk)} at risk, {len(metrics.aging_off_track)} "
            f"off track) · reopen rate {share(metrics.reopen_rate)} · blocked "
            f"{share(metrics.blocked_share)} · flow efficiency {share(metrics.flow_efficiency)}",
            f"  {'step':<{name_width}} {'WIP':>4} {'limit':>6} {'p85':>7} {'limit days':>11} "
            f"{'breaches':>9} {'over now':>9} {'share':>7}",
        ]
        for step in metrics.steps:
            name = step.name + (" (waiting)" if step.waiting else "")
            lines.append(
                f"  {name:<{name_width}} {step.wip:>4} "
                f"{_num(step.wip_limit):>6} {_num(step.p85_days):>7} {_num(step.limit_days):>11} "
                f"{step.breaches:>9} {step.over_limit:>9} {share(step.share_of_cycle_time):>7}"
            )
        if metrics.bottleneck is not None:
            top = next(s for s in metrics.steps if s.name == metrics.bottleneck)
            lines.append(
                f"  bottleneck: {top.name} ({share(top.share_of_cycle_time)} of the cycle time "
                "of the issues finished in the window)"
            )
    if evaluation.goals:
        lines += ["", "Goals"]
        for goal in evaluation.goals:
            lines.append(
                f"  {goal.name} [{goal.status}]: {round(goal.done, 1):g} of "
                f"{goal.describe(goal.total)} done ({fmt_share(goal.fraction)}), plan "
                f"{fmt_share(goal.planned_today)} today"
            )
            for checkpoint in goal.checkpoints:
                forecast = (
                    f", forecast p85 {checkpoint.forecast_p85}" if checkpoint.forecast_p85 else ""
                )
                lines.append(
                    f"    {checkpoint.name} {checkpoint.date} ({fmt_share(checkpoint.target)}): "
                    f"{checkpoint.status}{forecast} — {checkpoint.reason}"
                )
    if evaluation.process is not None:
        lines += ["", f"Process: {evaluation.process.describe()}"]
    if evaluation.team_findings:
        lines += ["", "Team findings (no labels)"]
        for finding in evaluation.team_findings:
            lines.append(
                f"  {finding.severity.label:<8} {finding.family:<11} {finding.message} "
                f"[{finding.config_key}]"
            )
    return lines


def local(moment: datetime, settings: Settings) -> datetime:
    """`moment` in the team's time zone (`calendar.timezone`)."""
    return moment.astimezone(ZoneInfo(settings.calendar.timezone))


def by_severity(evaluation: Evaluation) -> list[tuple[Verdict, Finding]]:
    """Every finding, the most severe first, then the oldest issue first."""
    pairs = [(v, f) for v in evaluation.unhealthy() for f in v.findings]
    return sorted(pairs, key=lambda p: (-p[1].severity, p[0].issue.created, p[0].issue.key))


def run_to_dict(
    result: RunResult,
    settings: Settings | None = None,
    duration: float | None = None,
    *,
    details: bool = False,
) -> dict[str, Any]:
    """The run as the documented JSON document; times in the team's time zone when
    `settings` are given, `duration` (seconds) when measured. Its `issues` are the
    unhealthy issues this run writes to (or defers), so an idle run's document stays
    small; with `details`, every unhealthy issue."""
    evaluation = result.evaluation
    unhealthy = evaluation.unhealthy()
    shown = unhealthy
    if not details:
        touched = {op.issue_key for op in (*result.plan.operations, *result.plan.deferred)}
        shown = [v for v in unhealthy if v.issue.key in touched]
    as_of = local(result.now, settings) if settings is not None else result.now
    doc: dict[str, Any] = {
        "format": JSON_FORMAT,
        "mode": result.mode,
        "as_of": as_of.isoformat(),
        "run_id": result.run_id,
        "tracker": {
            "kind": result.identity.tracker,
            "url": result.identity.url,
            "deployment": result.identity.deployment,
            "version": result.identity.version,
            "user": result.identity.user,
        },
        "summary": {
            **result.counts(),
            "off_track": sum(1 for v in unhealthy if v.health is Health.OFF_TRACK),
            "at_risk": sum(1 for v in unhealthy if v.health is Health.AT_RISK),
            "without_labels": sum(1 for v in unhealthy if not v.issue.labels_supported),
            "requests": result.stats.requests,
            "retries": result.stats.retries,
            "noisy_writes": result.stats.noisy_writes,
            "noisy_by_project": dict(sorted(result.stats.noisy_by_project.items())),
            "outcome": result.outcome,
            "families": family_counts(evaluation),
            "attention": result.attention(settings) if settings is not None else None,
            "duration_seconds": round(duration, 3) if duration is not None else None,
        },
        "issues": [
            {
                "key": v.issue.key,
                "summary": v.issue.summary,
                "status": v.issue.status,
                "assignee": v.issue.assignee.name if v.issue.assignee else None,
                "health": v.health.value,
                "findings": [f.to_dict() for f in v.findings],
            }
            for v in shown
        ],
        "details": details,
        "team": team_to_dict(evaluation),
        "coverage": evaluation.coverage.to_dict(),
        "warnings": evaluation.coverage.lines(len(evaluation.verdicts)),
        "operations": [op.to_dict() for op in result.plan.operations],
        "deferred": [op.to_dict() for op in result.plan.deferred],
        "held_back": [op.to_dict() for op in result.plan.held_back],
        "refused_projects": refusals_to_dict(result, settings),
    }
    if result.mode == "sync":
        doc["applied"] = [op.to_dict() for op in result.applied]
        doc["failed"] = [{**op.to_dict(), "error": error} for op, error in result.failed]
    return doc


def _finding_line(verdict: Verdict, finding: Finding) -> str:
    return (
        f"  {verdict.issue.key:<10} {finding.severity.label:<8} {finding.family:<11} "
        f"{finding.message}"
    )


def summary_lines(
    result: RunResult, settings: Settings, *, duration: float, details: bool = False
) -> list[str]:
    """The run for people: who and when, counts by health and family, the team in a
    line, the ten most severe findings, the writes, what it cost. `details` adds every
    finding, the team tables and every operation."""
    counts = result.counts()
    evaluation = result.evaluation
    ident = result.identity
    health = health_counts(evaluation)
    lines = [
        f"jira-chase {result.mode} — {ident.tracker} {ident.deployment} {ident.url} as "
        f"{ident.user}, as of {fmt_time(local(result.now, settings))}",
        f"Judged {counts['issues']} issues: {health['healthy']} healthy, "
        f"{health['at-risk']} at-risk, {health['off-track']} off-track; "
        f"{counts['findings']} findings.",
    ]
    families = family_counts(evaluation)
    if families:
        lines.append("  by family: " + " · ".join(f"{name} {n}" for name, n in families.items()))
    lines += [f"warning: {line}" for line in evaluation.coverage.lines(counts["issues"])]
    unlabelled = sum(1 for v in evaluation.unhealthy() if not v.issue.labels_supported)
    if unlabelled:
        lines.append(
            f"  {unlabelled} of them cannot carry labels in this tracker (ZenTao tasks have "
            "no keywords): their managed comment carries the findings."
        )
    lines += _team_brief(evaluation)
    lines += attention_lines(result, settings)
    ranked = by_severity(evaluation)
    if details:
        if ranked:
            lines += ["", "Findings (most severe first, then the oldest issue)"]
            lines += [_finding_line(v, f) for v, f in ranked]
        lines += render_team(evaluation)
    elif ranked:
        shown = ranked[:10]
        more = "; --details or --json for all" if len(ranked) > len(shown) else ""
        lines += ["", f"Most severe findings ({len(shown)} of {len(ranked)}{more})"]
        lines += [_finding_line(v, f) for v, f in shown]
    lines += ["", writes_line(result, settings)]
    lines += refusal_lines(result, settings)
    lines += render_noisy(result)
    if details:
        lines += [f"  {i:>3}. {op.describe()}" for i, op in enumerate(result.plan.operations, 1)]
    lines.append(
        f"Tracker: {result.stats.requests} requests, {result.stats.retries} retried; "
        f"took {duration:.1f} s."
    )
    if result.mode == "plan":
        lines.append(
            "Dry run: nothing was written. `jira-chase sync` performs exactly these"
            + ("." if details else " (`plan --details` lists them).")
        )
    return lines


def _team_brief(evaluation: Evaluation) -> list[str]:
    """The team in one line or two: flow metrics, goal statuses, team findings."""
    lines: list[str] = []
    metrics = evaluation.metrics
    if metrics is not None:
        cycle = metrics.cycle_time
        parts = [
            f"cycle time p85 {fmt_days(cycle.p85)}"
            if cycle is not None
            else "cycle time unknown"
            if metrics.cycle_time_unknown()
            else "nothing finished",
            f"throughput {metrics.throughput_text()}",
            f"WIP {metrics.wip}",
        ]
        if metrics.bottleneck is not None:
            parts.append(f"bottleneck {metrics.bottleneck}")
        lines.append(f"Team (last {metrics.window_weeks} weeks): " + " · ".join(parts))
    if evaluation.goals:
        lines.append("Goals: " + " · ".join(f"{g.name} {g.status}" for g in evaluation.goals))
    if evaluation.waits is not None:
        lines += [f"Waits {line}" for line in evaluation.waits.lines()]
    if evaluation.team_findings:
        worst = max(evaluation.team_findings, key=lambda f: f.severity)
        more = len(evaluation.team_findings) - 1
        lines.append(f"Team findings: {worst.message}" + (f" (and {more} more)" if more else ""))
    return lines


def attention_lines(result: RunResult, settings: Settings) -> list[str]:
    """What the run costs the team's attention, in a line; on the sync that takes the
    baseline (or the plan before it), what it writes and what it holds back."""
    load = result.attention(settings)
    labels, share = load["labels_per_flagged_issue"], load["flagged_share"]
    assert isinstance(labels, dict) and isinstance(share, float)
    created = "to create" if result.mode == "plan" else "created"
    line = (
        f"Attention: {load['flagged_unfinished']} of {load['unfinished']} unfinished issues "
        f"flagged ({fmt_share(share)}); our labels per flagged issue: median "
        f"{labels['median']:g}, max {labels['max']}; {load['comments_created']} comments "
        f"{created}"
    )
    if load["comments_withheld"]:
        line += (
            f" ({load['comments_withheld']} flagged issues get no comment until a finding "
            "is new to them: writeback.baseline)"
        )
    lines = [line + "."]
    if result.baseline_run and settings.writeback.baseline and settings.writeback.comments:
        labels = sum(1 for op in result.plan.operations if op.kind == LABELS)
        will = "takes" if result.mode == "sync" else "will take"
        lines.append(
            f"First sync from this state file: it {will} the baseline — {labels} label "
            f"changes, no comment; with writeback.baseline = false it would also create "
            f"{load['comments_withheld']} comments."
        )
    return lines


def writes_line(result: RunResult, settings: Settings) -> str:
    counts = result.counts()
    budget = f"writeback.max_writes = {settings.writeback.max_writes}"
    held = f", {counts['held_back']} held back" if counts["held_back"] else ""
    if result.mode == "plan":
        return (
            f"Writes: {counts['planned']} planned, {counts['deferred']} deferred{held} ({budget})."
        )
    return (
        f"Writes: {counts['applied']} applied, {counts['deferred']} deferred, "
        f"{counts['failed']} failed of {counts['planned']} planned{held} ({budget})."
    )


def refusal_lines(result: RunResult, settings: Settings) -> list[str]:
    """Once per project, not per issue: the projects whose writes this run held back,
    and those that refused every write this run."""

    def when(moment: datetime) -> str:
        return fmt_time(local(moment, settings))

    lines: list[str] = []
    held = Counter(project_of(op.issue_key) for op in result.plan.held_back)
    for project, refusal in result.held.items():
        lines.append(
            f"Held back: project {project} refused every write at {when(refusal.at)}; retrying "
            f"after {when(refusal.retry_after)} ({held[project]} writes not made; "
            "`sync --retry-refused` tries now)."
        )
    for refusal in result.refused:
        lines.append(
            f"Project {refusal.project} refused every write this run ({refusal.writes}, HTTP "
            f"{refusal.status}): syncs hold its writes back until {when(refusal.retry_after)}. "
            "Give the bot account permission to edit and comment there, then run "
            "`jira-chase sync --retry-refused`."
        )
    return lines


def refusals_to_dict(result: RunResult, settings: Settings | None) -> list[dict[str, Any]]:
    """The projects that held writes back this run, and those refused this run."""

    def iso(moment: datetime) -> str:
        return (local(moment, settings) if settings is not None else moment).isoformat()

    held = Counter(project_of(op.issue_key) for op in result.plan.held_back)
    found = [(refusal, held[project], False) for project, refusal in result.held.items()]
    found += [(refusal, 0, True) for refusal in result.refused]
    return [
        {
            **refusal.to_dict(),
            "refused_at": iso(refusal.at),
            "retry_after": iso(refusal.retry_after),
            "held_back": count,
            "this_run": this_run,
        }
        for refusal, count, this_run in found
    ]


def outcome_line(result: RunResult, duration: float) -> str:
    """The run in one line: what `--quiet` prints."""
    counts = result.counts()
    health = health_counts(result.evaluation)
    writes = (
        f"{counts['planned']} writes planned"
        if result.mode == "plan"
        else f"{counts['applied']} writes applied, {counts['failed']} failed"
    )
    if counts["held_back"]:
        writes += f", {counts['held_back']} held back"
    return (
        f"jira-chase {result.mode} {result.outcome}: {counts['issues']} issues, "
        f"{health['at-risk']} at-risk, {health['off-track']} off-track; {writes}, "
        f"{counts['deferred']} deferred; {result.stats.requests} requests; {duration:.1f} s"
    )


def render_noisy(result: RunResult) -> list[str]:
    """The label writes that emailed watchers because the bot may not suppress that."""
    noisy = result.stats.noisy_by_project
    if not noisy:
        return []
    where = ", ".join(f"{project} {count}" for project, count in sorted(noisy.items()))
    return [
        f"{result.stats.noisy_writes} label writes could not be silent and notified watchers "
        f"({where}): grant the bot account Administer Projects in "
        f"{', '.join(sorted(noisy))} to make them silent."
    ]
