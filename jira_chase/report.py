"""Render a run for people (terminal text) and machines (JSON).

The JSON document (`plan --json`, `sync --json`) is a documented contract; see the
README section "The plan as JSON".
"""

from __future__ import annotations

from typing import Any

from jira_chase.evaluate import Evaluation
from jira_chase.model import Health
from jira_chase.rules.context import fmt_days, fmt_share
from jira_chase.sync import RunResult

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
        "blockers": {
            key: sorted({f.issue_key for f in found}) for key, found in evaluation.blockers.items()
        },
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
            else "no finished issues"
        )

        def share(value: float | None) -> str:
            return "-" if value is None else fmt_share(value)

        lines += [
            "",
            f"Team — last {metrics.window_weeks} weeks, in {metrics.unit}",
            f"  cycle time {cycle_text}",
            f"  throughput {metrics.throughput_per_week:.1f}/week "
            f"({', '.join(str(n) for n in metrics.weekly_throughput)}) · WIP {metrics.wip} "
            f"(aging: {len(metrics.aging_at_risk)} at risk, {len(metrics.aging_off_track)} "
            f"off track) · reopen rate {share(metrics.reopen_rate)} · blocked "
            f"{share(metrics.blocked_share)} · flow efficiency {share(metrics.flow_efficiency)}",
            f"  {'step':<14} {'WIP':>4} {'limit':>6} {'p85':>7} {'limit days':>11} "
            f"{'breaches':>9} {'over now':>9} {'share':>7}",
        ]
        for step in metrics.steps:
            lines.append(
                f"  {step.name + (' (waiting)' if step.waiting else ''):<14} {step.wip:>4} "
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
    if evaluation.team_findings:
        lines += ["", "Team findings (no labels)"]
        for finding in evaluation.team_findings:
            lines.append(
                f"  {finding.severity.label:<8} {finding.family:<11} {finding.message} "
                f"[{finding.config_key}]"
            )
    return lines


def run_to_dict(result: RunResult) -> dict[str, Any]:
    evaluation = result.evaluation
    unhealthy = evaluation.unhealthy()
    doc: dict[str, Any] = {
        "format": JSON_FORMAT,
        "mode": result.mode,
        "as_of": result.now.isoformat(),
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
            for v in unhealthy
        ],
        "team": team_to_dict(evaluation),
        "operations": [op.to_dict() for op in result.plan.operations],
        "deferred": [op.to_dict() for op in result.plan.deferred],
    }
    if result.mode == "sync":
        doc["applied"] = [op.to_dict() for op in result.applied]
        doc["failed"] = [{**op.to_dict(), "error": error} for op, error in result.failed]
    return doc


def render_text(result: RunResult, *, max_writes: int, brief: bool = False) -> str:
    """The run for a terminal; `brief` leaves out the findings and operation lists."""
    counts = result.counts()
    evaluation = result.evaluation
    unhealthy = evaluation.unhealthy()
    off = sum(1 for v in unhealthy if v.health is Health.OFF_TRACK)
    ident = result.identity
    lines = [
        f"jira-chase {result.mode} — {ident.tracker} {ident.deployment} {ident.url} "
        f"as {ident.user}, as of {result.now.isoformat(timespec='minutes')}",
        f"Judged {counts['issues']} issues: {counts['unhealthy']} unhealthy "
        f"({off} off-track, {counts['unhealthy'] - off} at-risk), "
        f"{counts['findings']} findings.",
    ]
    unlabelled = sum(1 for v in unhealthy if not v.issue.labels_supported)
    if unlabelled:
        lines.append(
            f"{unlabelled} of them cannot carry labels in this tracker (ZenTao tasks have no "
            "keywords): their managed comment carries the findings."
        )
    if unhealthy and not brief:
        lines += ["", "Findings"]
        for verdict in unhealthy:
            for finding in verdict.findings:
                lines.append(
                    f"  {verdict.issue.key:<10} {finding.severity.label:<8} "
                    f"{finding.family:<11} {finding.message}"
                )
    if not brief:
        lines += render_team(evaluation)
    lines += [
        "",
        f"Operations: {counts['planned']} to perform, {counts['deferred']} deferred "
        f"(writeback.max_writes = {max_writes})",
    ]
    if not brief:
        for i, op in enumerate(result.plan.operations, 1):
            lines.append(f"  {i:>3}. {op.describe()}")
    if result.mode == "plan":
        lines += ["", "Dry run: nothing was written. `jira-chase sync` performs exactly these."]
    else:
        lines += [
            "",
            f"Applied {counts['applied']} of {counts['planned']} operations, "
            f"{counts['failed']} failed; {result.stats.requests} requests to the tracker, "
            f"{result.stats.retries} retried.",
        ]
        for op, error in result.failed:
            lines.append(f"  failed: {op.issue_key} ({op.reason}): {error}")
        lines += render_noisy(result)
    return "\n".join(lines)


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
