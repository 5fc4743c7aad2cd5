"""The Jira Cloud simulator: a real threaded HTTP server over a simulator dataset.

Three layers, so that other flavours (Jira Data Center, ZenTao) and fault injection can
be added on the same machinery:

- HTTP machinery, tracker-neutral: :class:`Request`, :class:`Response`, :class:`ApiError`,
  :class:`Router` and :class:`SimulatorServer` (a ``ThreadingHTTPServer`` on a free
  loopback port that counts requests and reports every exchange);
- :class:`JiraJson`: how Jira Cloud (REST v3, and v2 where it differs) shows the dataset's
  records;
- :class:`JiraCloudApi`: the endpoints, with Jira's paging, limits and error bodies.

:class:`JiraSimulator` puts them together; :func:`run` serves one until Ctrl-C.

Choices where Jira leaves room (the tests pin them):

- ``expand=changelog`` in ``search/jql`` returns the *latest* 40 histories of an issue
  (oldest first), ``GET issue`` the latest 100, with ``startAt = total - returned`` and
  ``total`` the full count, so a client can see the truncation (JRACLOUD-96459) and fetch
  the rest from ``changelog/bulkfetch`` or ``issue/{key}/changelog``.
- ``search/jql`` pages over a snapshot of the matching issue ids taken on the first page
  (the fields are read live); ``maxResults`` is capped at 5000, and at 100 when
  ``*all``/``*navigable`` fields or the changelog are asked for.
- A user may edit or delete only their own comments (a bot without admin rights).
- ``notifyUsers``, ``historyMetadata``, issue ``properties`` and comment ``visibility``
  are accepted and ignored.
- ``changelog/bulkfetch`` ignores ids or keys that name no issue, as Jira does for
  issues the caller cannot see.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from jira_chase.simulator.dataset import (
    ChangeItem,
    Comment,
    Dataset,
    History,
    Issue,
    Link,
    User,
    link_phrase,
    load_dataset,
)
from jira_chase.simulator.jql import CATEGORY_IDS, JQLError, PreparedQuery, category_name, parse

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_Server = TypeVar("_Server", bound="SimulatorServer")
ExchangeListener = Callable[[str, str, dict[str, list[str]], Any, int, dict[str, str], Any], None]

# -- HTTP machinery ---------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: ``{"errorMessages": [...], "errors": {...}}`` with a status."""

    def __init__(
        self,
        status: int,
        messages: list[str] | tuple[str, ...] = (),
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {'; '.join(messages) or errors}")
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})

    def response(self) -> Response:
        body = {"errorMessages": self.messages, "errors": self.errors}
        return Response(self.status, body, self.headers)


_NO_JSON = object()


@dataclass
class Request:
    """One HTTP request as a flavour sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    _json: Any = field(default=_NO_JSON, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON (None when empty); invalid JSON is a 400."""
        if self._json is _NO_JSON:
            if not self.body.strip():
                self._json = None
            else:
                try:
                    self._json = json.loads(self.body)
                except ValueError as exc:
                    raise ApiError(400, [f"The request body is not valid JSON: {exc}"]) from None
        return self._json

    def json_or_none(self) -> Any:
        """The body as JSON for recording, None when it is not JSON."""
        try:
            return self.json()
        except ApiError:
            return None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        value = self.arg(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, [f"The value '{value}' of '{name}' is not a number."]) from None

    def bool_arg(self, name: str, default: bool) -> bool:
        value = self.arg(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ApiError(400, [f"The value '{value}' of '{name}' is not true or false."])


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable; None sends no body
    headers: dict[str, str] = field(default_factory=dict)


class Router:
    """Maps a method and a path template to a handler.

    Templates name their variables: ``/rest/api/{version:2|3}/issue/{key}``; a variable
    matches one path segment, or the given regular expression.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []

    def add(self, method: str, template: str, handler: Callable[..., Response]) -> None:
        pattern = re.sub(
            r"\{(\w+)(?::([^}]+))?\}",
            lambda m: f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})",
            template,
        )
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def resolve(self, method: str, path: str) -> tuple[Callable[..., Response], dict[str, str]]:
        """The handler and path variables; a 404 or 405 :class:`ApiError` when none fits."""
        path_matched = False
        for route_method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return handler, match.groupdict()
                path_matched = True
        if path_matched:
            raise ApiError(405, [f"Method {method} is not allowed for {path}."])
        raise ApiError(404, [f"No resource found for {method} {path}."])


class SimulatorServer:
    """A threaded HTTP server on a free port that hands every request to :meth:`handle`.

    Subclasses implement :meth:`handle`. The server counts requests (``request_count``,
    ``requests`` as ``(method, path)`` in arrival order), and calls ``on_exchange(method,
    path, query, request_json, status, response_headers, response_json)`` for every
    request before the response is sent, so a client never sees an answer that was not
    recorded. Use it as a context manager or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_exchange: ExchangeListener | None = None,
    ) -> None:
        self.on_exchange = on_exchange
        self.requests: list[tuple[str, str]] = []
        self._count_lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), _RequestHandler)
        self._httpd.simulator = self
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = bound_host if isinstance(bound_host, str) else bound_host.decode()
        self.url = f"http://{shown}:{bound_port}"

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    @property
    def request_count(self) -> int:
        with self._count_lock:
            return len(self.requests)

    def reset_counts(self) -> None:
        with self._count_lock:
            self.requests.clear()

    def start(self: _Server) -> _Server:
        """Serve in a background thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                # stop() waits up to one poll interval; keep it short for tests.
                kwargs={"poll_interval": 0.05},
                name=f"simulator {self.url}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or KeyboardInterrupt."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self: _Server) -> _Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self, request: Request) -> Response:
        try:
            response = self.handle(request)
        except ApiError as error:
            response = error.response()
        except Exception as exc:  # a simulator bug must reach the client as a 500, not a hang
            log.exception("simulator failed on %s %s", request.method, request.path)
            response = ApiError(500, [f"Simulator error: {exc!r}"]).response()
        with self._count_lock:
            self.requests.append((request.method, request.path))
        if self.on_exchange is not None:
            try:
                self.on_exchange(
                    request.method,
                    request.path,
                    request.query,
                    request.json_or_none(),
                    response.status,
                    dict(response.headers),
                    response.body,
                )
            except Exception:
                log.exception("on_exchange failed")
        return response


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of parallel connects for a second
    simulator: SimulatorServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients reuse connections to Jira
    timeout = 60  # an idle kept-alive connection frees its thread after this
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK hold every answer back by ~40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:  # noqa: N802 - the names BaseHTTPRequestHandler calls
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=self.headers,  # type: ignore[arg-type]
            body=body,
        )
        response = self.server.simulator._serve(request)
        payload = b""
        if response.body is not None:
            payload = json.dumps(response.body, separators=(",", ":")).encode("utf-8")
        self.send_response(response.status)
        if response.body is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        log.debug("%s %s", self.address_string(), format % args)


# -- Jira's JSON ----------------------------------------------------------------------------

# The simulator's custom fields, with the ids they have on a typical Jira Cloud site.
STORY_POINTS_FIELD = "customfield_10016"
FLAGGED_FIELD = "customfield_10021"
_FLAGGED_OPTION_ID = "10019"

# All issue fields the simulator serves; ``comment`` is not navigable, as in Jira.
ALL_FIELDS = (
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
    "comment",
    STORY_POINTS_FIELD,
    FLAGGED_FIELD,
)
NAVIGABLE_FIELDS = tuple(name for name in ALL_FIELDS if name != "comment")

_CATEGORY_COLOURS = {"new": "blue-gray", "indeterminate": "yellow", "done": "green"}
_LINK_TYPE_IDS = {"Blocks": "10000", "Cloners": "10001", "Duplicate": "10002", "Relates": "10003"}
_ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format: ``2026-10-01T09:00:00.000+0000`` (in UTC)."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def text_to_adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: one paragraph per blank-line-separated block."""
    paragraphs = []
    for block in text.split("\n\n"):
        content: list[dict[str, Any]] = []
        for number, line in enumerate(block.split("\n")):
            if number:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(node: Any) -> str:
    """The text of an Atlassian Document (paragraphs separated by blank lines)."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    parts = [adf_to_text(child) for child in node.get("content") or []]
    separator = "\n\n" if node.get("type") == "doc" else ""
    return separator.join(parts)


@dataclass(frozen=True)
class FieldSelection:
    """Which fields an issue answer carries.

    ``id_only`` answers are ``{"id": ...}``; ``wide`` selections (``*all``,
    ``*navigable``) make Jira return smaller pages.
    """

    fields: tuple[str, ...]
    id_only: bool
    wide: bool

    @classmethod
    def parse(cls, requested: list[str] | None, default: str) -> FieldSelection:
        """Jira's ``fields`` parameter: ``*all``, ``*navigable``, names, ``-name`` to drop.

        Unknown names are ignored, as in Jira. Only exclusions means navigable minus those.
        """
        tokens = [token.strip() for item in requested or [default] for token in item.split(",")]
        tokens = [token for token in tokens if token] or [default]
        include: list[str] = []
        exclude: set[str] = set()
        wants_key = wide = False
        for token in tokens:
            if token == "*all":
                include.extend(ALL_FIELDS)
                wide = True
            elif token == "*navigable":
                include.extend(NAVIGABLE_FIELDS)
                wide = True
            elif token.startswith("-"):
                exclude.add(token[1:])
            elif token in ALL_FIELDS:
                include.append(token)
            elif token in ("key", "issuekey"):
                wants_key = True
        if not include and exclude:
            include.extend(NAVIGABLE_FIELDS)
            wide = True
        chosen = tuple(dict.fromkeys(name for name in include if name not in exclude))
        return cls(chosen, id_only=not chosen and not wants_key and not exclude, wide=wide)


class JiraJson:
    """How Jira Cloud shows the dataset's records (REST v3; v2 differs in comment bodies)."""

    def __init__(self, dataset: Dataset, base_url: str) -> None:
        self.dataset = dataset
        self.base = base_url

    def api(self, version: str = "3") -> str:
        return f"{self.base}/rest/api/{version}"

    # small records ------------------------------------------------------------------------

    def user(self, user_id: str) -> dict[str, Any]:
        user = self.dataset.users[user_id]
        out: dict[str, Any] = {
            "self": f"{self.api()}/user?accountId={user.id}",
            "accountId": user.id,
            "accountType": "atlassian",
            "displayName": user.name,
            "active": True,
            "timeZone": "UTC",
        }
        if user.email:
            out["emailAddress"] = user.email
        return out

    def myself(self, user: User) -> dict[str, Any]:
        out = self.user(user.id)
        out["locale"] = "en_US"
        return out

    def status(self, name: str) -> dict[str, Any]:
        status = self.dataset.statuses[name]
        category_id = CATEGORY_IDS[status.category]
        return {
            "self": f"{self.api()}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.api()}/statuscategory/{category_id}",
                "id": int(category_id),
                "key": status.category,
                "colorName": _CATEGORY_COLOURS[status.category],
                "name": category_name(status.category),
            },
        }

    def issue_type(self, name: str) -> dict[str, Any]:
        type_id = self.dataset.issue_type_ids[name]
        subtask = name.lower() in ("subtask", "sub-task")
        return {
            "self": f"{self.api()}/issuetype/{type_id}",
            "id": type_id,
            "description": "",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{name.lower()}.svg",
            "name": name,
            "subtask": subtask,
            "hierarchyLevel": -1 if subtask else 1 if name == "Epic" else 0,
        }

    def priority(self, name: str) -> dict[str, Any]:
        priority_id = self.dataset.priority_ids[name]
        return {
            "self": f"{self.api()}/priority/{priority_id}",
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def project(self, key: str) -> dict[str, Any]:
        project = self.dataset.projects[key]
        return {
            "self": f"{self.api()}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": False,
        }

    def version(self, project: str, name: str) -> dict[str, Any]:
        version_id = self.dataset.version_ids[(project, name)]
        return {
            "self": f"{self.api()}/version/{version_id}",
            "id": version_id,
            "name": name,
            "archived": False,
            "released": False,
        }

    def issue_summary(self, issue: Issue) -> dict[str, Any]:
        """An issue as a link or parent shows it: id, key and four fields."""
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "status": self.status(issue.status),
            "issuetype": self.issue_type(issue.type),
        }
        if issue.priority:
            fields["priority"] = self.priority(issue.priority)
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.api()}/issue/{issue.id}",
            "fields": fields,
        }

    def link(self, link: Link) -> dict[str, Any]:
        """A link as its issue shows it: the other end is the inward or outward issue."""
        type_id = _LINK_TYPE_IDS.get(link.type, "10100")
        side = "inwardIssue" if link.direction == "inward" else "outwardIssue"
        return {
            "id": link.id,
            "self": f"{self.api()}/issueLink/{link.id}",
            "type": {
                "id": type_id,
                "name": link.type,
                "inward": link_phrase(link.type, "inward"),
                "outward": link_phrase(link.type, "outward"),
                "self": f"{self.api()}/issueLinkType/{type_id}",
            },
            side: self.issue_summary(self.dataset.issues[link.key]),
        }

    # comments ------------------------------------------------------------------------

    def comment_body(self, body: Any, version: str) -> Any:
        """v3 speaks Atlassian Document Format, v2 plain (wiki) text."""
        if version == "2":
            return body if isinstance(body, str) else adf_to_text(body)
        return text_to_adf(body) if isinstance(body, str) else body

    def comment(
        self, issue: Issue, comment: Comment, version: str, with_properties: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.api(version)}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": self.user(comment.author),
            "body": self.comment_body(comment.body, version),
            "updateAuthor": self.user(comment.update_author),
            "created": jira_time(comment.created),
            "updated": jira_time(comment.updated),
            "jsdPublic": True,
        }
        if with_properties:
            out["properties"] = [
                {"key": key, "value": value} for key, value in comment.properties.items()
            ]
        return out

    def comment_page(
        self,
        issue: Issue,
        comments: list[Comment],
        start_at: int,
        max_results: int,
        version: str,
        with_properties: bool = False,
    ) -> dict[str, Any]:
        page = comments[start_at : start_at + max_results]
        return {
            "self": f"{self.api(version)}/issue/{issue.id}/comment",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(comments),
            "comments": [self.comment(issue, c, version, with_properties) for c in page],
        }

    # changelog -----------------------------------------------------------------------

    def history(self, issue: Issue, history: History) -> dict[str, Any]:
        out: dict[str, Any] = {"id": history.id}
        if history.by is not None:
            out["author"] = self.user(history.by)
        out["created"] = jira_time(history.at)
        out["items"] = [self.change_item(issue, item) for item in history.items]
        return out

    def change_item(self, issue: Issue, item: ChangeItem) -> dict[str, Any]:
        """One changed field as Jira reports it; null values are left out.

        (The Cloud spec types ``from``/``to`` as non-nullable strings; leaving nulls out
        keeps answers valid and clients must cope with either.)
        """
        name = item.field
        lowered = name.lower()
        old, new = item.from_value, item.to_value
        old_text, new_text = item.from_string or old, item.to_string or new
        out: dict[str, Any] = {"field": name, "fieldtype": "jira", "fieldId": name}
        if name == "status":
            statuses = self.dataset.statuses
            old = statuses[old].id if old in statuses else old
            new = statuses[new].id if new in statuses else new
        elif lowered in ("assignee", "reporter"):
            users = self.dataset.users
            out["field"] = out["fieldId"] = lowered
            old_text = users[old].name if old in users else old
            new_text = users[new].name if new in users else new
        elif lowered == "priority":
            ids = self.dataset.priority_ids
            out["field"] = out["fieldId"] = "priority"
            old, new = ids.get(old or "", old), ids.get(new or "", new)
        elif lowered == "labels":
            out["field"] = out["fieldId"] = "labels"
            old = new = None
        elif lowered == "flagged":
            out.update(field="Flagged", fieldtype="custom", fieldId=FLAGGED_FIELD)
            old = new = None
        elif lowered in ("estimate", "story point estimate", "story points"):
            out.update(field="Story point estimate", fieldtype="custom", fieldId=STORY_POINTS_FIELD)
        elif lowered in ("fixversion", "fixversions", "fix version"):
            out.update(field="Fix Version", fieldId="fixVersions")
            versions = self.dataset.version_ids
            old = versions.get((issue.project, old or ""), old)
            new = versions.get((issue.project, new or ""), new)
        elif name == "Link":
            del out["fieldId"]  # Jira's Link items carry no field id
        for key, value in (
            ("from", old),
            ("fromString", old_text),
            ("to", new),
            ("toString", new_text),
        ):
            if value is not None:
                out[key] = value
        return out

    def changelog(self, issue: Issue, cap: int) -> dict[str, Any]:
        """The latest ``cap`` histories, oldest first; ``startAt``/``total`` show what is left."""
        histories = issue.histories
        start = max(0, len(histories) - cap)
        page = histories[start:]
        return {
            "startAt": start,
            "maxResults": len(page),
            "total": len(histories),
            "histories": [self.history(issue, h) for h in page],
        }

    # issues ------------------------------------------------------------------------------

    def issue(
        self,
        issue: Issue,
        selection: FieldSelection,
        version: str = "3",
        changelog_cap: int | None = None,
    ) -> dict[str, Any]:
        if selection.id_only and changelog_cap is None:
            return {"id": issue.id}
        out: dict[str, Any] = {
            "expand": _ISSUE_EXPAND,
            "id": issue.id,
            "self": f"{self.api(version)}/issue/{issue.id}",
            "key": issue.key,
        }
        if selection.fields:
            out["fields"] = {name: self.field(issue, name, version) for name in selection.fields}
        if changelog_cap is not None:
            out["changelog"] = self.changelog(issue, changelog_cap)
        return out

    def field(self, issue: Issue, name: str, version: str) -> Any:
        if name == "summary":
            return issue.summary
        if name == "status":
            return self.status(issue.status)
        if name == "issuetype":
            return self.issue_type(issue.type)
        if name == "priority":
            return self.priority(issue.priority) if issue.priority else None
        if name in ("assignee", "reporter"):
            user_id = issue.assignee if name == "assignee" else issue.reporter
            return self.user(user_id) if user_id else None
        if name == "labels":
            return list(issue.labels)
        if name == "created":
            return jira_time(issue.created)
        if name == "updated":
            return jira_time(issue.updated)
        if name == "duedate":
            return issue.duedate.isoformat() if issue.duedate else None
        if name == "fixVersions":
            return [self.version(issue.project, v) for v in issue.fix_versions]
        if name == "parent":
            if issue.parent is None:
                return None
            return self.issue_summary(self.dataset.issues[issue.parent])
        if name == "issuelinks":
            return [self.link(link) for link in issue.links]
        if name == "project":
            return self.project(issue.project)
        if name == "comment":
            return self.comment_page(issue, issue.comments, 0, len(issue.comments), version)
        if name == STORY_POINTS_FIELD:
            return issue.estimate
        if name == FLAGGED_FIELD:
            if not issue.flagged:
                return None
            return [
                {
                    "self": f"{self.api()}/customFieldOption/{_FLAGGED_OPTION_ID}",
                    "value": "Impediment",
                    "id": _FLAGGED_OPTION_ID,
                }
            ]
        raise KeyError(name)

    def fields(self) -> list[dict[str, Any]]:
        """``GET /field``: the system fields the simulator knows and its two custom fields."""

        def system(
            field_id: str,
            name: str,
            clauses: list[str],
            schema: dict[str, Any] | None,
            *,
            orderable: bool = True,
            navigable: bool = True,
            searchable: bool = True,
        ) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "orderable": orderable,
                "navigable": navigable,
                "searchable": searchable,
                "clauseNames": clauses,
            }
            if schema is not None:
                out["schema"] = dict(schema, system=field_id)
            return out

        return [
            system("issuekey", "Key", ["id", "issue", "issuekey", "key"], None, orderable=False),
            system("summary", "Summary", ["summary"], {"type": "string"}),
            system("status", "Status", ["status"], {"type": "status"}, orderable=False),
            system(
                "statusCategory",
                "Status Category",
                ["statusCategory"],
                {"type": "statusCategory"},
                orderable=False,
            ),
            system("issuetype", "Issue Type", ["issuetype", "type"], {"type": "issuetype"}),
            system("priority", "Priority", ["priority"], {"type": "priority"}),
            system("assignee", "Assignee", ["assignee"], {"type": "user"}),
            system("reporter", "Reporter", ["reporter"], {"type": "user"}),
            system("labels", "Labels", ["labels"], {"type": "array", "items": "string"}),
            system("created", "Created", ["created", "createdDate"], {"type": "datetime"}),
            system("updated", "Updated", ["updated", "updatedDate"], {"type": "datetime"}),
            system("duedate", "Due date", ["due", "duedate"], {"type": "date"}),
            system("fixVersions", "Fix versions", ["fixVersion"], {"type": "array"}),
            system("parent", "Parent", ["parent"], None),
            system("issuelinks", "Linked Issues", ["issueLink"], {"type": "array"}),
            system("project", "Project", ["project"], {"type": "project"}),
            system("comment", "Comment", ["comment"], {"type": "comments-page"}, navigable=False),
            {
                "id": STORY_POINTS_FIELD,
                "key": STORY_POINTS_FIELD,
                "name": "Story point estimate",
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": ["cf[10016]", "Story point estimate"],
                "schema": {
                    "type": "number",
                    "custom": "com.pyxis.greenhopper.jira:jsw-story-points",
                    "customId": 10016,
                },
            },
            {
                "id": FLAGGED_FIELD,
                "key": FLAGGED_FIELD,
                "name": "Flagged",
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": ["cf[10021]", "Flagged", "Flagged[Checkboxes]"],
                "schema": {
                    "type": "array",
                    "items": "option",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes",
                    "customId": 10021,
                },
            },
        ]


# -- the Jira Cloud API --------------------------------------------------------------------

SEARCH_DEFAULT_RESULTS = 50
SEARCH_MAX_RESULTS = 5000
SEARCH_MAX_RESULTS_HEAVY = 100  # with *all/*navigable fields or the changelog
SEARCH_CHANGELOG_CAP = 40  # JRACLOUD-96459
ISSUE_CHANGELOG_CAP = 100
BULK_CHANGELOG_MAX_ISSUES = 1000
BULK_CHANGELOG_MAX_FIELDS = 10
BULK_CHANGELOG_DEFAULT_RESULTS = 1000
BULK_CHANGELOG_MAX_RESULTS = 10000
PROPERTY_VALUE_MAX_CHARS = 32768
LABEL_MAX_CHARS = 255
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
_COMMENT_KEYS = frozenset({"body", "properties", "visibility"})
_EDIT_KEYS = frozenset({"fields", "update", "historyMetadata", "properties"})

_REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
    " A full migration guideline is available at"
    " https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_NOT_AUTHENTICATED = "Client must be authenticated to access this resource."
_NO_ISSUE = "Issue does not exist or you do not have permission to see it."
_BAD_TOKEN = "The nextPageToken is invalid, expired, or belongs to a different request."

_V = "{version:2|3}"


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


class JiraCloudApi:
    """The Jira Cloud endpoints over one dataset.

    ``handle`` authenticates, routes and answers one request under a single lock, so the
    dataset sees one request at a time.
    """

    def __init__(self, dataset: Dataset, clock: Clock, base_url: str) -> None:
        self.dataset = dataset
        self.clock = clock
        self.json = JiraJson(dataset, base_url)
        self.lock = threading.RLock()
        self._snapshots: OrderedDict[str, list[str]] = OrderedDict()
        self._snapshot_serial = 0
        self.router = Router()
        self._add_routes()

    def _add_routes(self) -> None:
        add = self.router.add
        add("GET", f"/rest/api/{_V}/serverInfo", self.server_info)
        add("GET", f"/rest/api/{_V}/myself", self.myself)
        add("GET", f"/rest/api/{_V}/field", self.fields)
        add("GET", f"/rest/api/{_V}/search/jql", self.search)
        add("POST", f"/rest/api/{_V}/search/jql", self.search)
        add("POST", f"/rest/api/{_V}/search/approximate-count", self.approximate_count)
        add("GET", f"/rest/api/{_V}/search", self.removed_search)
        add("POST", f"/rest/api/{_V}/search", self.removed_search)
        add("POST", f"/rest/api/{_V}/changelog/bulkfetch", self.bulk_changelog)
        add("GET", f"/rest/api/{_V}/issue/{{issue}}", self.get_issue)
        add("PUT", f"/rest/api/{_V}/issue/{{issue}}", self.edit_issue)
        add("GET", f"/rest/api/{_V}/issue/{{issue}}/changelog", self.issue_changelog)
        add("GET", f"/rest/api/{_V}/issue/{{issue}}/comment", self.list_comments)
        add("POST", f"/rest/api/{_V}/issue/{{issue}}/comment", self.add_comment)
        add("GET", f"/rest/api/{_V}/issue/{{issue}}/comment/{{comment}}", self.get_comment)
        add("PUT", f"/rest/api/{_V}/issue/{{issue}}/comment/{{comment}}", self.edit_comment)
        add("DELETE", f"/rest/api/{_V}/issue/{{issue}}/comment/{{comment}}", self.delete_comment)
        prop = f"/rest/api/{_V}/comment/{{comment}}/properties/{{key}}"
        add("GET", prop, self.get_comment_property)
        add("PUT", prop, self.set_comment_property)
        add("DELETE", prop, self.delete_comment_property)

    def handle(self, request: Request) -> Response:
        with self.lock:
            user = self.authenticate(request)
            handler, params = self.router.resolve(request.method, request.path)
            request.params = params
            return handler(request, user)

    def authenticate(self, request: Request) -> User:
        """The user a request acts as: HTTP Basic with a dataset user's email.

        Any password is accepted for now; checking real credentials belongs here.
        """
        header = request.headers.get("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Basic realm="protected-area"'}
        if scheme.lower() != "basic":
            raise ApiError(401, [_NOT_AUTHENTICATED], headers=challenge)
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (ValueError, binascii.Error):
            raise ApiError(401, [_NOT_AUTHENTICATED], headers=challenge) from None
        email, separator, _password = decoded.partition(":")
        user = self.dataset.user_by_email(email) if separator else None
        if user is None:
            raise ApiError(401, [_NOT_AUTHENTICATED], headers=challenge)
        return user

    # lookups -----------------------------------------------------------------------------

    def _issue(self, request: Request) -> Issue:
        issue = self.dataset.issue_by_id_or_key(request.params["issue"])
        if issue is None:
            raise ApiError(404, [_NO_ISSUE])
        return issue

    def _comment(self, request: Request, issue: Issue | None = None) -> tuple[Issue, Comment]:
        found = self.dataset.comment_by_id(request.params["comment"])
        if found is None or (issue is not None and found[0] is not issue):
            raise ApiError(404, [f"Can not find a comment for key: {request.params['comment']}."])
        return found

    @staticmethod
    def _object_body(request: Request) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, ["The request body must be a JSON object."])
        return body

    # server ------------------------------------------------------------------------------

    def server_info(self, request: Request, user: User) -> Response:
        base = self.json.base
        return Response(
            200,
            {
                "baseUrl": base,
                "displayUrl": base,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100289,
                "buildDate": "2026-02-01T00:00:00.000+0000",
                "serverTime": jira_time(self.clock()),
                "scmInfo": "jira-chase-simulator",
                "serverTitle": "Jira (jira-chase simulator)",
            },
        )

    def myself(self, request: Request, user: User) -> Response:
        return Response(200, self.json.myself(user))

    def fields(self, request: Request, user: User) -> Response:
        return Response(200, self.json.fields())

    # search ------------------------------------------------------------------------------

    def removed_search(self, request: Request, user: User) -> Response:
        raise ApiError(410, [_REMOVED_SEARCH])

    def _search_params(self, request: Request) -> dict[str, Any]:
        """The search parameters from the query string (GET) or the JSON body (POST)."""
        if request.method == "GET":
            expand = ",".join(request.query.get("expand", []))
            return {
                "jql": request.arg("jql", ""),
                "nextPageToken": request.arg("nextPageToken"),
                "maxResults": request.int_arg("maxResults", SEARCH_DEFAULT_RESULTS),
                "fields": request.query.get("fields"),
                "expand": expand,
            }
        body = self._object_body(request)
        unknown = sorted(body.keys() - _SEARCH_BODY_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        fields = body.get("fields")
        if fields is not None and not (
            isinstance(fields, list) and all(isinstance(f, str) for f in fields)
        ):
            raise ApiError(400, ["'fields' must be an array of strings."])
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
            "fields": fields,
            "expand": body.get("expand") or "",
        }

    def _prepare(self, jql: str, user: User) -> PreparedQuery:
        try:
            query = parse(jql)
            if query.where is None:
                raise JQLError(
                    "Unbounded JQL queries are not allowed here. Please add a search"
                    " restriction to your query."
                )
            return query.prepare(self.dataset, now=self.clock(), current_user=user.id)
        except JQLError as error:
            raise ApiError(400, [str(error)]) from None

    def search(self, request: Request, user: User) -> Response:
        params = self._search_params(request)
        jql = params["jql"]
        selection = FieldSelection.parse(params["fields"], "id")
        expand = {part.strip() for part in params["expand"].split(",")}
        with_changelog = "changelog" in expand
        limit = SEARCH_MAX_RESULTS
        if with_changelog or selection.wide:
            limit = SEARCH_MAX_RESULTS_HEAVY
        max_results = params["maxResults"]
        if max_results < 0:
            raise ApiError(400, ["'maxResults' must not be negative."])
        max_results = min(max_results or SEARCH_DEFAULT_RESULTS, limit)
        prepared = self._prepare(jql, user)
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
        cap = SEARCH_CHANGELOG_CAP if with_changelog else None
        version = request.params["version"]
        body: dict[str, Any] = {
            "issues": [self.json.issue(issues[key], selection, version, cap) for key in page]
        }
        following = offset + len(page)
        body["isLast"] = following >= len(keys)
        if not body["isLast"]:
            body["nextPageToken"] = _encode_token(
                {"s": snapshot_id, "o": following, "q": query_digest}
            )
        return Response(200, body)

    def _snapshot(self, prepared: PreparedQuery) -> tuple[str, list[str]]:
        keys = [issue.key for issue in prepared.select(self.dataset.issues.values())]
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
        prepared = self._prepare(jql, user)
        count = sum(1 for issue in self.dataset.issues.values() if prepared.matches(issue))
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
            for index, history in enumerate(issue.histories):
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
        if offset + len(page) < len(entries):
            out["nextPageToken"] = _encode_token({"o": offset + len(page), "q": request_digest})
        return Response(200, out)

    def issue_changelog(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        start_at = max(0, request.int_arg("startAt", 0))
        max_results = min(max(1, request.int_arg("maxResults", 100)), 100)
        histories = issue.histories
        page = histories[start_at : start_at + max_results]
        following = start_at + len(page)
        url = f"{self.json.api(request.params['version'])}/issue/{issue.key}/changelog"
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

    # issues ------------------------------------------------------------------------------

    def get_issue(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        selection = FieldSelection.parse(request.query.get("fields"), "*all")
        expand = {
            part.strip() for item in request.query.get("expand", []) for part in item.split(",")
        }
        cap = ISSUE_CHANGELOG_CAP if "changelog" in expand else None
        return Response(200, self.json.issue(issue, selection, request.params["version"], cap))

    def edit_issue(self, request: Request, user: User) -> Response:
        """Edit labels through ``update`` operations or ``fields``; nothing else is editable."""
        issue = self._issue(request)
        request.bool_arg("notifyUsers", True)  # validated, then ignored (see module doc)
        return_issue = request.bool_arg("returnIssue", False)
        body = self._object_body(request)
        unknown = sorted(body.keys() - _EDIT_KEYS)
        if unknown:
            raise ApiError(400, [f"The simulator cannot apply '{unknown[0]}' in an issue edit."])
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise ApiError(400, ["'fields' and 'update' must be JSON objects."])
        errors = {
            name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            for name in [*fields, *update]
            if name != "labels"
        }
        if "labels" in fields and "labels" in update:
            errors["labels"] = (
                "Field 'labels' cannot be both set in 'fields' and changed in 'update'"
            )
        if errors:
            raise ApiError(400, [], errors)
        labels = list(issue.labels)
        if "labels" in fields:
            labels = self._label_list(fields["labels"])
        for operation in update.get("labels") or []:
            if not isinstance(operation, dict) or len(operation) != 1:
                raise ApiError(400, [], {"labels": "Each label operation must have one verb."})
            ((verb, value),) = operation.items()
            if verb == "add":
                self._check_label(value)
                if value not in labels:
                    labels.append(value)
            elif verb == "remove":
                self._check_label(value)
                if value in labels:
                    labels.remove(value)
            elif verb == "set":
                labels = self._label_list(value)
            else:
                raise ApiError(
                    400, [], {"labels": f"The simulator does not support the '{verb}' operation."}
                )
        self.dataset.set_labels(issue, labels, user.id, self.clock())
        if return_issue:
            selection = FieldSelection.parse(None, "*all")
            return Response(200, self.json.issue(issue, selection, request.params["version"]))
        return Response(204)

    def _label_list(self, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ApiError(400, [], {"labels": "Labels must be an array of strings."})
        for label in value:
            self._check_label(label)
        return list(dict.fromkeys(value))

    @staticmethod
    def _check_label(label: Any) -> None:
        if not isinstance(label, str) or not label:
            raise ApiError(400, [], {"labels": "A label must be a non-empty string."})
        if any(c.isspace() for c in label):
            raise ApiError(
                400, [], {"labels": f"The label '{label}' contains spaces which is invalid."}
            )
        if len(label) > LABEL_MAX_CHARS:
            raise ApiError(
                400,
                [],
                {
                    "labels": f"The label '{label}' exceeds the maximum length for a single"
                    f" label of {LABEL_MAX_CHARS} characters."
                },
            )

    # comments ----------------------------------------------------------------------------

    def list_comments(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        order = request.arg("orderBy", "created")
        if order not in ("created", "-created", "+created"):
            raise ApiError(400, [f"Ordering by '{order}' is not supported; use 'created'."])
        comments = sorted(issue.comments, key=lambda c: (c.created, int(c.id)))
        if order == "-created":
            comments.reverse()
        start_at = max(0, request.int_arg("startAt", 0))
        max_results = min(max(0, request.int_arg("maxResults", 100)), 5000)
        expand = request.arg("expand") or ""
        page = self.json.comment_page(
            issue,
            comments,
            start_at,
            max_results,
            request.params["version"],
            with_properties="properties" in expand.split(","),
        )
        return Response(200, page)

    def _comment_input(
        self, request: Request, *, body_required: bool
    ) -> tuple[Any, dict[str, Any] | None]:
        data = self._object_body(request)
        unknown = sorted(data.keys() - _COMMENT_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        body = data.get("body")
        if body is None:
            if body_required:
                raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
        elif request.params["version"] == "3":
            if not (isinstance(body, dict) and body.get("type") == "doc"):
                raise ApiError(
                    400,
                    [],
                    {"comment": "Comment body must be an Atlassian Document Format document."},
                )
        elif not isinstance(body, str) or not body.strip():
            raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
        properties = None
        if data.get("properties") is not None:
            raw = data["properties"]
            if not isinstance(raw, list):
                raise ApiError(400, ["'properties' must be an array of {key, value}."])
            properties = {}
            for entry in raw:
                if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                    raise ApiError(400, ["Each comment property needs a string 'key'."])
                properties[entry["key"]] = self._property_value(entry["key"], entry.get("value"))
        return body, properties

    @staticmethod
    def _property_value(key: str, value: Any) -> Any:
        if not key or len(key) > 255:
            raise ApiError(400, ["A property key must be 1 to 255 characters."])
        if value is None:
            raise ApiError(400, [f"The value of property '{key}' must not be empty."])
        if len(json.dumps(value)) > PROPERTY_VALUE_MAX_CHARS:
            too_long = f"longer than {PROPERTY_VALUE_MAX_CHARS} characters"
            raise ApiError(400, [f"The value of property '{key}' is {too_long}."])
        return value

    def add_comment(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        body, properties = self._comment_input(request, body_required=True)
        comment = self.dataset.add_comment(issue, user.id, body, self.clock(), properties)
        with_properties = "properties" in (request.arg("expand") or "").split(",")
        return Response(
            201, self.json.comment(issue, comment, request.params["version"], with_properties)
        )

    def get_comment(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request, self._issue(request))
        with_properties = "properties" in (request.arg("expand") or "").split(",")
        return Response(
            200, self.json.comment(issue, comment, request.params["version"], with_properties)
        )

    def edit_comment(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request, self._issue(request))
        request.bool_arg("notifyUsers", True)  # validated, then ignored (see module doc)
        if comment.author != user.id:
            raise ApiError(400, ["You do not have the permission to edit this comment."])
        body, properties = self._comment_input(request, body_required=False)
        self.dataset.edit_comment(
            issue,
            comment,
            user.id,
            self.clock(),
            comment.body if body is None else body,
            properties,
        )
        with_properties = "properties" in (request.arg("expand") or "").split(",")
        return Response(
            200, self.json.comment(issue, comment, request.params["version"], with_properties)
        )

    def delete_comment(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request, self._issue(request))
        if comment.author != user.id:
            raise ApiError(400, ["You do not have the permission to delete this comment."])
        self.dataset.delete_comment(issue, comment, self.clock())
        return Response(204)

    def get_comment_property(self, request: Request, user: User) -> Response:
        _issue, comment = self._comment(request)
        key = request.params["key"]
        if key not in comment.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        return Response(200, {"key": key, "value": comment.properties[key]})

    def set_comment_property(self, request: Request, user: User) -> Response:
        _issue, comment = self._comment(request)
        if comment.author != user.id:
            raise ApiError(403, ["You do not have the permission to edit this comment."])
        key = request.params["key"]
        value = self._property_value(key, request.json())
        created = key not in comment.properties
        comment.properties[key] = value
        return Response(201 if created else 200)

    def delete_comment_property(self, request: Request, user: User) -> Response:
        _issue, comment = self._comment(request)
        key = request.params["key"]
        if comment.author != user.id:
            raise ApiError(403, ["You do not have the permission to edit this comment."])
        if key not in comment.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        del comment.properties[key]
        return Response(204)


# -- the simulator -------------------------------------------------------------------------


def dataset_clock(dataset_now: datetime | None) -> Clock:
    """The default clock: ``dataset_now`` plus the real time elapsed since this call.

    Without a dataset ``now``, the real UTC time.
    """
    if dataset_now is None:
        return lambda: datetime.now(timezone.utc)
    started = time.monotonic()
    return lambda: dataset_now + timedelta(seconds=time.monotonic() - started)


class JiraSimulator(SimulatorServer):
    """A Jira Cloud site over a dataset, served over HTTP on a free loopback port.

    ``dataset`` is a :class:`Dataset` (used as is, and edited by writes) or anything
    :func:`load_dataset` takes. ``clock`` returns an aware datetime; by default the
    dataset's ``now`` plus the time elapsed since construction (real UTC time without one).

    Log in with HTTP Basic as any dataset user's email; any password is accepted.
    """

    def __init__(
        self,
        dataset: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        on_exchange: ExchangeListener | None = None,
    ) -> None:
        self.dataset = load_dataset(dataset)
        self.clock = clock or dataset_clock(self.dataset.now)
        super().__init__(host=host, port=port, on_exchange=on_exchange)
        self.api = JiraCloudApi(self.dataset, self.clock, self.url)

    def handle(self, request: Request) -> Response:
        return self.api.handle(request)

    # readers for tests -----------------------------------------------------------------

    def issue(self, key: str) -> Issue:
        """The internal record of an issue (read it; do not edit it)."""
        with self.api.lock:
            found = self.dataset.issue_by_id_or_key(key)
            if found is None:
                raise KeyError(key)
            return found

    def labels(self, key: str) -> list[str]:
        with self.api.lock:
            return list(self.issue(key).labels)

    def comments(self, key: str) -> list[dict[str, Any]]:
        """Comments as stored: ``id``, ``author`` (user id), ``body`` as the client sent it,
        ``created``, ``updated``, ``update_author`` and ``properties``."""
        with self.api.lock:
            return [
                {
                    "id": c.id,
                    "author": c.author,
                    "body": c.body,
                    "created": c.created,
                    "updated": c.updated,
                    "update_author": c.update_author,
                    "properties": dict(c.properties),
                }
                for c in self.issue(key).comments
            ]

    def history(self, key: str) -> list[History]:
        """The issue's changelog, oldest first, including entries the server appended."""
        with self.api.lock:
            return list(self.issue(key).histories)


def run(
    dataset: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    announce: Callable[[str], object] = print,
) -> None:
    """Serve a Jira Cloud simulator in this thread until Ctrl-C; ``announce`` gets its URL."""
    simulator = JiraSimulator(dataset, host=host, port=port)
    users = [u.email for u in simulator.dataset.users.values() if u.email]
    announce(f"Jira Cloud simulator at {simulator.url}")
    if users:
        announce(f"Log in as a dataset user's email (e.g. {users[0]}) with any token.")
    announce("Press Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):
        simulator.serve_forever()
