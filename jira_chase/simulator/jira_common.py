"""What Jira Cloud and Jira Data Center share: sign-in, permissions, issues, labels,
comments and entity properties, over one dataset.

:class:`JiraApi` answers one request at a time under a lock (the dataset is not
thread-safe); :mod:`jira_cloud` and :mod:`jira_dc` add their flavour's endpoints and say
how users sign in.

Permissions, the parts a sync bot meets:

- a project marked ``readonly`` in the dataset can be browsed but not written: label
  edits, comments, issue and comment properties there answer 403;
- a user may edit or delete only their own comments (a bot without admin rights), and
  set properties only on their own comments;
- ``credentials`` (login -> secret) switch real credential checking on; without them any
  secret of a known user is accepted;
- ``notifyUsers=false`` on an issue edit needs "Administer Projects" in the issue's
  project (``projects[].admins``): anyone else gets Jira's 403 and nothing changes.
  Comment edits take ``notifyUsers`` from anyone (Cloud documents no permission for it;
  Data Center does not document the parameter at all), as bulk edits take
  ``sendBulkNotification``;
- ``GET mypermissions`` reports those permissions for a project, an issue or globally.

``historyMetadata`` and comment ``visibility`` are accepted and ignored.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import formatdate
from typing import Any

from jira_chase.simulator import faults
from jira_chase.simulator.dataset import LINK_TYPES, Comment, Dataset, Issue, User
from jira_chase.simulator.faults import FaultPlan
from jira_chase.simulator.http import ApiError, Request, Response, Router
from jira_chase.simulator.jira_filters import FilterRoutes
from jira_chase.simulator.jira_json import JiraJson
from jira_chase.simulator.jql import JQLError, PreparedQuery, parse

Clock = Callable[[], datetime]

PROPERTY_VALUE_MAX_CHARS = 32768
#: Jira's limit on a comment body (a text field), in characters. An ADF body (REST v3)
#: counts the characters of its compact JSON: Cloud stores the document, not its text.
COMMENT_MAX_CHARS = 32767
TOO_LONG = (
    f"The entered text is too long. It exceeds the allowed limit of {COMMENT_MAX_CHARS:,} "
    "characters."
)
LABEL_MAX_CHARS = 255
SUMMARY_MAX_CHARS = 255
#: Fields an issue edit may set through ``fields`` besides the labels.
FIELD_EDITS = frozenset({"summary", "assignee"})

COMMENT_KEYS = frozenset({"body", "properties", "visibility"})
EDIT_KEYS = frozenset({"fields", "update", "historyMetadata", "properties"})

NO_ISSUE = "Issue does not exist or you do not have permission to see it."
NO_EDIT = "You do not have permission to edit issues in this project."
NO_TRANSITION = "You do not have permission to transition this issue."
TRANSITION_KEYS = frozenset({"transition", "fields", "update", "historyMetadata", "properties"})
NO_COMMENT = "You do not have permission to comment on issues in this project."
NO_SILENT = (
    "To discard the user notification either admin or project admin permissions are required."
)

#: The permissions ``mypermissions`` knows: key -> (id, type, name, description).
PERMISSIONS: dict[str, tuple[str, str, str, str]] = {
    "ADMINISTER": ("0", "GLOBAL", "Administer Jira", "Ability to administer Jira."),
    "BULK_CHANGE": ("33", "GLOBAL", "Make bulk changes", "Ability to modify many issues."),
    "ADMINISTER_PROJECTS": (
        "23",
        "PROJECT",
        "Administer Projects",
        "Ability to administer a project in Jira.",
    ),
    "BROWSE_PROJECTS": ("10", "PROJECT", "Browse Projects", "Ability to browse projects."),
    "EDIT_ISSUES": ("12", "PROJECT", "Edit Issues", "Ability to edit issues."),
    "ADD_COMMENTS": ("15", "PROJECT", "Add Comments", "Ability to comment on issues."),
}


class JiraApi(FilterRoutes):
    """The endpoints both flavours serve, over one dataset.

    Subclasses add routes in :meth:`add_routes` and implement :meth:`authenticate` and
    :meth:`server_info`. ``handle`` signs the caller in, routes and answers one request
    under a single lock, so the dataset sees one request at a time.
    """

    #: The path variable for the REST API version in route templates.
    version_segment = "{version:2|3}"

    def __init__(
        self,
        dataset: Dataset,
        clock: Clock,
        json_view: JiraJson,
        *,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.dataset = dataset
        self.clock = clock
        self.json = json_view
        self.credentials = (
            {login.lower(): secret for login, secret in credentials.items()}
            if credentials is not None
            else None
        )
        self.lock = threading.RLock()
        self.router = Router()
        self.add_routes()

    # routing and sign-in -------------------------------------------------------------

    def add_routes(self) -> None:
        add = self.router.add
        base = f"/rest/api/{self.version_segment}"
        add("GET", f"{base}/serverInfo", self.server_info)
        add("GET", f"{base}/myself", self.myself)
        add("GET", f"{base}/field", self.fields)
        add("GET", f"{base}/mypermissions", self.my_permissions)
        add("GET", f"{base}/status", self.statuses)
        add("GET", f"{base}/resolution", self.resolutions)
        add("GET", f"{base}/issue/{{issue}}", self.get_issue)
        add("PUT", f"{base}/issue/{{issue}}", self.edit_issue)
        add("GET", f"{base}/issue/{{issue}}/transitions", self.list_transitions)
        add("POST", f"{base}/issue/{{issue}}/transitions", self.transition)
        add("GET", f"{base}/issue/{{issue}}/comment", self.list_comments)
        add("POST", f"{base}/issue/{{issue}}/comment", self.add_comment)
        add("GET", f"{base}/issue/{{issue}}/comment/{{comment}}", self.get_comment)
        add("PUT", f"{base}/issue/{{issue}}/comment/{{comment}}", self.edit_comment)
        add("DELETE", f"{base}/issue/{{issue}}/comment/{{comment}}", self.delete_comment)
        add("POST", f"{base}/issueLink", self.add_link)
        add("DELETE", f"{base}/issueLink/{{link}}", self.remove_link)
        add("GET", f"{base}/issue/{{issue}}/properties", self.list_issue_properties)
        prop = f"{base}/issue/{{issue}}/properties/{{key}}"
        add("GET", prop, self.get_issue_property)
        add("PUT", prop, self.set_issue_property)
        add("DELETE", prop, self.delete_issue_property)
        add("GET", f"{base}/comment/{{comment}}/properties", self.list_comment_properties)
        prop = f"{base}/comment/{{comment}}/properties/{{key}}"
        add("GET", prop, self.get_comment_property)
        add("PUT", prop, self.set_comment_property)
        add("DELETE", prop, self.delete_comment_property)
        self.add_filter_routes()

    def handle(self, request: Request) -> Response:
        route, params, route_error = self.router.find(request.method, request.path)
        style = route.style if route is not None else ""
        try:
            with self.lock:
                user = self.authenticate(request)
                if route_error is not None:
                    raise route_error
                assert route is not None
                request.params = params
                response = route.handler(request, user)
        except ApiError as error:
            raise self.shape_error(error, style) from None
        response.headers.update(self.extra_headers(user))
        return response

    def shape_error(self, error: ApiError, style: str) -> ApiError:
        """The error as the route's documentation shapes it (hook for the flavours)."""
        return error

    def extra_headers(self, user: User) -> dict[str, str]:
        """Headers every successful answer to ``user`` carries (hook for the flavours)."""
        return {}

    def authenticate(self, request: Request) -> User:
        raise NotImplementedError

    @staticmethod
    def basic_credentials(request: Request) -> tuple[str, str] | None:
        """``(login, secret)`` from an HTTP Basic header; None when there is none or it is
        garbled."""
        scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (ValueError, binascii.Error):
            return None
        login, separator, secret = decoded.partition(":")
        return (login, secret) if separator else None

    def secret_matches(self, logins: list[str], secret: str) -> bool:
        """Whether ``secret`` is the configured one of any of ``logins`` (True when
        credential checking is off)."""
        if self.credentials is None:
            return True
        for login in logins:
            expected = self.credentials.get(login.lower())
            if expected is not None and hmac.compare_digest(
                expected.encode("utf-8"), secret.encode("utf-8")
            ):
                return True
        return False

    # lookups and permissions -----------------------------------------------------------

    def version(self, request: Request) -> str:
        return request.params.get("version") or self.json.default_version

    def _issue(self, request: Request) -> Issue:
        issue = self.dataset.issue_by_id_or_key(request.params["issue"])
        if issue is None:
            raise ApiError(404, [NO_ISSUE])
        return issue

    def _comment(self, request: Request, issue: Issue | None = None) -> tuple[Issue, Comment]:
        found = self.dataset.comment_by_id(request.params["comment"])
        if found is None or (issue is not None and found[0] is not issue):
            raise ApiError(404, [f"Can not find a comment for key: {request.params['comment']}."])
        return found

    def check_writable(self, issue: Issue, message: str = NO_EDIT) -> None:
        """403 when the issue's project is read-only for everyone."""
        if self.dataset.projects[issue.project].readonly:
            raise ApiError(403, [message])

    @staticmethod
    def _object_body(request: Request) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, ["The request body must be a JSON object."])
        return body

    def prepare(self, jql: str, user: User, *, bounded: bool) -> PreparedQuery:
        """JQL checked and bound, or a Jira-shaped 400."""
        try:
            query = parse(jql)
            if bounded and query.where is None:
                raise JQLError(
                    "Unbounded JQL queries are not allowed here. Please add a search"
                    " restriction to your query."
                )
            return query.prepare(self.dataset, now=self.clock(), current_user=user.id)
        except JQLError as error:
            raise ApiError(400, [str(error)]) from None

    # server ----------------------------------------------------------------------------

    def server_info(self, request: Request, user: User) -> Response:
        raise NotImplementedError

    def server_info_body(
        self, version: str, deployment: str, build: int, build_date: str
    ) -> dict[str, Any]:
        base = self.json.base
        return {
            "baseUrl": base,
            "displayUrl": base,
            "version": version,
            "versionNumbers": [int(part) for part in version.split("-")[0].split(".")],
            "deploymentType": deployment,
            "buildNumber": build,
            "buildDate": build_date,
            "serverTime": self.json.time(self.clock()),
            "scmInfo": "jira-chase-simulator",
            "serverTitle": "Jira (jira-chase simulator)",
        }

    def myself(self, request: Request, user: User) -> Response:
        return Response(200, self.json.myself(user))

    def fields(self, request: Request, user: User) -> Response:
        return Response(200, self.json.fields())

    def statuses(self, request: Request, user: User) -> Response:
        """Every status of the site (``GET status``)."""
        return Response(200, [self.json.status(name) for name in self.dataset.statuses])

    def resolutions(self, request: Request, user: User) -> Response:
        """Every resolution of the site (``GET resolution``)."""
        return Response(200, self.json.resolutions())

    # issues and labels -----------------------------------------------------------------

    #: How many histories ``GET issue?expand=changelog`` returns (None: all).
    issue_changelog_cap: int | None = None
    #: False: deleting a comment leaves the issue's ``updated`` alone (the simulator's
    #: ``comment_delete_touches``), so a search by ``updated`` does not find the issue.
    deletion_touches_issue: bool = True

    def my_permissions(self, request: Request, user: User) -> Response:
        """The caller's permissions in a project or issue context, or globally."""
        wanted = self.requested_permissions(request)
        projects = list(self.dataset.projects.values())
        if request.arg("issueId") or request.arg("issueKey"):
            issue = self.dataset.issue_by_id_or_key(
                request.arg("issueId") or request.arg("issueKey") or ""
            )
            if issue is None:
                raise ApiError(404, [NO_ISSUE])
            projects = [self.dataset.projects[issue.project]]
        elif request.arg("projectId") or request.arg("projectKey"):
            ref = request.arg("projectId") or request.arg("projectKey") or ""
            found = [p for p in projects if ref in (p.id, p.key)]
            if not found:
                raise ApiError(404, [f"No project could be found with key '{ref}'."])
            projects = found

        def have(key: str) -> bool:
            if key == "ADMINISTER":
                return False
            if key == "BULK_CHANGE":
                return user.bulk_change
            if key == "ADMINISTER_PROJECTS":
                return any(p.administered_by(user.id) for p in projects)
            if key in ("EDIT_ISSUES", "ADD_COMMENTS"):
                return any(not p.readonly for p in projects)
            return True

        permissions = {}
        for key in wanted:
            pid, kind, name, description = PERMISSIONS[key]
            permissions[key] = {
                "id": pid,
                "key": key,
                "name": name,
                "type": kind,
                "description": description,
                "havePermission": have(key),
            }
        return Response(200, {"permissions": permissions})

    def requested_permissions(self, request: Request) -> list[str]:
        """The permission keys a ``mypermissions`` call asks about (hook for the flavours:
        Cloud requires ``permissions``, Data Center answers every permission)."""
        return list(PERMISSIONS)

    def get_issue(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        selection = self.json.selection(request.query.get("fields"), "*all")
        expand = set(request.list_arg("expand"))
        body = self.json.issue(
            issue,
            selection,
            self.version(request),
            self.issue_changelog_cap,
            changelog="changelog" in expand,
            properties=self.property_keys_arg(request),
        )
        return Response(200, body)

    def property_keys_arg(self, request: Request) -> list[str] | None:
        """The ``properties`` parameter of a read (``*all`` for every key of the issue)."""
        keys = [key for key in request.list_arg("properties") if key]
        return keys or None

    def edit_issue(self, request: Request, user: User) -> Response:
        """Edit labels through ``update`` operations or ``fields``, and the summary and the
        assignee through ``fields``; nothing else is editable."""
        issue = self._issue(request)
        notify = request.bool_arg("notifyUsers", True)
        return_issue = request.bool_arg("returnIssue", False)
        body = self._object_body(request)
        unknown = sorted(body.keys() - EDIT_KEYS)
        if unknown:
            raise ApiError(400, [f"The simulator cannot apply '{unknown[0]}' in an issue edit."])
        self.check_writable(issue)
        if not notify and not self.dataset.projects[issue.project].administered_by(user.id):
            raise ApiError(403, [NO_SILENT])
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise ApiError(400, ["'fields' and 'update' must be JSON objects."])
        errors = {
            name: f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            for name in [*(f for f in fields if f not in FIELD_EDITS), *update]
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
            labels = self.label_list(fields["labels"])
        for operation in update.get("labels") or []:
            if not isinstance(operation, dict) or len(operation) != 1:
                raise ApiError(400, [], {"labels": "Each label operation must have one verb."})
            ((verb, value),) = operation.items()
            if verb == "add":
                self.check_label(value)
                if value not in labels:
                    labels.append(value)
            elif verb == "remove":
                self.check_label(value)
                if value in labels:
                    labels.remove(value)
            elif verb == "set":
                labels = self.label_list(value)
            else:
                raise ApiError(
                    400, [], {"labels": f"The simulator does not support the '{verb}' operation."}
                )
        edits = {name: self.field_edit(name, fields[name]) for name in FIELD_EDITS & fields.keys()}
        at = self.clock()
        self.dataset.set_fields(issue, edits, user.id, at)
        self.dataset.set_labels(issue, labels, user.id, at)
        if return_issue:
            selection = self.json.selection(None, "*all")
            return Response(200, self.json.issue(issue, selection, self.version(request)))
        return Response(204)

    def field_edit(self, name: str, value: Any) -> str | None:
        """A ``fields`` value for the summary or the assignee, in dataset terms."""
        if name == "summary":
            if not isinstance(value, str) or not value.strip():
                raise ApiError(400, [], {"summary": "You must specify a summary of the issue."})
            if len(value) > SUMMARY_MAX_CHARS:
                raise ApiError(400, [], {"summary": "Summary must be less than 255 characters."})
            return value
        if value is None:
            return None
        user_id = self.assignee_id(value) if isinstance(value, dict) else None
        if user_id is None:
            raise ApiError(
                400, [], {"assignee": "Specified user does not exist or you do not have "
                          "required permissions"}
            )  # fmt: skip
        return user_id

    def assignee_id(self, value: dict[str, Any]) -> str | None:
        """The dataset user a ``fields.assignee`` names (Cloud: ``accountId``)."""
        account = value.get("accountId")
        return account if account in self.dataset.users else None

    @classmethod
    def label_list(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise ApiError(400, [], {"labels": "Labels must be an array of strings."})
        for label in value:
            cls.check_label(label)
        return list(dict.fromkeys(value))

    @staticmethod
    def label_problem(label: Any) -> str | None:
        """Why Jira would refuse ``label``, or None."""
        if not isinstance(label, str) or not label:
            return "A label must be a non-empty string."
        if any(c.isspace() for c in label):
            return f"The label '{label}' contains spaces which is invalid."
        if len(label) > LABEL_MAX_CHARS:
            return (
                f"The label '{label}' exceeds the maximum length for a single label of"
                f" {LABEL_MAX_CHARS} characters."
            )
        return None

    @classmethod
    def check_label(cls, label: Any) -> None:
        problem = cls.label_problem(label)
        if problem is not None:
            raise ApiError(400, [], {"labels": problem})

    # comments --------------------------------------------------------------------------

    # transitions -----------------------------------------------------------------------
    #
    # Every status of the dataset is reachable from every other (a global transition per
    # status, named and numbered after it); a transition writes the status change to the
    # issue's history, and the resolution as Jira's default workflow does: set ("Done")
    # on entering a status of the done category, cleared on leaving it.

    def transition_json(self, status: str) -> dict[str, Any]:
        target = self.dataset.statuses[status]
        return {
            "id": target.id,
            "name": target.name,
            "to": self.json.status(target.name),
            "hasScreen": False,
            "isGlobal": True,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }

    def list_transitions(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        wanted = request.query.get("transitionId", [None])[0]
        statuses = [
            name
            for name, status in self.dataset.statuses.items()
            if name != issue.status and (wanted is None or status.id == wanted)
        ]
        return Response(
            200,
            {"expand": "transitions", "transitions": [self.transition_json(n) for n in statuses]},
        )

    def transition(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        body = self._object_body(request)
        unknown = sorted(body.keys() - TRANSITION_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        chosen = body.get("transition")
        transition_id = chosen.get("id") if isinstance(chosen, dict) else None
        if not isinstance(transition_id, str) or not transition_id:
            raise ApiError(400, ["Missing 'transition' identifier"])
        target = next((s for s in self.dataset.statuses.values() if s.id == transition_id), None)
        if target is None or target.name == issue.status:
            raise ApiError(
                400,
                [
                    f"Transition id '{transition_id}' is not valid for this issue.",
                ],
            )
        if body.get("fields") or body.get("update"):
            raise ApiError(
                400, [], {"fields": "The simulator's transitions have no screen; send no fields."}
            )
        self.check_writable(issue, NO_TRANSITION)
        self.dataset.set_status(issue, target.name, user.id, self.clock())
        return Response(204)

    def add_link(self, request: Request, user: User) -> Response:
        """`POST issueLink`: the outward issue is the "from" end ("outwardIssue blocks
        inwardIssue" for Blocks); both ends record it in their changelog. 201, no body."""
        body = self._object_body(request)
        unknown = sorted(body.keys() - {"type", "inwardIssue", "outwardIssue", "comment"})
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        kind = body.get("type")
        name = kind.get("name") if isinstance(kind, dict) else None
        if name not in LINK_TYPES:
            raise ApiError(404, [f"No issue link type with name '{name}' found."])
        ends = []
        for side in ("outwardIssue", "inwardIssue"):
            ref = body.get(side)
            key = ref.get("key") or ref.get("id") if isinstance(ref, dict) else None
            issue = self.dataset.issue_by_id_or_key(str(key)) if key else None
            if issue is None:
                raise ApiError(404, [f"Issue '{key}' does not exist or you do not have "
                                     "permission to see it."])  # fmt: skip
            ends.append(issue)
        outward, inward = ends
        self.check_writable(outward, "You do not have the permission to link issues.")
        self.dataset.add_link(name, outward, inward, user.id, self.clock())
        return Response(201)

    def remove_link(self, request: Request, user: User) -> Response:
        """`DELETE issueLink/{id}`: both ends record the removal. 204; 404 when unknown."""
        if not self.dataset.remove_link(request.params["link"], user.id, self.clock()):
            raise ApiError(404, [f"No issue link with id '{request.params['link']}' exists."])
        return Response(204)

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
        page = self.json.comment_page(
            issue,
            comments,
            start_at,
            max_results,
            self.version(request),
            with_properties="properties" in request.list_arg("expand"),
        )
        return Response(200, page)

    def comment_input(
        self, request: Request, *, body_required: bool
    ) -> tuple[Any, dict[str, Any] | None]:
        data = self._object_body(request)
        unknown = sorted(data.keys() - COMMENT_KEYS)
        if unknown:
            raise ApiError(400, [f'Unrecognized field "{unknown[0]}".'])
        body = data.get("body")
        if body is None:
            if body_required:
                raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
        elif self.version(request) == "3":
            if not (isinstance(body, dict) and body.get("type") == "doc"):
                raise ApiError(
                    400,
                    [],
                    {"comment": "Comment body must be an Atlassian Document Format document."},
                )
        elif not isinstance(body, str):
            raise ApiError(
                400, ["Can not deserialize instance of java.lang.String out of the given value."]
            )
        elif not body.strip():
            raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
        if body is not None and comment_length(body) > COMMENT_MAX_CHARS:
            raise ApiError(400, [], {"comment": TOO_LONG})
        properties = None
        if data.get("properties") is not None:
            raw = data["properties"]
            if not isinstance(raw, list):
                raise ApiError(400, ["'properties' must be an array of {key, value}."])
            properties = {}
            for entry in raw:
                if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                    raise ApiError(400, ["Each comment property needs a string 'key'."])
                properties[entry["key"]] = self.property_value(entry["key"], entry.get("value"))
        return body, properties

    @staticmethod
    def property_value(key: str, value: Any) -> Any:
        if not key or len(key) > 255:
            raise ApiError(400, ["A property key must be 1 to 255 characters."])
        if value is None:
            raise ApiError(400, [f"The value of property '{key}' must not be empty."])
        if len(json.dumps(value)) > PROPERTY_VALUE_MAX_CHARS:
            too_long = f"longer than {PROPERTY_VALUE_MAX_CHARS} characters"
            raise ApiError(400, [f"The value of property '{key}' is {too_long}."])
        return value

    def _with_properties(self, request: Request) -> bool:
        return "properties" in request.list_arg("expand")

    def add_comment(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        body, properties = self.comment_input(request, body_required=True)
        self.check_writable(issue, NO_COMMENT)
        comment = self.dataset.add_comment(issue, user.id, body, self.clock(), properties)
        return Response(
            201,
            self.json.comment(
                issue, comment, self.version(request), self._with_properties(request)
            ),
        )

    def get_comment(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request, self._issue(request))
        return Response(
            200,
            self.json.comment(
                issue, comment, self.version(request), self._with_properties(request)
            ),
        )

    def edit_comment(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request, self._issue(request))
        request.bool_arg("notifyUsers", True)  # anyone may pass it (see module doc)
        self.check_writable(issue, NO_COMMENT)
        if comment.author != user.id:
            raise ApiError(400, ["You do not have the permission to edit this comment."])
        body, properties = self.comment_input(request, body_required=False)
        self.dataset.edit_comment(
            issue,
            comment,
            user.id,
            self.clock(),
            comment.body if body is None else body,
            properties,
        )
        return Response(
            200,
            self.json.comment(
                issue, comment, self.version(request), self._with_properties(request)
            ),
        )

    def delete_comment(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request, self._issue(request))
        self.check_writable(issue, NO_COMMENT)
        if comment.author != user.id:
            raise ApiError(400, ["You do not have the permission to delete this comment."])
        self.dataset.delete_comment(issue, comment, self.clock(), touch=self.deletion_touches_issue)
        return Response(204)

    # entity properties -----------------------------------------------------------------

    @staticmethod
    def _property(properties: dict[str, Any], key: str) -> Response:
        if key not in properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        return Response(200, {"key": key, "value": properties[key]})

    def list_comment_properties(self, request: Request, user: User) -> Response:
        _issue, comment = self._comment(request)
        url = f"{self.json.api(self.version(request))}/comment/{comment.id}/properties"
        return Response(200, self.json.property_keys(url, comment.properties))

    def get_comment_property(self, request: Request, user: User) -> Response:
        _issue, comment = self._comment(request)
        return self._property(comment.properties, request.params["key"])

    def set_comment_property(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request)
        self.check_writable(issue, NO_COMMENT)
        if comment.author != user.id:
            raise ApiError(403, ["You do not have the permission to edit this comment."])
        key = request.params["key"]
        value = self.property_value(key, request.json())
        created = key not in comment.properties
        comment.properties[key] = value
        return Response(201 if created else 200)

    def delete_comment_property(self, request: Request, user: User) -> Response:
        issue, comment = self._comment(request)
        key = request.params["key"]
        self.check_writable(issue, NO_COMMENT)
        if comment.author != user.id:
            raise ApiError(403, ["You do not have the permission to edit this comment."])
        if key not in comment.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        del comment.properties[key]
        return Response(204)

    def list_issue_properties(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        url = f"{self.json.api(self.version(request))}/issue/{issue.key}/properties"
        return Response(200, self.json.property_keys(url, issue.properties))

    def get_issue_property(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        return self._property(issue.properties, request.params["key"])

    def set_issue_property(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        key = request.params["key"]
        value = self.property_value(key, request.json())
        self.check_writable(issue)
        created = key not in issue.properties
        issue.properties[key] = value
        return Response(201 if created else 200)

    def delete_issue_property(self, request: Request, user: User) -> Response:
        issue = self._issue(request)
        key = request.params["key"]
        self.check_writable(issue)
        if key not in issue.properties:
            raise ApiError(404, [f"The property with key '{key}' does not exist."])
        del issue.properties[key]
        return Response(204)

    # faults --------------------------------------------------------------------------

    #: ``RateLimit-Reason`` and friends: what this flavour's 429 carries besides
    #: ``Retry-After`` (hook for the flavours).
    def rate_limit_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}

    def fault_response(self, kind: str, plan: FaultPlan) -> Response:
        """The answer of an injected fault (see :mod:`jira_chase.simulator.faults`)."""
        wait = plan.retry_after
        if kind == faults.BAD_GATEWAY:
            page = (
                b"<html><head><title>502 Bad Gateway</title></head>"
                b"<body><h1>502 Bad Gateway</h1></body></html>"
            )
            return Response(502, raw=page, content_type="text/html")
        if kind == faults.SERVER_ERROR:
            body = ApiError(500, ["Internal server error"]).response().body
            return Response(500, body)
        if kind in (faults.UNAVAILABLE, faults.UNAVAILABLE_BARE):
            headers = {"Retry-After": str(wait)} if kind == faults.UNAVAILABLE else {}
            body = ApiError(503, ["Service unavailable, try again later."]).response().body
            return Response(503, body, headers)
        if kind == faults.FORBIDDEN:
            body = ApiError(403, ["You do not have permission to perform this operation."])
            return Response(403, body.response().body)
        headers = self.rate_limit_headers()
        if kind == faults.RATE_LIMIT:
            headers["Retry-After"] = str(wait)
        elif kind == faults.RATE_LIMIT_DATE:
            # An HTTP-date has whole seconds: round up so the wait is never shorter.
            headers["Retry-After"] = formatdate(math.ceil(time.time()) + wait, usegmt=True)
        elif kind == faults.RATE_LIMIT_GARBLED:
            headers["Retry-After"] = "soon"
        if kind != faults.RATE_LIMIT_BARE:
            headers.update(self.rate_limit_reset_headers(wait))
        body = ApiError(429, ["Rate limit exceeded."]).response().body
        return Response(429, body, headers)

    def rate_limit_reset_headers(self, wait: int) -> dict[str, str]:
        return {}


def comment_length(body: Any) -> int:
    """A comment body's length as Jira checks it against `COMMENT_MAX_CHARS`."""
    if isinstance(body, str):
        return len(body)
    return len(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
