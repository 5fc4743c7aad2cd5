"""Reading ZenTao: the stories and bugs of `zentao.products` and the tasks of
`zentao.executions`, each with its history, as Issues.

Lists are paged by `page`/`limit` up to `total`. The quirks handled: a story list's
`status` is a browse type (`allstory`; a plain `all` returns nothing), bug lists hide
closed bugs unless asked for `all`, list routes carry no history, and action dates are
server-local (`zentao.timezone`) while every other time is UTC.

History: one `GET /<kind>s/:id` per item, and only for items whose `lastEditedDate`
changed since the last run (snapshots live in the state store's item cache). Status
changes are the `status` rows of `actions[].history`; a story's status is its `stage`
while it is `active` (`developing`, `testing`, …), so its stage rows count too. ZenTao
moves a stage by itself (a task starts, a build is released) without logging it: such a
change is dated when a run first sees it (or, on the first run, at the item's last edit).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests

from jira_chase.engine.model import Change, Comment, Issue
from jira_chase.engine.progress import NO_PROGRESS, Progress
from jira_chase.engine.safe_text import clipped
from jira_chase.engine.words import word
from jira_chase.errors import TrackerError
from jira_chase.sources.base import ServerIdentity
from jira_chase.sources.zentao.items import (
    CREATED_IN,
    INITIAL_STATUS,
    KEY,
    KINDS,
    NOBODY,
    PRIORITIES,
    Refusals,
    keyword_tokens,
    keywords,
    split_key,
)
from jira_chase.sources.zentao.people import People
from jira_chase.sources.zentao.session import HttpError, Malformed, ZenTaoSession

# One logger for the whole ZenTao source: its name is part of every log line.
log = logging.getLogger(__package__)

#: Bumped when the cached snapshot's shape changes; older entries are read again.
CACHE_VERSION = 1
_NO_TIME = ("0000-00-00", "0000-00-00 00:00:00", "")


class SnapshotCache(Protocol):
    """Where the source keeps item snapshots between runs (the state store)."""

    def cached_items(self, source: str) -> dict[str, dict[str, Any]]: ...

    def save_items(self, source: str, items: Mapping[str, Mapping[str, Any]]) -> None: ...


def edition(version: str) -> str:
    """The ZenTao edition a version string names (`18.8`, `biz8.8`, `max4.8`, …)."""
    for prefix, name in (("biz", "Biz"), ("max", "Max"), ("pro", "Pro"), ("ipd", "IPD")):
        if version.lower().startswith(prefix):
            return name
    return "open source" if version[:1].isdigit() else "unknown edition"


class ZenTaoReader:
    """The items in scope and their histories. `snapshots` keeps item snapshots between
    runs; without it every item's history is read on every run. `clock` dates state
    changes ZenTao did not log. `fresh` holds the actions of every item read in this
    run, so that its managed comment is found without reading the item again."""

    def __init__(
        self,
        session: ZenTaoSession,
        people: People,
        refusals: Refusals,
        *,
        snapshots: SnapshotCache | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.session = session
        self.settings = session.settings
        self.people = people
        self.refusals = refusals
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.snapshots = snapshots
        self.zone = ZoneInfo(self.settings.timezone)
        self.cache_key = f"zentao:{session.base}"
        self.fresh: dict[str, list[dict[str, Any]]] = {}  # actions read in this run
        self._entries: dict[str, dict[str, Any]] | None = None  # the item cache

    def identify(self) -> ServerIdentity:
        profile = self.people.profile()
        version = self.session.version()
        return ServerIdentity(
            tracker="zentao",
            url=self.session.base,
            version=version,
            deployment=edition(version) if version != "?" else "ZenTao",
            user=str(profile["account"]),
            user_id=str(profile["account"]),
        )

    def _scope(self) -> Iterator[tuple[str, int, str]]:
        for name in ("products", "executions"):
            for i, number in enumerate(getattr(self.settings, name)):
                yield name, number, f"zentao.{name}[{i}] = {number}"

    def _check(self, name: str, number: int, key: str) -> dict[str, Any]:
        try:
            return self.session.get(f"/{name}/{number}")
        except HttpError as exc:
            if exc.status in (400, 404):
                raise TrackerError(
                    f"{key}: ZenTao has no such {name[:-1]} visible to zentao.account "
                    f"(HTTP {exc.status}: {exc.detail})"
                ) from None
            raise self.session.run_error(f"reading {key}", exc) from None
        except (Malformed, requests.RequestException) as exc:
            raise self.session.run_error(f"reading {key}", exc) from None

    def validate_scope(self) -> int:
        count = 0
        for name, number, key in self._scope():
            self._check(name, number, key)
            lists = (
                (("stories", "allstory"), ("bugs", "all"))
                if name == "products"
                else (("tasks", "all"),)
            )
            for collection, status in lists:
                page = self.session.read(
                    f"/{name}/{number}/{collection}", {"status": status, "limit": 1},
                    f"listing the {collection} of {key}",
                )  # fmt: skip
                count += int(page.get("total") or 0)
        return count

    def fetch_issues(self, progress: Progress | None = None) -> list[Issue]:
        progress = progress or NO_PROGRESS
        self.people.load()
        rows: dict[str, tuple[str, dict[str, Any], str, dict[int, str]]] = {}
        for name, number, key in self._scope():
            self._check(name, number, key)
            lists: tuple[tuple[str, str, str], ...]
            if name == "products":
                plans = self._plans(number, key)
                lists = (("story", "stories", "allstory"), ("bug", "bugs", "all"))
                project = f"P{number}"
            else:
                plans, lists, project = {}, (("task", "tasks", "all"),), f"E{number}"
            for kind, collection, browse in lists:
                path = f"/{name}/{number}/{collection}"
                doing = f"listing the {collection} of {key}"
                for row in self.session.pages(path, {"status": browse}, collection, doing):
                    item_key = f"{kind}-{row.get('id')}"
                    rows.setdefault(item_key, (kind, row, project, plans))
        entries = self._cache()
        fresh_entries: dict[str, dict[str, Any]] = {}
        story_versions: dict[int, tuple[str, ...]] = {}
        issues: list[Issue] = []
        observed = self.clock().astimezone(timezone.utc).replace(microsecond=0)
        progress.advance(0, total=len(rows))
        # Everyone the lists name helps to map the actors of the histories to accounts.
        for _, row, _, _ in rows.values():
            for field in ("assignedTo", "openedBy", "lastEditedBy", "resolvedBy", "closedBy"):
                self.people.know(row.get(field))
        # Stories first, so a task can take its story's plans as its fix versions.
        for item_key, (kind, row, project, plans) in sorted(
            rows.items(), key=lambda entry: entry[1][0] == "task"
        ):
            entry = self._snapshot(item_key, kind, row, entries.get(item_key))
            progress.advance()
            if entry is None:
                continue
            try:
                issue = self._to_issue(kind, row, project, plans, entry, observed, story_versions)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise TrackerError(
                    f"malformed {item_key} from ZenTao: {type(exc).__name__}: {exc}"
                ) from None
            fresh_entries[item_key] = entry
            issues.append(issue)
        self._entries = fresh_entries
        self._save_cache()
        return issues

    def _plans(self, product: int, key: str) -> dict[int, str]:
        """Product plan id -> title (the fix versions of stories and bugs)."""
        plans: dict[int, str] = {}
        try:
            for plan in self.session.pages(
                f"/products/{product}/plans", {}, "plans", f"listing the plans of {key}"
            ):
                if isinstance(plan.get("id"), int) and plan.get("title"):
                    plans[plan["id"]] = str(plan["title"])
        except TrackerError as exc:
            log.warning("%s: cannot read the product plans, so no fix versions: %s", key, exc)
        return plans

    # -- snapshots ------------------------------------------------------------------------

    def _cache(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            self._entries = {}
            if self.snapshots is not None:
                self._entries = self.snapshots.cached_items(self.cache_key)
        return self._entries

    def _save_cache(self) -> None:
        if self.snapshots is not None and self._entries is not None:
            self.snapshots.save_items(self.cache_key, self._entries)

    def _snapshot(
        self, key: str, kind: str, row: dict[str, Any], cached: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The item's history: cached while its lastEditedDate stands, else read afresh
        (one request). None when the item vanished between the list and the read."""
        edited = str(row.get("lastEditedDate") or row.get("openedDate") or "")
        keep = {k: v for k, v in (cached or {}).items() if k in ("state", "since", "seen")}
        if cached and cached.get("v") == CACHE_VERSION and cached.get("edited") == edited:
            return {**cached}
        number = row.get("id")
        try:
            detail = self.session.get(f"/{KINDS[kind][1]}/{number}")
        except HttpError as exc:
            if exc.status == 404:
                log.warning("%s: gone between listing and reading it; skipped", key)
                return None
            raise self.session.run_error(f"reading the history of {key}", exc) from None
        except (Malformed, requests.RequestException) as exc:
            raise self.session.run_error(f"reading the history of {key}", exc) from None
        actions = self.saw(key, detail)
        trimmed = [
            {
                "id": a.get("id"),
                "action": a.get("action"),
                "actor": a.get("actor"),
                "date": a.get("date"),
                "history": [
                    {"field": h.get("field"), "old": h.get("old"), "new": h.get("new")}
                    for h in a.get("history") or ()
                    if isinstance(h, dict)
                ],
            }
            for a in actions
        ]
        reviewer = detail.get("reviewer")
        return {
            **keep,
            "v": CACHE_VERSION,
            "edited": edited,
            "actions": trimmed,
            "reviewer": reviewer if isinstance(reviewer, list) else [],
        }

    # -- times ----------------------------------------------------------------------------

    def _utc(self, value: Any) -> datetime | None:
        """A formatted ZenTao time: ISO 8601 UTC (`…Z`), or raw server-local time."""
        if not isinstance(value, str) or value.strip() in _NO_TIME or value.startswith("-"):
            return None
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(timezone.utc)

    def _local(self, value: Any) -> datetime | None:
        """An action's date: raw `Y-m-d H:i:s` in the server's time zone."""
        return self._utc(value)

    # -- payload -> domain ----------------------------------------------------------------

    @staticmethod
    def _state(kind: str, status: Any, stage: Any) -> str:
        """What the workflow sees: a story's stage while it is active, else the status."""
        status = str(status or "")
        if kind == "story" and status == "active" and stage:
            return word(str(stage))
        return word(status)

    def _history(
        self, kind: str, row: dict[str, Any], actions: list[dict[str, Any]]
    ) -> tuple[list[Change], list[Comment], str, datetime | None]:
        """(changes and remarks oldest first, the state the history ends in, the last
        action's time)."""
        ordered = sorted(
            (a for a in actions if self._local(a.get("date")) is not None),
            key=lambda a: (self._local(a.get("date")), int(a.get("id") or 0)),
        )
        rows = [h for a in ordered for h in a.get("history") or () if isinstance(h, dict)]
        statuses = [h for h in rows if h.get("field") == "status"]
        stages = [h for h in rows if h.get("field") == "stage"]
        # The state before the first logged change; without one, the state it has now.
        if statuses:
            status = statuses[0].get("old") or INITIAL_STATUS[kind]
        else:
            status = row.get("status") or INITIAL_STATUS[kind]
        stage = stages[0].get("old") if stages else row.get("stage")
        state = self._state(kind, status, stage)
        changes: list[Change] = []
        comments: list[Comment] = []
        last: datetime | None = None
        for action in ordered:
            at = self._local(action.get("date"))
            assert at is not None
            last = at
            # (one string for each field, value and person: `word`)
            by = word(self.people.person_id(action.get("actor")))
            if action.get("action") == "commented":
                comments.append(Comment(at, by))
            for history in action.get("history") or ():
                field = word(str(history.get("field") or "?"))
                old, new = history.get("old"), history.get("new")
                old = None if old in (None, "") else word(str(old))
                new = None if new in (None, "") else word(str(new))
                if field == "status" or (field == "stage" and kind == "story"):
                    if field == "status":
                        status = new or status
                    else:
                        stage = new
                    now_state = self._state(kind, status, stage)
                    if now_state != state:
                        changes.append(Change(at, "status", state, now_state, by))
                        state = now_state
                elif field == "assignedTo":
                    changes.append(
                        Change(
                            at,
                            "assignee",
                            None if old in NOBODY else old,
                            None if new in NOBODY else new,
                            by,
                        )
                    )
                elif field == "pri":
                    changes.append(
                        Change(
                            at,
                            "priority",
                            PRIORITIES.get(old or "", old),
                            PRIORITIES.get(new or "", new),
                            by,
                        )
                    )
                elif field == "keywords":
                    changes.append(
                        Change(
                            at,
                            "labels",
                            word(" ".join(keyword_tokens(keywords(old))) or None),
                            word(" ".join(keyword_tokens(keywords(new))) or None),
                            by,
                        )
                    )
                elif field != "stage":
                    changes.append(Change(at, field, old, new, by))
        return changes, comments, state, last

    def _to_issue(
        self,
        kind: str,
        row: dict[str, Any],
        project: str,
        plans: dict[int, str],
        entry: dict[str, Any],
        observed: datetime,
        story_versions: dict[int, tuple[str, ...]],
    ) -> Issue:
        key = f"{kind}-{row.get('id')}"
        created = self._utc(row.get("openedDate"))
        if created is None:
            raise TrackerError(f"unexpected answer from ZenTao: {key} has no openedDate")
        updated = self._utc(row.get("lastEditedDate")) or created
        actions = entry.get("actions") or []
        changes, comments, state, last_action = self._history(kind, row, actions)
        current = self._state(kind, row.get("status"), row.get("stage"))
        if current and current != state:
            # ZenTao moved it without logging it (a story's stage follows its tasks): date
            # the move when a run first saw it; on the first run, at the last logged event.
            if entry.get("state") == current and entry.get("since"):
                since = datetime.fromisoformat(str(entry["since"]))
            elif entry.get("seen") and entry.get("seen") != current:
                since = observed
            else:
                since = max(t for t in (updated, last_action, created) if t is not None)
            entry["state"], entry["since"] = current, since.isoformat()
            changes.append(Change(since, "status", state, current, None))
        else:
            entry.pop("state", None)
            entry.pop("since", None)
        entry["seen"] = current
        ids = [int(p) for p in re.findall(r"\d+", str(row.get("plan") or ""))]
        versions = tuple(plans[p] for p in ids if p in plans)
        if kind == "story":
            story_versions[int(row.get("id") or 0)] = versions
        elif kind == "task":
            versions = story_versions.get(int(row.get("story") or 0), ())
        deadline = row.get("deadline")
        estimate = row.get("estimate")
        parent = int(row.get("parent") or 0) if str(row.get("parent") or "0").isdigit() else 0
        # Tasks have no keywords: they carry no labels, only the managed comment.
        labels = () if kind == "task" else tuple(keyword_tokens(keywords(row.get("keywords"))))
        return Issue(
            key=key,
            project=project,
            type=KINDS[kind][0],
            summary=clipped(str(row.get("title") or row.get("name") or "")),
            status=current or state,
            created=created,
            updated=max(updated, created),
            priority=PRIORITIES.get(str(row.get("pri")), str(row.get("pri") or "") or None),
            assignee=self.people.person(row.get("assignedTo")),
            reporter=self.people.person(row.get("openedBy")),
            labels=labels,
            duedate=date.fromisoformat(deadline)
            if isinstance(deadline, str) and deadline not in _NO_TIME
            else None,
            fix_versions=versions,
            parent=f"{kind}-{parent}" if parent > 0 and kind != "bug" else None,
            estimate=float(estimate)
            if isinstance(estimate, (int, float)) and estimate > 0
            else None,
            history=tuple(changes),
            comments=tuple(comments),
            labels_supported=kind != "task" and not self.refusals.refuses(key, row),
            resolution=self._resolution(kind, row),
            # ZenTao logs every item's opening: no actions at all means none were shown.
            history_known=bool(actions) or (current or state) in CREATED_IN[kind],
        )

    @staticmethod
    def _resolution(kind: str, row: dict[str, Any]) -> str | None:
        """How a closed story (close reason), bug (resolution) or task ended."""
        if row.get("status") != "closed":
            return None
        reason = row.get("resolution") if kind == "bug" else row.get("closedReason")
        return str(reason) if reason else None

    def labels_of(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for key in keys:
            match = KEY.match(key)
            if match is None:
                continue
            kind, number = match.group(1), int(match.group(2))
            try:
                item = self.session.get(f"/{KINDS[kind][1]}/{number}")
            except HttpError as exc:
                if exc.status == 404:
                    continue
                raise self.session.run_error(f"reading {key}", exc) from None
            except (Malformed, requests.RequestException) as exc:
                raise self.session.run_error(f"reading {key}", exc) from None
            # Tasks have no keywords: they exist, and carry none.
            found[key] = (
                () if kind == "task" else tuple(keyword_tokens(keywords(item.get("keywords"))))
            )
        return found

    def actions(self, issue_key: str) -> list[dict[str, Any]] | None:
        """The item's actions read now (None when the item is gone)."""
        kind, number = split_key(issue_key)
        return self.saw(issue_key, self.session.get(f"/{KINDS[kind][1]}/{number}"))

    def saw(self, issue_key: str, item: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Keep the actions of an item just read as its latest, and return them."""
        actions = [a for a in item.get("actions") or () if isinstance(a, dict)]
        self.fresh[issue_key] = actions
        return actions
