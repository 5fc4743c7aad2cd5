"""The report's series over time, each built in one pass: the cumulative flow per day
(how many issues were in the backlog, each step and done at the end of each day, from
their timelines), the time in the workflow as a histogram, and each team's health per
day with a run (from the health changes the trend store keeps).

Each issue's intervals are placed on the days by bisection and summed through
difference arrays, so the work grows with the intervals, not with days x issues.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jira_chase.engine.evaluate import Verdict
from jira_chase.engine.model import Health

BACKLOG = "backlog"
DONE = "done"


def window_days(today: date, weeks: int) -> list[date]:
    """The days of a window of `weeks` weeks that ends today, oldest first."""
    return [today - timedelta(days=offset) for offset in range(7 * weeks - 1, -1, -1)]


def day_ends(days: Sequence[date], zone: ZoneInfo, now: datetime) -> list[datetime]:
    """The moment each day ends (the next day's start in `zone`); today's is `now`."""
    ends = [datetime.combine(d + timedelta(days=1), time.min, zone) for d in days]
    if ends:
        ends[-1] = min(ends[-1], now)
    return ends


def cumulative_flow(
    members: Mapping[str, Sequence[Verdict]],
    steps: Sequence[str],
    ends: Sequence[datetime],
    window_start: datetime,
) -> dict[str, dict[str, Any]]:
    """Team name -> {"series": [(name, counts per day)] in workflow order (backlog, each
    step, done), "unknown_history": issues counted in the state they are in now for lack
    of a history}. An issue counts on each day that ends after it was created, in the
    state it was in at the end of that day."""
    column = {name: i + 1 for i, name in enumerate(steps)}
    width = len(steps) + 2
    days = len(ends)
    if not days:
        return {team: {"series": [], "unknown_history": 0} for team in members}
    first_end = ends[0]
    found: dict[str, dict[str, Any]] = {}
    for team, verdicts in members.items():
        diff = [[0] * (days + 1) for _ in range(width)]
        unknown = 0
        for verdict in verdicts:
            timeline = verdict.timeline
            if timeline.settled_before(window_start):
                # Done since before the window, unchanged since: done on every day.
                # (its intervals are not built for this)
                diff[width - 1][bisect_left(ends, timeline.current.start)] += 1
                continue
            unknown += not timeline.known
            for interval in timeline.intervals:
                if interval.end is not None and interval.end <= first_end:
                    continue  # over before the first day ended
                lo = bisect_left(ends, interval.start)
                hi = days if interval.end is None else bisect_left(ends, interval.end)
                if lo >= hi:
                    continue
                if interval.done:
                    series = width - 1
                elif interval.step is not None:
                    series = column.get(interval.step, 0)
                else:
                    series = 0
                diff[series][lo] += 1
                diff[series][hi] -= 1
        names = [BACKLOG, *steps, DONE]
        series_counts = []
        for name, row in zip(names, diff):
            running, counts = 0, []
            for value in row[:days]:
                running += value
                counts.append(running)
            series_counts.append({"name": name, "counts": counts})
        found[team] = {"series": series_counts, "unknown_history": unknown}
    return found


#: Bin widths a histogram of days may take, smallest first (then multiples of 28).
_WIDTHS = (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 21.0, 28.0)
#: About how many bins a histogram has.
_BINS = 12


def histogram(values: Sequence[float]) -> dict[str, Any] | None:
    """`values` (days) counted in bins of a round width starting at 0; None when empty."""
    if not values:
        return None
    top = max(values)
    wanted = top / _BINS
    width = next((w for w in _WIDTHS if w >= wanted), 28.0 * math.ceil(wanted / 28.0))
    count = max(1, math.floor(top / width) + 1)
    bins = [0] * count
    for value in values:
        bins[min(int(value // width), count - 1)] += 1
    return {
        "bin_days": width,
        "bins": [
            {"from": round(i * width, 2), "to": round((i + 1) * width, 2), "count": n}
            for i, n in enumerate(bins)
        ],
    }


def health_by_day(
    changes: Sequence[tuple[str, datetime, str, tuple[str, ...]]],
    runs: Sequence[datetime],
    team_of: Mapping[str, str],
    teams: Sequence[str],
    zone: ZoneInfo,
) -> dict[str, list[dict[str, Any]]]:
    """Team name -> per day with a run (oldest first): how many of its issues were
    flagged, off track and at risk at the end of that day, after the day's last run.
    An issue counts for the team it is in now (`team_of`); one that is not in the scope
    now counts for none."""
    days = sorted({at.astimezone(zone).date() for at in runs})
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in teams}
    counts = {name: [0, 0] for name in teams}  # off track, at risk
    state: dict[str, int | None] = {}  # issue key -> index in its team's counts
    off, risk = Health.OFF_TRACK.value, Health.AT_RISK.value
    position = 0
    for day in days:
        end = datetime.combine(day + timedelta(days=1), time.min, zone)
        while position < len(changes) and changes[position][1] < end:
            key, _, health, _ = changes[position]
            position += 1
            team = team_of.get(key)
            if team is None or team not in counts:
                continue
            was = state.get(key)
            now = 0 if health == off else 1 if health == risk else None
            if was is not None:
                counts[team][was] -= 1
            if now is not None:
                counts[team][now] += 1
            state[key] = now
        for name in teams:
            off_track, at_risk = counts[name]
            found[name].append({"at": day.isoformat(), "flagged": off_track + at_risk,
                                "off_track": off_track, "at_risk": at_risk})  # fmt: skip
    return found
