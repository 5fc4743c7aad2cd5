"""The contract every tracker source keeps. The sync algorithm sees only this."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from jira_chase.model import Issue
from jira_chase.plan import Operation


@dataclass
class SourceStats:
    """What talking to the tracker cost this run."""

    requests: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerIdentity:
    tracker: str
    url: str
    version: str
    deployment: str
    user: str


class Source(Protocol):
    """A tracker seen as issues in, label/comment operations out.

    Errors: `jira_chase.errors.TrackerError` when the run as a whole cannot go on
    (credentials, scope query, unreachable or malformed answers); `IssueError` when a
    single issue cannot be written — the caller records it and continues.
    """

    stats: SourceStats

    def identify(self) -> ServerIdentity:
        """Who we are talking to and as whom; proves the credentials work."""
        ...

    def validate_scope(self) -> None:
        """Run the scope query for a single item, proving the tracker accepts it."""
        ...

    def fetch_issues(self) -> list[Issue]:
        """Every issue in the configured scope with its complete status history,
        oldest change first, however many pages and changelog requests that takes."""
        ...

    def apply(self, operation: Operation) -> None:
        """Perform one operation exactly once, without notifying watchers where the
        tracker allows. Touches nothing the operation does not name."""
        ...
