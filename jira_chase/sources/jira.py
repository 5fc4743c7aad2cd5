"""Jira Cloud (REST v3, enhanced search) and Data Center (REST v2) through the `jira` library.

Cloud: issues come from `search/jql` paged by `nextPageToken` (the old `/search` is
gone); inline changelogs stop at 40 entries, so longer histories are completed with
`changelog/bulkfetch`. Data Center: `/search` paged by `startAt`, paging by the
`maxResults` the server answers with, full changelog inline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import requests
from jira import JIRA, JIRAError

from jira_chase.config import JiraSettings
from jira_chase.errors import IssueError, TrackerError
from jira_chase.model import Change, Issue, Link, Person
from jira_chase.plan import Operation
from jira_chase.sources.base import ServerIdentity, SourceStats

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
    "parent",
    "issuelinks",
    "project",
)
ESTIMATE_FIELD_NAMES = ("Story point estimate", "Story Points")
FLAGGED_FIELD_NAMES = ("Flagged",)
#: People fields whose changelog `from`/`to` hold ids; other fields use display text.
PERSON_FIELDS = frozenset({"assignee", "reporter"})
BULK_CHANGELOG_MAX_ISSUES = 1000


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
    return (exc.text or "no details").strip()


class JiraSource:
    """The Source contract over the `jira` library (see sources/base.py)."""

    def __init__(self, settings: JiraSettings):
        self.settings = settings
        self.stats = SourceStats()
        self.cloud = settings.deployment == "cloud"
        self._field_ids: dict[str, str] | None = None
        token = settings.token.get_secret_value()
        options = {"rest_api_version": "3" if self.cloud else "2", "check_update": False}
        try:
            self.client = JIRA(
                server=settings.url,
                options=options,
                basic_auth=(settings.email, token) if self.cloud else None,
                token_auth=None if self.cloud else token,
                timeout=settings.timeout,
                max_retries=settings.retries,
                # The start-up serverInfo call sets deploymentType, without which the
                # library treats Cloud as Server and falls back to the removed /search.
                get_server_info=True,
                logging=False,
            )
        except (JIRAError, requests.RequestException, ValueError, KeyError) as exc:
            raise self._run_error("connecting", exc) from None
        self.client._session.hooks["response"].append(self._count)

    # -- plumbing -------------------------------------------------------------------

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        self.stats.by_status[response.status_code] = (
            self.stats.by_status.get(response.status_code, 0) + 1
        )

    def _run_error(self, doing: str, exc: Exception) -> TrackerError:
        if isinstance(exc, JIRAError):
            status = exc.status_code
            detail = _error_text(exc)
            if status == 401:
                return TrackerError(
                    f"Jira answered HTTP 401 while {doing}: check jira.email and the token "
                    f"(JIRA_CHASE_JIRA__TOKEN) for {self.settings.url}"
                )
            if status == 403:
                return TrackerError(
                    f"Jira answered HTTP 403 while {doing}: the bot account lacks permission "
                    f"({detail})"
                )
            if status == 400 and "scope" in doing:
                return TrackerError(
                    f"Jira rejected jira.scope (HTTP 400): {detail} — fix the JQL in jira.scope"
                )
            return TrackerError(f"Jira answered HTTP {status} while {doing}: {detail}")
        if isinstance(exc, requests.Timeout):
            return TrackerError(
                f"Jira did not answer within jira.timeout = {self.settings.timeout}s while "
                f"{doing} ({self.settings.url})"
            )
        if isinstance(exc, requests.RequestException):
            return TrackerError(f"cannot reach Jira at {self.settings.url} while {doing}: {exc}")
        return TrackerError(f"unexpected answer from Jira while {doing}: {exc}")

    def _url(self, path: str) -> str:
        return str(self.client._get_url(path))

    def _post_json(self, path: str, body: dict[str, Any], doing: str) -> dict[str, Any]:
        try:
            response = self.client._session.post(self._url(path), data=json.dumps(body))
            result = response.json()
        except (JIRAError, requests.RequestException) as exc:
            raise self._run_error(doing, exc) from None
        except ValueError as exc:
            raise TrackerError(f"Jira sent a body that is not JSON while {doing}: {exc}") from None
        if not isinstance(result, dict):
            raise TrackerError(f"Jira sent an unexpected body while {doing}")
        return result

    # -- the contract ---------------------------------------------------------------

    def identify(self) -> ServerIdentity:
        try:
            info = self.client.server_info()
            me = self.client.myself()
        except (JIRAError, requests.RequestException, ValueError) as exc:
            raise self._run_error("checking the server and credentials", exc) from None
        deployment = str(info.get("deploymentType") or "Server")
        if self.cloud and deployment != "Cloud":
            raise TrackerError(
                f"jira.deployment = 'cloud' but {self.settings.url} reports deploymentType "
                f"{deployment!r}: set jira.deployment = 'datacenter'"
            )
        user = me.get("emailAddress") or me.get("name") or me.get("accountId") or "?"
        return ServerIdentity(
            tracker="jira",
            url=self.settings.url,
            version=str(info.get("version", "?")),
            deployment=deployment,
            user=str(user),
        )

    def field_ids(self) -> dict[str, str]:
        """Display name -> field id for the custom fields the rules read."""
        if self._field_ids is None:
            try:
                fields = self.client.fields()
            except (JIRAError, requests.RequestException, ValueError) as exc:
                raise self._run_error("listing fields", exc) from None
            self._field_ids = {f["name"]: f["id"] for f in fields if "name" in f and "id" in f}
        return self._field_ids

    def _custom_field(self, names: tuple[str, ...]) -> str | None:
        ids = self.field_ids()
        return next((ids[n] for n in names if n in ids), None)

    def validate_scope(self) -> None:
        if self.cloud:
            body = {"jql": self.settings.scope, "fields": ["id"], "maxResults": 1}
            self._post_json("search/jql", body, "checking jira.scope")
            return
        try:
            self.client.search_issues(
                self.settings.scope, maxResults=1, fields="id", json_result=True
            )
        except (JIRAError, requests.RequestException, ValueError) as exc:
            raise self._run_error("checking jira.scope", exc) from None

    def fetch_issues(self) -> list[Issue]:
        estimate_id = self._custom_field(ESTIMATE_FIELD_NAMES)
        flagged_id = self._custom_field(FLAGGED_FIELD_NAMES)
        fields = list(BASE_FIELDS) + [f for f in (estimate_id, flagged_id) if f]
        raws = list(self._search(self.settings.scope, fields))
        if self.cloud:
            self._complete_changelogs(raws)
        issues = []
        for raw in raws:
            try:
                issues.append(to_issue(raw, estimate_id, flagged_id))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                key = raw.get("key", "?") if isinstance(raw, dict) else "?"
                raise TrackerError(
                    f"malformed issue {key} from Jira: {type(exc).__name__}: {exc}"
                ) from None
        return issues

    def _search(self, jql: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        if self.cloud:
            yield from self._search_cloud(jql, fields)
        else:
            yield from self._search_datacenter(jql, fields)

    def _search_cloud(self, jql: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            body: dict[str, Any] = {
                "jql": jql,
                "fields": fields,
                "expand": "changelog",
                "maxResults": self.settings.page_size,
            }
            if token:
                body["nextPageToken"] = token
            page = self._post_json("search/jql", body, "searching jira.scope")
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

    def _search_datacenter(self, jql: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        start = 0
        while True:
            try:
                page = self.client.search_issues(
                    jql,
                    startAt=start,
                    maxResults=self.settings.page_size,
                    fields=",".join(fields),
                    expand="changelog",
                    json_result=True,
                )
            except (JIRAError, requests.RequestException, ValueError) as exc:
                raise self._run_error("searching jira.scope", exc) from None
            issues = page.get("issues") or []
            yield from issues
            # Page by what the server returned: Data Center silently caps maxResults.
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return

    def _complete_changelogs(self, raws: list[dict[str, Any]]) -> None:
        """Replace truncated inline changelogs (Cloud caps them at 40) with full ones."""
        truncated = {
            raw["id"]: raw
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

    def apply(self, operation: Operation) -> None:
        if operation.kind != "labels":
            raise ValueError(f"the Jira source cannot apply {operation.kind!r} operations")
        update = [{"add": label} for label in operation.add] + [
            {"remove": label} for label in operation.remove
        ]
        url = self._url(f"issue/{operation.issue_key}")
        try:
            self.client._session.put(
                url,
                params={"notifyUsers": "false"},
                data=json.dumps({"update": {"labels": update}}),
            )
        except JIRAError as exc:
            if exc.status_code == 401:
                raise self._run_error(f"updating {operation.issue_key}", exc) from None
            raise IssueError(
                operation.issue_key,
                f"HTTP {exc.status_code} on label update: {_error_text(exc)}",
                status=exc.status_code,
            ) from None
        except requests.RequestException as exc:
            raise self._run_error(f"updating {operation.issue_key}", exc) from None


# -- payload -> domain ---------------------------------------------------------------


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


def to_issue(raw: dict[str, Any], estimate_id: str | None, flagged_id: str | None) -> Issue:
    """A Jira issue payload (with `expand=changelog`) -> Issue."""
    fields = raw["fields"]
    changes = _changes(raw)
    estimate = fields.get(estimate_id) if estimate_id else None
    due = fields.get("duedate")
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
        estimate=float(estimate) if isinstance(estimate, (int, float)) else None,
        flagged=bool(fields.get(flagged_id)) if flagged_id else False,
        history=tuple(changes),
        links=tuple(_links(fields, changes)),
    )
