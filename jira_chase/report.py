"""Render a run for people (terminal text) and machines (JSON).

The JSON document (`plan --json`, `sync --json`) is a documented contract; see the
README section "The plan as JSON".
"""

from __future__ import annotations

from typing import Any

from jira_chase.model import Health
from jira_chase.sync import RunResult

JSON_FORMAT = "jira-chase-run/1"


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
            "requests": result.stats.requests,
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
    if unhealthy and not brief:
        lines += ["", "Findings"]
        for verdict in unhealthy:
            for finding in verdict.findings:
                lines.append(
                    f"  {verdict.issue.key:<10} {finding.severity.label:<8} "
                    f"{finding.family:<11} {finding.message}"
                )
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
            f"{counts['failed']} failed; {result.stats.requests} requests to the tracker.",
        ]
        for op, error in result.failed:
            lines.append(f"  failed: {op.issue_key} ({op.reason}): {error}")
    return "\n".join(lines)
