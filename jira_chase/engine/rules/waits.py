"""Waits between teams, both ways: how long other teams wait on us, and we on them.

A team is a `[[teams]]` entry, or a project (see `jira_chase.engine.teams`); an issue outside
the scope (a blocker not fetched) is of its project. A wait is one issue of a team
blocked by one issue of another team (a "Blocks" link). It starts when the link was
made — Jira records a link in the changelog (field "Link", "This issue is blocked by
OPS-77") — or, without a link date, when the waiting issue entered a waiting step while
linked; without either its start is unknown, and it counts as open without a duration.
It ends when the link is removed, or when the blocker or the waiting issue is finished
(at that moment when the issue is in the scope; otherwise at an unknown moment).

Every wait is seen from the issues of the scope, in one pass over their links and link
changes: an issue blocked by another team's issue is a wait we suffer; one that blocks
another team's issue is a wait we cause. Seen from both ends (both teams in the scope),
a wait is counted once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from jira_chase.engine.model import Issue
from jira_chase.engine.rules.context import BLOCKS, RuleContext, Subject, is_unfinished
from jira_chase.engine.rules.values import percentile

#: What Jira writes in the changelog of each end of a Blocks link.
_LINK_TEXT = re.compile(r"^This issue (blocks|is blocked by) ([A-Za-z][A-Za-z0-9_]*-\d+)$")


@dataclass(frozen=True, slots=True)
class Wait:
    """`waiting` (of `waiting_team`) waits on `blocker` (of `blocker_team`) from `start`
    (None: unknown) until `end` (None: open, or ended at an unknown moment)."""

    waiting: str
    blocker: str
    start: datetime | None
    end: datetime | None
    open: bool
    waiting_team: str
    blocker_team: str

    def days(self, ctx: RuleContext) -> float | None:
        """How long it lasted (or has lasted, while open); None when not known."""
        if self.start is None or (self.end is None and not self.open):
            return None
        return ctx.calendar.days_between(self.start, self.end or ctx.now)


def _link_changes(issue: Issue) -> Iterator[tuple[str, str, datetime, bool]]:
    """(direction, other key, when, added) for each Blocks link change of the issue."""
    if issue.status_changes is issue.history:
        return  # a history of status changes alone
    for change in issue.history:
        if change.field != "Link":
            continue
        for text, added in ((change.to_value, True), (change.from_value, False)):
            match = _LINK_TEXT.match(text or "")
            if match:
                direction = "outward" if match.group(1) == "blocks" else "inward"
                yield direction, match.group(2), change.at, added


def _episodes(issue: Issue, ctx: RuleContext) -> dict[tuple[str, str], list[list[datetime | None]]]:
    """(direction, other key) -> [start, removed] stretches of Blocks links, oldest first;
    a current link without a change that made it has an unknown start."""
    found: dict[tuple[str, str], list[list[datetime | None]]] = {}
    for direction, key, at, added in _link_changes(issue):
        if at > ctx.now:
            continue
        stretches = found.setdefault((direction, key), [])
        if added:
            stretches.append([at, None])
        elif stretches and stretches[-1][1] is None:
            stretches[-1][1] = at
        else:
            stretches.append([None, at])  # removed, made before the history begins
    mine = ctx.team_of(issue.key, issue.project)
    for link in issue.links:
        if link.type.casefold() != BLOCKS or ctx.team_of(link.key, link.project) == mine:
            continue
        stretches = found.setdefault((link.direction, link.key), [])
        if not stretches or stretches[-1][1] is not None:
            stretches.append([link.since, None])
    return found


def _finished_at(subject: Subject | None) -> datetime | None:
    if subject is None or not subject.timeline.is_done:
        return None
    return subject.timeline.last_done_arrival()


def waits(subjects: Sequence[Subject], ctx: RuleContext) -> list[Wait]:
    """Every wait between a team of the scope and another team, seen from the scope."""
    by_key = {s.issue.key: s for s in subjects}
    found: dict[tuple[str, str, datetime | None], Wait] = {}
    for subject in subjects:
        issue = subject.issue
        if not issue.links and issue.status_changes is issue.history:
            continue
        current = {(link.direction, link.key): link for link in issue.links}
        mine = ctx.team_of(issue.key, issue.project)
        for (direction, other), stretches in _episodes(issue, ctx).items():
            link = current.get((direction, other))
            theirs = ctx.team_of(other, link.project if link is not None else None)
            if theirs == mine:
                continue
            waiting, blocker = (issue.key, other) if direction == "inward" else (other, issue.key)
            teams = (mine, theirs) if direction == "inward" else (theirs, mine)
            for start, removed in stretches:
                if start is None and waiting == issue.key:
                    start = _waiting_since(subject, ctx)
                wait = _wait(waiting, blocker, start, removed, link, by_key, ctx, teams)
                known = found.get((waiting, blocker, wait.start))
                if known is None or (known.end is None and not known.open and wait.end):
                    found[(waiting, blocker, wait.start)] = wait
    return sorted(found.values(), key=lambda w: (w.start is None, w.start or ctx.now, w.waiting))


def _waiting_since(subject: Subject, ctx: RuleContext) -> datetime | None:
    """Without a link date: when the waiting issue entered the waiting step it is in."""
    step = subject.timeline.current.step
    if step is None or ctx.is_active(step) or not subject.timeline.known:
        return None
    return subject.timeline.current_step_entry()


def _wait(
    waiting: str,
    blocker: str,
    start: datetime | None,
    removed: datetime | None,
    link: object,
    by_key: dict[str, Subject],
    ctx: RuleContext,
    teams: tuple[str, str],
) -> Wait:
    if removed is not None:
        return Wait(waiting, blocker, start, removed, False, *teams)
    # The link stands: the wait lasts while both ends are unfinished.
    ends = []
    for key in (waiting, blocker):
        subject = by_key.get(key)
        if subject is not None:
            done = _finished_at(subject)
            if done is not None:
                ends.append(done)
        elif link is not None and not is_unfinished(link, ctx):  # type: ignore[arg-type]
            return Wait(waiting, blocker, start, None, False, *teams)  # ended, when unknown
    if ends:
        return Wait(waiting, blocker, start, min(ends), False, *teams)
    return Wait(waiting, blocker, start, None, True, *teams)


@dataclass(frozen=True)
class WaitStats:
    """Waits of one direction for one team, over the metrics window."""

    count: int
    open: int
    median_days: float | None
    p85_days: float | None
    #: Open waits now, oldest first: (waiting, blocker, days or None when unknown).
    open_now: tuple[tuple[str, str, float | None], ...]
    unknown_start: int

    def to_dict(self) -> dict[str, object]:
        return {
            "count": self.count,
            "open": self.open,
            "median_days": None if self.median_days is None else round(self.median_days, 1),
            "p85_days": None if self.p85_days is None else round(self.p85_days, 1),
            "open_now": [
                {"waiting": w, "blocker": b, "days": None if d is None else round(d, 1)}
                for w, b, d in self.open_now
            ],
            "unknown_start": self.unknown_start,
        }

    def describe(self) -> str:
        median = f", median {self.median_days:.1f} days" if self.median_days is not None else ""
        return f"{self.open} open{median}"


@dataclass(frozen=True)
class TeamWaits:
    """Per team of the scope: the waits it caused (others waited on it) and suffered."""

    caused: dict[str, WaitStats]
    suffered: dict[str, WaitStats]
    waits: tuple[Wait, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            team: {"caused": self.caused[team].to_dict(), "suffered": self.suffered[team].to_dict()}
            for team in self.caused
        }

    def lines(self) -> list[str]:
        return [
            f"{team}: others waited on us {self.caused[team].describe()}; we waited on others "
            f"{self.suffered[team].describe()}"
            for team in self.caused
            if self.caused[team].count or self.suffered[team].count
        ]


def _stats(found: list[Wait], ctx: RuleContext) -> WaitStats:
    days = [d for d in (w.days(ctx) for w in found) if d is not None]
    open_now = sorted(
        ((w.waiting, w.blocker, w.days(ctx)) for w in found if w.open),
        key=lambda row: (row[2] is None, -(row[2] or 0.0), row[0]),
    )
    return WaitStats(
        count=len(found),
        open=len(open_now),
        median_days=percentile(days, 0.5) if days else None,
        p85_days=percentile(days, 0.85) if days else None,
        open_now=tuple(open_now),
        unknown_start=sum(1 for w in found if w.start is None),
    )


def team_waits(subjects: Sequence[Subject], ctx: RuleContext, window_start: datetime) -> TeamWaits:
    """The waits of the metrics window (open now, or ended inside it), per team of the
    scope, both ways."""
    found = [
        w for w in waits(subjects, ctx) if w.open or (w.end is not None and w.end >= window_start)
    ]
    if ctx.teams is not None:
        teams = list(ctx.teams.names)
    else:
        teams = sorted({s.issue.project for s in subjects})
    caused: dict[str, list[Wait]] = {t: [] for t in teams}
    suffered: dict[str, list[Wait]] = {t: [] for t in teams}
    for wait in found:
        if wait.blocker_team in caused:
            caused[wait.blocker_team].append(wait)
        if wait.waiting_team in suffered:
            suffered[wait.waiting_team].append(wait)
    return TeamWaits(
        caused={t: _stats(caused[t], ctx) for t in teams},
        suffered={t: _stats(suffered[t], ctx) for t in teams},
        waits=tuple(found),
    )
