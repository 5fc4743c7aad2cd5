"""Projects that refused every write. When every write a sync sent to a Jira project was
refused for lack of permission (HTTP 401 or 403: the bot may read the project but not
edit or comment there), the state store keeps that, with the time; the syncs of the
next day hold that project's writes back instead of being refused again issue by issue
(the summary says so once). After a day the writes are tried again; one write there
that goes through forgets the refusal, and `sync --retry-refused` tries at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jira_chase.engine.plan import project_of
from jira_chase.sources.base import Memory, Outcome

#: The fact kind (state store) that keeps, per project key, its refusal.
REFUSED_PROJECTS = "refused-project"
#: How long a project that refused every write is left alone.
HOLD = timedelta(days=1)
#: The answers that say the bot may not write there.
PERMISSION = frozenset({401, 403})


@dataclass(frozen=True)
class Refusal:
    """A project that refused every write of the sync as of `at`: `writes` of them,
    with HTTP `status`."""

    project: str
    at: datetime
    status: int
    writes: int

    @property
    def retry_after(self) -> datetime:
        return self.at + HOLD

    def holds_at(self, now: datetime) -> bool:
        """Whether a run as of `now` leaves the project alone (a run reproduced with an
        earlier `--now` within the day too)."""
        return abs(now - self.at) < HOLD

    def to_dict(self) -> dict[str, object]:
        return {
            "project": self.project,
            "refused_at": self.at.isoformat(),
            "retry_after": self.retry_after.isoformat(),
            "status": self.status,
            "refused_writes": self.writes,
        }


def in_force(memory: Memory, now: datetime) -> dict[str, Refusal]:
    """The projects whose writes a run as of `now` holds back, by project key."""
    found: dict[str, Refusal] = {}
    for project, value in memory.recall(REFUSED_PROJECTS).items():
        try:
            doc = json.loads(value)
            refusal = Refusal(project, datetime.fromisoformat(doc["at"]), int(doc["status"]),
                              int(doc["writes"]))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            continue  # unreadable (written by another version): the writes are tried
        if refusal.holds_at(now):
            found[project] = refusal
    return found


@dataclass
class RefusalTally:
    """What became of a sync's writes, per project: how many were sent, how many went
    through, and the permission refusals among the rest."""

    sent: dict[str, int] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)
    refused: dict[str, list[int]] = field(default_factory=dict)

    def add(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            project = project_of(outcome.operation.issue_key)
            self.sent[project] = self.sent.get(project, 0) + 1
            error = outcome.error
            if error is None:
                self.done[project] = self.done.get(project, 0) + 1
            elif error.status in PERMISSION:
                self.refused.setdefault(project, []).append(error.status)

    def learn(self, memory: Memory, now: datetime) -> list[Refusal]:
        """Keep the projects that refused every write sent to them, forget those where
        one went through; the refusals learnt, in project order."""
        known = memory.recall(REFUSED_PROJECTS)
        learnt: list[Refusal] = []
        for project in sorted(self.sent):
            if self.done.get(project):
                if project in known:
                    memory.forget(REFUSED_PROJECTS, project)
                continue
            statuses = self.refused.get(project, [])
            if len(statuses) == self.sent[project]:
                refusal = Refusal(project, now, max(statuses), len(statuses))
                value = {"at": now.isoformat(), "status": refusal.status, "writes": refusal.writes}
                memory.remember(REFUSED_PROJECTS, project, json.dumps(value))
                learnt.append(refusal)
        return learnt
