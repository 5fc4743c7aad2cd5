"""The Jira Cloud flavour: REST v3 (and v2), enhanced search, bulk changelogs, bulk edit.

Choices where Jira leaves room (the tests pin them):

- Sign-in is HTTP Basic with a dataset user's email; with ``credentials`` (email -> API
  token) the token must match, else any token is accepted. Anything else is a 401 with
  Jira's error body and a ``WWW-Authenticate`` challenge.
- ``expand=changelog`` in ``search/jql`` returns the *latest* 40 histories of an issue
  (oldest first), ``GET issue`` the latest 100, with ``startAt = total - returned`` and
  ``total`` the full count, so a client can see the truncation (JRACLOUD-96459) and fetch
  the rest from ``changelog/bulkfetch`` or ``issue/{key}/changelog``.
- ``search/jql`` pages over a snapshot of the matching issue ids taken on the first page
  (the fields are read live); ``maxResults`` is capped at 5000, and at 100 when
  ``*all``/``*navigable`` fields or the changelog are asked for.
- ``changelog/bulkfetch`` ignores ids or keys that name no issue, as Jira does for
  issues the caller cannot see.
- Bulk edit (``bulk/issues/fields``) edits labels only. The task advances one step each
  time its ``bulk/queue/{taskId}`` is polled: ENQUEUED, then RUNNING (the first half of
  the issues edited), then COMPLETE (all of them). Issues in read-only projects end up in
  ``failedAccessibleIssues``; unknown ones count as ``invalidOrInaccessibleIssueCount``.
  A user without the global bulk change permission (``users[].bulkChange: false``) gets
  403 on submit and on poll. ``bulk_ending`` (a test sets it on the API object) makes
  every task end otherwise: ``"FAILED"`` (or another final status) where it would have
  completed, with nothing edited, or ``"RUNNING"`` for a task that never finishes.
- ``stuck_paging`` (a test sets it on the API object): ``search/jql`` and
  ``changelog/bulkfetch`` answer a page asked for by token with that same token again,
  as a misbehaving cache in front of Jira could; a client must not loop forever.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from jira_chase.simulator.dataset import Dataset, Issue, User
from jira_chase.simulator.http import ApiError, Request, Response
from jira_chase.simulator.jira_common import NO_EDIT, PERMISSIONS, Clock, JiraApi
from jira_chase.simulator.jira_json import JiraJson, jira_time
from jira_chase.simulator.jql import PreparedQuery

SEARCH_DEFAULT_RESULTS = 50
SEARCH_MAX_RESULTS = 5000
SEARCH_MAX_RESULTS_HEAVY = 100  # with *all/*navigable fields or the changelog
SEARCH_CHANGELOG_CAP = 40  # JRACLOUD-96459
SEARCH_MAX_PROPERTIES = 5
ISSUE_CHANGELOG_CAP = 100
BULK_CHANGELOG_MAX_ISSUES = 1000
BULK_CHANGELOG_MAX_FIELDS = 10
BULK_CHANGELOG_DEFAULT_RESULTS = 1000
BULK_CHANGELOG_MAX_RESULTS = 10000
BULK_EDIT_MAX_ISSUES = 1000
BULK_LABEL_OPTIONS = ("ADD", "REMOVE", "REPLACE", "REMOVE_ALL")
_SNAPSHOTS_KEPT = 64

_SEARCH_BODY_KEYS = frozenset(
    {
        "jql",
        "nextPageToken",
        "maxResults",
        "fields",
        "expand",
        "properties",
        "fieldsByKeys",
        "reconcileIssues",
        "failFast",
    }
)
_BULK_CHANGELOG_KEYS = frozenset({"issueIdsOrKeys", "fieldIds", "maxResults", "nextPageToken"})
_BULK_EDIT_KEYS = frozenset(
    {"selectedIssueIdsOrKeys", "selectedActions", "editedFieldsInput", "sendBulkNotification"}
)
_LABELS_FIELD_KEYS = frozenset({"fieldId", "bulkEditMultiSelectFieldOption", "labels"})

NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
_REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
    " A full migration guideline is available at"
    " https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_BAD_TOKEN = "The nextPageToken is invalid, expired, or belongs to a different request."
_NO_BULK = "You don't have the global Bulk Change permission, which is needed for bulk edits."

BULK_STYLE = "bulk"  # routes whose documented errors are {"errors": [{"message": ...}]}


def _encode_token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (ValueError, binascii.Error):
        raise ApiError(400, [_BAD_TOKEN]) from None
    if not isinstance(payload, dict):
        raise ApiError(400, [_BAD_TOKEN])
    return payload


def _digest(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts).encode(), usedforsecurity=False).hexdigest()[:16]


@dataclass
class BulkEditTask:
    """A submitted bulk edit of labels, advanced by polls (see the module doc)."""

    id: str
    user: User
    option: str
    labels: list[str]
    issues: list[Issue]
    invalid: int
    created: datetime
    polls: int = 0
    done: int = 0  # how many of ``issues`` were edited (or failed)
    started: datetime | None = None
    updated: datetime | None = None
    processed: list[int] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.polls == 0 or self.started is None:
            return "ENQUEUED"
        return "COMPLETE" if self.done >= len(self.issues) else "RUNNING"


class JiraCloudApi(JiraApi):
    """The Jira Cloud endpoints over one dataset."""

    cloud_filters = True
    issue_changelog_cap = ISSUE_CHANGELOG_CAP

    def __init__(
        self,
        dataset: Dataset,
        clock: Clock,
        base_url: str,
        *,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self._snapshots: OrderedDict[str, list[str]] = OrderedDict()
        self._snapshot_serial = 0
        self.bulk_tasks: dict[str, BulkEditTask] = {}
        self.bulk_ending = "COMPLETE"
        self.stuck_paging = False
        self._next_task_id = 10640
        super().__init__(dataset, clock, JiraJson(dataset, base_url), credentials=credentials)

    def add_routes(self) -> None:
        super().add_routes()
        add = self.router.add
        base = f"/rest/api/{self.version_segment}"
        add("GET", f"{base}/search/jql", self.search)
        add("POST", f"{base}/search/jql", self.search)
        add("POST", f"{base}/search/approximate-count", self.approximate_count)
        add("GET", f"{base}/search", self.removed_search)
        add("POST", f"{base}/search", self.removed_search)
        add("POST", f"{base}/changelog/bulkfetch", self.bulk_changelog)
        add("GET", f"{base}/issue/{{issue}}/changelog", self.issue_changelog)
        add("POST", f"{base}/bulk/issues/fields", self.submit_bulk_edit, BULK_STYLE)
        add("GET", f"{base}/bulk/queue/{{task}}", self.bulk_progress, BULK_STYLE)

    def authenticate(self, request: Request) -> User:
        """HTTP Basic with a dataset user's email (and, when configured, its API token)."""
        challenge = {"WWW-Authenticate": 'Basic realm="protected-area"'}
        found = self.basic_credentials(request)
        user = self.dataset.user_by_email(found[0]) if found else None
        if found is None or user is None or not self.secret_matches([found[0]], found[1]):
            raise ApiError(401, [NOT_AUTHENTICATED], headers=challenge)
        return user

    def shape_error(self, error: ApiError, style: str) -> ApiError:
        """Bulk operations document their 400 and 401 as ``{"errors": [{"message"}]}``."""
        if style == BULK_STYLE and error.status in (400, 401) and error.body is None:
            messages = error.messages + list(error.errors.values())
            body = {"errors": [{"message": message} for message in messages]}
            return ApiError(error.status, headers=error.headers, body=body)
        return error

    def rate_limit_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-NearLimit": "true",
            "RateLimit-Reason": "jira-burst-based",
        }

    def rate_limit_reset_headers(self, wait: int) -> dict[str, str]:
        reset = datetime.now(timezone.utc) + timedelta(seconds=wait)
        return {"X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}

    # server ------------------------------------------------------------------------------

    def requested_permissions(self, request: Request) -> list[str]:
        """Cloud answers only the permissions asked for, and asking is required."""
        wanted = [key for key in request.list_arg("permissions") if key]
        if not wanted:
            raise ApiError(400, ["The 'permissions' parameter is required."])
        unknown = [key for key in wanted if key not in PERMISSIONS]
        if unknown:
            raise ApiError(400, [f"Unrecognized permission key: {unknown[0]}"])
        return list(dict.fromkeys(wanted))

    def server_info(self, request: Request, user: User) -> Response:
        body = self.server_info_body(
            "1001.0.0-SNAPSHOT", "Cloud", 100289, "2026-02-01T00:00:00.000+0000"
        )
        return Response(200, body)

    # search ------------------------------------------------------------------------------

    def removed_search(self, request: Request, user: User) -> Response:
        raise ApiError(410, [_REMOVED_SEARCH])

    def _search_params(self, request: Request) -> dict[str, Any]:
        """The search parameters from the query string (GET) or the JSON body (POST)."""
        if request.method == "GET":
            return {
                "jql": request.arg("jql", ""),
                "nextPageToken": request.arg("nextPageToken"),
                "maxResults": request.int_arg("maxResults", SEARCH_DEFAULT_RESULTS),
                "fields": request.query.get("fields"),
                "expand": ",".join(request.query.get("expand", [])),
                "properties": [key for key in request.list_arg("properties") if key],
            }
        body = self._object_body(request)
        unknown = sorted(body.keys() - _SEARCH_BODY_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        for name in ("fields", "properties"):
            value = body.get(name)
            if value is not None and not (
                isinstance(value, list) and all(isinstance(f, str) for f in value)
            ):
                raise ApiError(400, [f"'{name}' must be an array of strings."])
        max_results = body.get("maxResults")
        if max_results is not None and type(max_results) is not int:
            raise ApiError(400, ["'maxResults' must be a number."])
        for name in ("jql", "nextPageToken", "expand"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise ApiError(400, [f"'{name}' must be a string."])
        return {
            "jql": body.get("jql") or "",
            "nextPageToken": body.get("nextPageToken"),
            "maxResults": SEARCH_DEFAULT_RESULTS if max_results is None else max_results,
            "fields": body.get("fields"),
            "expand": body.get("expand") or "",
            "properties": body.get("properties") or [],
        }

    def search(self, request: Request, user: User) -> Response:
        params = self._search_params(request)
        jql = params["jql"]
        selection = self.json.selection(params["fields"], "id")
        expand = {part.strip() for part in params["expand"].split(",")}
        with_changelog = "changelog" in expand
        properties = params["properties"]
        if len(properties) > SEARCH_MAX_PROPERTIES:
            raise ApiError(400, [f"At most {SEARCH_MAX_PROPERTIES} properties can be requested."])
        limit = SEARCH_MAX_RESULTS
        if with_changelog or selection.wide:
            limit = SEARCH_MAX_RESULTS_HEAVY
        max_results = params["maxResults"]
        if max_results < 0:
            raise ApiError(400, ["'maxResults' must not be negative."])
        max_results = min(max_results or SEARCH_DEFAULT_RESULTS, limit)
        prepared = self.prepare(jql, user, bounded=True)
        query_digest = _digest(jql)
        token = params["nextPageToken"]
        if token:
            payload = _decode_token(token)
            offset, snapshot_id = payload.get("o"), payload.get("s")
            if payload.get("q") != query_digest or type(offset) is not int or offset < 0:
                raise ApiError(400, [_BAD_TOKEN])
            keys = self._snapshots.get(str(snapshot_id))
            if keys is None:  # evicted: run the query again and go on from the same place
                snapshot_id, keys = self._snapshot(prepared)
        else:
            offset = 0
            snapshot_id, keys = self._snapshot(prepared)
        page = keys[offset : offset + max_results]
        issues = self.dataset.issues
        version = self.version(request)
        body: dict[str, Any] = {
            "issues": [
                self.json.issue(
                    issues[key],
                    selection,
                    version,
                    SEARCH_CHANGELOG_CAP,
                    changelog=with_changelog,
                    properties=properties,
                )
                for key in page
            ]
        }
        following = offset + len(page)
        body["isLast"] = following >= len(keys)
        if token and self.stuck_paging:
            body["isLast"] = False
            body["nextPageToken"] = token
        elif not body["isLast"]:
            body["nextPageToken"] = _encode_token(
                {"s": snapshot_id, "o": following, "q": query_digest}
            )
        return Response(200, body)

    def _snapshot(self, prepared: PreparedQuery) -> tuple[str, list[str]]:
        keys = [issue.key for issue in prepared.run(self.dataset)]
        self._snapshot_serial += 1
        snapshot_id = str(self._snapshot_serial)
        self._snapshots[snapshot_id] = keys
        while len(self._snapshots) > _SNAPSHOTS_KEPT:
            self._snapshots.popitem(last=False)
        return snapshot_id, keys

    def approximate_count(self, request: Request, user: User) -> Response:
        body = self._object_body(request)
        jql = body.get("jql")
        if not isinstance(jql, str):
            raise ApiError(400, ["'jql' must be a string."])
        prepared = self.prepare(jql, user, bounded=True)
        matches = prepared.matches
        count = sum(1 for issue in self.dataset.issues_in(prepared.projects) if matches(issue))
        return Response(200, {"count": count})

    # changelogs --------------------------------------------------------------------------

    def bulk_changelog(self, request: Request, user: User) -> Response:
        body = self._object_body(request)
        unknown = sorted(body.keys() - _BULK_CHANGELOG_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        refs = body.get("issueIdsOrKeys")
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs) or not refs:
            raise ApiError(400, ["'issueIdsOrKeys' must list at least one issue id or key."])
        if len(refs) > BULK_CHANGELOG_MAX_ISSUES:
            raise ApiError(
                400, [f"At most {BULK_CHANGELOG_MAX_ISSUES} issue ids or keys can be requested."]
            )
        field_ids = body.get("fieldIds") or []
        if (
            not isinstance(field_ids, list)
            or not all(isinstance(f, str) for f in field_ids)
            or len(set(field_ids)) != len(field_ids)
            or len(field_ids) > BULK_CHANGELOG_MAX_FIELDS
        ):
            limit = BULK_CHANGELOG_MAX_FIELDS
            raise ApiError(400, [f"'fieldIds' must list at most {limit} distinct field ids."])
        max_results = body.get("maxResults", BULK_CHANGELOG_DEFAULT_RESULTS)
        if type(max_results) is not int or not 1 <= max_results <= BULK_CHANGELOG_MAX_RESULTS:
            raise ApiError(
                400, [f"'maxResults' must be between 1 and {BULK_CHANGELOG_MAX_RESULTS}."]
            )
        request_digest = _digest(refs, field_ids)
        offset = 0
        token = body.get("nextPageToken")
        if token is not None:
            payload = _decode_token(str(token))
            offset = payload.get("o")  # type: ignore[assignment]
            if payload.get("q") != request_digest or type(offset) is not int or offset < 0:
                raise ApiError(400, [_BAD_TOKEN])
        wanted = set(field_ids)
        entries: list[tuple[datetime, int, int, Issue, dict[str, Any]]] = []
        seen: set[str] = set()
        for ref in refs:
            issue = self.dataset.issue_by_id_or_key(ref)
            if issue is None or issue.id in seen:
                continue
            seen.add(issue.id)
            for index, history in enumerate(self.json.histories(issue)):
                rendered = self.json.history(issue, history)
                if wanted:
                    rendered["items"] = [
                        item for item in rendered["items"] if item.get("fieldId") in wanted
                    ]
                    if not rendered["items"]:
                        continue
                entries.append((history.at, int(issue.id), index, issue, rendered))
        entries.sort(key=lambda entry: entry[:3])
        page = entries[offset : offset + max_results]
        by_issue: dict[str, list[dict[str, Any]]] = {}
        for _at, _id, _index, issue, rendered in page:
            by_issue.setdefault(issue.id, []).append(rendered)
        out: dict[str, Any] = {
            "issueChangeLogs": [
                {"issueId": issue_id, "changeHistories": histories}
                for issue_id, histories in by_issue.items()
            ]
        }
        if token is not None and self.stuck_paging:
            out["nextPageToken"] = token
        elif offset + len(page) < len(entries):
            out["nextPageToken"] = _encode_token({"o": offset + len(page), "q": request_digest})
        return Response(200, out)

    def issue_changelog(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        start_at = max(0, request.int_arg("startAt", 0))
        max_results = min(max(1, request.int_arg("maxResults", 100)), 100)
        histories = self.json.histories(issue)
        page = histories[start_at : start_at + max_results]
        following = start_at + len(page)
        url = f"{self.json.api(self.version(request))}/issue/{issue.key}/changelog"
        out: dict[str, Any] = {
            "self": f"{url}?startAt={start_at}&maxResults={max_results}",
            "maxResults": max_results,
            "startAt": start_at,
            "total": len(histories),
            "isLast": following >= len(histories),
            "values": [self.json.history(issue, h) for h in page],
        }
        if not out["isLast"]:
            out["nextPage"] = f"{url}?startAt={following}&maxResults={max_results}"
        return Response(200, out)

    # bulk edit ---------------------------------------------------------------------------

    def submit_bulk_edit(self, request: Request, user: User) -> Response:
        body = self._object_body(request)
        unknown = sorted(body.keys() - _BULK_EDIT_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        refs = body.get("selectedIssueIdsOrKeys")
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            raise ApiError(400, ["selectedIssueIdsOrKeys must list at least one issue."])
        if len(refs) > BULK_EDIT_MAX_ISSUES:
            raise ApiError(400, [f"A bulk edit can include at most {BULK_EDIT_MAX_ISSUES} issues."])
        actions = body.get("selectedActions")
        if not isinstance(actions, list) or not actions:
            raise ApiError(400, ["selectedActions must list the fields to edit."])
        if actions != ["labels"]:
            other = next((a for a in actions if a != "labels"), actions[0])
            raise ApiError(400, [f"The simulator can bulk edit only labels, not {other!r}."])
        notify = body.get("sendBulkNotification", True)
        if notify is not None and not isinstance(notify, bool):
            raise ApiError(400, ["sendBulkNotification must be true or false."])
        edited = body.get("editedFieldsInput")
        if not isinstance(edited, dict):
            raise ApiError(400, ["editedFieldsInput must be an object."])
        extra = sorted(edited.keys() - {"labelsFields"})
        if extra:
            raise ApiError(
                400,
                [
                    "The following editedFieldInput values are not listed as selectedActions :"
                    f" {extra[0]}"
                ],
            )
        option, labels = self._labels_input(edited.get("labelsFields"))
        if not user.bulk_change:
            raise ApiError(403, [_NO_BULK])
        issues: list[Issue] = []
        invalid = 0
        seen: set[str] = set()
        for ref in refs:
            issue = self.dataset.issue_by_id_or_key(ref)
            if issue is None:
                invalid += 1
            elif issue.id not in seen:
                seen.add(issue.id)
                issues.append(issue)
        task = BulkEditTask(
            id=str(self._next_task_id),
            user=user,
            option=option,
            labels=labels,
            issues=issues,
            invalid=invalid,
            created=self.clock(),
        )
        self._next_task_id += 1
        self.bulk_tasks[task.id] = task
        return Response(201, {"taskId": task.id})

    def _labels_input(self, raw: Any) -> tuple[str, list[str]]:
        if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
            raise ApiError(400, ["labelsFields must hold exactly one labels field."])
        entry = raw[0]
        unknown = sorted(entry.keys() - _LABELS_FIELD_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        if entry.get("fieldId") != "labels":
            raise ApiError(400, [f"Unknown labels field {entry.get('fieldId')!r}."])
        option = entry.get("bulkEditMultiSelectFieldOption")
        if option not in BULK_LABEL_OPTIONS:
            raise ApiError(
                400,
                [f"bulkEditMultiSelectFieldOption must be one of {', '.join(BULK_LABEL_OPTIONS)}."],
            )
        raw_labels = entry.get("labels")
        if not isinstance(raw_labels, list):
            raise ApiError(400, ["labels must be an array of {name}."])
        labels: list[str] = []
        for item in raw_labels:
            name = item.get("name") if isinstance(item, dict) else None
            problem = self.label_problem(name)
            if problem is not None:
                raise ApiError(400, [problem])
            assert isinstance(name, str)
            if name not in labels:
                labels.append(name)
        if not labels and option != "REMOVE_ALL":
            raise ApiError(400, [f"{option} needs at least one label."])
        return option, labels

    def bulk_progress(self, request: Request, user: User) -> Response:
        task = self.bulk_tasks.get(request.params["task"])
        if task is None:
            raise ApiError(404, [f"No bulk operation task with id {request.params['task']}."])
        if not user.bulk_change:
            raise ApiError(403, [_NO_BULK])
        task.polls += 1
        if self.bulk_ending != "COMPLETE" and task.polls >= 2:
            task.started = task.started or self.clock()
            body = self._progress(task)
            body["status"] = self.bulk_ending
            body["progressPercent"] = 0
            return Response(200, body)
        if task.polls == 2:
            self._run_bulk(task, (len(task.issues) + 1) // 2)
        elif task.polls >= 3:
            self._run_bulk(task, len(task.issues))
        return Response(200, self._progress(task))

    def complete_bulk_tasks(self) -> None:
        """Run every submitted bulk edit to the end, polled or not."""
        with self.lock:
            for task in self.bulk_tasks.values():
                task.polls = max(task.polls, 3)
                self._run_bulk(task, len(task.issues))

    def _run_bulk(self, task: BulkEditTask, until: int) -> None:
        now = self.clock()
        if task.started is None:
            task.started = now
        while task.done < min(until, len(task.issues)):
            issue = task.issues[task.done]
            task.done += 1
            if self.dataset.projects[issue.project].readonly:
                task.failed[issue.id] = [NO_EDIT]
                continue
            if task.option == "ADD":
                labels = list(dict.fromkeys([*issue.labels, *task.labels]))
            elif task.option == "REMOVE":
                labels = [label for label in issue.labels if label not in task.labels]
            elif task.option == "REPLACE":
                labels = list(task.labels)
            else:
                labels = []
            self.dataset.set_labels(issue, labels, task.user.id, now)
            task.processed.append(int(issue.id))
        task.updated = now

    def _progress(self, task: BulkEditTask) -> dict[str, Any]:
        status = task.status
        total = len(task.issues)
        out: dict[str, Any] = {
            "taskId": task.id,
            "status": status,
            "progressPercent": 100 if status == "COMPLETE" else (100 * task.done) // (total or 1),
            "submittedBy": self.json.user(task.user.id),
            "created": jira_time(task.created),
        }
        if task.started is not None:
            out["started"] = jira_time(task.started)
        if task.updated is not None:
            out["updated"] = jira_time(task.updated)
        if status == "COMPLETE":
            out.update(
                processedAccessibleIssues=list(task.processed),
                failedAccessibleIssues={k: list(v) for k, v in task.failed.items()},
                invalidOrInaccessibleIssueCount=task.invalid,
                totalIssueCount=total + task.invalid,
            )
        return out
