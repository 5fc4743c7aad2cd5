"""Jira Cloud (REST v3, enhanced search) and Data Center (REST v2) through the `jira` library.

Cloud: issues come from `search/jql` paged by `nextPageToken` (the old `/search` is
gone); inline changelogs stop at 40 entries, so longer histories are completed with
`changelog/bulkfetch`. Data Center: `/search` paged by `startAt`, paging by the
`maxResults` the server answers with, full changelog inline.

Notifications: Jira lets only a user with "Administer Projects" (or "Administer Jira")
pass `notifyUsers=false` on an issue edit; anyone else gets 403 and nothing changes. The
source asks `mypermissions` once per project it writes labels to, remembers the answer
(and any such 403) in its memory, and suppresses notifications only where it may; where
it may not, it writes with notifications on and counts those writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any, Protocol, TypeVar

import requests
from jira import JIRA, JIRAError
from requests.adapters import HTTPAdapter

from jira_chase.comment import (
    FORMAT_VERSION,
    PROPERTY_KEY,
    ManagedComment,
    parse_wiki_marker,
    to_adf,
    to_wiki,
)
from jira_chase.config import JiraSettings
from jira_chase.errors import ConfigError, IssueError, TrackerError
from jira_chase.jql import without_order_by
from jira_chase.model import Change, Comment, Issue, Link, Person
from jira_chase.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, LABELS, Operation
from jira_chase.progress import NO_PROGRESS, Progress
from jira_chase.sources.base import (
    Memory,
    Outcome,
    ScratchMemory,
    ServerIdentity,
    SourceStats,
    TrackerNames,
)
from jira_chase.sources.http import (
    BODY_ERRORS,
    backoff_delay,
    describe_page,
    looks_like_html,
    not_json_at_all,
    retry_policy,
    timed_out,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

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
#: `validateQuery` as the REST docs write it; the library's own `True` goes out as "True",
#: which Jira refuses.
VALIDATE_QUERY: Any = "true"
#: Request parameters Jira may name in a 400: an error about one of them is about the
#: request jira-chase sent, not about the JQL in jira.scope.
REQUEST_PARAMETERS = (
    "validateQuery",
    "maxResults",
    "startAt",
    "nextPageToken",
    "fieldsByKeys",
    "reconcileIssues",
)
ESTIMATE_FIELD_NAMES = ("Story point estimate", "Story Points")
FLAGGED_FIELD_NAMES = ("Flagged",)
#: People fields whose changelog `from`/`to` hold ids; other fields use display text.
PERSON_FIELDS = frozenset({"assignee", "reporter"})
BULK_CHANGELOG_MAX_ISSUES = 1000
BULK_EDIT_MAX_ISSUES = 1000
#: Keys named in one `key in (...)` query.
KEYS_PER_QUERY = 100
#: Page size of a key-only listing of the scope (Cloud allows up to 5000 then).
KEY_PAGE_SIZE = 5000
#: Minutes added to the window of an incremental fetch, for search-index lag.
OVERLAP_MINUTES = 10
#: Where the issue snapshots live in the state store, and the facts about the fetch.
SNAPSHOT_SOURCE = "jira"
SNAPSHOT_VERSION = 1
FETCH_FACTS = "jira-fetch"


class IssueSnapshots(Protocol):
    """Issue snapshots kept between runs (the state store)."""

    def issue_snapshots(self, source: str) -> dict[str, Issue]: ...

    def update_issue_snapshots(
        self, source: str, changed: Sequence[Issue], removed: Iterable[str], *, replace: bool
    ) -> None: ...


#: Identical label changes on at least this many issues go through Cloud bulk edit.
BULK_EDIT_MIN_ISSUES = 5
#: ... and on at least this many where watchers cannot be spared the email: one bulk
#: change notification instead of one email per issue.
BULK_EDIT_MIN_NOISY = 2
#: The longest wait, in seconds, for a bulk edit task (at least jira.timeout).
BULK_TASK_WAIT = 60.0
#: Memory kind: per project key, "yes" when the bot may suppress notifications there.
SILENT_WRITES = "jira-silent-writes"
#: The permissions that allow `notifyUsers=false` (either one).
SILENCING_PERMISSIONS = ("ADMINISTER_PROJECTS", "ADMINISTER")


def jql_string(value: str) -> str:
    """A JQL string literal for `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_jira_time(value: str) -> datetime:
    """Jira's `2026-10-01T09:00:00.000+0000` (and ISO 8601 variants) -> aware datetime."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return parsed


def project_of(issue_key: str) -> str:
    """The project key of an issue key (`OPS-7` -> `OPS`)."""
    return issue_key.rsplit("-", 1)[0]


def _refuses_silence(exc: JIRAError) -> bool:
    """Jira's 403 for `notifyUsers=false` from a user who may not suppress notifications."""
    return exc.status_code == 403 and "notification" in _error_text(exc).lower()


def _error_text(exc: JIRAError) -> str:
    """Jira's own errorMessages/errors, falling back to the library's text."""
    response = getattr(exc, "response", None)
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            messages = list(body.get("errorMessages") or [])
            errors = body.get("errors") or {}
            if isinstance(errors, dict):
                messages += [f"{k}: {v}" for k, v in errors.items()]
            if messages:
                return "; ".join(str(m) for m in messages)
    text = (exc.text or "").strip()
    if looks_like_html(text):
        return f"{describe_page(text)}, not a Jira REST API answer"
    return text[:300] or "no details"


def _parameter_named(detail: str) -> str | None:
    """The request parameter a Jira error message is about, if it names one (a JSON
    body's unknown key: `Unrecognized field "x"`)."""
    unknown = re.search(r'Unrecognized field "([^"]+)"', detail)
    if unknown:
        return unknown.group(1)
    for name in REQUEST_PARAMETERS:
        if re.search(rf"(?<![A-Za-z]){name}(?![A-Za-z])", detail):
            return name
    return None


class JiraSource:
    """The Source contract over the `jira` library (see sources/base.py).

    Retries live in the HTTP adapters (urllib3 `Retry`), not in a loop of ours: reads
    and idempotent writes (label add/remove, comment edit and delete) are retried;
    creating a comment is not, and is checked for before it is tried again.
    """

    def __init__(
        self,
        settings: JiraSettings,
        snapshots: IssueSnapshots | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        self.settings = settings
        self.snapshots = snapshots
        self.clock = clock
        self.stats = SourceStats()
        self._progress: Progress = NO_PROGRESS
        self.memory: Memory = ScratchMemory()
        self.cloud = settings.deployment == "cloud"
        self.api = "3" if self.cloud else "2"
        self._field_ids: dict[str, str] | None = None
        self._bot_id: str | None = None
        self._bulk_allowed = self.cloud
        self._issue_ids: dict[str, str] = {}
        #: Per project, whether this run sends `notifyUsers=false` there.
        self._silent: dict[str, bool] = {}
        token = settings.token.get_secret_value()
        if not token.strip():
            # Never send an empty secret: say which setting is missing, before any request.
            what = "API token" if self.cloud else "personal access token"
            raise ConfigError(
                [f"jira.token is empty: set JIRA_CHASE_JIRA__TOKEN to the bot account's {what}"]
            )
        options = {"rest_api_version": self.api, "check_update": False}
        try:
            self.client = JIRA(
                server=settings.url,
                options=options,
                basic_auth=(settings.email, token) if self.cloud else None,
                token_auth=None if self.cloud else token,
                timeout=settings.timeout,
                # The library's own retry loop retries POSTs too and cannot read an
                # HTTP-date Retry-After; switch it off in favour of the adapters below.
                max_retries=0,
                get_server_info=False,
                logging=False,
            )
        except (JIRAError, requests.RequestException, ValueError, KeyError) as exc:
            raise self._run_error("connecting", exc) from None
        self._mount_retries()
        self.client._session.hooks["response"].append(self._count)
        try:
            self._server_info = self._call("checking the server", self.client.server_info)
        except TrackerError as exc:
            if self.cloud and "HTTP 404" in str(exc):
                raise TrackerError(
                    f"{exc} — no REST API v3 there: for Jira Data Center set "
                    "jira.deployment = 'datacenter', else check jira.url"
                ) from None
            raise
        # Without these the library treats Cloud as Server and falls back to the removed
        # /search (see the library's start-up serverInfo call).
        self.client.deploymentType = self._server_info.get("deploymentType")
        self.client._version = tuple(self._server_info.get("versionNumbers") or (0, 0, 0))

    # -- plumbing -------------------------------------------------------------------

    def _mount_retries(self) -> None:
        session = self.client._session
        base = self.settings.url.rstrip("/")
        retries, backoff = self.settings.retries, self.settings.backoff
        idempotent = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
        session.mount(base, HTTPAdapter(max_retries=retry_policy(retries, backoff, idempotent)))
        # POSTs that only read (or, for bulk label edits, converge) may be repeated.
        reader = HTTPAdapter(max_retries=retry_policy(retries, backoff, (*idempotent, "POST")))
        for path in (
            "/rest/api/3/search/",
            "/rest/api/3/changelog/bulkfetch",
            "/rest/api/3/bulk/",
            "/rest/api/2/search",
        ):
            session.mount(base + path, reader)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        self.stats.by_status[response.status_code] = (
            self.stats.by_status.get(response.status_code, 0) + 1
        )
        history = getattr(getattr(response.raw, "retries", None), "history", ())
        self.stats.retries += len(history)

    def _call(self, doing: str, func: Callable[[], T]) -> T:
        """Run one read, retrying a body that arrives cut off (the adapters cannot see
        that: requests reads bodies after urllib3 has returned)."""
        for attempt in range(self.settings.retries + 1):
            try:
                return func()
            except BODY_ERRORS as exc:
                if attempt == self.settings.retries:
                    raise self._run_error(doing, exc) from None
                self.stats.retries += 1
                time.sleep(backoff_delay(attempt, self.settings.backoff))
            except (JIRAError, requests.RequestException, ValueError, KeyError) as exc:
                if isinstance(exc, ValueError) and attempt < self.settings.retries:
                    # A body that is not JSON: a truncated answer; read again.
                    self.stats.retries += 1
                    continue
                raise self._run_error(doing, exc) from None
        raise AssertionError("unreachable")

    def _run_error(self, doing: str, exc: Exception) -> TrackerError:
        if isinstance(exc, JIRAError):
            status = exc.status_code
            detail = _error_text(exc)
            if status == 401:
                who = "jira.email and the token" if self.cloud else "the personal access token"
                return TrackerError(
                    f"Jira answered HTTP 401 while {doing}: check {who} "
                    f"(JIRA_CHASE_JIRA__TOKEN) for {self.settings.url}"
                )
            if status == 403:
                return TrackerError(
                    f"Jira answered HTTP 403 while {doing}: the bot account lacks permission "
                    f"({detail})"
                )
            if status == 400:
                parameter = _parameter_named(detail)
                if parameter is not None:
                    return TrackerError(
                        f"Jira rejected the request parameter {parameter!r} (HTTP 400) while "
                        f"{doing}: {detail!r} — the request, not jira.scope, is at fault: "
                        "check that jira.deployment matches the site"
                    )
                if "scope" in doing:
                    return TrackerError(
                        f"Jira rejected jira.scope (HTTP 400): {detail!r} — fix the JQL in "
                        "jira.scope"
                    )
            return TrackerError(f"Jira answered HTTP {status} while {doing}: {detail}")
        if isinstance(exc, json.JSONDecodeError) and not_json_at_all(exc.doc):
            # A 200 whose body is not JSON: a login page, a proxy, the wrong address.
            return TrackerError(
                f"jira.url = {self.settings.url} answered {describe_page(exc.doc)} instead "
                f"of JSON while {doing}: it is not a Jira REST API; set jira.url to the "
                "site's base URL"
            )
        if timed_out(exc):
            return TrackerError(
                f"Jira did not answer within jira.timeout = {self.settings.timeout}s while "
                f"{doing} ({self.settings.url})"
            )
        if isinstance(exc, ValueError):  # also requests' JSONDecodeError
            return TrackerError(f"unexpected answer from Jira while {doing}: {exc}")
        if isinstance(exc, requests.RequestException):
            return TrackerError(f"cannot reach Jira at {self.settings.url} while {doing}: {exc}")
        return TrackerError(f"unexpected answer from Jira while {doing}: {exc}")

    def _url(self, path: str) -> str:
        return str(self.client._get_url(path))

    def _get_json(self, path: str, params: dict[str, Any], doing: str) -> dict[str, Any]:
        def get() -> dict[str, Any]:
            result = self.client._session.get(self._url(path), params=params).json()
            if not isinstance(result, dict):
                raise ValueError("not a JSON object")
            return result

        return self._call(doing, get)

    def _post_json(self, path: str, body: dict[str, Any], doing: str) -> dict[str, Any]:
        def post() -> dict[str, Any]:
            response = self.client._session.post(self._url(path), data=json.dumps(body))
            result = response.json()
            if not isinstance(result, dict):
                raise ValueError("not a JSON object")
            return result

        return self._call(doing, post)

    # -- the contract ---------------------------------------------------------------

    def use_memory(self, memory: Memory) -> None:
        self.memory = memory

    def identify(self) -> ServerIdentity:
        info = self._server_info
        me = self._call("checking the credentials", self.client.myself)
        deployment = str(info.get("deploymentType") or "Server")
        if self.cloud and deployment != "Cloud":
            raise TrackerError(
                f"jira.deployment = 'cloud' but {self.settings.url} reports deploymentType "
                f"{deployment!r}: set jira.deployment = 'datacenter'"
            )
        if not self.cloud and deployment == "Cloud":
            raise TrackerError(
                f"jira.deployment = 'datacenter' but {self.settings.url} is Jira Cloud: "
                "set jira.deployment = 'cloud'"
            )
        self._bot_id = str(me.get("accountId") or me.get("name") or me.get("key") or "")
        user = me.get("emailAddress") or me.get("name") or me.get("accountId") or "?"
        return ServerIdentity(
            tracker="jira",
            url=self.settings.url,
            version=str(info.get("version", "?")),
            deployment=deployment,
            user=str(user),
            user_id=self._bot_id,
        )

    def bot_id(self) -> str:
        if self._bot_id is None:
            self.identify()
        assert self._bot_id is not None
        return self._bot_id

    def field_ids(self) -> dict[str, str]:
        """Display name -> field id for the custom fields the rules read."""
        if self._field_ids is None:
            fields = self._call("listing fields", self.client.fields)
            self._field_ids = {f["name"]: f["id"] for f in fields if "name" in f and "id" in f}
        return self._field_ids

    def _custom_field(self, names: tuple[str, ...]) -> str | None:
        ids = self.field_ids()
        return next((ids[n] for n in names if n in ids), None)

    def _get_list(self, path: str, doing: str) -> list[Any]:
        def get() -> list[Any]:
            result = self.client._session.get(self._url(path)).json()
            if not isinstance(result, list):
                raise ValueError("not a JSON list")
            return result

        return self._call(doing, get)

    def known_names(self) -> TrackerNames:
        """Every status of the site (`GET status`)."""
        statuses = self._get_list("status", "listing the site's statuses")
        return TrackerNames(tuple(sorted(
            {str(s["name"]) for s in statuses if isinstance(s, dict) and s.get("name")}
        )))  # fmt: skip

    def known_resolutions(self) -> tuple[str, ...]:
        """Every resolution of the site (`GET resolution`)."""
        found = self._get_list("resolution", "listing the site's resolutions")
        return tuple(sorted(
            {str(r["name"]) for r in found if isinstance(r, dict) and r.get("name")}
        ))  # fmt: skip

    def validate_scope(self) -> int:
        if self.cloud:
            body = {"jql": self.settings.scope, "fields": ["id"], "maxResults": 1}
            self._post_json("search/jql", body, "checking jira.scope")
        return self._count_scope()

    def fetch_issues(self, progress: Progress | None = None) -> list[Issue]:
        """The scope's issues (`progress` hears of each one read). With a snapshot cache
        and an earlier fetch of the same scope and fields, only the issues updated since
        then (with an overlap) are read in full; a count of the scope tells whether any
        left it or were deleted, and only then are the scope's keys listed. The links'
        view of other issues (status, assignee) is refreshed every run, since their
        changes do not touch ours."""
        self._progress = progress or NO_PROGRESS
        fields = self._fields()
        fingerprint = hashlib.sha256(
            json.dumps([SNAPSHOT_VERSION, self.api, self.settings.scope, fields]).encode()
        ).hexdigest()[:16]
        started = self.clock()
        known = self.memory.recall(FETCH_FACTS)
        cached = (
            self.snapshots.issue_snapshots(SNAPSHOT_SOURCE)
            if self.snapshots is not None and known.get("fingerprint") == fingerprint
            else {}
        )
        since = known.get("since")
        if not cached or since is None:
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
            self.memory.remember(FETCH_FACTS, "fingerprint", fingerprint)
            self.memory.remember(FETCH_FACTS, "since", started.isoformat())
        return self._refresh_links(list(issues.values()))

    def _fields(self) -> list[str]:
        estimate_id = self._custom_field(ESTIMATE_FIELD_NAMES)
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
        window = self._search(
            jql, ["updated"], expand=None, doing="searching jira.scope for changes",
            max_results=KEY_PAGE_SIZE if self.cloud else 1000,
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
        if self._count_scope() != len(issues):
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

    def _count_scope(self) -> int:
        if self.cloud:
            answer = self._post_json(
                "search/approximate-count", {"jql": self.settings.scope}, "counting jira.scope"
            )
            return int(answer.get("count") or 0)
        page = self._get_json(
            "search",
            {"jql": self.settings.scope, "maxResults": 0, "fields": "id"},
            "counting jira.scope",
        )
        return int(page.get("total") or 0)

    def _scope_keys(self) -> set[str]:
        """Every key in the scope, listed with the largest page the site allows."""
        # Cloud answers `fields: ["id"]` with ids alone; asking for the key adds it.
        keys = self._search(
            self.settings.scope, ["key"], expand=None, doing="listing jira.scope",
            max_results=KEY_PAGE_SIZE if self.cloud else 1000,
        )  # fmt: skip
        return {str(raw["key"]) for raw in keys}

    def _fetch(self, jql: str, fields: list[str]) -> list[Issue]:
        estimate_id = self._custom_field(ESTIMATE_FIELD_NAMES)
        flagged_id = self._custom_field(FLAGGED_FIELD_NAMES)
        issues: list[Issue] = []
        truncated: list[dict[str, Any]] = []

        def convert(raw: dict[str, Any]) -> None:
            try:
                issues.append(to_issue(raw, estimate_id, flagged_id))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                key = raw.get("key", "?") if isinstance(raw, dict) else "?"
                raise TrackerError(
                    f"malformed issue {key} from Jira: {type(exc).__name__}: {exc}"
                ) from None

        # Convert page by page so only the issues whose changelog Cloud cut short are
        # held as raw JSON (memory stays near the size of the domain objects).
        for raw in self._search(jql, fields):
            self._progress.advance()
            if isinstance(raw, dict) and "key" in raw and "id" in raw:
                self._issue_ids[str(raw["key"])] = str(raw["id"])
            changelog = raw.get("changelog") or {} if isinstance(raw, dict) else {}
            if self.cloud and len(changelog.get("histories", [])) < int(changelog.get("total", 0)):
                truncated.append(raw)
            else:
                convert(raw)
        for start in range(0, len(truncated), BULK_CHANGELOG_MAX_ISSUES):
            chunk = truncated[start : start + BULK_CHANGELOG_MAX_ISSUES]
            self._complete_changelogs(chunk)
            for raw in chunk:
                convert(raw)
        return issues

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
        for raw in self._search(jql, ["labels"], expand=None, doing="looking for our labels"):
            fields = raw.get("fields") or {}
            found[str(raw["key"])] = tuple(fields.get("labels") or ())
        return found

    def _issue_fields(self, key: str, fields: str) -> dict[str, Any] | None:
        """One issue's fields, or None when it does not exist or is not visible."""
        try:
            raw = self._get_json(f"issue/{key}", {"fields": fields}, f"reading {key}")
        except TrackerError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        return raw.get("fields") or {}

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
            if other is not None:
                return replace(
                    link,
                    status=other.status,
                    status_category=other.status_category or link.status_category,
                    assignee=other.assignee.name if other.assignee else None,
                )
            if link.key in others:
                status, category, assignee = others[link.key]
                return replace(link, status=status or link.status,
                               status_category=category or link.status_category,
                               assignee=assignee)  # fmt: skip
            return link

        return [
            replace(issue, links=tuple(refreshed(link) for link in issue.links))
            if issue.links
            else issue
            for issue in issues
        ]

    def _describe(self, keys: list[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Status, status category and assignee name of issues by key (those that do
        not exist or are not visible are left out)."""
        found: dict[str, tuple[str | None, str | None, str | None]] = {}

        def note(key: str, fields: dict[str, Any]) -> None:
            status = fields.get("status") or {}
            person = _person(fields.get("assignee"))
            category = (status.get("statusCategory") or {}).get("key")
            found[key] = (status.get("name"), category, person.name if person else None)

        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[start : start + KEYS_PER_QUERY]
            jql = f"key in ({', '.join(jql_string(k) for k in chunk)})"
            try:
                for raw in self._search(jql, ["status", "assignee"], expand=None,
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

    def _search(
        self,
        jql: str,
        fields: list[str],
        expand: str | None = "changelog",
        doing: str = "searching jira.scope",
        max_results: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        size = max_results or self.settings.page_size
        if self.cloud:
            yield from self._search_cloud(jql, fields, expand, doing, size)
        else:
            yield from self._search_datacenter(jql, fields, expand, doing, size)

    def _search_cloud(
        self, jql: str, fields: list[str], expand: str | None, doing: str, size: int
    ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            body: dict[str, Any] = {
                "jql": jql,
                "fields": fields,
                "maxResults": size,
            }
            if expand:
                body["expand"] = expand
            if token:
                body["nextPageToken"] = token
            page = self._post_json("search/jql", body, doing)
            issues = page.get("issues")
            if not isinstance(issues, list):
                raise TrackerError("Jira's search/jql answer has no 'issues' list")
            yield from issues
            token = page.get("nextPageToken")
            if not token or page.get("isLast") is True:
                return
            if token in seen:
                raise TrackerError("Jira repeated a search page token; stopping to avoid a loop")
            seen.add(token)

    def _search_datacenter(
        self, jql: str, fields: list[str], expand: str | None, doing: str, size: int
    ) -> Iterator[dict[str, Any]]:
        start = 0
        while True:
            page = self._call(
                doing,
                lambda start=start: self.client.search_issues(  # type: ignore[misc]
                    jql,
                    startAt=start,
                    maxResults=size,
                    fields=",".join(fields),
                    expand=expand,
                    json_result=True,
                    validate_query=VALIDATE_QUERY,
                ),
            )
            issues = page.get("issues")
            if not isinstance(issues, list):
                raise TrackerError("Jira's search answer has no 'issues' list")
            yield from issues
            # Page by what the server returned: Data Center silently caps maxResults.
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return

    def _complete_changelogs(self, raws: list[dict[str, Any]]) -> None:
        """Replace truncated inline changelogs (Cloud caps them at 40) with full ones."""
        truncated = {
            str(raw["id"]): raw
            for raw in raws
            if len(raw.get("changelog", {}).get("histories", []))
            < int(raw.get("changelog", {}).get("total", 0))
        }
        if not truncated:
            return
        ids = list(truncated)
        full: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for start in range(0, len(ids), BULK_CHANGELOG_MAX_ISSUES):
            chunk = ids[start : start + BULK_CHANGELOG_MAX_ISSUES]
            token: str | None = None
            seen: set[str] = set()
            while True:
                body: dict[str, Any] = {"issueIdsOrKeys": chunk, "maxResults": 1000}
                if token:
                    body["nextPageToken"] = token
                page = self._post_json("changelog/bulkfetch", body, "fetching full changelogs")
                for entry in page.get("issueChangeLogs", []):
                    full.setdefault(str(entry["issueId"]), []).extend(
                        entry.get("changeHistories", [])
                    )
                token = page.get("nextPageToken")
                if not token:
                    break
                if token in seen:
                    raise TrackerError("Jira repeated a changelog page token; stopping")
                seen.add(token)
        for issue_id, raw in truncated.items():
            histories = full.get(issue_id, [])
            raw["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            }

    # -- saved filters (see filters.py) ---------------------------------------------

    def scope_project_ids(self) -> dict[str, str]:
        """The key -> id of every project with an issue in the scope."""
        found: dict[str, str] = {}
        for raw in self._search(
            without_order_by(self.settings.scope), ["project"], expand=None,
            doing="listing the scope's projects", max_results=1000,
        ):  # fmt: skip
            project = (raw.get("fields") or {}).get("project") or {}
            if project.get("key"):
                found[str(project["key"])] = str(project.get("id", ""))
        return found

    def request_json(
        self, method: str, path: str, doing: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        """One call of the REST API under `rest/api/<version>/`, its JSON answer. HTTP
        errors come back as `JIRAError` (a 4xx names what Jira refused); a failing
        connection or a 5xx after the retries ends the run."""

        def call() -> Any:
            response = self.client._session.request(
                method, self._url(path), params=params,
                data=json.dumps(body) if body is not None else None,
            )  # fmt: skip
            return response.json()

        try:
            return call()
        except JIRAError as exc:
            if exc.status_code in range(400, 500) and exc.status_code != 401:
                raise
            raise self._run_error(doing, exc) from None
        except (requests.RequestException, ValueError) as exc:
            raise self._run_error(doing, exc) from None

    def error_text(self, exc: JIRAError) -> str:
        """What Jira said in a refused request, in one line."""
        return _error_text(exc)

    # -- managed comments -----------------------------------------------------------

    def find_managed_comment(self, issue_key: str) -> ManagedComment | None:
        """The bot's own comment on the issue, recognised by its tag (Cloud: a comment
        property; Data Center: the invisible anchor its body starts with) and by being
        written by the bot, so no one else's text can pass for it. The oldest one wins
        should there be more."""
        found = self._managed_comments(issue_key)
        return found[0] if found else None

    def managed_comments(self, issue_key: str) -> list[ManagedComment]:
        """Every tagged comment of the bot on the issue, oldest first."""
        return self._managed_comments(issue_key)

    def _managed_comments(self, issue_key: str, tag: str = "") -> list[ManagedComment]:
        """The bot's comments tagged as the kind `tag` (see CommentDoc.tag)."""
        bot = self.bot_id()
        found: list[ManagedComment] = []
        start = 0
        while True:
            params: dict[str, Any] = {"startAt": start, "maxResults": 100, "orderBy": "created"}
            if self.cloud:
                params["expand"] = "properties"
            page = self._get_json(
                f"issue/{issue_key}/comment", params, f"reading comments of {issue_key}"
            )
            comments = page.get("comments") or []
            for comment in comments:
                author = comment.get("author") or {}
                if (author.get("accountId") or author.get("name")) != bot:
                    continue
                digest = self._comment_digest(comment, tag)
                if digest is not None:
                    found.append(ManagedComment(issue_key, str(comment["id"]), digest))
            start += len(comments)
            if not comments or start >= int(page.get("total", 0)):
                return found

    def _comment_digest(self, comment: dict[str, Any], tag: str = "") -> str | None:
        if self.cloud:
            for prop in comment.get("properties") or []:
                value = prop.get("value")
                if prop.get("key") == _property_key(tag) and isinstance(value, dict):
                    return str(value.get("digest", ""))
            return None
        body = comment.get("body")
        marker = parse_wiki_marker(body, tag) if isinstance(body, str) else None
        return marker[1] if marker else None

    def _comment_payload(self, op: Operation) -> dict[str, Any]:
        assert op.comment is not None
        if self.cloud:
            return {
                "body": to_adf(op.comment),
                "properties": [
                    {
                        "key": _property_key(op.comment.tag),
                        "value": {"version": FORMAT_VERSION, "digest": op.comment.digest},
                    }
                ],
            }
        return {"body": to_wiki(op.comment)}

    # -- notifications ----------------------------------------------------------------

    def may_write_silently(self, project: str) -> bool:
        """Whether label edits in `project` may pass `notifyUsers=false`: what this run
        learnt, else a remembered "yes", else what `mypermissions` says (asked again for
        a remembered "no", so a granted permission takes effect on the next run). When
        Jira cannot tell, a remembered "no" stands, else the source tries and learns
        from Jira's 403."""
        known = self._silent.get(project)
        if known is not None:
            return known
        remembered = self.memory.recall(SILENT_WRITES).get(project)
        if remembered == "yes":
            allowed = True
        else:
            answer = self._may_suppress_notifications(project)
            if answer is None:
                allowed = remembered != "no"
            else:
                allowed = answer
                self.memory.remember(SILENT_WRITES, project, "yes" if answer else "no")
        self._silent[project] = allowed
        return allowed

    def _may_suppress_notifications(self, project: str) -> bool | None:
        """Jira's `mypermissions` for `project`: does the bot hold Administer Projects
        (or Administer Jira)? None when Jira does not say."""
        params = {"projectKey": project, "permissions": ",".join(SILENCING_PERMISSIONS)}
        try:
            page = self._get_json(
                "mypermissions", params, f"reading the bot's permissions in {project}"
            )
        except TrackerError as exc:
            log.info("%s; learning from the first write instead", exc)
            return None
        permissions = page.get("permissions")
        if not isinstance(permissions, dict):
            log.info("Jira's mypermissions answer for %s has no permissions map", project)
            return None
        return any(
            isinstance(permissions.get(key), dict)
            and permissions[key].get("havePermission") is True
            for key in SILENCING_PERMISSIONS
        )

    def _refused_silence(self, project: str) -> None:
        log.info(
            "Jira refused notifyUsers=false in %s: the bot lacks Administer Projects there; "
            "writing with notifications on",
            project,
        )
        self._silent[project] = False
        self.memory.remember(SILENT_WRITES, project, "no")

    def _noisy(self, project: str, count: int = 1) -> None:
        by_project = self.stats.noisy_by_project
        by_project[project] = by_project.get(project, 0) + count

    def scope_projects(self) -> list[str]:
        """The projects this configuration writes to: those of the issues in scope and
        of the issues linked to them (a blocking label may land there)."""
        projects: set[str] = set()
        wanted = ["project", "issuelinks"]
        listing = self._search(
            self.settings.scope, wanted, None, "listing the scope's projects", KEY_PAGE_SIZE
        )
        for raw in listing:
            fields = raw.get("fields") or {} if isinstance(raw, dict) else {}
            key = raw.get("key") if isinstance(raw, dict) else None
            project = (fields.get("project") or {}).get("key")
            if project or key:
                projects.add(str(project or project_of(str(key))))
            for link in fields.get("issuelinks") or []:
                other = link.get("inwardIssue") or link.get("outwardIssue") or {}
                if other.get("key"):
                    projects.add(project_of(str(other["key"])))
        return sorted(projects)

    def notification_modes(self) -> dict[str, bool | None]:
        """Per project this configuration writes to: True when label changes there are
        silent, False when they email the issue's watchers, None when Jira does not say.
        Asks Jira afresh."""
        return {p: self._may_suppress_notifications(p) for p in self.scope_projects()}

    # -- writes ---------------------------------------------------------------------

    def apply(self, operations: Sequence[Operation]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        labels = [op for op in operations if op.kind == LABELS]
        if self._bulk_allowed and labels and len({(op.add, op.remove) for op in labels}) == 1:
            # Bulk edit where many issues change alike, or where notifications cannot be
            # suppressed (one bulk notification instead of an email per issue).
            by_silence: dict[bool, list[Operation]] = {True: [], False: []}
            for op in labels:
                by_silence[self.may_write_silently(project_of(op.issue_key))].append(op)
            bulked: set[int] = set()
            for silent, group in by_silence.items():
                wanted = BULK_EDIT_MIN_ISSUES if silent else BULK_EDIT_MIN_NOISY
                if len(group) < wanted or not self._bulk_allowed:
                    continue
                bulk = self._apply_labels_bulk(group, silent=silent)
                if bulk is not None:
                    outcomes += bulk
                    bulked.update(id(op) for op in group)
            operations = [op for op in operations if id(op) not in bulked]
        outcomes += [self._apply_single(op) for op in operations]
        return outcomes

    def _apply_single(self, op: Operation) -> Outcome:
        try:
            return Outcome(op, comment_id=self._apply_one(op))
        except IssueError as exc:
            return Outcome(op, error=exc)

    def _apply_one(self, op: Operation) -> str | None:
        key = op.issue_key
        session = self.client._session
        try:
            if op.kind == LABELS:
                self._edit_labels(op)
                return None
            if op.kind == COMMENT_CREATE:
                return self._create_comment(op)
            if op.kind == COMMENT_UPDATE:
                try:
                    session.put(
                        self._url(f"issue/{key}/comment/{op.comment_id}"),
                        params={"notifyUsers": "false"},
                        data=json.dumps(self._comment_payload(op)),
                    )
                except JIRAError as exc:
                    if exc.status_code != 404:
                        raise
                    # Someone deleted the comment: write it anew (the outcome names the
                    # new comment, which replaces the deleted one in the state store).
                    log.info("%s: managed comment %s is gone; creating it again", key,
                             op.comment_id)  # fmt: skip
                    return self._create_comment(op)
                return op.comment_id
            if op.kind == COMMENT_DELETE:
                try:
                    session.delete(self._url(f"issue/{key}/comment/{op.comment_id}"))
                except JIRAError as exc:
                    if exc.status_code != 404:  # already gone: the goal is reached
                        raise
                return None
        except JIRAError as exc:
            if exc.status_code == 401:
                raise self._run_error(f"writing {key}", exc) from None
            raise IssueError(
                key,
                f"HTTP {exc.status_code} on {op.kind} ({op.reason}): {_error_text(exc)}",
                status=exc.status_code,
            ) from None
        except requests.RequestException as exc:
            raise IssueError(key, f"{op.kind} ({op.reason}) failed: {exc}") from None
        raise ValueError(f"the Jira source cannot apply {op.kind!r} operations")

    def _edit_labels(self, op: Operation) -> None:
        """One issue's label edit, silent where the bot may suppress notifications; a
        403 refusing that teaches the source, and the same edit goes again without it."""
        update = [{"add": label} for label in op.add] + [{"remove": label} for label in op.remove]
        url = self._url(f"issue/{op.issue_key}")
        data = json.dumps({"update": {"labels": update}})
        project = project_of(op.issue_key)
        if self.may_write_silently(project):
            try:
                self.client._session.put(url, params={"notifyUsers": "false"}, data=data)
                return
            except JIRAError as exc:
                if not _refuses_silence(exc):
                    raise
                self._refused_silence(project)
        self.client._session.put(url, data=data)
        self._noisy(project)

    def _create_comment(self, op: Operation) -> str:
        """POST the comment. A 429 or 503 means Jira did not take it: wait as asked and
        try again. After an answer that leaves it unknown whether the comment was made
        (connection lost, timeout, other 5xx, a cut-off answer) look for it first, and
        try again only when it is not there."""
        url = self._url(f"issue/{op.issue_key}/comment")
        payload = json.dumps(self._comment_payload(op))
        tag = op.comment.tag if op.comment is not None else ""
        attempts = self.settings.retries + 1
        uncertain = False
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                answer = self.client._session.post(url, data=payload).json()
                created = str(answer["id"])
                if uncertain:
                    self._remove_duplicates(op.issue_key, keep=created, tag=tag)
                return created
            except JIRAError as exc:
                status = exc.status_code or 0
                if status in (429, 503):
                    if last:
                        raise
                    self._pause(attempt, exc.response)
                    continue
                if status < 500:
                    raise
                error: Exception = exc
            except (requests.RequestException, ValueError, KeyError) as exc:
                error = exc
            existing = next(iter(self._managed_comments(op.issue_key, tag)), None)
            if existing is not None:
                return existing.comment_id
            if last:
                raise error
            uncertain = True
            self._pause(attempt, None)
        raise AssertionError("unreachable")

    def _remove_duplicates(self, issue_key: str, *, keep: str, tag: str = "") -> None:
        """After a create that followed a lost answer, a server that was merely slow may
        have made the first comment after all: keep one, delete the others, so there is
        never more than one managed comment."""
        for extra in self._managed_comments(issue_key, tag):
            if extra.comment_id != keep:
                log.info("%s: deleting duplicate managed comment %s", issue_key, extra.comment_id)
                try:
                    self.client._session.delete(
                        self._url(f"issue/{issue_key}/comment/{extra.comment_id}")
                    )
                except JIRAError as exc:
                    if exc.status_code != 404:
                        raise

    def _pause(self, attempt: int, response: requests.Response | None) -> None:
        """Wait before trying a write again (Retry-After when the answer has one)."""
        self.stats.retries += 1
        header = response.headers.get("Retry-After") if response is not None else None
        time.sleep(backoff_delay(attempt, self.settings.backoff, header))

    def _apply_labels_bulk(self, ops: list[Operation], *, silent: bool) -> list[Outcome] | None:
        """One bulk edit for many identical label changes, without a notification when
        `silent`; None when the bot may not bulk-edit (the caller then writes issue by
        issue)."""
        outcomes: list[Outcome] = []
        add, remove = ops[0].add, ops[0].remove
        for start in range(0, len(ops), BULK_EDIT_MAX_ISSUES):
            chunk = ops[start : start + BULK_EDIT_MAX_ISSUES]
            failed: dict[str, str] = {}
            lost = False
            for option, labels in (("ADD", add), ("REMOVE", remove)):
                if not labels:
                    continue
                try:
                    keys = [op.issue_key for op in chunk]
                    failed.update(self._bulk_edit(keys, option, labels, silent=silent))
                except (requests.RequestException, ValueError, KeyError) as exc:
                    # The answer to the submit was lost or cut off: whether the task was
                    # queued is unknown. Label edits converge, so edit issue by issue.
                    log.info("bulk edit answer lost (%s); editing issue by issue", exc)
                    lost = True
                    break
                except JIRAError as exc:
                    if exc.status_code in (401,):
                        raise self._run_error("bulk-editing labels", exc) from None
                    if exc.status_code in (403, 404) and not outcomes and start == 0:
                        log.info("bulk edit unavailable (HTTP %s); editing issue by issue",
                                 exc.status_code)  # fmt: skip
                        self._bulk_allowed = False
                        return None
                    failed.update({op.issue_key: f"bulk edit: {_error_text(exc)}" for op in chunk})
            if lost:
                outcomes += [self._apply_single(op) for op in chunk]
                continue
            for op in chunk:
                error = failed.get(op.issue_key)
                outcomes.append(
                    Outcome(op, error=IssueError(op.issue_key, error) if error else None)
                )
                if error is None and not silent:
                    self._noisy(project_of(op.issue_key))
        return outcomes

    def _bulk_edit(
        self, keys: list[str], option: str, labels: tuple[str, ...], *, silent: bool
    ) -> dict[str, str]:
        body = {
            "selectedIssueIdsOrKeys": keys,
            "selectedActions": ["labels"],
            "editedFieldsInput": {
                "labelsFields": [
                    {
                        "fieldId": "labels",
                        "bulkEditMultiSelectFieldOption": option,
                        "labels": [{"name": label} for label in labels],
                    }
                ]
            },
            "sendBulkNotification": not silent,
        }
        task_id = None
        for attempt in range(self.settings.retries + 1):
            try:
                response = self.client._session.post(
                    self._url("bulk/issues/fields"), data=json.dumps(body)
                )
                task_id = str(response.json()["taskId"])
                break
            except (ValueError, KeyError, TypeError, *BODY_ERRORS):
                # A cut-off answer: the edit converges, so sending it again is safe.
                self.stats.retries += 1
                time.sleep(backoff_delay(attempt, self.settings.backoff))
        if task_id is None:
            return {key: "bulk edit: Jira's answer had no task id" for key in keys}
        deadline = time.monotonic() + max(BULK_TASK_WAIT, self.settings.timeout)
        delay = 0.2
        while True:
            status = self._get_json(f"bulk/queue/{task_id}", {}, "waiting for a bulk edit")
            state = status.get("status")
            if state == "COMPLETE":
                failed = status.get("failedAccessibleIssues") or {}
                by_id = {str(k): "; ".join(v) if isinstance(v, list) else str(v)
                         for k, v in failed.items()}  # fmt: skip
                # Jira names failed issues by id; map them back through the search results.
                return {
                    key: by_id.get(self._issue_ids.get(key, key)) or by_id[key]
                    for key in keys
                    if self._issue_ids.get(key, key) in by_id or key in by_id
                }
            if state in ("FAILED", "CANCELLED", "CANCEL_REQUESTED", "DEAD"):
                return {key: f"bulk edit task {task_id} ended {state}" for key in keys}
            if time.monotonic() > deadline:
                return {key: f"bulk edit task {task_id} still {state}" for key in keys}
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


# -- payload -> domain ---------------------------------------------------------------


def _property_key(tag: str) -> str:
    """The comment property that tags the bot's comment of the kind `tag`."""
    return f"{PROPERTY_KEY}-{tag}" if tag else PROPERTY_KEY


def _person(raw: dict[str, Any] | None) -> Person | None:
    if not raw:
        return None
    pid = raw.get("accountId") or raw.get("name") or raw.get("key")
    if not pid:
        return None
    return Person(
        id=str(pid),
        name=str(raw.get("displayName") or pid),
        email=raw.get("emailAddress"),
    )


def _changes(raw: dict[str, Any]) -> list[Change]:
    histories = raw.get("changelog", {}).get("histories", [])
    # Jira sorts histories differently per endpoint; order by time, then by id.
    ordered = sorted(
        histories,
        key=lambda h: (
            parse_jira_time(h["created"]),
            int(h["id"]) if str(h.get("id", "")).isdigit() else 0,
        ),
    )
    changes = []
    for history in ordered:
        at = parse_jira_time(history["created"])
        author = history.get("author") or {}
        by = author.get("accountId") or author.get("name")
        for item in history.get("items", []):
            field = item.get("field") or item.get("fieldId") or "?"
            if field in PERSON_FIELDS:
                old, new = item.get("from"), item.get("to")
            else:
                old, new = item.get("fromString"), item.get("toString")
            changes.append(Change(at=at, field=field, from_value=old, to_value=new, by=by))
    return changes


def _links(fields: dict[str, Any], changes: list[Change]) -> list[Link]:
    links = []
    for link in fields.get("issuelinks") or []:
        if "inwardIssue" in link:
            direction, other = "inward", link["inwardIssue"]
        elif "outwardIssue" in link:
            direction, other = "outward", link["outwardIssue"]
        else:
            continue
        key = other["key"]
        status = (other.get("fields") or {}).get("status") or {}
        since = next(
            (
                c.at
                for c in reversed(changes)
                if c.field == "Link" and c.to_value and key in c.to_value.split()
            ),
            None,
        )
        links.append(
            Link(
                type=link.get("type", {}).get("name", "?"),
                direction=direction,
                key=key,
                project=key.rsplit("-", 1)[0],
                status=status.get("name"),
                status_category=(status.get("statusCategory") or {}).get("key"),
                since=since,
            )
        )
    return links


def _comments(fields: dict[str, Any]) -> tuple[list[Comment], bool]:
    """The comments the issue came with, and whether they are all of its comments."""
    page = fields.get("comment") or {}
    comments = []
    raw_comments = page.get("comments") or []
    for raw in raw_comments:
        author = raw.get("author") or {}
        comments.append(
            Comment(
                at=parse_jira_time(raw["created"]),
                by=author.get("accountId") or author.get("name"),
                id=str(raw["id"]) if raw.get("id") is not None else None,
            )
        )
    total = page.get("total")
    complete = (
        "comment" in fields
        and isinstance(total, int)
        and total <= len(raw_comments)
        and all(c.id is not None for c in comments)
    )
    return comments, complete


def to_issue(raw: dict[str, Any], estimate_id: str | None, flagged_id: str | None) -> Issue:
    """A Jira issue payload (with `expand=changelog`) -> Issue."""
    fields = raw["fields"]
    changes = _changes(raw)
    estimate = fields.get(estimate_id) if estimate_id else None
    due = fields.get("duedate")
    comments, comments_complete = _comments(fields)
    category = (fields["status"].get("statusCategory") or {}).get("key")
    # An issue is created in a "To Do"-category status; one elsewhere that shows no
    # status change has a history the tracker did not give us.
    known = category in (None, "new") or any(c.field == "status" for c in changes)
    return Issue(
        key=raw["key"],
        project=(fields.get("project") or {}).get("key") or raw["key"].rsplit("-", 1)[0],
        type=(fields.get("issuetype") or {}).get("name", "?"),
        summary=fields.get("summary") or "",
        status=fields["status"]["name"],
        created=parse_jira_time(fields["created"]),
        updated=parse_jira_time(fields["updated"]),
        priority=(fields.get("priority") or {}).get("name"),
        assignee=_person(fields.get("assignee")),
        reporter=_person(fields.get("reporter")),
        labels=tuple(fields.get("labels") or ()),
        duedate=date.fromisoformat(due) if due else None,
        fix_versions=tuple(v["name"] for v in fields.get("fixVersions") or ()),
        parent=(fields.get("parent") or {}).get("key"),
        components=tuple(c["name"] for c in fields.get("components") or () if c.get("name")),
        estimate=float(estimate) if isinstance(estimate, (int, float)) else None,
        flagged=bool(fields.get(flagged_id)) if flagged_id else False,
        history=tuple(changes),
        links=tuple(_links(fields, changes)),
        comments=tuple(comments),
        comments_complete=comments_complete,
        status_category=category,
        resolution=(fields.get("resolution") or {}).get("name"),
        history_known=known,
    )
