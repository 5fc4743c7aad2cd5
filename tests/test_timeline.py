from datetime import date, datetime, time, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from jira_chase.config.settings import CalendarSettings
from jira_chase.engine.timeline import (
    Calendar,
    StepMap,
    Timeline,
    build_timeline,
    release,
    settled_timeline,
)
from tests.factories import at, make_issue, make_settings

STEPS = StepMap.from_settings(make_settings().workflow)
UTC = timezone.utc


def test_intervals_follow_the_status_history():
    issue = make_issue(path=[(1, "In Progress"), (3, "Code Review"), (4, "Done")])
    timeline = build_timeline(issue, STEPS, at(10))
    assert [(i.status, i.step) for i in timeline.intervals] == [
        ("To Do", None),
        ("In Progress", "build"),
        ("Code Review", "review"),
        ("Done", None),
    ]
    assert timeline.intervals[1].start == at(1) and timeline.intervals[1].end == at(3)
    assert timeline.current.end is None


def test_adjacent_statuses_of_one_step_merge_for_time_in_step():
    issue = make_issue(path=[(1, "Code Review"), (2, "Review")])
    timeline = build_timeline(issue, STEPS, at(5))
    assert timeline.current_step_entry() == at(1)


def test_no_current_step_for_unmapped_status():
    timeline = build_timeline(make_issue(), STEPS, at(5))
    assert timeline.current_step_entry() is None


def test_changes_after_now_are_ignored():
    issue = make_issue(path=[(1, "In Progress"), (9, "Done")])
    timeline = build_timeline(issue, STEPS, at(5))
    assert timeline.current.status == "In Progress"


def test_status_names_match_case_insensitively():
    issue = make_issue(path=[(1, "in progress")])
    assert build_timeline(issue, STEPS, at(2)).current.step == "build"


def business(**kw):
    return Calendar(CalendarSettings(kind="business", timezone="UTC", **kw))


def test_business_days_skip_weekends():
    cal = business()
    friday = datetime(2026, 11, 6, 12, tzinfo=UTC)
    monday = datetime(2026, 11, 9, 12, tzinfo=UTC)
    assert cal.days_between(friday, monday) == 1.0
    assert Calendar(CalendarSettings(kind="calendar")).days_between(friday, monday) == 3.0


def test_holidays_inside_an_interval_do_not_count():
    cal = business(holidays=[date(2026, 11, 10)])
    monday = datetime(2026, 11, 9, 0, tzinfo=UTC)
    thursday = datetime(2026, 11, 12, 0, tzinfo=UTC)
    assert cal.days_between(monday, thursday) == 2.0


def test_business_days_respect_the_time_zone():
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin (CET, UTC+1).
    cal = Calendar(CalendarSettings(kind="business", timezone="Europe/Berlin"))
    start = datetime(2026, 11, 8, 23, 30, tzinfo=UTC)
    end = datetime(2026, 11, 9, 0, 30, tzinfo=UTC)
    assert abs(cal.days_between(start, end) - 1 / 24) < 1e-9


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
statuses = st.sampled_from(["To Do", "In Progress", "Code Review", "In QA", "Done"])


@given(
    created=moments,
    offsets=st.lists(st.floats(min_value=-2, max_value=60), max_size=12),
    names=st.lists(statuses, min_size=12, max_size=12),
    horizon=st.floats(min_value=0, max_value=90),
)
def test_intervals_tile_created_to_now(created, offsets, names, horizon):
    from dataclasses import replace

    from jira_chase.engine.model import Change

    changes = sorted(
        (Change(created + timedelta(days=o), "status", None, n) for o, n in zip(offsets, names)),
        key=lambda c: c.at,
    )
    issue = replace(make_issue(), created=created, history=tuple(changes))
    now = created + timedelta(days=horizon)
    timeline = build_timeline(issue, STEPS, now)
    assert timeline.intervals[0].start == created
    for earlier, later in zip(timeline.intervals, timeline.intervals[1:]):
        assert earlier.end == later.start
        assert earlier.start < earlier.end
    assert timeline.current.end is None and timeline.current.start <= now


@given(a=moments, b=moments, tz=st.sampled_from(["UTC", "Europe/Berlin", "Asia/Shanghai"]))
def test_business_time_never_exceeds_calendar_time(a, b, tz):
    start, end = min(a, b), max(a, b)
    cal = Calendar(CalendarSettings(kind="business", timezone=tz))
    plain = Calendar(CalendarSettings(kind="calendar", timezone=tz))
    assert 0 <= cal.days_between(start, end) <= plain.days_between(start, end) + 1e-9


def test_business_time_on_a_dst_workday_never_exceeds_calendar_time():
    # 2026-03-29 is a 23-hour Sunday in Berlin; make it a workday.
    cal = Calendar(CalendarSettings(kind="business", timezone="Europe/Berlin", workdays=["Sun"]))
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    end = datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert cal.days_between(start, end) == (end - start) / timedelta(days=1)


# -- derived views: visits, done arrivals, reopens, the cycle -----------------------------


def test_visits_merge_adjacent_statuses_of_one_step():
    issue = make_issue(
        path=[(1, "In Progress"), (2, "Code Review"), (3, "Review"), (4, "In Progress")]
    )
    visits = build_timeline(issue, STEPS, at(5)).visits()
    assert [(v.step, v.start, v.end) for v in visits] == [
        ("build", at(1), at(2)),
        ("review", at(2), at(4)),
        ("build", at(4), None),
    ]


def test_reopens_and_done_arrivals():
    settings = make_settings(workflow={"done": ["Done", "Closed"]})
    steps = StepMap.from_settings(settings.workflow)
    issue = make_issue(
        path=[(1, "In Progress"), (2, "Done"), (3, "Closed"), (4, "In Progress"), (5, "Done")]
    )
    timeline = build_timeline(issue, steps, at(6))
    assert timeline.done_arrivals() == (at(2), at(5))  # Done -> Closed is no arrival
    assert timeline.reopens() == [at(4)]
    assert timeline.cycle() == (at(1), at(5))
    assert [i.status for i in timeline.stretch()] == ["In Progress", "Done"]


def test_no_cycle_without_a_step_or_while_open():
    straight = make_issue(path=[(1, "Done")])
    assert build_timeline(straight, STEPS, at(2)).cycle() is None
    assert build_timeline(straight, STEPS, at(2)).done_arrivals() == (at(1),)
    open_issue = make_issue(path=[(1, "In Progress")])
    assert build_timeline(open_issue, STEPS, at(2)).cycle() is None
    created_done = make_issue(initial="Done")
    assert build_timeline(created_done, STEPS, at(2)).done_arrivals() == (at(0),)


@given(
    created=moments,
    offsets=st.lists(st.floats(min_value=0, max_value=60), max_size=12),
    names=st.lists(statuses, min_size=12, max_size=12),
    horizon=st.floats(min_value=0, max_value=90),
)
def test_visits_cover_exactly_the_time_in_steps(created, offsets, names, horizon):
    from dataclasses import replace

    from jira_chase.engine.model import Change

    changes = sorted(
        (Change(created + timedelta(days=o), "status", None, n) for o, n in zip(offsets, names)),
        key=lambda c: c.at,
    )
    issue = replace(make_issue(), created=created, history=tuple(changes))
    now = created + timedelta(days=horizon)
    timeline = build_timeline(issue, STEPS, now)
    in_steps = sum((i.end_or(now) - i.start for i in timeline.intervals if i.step), timedelta())
    visited = sum(((v.end or now) - v.start for v in timeline.visits()), timedelta())
    assert visited == in_steps
    for earlier, later in zip(timeline.visits(), timeline.visits()[1:]):
        assert earlier.end is not None and earlier.end <= later.start
        assert earlier.step != later.step or earlier.end < later.start
    arrivals, reopens = timeline.done_arrivals(), timeline.reopens()
    assert len(reopens) in (len(arrivals), len(arrivals) - 1)
    if timeline.cycle() is not None:
        start, end = timeline.cycle()
        assert created <= start < end <= now


@given(
    a=moments,
    b=moments,
    c=moments,
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    holidays=st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))),
)
def test_business_time_adds_up_over_consecutive_intervals(a, b, c, tz, holidays):
    start, middle, end = sorted((a, b, c))
    cal = Calendar(CalendarSettings(kind="business", timezone=tz, holidays=holidays))
    whole = cal.days_between(start, end)
    parts = cal.days_between(start, middle) + cal.days_between(middle, end)
    assert abs(whole - parts) < 1e-9


def test_local_date_uses_the_calendars_time_zone():
    cal = Calendar(CalendarSettings(kind="business", timezone="Asia/Shanghai"))
    assert cal.local_date(datetime(2026, 11, 20, 20, 0, tzinfo=UTC)) == date(2026, 11, 21)


def _days_by_iterating(cal: Calendar, start: datetime, end: datetime) -> float:
    """Business time counted day by day: the reference the table lookups must match."""
    if end <= start:
        return 0.0
    local_start, local_end = start.astimezone(cal.zone), end.astimezone(cal.zone)
    total, day = 0.0, local_start.date()
    while day <= local_end.date():
        if cal.is_working_day(day):
            day_start = datetime.combine(day, time.min, cal.zone)
            day_end = datetime.combine(day + timedelta(days=1), time.min, cal.zone)
            lo, hi = max(day_start, local_start), min(day_end, local_end)
            if hi > lo:
                total += (hi.astimezone(UTC) - lo.astimezone(UTC)) / timedelta(days=1)
        day += timedelta(days=1)
    return total


@settings(deadline=None)  # the reference walks up to 13 years day by day
@given(
    a=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2031, 12, 31)),
    b=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2031, 12, 31)),
    tz=st.sampled_from(
        ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"]
    ),
    workdays=st.lists(
        st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]), min_size=1, unique=True
    ),
    holidays=st.lists(st.dates(min_value=date(2019, 1, 1), max_value=date(2031, 12, 31))),
    warm=st.booleans(),
)
def test_business_time_by_arithmetic_matches_counting_day_by_day(
    a, b, tz, workdays, holidays, warm
):
    cal = Calendar(
        CalendarSettings(kind="business", timezone=tz, workdays=workdays, holidays=holidays)
    )
    start, end = sorted((a.replace(tzinfo=UTC), b.replace(tzinfo=UTC)))
    if warm:  # a table already grown around another moment, far away
        cal.days_between(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 2, tzinfo=UTC))
    assert abs(cal.days_between(start, end) - _days_by_iterating(cal, start, end)) < 1e-9


@settings(deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2031, 12, 31)),
    far=st.lists(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31)),
        min_size=1,
        max_size=4,
    ),
    tz=st.sampled_from(["UTC", "Europe/Berlin", "America/Santiago"]),
)
def test_a_position_on_the_business_clock_never_changes(moment, far, tz):
    """Positions taken before the table grows (either way) stay valid after it."""
    cal = Calendar(CalendarSettings(kind="business", timezone=tz))
    moment = moment.replace(tzinfo=UTC)
    first = cal.position(moment)
    for other in far:
        cal.position(other.replace(tzinfo=UTC))
    assert cal.position(moment) == first


@settings(derandomize=True, max_examples=600)
@given(
    created=moments,
    # Whole days, so that equal moments (a move and creation, two moves) are common.
    offsets=st.lists(st.integers(min_value=-2, max_value=30), max_size=10),
    names=st.lists(
        st.sampled_from(["To Do", "Backlog", "In Progress", "Done", "Closed", "Rejected", None]),
        min_size=10,
        max_size=10,
    ),
    finish=st.sampled_from([None, "Done", "Closed", "Rejected"]),
    shuffled=st.sampled_from([False, False, False, True]),
    resolution=st.sampled_from([None, "Fixed", "Won't Do"]),
    horizon=st.integers(min_value=0, max_value=45),
    before=st.integers(min_value=-3, max_value=45),
)
def test_a_timeline_without_its_intervals_answers_as_the_whole_one(
    created, offsets, names, finish, shuffled, resolution, horizon, before
):
    """A timeline that works its intervals out only when asked (of an issue finished
    and unchanged before a moment, or one that dropped them) answers every question
    exactly as the one built whole, whatever the history (out of order, changes to
    nowhere, changes after now)."""
    from dataclasses import replace

    from jira_chase.engine.model import Change

    changes = [
        Change(created + timedelta(days=o), "status", None, n) for o, n in zip(offsets, names)
    ]
    if finish is not None:
        changes.append(Change(created + timedelta(days=31), "status", None, finish))
    if not shuffled:
        changes.sort(key=lambda c: c.at)
    issue = replace(make_issue(), created=created, history=tuple(changes), resolution=resolution)
    now = created + timedelta(days=horizon)
    moment = created + timedelta(days=before)
    steps = StepMap.from_settings(
        make_settings().workflow, cancelled=["Rejected"], cancelled_resolutions=["Won't Do"]
    )
    whole = build_timeline(issue, steps, now)
    by_hand = Timeline(whole.issue_key, whole.intervals)  # (works everything out itself)
    assert whole.outside_statuses() == by_hand.outside_statuses()
    assert whole.done_arrivals() == by_hand.done_arrivals()
    settled = settled_timeline(issue, steps, now, moment)
    if settled is not None:  # only a settled issue may have one
        assert whole.settled_before(moment)
    released = build_timeline(issue, steps, now)
    release([released])
    assert released._intervals is None
    for lazy in (settled, released):
        if lazy is None:
            continue
        assert lazy.current == whole.current and lazy.is_done == whole.is_done
        assert lazy.settled_before(moment) == whole.settled_before(moment)
        assert lazy.last_done_arrival() == whole.last_done_arrival()
        assert lazy.outside_statuses() == whole.outside_statuses()
        assert lazy.current_step_entry() == whole.current_step_entry()
        assert lazy.finished_within(moment, now) == whole.finished_within(moment, now)
        assert lazy.done_arrivals() == whole.done_arrivals()
        assert lazy.intervals == whole.intervals and lazy == whole


def test_an_issue_finished_long_ago_builds_its_intervals_only_when_asked():
    issue = make_issue(path=[(1, "In Progress"), (3, "Done")])
    timeline = settled_timeline(issue, STEPS, at(100), at(50))
    assert timeline is not None and timeline._intervals is None
    assert timeline.current.status == "Done" and timeline.last_done_arrival() == at(3)
    assert timeline.outside_statuses() == ("To Do",)
    assert [i.status for i in timeline.intervals] == ["To Do", "In Progress", "Done"]
    reopened = make_issue(path=[(1, "In Progress"), (3, "Done"), (60, "In Progress")])
    assert settled_timeline(reopened, STEPS, at(100), at(50)) is None
