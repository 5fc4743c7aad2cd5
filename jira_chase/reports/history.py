"""Run history for people: what each run recorded (`jira-chase runs`) and why one issue
is flagged (`jira-chase explain KEY`). Pure rendering over the state store's records and
a fresh evaluation; no terminal library."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jira_chase.config.settings import Settings
from jira_chase.engine.model import Finding
from jira_chase.engine.rules.context import fmt_days, fmt_time
from jira_chase.engine.timeline import Calendar
from jira_chase.reports.summary import local
from jira_chase.run.runner import Explanation
from jira_chase.store.state import RunRecord

HISTORY_FORMAT = "jira-chase-runs/1"
EXPLAIN_FORMAT = "jira-chase-explain/1"


def _parse(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


def _when(stamp: str | None, settings: Settings) -> str:
    moment = _parse(stamp)
    return fmt_time(local(moment, settings)) if moment is not None else "-"


def run_record_to_dict(record: RunRecord, settings: Settings) -> dict[str, Any]:
    """One run for `runs --json`: times in the team's time zone, ISO with offset."""

    def iso(stamp: str | None) -> str | None:
        moment = _parse(stamp)
        return local(moment, settings).isoformat() if moment is not None else None

    return {
        "id": record.id,
        "mode": record.mode,
        "outcome": record.outcome,
        "started_at": iso(record.started_at),
        "finished_at": iso(record.finished_at),
        "as_of": iso(record.as_of),
        "duration_seconds": record.duration_seconds,
        "requests": record.requests,
        "retries": record.retries,
        "counts": {
            "issues": record.issues,
            "unhealthy": record.unhealthy,
            "findings": record.findings,
            "planned": record.planned,
            "applied": record.applied,
            "failed": record.failed,
            "deferred": record.deferred,
            "held_back": record.held_back,
        },
        "error": record.error,
        **(json.loads(record.details) if record.details else {}),
    }


def runs_to_dict(records: list[RunRecord], settings: Settings) -> dict[str, Any]:
    return {"format": HISTORY_FORMAT, "runs": [run_record_to_dict(r, settings) for r in records]}


def render_runs(records: list[RunRecord], settings: Settings) -> list[str]:
    """One line per run, newest first, and its error or team state under it."""
    if not records:
        return [f"No runs recorded yet in {settings.state.path}."]
    lines = [
        f"{'run':>5}  {'started':<20} {'mode':<4} {'outcome':<11} {'issues':>6} "
        f"{'at-risk':>7} {'off-track':>9} {'applied':>7} {'failed':>6} {'deferred':>8} "
        f"{'held-back':>9} {'requests':>8} {'seconds':>8}"
    ]
    for record in records:
        details = json.loads(record.details) if record.details else {}
        health = details.get("health", {})

        def num(value: Any) -> str:
            return "-" if value is None else str(value)

        seconds = "-" if record.duration_seconds is None else f"{record.duration_seconds:.1f}"
        lines.append(
            f"{record.id:>5}  {_when(record.started_at, settings):<20} {record.mode:<4} "
            f"{record.outcome:<11} {record.issues:>6} {num(health.get('at-risk')):>7} "
            f"{num(health.get('off-track')):>9} {record.applied:>7} {record.failed:>6} "
            f"{record.deferred:>8} {record.held_back:>9} {num(record.requests):>8} {seconds:>8}"
        )
        if record.error:
            lines.append(f"{'':>7}error: {record.error}")
        goals = details.get("goals") or {}
        if goals:
            lines.append(f"{'':>7}goals: " + " · ".join(f"{name} {s}" for name, s in goals.items()))
    return lines


# -- explain ------------------------------------------------------------------------


def _stays(explanation: Explanation, settings: Settings) -> list[dict[str, Any]]:
    calendar = Calendar(settings.calendar)
    now = explanation.now
    # Without a status history the one interval is a placeholder from creation: when
    # the issue entered its status is not known, nor how long it has been there.
    known = explanation.verdict.timeline.known
    return [
        {
            "status": interval.status,
            "step": interval.step,
            "done": interval.done,
            "known": known,
            "entered": local(interval.start, settings).isoformat() if known else None,
            "left": local(interval.end, settings).isoformat() if interval.end else None,
            "days": round(calendar.days_between(interval.start, interval.end_or(now)), 2)
            if known
            else None,
        }
        for interval in explanation.verdict.timeline.intervals
    ]


def explanation_to_dict(explanation: Explanation, settings: Settings) -> dict[str, Any]:
    verdict = explanation.verdict
    issue = verdict.issue
    return {
        "format": EXPLAIN_FORMAT,
        "as_of": local(explanation.now, settings).isoformat(),
        "key": issue.key,
        "summary": issue.summary,
        "status": issue.status,
        "assignee": issue.assignee.name if issue.assignee else None,
        "health": verdict.health.value,
        "unit": "business days" if settings.calendar.kind == "business" else "calendar days",
        "timeline": _stays(explanation, settings),
        "findings": [f.to_dict() for f in verdict.findings],
        "notes": [f.to_dict() for f in verdict.notes],
        "last_sync": (
            {
                "run": explanation.last_run.id,
                "started_at": local(
                    datetime.fromisoformat(explanation.last_run.started_at), settings
                ).isoformat(),
                "writes": [
                    {
                        "kind": op["kind"],
                        "status": op["status"],
                        "error": op["error"],
                        **json.loads(str(op["payload"])),
                    }
                    for op in explanation.last_writes
                ],
            }
            if explanation.last_run is not None
            else None
        ),
    }


def _finding_lines(findings: Sequence[Finding]) -> list[str]:
    lines = []
    for finding in findings:
        lines.append(f"  [{finding.severity.label}] {finding.family}/{finding.rule}: "
                     f"{finding.message}")  # fmt: skip
        if finding.parts:
            parts = ", ".join(f"{family}/{rule}" for family, rule in finding.parts)
            lines.append(f"      made of: {parts}")
        lines += [f"      {name}: {value}" for name, value in finding.evidence]
        lines.append(f"      threshold set by: {finding.config_key}")
    return lines


def render_explanation(explanation: Explanation, settings: Settings) -> list[str]:
    """Why the issue is (or is not) flagged: its timeline, every finding with its
    evidence and the setting behind it, and the writes of the last sync that touched it."""
    verdict = explanation.verdict
    issue = verdict.issue
    unit = "business days" if settings.calendar.kind == "business" else "days"
    owner = issue.assignee.name if issue.assignee else "nobody"
    lines = [
        f"{issue.key} \u201c{issue.summary}\u201d — {issue.status}, assigned to {owner}",
        f"Health as of {fmt_time(local(explanation.now, settings))}: {verdict.health.value}"
        f" ({len(verdict.findings)} finding{'s' if len(verdict.findings) != 1 else ''})",
        "",
        "Timeline",
    ]
    stays = _stays(explanation, settings)
    status_width = max([len("status")] + [len(s["status"]) for s in stays])
    step_width = max([len("step")] + [len(s["step"] or "-") for s in stays])
    lines.append(f"  {'status':<{status_width}}  {'step':<{step_width}}  {'entered':<20} {unit}")
    for stay, interval in zip(stays, verdict.timeline.intervals):
        step = stay["step"] or ("done" if stay["done"] else "-")
        now_mark = "  (now)" if interval.end is None else ""
        entered = fmt_time(local(interval.start, settings)) if stay["known"] else "unknown"
        days = fmt_days(stay["days"]) if stay["known"] else "unknown"
        lines.append(
            f"  {stay['status']:<{status_width}}  {step:<{step_width}}  "
            f"{entered:<20} {days}{now_mark}"
        )
    if not verdict.timeline.known:
        lines.append(
            "  (the tracker shows no status history for it: when it entered its status "
            f"is not known; it was created {fmt_time(local(issue.created, settings))})"
        )
    if verdict.findings:
        lines += ["", "Findings"]
        lines += _finding_lines(verdict.findings)
    else:
        lines += ["", "No findings: the issue is healthy."]
    if verdict.notes:
        lines += ["", "Notes for the team (no label, not in the issue's comment)"]
        lines += _finding_lines(verdict.notes)
    lines.append("")
    if explanation.last_run is None:
        lines.append("No sync has written to this issue yet.")
    else:
        run = explanation.last_run
        lines.append(
            f"Last sync that wrote to it: run {run.id} at {_when(run.started_at, settings)}"
        )
        for op in explanation.last_writes:
            payload = json.loads(str(op["payload"]))
            what = str(op["kind"])
            if op["kind"] == "labels":
                parts = [f"+{x}" for x in payload.get("add", [])]
                parts += [f"-{x}" for x in payload.get("remove", [])]
                what += " " + " ".join(parts)
            error = f": {op['error']}" if op["error"] else ""
            lines.append(f"  {what} — {op['status']}{error}")
    return lines
