"""Trends: what each `sync` and `report` saw, kept in the state store, and the time to
recovery derived from it.

Per run the store keeps the team's state (health counts, the core metrics, each goal's
progress and checkpoint statuses) and, per issue, its health and families only where they
changed since the run before. From that sequence come *episodes*: an issue flagged
(or flagged for a family) until a later run judged it healthy (or free of that family)
again. The time to recovery is an episode's length; an issue that left the scope while
flagged never recovered and is not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jira_chase.engine.evaluate import Evaluation, family_counts, health_counts
from jira_chase.engine.model import Health
from jira_chase.engine.rules.values import percentile
from jira_chase.store.state import StateStore

#: The episode family of being unhealthy at all, whatever the families.
ANY = "any"
GONE = "gone"
_DAY = timedelta(days=1)


def team_state(evaluation: Evaluation, since_rollout: int | None = None) -> dict[str, Any]:
    """The compact team state a run keeps: counts, core metrics, goals; and how many
    issues have been unhealthy since the baseline without recovering (`since_rollout`,
    None before a sync took it)."""
    unhealthy = evaluation.unhealthy()
    metrics = evaluation.metrics
    cycle = metrics.cycle_time if metrics is not None else None
    return {
        "issues": len(evaluation.verdicts),
        "since_rollout": since_rollout,
        "off_track": sum(1 for v in unhealthy if v.health is Health.OFF_TRACK),
        "at_risk": sum(1 for v in unhealthy if v.health is Health.AT_RISK),
        "metrics": None
        if metrics is None
        else {
            "wip": metrics.wip,
            "finished": None if metrics.undated_finished else metrics.finished,
            "throughput_per_week": None
            if metrics.throughput_per_week is None
            else round(metrics.throughput_per_week, 2),
            "cycle_time_p50": round(cycle.p50, 2) if cycle else None,
            "cycle_time_p85": round(cycle.p85, 2) if cycle else None,
            "bottleneck": metrics.bottleneck,
        },
        "waits": None
        if evaluation.waits is None
        else {
            team: {
                "caused_open": evaluation.waits.caused[team].open,
                "caused_median": evaluation.waits.caused[team].to_dict()["median_days"],
                "suffered_open": evaluation.waits.suffered[team].open,
                "suffered_median": evaluation.waits.suffered[team].to_dict()["median_days"],
            }
            for team in sorted(evaluation.waits.caused)
        },
        "goals": [
            {
                "name": g.name,
                "status": g.status,
                "done": round(g.done, 2),
                "total": round(g.total, 2),
                "fraction": round(g.fraction, 3),
                "checkpoints": {c.name: c.status for c in g.checkpoints},
            }
            for g in evaluation.goals
        ],
    }


def record(store: StateStore, run_id: int, mode: str, evaluation: Evaluation) -> int:
    """Keep the run's trend data; returns how many per-issue changes were kept."""
    health = {v.issue.key: (v.health.value, v.families) for v in evaluation.verdicts}
    taken, rollout = store.open_since_rollout()
    team = team_state(evaluation, rollout if taken is not None else None)
    return store.record_trend(run_id, mode, evaluation.now, team, health)


def run_details(evaluation: Evaluation) -> dict[str, Any]:
    """The compact record of what a run saw, kept with the run: counts by health, family
    and goal status, the core team metrics and each goal's status."""
    metrics = evaluation.metrics
    team: dict[str, Any] | None = None
    if metrics is not None:
        cycle = metrics.cycle_time
        team = {
            "cycle_time_p85_days": round(cycle.p85, 2) if cycle is not None else None,
            "throughput_per_week": None
            if metrics.throughput_per_week is None
            else round(metrics.throughput_per_week, 2),
            "wip": metrics.wip,
            "reopen_rate": _round(metrics.reopen_rate),
            "blocked_share": _round(metrics.blocked_share),
            "flow_efficiency": _round(metrics.flow_efficiency),
            "bottleneck": metrics.bottleneck,
        }
    goal_status: dict[str, int] = {}
    for goal in evaluation.goals:
        goal_status[goal.status] = goal_status.get(goal.status, 0) + 1
    return {
        "health": health_counts(evaluation),
        "families": family_counts(evaluation),
        "goal_status": goal_status,
        "goals": {goal.name: goal.status for goal in evaluation.goals},
        "team": team,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass(frozen=True)
class Episode:
    key: str
    family: str  # a rule family, or ANY
    start: datetime
    end: datetime | None  # when a run first saw it recovered; None while it lasts

    @property
    def days(self) -> float | None:
        return None if self.end is None else (self.end - self.start) / _DAY


def episodes(changes: Sequence[tuple[str, datetime, str, tuple[str, ...]]]) -> list[Episode]:
    """The flagged episodes in a sequence of health changes (oldest first)."""
    open_: dict[str, dict[str, datetime]] = {}  # issue key -> family -> since
    found: list[Episode] = []
    for key, at, state, families in changes:
        mine = open_.setdefault(key, {})
        if state == GONE:
            mine.clear()
            continue
        current = set(families) | ({ANY} if state != Health.HEALTHY.value else set())
        for family in [f for f in mine if f not in current]:
            found.append(Episode(key, family, mine.pop(family), at))
        for family in current:
            mine.setdefault(family, at)
    found += [
        Episode(key, family, start, None)
        for key, mine in open_.items()
        for family, start in mine.items()
    ]
    return sorted(found, key=lambda e: (e.start, e.key, e.family))


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "recovered": len(values),
        "median_days": round(percentile(values, 0.5), 2) if values else None,
        "p85_days": round(percentile(values, 0.85), 2) if values else None,
    }


def recovery_summary(found: Sequence[Episode]) -> dict[str, dict[str, Any]]:
    """Per family (ANY first): recovered episodes, their median and p85 days, and how
    many are still open."""
    recovered: dict[str, list[float]] = {}
    still_open: dict[str, int] = {}
    for e in found:  # (one pass: a report asks this of every team's episodes)
        days = e.days
        mine = recovered.setdefault(e.family, [])
        if days is None:
            still_open[e.family] = still_open.get(e.family, 0) + 1
        else:
            mine.append(days)
    families = sorted(recovered, key=lambda f: (f != ANY, f))
    return {
        family: {**_stats(recovered[family]), "open": still_open.get(family, 0)}
        for family in families
    }


def recovery_by_week(found: Sequence[Episode]) -> list[dict[str, Any]]:
    """Per week (Monday, UTC) in which episodes of being unhealthy ended: their count,
    median and p85 days, oldest week first."""
    weeks: dict[str, list[float]] = {}
    for e in found:
        if e.family == ANY and e.end is not None:
            monday = (e.end - timedelta(days=e.end.weekday())).date().isoformat()
            weeks.setdefault(monday, []).append((e.end - e.start) / _DAY)
    return [{"week": week, **_stats(values)} for week, values in sorted(weeks.items())]
