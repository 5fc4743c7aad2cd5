"""The Source contract over ZenTao's REST API v1 (see sources/base.py and the package
doc): the session, reading, the managed comment and keyword writes put together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import requests

from jira_chase.config.settings import ZenTaoSettings
from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.model import Issue
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.engine.progress import Progress
from jira_chase.errors import IssueError
from jira_chase.sources.base import (
    Memory,
    Outcome,
    ScratchMemory,
    ServerIdentity,
    SourceStats,
    TrackerNames,
)
from jira_chase.sources.zentao.items import (
    BACKLOG,
    BUG_RESOLUTIONS,
    STATES,
    STORY_CLOSE_REASONS,
    Refusals,
    split_key,
)
from jira_chase.sources.zentao.people import People
from jira_chase.sources.zentao.reading import SnapshotCache, ZenTaoReader
from jira_chase.sources.zentao.remarks import Remarks
from jira_chase.sources.zentao.session import HttpError, Malformed, ZenTaoSession
from jira_chase.sources.zentao.writing import KeywordWriter


class ZenTaoSource:
    """The Source contract over ZenTao. `snapshots` keeps item snapshots between runs;
    without it every item's history is read on every run. `clock` dates state changes
    ZenTao did not log."""

    def __init__(
        self,
        settings: ZenTaoSettings,
        *,
        snapshots: SnapshotCache | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.session = ZenTaoSession(settings)
        self.stats: SourceStats = self.session.stats
        self.memory: Memory = ScratchMemory()
        self.refusals = Refusals(self.memory)
        self.people = People(self.session)
        self.reader = ZenTaoReader(
            self.session, self.people, self.refusals, snapshots=snapshots, clock=clock
        )
        self.remarks = Remarks(self.session, self.people, self.reader, self.memory)
        self.keywords = KeywordWriter(self.session, self.reader, self.refusals)

    @property
    def logins(self) -> int:
        """How often the session was renewed after a 401 (tokens are session ids)."""
        return self.session.logins

    def use_memory(self, memory: Memory) -> None:
        self.memory = memory
        self.refusals.use(memory)
        self.remarks.memory = memory

    def identify(self) -> ServerIdentity:
        return self.reader.identify()

    def validate_scope(self) -> int:
        return self.reader.validate_scope()

    def known_names(self, fresh: bool = False) -> TrackerNames:
        """ZenTao's states per item type (fixed by ZenTao, no request needed), as plain
        names and as `type:state`."""
        plain = {state for states in STATES.values() for state in states}
        typed = {f"{kind}:{state}" for kind, states in STATES.items() for state in states}
        return TrackerNames(statuses=tuple(sorted(plain | typed)), typed=True, backlog=BACKLOG)

    def known_resolutions(self) -> tuple[str, ...]:
        """ZenTao's close reasons (stories) and bug resolutions (fixed by ZenTao)."""
        return tuple(sorted({*STORY_CLOSE_REASONS, *BUG_RESOLUTIONS}))

    def fetch_issues(self, progress: Progress | None = None) -> list[Issue]:
        return self.reader.fetch_issues(progress)

    def labels_of(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return self.reader.labels_of(keys)

    def find_labelled(
        self, labels: Sequence[str], projects: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Nothing to search for: the scope is every story and bug of the configured
        products (tasks have no keywords), so no item of them carries our keywords
        outside the scope. Items of a product dropped from the configuration are found
        through the state store and read with `labels_of`."""
        return {}

    def managed_comments(self, issue_key: str, tag: str = "") -> list[ManagedComment]:
        return self.remarks.managed_comments(issue_key, tag)

    def find_managed_comment(self, issue_key: str) -> ManagedComment | None:
        found = self.managed_comments(issue_key)
        return found[0] if found else None

    def apply(self, operations: Sequence[Operation]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for op in operations:
            try:
                outcomes.append(Outcome(op, comment_id=self._apply_one(op)))
            except IssueError as exc:
                outcomes.append(Outcome(op, error=exc))
        return outcomes

    def _apply_one(self, op: Operation) -> str | None:
        kind, number = split_key(op.issue_key)
        try:
            if op.kind == LABELS:
                self.keywords.write(op, kind, number)
                return None
            if op.kind == COMMENT_CREATE:
                assert op.comment is not None
                return self.remarks.create(op.issue_key, kind, number, op.comment)
            if op.kind == COMMENT_UPDATE:
                assert op.comment is not None and op.comment_id is not None
                return self.remarks.edit(op.issue_key, kind, number, op.comment_id, op.comment)
            if op.kind == COMMENT_DELETE:
                assert op.comment_id is not None
                self.remarks.withdraw(op.issue_key, kind, number, op.comment_id)
                return None
        except HttpError as exc:
            if exc.status == 401:
                raise self.session.run_error(f"writing {op.issue_key}", exc) from None
            raise IssueError(
                op.issue_key,
                f"HTTP {exc.status} on {op.kind} ({op.reason}): {exc.detail}",
                status=exc.status,
            ) from None
        except (Malformed, requests.RequestException) as exc:
            raise IssueError(op.issue_key, f"{op.kind} ({op.reason}) failed: {exc}") from None
        raise ValueError(f"the ZenTao source cannot apply {op.kind!r} operations")
