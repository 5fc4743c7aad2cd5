"""Status history -> intervals per workflow step, measured in the configured calendar.

Pure: no I/O and no clock; `now` is always a parameter.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from jira_chase.config.settings import WEEKDAYS, CalendarSettings, WorkflowSettings
from jira_chase.engine.model import Issue

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
        self._end: datetime | None = None  # the end `days_between` was last given
        self._end_position = 0

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
        # (the end is most often the run's `now`: placed once)
        if end is not self._end:
            self._end, self._end_position = end, self.position(end)
        return (self._end_position - self.position(start)) / DAY_MICROS

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
    #: issue type -> status -> (step, finished, cancelled), filled as asked.
    _kinds: dict[str | None, dict[str, tuple[str | None, bool, bool]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: (status, issue type) -> `is_done`'s answer, filled as asked.
    _done: dict[tuple[str, str | None], bool] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: Equal tuples of statuses handed out once (see `shared`).
    _tuples: dict[tuple[str, ...], tuple[str, ...]] = field(
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

    def shared(self, statuses: tuple[str, ...]) -> tuple[str, ...]:
        """One tuple for equal tuples of statuses: issues by the thousand pass through the
        same few."""
        return self._tuples.setdefault(statuses, statuses)

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
        if status is None:
            return False
        return (self.kinds(issue_type).get(status) or self.classify(status, issue_type))[1]

    def step(self, status: str | None, issue_type: str | None = None) -> str | None:
        if status is None:
            return None
        known = self.kinds(issue_type).get(status)
        return (known or self.classify(status, issue_type))[0]

    def is_done(self, status: str | None, issue_type: str | None = None) -> bool:
        if status is None:
            return False
        known = self._done.get((status, issue_type))
        if known is None:
            known = self._done[(status, issue_type)] = (
                self._key(status, issue_type) in self.done_statuses
            )
        return known

    def kinds(self, issue_type: str | None) -> dict[str, tuple[str | None, bool, bool]]:
        """status -> `classify(status, issue_type)` for the statuses classified so far
        (a loop over many statuses of one issue looks them up here first)."""
        known = self._kinds.get(issue_type)
        if known is None:
            known = self._kinds[issue_type] = {}
        return known

    def classify(self, status: str, issue_type: str | None) -> tuple[str | None, bool, bool]:
        """(`step`, finished (done or cancelled), cancelled) of a status for an issue type,
        worked out once per pair."""
        kinds = self.kinds(issue_type)
        known = kinds.get(status)
        if known is None:
            key = self._key(status, issue_type)
            cancelled = key in self.cancelled_statuses
            known = (self.step_of_status.get(key), cancelled or key in self.done_statuses,
                     cancelled)  # fmt: skip
            kinds[status] = known
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


class Timeline:
    """An issue's status intervals covering [created, now] with no gap or overlap.

    `known` is False when the issue's status history is unknown: then the one interval
    is a placeholder from creation and no rule may read dates from it.

    A timeline built from an issue can do without its intervals and build them again
    when asked: `settled_timeline`'s, for an issue finished and unchanged since before
    a moment, starts without them (in a scope of many years most issues are such, and
    no rule reads more of them), and `release` drops those of `build_timeline`'s once
    no rule will read them. Either way it keeps what is asked of every issue:
    where it is now, when it entered its step, when it arrived in done, the statuses
    outside the workflow it passed through. Never changed once built (the intervals
    aside, which are always the same); not a frozen dataclass for the same reason as
    `Interval`.
    """

    __slots__ = ("issue_key", "known", "current", "is_done", "_intervals", "_entry",
                 "_arrivals", "_last_arrival", "_outside", "_issue", "_steps", "_now")  # fmt: skip

    issue_key: str
    known: bool
    #: The interval the issue is in now (the last one).
    current: Interval
    #: Finished now: the current status is done (or cancelled).
    is_done: bool
    # The views several rules ask for, worked out once (see their methods).
    _intervals: tuple[Interval, ...] | None
    _entry: datetime | None
    _arrivals: tuple[datetime, ...] | None
    _last_arrival: datetime | None
    _outside: tuple[str, ...] | None
    # What `build_timeline` built it from (None for a timeline built by hand).
    _issue: Issue | None
    _steps: StepMap | None
    _now: datetime | None

    def __init__(self, issue_key: str, intervals: tuple[Interval, ...], known: bool = True):
        current = intervals[-1]
        step = current.step
        entered = None
        if step is not None:
            entered = current.start
            for interval in reversed(intervals[:-1]):
                if interval.step != step:
                    break
                entered = interval.start
        arrivals = _done_arrivals(intervals)
        self.issue_key, self.known, self.current, self.is_done = (
            issue_key, known, current, current.done
        )  # fmt: skip
        self._intervals, self._entry, self._arrivals = intervals, entered, arrivals
        self._last_arrival = arrivals[-1] if arrivals else None
        self._outside = self._issue = self._steps = self._now = None

    @classmethod
    def _settled(
        cls,
        issue: Issue,
        steps: StepMap,
        now: datetime,
        current: Interval,
        last_arrival: datetime | None,
        outside: tuple[str, ...],
    ) -> Timeline:
        timeline = cls.__new__(cls)
        timeline.issue_key, timeline.known, timeline.current, timeline.is_done = (
            issue.key, True, current, current.done
        )  # fmt: skip
        timeline._intervals = timeline._entry = timeline._arrivals = None
        timeline._last_arrival, timeline._outside = last_arrival, outside
        timeline._issue, timeline._steps, timeline._now = issue, steps, now
        return timeline

    @property
    def intervals(self) -> tuple[Interval, ...]:
        """Every interval, oldest first; the last is the current one."""
        intervals = self._intervals
        if intervals is None:
            assert self._issue is not None and self._steps is not None and self._now is not None
            intervals = self._intervals = build_timeline(
                self._issue, self._steps, self._now
            )._intervals
            assert intervals is not None
        return intervals

    def release(self) -> None:
        """Drop the intervals, to be built again if asked (only a timeline that
        `build_timeline` built can: others keep theirs)."""
        if self._issue is not None:  # (it knows its statuses outside: `build_timeline`)
            self._intervals = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeline):
            return NotImplemented
        return (self.issue_key, self.known, self.intervals) == (
            other.issue_key, other.known, other.intervals
        )  # fmt: skip

    def __hash__(self) -> int:
        return hash((self.issue_key, self.known, self.intervals))

    def __repr__(self) -> str:
        return f"Timeline({self.issue_key!r}, {self.intervals!r}, known={self.known!r})"

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
        arrivals = self._arrivals
        if arrivals is None:
            arrivals = self._arrivals = _done_arrivals(self.intervals)
        return arrivals

    def last_done_arrival(self) -> datetime | None:
        """The latest of `done_arrivals()`, None when there is none."""
        return self._last_arrival

    def finished_within(self, start: datetime, end: datetime) -> bool:
        """Done now (not cancelled), last arrived in done between `start` and `end`."""
        last = self._last_arrival
        return (
            self.is_done and not self.current.cancelled and last is not None
            and start <= last <= end
        )  # fmt: skip

    def outside_statuses(self) -> tuple[str, ...]:
        """The statuses the issue spent time in that no step, done or cancelled status
        names, each once, in the order first met."""
        outside = self._outside
        if outside is None:
            outside = tuple(
                dict.fromkeys(i.status for i in self.intervals if i.step is None and not i.done)
            )
        return outside

    def settled_before(self, moment: datetime) -> bool:
        """Finished, outside the workflow steps, and unchanged since before `moment`:
        its status history holds nothing at or after `moment`."""
        current = self.current
        return self.known and current.done and current.step is None and current.start < moment

    def reopens(self) -> list[datetime]:
        """Each moment the issue left a done status for one that is not done."""
        intervals = self.intervals
        return [
            interval.end
            for interval, following in zip(intervals, intervals[1:])
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
        end = self._last_arrival
        if not self.is_done or self.current.cancelled or end is None:
            return None
        start = self.first_step_entry() if start_at == "first" else self.last_step_entry(end)
        if start is None or start >= end:
            return None
        return start, end


def _done_arrivals(intervals: tuple[Interval, ...]) -> tuple[datetime, ...]:
    arrivals = []
    was_done = False
    for interval in intervals:
        if interval.done and not was_done:
            arrivals.append(interval.start)
        was_done = interval.done
    return tuple(arrivals)


def settled_timeline(
    issue: Issue, steps: StepMap, now: datetime, before: datetime
) -> Timeline | None:
    """The timeline of an issue finished, outside the steps and unchanged since before
    `before`, built without its intervals (they are built when asked); None for any
    other issue."""
    if not issue.history_known:
        return None
    changes = issue.status_changes
    last = changes[-1] if changes else None
    if last is not None and (last.at >= before or last.to_value is None):
        return None
    final = issue.initial_status if last is None else last.to_value
    assert final is not None
    step, finished, _ = steps.kinds(issue.type).get(final) or steps.classify(final, issue.type)
    return _settled(issue, steps, now, before) if finished and step is None else None


def release(timelines: Sequence[Timeline]) -> None:
    """Let every timeline drop its intervals (see `Timeline.release`).

    Each keeps its current interval; a copy of it, made before any interval is dropped,
    so that the copies lie together and the intervals dropped leave whole blocks of
    memory free for what comes next (the intervals of the judged issues were built
    together: see `evaluate`)."""
    holding = [t for t in timelines if t._intervals is not None and t._issue is not None]
    for timeline in holding:
        current = timeline.current
        timeline.current = Interval(current.status, current.step, current.start,
                                    current.end, current.done, current.cancelled)  # fmt: skip
    for timeline in holding:
        timeline.release()


def build_timeline(issue: Issue, steps: StepMap, now: datetime) -> Timeline:
    """Turn the issue's status changes into contiguous intervals up to `now`.

    Changes dated before creation are clamped to creation and changes after `now` are
    ignored, so the intervals always tile [created, now] (when created <= now).
    """
    intervals: list[Interval] = []
    outside: list[str] = []  # (see `Timeline.outside_statuses`)
    status = issue.initial_status
    created = start = issue.created
    issue_type = issue.type
    kinds = steps.kinds(issue_type)
    for change in issue.status_changes:
        if change.at > now:
            break
        at = change.at if change.at > created else created
        if at > start:
            kind = kinds.get(status) or steps.classify(status, issue_type)
            intervals.append(Interval(status, kind[0], start, at, kind[1], kind[2]))
            if kind[0] is None and not kind[1] and status not in outside:
                outside.append(status)
            start = at
        status = change.to_value or status
    step, done, cancelled = _current_kind(issue, steps, status)
    intervals.append(Interval(status, step, start, None, done, cancelled))
    if step is None and not done and status not in outside:
        outside.append(status)
    timeline = Timeline(issue.key, tuple(intervals), known=issue.history_known)
    timeline._issue, timeline._steps, timeline._now = issue, steps, now
    timeline._outside = steps.shared(tuple(outside))
    return timeline


def _current_kind(issue: Issue, steps: StepMap, status: str) -> tuple[str | None, bool, bool]:
    step, done, cancelled = steps.kinds(issue.type).get(status) or steps.classify(
        status, issue.type
    )
    # A done issue resolved as not done (Jira "Won't Do", a ZenTao close reason) ended
    # cancelled; the resolution is known only for where the issue is now.
    if done and not cancelled and issue.resolution is not None:
        cancelled = issue.resolution.casefold() in steps.cancelled_resolutions
    return step, done, cancelled


def _settled(issue: Issue, steps: StepMap, now: datetime, before: datetime) -> Timeline | None:
    """`build_timeline`'s walk keeping only what a settled timeline knows (see
    `Timeline`); None when the issue is not settled before `before` after all."""
    status = issue.initial_status
    created = start = issue.created
    issue_type = issue.type
    kinds = steps.kinds(issue_type)
    arrival = None
    was_done = False
    outside: dict[str, None] = {}
    for change in issue.status_changes:
        if change.at > now:
            break
        at = change.at if change.at > created else created
        if at > start:
            step, done, _ = kinds.get(status) or steps.classify(status, issue_type)
            if done:
                if not was_done:
                    arrival = start
            elif step is None:
                outside[status] = None
            was_done = done
            start = at
        status = change.to_value or status
    step, done, cancelled = _current_kind(issue, steps, status)
    if not done or step is not None or start >= before:
        return None
    if not was_done:
        arrival = start
    current = Interval(status, step, start, None, done, cancelled)
    return Timeline._settled(issue, steps, now, current, arrival, steps.shared(tuple(outside)))
