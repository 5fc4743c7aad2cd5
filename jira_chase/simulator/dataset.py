"""The simulator dataset: load, validate and hold the data a simulator serves.

The format is the tracker-neutral contract in ``DATASET.md`` (``jira-chase-dataset/1``).
Two optional top-level keys extend it:

- ``now``: an ISO 8601 time, the moment the data describes. A simulator's clock starts
  there, so relative JQL dates (``updated >= -2d``) mean the same thing on every run.
- ``bot``: the id of the user the sync tool runs as (one of ``users``).

And optional keys on records, for permissions:

- ``projects[].readonly``: ``true`` when the bot (every user, in fact) may browse the
  project but not edit its issues: writes there answer 403. Default ``false``.
- ``projects[].admins``: the ids of the users with the project's "Administer Projects"
  permission, the only ones who may edit its issues without notifying watchers
  (``notifyUsers=false``). Absent: every user administers the project, as datasets
  written before the key existed were served; ``[]``: nobody does.
- ``users[].bulkChange``: ``false`` when the user lacks Jira's global "Make bulk changes"
  permission: bulk edits they submit answer 403. Default ``true``.

:func:`load_dataset` turns a document into a :class:`Dataset`: plain, mutable records the
simulators serve and edit (labels, comments, history appended by writes, ``updated``).
A :class:`Dataset` is not thread-safe; a server serialises access to it.
"""

from __future__ import annotations

import bisect
import gc
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jira_chase.engine.gc_pause import gc_paused

FORMAT = "jira-chase-dataset/1"
STATUS_CATEGORIES = ("new", "indeterminate", "done")
#: The resolution an issue gets on arriving in a done status (Jira's default workflow).
RESOLUTION = "Done"
LINK_DIRECTIONS = ("inward", "outward")

# Jira knows these issue types and priorities whether or not an issue uses them, so JQL
# naming them is valid even when the dataset has none.
STANDARD_ISSUE_TYPES = ("Epic", "Story", "Task", "Bug", "Subtask")
STANDARD_PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")

_TOP_REQUIRED = frozenset({"format", "projects", "users", "statuses", "issues"})
_TOP_KEYS = _TOP_REQUIRED | {"now", "bot"}
_PROJECT_REQUIRED = frozenset({"key", "name"})
_PROJECT_KEYS = _PROJECT_REQUIRED | {"readonly", "admins"}
_USER_REQUIRED = frozenset({"id", "name"})
_USER_KEYS = _USER_REQUIRED | {"email", "bulkChange"}
_STATUS_REQUIRED = frozenset({"name", "category"})
# `zentao`: how the ZenTao simulator shows the status per item type; it validates it.
_STATUS_KEYS = _STATUS_REQUIRED | {"zentao"}
_ISSUE_REQUIRED = frozenset({"key", "project", "type", "summary", "status", "created"})
_ISSUE_KEYS = _ISSUE_REQUIRED | {
    "priority",
    "assignee",
    "reporter",
    "labels",
    "updated",
    "duedate",
    "fixVersions",
    "components",
    "resolution",
    "parent",
    "estimate",
    "flagged",
    "history",
    "links",
    "comments",
}
_HISTORY_REQUIRED = frozenset({"at", "field"})
_HISTORY_KEYS = _HISTORY_REQUIRED | {"by", "from", "to"}
_LINK_REQUIRED = frozenset({"type", "direction", "key"})
_LINK_KEYS = _LINK_REQUIRED | {"since"}
_COMMENT_REQUIRED = frozenset({"at", "by", "body"})
_COMMENT_KEYS = _COMMENT_REQUIRED

# History fields whose values name users or statuses, checked against the dataset.
_USER_FIELDS = frozenset({"assignee", "reporter"})

# The first ids handed out; Jira ids are numeric strings well above zero.
_FIRST_ID = 10000


class DatasetError(ValueError):
    """A dataset that cannot be loaded; the message names the issue or key at fault."""


@dataclass(frozen=True, slots=True)
class Project:
    key: str
    name: str
    id: str
    readonly: bool = False
    #: Who holds "Administer Projects" here; None: every user (the key was absent).
    admins: frozenset[str] | None = None

    def administered_by(self, user_id: str) -> bool:
        return self.admins is None or user_id in self.admins


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    email: str | None
    bulk_change: bool = True


@dataclass(frozen=True, slots=True)
class Status:
    name: str
    category: str
    id: str


@dataclass(slots=True)
class ChangeItem:
    """One field change, in dataset terms (user ids, status names, space-separated labels).

    ``from_string``/``to_string`` override the display text where the value alone does not
    carry it (a ``Link`` change: value ``OPS-7``, text ``This issue is blocked by OPS-7``).
    """

    field: str
    from_value: str | None
    to_value: str | None
    from_string: str | None = None
    to_string: str | None = None


@dataclass(slots=True)
class History:
    """One changelog entry: the items one author changed at one moment.

    History records are shared with readers; treat them as immutable. (They are not frozen
    dataclasses because a frozen one costs twice as much to build, and a large dataset
    holds millions.)
    """

    id: str
    at: datetime
    by: str | None
    items: tuple[ChangeItem, ...]


@dataclass(frozen=True, slots=True)
class Link:
    """A link as one issue sees it.

    ``direction`` is from this issue's side: ``inward`` with type Blocks means "this issue
    is blocked by ``key``". Both ends of a link share its ``id``.
    """

    id: str
    type: str
    direction: str
    key: str
    since: datetime | None


@dataclass(slots=True, eq=False)
class Comment:
    """A comment; ``body`` is kept exactly as it arrived (dataset text or a client's ADF)."""

    id: str
    author: str
    body: Any
    created: datetime
    updated: datetime
    update_author: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Issue:
    """The simulator's record of one issue; servers edit it in place.

    ``histories`` is built on first use from the validated dataset entries: a large
    dataset holds millions of them and most are never asked for.
    """

    key: str
    id: str
    project: str
    number: int
    type: str
    summary: str
    status: str
    priority: str | None
    assignee: str | None
    reporter: str | None
    labels: list[str]
    created: datetime
    updated: datetime
    duedate: date | None
    fix_versions: list[str]
    parent: str | None
    estimate: float | None
    flagged: bool
    links: list[Link]
    comments: list[Comment]
    components: list[str] = field(default_factory=list)
    #: The resolution the dataset states (``resolution`` key, a name or null), which wins
    #: over the one the workflow would give: a done issue without one, an open one with.
    stated_resolution: tuple[str | None] | None = None
    # Validated dataset history entries, their first reserved id, and extra entries made
    # at load (links): consumed when ``histories`` is first read.
    history_source: list[dict[str, Any]] = field(default_factory=list, repr=False)
    history_first_id: int = 0
    history_extra: list[History] = field(default_factory=list, repr=False)
    built_histories: list[History] | None = field(default=None, repr=False)
    # Issue properties (entity properties) set through the API: key -> JSON value.
    properties: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def histories(self) -> list[History]:
        """The changelog, oldest first."""
        if self.built_histories is None:
            self.built_histories = _build_histories(self)
            self.history_source = []
            self.history_extra = []
        return self.built_histories


def _build_histories(issue: Issue) -> list[History]:
    """Group consecutive entries by one author at one time into one changelog entry."""
    histories: list[History] = []
    group: list[ChangeItem] = []
    group_at: datetime | None = None
    group_by: str | None = None
    next_id = issue.history_first_id
    for entry in issue.history_source:
        raw_at = entry["at"]
        at = datetime.fromisoformat(raw_at[:-1] + "+00:00" if raw_at[-1] in "Zz" else raw_at)
        by = entry.get("by")
        if group and (at != group_at or by != group_by):
            histories.append(History(str(next_id), group_at, group_by, tuple(group)))  # type: ignore[arg-type]
            next_id += 1
            group = []
        group_at, group_by = at, by
        group.append(ChangeItem(entry["field"], entry.get("from"), entry.get("to")))
    if group:
        histories.append(History(str(next_id), group_at, group_by, tuple(group)))  # type: ignore[arg-type]
    for extra in issue.history_extra:
        bisect.insort_right(histories, extra, key=lambda h: h.at)
    return histories


class Dataset:
    """Projects, users, statuses and issues, with the ids a tracker would show.

    Issues keep the dataset's order. The write methods keep the invariants the loader
    checked (history oldest first, ``updated`` moves with every write) and count
    ``generation`` up, so a server can cache what it derived from the data.
    """

    def __init__(
        self,
        *,
        projects: dict[str, Project],
        users: dict[str, User],
        statuses: dict[str, Status],
        issues: dict[str, Issue],
        now: datetime | None,
        bot: str | None,
        next_id: int,
    ) -> None:
        self.projects = projects
        self.users = users
        self.statuses = statuses
        self.issues = issues
        self.now = now
        self.bot = bot
        self._next_id = next_id
        self.generation = 0
        self.issues_by_project: dict[str, list[Issue]] = {key: [] for key in projects}
        for issue in issues.values():
            self.issues_by_project[issue.project].append(issue)
        self._users_by_email = {u.email.lower(): u for u in users.values() if u.email}
        self._issues_by_id = {issue.id: issue for issue in issues.values()}
        self._comments_by_id = {
            comment.id: (issue, comment) for issue in issues.values() for comment in issue.comments
        }
        self.issue_type_ids = _ids_by_first_use(
            list(STANDARD_ISSUE_TYPES) + [issue.type for issue in issues.values()]
        )
        self.priority_ids = {name: str(rank) for rank, name in enumerate(STANDARD_PRIORITIES, 1)}
        self.priority_ids.update(
            _ids_by_first_use(
                [
                    p
                    for p in (i.priority for i in issues.values())
                    if p and p not in STANDARD_PRIORITIES
                ]
            )
        )
        self.version_ids: dict[tuple[str, str], str] = _ids_by_first_use(
            [(issue.project, name) for issue in issues.values() for name in issue.fix_versions]
        )
        self.component_ids: dict[tuple[str, str], str] = _ids_by_first_use(
            [(issue.project, name) for issue in issues.values() for name in issue.components]
        )

    # -- lookups -------------------------------------------------------------------------

    def user_by_email(self, email: str) -> User | None:
        return self._users_by_email.get(email.lower())

    def issue_by_id_or_key(self, ref: str) -> Issue | None:
        """The issue with this id or key (keys match case-insensitively, as in Jira URLs)."""
        return self.issues.get(ref.upper()) or self._issues_by_id.get(ref)

    def comment_by_id(self, comment_id: str) -> tuple[Issue, Comment] | None:
        return self._comments_by_id.get(comment_id)

    def issues_in(self, projects: Iterable[str] | None) -> Iterable[Issue]:
        """The issues of these projects (every issue for None), in no particular order."""
        if projects is None:
            return self.issues.values()
        by_project = self.issues_by_project
        return [issue for key in projects for issue in by_project.get(key, ())]

    # -- writes --------------------------------------------------------------------------

    def delete_issue(self, issue: Issue) -> None:
        """Remove the issue as Jira's issue delete does: gone from every search and key
        lookup (links to it from other issues stay, as Jira shows them until reindexed)."""
        del self.issues[issue.key]
        del self._issues_by_id[issue.id]
        self.issues_by_project[issue.project].remove(issue)
        for comment in issue.comments:
            self._comments_by_id.pop(comment.id, None)
        self.generation += 1

    def set_labels(self, issue: Issue, labels: list[str], by: str, at: datetime) -> History | None:
        """Give ``issue`` exactly ``labels``; record the change as a ``labels`` history entry.

        Returns the new history entry, or None when the labels did not change (no history,
        ``updated`` untouched), as in Jira.
        """
        if labels == issue.labels:
            return None
        self.generation += 1
        item = ChangeItem("labels", " ".join(issue.labels) or None, " ".join(labels) or None)
        entry = History(self._new_id(), at, by, (item,))
        issue.labels = list(labels)
        _append_history(issue, entry)
        issue.updated = at
        return entry

    def set_fields(
        self, issue: Issue, values: dict[str, str | None], by: str, at: datetime
    ) -> History | None:
        """Set the summary and/or assignee (a user id or None); one history entry with an
        item per field that changed (None, and ``updated`` untouched, when none did)."""
        items = []
        if "summary" in values and values["summary"] != issue.summary:
            items.append(ChangeItem("summary", issue.summary, values["summary"]))
            issue.summary = values["summary"] or issue.summary
        if "assignee" in values and values["assignee"] != issue.assignee:
            if values["assignee"] is not None and values["assignee"] not in self.users:
                raise DatasetError(
                    f"dataset: issue {issue.key}: unknown user {values['assignee']!r}"
                )
            items.append(ChangeItem("assignee", issue.assignee, values["assignee"]))
            issue.assignee = values["assignee"]
        if not items:
            return None
        self.generation += 1
        entry = History(self._new_id(), at, by, tuple(items))
        _append_history(issue, entry)
        issue.updated = at
        return entry

    def set_status(self, issue: Issue, status: str, by: str, at: datetime) -> History:
        """Move ``issue`` to ``status`` as a person would in the tracker's UI: a ``status``
        history entry by ``by`` at ``at``."""
        if status not in self.statuses:
            raise DatasetError(f"dataset: issue {issue.key}: unknown status {status!r}")
        self.generation += 1
        items = [ChangeItem("status", issue.status, status)]
        was_done = self.statuses[issue.status].category == "done"
        if self.statuses[status].category == "done" and not was_done:
            items.append(ChangeItem("resolution", None, RESOLUTION))
        elif was_done and self.statuses[status].category != "done":
            items.append(ChangeItem("resolution", RESOLUTION, None))
        entry = History(self._new_id(), at, by, tuple(items))
        issue.status = status
        _append_history(issue, entry)
        issue.updated = at
        return entry

    def add_link(self, link_type: str, outward: Issue, inward: Issue, by: str,
                 at: datetime) -> str:  # fmt: skip
        """Link two issues as a person would ("``outward`` blocks ``inward``" for Blocks):
        both ends show the link and record it in their changelog (field ``Link``, text
        "This issue is blocked by OPS-7"), as Jira does. Returns the link's id."""
        if outward is inward:
            raise DatasetError(f"dataset: issue {outward.key}: an issue cannot link to itself")
        self.generation += 1
        link_id = self._new_id()
        for end, far, side in ((outward, inward, "outward"), (inward, outward, "inward")):
            end.links.append(Link(link_id, link_type, side, far.key, at))
            text = f"This issue {link_phrase(link_type, side)} {far.key}"
            item = ChangeItem("Link", None, far.key, None, text)
            _append_history(end, History(self._new_id(), at, by, (item,)))
            end.updated = at
        return link_id

    def remove_link(self, link_id: str, by: str, at: datetime) -> bool:
        """Remove a link as a person would: both ends record it (``Link``, from the text it
        had). False when there is no such link."""
        ends = [(issue, link) for issue in self.issues.values() for link in issue.links
                if link.id == link_id]  # fmt: skip
        if not ends:
            return False
        self.generation += 1
        for issue, link in ends:
            issue.links.remove(link)
            text = f"This issue {link_phrase(link.type, link.direction)} {link.key}"
            item = ChangeItem("Link", link.key, None, text, None)
            _append_history(issue, History(self._new_id(), at, by, (item,)))
            issue.updated = at
        return True

    def resolved_at(self, issue: Issue) -> datetime | None:
        """When an issue in a done status last arrived in the done category from outside
        it (its creation when it never did); None while it is not done."""
        statuses = self.statuses

        def done(name: str | None) -> bool:
            return name is not None and name in statuses and statuses[name].category == "done"

        if not done(issue.status):
            return None
        if issue.built_histories is not None:
            for history in reversed(issue.built_histories):
                for item in history.items:
                    if item.field == "status" and done(item.to_value) and not done(item.from_value):
                        return history.at
            return issue.created
        for entry in reversed(issue.history_source):
            if entry["field"] == "status" and done(entry.get("to")) and not done(entry.get("from")):
                raw = entry["at"]
                return datetime.fromisoformat(raw[:-1] + "+00:00" if raw[-1] in "Zz" else raw)
        return issue.created

    def add_comment(
        self,
        issue: Issue,
        author: str,
        body: Any,
        at: datetime,
        properties: dict[str, Any] | None = None,
    ) -> Comment:
        self.generation += 1
        comment = Comment(self._new_id(), author, body, at, at, author, dict(properties or {}))
        issue.comments.append(comment)
        self._comments_by_id[comment.id] = (issue, comment)
        issue.updated = at
        return comment

    def edit_comment(
        self,
        issue: Issue,
        comment: Comment,
        by: str,
        at: datetime,
        body: Any,
        properties: dict[str, Any] | None = None,
    ) -> None:
        self.generation += 1
        comment.body = body
        comment.updated = at
        comment.update_author = by
        if properties:
            comment.properties.update(properties)
        issue.updated = at

    def delete_comment(
        self, issue: Issue, comment: Comment, at: datetime, *, touch: bool = True
    ) -> None:
        """Remove a comment; `touch` False leaves the issue's ``updated`` as it was, as
        some sites do for a deletion (a search by ``updated`` then cannot see it)."""
        self.generation += 1
        issue.comments.remove(comment)
        del self._comments_by_id[comment.id]
        if touch:
            issue.updated = at

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)


def _ids_by_first_use(names: list[Any]) -> dict[Any, str]:
    ids: dict[Any, str] = {}
    for name in names:
        if name not in ids:
            ids[name] = str(_FIRST_ID + 1 + len(ids))
    return ids


def _append_history(issue: Issue, entry: History) -> None:
    # Writes happen "now", but a clock behind the data must still leave history sorted.
    if issue.histories and issue.histories[-1].at > entry.at:
        bisect.insort_right(issue.histories, entry, key=lambda h: h.at)
    else:
        issue.histories.append(entry)


# -- loading ---------------------------------------------------------------------------


def load_dataset(source: Dataset | Mapping[str, Any] | str | bytes | os.PathLike[str]) -> Dataset:
    """Load and validate a dataset from a dict, JSON text or a file path.

    A :class:`Dataset` is returned as is (it is not copied: servers sharing it share
    edits). A string that starts with ``{`` is JSON text; any other string is a path.
    Raises :class:`DatasetError` naming the issue or key at fault.
    """
    if isinstance(source, Dataset):
        return source
    with gc_paused():
        dataset = _load(source)
        if len(dataset.issues) >= FREEZE_FROM_ISSUES:
            # Out of the collector's sight: otherwise every full collection while serving
            # walks millions of records again, a pause of a second in mid-request.
            gc.freeze()
    return dataset


def _load(source: Mapping[str, Any] | str | bytes | os.PathLike[str]) -> Dataset:
    if isinstance(source, Mapping):
        return _Loader(source).load()
    if isinstance(source, bytes):
        return _Loader(_parse_json(source, "the given JSON")).load()
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return _Loader(_parse_json(source, "the given JSON")).load()
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise DatasetError(f"dataset: cannot read {path}: {exc.strerror or exc}") from exc
        return _Loader(_parse_json(text, str(path))).load()
    raise DatasetError(
        f"dataset: expected a dict, JSON text or a path, got {type(source).__name__}"
    )


#: From this many issues on, a loaded dataset is frozen out of the garbage collector.
FREEZE_FROM_ISSUES = 10_000


def _parse_json(text: str | bytes, origin: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"dataset: {origin} is not valid JSON: {exc}") from exc


def parse_time(value: Any, where: str) -> datetime:
    """An ISO 8601 time with a UTC offset (``Z`` allowed), or :class:`DatasetError`."""
    if type(value) is not str:
        raise DatasetError(f"dataset: {where}: expected an ISO 8601 time, got {value!r}")
    # Python 3.10's fromisoformat does not read a trailing "Z".
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DatasetError(f"dataset: {where}: {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise DatasetError(f"dataset: {where}: time {value!r} has no UTC offset")
    return moment


def _time_or_none(value: Any) -> datetime | None:
    """:func:`parse_time` for the hot path: None instead of an error message."""
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(
                value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
            )
        except ValueError:
            return None
        if moment.tzinfo is not None:
            return moment
    return None


def _parse_date(value: Any, where: str) -> date:
    if type(value) is not str or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise DatasetError(f"dataset: {where}: expected a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DatasetError(f"dataset: {where}: {value!r} is not a valid date") from None


def _check_keys(
    record: Any, required: frozenset[str], allowed: frozenset[str], where: str
) -> dict[str, Any]:
    if type(record) is dict and required <= record.keys() <= allowed:
        return record
    if type(record) is not dict:
        raise DatasetError(f"dataset: {where}: expected an object, got {type(record).__name__}")
    keys = record.keys()
    unknown = keys - allowed
    if unknown:
        raise DatasetError(f"dataset: {where}: unknown key {sorted(unknown)[0]!r}")
    missing = required - keys
    if missing:
        raise DatasetError(f"dataset: {where}: missing required key {sorted(missing)[0]!r}")
    return record


def _string(record: dict[str, Any], name: str, where: str) -> str:
    value = record[name]
    if type(value) is not str or not value:
        raise DatasetError(f"dataset: {where}: {name!r} must be a non-empty string, got {value!r}")
    return value


def _optional_string(record: dict[str, Any], name: str, where: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if type(value) is not str or not value:
        raise DatasetError(f"dataset: {where}: {name!r} must be a non-empty string, got {value!r}")
    return value


def _list(record: dict[str, Any], name: str, where: str) -> list[Any]:
    value = record.get(name)
    if value is None:
        return []
    if type(value) is not list:
        raise DatasetError(f"dataset: {where}: {name!r} must be a list, got {value!r}")
    return value


class _Loader:
    """One pass over a document: validates as it builds the records."""

    def __init__(self, doc: Any) -> None:
        self.doc = _check_keys(doc, _TOP_REQUIRED, _TOP_KEYS, "top level")
        self.next_id = _FIRST_ID
        self.users: dict[str, User] = {}
        self.statuses: dict[str, Status] = {}
        self.projects: dict[str, Project] = {}

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def load(self) -> Dataset:
        doc = self.doc
        if doc["format"] != FORMAT:
            raise DatasetError(f"dataset: format must be {FORMAT!r}, got {doc['format']!r}")
        now = parse_time(doc["now"], "now") if doc.get("now") is not None else None
        self._load_projects(_list(doc, "projects", "top level"))
        self._load_users(_list(doc, "users", "top level"))
        self._check_admins()
        self._load_statuses(_list(doc, "statuses", "top level"))
        bot = _optional_string(doc, "bot", "top level")
        if bot is not None and bot not in self.users:
            raise DatasetError(f"dataset: bot {bot!r} is not one of the users")
        issues: dict[str, Issue] = {}
        raw_links: list[tuple[Issue, int, dict[str, Any]]] = []
        explicit_updated: set[str] = set()
        for index, raw in enumerate(_list(doc, "issues", "top level")):
            issue, links, has_updated = self._load_issue(raw, index)
            if issue.key in issues:
                raise DatasetError(f"dataset: issue {issue.key}: the key appears twice")
            issues[issue.key] = issue
            raw_links.extend((issue, n, link) for n, link in enumerate(links))
            if has_updated:
                explicit_updated.add(issue.key)
        for issue in issues.values():
            if issue.parent is not None and issue.parent not in issues:
                raise DatasetError(
                    f"dataset: issue {issue.key}: parent {issue.parent!r} is not in the dataset"
                )
        self._load_links(issues, raw_links, explicit_updated)
        return Dataset(
            projects=self.projects,
            users=self.users,
            statuses=self.statuses,
            issues=issues,
            now=now,
            bot=bot,
            next_id=self.next_id,
        )

    def _load_projects(self, raw_projects: list[Any]) -> None:
        for index, raw in enumerate(raw_projects):
            record = _check_keys(raw, _PROJECT_REQUIRED, _PROJECT_KEYS, f"projects[{index}]")
            key = _string(record, "key", f"projects[{index}]")
            where = f"project {key}"
            if not (key[0].isalpha() and key.isupper() and key.replace("_", "").isalnum()):
                raise DatasetError(f"dataset: {where}: a key is upper-case letters and digits")
            if key in self.projects:
                raise DatasetError(f"dataset: {where}: the key appears twice")
            readonly = record.get("readonly", False)
            if type(readonly) is not bool:
                raise DatasetError(
                    f"dataset: {where}: readonly must be true or false, got {readonly!r}"
                )
            admins = record.get("admins")
            if admins is not None and (
                type(admins) is not list or not all(type(a) is str and a for a in admins)
            ):
                raise DatasetError(
                    f"dataset: {where}: admins must be a list of user ids, got {admins!r}"
                )
            name = _string(record, "name", where)
            self.projects[key] = Project(
                key, name, self.new_id(), readonly, None if admins is None else frozenset(admins)
            )

    def _check_admins(self) -> None:
        for project in self.projects.values():
            unknown = sorted((project.admins or frozenset()) - self.users.keys())
            if unknown:
                raise DatasetError(
                    f"dataset: project {project.key}: admin {unknown[0]!r} is not one of the users"
                )

    def _load_users(self, raw_users: list[Any]) -> None:
        emails: set[str] = set()
        for index, raw in enumerate(raw_users):
            record = _check_keys(raw, _USER_REQUIRED, _USER_KEYS, f"users[{index}]")
            user_id = _string(record, "id", f"users[{index}]")
            where = f"user {user_id}"
            if user_id in self.users:
                raise DatasetError(f"dataset: {where}: the id appears twice")
            email = _optional_string(record, "email", where)
            if email is not None:
                if email.lower() in emails:
                    raise DatasetError(f"dataset: {where}: email {email!r} appears twice")
                emails.add(email.lower())
            bulk_change = record.get("bulkChange", True)
            if type(bulk_change) is not bool:
                raise DatasetError(
                    f"dataset: {where}: bulkChange must be true or false, got {bulk_change!r}"
                )
            self.users[user_id] = User(user_id, _string(record, "name", where), email, bulk_change)

    def _load_statuses(self, raw_statuses: list[Any]) -> None:
        for index, raw in enumerate(raw_statuses):
            record = _check_keys(raw, _STATUS_REQUIRED, _STATUS_KEYS, f"statuses[{index}]")
            name = _string(record, "name", f"statuses[{index}]")
            where = f"status {name!r}"
            if name in self.statuses:
                raise DatasetError(f"dataset: {where}: the name appears twice")
            category = record["category"]
            if category not in STATUS_CATEGORIES:
                raise DatasetError(
                    f"dataset: {where}: category must be one of {', '.join(STATUS_CATEGORIES)},"
                    f" got {category!r}"
                )
            self.statuses[name] = Status(name, category, self.new_id())

    def _user(self, value: Any, where: str, name: str) -> str:
        if value not in self.users:
            raise DatasetError(f"dataset: {where}: unknown user {value!r} in {name!r}")
        return str(value)

    def _load_issue(self, raw: Any, index: int) -> tuple[Issue, list[Any], bool]:
        if type(raw) is dict and type(raw.get("key")) is str:
            where = f"issue {raw['key']}"
        else:
            where = f"issues[{index}]"
        record = _check_keys(raw, _ISSUE_REQUIRED, _ISSUE_KEYS, where)
        key = _string(record, "key", where)
        project, _, number = key.rpartition("-")
        if not number.isdigit() or not project:
            raise DatasetError(f"dataset: {where}: a key is PROJECT-NUMBER, got {key!r}")
        if record["project"] != project:
            raise DatasetError(
                f"dataset: {where}: key is in project {project!r} but 'project' is"
                f" {record['project']!r}"
            )
        if project not in self.projects:
            raise DatasetError(f"dataset: {where}: unknown project {project!r}")
        status = record["status"]
        if status not in self.statuses:
            raise DatasetError(f"dataset: {where}: status {status!r} is not declared in 'statuses'")
        assignee = record.get("assignee")
        if assignee is not None:
            self._user(assignee, where, "assignee")
        reporter = record.get("reporter")
        if reporter is not None:
            self._user(reporter, where, "reporter")
        labels = _list(record, "labels", where)
        for label in labels:
            if type(label) is not str or not label or " " in label:
                raise DatasetError(
                    f"dataset: {where}: label {label!r} must be a word without spaces"
                )
        fix_versions = _list(record, "fixVersions", where)
        for version in fix_versions:
            if type(version) is not str or not version:
                raise DatasetError(f"dataset: {where}: fixVersion {version!r} must be a string")
        components = _list(record, "components", where)
        for component in components:
            if type(component) is not str or not component:
                raise DatasetError(f"dataset: {where}: component {component!r} must be a string")
        estimate = record.get("estimate")
        if estimate is not None and (type(estimate) not in (int, float)):
            raise DatasetError(f"dataset: {where}: estimate must be a number, got {estimate!r}")
        flagged = record.get("flagged", False)
        if type(flagged) is not bool:
            raise DatasetError(f"dataset: {where}: flagged must be true or false, got {flagged!r}")
        created = parse_time(record["created"], f"{where}: created")
        updated_raw = record.get("updated")
        updated = (
            parse_time(updated_raw, f"{where}: updated") if updated_raw is not None else created
        )
        duedate_raw = record.get("duedate")
        duedate = _parse_date(duedate_raw, f"{where}: duedate") if duedate_raw is not None else None
        raw_history = _list(record, "history", where)
        last_change = self._check_history(raw_history, where, status, created)
        comments = self._load_comments(_list(record, "comments", where), where)
        issue = Issue(
            key=key,
            id=self.new_id(),
            project=project,
            number=int(number),
            type=_string(record, "type", where),
            summary=_string(record, "summary", where),
            status=status,
            priority=_optional_string(record, "priority", where),
            assignee=assignee,
            reporter=reporter,
            labels=list(labels),
            created=created,
            updated=updated,
            duedate=duedate,
            fix_versions=list(fix_versions),
            parent=_optional_string(record, "parent", where),
            estimate=estimate,
            flagged=flagged,
            links=[],
            comments=comments,
            components=list(components),
            stated_resolution=self._stated_resolution(record, where),
            history_source=list(raw_history),
            history_first_id=self.next_id + 1,
        )
        # Reserve an id per entry so ids do not depend on which issue is read first.
        self.next_id += len(raw_history)
        if updated_raw is None:
            issue.updated = max([created, last_change or created] + [c.created for c in comments])
        return issue, _list(record, "links", where), updated_raw is not None

    def _check_history(
        self, raw_history: list[Any], where: str, status: str, created: datetime
    ) -> datetime | None:
        """Validate history entries; return the time of the last one (None when empty).

        This loop runs once per history entry (millions in a large dataset): it keeps the
        common path free of string formatting and builds error messages only on failure.
        """
        previous_at = created
        last_status: str | None = None
        users = self.users
        statuses = self.statuses
        allowed = _HISTORY_KEYS
        fromisoformat = datetime.fromisoformat
        for index, entry in enumerate(raw_history):
            if type(entry) is not dict or not entry.keys() <= allowed:
                _check_keys(entry, _HISTORY_REQUIRED, allowed, f"{where}: history[{index}]")
            try:
                raw_at = entry["at"]
                name = entry["field"]
                at = fromisoformat(raw_at[:-1] + "+00:00" if raw_at[-1] in "Zz" else raw_at)
                if at.tzinfo is None:
                    raise ValueError(raw_at)
            except (KeyError, ValueError, TypeError, IndexError):
                _check_keys(entry, _HISTORY_REQUIRED, allowed, f"{where}: history[{index}]")
                at = parse_time(entry["at"], f"{where}: history[{index}]")
            if at < previous_at:
                what = "the issue's creation" if previous_at is created else "the entry before"
                raise DatasetError(
                    f"dataset: {where}: history[{index}]: {entry['at']} is before {what};"
                    " history is oldest first"
                )
            previous_at = at
            by = entry.get("by")
            if by is not None and by not in users:
                self._user(by, f"{where}: history[{index}]", "by")
            old = entry.get("from")
            new = entry.get("to")
            if (
                type(name) is not str
                or not name
                or (old is not None and type(old) is not str)
                or (new is not None and type(new) is not str)
            ):
                raise DatasetError(
                    f"dataset: {where}: history[{index}]: 'field' must be a non-empty string,"
                    " 'from' and 'to' strings or null"
                )
            if name == "status":
                if old not in statuses or new not in statuses:
                    value = new if old in statuses else old
                    raise DatasetError(
                        f"dataset: {where}: history[{index}]: status {value!r} is not declared"
                        " in 'statuses'"
                    )
                if last_status is not None and old != last_status:
                    raise DatasetError(
                        f"dataset: {where}: history[{index}]: status change from {old!r} does"
                        f" not follow the previous change to {last_status!r}"
                    )
                last_status = new
            elif name in _USER_FIELDS:
                for value in (old, new):
                    if value is not None and value not in users:
                        self._user(value, f"{where}: history[{index}]", "from/to")
        if last_status is not None and last_status != status:
            raise DatasetError(
                f"dataset: {where}: status {status!r} disagrees with the last status change"
                f" to {last_status!r}"
            )
        return previous_at if raw_history else None

    @staticmethod
    def _stated_resolution(record: dict[str, Any], where: str) -> tuple[str | None] | None:
        if "resolution" not in record:
            return None
        value = record["resolution"]
        if value is not None and value != RESOLUTION:
            raise DatasetError(
                f"dataset: {where}: resolution {value!r} is not one the simulated site has "
                f"({RESOLUTION!r}, or null for none)"
            )
        return (value,)

    def _load_comments(self, raw_comments: list[Any], where: str) -> list[Comment]:
        comments = []
        for index, raw in enumerate(raw_comments):
            here = f"{where}: comments[{index}]"
            record = _check_keys(raw, _COMMENT_REQUIRED, _COMMENT_KEYS, here)
            at = parse_time(record["at"], here)
            author = self._user(record["by"], here, "by")
            body = record["body"]
            if type(body) is not str and type(body) is not dict:
                raise DatasetError(
                    f"dataset: {here}: 'body' must be a string (or an Atlassian document)"
                )
            comments.append(Comment(self.new_id(), author, body, at, at, author))
        return comments

    def _load_links(
        self,
        issues: dict[str, Issue],
        raw_links: list[tuple[Issue, int, dict[str, Any]]],
        explicit_updated: set[str],
    ) -> None:
        """Attach every link to both of its ends, once, with a ``Link`` history entry each."""
        seen: dict[tuple[str, str, str], str] = {}
        for issue, index, raw in raw_links:
            here = f"issue {issue.key}: links[{index}]"
            record = _check_keys(raw, _LINK_REQUIRED, _LINK_KEYS, here)
            link_type = _string(record, "type", here)
            direction = record["direction"]
            if direction not in LINK_DIRECTIONS:
                raise DatasetError(
                    f"dataset: {here}: direction must be 'inward' or 'outward', got {direction!r}"
                )
            other_key = record["key"]
            other = issues.get(other_key) if type(other_key) is str else None
            if other is None:
                raise DatasetError(
                    f"dataset: {here}: linked issue {other_key!r} is not in the dataset"
                )
            if other is issue:
                raise DatasetError(f"dataset: {here}: an issue cannot link to itself")
            since_raw = record.get("since")
            since = parse_time(since_raw, here) if since_raw is not None else None
            # A link is (type, outward end, inward end): "OPS-7 blocks APP-1" whichever
            # issue the dataset stated it on.
            if direction == "inward":
                identity = (link_type, other.key, issue.key)
            else:
                identity = (link_type, issue.key, other.key)
            if identity in seen:
                continue
            link_id = self.new_id()
            seen[identity] = link_id
            mirrored = "outward" if direction == "inward" else "inward"
            for end, far, side in ((issue, other, direction), (other, issue, mirrored)):
                end.links.append(Link(link_id, link_type, side, far.key, since))
                if since is not None:
                    text = f"This issue {link_phrase(link_type, side)} {far.key}"
                    item = ChangeItem("Link", None, far.key, None, text)
                    end.history_extra.append(History(self.new_id(), since, None, (item,)))
                    if end.key not in explicit_updated and since > end.updated:
                        end.updated = since


# Jira's standard link types: (outward phrase, inward phrase).
LINK_TYPES = {
    "Blocks": ("blocks", "is blocked by"),
    "Cloners": ("clones", "is cloned by"),
    "Duplicate": ("duplicates", "is duplicated by"),
    "Relates": ("relates to", "relates to"),
}


def link_phrase(link_type: str, direction: str) -> str:
    """How Jira words a link from one end: ("Blocks", "inward") is "is blocked by"."""
    outward, inward = LINK_TYPES.get(link_type, (link_type.lower(), link_type.lower()))
    return inward if direction == "inward" else outward
