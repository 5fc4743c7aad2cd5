"""What every rule may look at besides the issue itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jira_chase.config import Settings
from jira_chase.model import Issue
from jira_chase.timeline import Calendar, StepMap, Timeline


@dataclass(frozen=True)
class Subject:
    """An issue under judgement together with its timeline."""

    issue: Issue
    timeline: Timeline


@dataclass(frozen=True)
class RuleContext:
    settings: Settings
    steps: StepMap
    calendar: Calendar
    now: datetime

    @classmethod
    def build(cls, settings: Settings, now: datetime) -> RuleContext:
        return cls(
            settings=settings,
            steps=StepMap.from_settings(settings.workflow),
            calendar=Calendar(settings.calendar),
            now=now,
        )


def fmt_days(days: float) -> str:
    """Durations as people say them: '1 day', '2.5 days'."""
    rounded = round(days, 1)
    text = f"{rounded:g}"
    return f"{text} day" if text == "1" else f"{text} days"


def fmt_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()
