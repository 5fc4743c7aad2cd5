"""Status history -> intervals per workflow step, measured in the configured calendar.

Pure: no I/O and no clock; `now` is always a parameter.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from jira_chase.config import WEEKDAYS, CalendarSettings, WorkflowSettings
from jira_chase.model import Issue

DAY = timedelta(days=1)


class Calendar:
    """Measures durations in days: plain calendar days, or working time on workdays.

    Business time counts the part of each local day (in `timezone`) that falls on a
    workday that is not a holiday; a full working day counts 1.0 (24 hours). It never
    exceeds calendar time.

    Business time is read off a table of local days (built once, grown on demand): each
    day's local midnight as integer microseconds since the epoch and the working time
    of all days before it. A duration is then two lookups and a subtraction, in exact
    integer microseconds, however many days it spans.
    """

    def __init__(self, settings: CalendarSettings):
        self.kind = settings.kind
        self.zone = ZoneInfo(settings.timezone)
        self.workdays = frozenset(WEEKDAYS.index(d) for d in settings.workdays)
        self.holidays = frozenset(settings.holidays)
        self._first_day = 0  # proleptic ordinal of the table's first local day
        self._midnights: list[int] = []  # local midnight of each day, in microseconds
        self._before: list[int] = []  # working microseconds of the days before each day
        self._working: list[bool] = []

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def local_date(self, moment: datetime) -> date:
        """The calendar day `moment` falls on in the configured time zone."""
        return moment.astimezone(self.zone).date()

    def days_between(self, start: datetime, end: datetime) -> float:
        """Duration of [start, end) in days; 0 when end <= start."""
        if end <= start:
            return 0.0
        if self.kind == "calendar":
            return (end - start) / DAY
        return (self.position(end) - self.position(start)) / DAY_MICROS

    def position(self, moment: datetime) -> int:
        """Where `moment` lies on this calendar's clock, in microseconds: the time
        counted (all of it, or working time only) from a fixed origin. Positions never
        change once given, so a duration is `(position(end) - position(start))`, and
        clipping to a window is `max`/`min` of positions (the clock never runs back)."""
        micros = (moment - EPOCH) // _MICRO
        if self.kind == "calendar":
            return micros
        midnights = self._midnights
        if not midnights or not midnights[0] <= micros < midnights[-1]:
            self._cover(micros)
            midnights = self._midnights
        index = bisect_right(midnights, micros) - 1
        before = self._before[index]
        return before + (micros - midnights[index]) if self._working[index] else before

    def _cover(self, moment: int) -> None:
        """Grow the table to span the local day of `moment`, with a year to spare."""
        day = (EPOCH + timedelta(microseconds=moment)).astimezone(self.zone).date().toordinal()
        first = max(1, day - _MARGIN_DAYS)
        last = min(date.max.toordinal() - 1, day + _MARGIN_DAYS)
        if self._midnights:
            first = min(first, self._first_day)
            last = max(last, self._first_day + len(self._midnights) - 2)
        midnights = [
            _micros(datetime.combine(date.fromordinal(n), time.min, self.zone))
            for n in range(first, last + 2)
        ]
        working = [self.is_working_day(date.fromordinal(n)) for n in range(first, last + 2)]
        before = [0]
        for i in range(len(midnights) - 1):
            # Real elapsed time, so business time never exceeds calendar time (a
            # 25-hour DST day counts 25/24).
            length = midnights[i + 1] - midnights[i]
            before.append(before[-1] + (length if working[i] else 0))
        if self._midnights:
            # Keep every position already given: the old first day keeps its count.
            shift = self._before[0] - before[self._first_day - first]
            before = [count + shift for count in before]
        self._first_day, self._midnights, self._before, self._working = (
            first, midnights, before, working
        )  # fmt: skip


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)
DAY_MICROS = 86_400_000_000
_MARGIN_DAYS = 366


def _micros(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact)."""
    return (moment - EPOCH) // _MICRO


@dataclass(frozen=True)
class StepMap:
    """Which workflow step (if any) each status belongs to, and which statuses are done.

    A configured name may be qualified by an issue type, `type:status` (`bug:active`), for
    trackers whose types share status names (ZenTao). For an issue of that type the
    qualified name decides alone, step and done alike; a plain name matches every type.
    """

    step_of_status: dict[str, str]
    done_statuses: frozenset[str]
    #: Statuses that end work without doing it (they count as finished, not done).
    cancelled_statuses: frozenset[str] = frozenset()
    #: Resolutions that make an issue finished in a done status cancelled.
    cancelled_resolutions: frozenset[str] = frozenset()
    #: (status, issue type) -> (step, finished, cancelled), filled as asked.
    _kinds: dict[tuple[str, str | None], tuple[str | None, bool, bool]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_settings(
        cls,
        workflow: WorkflowSettings,
        cancelled: Iterable[str] = (),
        cancelled_resolutions: Iterable[str] = (),
    ) -> StepMap:
        mapping = {
            status.casefold(): step.name for step in workflow.steps for status in step.statuses
        }
        return cls(
            mapping,
            frozenset(s.casefold() for s in workflow.done),
            frozenset(s.casefold() for s in cancelled),
            frozenset(r.casefold() for r in cancelled_resolutions),
        )

    def _key(self, status: str, issue_type: str | None) -> str:
        if issue_type is not None:
            qualified = f"{issue_type.casefold()}:{status.casefold()}"
            if (
                qualified in self.step_of_status
                or qualified in self.done_statuses
                or qualified in self.cancelled_statuses
            ):
                return qualified
        return status.casefold()

    def is_cancelled(self, status: str | None, issue_type: str | None = None) -> bool:
        return status is not None and self._key(status, issue_type) in self.cancelled_statuses

    def is_finished(self, status: str | None, issue_type: str | None = None) -> bool:
        """Done or cancelled: the work has ended."""
        return self.is_done(status, issue_type) or self.is_cancelled(status, issue_type)

    def step(self, status: str | None, issue_type: str | None = None) -> str | None:
        if status is None:
            return None
        known = self._kinds.get((status, issue_type))
        return (known or self.classify(status, issue_type))[0]

    def is_done(self, status: str | None, issue_type: str | None = None) -> bool:
        return status is not None and self._key(status, issue_type) in self.done_statuses

    def classify(self, status: str, issue_type: str | None) -> tuple[str | None, bool, bool]:
        """(`step`, finished (done or cancelled), cancelled) of a status for an issue type,
        worked out once per pair."""
        known = self._kinds.get((status, issue_type))
        if known is None:
            key = self._key(status, issue_type)
            cancelled = key in self.cancelled_statuses
            known = (self.step_of_status.get(key), cancelled or key in self.done_statuses,
                     cancelled)  # fmt: skip
            self._kinds[(status, issue_type)] = known
        return known


@dataclass(slots=True, unsafe_hash=True)
class Interval:
    """A stretch of time an issue spent in one status; `end` is None while ongoing.
    `done` says whether the work had ended there (a done or a cancelled status);
    `cancelled` whether it ended without being done.

    Never changed once built; not declared frozen only because a frozen dataclass
    takes four times as long to build, and a large scope builds millions of these."""

    status: str
    step: str | None
    start: datetime
    end: datetime | None
    done: bool = False
    cancelled: bool = False

    def end_or(self, now: datetime) -> datetime:
        return self.end if self.end is not None else now


@dataclass(frozen=True, slots=True)
class Visit:
    """One stay in a workflow step: adjacent intervals of the same step merged."""

    step: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Timeline:
    """An issue's status intervals covering [created, now] with no gap or overlap."""

    issue_key: str
    intervals: tuple[Interval, ...]
    #: False when the issue's status history is unknown: then the one interval is a
    #: placeholder from creation and no rule may read dates from it.
    known: bool = True
    #: The interval the issue is in now (the last one).
    current: Interval = field(init=False, repr=False, compare=False)
    #: Finished now: the current status is done (or cancelled).
    is_done: bool = field(init=False, repr=False, compare=False)
    # The views several rules ask for, worked out once (see their methods).
    _entry: datetime | None = field(init=False, repr=False, compare=False)
    _arrivals: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        intervals = self.intervals
        current = intervals[-1]
        step = current.step
        entered = None
        if step is not None:
            entered = current.start
            for interval in reversed(intervals[:-1]):
                if interval.step != step:
                    break
                entered = interval.start
        arrivals = []
        was_done = False
        for interval in intervals:
            if interval.done and not was_done:
                arrivals.append(interval.start)
            was_done = interval.done
        define = object.__setattr__
        define(self, "current", current)
        define(self, "is_done", current.done)
        define(self, "_entry", entered)
        define(self, "_arrivals", tuple(arrivals))

    def current_step_entry(self) -> datetime | None:
        """When the issue last entered its current step (merging adjacent statuses of
        the same step); None when the current status belongs to no step."""
        return self._entry

    def visits(self) -> list[Visit]:
        """Every stay in a workflow step, oldest first; the last may be ongoing."""
        visits: list[Visit] = []
        for interval in self.intervals:
            if interval.step is None:
                continue
            last = visits[-1] if visits else None
            if last is not None and last.step == interval.step and last.end == interval.start:
                visits[-1] = Visit(last.step, last.start, interval.end)
            else:
                visits.append(Visit(interval.step, interval.start, interval.end))
        return visits

    def done_arrivals(self) -> tuple[datetime, ...]:
        """Each moment the issue arrived in a done status from a status that is not done
        (creation counts when it was created done)."""
        return self._arrivals

    def last_done_arrival(self) -> datetime | None:
        """The latest of `done_arrivals()`, None when there is none."""
        arrivals = self._arrivals
        return arrivals[-1] if arrivals else None

    def settled_before(self, moment: datetime) -> bool:
        """Finished, outside the workflow steps, and unchanged since before `moment`:
        its status history holds nothing at or after `moment`."""
        current = self.current
        return self.known and current.done and current.step is None and current.start < moment

    def reopens(self) -> list[datetime]:
        """Each moment the issue left a done status for one that is not done."""
        return [
            interval.end
            for interval, following in zip(self.intervals, self.intervals[1:])
            if interval.done and not following.done and interval.end is not None
        ]

    def stretch(self) -> tuple[Interval, ...]:
        """The intervals since creation or since the issue last left done, up to now
        (ending with the current interval)."""
        start = 0
        for i in range(len(self.intervals) - 1, 0, -1):
            if self.intervals[i - 1].done and not self.intervals[i].done:
                start = i
                break
        return self.intervals[start:]

    def first_step_entry(self) -> datetime | None:
        """When the issue first entered any workflow step (the start of its cycle)."""
        return next((i.start for i in self.intervals if i.step is not None), None)

    def last_step_entry(self, before: datetime | None = None) -> datetime | None:
        """When the issue last came into the workflow steps from a status outside them
        (not done), before `before` (None: up to now): where the clock restarts with
        `cycle_start = "last"`."""
        entry = None
        for interval in self.intervals:
            if before is not None and interval.start >= before:
                break
            if interval.step is None and not interval.done:
                entry = None
            elif interval.step is not None and entry is None:
                entry = interval.start
        return entry

    def cycle(self, start_at: str = "first") -> tuple[datetime, datetime] | None:
        """(entry into the workflow steps, last arrival in done) of a finished issue;
        None while it is not done, when it was cancelled, or when it never entered a
        step before finishing. `start_at` "first": the first entry into any step;
        "last": the last entry from a status outside the steps."""
        if not self.is_done or self.current.cancelled:
            return None
        end = self._arrivals[-1]
        start = self.first_step_entry() if start_at == "first" else self.last_step_entry(end)
        if start is None or start >= end:
            return None
        return start, end


def build_timeline(issue: Issue, steps: StepMap, now: datetime) -> Timeline:
    """Turn the issue's status changes into contiguous intervals up to `now`.

    Changes dated before creation are clamped to creation and changes after `now` are
    ignored, so the intervals always tile [created, now] (when created <= now).
    """
    intervals: list[Interval] = []
    status = issue.initial_status
    created = start = issue.created
    kinds, issue_type = steps._kinds, issue.type
    for change in issue.status_changes:
        if change.at > now:
            break
        at = change.at if change.at > created else created
        if at > start:
            kind = kinds.get((status, issue_type)) or steps.classify(status, issue_type)
            intervals.append(Interval(status, kind[0], start, at, kind[1], kind[2]))
            start = at
        status = change.to_value or status
    step, done, cancelled = kinds.get((status, issue_type)) or steps.classify(status, issue_type)
    # A done issue resolved as not done (Jira "Won't Do", a ZenTao close reason) ended
    # cancelled; the resolution is known only for where the issue is now.
    if done and not cancelled and issue.resolution is not None:
        cancelled = issue.resolution.casefold() in steps.cancelled_resolutions
    intervals.append(Interval(status, step, start, None, done, cancelled))
    return Timeline(issue.key, tuple(intervals), known=issue.history_known)
