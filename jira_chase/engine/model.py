"""Tracker-neutral domain objects.

Sources turn Jira or ZenTao payloads into these; the pure core (timeline, rules, plan)
sees nothing else. Every datetime here is timezone-aware.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

_T = TypeVar("_T")

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def record(cls: type[_T]) -> type[_T]:
        """(See below: to the type checker, a frozen dataclass.)"""
        ...

else:

    def record(cls):
        """A frozen dataclass to the type checker, a slotted dataclass with a hash at run
        time: for values built by the hundred thousand in one evaluation, whose frozen
        construction takes three times as long (never change one)."""
        return dataclass(slots=True, unsafe_hash=True)(cls)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the tracker knows: `id` is the tracker's stable id (Jira accountId)."""

    id: str
    name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One field change from the issue's history.

    `from_value`/`to_value` are display values (status names, person ids, label lists
    as space-separated text), which is what rules reason about.
    """

    at: datetime
    field: str
    from_value: str | None
    to_value: str | None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """A dependency between two issues, seen from the issue that holds it.

    `direction` is "inward" when the other issue acts on this one ("is blocked by" for
    Blocks) and "outward" otherwise.
    """

    type: str
    direction: str
    key: str
    project: str
    status: str | None = None
    status_category: str | None = None
    since: datetime | None = None
    #: Display name of the other issue's assignee; None when unassigned or unknown.
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on an issue: when and by whom (the tracker's person id). Rules only
    need to know that someone was active, so the text is optional."""

    at: datetime
    by: str | None = None
    body: str = ""
    #: The tracker's id of the comment, where the source reads it.
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Issue:
    """A snapshot of one tracker item with its full history, oldest change first."""

    key: str
    project: str
    type: str
    summary: str
    status: str
    created: datetime
    updated: datetime
    priority: str | None = None
    assignee: Person | None = None
    reporter: Person | None = None
    labels: tuple[str, ...] = ()
    duedate: date | None = None
    fix_versions: tuple[str, ...] = ()
    parent: str | None = None
    estimate: float | None = None
    flagged: bool = False
    history: tuple[Change, ...] = ()
    links: tuple[Link, ...] = ()
    #: False where the tracker has no labels for this kind of item (ZenTao tasks have
    #: no keywords): the plan then writes only the managed comment.
    labels_supported: bool = True
    comments: tuple[Comment, ...] = ()
    #: True when `comments` is every comment the issue has (with ids): the run can then
    #: tell from the issue alone whether the bot has commented, without asking again.
    comments_complete: bool = False
    #: The tracker's category of the current status (Jira: new, indeterminate, done).
    status_category: str | None = None
    #: How a finished issue ended (Jira resolution, ZenTao close reason); None if unknown.
    resolution: str | None = None
    #: False when the tracker gave no status history for an issue that must have one
    #: (it left the status it was created in): rules that need history do not judge it.
    history_known: bool = True
    #: The areas of the product the issue belongs to (Jira components).
    components: tuple[str, ...] = ()
    #: The status changes of `history`, oldest first (derived, not given).
    status_changes: tuple[Change, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        history = self.history
        changes = tuple(c for c in history if c.field == "status")
        # (a history of status changes alone is its own list of them: one tuple)
        object.__setattr__(
            self, "status_changes", history if len(changes) == len(history) else changes
        )

    @property
    def initial_status(self) -> str:
        changes = self.status_changes
        if changes and changes[0].from_value is not None:
            return changes[0].from_value
        return self.status


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that `max()` gives the worst."""

    WARN = 1
    CRITICAL = 2

    @property
    def label(self) -> str:
        return self.name.lower()


class Health(enum.Enum):
    """An issue's overall process health: the worst severity among its findings."""

    HEALTHY = "healthy"
    AT_RISK = "at-risk"
    OFF_TRACK = "off-track"

    @classmethod
    def from_severity(cls, severity: Severity | None) -> Health:
        if severity is None:
            return cls.HEALTHY
        return cls.OFF_TRACK if severity >= Severity.CRITICAL else cls.AT_RISK


@record
class Finding:
    """One rule's verdict on one issue, with the evidence a manager can check.

    `family` names the rule family (it becomes a reason label, e.g. `chase-stalled`),
    `rule` the specific rule, `config_key` the setting whose threshold was crossed, and
    `evidence` the facts in display order (name -> value as text).
    """

    issue_key: str
    family: str
    rule: str
    severity: Severity
    message: str
    config_key: str
    evidence: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: Names of evidence entries that change with the clock alone (e.g. "time in step");
    #: they are left out of the fingerprint so a comment is not re-edited every run.
    volatile: tuple[str, ...] = ()
    #: For a finding that several rules make together (`stuck`): each part's family and
    #: rule, strongest first.
    parts: tuple[tuple[str, str], ...] = ()

    @property
    def identity(self) -> str:
        """What the finding is, apart from its severity and the passing of time: a
        finding an issue did not have at its previous run (by this) is new to it."""
        return f"{self.family}/{self.rule}"

    def fingerprint(self) -> tuple[str, ...]:
        """What identifies this finding's content, apart from the passing of time."""
        stable = [f"{k}={v}" for k, v in self.evidence if k not in self.volatile]
        return (self.family, self.rule, self.severity.label, self.config_key, *stable)

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "issue": self.issue_key,
            "family": self.family,
            "rule": self.rule,
            "severity": self.severity.label,
            "message": self.message,
            "config_key": self.config_key,
            "evidence": dict(self.evidence),
        }
        if self.parts:
            doc["parts"] = [f"{family}/{rule}" for family, rule in self.parts]
        return doc


@dataclass(frozen=True, slots=True)
class TeamFinding:
    """A rule's verdict on the team's process as a whole (a step over its WIP limit, a
    goal checkpoint at risk, a core metric past its threshold). It names no issue, so
    it never becomes a label; it lives on the evaluation and in the run summary.

    `subject` says what it is about (e.g. "step review", "goal Release 1.4").
    """

    subject: str
    family: str
    rule: str
    severity: Severity
    message: str
    config_key: str
    evidence: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "family": self.family,
            "rule": self.rule,
            "severity": self.severity.label,
            "message": self.message,
            "config_key": self.config_key,
            "evidence": dict(self.evidence),
        }
