"""The contract every tracker source keeps. The sync algorithm sees only this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.model import Issue
from jira_chase.engine.plan import Operation
from jira_chase.engine.progress import Progress
from jira_chase.errors import IssueError


@dataclass
class SourceStats:
    """What talking to the tracker cost this run."""

    requests: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    #: Label writes the tracker would not let us make without notifying watchers (the
    #: bot lacks the permission to suppress notifications there), by project.
    noisy_by_project: dict[str, int] = field(default_factory=dict)

    @property
    def noisy_writes(self) -> int:
        return sum(self.noisy_by_project.values())


@dataclass(frozen=True)
class ServerIdentity:
    tracker: str
    url: str
    version: str
    deployment: str
    user: str
    #: The tracker's id for the account we sign in as (Jira accountId or user name).
    user_id: str = ""


@dataclass(frozen=True)
class TrackerNames:
    """The statuses the tracker knows, as it spells them: every status, and where a
    tracker's item types have their own statuses (ZenTao) also each `type:status`, with
    `typed` True."""

    statuses: tuple[str, ...]
    typed: bool = False
    #: The statuses where work waits before it starts, by the tracker's own word (Jira:
    #: the "To Do" status category; ZenTao: the states before work), as `statuses`
    #: spells them: the default of `workflow.backlog`.
    backlog: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What became of one operation: `error` is None when it was performed;
    `comment_id` names the managed comment a comment operation created or edited."""

    operation: Operation
    error: IssueError | None = None
    comment_id: str | None = None


class Memory(Protocol):
    """Facts a source learns about the tracker and keeps between runs (the state store
    implements it): e.g. where the bot may write silently, items the tracker refuses to
    edit. `kind` groups facts; keys and values are strings the source chooses."""

    def recall(self, kind: str) -> dict[str, str]: ...

    def remember(self, kind: str, key: str, value: str) -> None: ...

    def forget(self, kind: str, key: str) -> None: ...


class ScratchMemory:
    """A Memory that keeps facts for one run only: a source's default, and the overlay a
    dry run uses so that it reads what earlier runs learnt but never writes the store."""

    def __init__(self, base: Memory | None = None):
        self._base = base
        self._facts: dict[str, dict[str, str | None]] = {}

    def recall(self, kind: str) -> dict[str, str]:
        known = dict(self._base.recall(kind)) if self._base is not None else {}
        for key, value in self._facts.get(kind, {}).items():
            if value is None:
                known.pop(key, None)
            else:
                known[key] = value
        return known

    def remember(self, kind: str, key: str, value: str) -> None:
        self._facts.setdefault(kind, {})[key] = value

    def forget(self, kind: str, key: str) -> None:
        self._facts.setdefault(kind, {})[key] = None


#: Facts about the tracker that rarely change (a source's server info, its statuses),
#: kept between runs so that an idle run does not ask for them again. A run that
#: fails forgets them all: the failure may come from a change to them.
SITE_FACTS = "site"


class Source(Protocol):
    """A tracker seen as issues in, label/comment operations out.

    Errors: `jira_chase.errors.TrackerError` when the run as a whole cannot go on
    (credentials, scope query, unreachable or malformed answers); per-issue failures
    are reported as `Outcome.error` and never stop the other operations.
    """

    stats: SourceStats

    def use_memory(self, memory: Memory) -> None:
        """Keep what the source learns about the tracker in `memory` from now on (the
        run passes the state store; a dry run a read-only overlay of it)."""
        ...

    def identify(self) -> ServerIdentity:
        """Who we are talking to and as whom; proves the credentials work."""
        ...

    def validate_scope(self) -> int:
        """Run the scope query for a single item, proving the tracker accepts it, and
        return how many items the scope matches (Jira Cloud: its estimate)."""
        ...

    def known_names(self, fresh: bool = False) -> TrackerNames:
        """The statuses the tracker has, so that the configuration can be checked
        against them before anything is judged or written. A source may recall them
        from an earlier run's reading; `fresh` asks the tracker."""
        ...

    def known_resolutions(self) -> tuple[str, ...]:
        """The ways a finished item can be resolved (Jira resolutions; ZenTao close
        reasons and bug resolutions); asked only when the configuration names some."""
        ...

    def fetch_issues(self, progress: Progress | None = None) -> list[Issue]:
        """Every issue in the configured scope with its complete status history,
        oldest change first, however many pages and changelog requests that takes.
        `progress` hears of each item read (and of the total once the tracker says)."""
        ...

    def labels_of(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Current labels of the given issues, in or out of scope; an issue that does
        not exist (any more) is left out."""
        ...

    def managed_comments(self, issue_key: str, tag: str = "") -> list[ManagedComment]:
        """Every comment of the signed-in account on the issue tagged as the kind `tag`
        ("" the issue's own managed comment, "digest" the weekly check), oldest first
        (more than one only after a race, an older version or a restored backup)."""
        ...

    def find_labelled(
        self, labels: Sequence[str], projects: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Issues of the given projects carrying any of `labels`, with their current
        labels, whether in the scope or not: how a run finds its own labels again after
        the state was lost. A tracker without labels for some kinds of items leaves
        those out."""
        ...

    def find_managed_comment(self, issue_key: str) -> ManagedComment | None:
        """The bot's own tagged comment on the issue, if there is one. Only a comment
        written by the signed-in account and carrying the tag counts."""
        ...

    def apply(self, operations: Sequence[Operation]) -> list[Outcome]:
        """Perform the operations, each exactly once, without notifying watchers where
        the tracker allows; one Outcome per operation. Touches nothing the operations
        do not name. A comment is never created twice: when an attempt's result is
        unknown, the source looks for the comment before trying again."""
        ...
