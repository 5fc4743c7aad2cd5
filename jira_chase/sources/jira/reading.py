"""The reading side of the Jira source: the scope's issues (incrementally, against the
snapshots of an earlier run), the labels of given issues, and what links show of the
issues they point to."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from jira_chase.config.values import closest_names
from jira_chase.engine.model import Issue, Link
from jira_chase.engine.progress import NO_PROGRESS, Progress
from jira_chase.errors import ConfigError, TrackerError
from jira_chase.jql import without_order_by
from jira_chase.sources.base import SITE_FACTS, TrackerNames
from jira_chase.sources.jira.payload import parse_jira_time, person, to_issue
from jira_chase.sources.jira.site import JiraSite

#: Fields the rules need; custom fields are added by name once the site's ids are known.
BASE_FIELDS = (
    "summary",
    "status",
    "issuetype",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "created",
    "updated",
    "duedate",
    "fixVersions",
    "components",
    "parent",
    "issuelinks",
    "project",
    "comment",
    "resolution",
)

#: The story-point field of Jira Software: its own type (team-managed Cloud projects),
#: else a number field by the name Jira Software gives it (company-managed Cloud
#: projects, Data Center), in any case; a site that renamed it sets `jira.estimate_field`.
STORY_POINTS_TYPE = "com.pyxis.greenhopper.jira:jsw-story-points"
NUMBER_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:float"
STORY_POINTS_NAMES = ("story point estimate", "story points")
FLAGGED_FIELD_NAMES = ("Flagged",)
#: Keys named in one `key in (...)` query.
KEYS_PER_QUERY = 100
#: Minutes added to the window of an incremental fetch, for search-index lag.
OVERLAP_MINUTES = 10
#: Where the issue snapshots live in the state store, and the facts about the fetch.
SNAPSHOT_SOURCE = "jira"
SNAPSHOT_VERSION = 1
FETCH_FACTS = "jira-fetch"
#: How often the whole scope is read again: what a search by `updated` cannot see (a
#: comment deleted without touching the issue, an index that missed a change) is
#: corrected within this time (`state.full_read_hours`).
FULL_READ_EVERY = timedelta(hours=24)


class IssueSnapshots(Protocol):
    """Issue snapshots kept between runs (the state store), with the facts that say
    how current they are (`FETCH_FACTS`): both are kept in the same place, so a run
    that stores snapshots (a sync, a report) also stores when it read them, and a run
    that keeps nothing (a plan on a copy of the state) keeps neither."""

    def issue_snapshots(self, source: str) -> dict[str, Issue]: ...

    def update_issue_snapshots(
        self, source: str, changed: Sequence[Issue], removed: Iterable[str], *, replace: bool
    ) -> None: ...

    def recall(self, kind: str) -> dict[str, str]: ...

    def remember(self, kind: str, key: str, value: str) -> None: ...


def _schema(field: dict[str, Any]) -> dict[str, Any]:
    schema = field.get("schema")
    return schema if isinstance(schema, dict) else {}


def jql_string(value: str) -> str:
    """A JQL string literal for `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class JiraReader:
    """Reads the site for the source: every search goes through `site`, which knows
    how this kind of Jira pages, counts and gives changelogs."""

    def __init__(
        self,
        site: JiraSite,
        snapshots: IssueSnapshots | None,
        clock: Callable[[], datetime],
        full_read_every: timedelta = FULL_READ_EVERY,
    ):
        self.site = site
        self.full_read_every = full_read_every
        self.settings = site.settings
        self.snapshots = snapshots
        self.clock = clock
        self._progress: Progress = NO_PROGRESS
        self._fields_listed: list[dict[str, Any]] | None = None
        #: Issue key -> id of every issue read, for answers that name issues by id.
        self.issue_ids: dict[str, str] = {}

    def site_fields(self) -> list[dict[str, Any]]:
        """The site's fields (`GET field`), each with a name and an id; asked once."""
        if self._fields_listed is None:
            fields = self.site.call("listing fields", self.site.client.fields)
            self._fields_listed = [
                f for f in fields if isinstance(f, dict) and f.get("name") and f.get("id")
            ]
        return self._fields_listed

    def field_ids(self) -> dict[str, str]:
        """Display name -> field id for the custom fields the rules read."""
        return {str(f["name"]): str(f["id"]) for f in self.site_fields()}

    def _custom_field(self, names: tuple[str, ...]) -> str | None:
        ids = self.field_ids()
        return next((ids[n] for n in names if n in ids), None)

    def estimate_field(self) -> str | None:
        """The id of the field estimates are read from: `jira.estimate_field` (a field's
        name or id, in any case), else the site's story-point field (see
        STORY_POINTS_TYPE); None when the site has none. A configured field the site
        lacks is a ConfigError naming the closest names."""
        fields = self.site_fields()
        wanted = self.settings.estimate_field.strip()
        if wanted:
            folded = wanted.casefold()
            found = [f for f in fields if str(f["id"]).casefold() == folded] or [
                f for f in fields if str(f["name"]).casefold() == folded
            ]
            if found:
                return str(found[0]["id"])
            numbers = [str(f["name"]) for f in fields if _schema(f).get("type") == "number"]
            raise ConfigError([
                f"jira.estimate_field: the Jira site has no field {wanted!r}; "
                f"{closest_names(wanted, numbers or [str(f['name']) for f in fields])} "
                "(a field's name or id, e.g. customfield_10016)"
            ])  # fmt: skip
        own = [f for f in fields if _schema(f).get("custom") == STORY_POINTS_TYPE]
        named = [
            f for f in fields
            if _schema(f).get("custom") == NUMBER_TYPE
            and str(f["name"]).casefold() in STORY_POINTS_NAMES
        ]  # fmt: skip
        return next((str(f["id"]) for f in own + named), None)

    def number_fields(self) -> list[str]:
        """The names of the site's number fields (where an estimate may live)."""
        return sorted(
            str(f["name"]) for f in self.site_fields() if _schema(f).get("type") == "number"
        )

    def known_names(self, fresh: bool = False) -> TrackerNames:
        """Every status of the site (`GET status`), and those of the "To Do" category;
        recalled from an earlier run's reading (a site fact) unless `fresh`."""
        if fresh:
            self.site.memory.forget(SITE_FACTS, "status")
        statuses = self.site.site_fact(
            "status", lambda: self.site.get_list("status", "listing the site's statuses")
        )
        named = [s for s in statuses if isinstance(s, dict) and s.get("name")]
        backlog = {
            str(s["name"])
            for s in named
            if isinstance(s.get("statusCategory"), dict) and s["statusCategory"].get("key") == "new"
        }
        return TrackerNames(
            tuple(sorted({str(s["name"]) for s in named})), backlog=tuple(sorted(backlog))
        )

    def known_resolutions(self) -> tuple[str, ...]:
        """Every resolution of the site (`GET resolution`)."""
        found = self.site.get_list("resolution", "listing the site's resolutions")
        return tuple(sorted(
            {str(r["name"]) for r in found if isinstance(r, dict) and r.get("name")}
        ))  # fmt: skip

    def fetch_issues(self, progress: Progress | None = None) -> list[Issue]:
        """The scope's issues (`progress` hears of each one read). With a snapshot cache
        and an earlier fetch of the same scope and fields, only the issues updated since
        then (with an overlap) are read in full; a count of the scope tells whether any
        left it or were deleted, and only then are the scope's keys listed. Once every
        `full_read_every` the whole scope is read again, whatever changed. The links'
        view of other issues (status, assignee) is refreshed every run, since their
        changes do not touch ours."""
        self._progress = progress or NO_PROGRESS
        fields = self._fields()
        fingerprint = hashlib.sha256(
            json.dumps([SNAPSHOT_VERSION, self.site.api, self.settings.scope, fields]).encode()
        ).hexdigest()[:16]
        started = self.clock()
        # The stamps live beside the snapshots, not in the run's memory: a report (a
        # dry run that keeps its snapshots) otherwise stored issues it could not use
        # again, and re-read the whole scope on every run.
        known = self.snapshots.recall(FETCH_FACTS) if self.snapshots is not None else {}
        cached = (
            self.snapshots.issue_snapshots(SNAPSHOT_SOURCE)
            if self.snapshots is not None and known.get("fingerprint") == fingerprint
            else {}
        )
        since = known.get("since")
        full = known.get("full")
        if full is not None and started - datetime.fromisoformat(full) >= self.full_read_every:
            since = None  # time for a full read
        if not cached or since is None or full is None:
            issues = {i.key: i for i in self._fetch(self.settings.scope, fields)}
            changed, removed, replace = list(issues.values()), set(cached), True
        else:
            issues, changed, removed = self._fetch_changes(cached, since, started, fields)
            replace = False
        if self.snapshots is not None:
            self.snapshots.update_issue_snapshots(
                SNAPSHOT_SOURCE, changed, removed, replace=replace
            )
            # After the snapshots: a stamp never claims more than the cache holds.
            self.snapshots.remember(FETCH_FACTS, "fingerprint", fingerprint)
            self.snapshots.remember(FETCH_FACTS, "since", started.isoformat())
            if replace:
                self.snapshots.remember(FETCH_FACTS, "full", started.isoformat())
        return self._refresh_links(list(issues.values()))

    def _fields(self) -> list[str]:
        estimate_id = self.estimate_field()
        flagged_id = self._custom_field(FLAGGED_FIELD_NAMES)
        return list(BASE_FIELDS) + [f for f in (estimate_id, flagged_id) if f]

    def _fetch_changes(
        self, cached: dict[str, Issue], since: str, started: datetime, fields: list[str]
    ) -> tuple[dict[str, Issue], list[Issue], set[str]]:
        """Cached issues brought up to date: (all issues, those read now, keys gone)."""
        elapsed = max(0.0, (started - datetime.fromisoformat(since)).total_seconds())
        minutes = math.ceil(elapsed / 60) + OVERLAP_MINUTES
        scope = without_order_by(self.settings.scope)
        # Relative to the server's clock, so neither clock skew nor the site's time zone
        # can move the window.
        jql = f'({scope}) AND updated >= "-{minutes}m" ORDER BY key'
        # First only the keys and update times in the window (thousands a page), then in
        # full only the issues that are new or differ from their snapshot: the window's
        # overlap re-lists recent changes every run, but reads none of them twice.
        window = self.site.search(
            jql, ["updated"], expand=None, doing="searching jira.scope for changes",
            max_results=self.site.key_page_size,
        )  # fmt: skip
        stale = sorted(
            str(raw["key"])
            for raw in window
            if str(raw["key"]) not in cached
            or parse_jira_time(str((raw.get("fields") or {}).get("updated")))
            != cached[str(raw["key"])].updated
        )
        changed = self._fetch_keys(stale, fields)
        issues = {**cached, **{i.key: i for i in changed}}
        removed: set[str] = set()
        if self.site.count_scope(self.settings.scope) != len(issues):
            present = self._scope_keys()
            removed = set(issues) - present
            changed += self._fetch_keys(sorted(present - set(issues)), fields)
            issues = {**{k: v for k, v in issues.items() if k not in removed},
                      **{i.key: i for i in changed}}  # fmt: skip
        return issues, changed, removed

    def _fetch_keys(self, keys: list[str], fields: list[str]) -> list[Issue]:
        """The given issues in full, a hundred keys a query."""
        issues: list[Issue] = []
        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = ", ".join(jql_string(key) for key in keys[start : start + KEYS_PER_QUERY])
            issues += self._fetch(f"key in ({chunk}) ORDER BY key", fields)
        return issues

    def _scope_keys(self) -> set[str]:
        """Every key in the scope, listed with the largest page the site allows."""
        # Cloud answers `fields: ["id"]` with ids alone; asking for the key adds it.
        keys = self.site.search(
            self.settings.scope, ["key"], expand=None, doing="listing jira.scope",
            max_results=self.site.key_page_size,
        )  # fmt: skip
        return {str(raw["key"]) for raw in keys}

    def _fetch(self, jql: str, fields: list[str]) -> list[Issue]:
        estimate_id = self.estimate_field()
        flagged_id = self._custom_field(FLAGGED_FIELD_NAMES)
        issues: list[Issue] = []

        def read() -> Iterator[dict[str, Any]]:
            for raw in self.site.search(jql, fields):
                self._progress.advance()
                if isinstance(raw, dict) and "key" in raw and "id" in raw:
                    self.issue_ids[str(raw["key"])] = str(raw["id"])
                yield raw

        # Convert page by page so only the issues whose changelog Cloud cut short are
        # held as raw JSON (memory stays near the size of the domain objects).
        for raw in self.site.whole_changelogs(read()):
            try:
                issues.append(to_issue(raw, estimate_id, flagged_id))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                key = raw.get("key", "?") if isinstance(raw, dict) else "?"
                raise TrackerError(
                    f"malformed issue {key} from Jira: {type(exc).__name__}: {exc}"
                ) from None
        return issues

    def ids_of(self, keys: Sequence[str]) -> dict[str, str]:
        """Key -> id of the given issues: from this run's reads, and for the rest (an
        incremental run reads only what changed) from one search per hundred keys. An
        issue that does not exist or is not visible is left out."""
        unknown = sorted({key for key in keys if key not in self.issue_ids})
        for start in range(0, len(unknown), KEYS_PER_QUERY):
            chunk = unknown[start : start + KEYS_PER_QUERY]
            jql = f"key in ({', '.join(jql_string(k) for k in chunk)})"
            try:
                found = self.site.search(jql, ["key"], expand=None, doing="reading issue ids")
                for raw in found:
                    self.issue_ids[str(raw["key"])] = str(raw["id"])
            except TrackerError as exc:
                if "HTTP 400" not in str(exc):
                    raise
                for key in chunk:  # a key that no longer exists spoils the query
                    one = self._issue_json(key, "key")
                    if one is not None:
                        self.issue_ids[key] = str(one["id"])
        return {key: self.issue_ids[key] for key in keys if key in self.issue_ids}

    def labels_of(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for key in keys:
            fields = self._issue_fields(key, "labels")
            if fields is not None:
                found[key] = tuple(fields.get("labels") or ())
        return found

    def find_labelled(
        self, labels: Sequence[str], projects: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        if not labels or not projects:
            return {}
        # Outside the scope only: the scope's own issues come with the run's search.
        jql = (
            f"project in ({', '.join(jql_string(p) for p in sorted(projects))}) AND "
            f"labels in ({', '.join(jql_string(label) for label in labels)}) AND "
            f"NOT ({without_order_by(self.settings.scope)}) ORDER BY key"
        )
        found: dict[str, tuple[str, ...]] = {}
        for raw in self.site.search(jql, ["labels"], expand=None, doing="looking for our labels"):
            fields = raw.get("fields") or {}
            found[str(raw["key"])] = tuple(fields.get("labels") or ())
        return found

    def _issue_fields(self, key: str, fields: str) -> dict[str, Any] | None:
        """One issue's fields, or None when it does not exist or is not visible."""
        raw = self._issue_json(key, fields)
        return None if raw is None else raw.get("fields") or {}

    def _issue_json(self, key: str, fields: str) -> dict[str, Any] | None:
        """One issue as Jira answers it, or None when it does not exist or is not visible."""
        try:
            raw = self.site.get_json(f"issue/{key}", {"fields": fields}, f"reading {key}")
        except TrackerError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        return raw

    def _refresh_links(self, issues: list[Issue]) -> list[Issue]:
        """Bring each link's view of the other issue up to date: from the run's own
        issues where the other one is in the scope, and for blockers outside it (whose
        status and assignee a cooperation finding names) from one search per hundred."""
        in_scope = {i.key: i for i in issues}
        wanted = sorted(
            {
                link.key
                for issue in issues
                for link in issue.links
                if link.direction == "inward"
                and link.type.casefold() == "blocks"
                and link.key not in in_scope
            }
        )
        others = self._describe(wanted)

        def refreshed(link: Link) -> Link:
            other = in_scope.get(link.key)
            status: str | None
            category: str | None
            if other is not None:
                status = other.status
                category = other.status_category or link.status_category
                assignee = other.assignee.name if other.assignee else None
            elif link.key in others:
                status, category, assignee = others[link.key]
                status = status or link.status
                category = category or link.status_category
            else:
                return link
            if (status, category, assignee) == (link.status, link.status_category,
                                                link.assignee):  # fmt: skip
                return link  # (most are as the snapshot has them: no new object)
            return replace(link, status=status, status_category=category, assignee=assignee)

        def with_links(issue: Issue) -> Issue:
            links = tuple(refreshed(link) for link in issue.links)
            if all(new is old for new, old in zip(links, issue.links, strict=True)):
                return issue
            return replace(issue, links=links)

        return [with_links(issue) if issue.links else issue for issue in issues]

    def _describe(self, keys: list[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Status, status category and assignee name of issues by key (those that do
        not exist or are not visible are left out)."""
        found: dict[str, tuple[str | None, str | None, str | None]] = {}

        def note(key: str, fields: dict[str, Any]) -> None:
            status = fields.get("status") or {}
            assignee = person(fields.get("assignee"))
            category = (status.get("statusCategory") or {}).get("key")
            found[key] = (status.get("name"), category, assignee.name if assignee else None)

        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[start : start + KEYS_PER_QUERY]
            jql = f"key in ({', '.join(jql_string(k) for k in chunk)})"
            try:
                for raw in self.site.search(jql, ["status", "assignee"], expand=None,
                                        doing="reading blocking issues"):  # fmt: skip
                    note(str(raw["key"]), raw.get("fields") or {})
            except TrackerError as exc:
                if "HTTP 400" not in str(exc):
                    raise
                # Jira refuses a key query naming an issue that no longer exists (or
                # that the bot cannot see): ask one by one.
                for key in chunk:
                    fields = self._issue_fields(key, "status,assignee")
                    if fields is not None:
                        note(key, fields)
        return found

    def scope_project_ids(self) -> dict[str, str]:
        """The key -> id of every project with an issue in the scope."""
        found: dict[str, str] = {}
        for raw in self.site.search(
            without_order_by(self.settings.scope), ["project"], expand=None,
            doing="listing the scope's projects", max_results=1000,
        ):  # fmt: skip
            project = (raw.get("fields") or {}).get("project") or {}
            if project.get("key"):
                found[str(project["key"])] = str(project.get("id", ""))
        return found
