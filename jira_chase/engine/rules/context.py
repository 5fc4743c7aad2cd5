"""What every rule may look at besides the issue itself."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from jira_chase.config.settings import OverrideSettings, Settings, StepSettings
from jira_chase.engine.model import Change, Issue, Link
from jira_chase.engine.rules.values import FlowMetrics, GoalStatus
from jira_chase.engine.teams import Teams, project_of

if TYPE_CHECKING:
    from jira_chase.engine.rules.waits import TeamWaits
from jira_chase.engine.timeline import Calendar, StepMap, Timeline

#: The link type (case-insensitive) that makes one issue wait for another.
BLOCKS = "blocks"

#: The time zone people read times in (`calendar.timezone`): set when a judgement
#: starts, so evidence and comments show the team's local time.
DISPLAY_ZONE: ContextVar[tzinfo | None] = ContextVar("display_zone", default=None)


@dataclass(frozen=True, slots=True)
class Subject:
    """An issue under judgement together with its timeline."""

    issue: Issue
    timeline: Timeline


@dataclass(frozen=True)
class RuleContext:
    """The run's settings, calendar and clock. `bot_id` is the tracker id of the account
    the run signs in as (its own changes are never activity); `metrics` (the team's
    flow metrics) and `goals` (each goal's status) are measured before the rules run.
    """

    settings: Settings
    steps: StepMap
    calendar: Calendar
    now: datetime
    bot_id: str | None = None
    metrics: FlowMetrics | None = None
    goals: tuple[GoalStatus, ...] | None = None
    #: The waits between teams, both ways (measured with the metrics).
    waits: TeamWaits | None = None
    #: Each issue's team (`[[teams]]`, or its project); None: each issue's project.
    teams: Teams | None = None
    #: Every subject of the run, also those no rule judges one by one (finished long
    #: ago): what a rule reads about the rest of the scope (is the parent done?).
    #: None: the subjects the rule is given are the whole scope.
    scope: tuple[Subject, ...] | None = None
    #: (step, issue type, priority, project) -> `step_limit`'s answer, filled as asked.
    _limits: dict[tuple[str, str, str | None, str], tuple[float | None, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: (section, name, issue type, priority, project) -> `threshold`'s answer.
    _thresholds: dict[tuple[str, str, str, str | None, str], tuple[Any, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def build(cls, settings: Settings, now: datetime, *, bot_id: str | None = None) -> RuleContext:
        calendar = Calendar(settings.calendar)
        DISPLAY_ZONE.set(calendar.zone)
        return cls(
            settings=settings,
            steps=StepMap.from_settings(
                settings.workflow, settings.cancelled_statuses, settings.cancelled_resolutions
            ),
            calendar=calendar,
            now=now,
            bot_id=bot_id,
        )

    @property
    def unit(self) -> str:
        return "business days" if self.calendar.kind == "business" else "calendar days"

    @cached_property
    def _steps_by_name(self) -> dict[str, tuple[int, StepSettings]]:
        found: dict[str, tuple[int, StepSettings]] = {}
        for index, step in enumerate(self.settings.workflow.steps):
            found.setdefault(step.name, (index, step))
        return found

    def step(self, name: str) -> tuple[int, StepSettings]:
        """The step's index in `workflow.steps` (its place in the workflow) and settings."""
        return self._steps_by_name[name]

    def is_active(self, step_name: str | None) -> bool:
        """In a workflow step that is not marked `waiting`."""
        return step_name is not None and not self._steps_by_name[step_name][1].waiting

    def overrides_for(self, issue: Issue) -> list[tuple[int, OverrideSettings]]:
        """The `[[overrides]]` that apply to the issue, in file order (later ones win)."""
        return [
            (i, override)
            for i, override in enumerate(self.settings.overrides)
            if _applies(override, issue)
        ]

    def step_limit(self, issue: Issue, step_name: str) -> tuple[float | None, str]:
        """The step's time limit for this issue and the config key that set it."""
        # Overrides match on type, priority and project only: answer each such kind once.
        cache_key = (step_name, issue.type, issue.priority, issue.project)
        known = self._limits.get(cache_key)
        if known is None:
            known = self._limits[cache_key] = self._step_limit(issue, step_name)
        return known

    def _step_limit(self, issue: Issue, step_name: str) -> tuple[float | None, str]:
        index, step = self.step(step_name)
        value, key = step.limit_days, f"workflow.steps[{index}].limit_days"
        for i, override in self.overrides_for(issue):
            for j, step_override in enumerate(override.steps):
                if step_override.name == step_name:
                    value, key = step_override.limit_days, f"overrides[{i}].steps[{j}].limit_days"
        return value, key

    def threshold(self, issue: Issue, section: str, name: str) -> tuple[Any, str]:
        """`<section>.<name>` for this issue, after overrides, and the key that set it."""
        # Overrides match on type, priority and project only: answer each such kind once.
        cache_key = (section, name, issue.type, issue.priority, issue.project)
        known = self._thresholds.get(cache_key)
        if known is None:
            known = self._thresholds[cache_key] = self._threshold(issue, section, name)
        return known

    def _threshold(self, issue: Issue, section: str, name: str) -> tuple[Any, str]:
        value, key = getattr(getattr(self.settings, section), name), f"{section}.{name}"
        for i, override in self.overrides_for(issue):
            part = getattr(override, section, None)
            if part is not None and name in part.model_fields_set:
                value, key = getattr(part, name), f"overrides[{i}].{section}.{name}"
        return value, key

    def team_of(self, key: str, project: str | None = None) -> str:
        """The team of an issue of the scope; of one outside it, its project
        (`project` when known, else the key's)."""
        if self.teams is None:
            return project if project is not None else project_of(key)
        return self.teams.team_of(key, project)

    def is_own_change(self, change: Change) -> bool:
        """A change the bot made: by the bot's account, or (when the account is not
        known) a label change that only touched jira-chase's own labels."""
        if self.bot_id is not None and change.by == self.bot_id:
            return True
        if change.field.casefold() != "labels":
            return False
        prefix = self.settings.writeback.label_prefix.casefold()
        before = set((change.from_value or "").casefold().split())
        after = set((change.to_value or "").casefold().split())
        touched = before ^ after
        return bool(touched) and all(label.startswith(prefix) for label in touched)


def _applies(override: OverrideSettings, issue: Issue) -> bool:
    when = override.when
    for wanted, have in ((when.type, issue.type), (when.priority, issue.priority),
                         (when.project, issue.project)):  # fmt: skip
        if wanted is None:
            continue
        names = [wanted] if isinstance(wanted, str) else wanted
        if have is None or have.casefold() not in {n.casefold() for n in names}:
            return False
    return True


def is_blocked_by(link: Link) -> bool:
    """The link says another issue blocks this one."""
    return link.type.casefold() == BLOCKS and link.direction == "inward"


def is_unfinished(link: Link, ctx: RuleContext) -> bool:
    """The linked issue is not done (by its status category or the workflow)."""
    return link.status_category != "done" and not ctx.steps.is_finished(link.status)


def fmt_days(days: float, unit: str | None = None) -> str:
    """Durations as people say them: '1 day', '2.5 days'; with the calendar's `unit`,
    '2.5 days (business days)'."""
    rounded = round(days, 1)
    said = _DAYS_SAID.get(unit)
    if said is None:
        said = _DAYS_SAID[unit] = {}
    text = said.get(rounded)
    if text is None:
        if len(said) >= _DAYS_SAID_MAX:
            said.clear()
        number = f"{rounded:g}"
        text = f"{number} day" if number == "1" else f"{number} days"
        said[rounded] = text = f"{text} ({unit})" if unit is not None else text
    return text


#: What `fmt_days` said for each unit and duration (rounded to a tenth): a run says the
#: same few limits and ages thousands of times, and one string serves them all.
_DAYS_SAID: dict[str | None, dict[float, str]] = {}
_DAYS_SAID_MAX = 100_000


_Words = TypeVar("_Words", str, tuple[str, str])


class Phrasebook:
    """What a rule says about many issues, kept once: equal messages and evidence
    entries become one object (100,000 issues are told the same few thousand things).
    Only for words with few distinct values: each distinct one is remembered."""

    __slots__ = ("_said",)

    def __init__(self) -> None:
        self._said: dict[object, object] = {}

    def __call__(self, words: _Words) -> _Words:
        return self._said.setdefault(words, words)  # type: ignore[return-value]


#: How many issue keys an evidence list names before it only counts the rest.
EVIDENCE_KEYS = 10


def fmt_keys(keys: Sequence[str], *, total: int | None = None, shown: int = EVIDENCE_KEYS) -> str:
    """Issue keys for evidence, bounded: the first `shown` and how many more there are.
    `total` (when given) is how many issues the list stands for; `keys` then need only
    hold the first ones."""
    count = len(keys) if total is None else total
    named = keys[: min(shown, count)]
    more = count - len(named)
    return ", ".join(named) + (f" and {more} more" if more else "")


def _local(moment: datetime) -> datetime:
    zone = DISPLAY_ZONE.get()
    if zone is not None and moment.tzinfo is not None:
        return moment.astimezone(zone)
    return moment


def _day(moment: datetime) -> str:
    """'2026-11-20' for a moment already in the zone to show."""
    # (from tables rather than strftime: evidence formats a moment per finding)
    number = moment.toordinal()
    day = _DAY_TEXT.get(number)
    if day is None:
        if len(_DAY_TEXT) >= _DAYS_SAID_MAX:
            _DAY_TEXT.clear()
        day = _DAY_TEXT[number] = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    return day


def fmt_time(moment: datetime) -> str:
    """A moment as people read it: in the team's time zone (see DISPLAY_ZONE) with
    the zone's abbreviation, e.g. '2026-11-20 17:00 CET'."""
    moment = _local(moment)
    text = f"{_day(moment)} {_CLOCK[moment.hour * 60 + moment.minute]}"
    name = moment.tzname()
    return f"{text} {name}" if name else text


def fmt_date(moment: datetime) -> str:
    """The day a moment falls on in the team's time zone, e.g. '2026-11-20'."""
    return _day(_local(moment))


#: Each day's text by its proleptic ordinal, and each minute of a day's ("09:05").
_DAY_TEXT: dict[int, str] = {}
_CLOCK = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60))


def fmt_times(count: int) -> str:
    """A count of occurrences as people say it: 'once', 'twice', '3 times'."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


#: Issue field names as people say them (by lower-case config name).
FIELD_WORDS = {
    "duedate": "due date",
    "fixversion": "fix version",
    "fixversions": "fix version",
}


def fmt_field(name: str) -> str:
    """A configured field name in plain words: 'duedate' -> 'due date'."""
    return FIELD_WORDS.get(name.casefold(), name.casefold())


def fmt_share(value: float) -> str:
    """A fraction as a percentage: 0.125 -> '12.5%'."""
    return f"{round(100 * value, 1):g}%"
