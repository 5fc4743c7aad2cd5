"""The value types several rule families share: the team's flow metrics and each goal's
status. They are measured before the rules run and handed to every rule through the
`RuleContext`; this module imports no rule, so every family can depend on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

Day = date  # `date` is also a field name below

WEEK = timedelta(weeks=1)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (`q` in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    # round() keeps float noise in q * n from pushing the rank one up
    return ordered[max(1, math.ceil(round(q * len(ordered), 9))) - 1]


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p85: float
    p95: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles | None:
        if not values:
            return None
        return cls(
            percentile(values, 0.5),
            percentile(values, 0.85),
            percentile(values, 0.95),
            len(values),
        )

    def to_dict(self) -> dict[str, float | int]:
        return {
            "p50": round(self.p50, 2),
            "p85": round(self.p85, 2),
            "p95": round(self.p95, 2),
            "count": self.count,
        }


@dataclass(frozen=True)
class StepStats:
    """One workflow step over the window: what is in it now, how long stays took."""

    name: str
    waiting: bool
    wip: int
    wip_limit: int | None
    limit_days: float | None
    visits: int  # stays that ended inside the window
    p85_days: float | None  # of those stays
    breaches: int  # of those stays, how many reached the step's limit
    over_limit: int  # issues in the step now at or over their limit
    share_of_cycle_time: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "waiting": self.waiting,
            "wip": self.wip,
            "wip_limit": self.wip_limit,
            "limit_days": self.limit_days,
            "visits": self.visits,
            "p85_days": _round(self.p85_days),
            "breaches": self.breaches,
            "over_limit": self.over_limit,
            "share_of_cycle_time": _round(self.share_of_cycle_time, 3),
        }


@dataclass(frozen=True)
class FlowMetrics:
    """The team's core process metrics over the trailing window (see the module doc)."""

    window_start: datetime
    window_end: datetime
    window_weeks: int
    unit: str  # "business days" or "calendar days"
    finished: int
    cycle_time: Percentiles | None
    weekly_throughput: tuple[int, ...]  # oldest week first; the last ends now
    wip: int
    ages: dict[str, float]  # WIP issue key -> age in days
    aging_at_risk: tuple[str, ...]
    aging_off_track: tuple[str, ...]
    min_samples: int
    reopens: int
    done_arrivals: int
    blocked_share: float | None
    flow_efficiency: float | None
    steps: tuple[StepStats, ...]
    bottleneck: str | None
    #: Where the data starts: the window's start or the first issue's creation if later.
    data_start: datetime | None = None
    #: Issues cancelled inside the window (not in cycle time or throughput).
    cancelled: int = 0
    cycle_start: str = "first"
    #: When the current piece of work of each issue in `aging_at_risk` or
    #: `aging_off_track` started (where its age counts from).
    aging_since: dict[str, datetime] = field(default_factory=dict)
    #: Issues done now whose status history is unknown and that were touched inside the
    #: window: they may have finished there, at a time nobody knows.
    undated_finished: int = 0
    #: Each team's bottleneck (`ctx.teams`): the step holding the largest share of the
    #: cycle time of the team's finished issues; a team without one is not listed.
    team_bottlenecks: dict[str, str] = field(default_factory=dict)

    @property
    def data_weeks(self) -> float:
        """Weeks of the window that have data (at least one, at most the window)."""
        if self.data_start is None:
            return float(self.window_weeks)
        weeks = (self.window_end - self.data_start) / WEEK
        return min(float(self.window_weeks), max(1.0, weeks))

    @property
    def young(self) -> bool:
        """The data covers less than the whole window."""
        return self.data_weeks < self.window_weeks

    @property
    def throughput_per_week(self) -> float | None:
        """Finished issues per week with data; None (unknown) while some issues may have
        finished in the window at a time nobody knows (`undated_finished`)."""
        return None if self.undated_finished else self.dated_throughput

    @property
    def dated_throughput(self) -> float:
        """Issues per week that finished in the window at a known time (a lower bound
        while `undated_finished`)."""
        return self.finished / self.data_weeks

    def throughput_text(self) -> str:
        """The throughput for people: "2.5/week", or unknown and why."""
        if not self.undated_finished:
            return f"{self.dated_throughput:.1f}/week"
        floor = f" (at least {self.dated_throughput:.1f}/week)" if self.finished else ""
        return (
            f"unknown{floor}: {self.undated_finished} done issues without a status history "
            "may have finished in the window"
        )

    def cycle_time_unknown(self) -> bool:
        """No cycle time measured, while some issues finished at a time nobody knows."""
        return self.cycle_time is None and self.undated_finished > 0

    @property
    def reopen_rate(self) -> float | None:
        return self.reopens / self.done_arrivals if self.done_arrivals else None

    @property
    def percentiles_ready(self) -> bool:
        """Enough cycle times for percentile-based judgements (aging, p85 threshold)."""
        return self.cycle_time is not None and self.cycle_time.count >= self.min_samples

    def to_dict(self) -> dict[str, object]:
        return {
            "window": {
                "weeks": self.window_weeks,
                "start": self.window_start.isoformat(),
                "end": self.window_end.isoformat(),
            },
            "data": {
                "start": (self.data_start or self.window_start).isoformat(),
                "weeks": round(self.data_weeks, 2),
            },
            "cycle_start": self.cycle_start,
            "unit": self.unit,
            "finished": None if self.undated_finished else self.finished,
            "finished_dated": self.finished,
            "finished_undated": self.undated_finished,
            "cancelled": self.cancelled,
            "cycle_time_days": self.cycle_time.to_dict() if self.cycle_time else None,
            "throughput_per_week": _round(self.throughput_per_week),
            "weekly_throughput": list(self.weekly_throughput),
            "wip": self.wip,
            "aging_wip": {
                "at_risk": list(self.aging_at_risk),
                "off_track": list(self.aging_off_track),
            },
            "reopens": self.reopens,
            "reopen_rate": _round(self.reopen_rate, 3),
            "blocked_share": _round(self.blocked_share, 3),
            "flow_efficiency": _round(self.flow_efficiency, 3),
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


MET, ON_TRACK, AT_RISK, OFF_TRACK, EMPTY = "met", "on-track", "at-risk", "off-track", "empty"
#: What the data cannot say (a points goal whose issues carry no estimate): said with
#: its reason, and judged by nothing.
UNKNOWN = "unknown"
_RANK = {MET: 0, ON_TRACK: 0, UNKNOWN: 0, EMPTY: 1, AT_RISK: 1, OFF_TRACK: 2}


@dataclass(frozen=True)
class CheckpointStatus:
    index: int
    name: str
    date: Day
    target: float  # fraction of the goal's scope
    target_units: float
    status: str  # met | on-track | at-risk | off-track | unknown
    reason: str
    forecast_p85: Day | None  # None when met, or when there is nothing to forecast from
    config_key: str  # the setting behind the status

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "date": self.date.isoformat(),
            "target": self.target,
            "target_units": round(self.target_units, 2),
            "status": self.status,
            "reason": self.reason,
            "forecast_p85": self.forecast_p85.isoformat() if self.forecast_p85 else None,
        }


@dataclass(frozen=True)
class GoalStatus:
    index: int
    name: str
    scope: str
    unit: str
    tolerance: float
    issues: tuple[str, ...]  # keys in scope
    open_issues: tuple[str, ...]  # keys in scope not done
    total: float  # in the goal's unit
    done: float
    unestimated: int  # issues in scope without an estimate (unit = estimate)
    planned_today: float  # fraction
    weekly_throughput: tuple[float, ...]
    checkpoints: tuple[CheckpointStatus, ...]

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def behind(self) -> float:
        return self.planned_today - self.fraction

    @property
    def judged(self) -> CheckpointStatus | None:
        """The checkpoint that sets the goal's status: the worst, the earliest first."""
        worst = max(self.checkpoints, key=lambda c: (_RANK[c.status], -c.index), default=None)
        return worst if worst is not None and _RANK[worst.status] > 0 else None

    @property
    def status(self) -> str:
        if not self.issues:
            return EMPTY
        judged = self.judged
        if judged is not None:
            return judged.status
        if any(c.status == UNKNOWN for c in self.checkpoints):
            return UNKNOWN
        return MET if all(c.status == MET for c in self.checkpoints) else ON_TRACK

    def describe(self, value: float) -> str:
        unit = "issues" if self.unit == "issues" else "points"
        return f"{round(value, 1):g} {unit}"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "scope": self.scope,
            "unit": self.unit,
            "status": self.status,
            "issues": len(self.issues),
            "open_issues": len(self.open_issues),
            "total": round(self.total, 2),
            "done": round(self.done, 2),
            "fraction": round(self.fraction, 3),
            "planned_today": round(self.planned_today, 3),
            "unestimated": self.unestimated,
            "weekly_throughput": [round(x, 2) for x in self.weekly_throughput],
            "checkpoints": [c.to_dict() for c in self.checkpoints],
        }
