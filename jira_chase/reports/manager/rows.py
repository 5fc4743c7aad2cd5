"""The rows the report's sections share: an issue's link, a step's row, a week's
throughput, a flagged issue's row and the order flagged issues are listed in, and how
people are named (or not: `report.name_people`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from jira_chase.config.settings import Settings
from jira_chase.engine.evaluate import Verdict
from jira_chase.engine.model import Health
from jira_chase.engine.rules.values import FlowMetrics
from jira_chase.engine.timeline import Calendar


def issue_url(settings: Settings, key: str) -> str:
    """Where a person opens the issue in the tracker."""
    if settings.tracker == "jira":
        assert settings.jira is not None
        return f"{settings.jira.url.rstrip('/')}/browse/{key}"
    assert settings.zentao is not None
    kind, _, number = key.partition("-")
    return f"{settings.zentao.url.rstrip('/')}/index.php?m={kind}&f=view&{kind}ID={number}"


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def step_rows(metrics: FlowMetrics) -> list[dict[str, Any]]:
    """Each workflow step now and over the window."""
    return [
        {
            "name": s.name,
            "waiting": s.waiting,
            "wip": s.wip,
            "wip_limit": s.wip_limit,
            "p85_days": rounded(s.p85_days),
            "limit_days": s.limit_days,
            "breaches": s.breaches,
            "over_limit": s.over_limit,
            "share_of_cycle_time": rounded(s.share_of_cycle_time, 3),
        }
        for s in metrics.steps
    ]


def bottleneck_row(metrics: FlowMetrics) -> dict[str, Any] | None:
    if metrics.bottleneck is None:
        return None
    top = next(s for s in metrics.steps if s.name == metrics.bottleneck)
    return {"step": top.name, "share_of_cycle_time": rounded(top.share_of_cycle_time, 3)}


def throughput_rows(metrics: FlowMetrics, cal: Calendar) -> list[dict[str, Any]]:
    """Issues finished per week of the window; none when the count is unknown (issues
    finished at times nobody knows), rather than zeros."""
    if metrics.throughput_per_week is None:
        return []
    weeks = len(metrics.weekly_throughput)
    return [
        {
            "week_ending": cal.local_date(
                metrics.window_end - timedelta(weeks=weeks - 1 - i)
            ).isoformat(),
            "finished": count,
        }
        for i, count in enumerate(metrics.weekly_throughput)
    ]


def key_order(key: str) -> tuple[str, int, str]:
    """Issue keys as people count them: APP-9 before APP-10."""
    project, _, number = key.rpartition("-")
    return (project, int(number), key) if number.isdigit() else (key, 0, key)


def severity_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Flagged rows, most severe first: off track before at risk, then more findings,
    then the longest in its step, then by key."""
    age = row["age_days"]
    return (-row["severity"], -len(row["findings"]), age is None, -(age or 0.0),
            key_order(row["key"]))  # fmt: skip


class ReportPeople:
    """How the report names a person: by name with `report.name_people`, else as
    "person 1", "person 2" in the order first asked (one number per person); and the
    texts the rules wrote (a finding naming a blocker's assignee) without the names of
    the people of the scope (`names`: assignees, reporters, linked issues' assignees)."""

    def __init__(self, named: bool, names: Iterable[str] = ()):
        self.named = named
        self._numbers: dict[str, int] = {}
        known = sorted({n for n in names if n.strip()}, key=len, reverse=True)
        self._names = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in known) + r")(?!\w)")
            if known and not named
            else None
        )

    def call(self, person_id: str, name: str) -> str:
        if self.named:
            return name
        number = self._numbers.setdefault(person_id, len(self._numbers) + 1)
        return f"person {number}"

    def text(self, said: str) -> str:
        """A text the rules wrote, with each person's name as "someone" unless naming."""
        return said if self._names is None else self._names.sub("someone", said)


def people_of(verdicts: Iterable[Verdict], named: bool) -> ReportPeople:
    """The `ReportPeople` of a scope: every name its issues and their links carry."""
    names: set[str] = set()
    for verdict in verdicts:
        issue = verdict.issue
        for person in (issue.assignee, issue.reporter):
            if person is not None:
                names.add(person.name)
        names.update(link.assignee for link in issue.links if link.assignee)
    return ReportPeople(named, names)


def flagged_row(
    verdict: Verdict,
    team: str,
    settings: Settings,
    cal: Calendar,
    now: datetime,
    people: ReportPeople,
) -> dict[str, Any]:
    """One flagged issue: where it is, how long it has been in its step, what was found."""
    issue, timeline = verdict.issue, verdict.timeline
    entered = timeline.current_step_entry()
    age = cal.days_between(entered, now) if entered is not None and timeline.known else None
    named = people.named and issue.assignee is not None
    return {
        "key": issue.key,
        "url": issue_url(settings, issue.key),
        "summary": issue.summary,
        "status": issue.status,
        "team": team,
        "step": timeline.current.step,
        "assignee": issue.assignee.name if named and issue.assignee else None,
        "health": verdict.health.value,
        "severity": 2 if verdict.health is Health.OFF_TRACK else 1,
        "families": list(verdict.families),
        "findings": [people.text(f.message) for f in verdict.findings],
        "age_days": rounded(age),
    }


def red_line_rows(
    verdicts: Iterable[Verdict], settings: Settings, people: ReportPeople
) -> list[dict[str, Any]]:
    return [
        {
            "key": v.issue.key,
            "url": issue_url(settings, v.issue.key),
            "summary": v.issue.summary,
            "rule": f.rule,
            "message": people.text(f.message),
        }
        for v in verdicts
        for f in v.findings
        if f.family == "redline"
    ]


def blocker_rows(verdicts: Iterable[Verdict], settings: Settings) -> list[dict[str, Any]]:
    """Each issue that blocks the flagged ones long enough for a finding, with them."""
    named: dict[str, dict[str, Any]] = {}
    blocks: dict[str, set[str]] = {}
    for verdict in verdicts:
        for finding in verdict.findings:
            evidence = dict(finding.evidence)
            blocker = evidence.get("blocked by")
            if finding.family != "cooperation" or not blocker:
                continue
            named.setdefault(blocker, {
                "blocker": blocker,
                "url": issue_url(settings, blocker),
                "project": evidence.get("blocker project"),
                "status": evidence.get("blocker status"),
            })  # fmt: skip
            blocks.setdefault(blocker, set()).add(verdict.issue.key)
    return [
        {**named[key], "blocks": sorted(blocks[key], key=key_order)}
        for key in sorted(named, key=key_order)
    ]
