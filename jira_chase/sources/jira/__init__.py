"""Jira Cloud (REST v3, enhanced search) and Data Center (REST v2) through the `jira` library.

Cloud: issues come from `search/jql` paged by `nextPageToken` (the old `/search` is
gone); inline changelogs stop at 40 entries, so longer histories are completed with
`changelog/bulkfetch`. Data Center: `/search` paged by `startAt`, paging by the
`maxResults` the server answers with, full changelog inline.

What differs between the two is said once, in `cloud.py` and `datacenter.py` (a
`JiraSite` each, chosen when the source is made); everything else is shared:

- `site.py`: the client, its retries, request counting and the mapping of Jira's
  answers to errors that name what to fix;
- `payload.py`: Jira's issue JSON -> `Issue`;
- `reading.py`: the scope's issues (incrementally, with a snapshot cache), labels, links;
- `notifications.py`: where the bot may write without notifying watchers;
- `writing.py`: label edits (one by one, or in bulk where the site allows) and the
  managed comments.

`JiraSource`, here, keeps the `Source` contract (sources/base.py) over all of these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from jira import JIRAError

from jira_chase.config.settings import JiraSettings
from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.model import Issue
from jira_chase.engine.plan import Operation
from jira_chase.engine.progress import Progress
from jira_chase.sources.base import Memory, Outcome, ServerIdentity, TrackerNames
from jira_chase.sources.jira.cloud import CloudSite
from jira_chase.sources.jira.datacenter import DataCenterSite
from jira_chase.sources.jira.notifications import Notifications
from jira_chase.sources.jira.reading import FULL_READ_EVERY, IssueSnapshots, JiraReader
from jira_chase.sources.jira.site import JiraSite, error_text
from jira_chase.sources.jira.writing import JiraWriter


class JiraSource:
    """Issues in, label and comment operations out, for one Jira site."""

    def __init__(
        self,
        settings: JiraSettings,
        snapshots: IssueSnapshots | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        full_read_every: timedelta = FULL_READ_EVERY,
    ):
        self.cloud = settings.deployment == "cloud"
        self.site: JiraSite = CloudSite(settings) if self.cloud else DataCenterSite(settings)
        self.stats = self.site.stats
        self.reader = JiraReader(self.site, snapshots, clock, full_read_every)
        self.notifications = Notifications(self.site)
        self.writer = JiraWriter(self.site, self.reader, self.notifications)

    @property
    def memory(self) -> Memory:
        return self.site.memory

    # -- the contract ---------------------------------------------------------------

    def use_memory(self, memory: Memory) -> None:
        self.site.memory = memory

    def identify(self) -> ServerIdentity:
        return self.site.identify()

    def validate_scope(self) -> int:
        return self.site.validate_scope()

    def known_names(self, fresh: bool = False) -> TrackerNames:
        return self.reader.known_names(fresh)

    def known_resolutions(self) -> tuple[str, ...]:
        return self.reader.known_resolutions()

    def fetch_issues(self, progress: Progress | None = None) -> list[Issue]:
        return self.reader.fetch_issues(progress)

    def labels_of(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return self.reader.labels_of(keys)

    def find_labelled(
        self, labels: Sequence[str], projects: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        return self.reader.find_labelled(labels, projects)

    def managed_comments(self, issue_key: str, tag: str = "") -> list[ManagedComment]:
        return self.writer.managed_comments(issue_key, tag)

    def find_managed_comment(self, issue_key: str) -> ManagedComment | None:
        return self.writer.find_managed_comment(issue_key)

    def apply(self, operations: Sequence[Operation]) -> list[Outcome]:
        return self.writer.apply(operations)

    # -- beyond the contract: `check` and saved filters (run/filters.py) ----------------

    def bot_id(self) -> str:
        return self.site.bot_id()

    def notification_modes(self) -> dict[str, bool | None]:
        """Per project this configuration writes to: True when label changes there are
        silent, False when they email the issue's watchers, None when Jira does not say.
        Asks Jira afresh."""
        return self.notifications.modes()

    def scope_project_ids(self) -> dict[str, str]:
        """The key -> id of every project with an issue in the scope."""
        return self.reader.scope_project_ids()

    def request_json(
        self, method: str, path: str, doing: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        """One call of the REST API under `rest/api/<version>/`, its JSON answer (see
        `JiraSite.request_json`)."""
        return self.site.request_json(method, path, doing, params=params, body=body)

    def error_text(self, exc: JIRAError) -> str:
        """What Jira said in a refused request, in one line."""
        return error_text(exc)
