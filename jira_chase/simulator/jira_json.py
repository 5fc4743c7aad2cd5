"""How Jira shows the dataset's records as JSON: Cloud (REST v3, and v2 where it differs)
and Data Center (REST v2).

:class:`JiraJson` renders Jira Cloud; :class:`JiraDcJson` overrides what Data Center does
differently: users are ``name``/``key`` (no ``accountId``; the ``name`` is the dataset
user id, the ``key`` ``JIRAUSER<n>``), changelog items carry no ``fieldId`` and name users
by key, comment bodies are wiki-markup strings, and the custom fields have other ids
(``Story Points`` ``customfield_10106``, ``Flagged`` ``customfield_10000``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from jira_chase.simulator.dataset import (
    RESOLUTION,
    ChangeItem,
    Comment,
    Dataset,
    History,
    Issue,
    Link,
    User,
    link_phrase,
)
from jira_chase.simulator.jql import CATEGORY_IDS, category_name

# The simulator's custom fields, with the ids they have on a typical Jira Cloud site...
STORY_POINTS_FIELD = "customfield_10016"
FLAGGED_FIELD = "customfield_10021"
_FLAGGED_OPTION_ID = "10019"
# ... and on a typical Data Center site.
DC_STORY_POINTS_FIELD = "customfield_10106"
DC_FLAGGED_FIELD = "customfield_10000"
_DC_FLAGGED_OPTION_ID = "10000"

_SYSTEM_FIELDS = (
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
    "resolution",
    "resolutiondate",
    "comment",
)

# All issue fields the Cloud simulator serves; ``comment`` is not navigable, as in Jira.
ALL_FIELDS = (*_SYSTEM_FIELDS, STORY_POINTS_FIELD, FLAGGED_FIELD)
NAVIGABLE_FIELDS = tuple(name for name in ALL_FIELDS if name != "comment")

_RESOLUTION_ID = "10000"
_CATEGORY_COLOURS = {"new": "blue-gray", "indeterminate": "yellow", "done": "green"}
_LINK_TYPE_IDS = {"Blocks": "10000", "Cloners": "10001", "Duplicate": "10002", "Relates": "10003"}
_ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def jira_time(moment: datetime, zone: tzinfo = timezone.utc) -> str:
    """Jira's timestamp format, ``2026-10-01T09:00:00.000+0000``, in the server's `zone`."""
    local = moment.astimezone(zone)
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + (local.strftime("%z"))
    )


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
    """The text of an Atlassian Document (paragraphs separated by blank lines), walked
    by a loop: a document may nest deeper than Python's stack."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "doc":
        return "\n\n".join(_inline_text(child) for child in node.get("content") or [])
    return _inline_text(node)


def _inline_text(node: Any) -> str:
    parts: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict):
            if item.get("type") == "text":
                parts.append(str(item.get("text", "")))
            elif item.get("type") == "hardBreak":
                parts.append("\n")
            else:
                stack.extend(reversed(item.get("content") or []))
    return "".join(parts)


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
    def parse(
        cls,
        requested: list[str] | None,
        default: str,
        all_fields: tuple[str, ...] = ALL_FIELDS,
    ) -> FieldSelection:
        """Jira's ``fields`` parameter: ``*all``, ``*navigable``, names, ``-name`` to drop.

        Unknown names are ignored, as in Jira. Only exclusions means navigable minus those.
        ``all_fields`` are the fields the site has (``comment`` is the one not navigable).
        """
        navigable = tuple(name for name in all_fields if name != "comment")
        tokens = [token.strip() for item in requested or [default] for token in item.split(",")]
        tokens = [token for token in tokens if token] or [default]
        include: list[str] = []
        exclude: set[str] = set()
        wants_key = wide = False
        for token in tokens:
            if token == "*all":
                include.extend(all_fields)
                wide = True
            elif token == "*navigable":
                include.extend(navigable)
                wide = True
            elif token.startswith("-"):
                exclude.add(token[1:])
            elif token in all_fields:
                include.append(token)
            elif token in ("key", "issuekey"):
                wants_key = True
        if not include and exclude:
            include.extend(navigable)
            wide = True
        chosen = tuple(dict.fromkeys(name for name in include if name not in exclude))
        return cls(chosen, id_only=not chosen and not wants_key and not exclude, wide=wide)


#: The resolutions a new Jira site has.
DEFAULT_RESOLUTIONS = (
    ("Done", "Work has been completed on this issue."),
    ("Won't Do", "This issue won't be actioned."),
    ("Duplicate", "The problem is a duplicate of an existing issue."),
    ("Cannot Reproduce", "This issue could not be reproduced at this time."),
)


class JiraJson:
    """How Jira Cloud shows the dataset's records (REST v3; v2 differs in comment bodies)."""

    story_points_field = STORY_POINTS_FIELD
    story_points_name = "Story point estimate"
    flagged_field = FLAGGED_FIELD
    flagged_option_id = _FLAGGED_OPTION_ID
    story_points_type = "com.pyxis.greenhopper.jira:jsw-story-points"
    default_version = "3"
    #: The zone the site writes its times in.
    server_zone: tzinfo = timezone.utc

    def __init__(self, dataset: Dataset, base_url: str) -> None:
        self.dataset = dataset
        self.base = base_url
        self.all_fields = (*_SYSTEM_FIELDS, self.story_points_field, self.flagged_field)
        self._users: dict[str, dict[str, Any]] = {}
        #: False: the site shows no change history at all (as when the account may not
        #: see it, or a proxy strips it); every changelog answer is empty.
        self.show_history = True

    def time(self, moment: datetime) -> str:
        """A moment as this site writes it (in its `server_zone`)."""
        return jira_time(moment, self.server_zone)

    def histories(self, issue: Issue) -> tuple[History, ...]:
        """The issue's histories as this site shows them."""
        return tuple(issue.histories) if self.show_history else ()

    def resolutions(self) -> list[dict[str, Any]]:
        """The site's resolutions: Jira's defaults."""
        return [
            {
                "self": f"{self.api()}/resolution/{10000 + index}",
                "id": str(10000 + index),
                "description": description,
                "name": name,
            }
            for index, (name, description) in enumerate(DEFAULT_RESOLUTIONS)
        ]

    def api(self, version: str | None = None) -> str:
        return f"{self.base}/rest/api/{version or self.default_version}"

    def selection(self, requested: list[str] | None, default: str) -> FieldSelection:
        """The ``fields`` parameter against this site's fields."""
        return FieldSelection.parse(requested, default, self.all_fields)

    # small records ------------------------------------------------------------------------

    def user(self, user_id: str) -> dict[str, Any]:
        """A user as issues, comments and changelogs show them.

        Shared between answers (a large page shows the same people thousands of times):
        do not edit the dict; copy it.
        """
        shown = self._users.get(user_id)
        if shown is None:
            shown = self._users[user_id] = self.user_json(user_id)
        return shown

    def user_json(self, user_id: str) -> dict[str, Any]:
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
        out = dict(self.user(user.id))
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

    def component(self, project: str, name: str) -> dict[str, Any]:
        component_id = self.dataset.component_ids[(project, name)]
        return {"self": f"{self.api()}/component/{component_id}", "id": component_id, "name": name}

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

    def property_keys(self, url: str, keys: Iterable[str]) -> dict[str, Any]:
        """``GET .../properties``: the keys, each with its URL."""
        return {"keys": [{"key": key, "self": f"{url}/{key}"} for key in keys]}

    def comment(
        self, issue: Issue, comment: Comment, version: str, with_properties: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.api(version)}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": self.user(comment.author),
            "body": self.comment_body(comment.body, version),
            "updateAuthor": self.user(comment.update_author),
            "created": self.time(comment.created),
            "updated": self.time(comment.updated),
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
        out["created"] = self.time(history.at)
        out["items"] = [self.change_item(issue, item) for item in history.items]
        return out

    def resolution(self) -> dict[str, Any]:
        return {
            "self": f"{self.api()}/resolution/{_RESOLUTION_ID}",
            "id": _RESOLUTION_ID,
            "description": "Work has been completed on this issue.",
            "name": RESOLUTION,
        }

    def change_item(self, issue: Issue, item: ChangeItem) -> dict[str, Any]:
        """One changed field as Jira reports it: ``from``, ``fromString``, ``to`` and
        ``toString`` always, null where empty (the specs type them as plain strings, but
        Jira sends the nulls, and other clients rely on the keys being there)."""
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
            out.update(field="Flagged", fieldtype="custom", fieldId=self.flagged_field)
            old = new = None
        elif lowered in ("estimate", "story point estimate", "story points"):
            out.update(
                field=self.story_points_name, fieldtype="custom", fieldId=self.story_points_field
            )
        elif lowered in ("fixversion", "fixversions", "fix version"):
            out.update(field="Fix Version", fieldId="fixVersions")
            versions = self.dataset.version_ids
            old = versions.get((issue.project, old or ""), old)
            new = versions.get((issue.project, new or ""), new)
        elif lowered == "summary":
            old = new = None  # Jira shows the texts only
        elif lowered == "resolution":
            out["field"] = out["fieldId"] = "resolution"
            old = _RESOLUTION_ID if old == RESOLUTION else old
            new = _RESOLUTION_ID if new == RESOLUTION else new
        elif name == "Link":
            del out["fieldId"]  # Jira's Link items carry no field id
        out.update({"from": old, "fromString": old_text, "to": new, "toString": new_text})
        return out

    def changelog(self, issue: Issue, cap: int | None) -> dict[str, Any]:
        """The latest ``cap`` histories (None: all), oldest first; ``startAt``/``total`` show
        what is left."""
        histories = self.histories(issue)
        start = 0 if cap is None else max(0, len(histories) - cap)
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
        version: str | None = None,
        changelog_cap: int | None = None,
        *,
        changelog: bool | None = None,
        properties: list[str] | None = None,
    ) -> dict[str, Any]:
        """An issue answer. The changelog comes with ``changelog=True`` (all of it, or the
        latest ``changelog_cap``); a ``changelog_cap`` alone also asks for it."""
        version = version or self.default_version
        with_changelog = changelog if changelog is not None else changelog_cap is not None
        if selection.id_only and not with_changelog and not properties:
            return {"id": issue.id}
        out: dict[str, Any] = {
            "expand": _ISSUE_EXPAND,
            "id": issue.id,
            "self": f"{self.api(version)}/issue/{issue.id}",
            "key": issue.key,
        }
        if selection.fields:
            out["fields"] = {name: self.field(issue, name, version) for name in selection.fields}
        if properties:
            wanted = list(issue.properties) if "*all" in properties else properties
            out["properties"] = {
                key: issue.properties[key] for key in wanted if key in issue.properties
            }
        if with_changelog:
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
            return self.time(issue.created)
        if name == "updated":
            return self.time(issue.updated)
        if name == "duedate":
            return issue.duedate.isoformat() if issue.duedate else None
        if name == "fixVersions":
            return [self.version(issue.project, v) for v in issue.fix_versions]
        if name == "components":
            return [self.component(issue.project, c) for c in issue.components]
        if name == "parent":
            if issue.parent is None:
                return None
            return self.issue_summary(self.dataset.issues[issue.parent])
        if name == "issuelinks":
            return [self.link(link) for link in issue.links]
        if name == "project":
            return self.project(issue.project)
        if name == "resolution":
            if issue.stated_resolution is not None:
                return self.resolution() if issue.stated_resolution[0] else None
            return self.resolution() if self.dataset.resolved_at(issue) is not None else None
        if name == "resolutiondate":
            resolved = self.dataset.resolved_at(issue)
            return self.time(resolved) if resolved is not None else None
        if name == "comment":
            return self.comment_page(issue, issue.comments, 0, len(issue.comments), version)
        if name == self.story_points_field:
            return issue.estimate
        if name == self.flagged_field:
            if not issue.flagged:
                return None
            return [
                {
                    "self": f"{self.api()}/customFieldOption/{self.flagged_option_id}",
                    "value": "Impediment",
                    "id": self.flagged_option_id,
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
                **self._field_key(field_id),
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
            system(
                "components", "Component/s", ["component"], {"type": "array", "items": "component"}
            ),
            system("parent", "Parent", ["parent"], None),
            system("issuelinks", "Linked Issues", ["issueLink"], {"type": "array"}),
            system("project", "Project", ["project"], {"type": "project"}),
            system("resolution", "Resolution", ["resolution"], {"type": "resolution"}),
            system(
                "resolutiondate",
                "Resolved",
                ["resolutiondate", "resolved"],
                {"type": "datetime"},
                orderable=False,
            ),
            system("comment", "Comment", ["comment"], {"type": "comments-page"}, navigable=False),
            *self.custom_fields(),
        ]

    def _field_key(self, field_id: str) -> dict[str, str]:
        return {"key": field_id}

    def custom_fields(self) -> list[dict[str, Any]]:
        """The two custom fields the simulator serves, as ``GET /field`` lists them."""
        points_id = int(self.story_points_field.rpartition("_")[2])
        flagged_id = int(self.flagged_field.rpartition("_")[2])
        return [
            {
                "id": self.story_points_field,
                **self._field_key(self.story_points_field),
                "name": self.story_points_name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{points_id}]", self.story_points_name],
                "schema": {
                    "type": "number",
                    "custom": self.story_points_type,
                    "customId": points_id,
                },
            },
            {
                "id": self.flagged_field,
                **self._field_key(self.flagged_field),
                "name": "Flagged",
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{flagged_id}]", "Flagged", "Flagged[Checkboxes]"],
                "schema": {
                    "type": "array",
                    "items": "option",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes",
                    "customId": flagged_id,
                },
            },
        ]


class JiraDcJson(JiraJson):
    """How Jira Data Center 10.3 shows the dataset's records (REST v2)."""

    story_points_field = DC_STORY_POINTS_FIELD
    story_points_name = "Story Points"
    story_points_type = "com.atlassian.jira.plugin.system.customfieldtypes:float"
    flagged_field = DC_FLAGGED_FIELD
    flagged_option_id = _DC_FLAGGED_OPTION_ID
    default_version = "2"
    #: A Data Center server writes times with its own zone's offset (the vendored
    #: OpenAPI document's examples: +1000 and +1100, Sydney), not in UTC.
    server_zone: tzinfo = ZoneInfo("Australia/Sydney")

    def __init__(self, dataset: Dataset, base_url: str) -> None:
        super().__init__(dataset, base_url)
        # Users made on Jira 8.x and later have keys like JIRAUSER10100, apart from names.
        self.user_keys = {
            user_id: f"JIRAUSER{10100 + number}" for number, user_id in enumerate(dataset.users)
        }
        self.users_by_key = {key: user_id for user_id, key in self.user_keys.items()}

    def user_json(self, user_id: str) -> dict[str, Any]:
        """A ``UserJsonBean``: ``name`` is the dataset user id, ``key`` its JIRAUSER key."""
        user = self.dataset.users[user_id]
        out: dict[str, Any] = {
            "self": f"{self.api()}/user?username={user.id}",
            "name": user.id,
            "key": self.user_keys[user.id],
            "displayName": user.name,
            "active": True,
            "timeZone": "UTC",
            "avatarUrls": {
                size: f"{self.base}/secure/useravatar?size={label}&ownerId={user.id}"
                for size, label in (("48x48", "large"), ("24x24", "small"))
            },
        }
        if user.email:
            out["emailAddress"] = user.email
        return out

    def myself(self, user: User) -> dict[str, Any]:
        out = dict(self.user(user.id))
        out.update(locale="en_US", deleted=False, expand="groups,applicationRoles")
        return out

    def change_item(self, issue: Issue, item: ChangeItem) -> dict[str, Any]:
        """As Cloud, without ``fieldId``, and people named by their user *key*."""
        out = super().change_item(issue, item)
        out.pop("fieldId", None)
        if out["field"] in ("assignee", "reporter"):
            for side in ("from", "to"):
                if side in out:
                    out[side] = self.user_keys.get(out[side], out[side])
        return out

    def comment(
        self, issue: Issue, comment: Comment, version: str, with_properties: bool = False
    ) -> dict[str, Any]:
        out = super().comment(issue, comment, version, with_properties)
        del out["jsdPublic"]  # a Jira Service Management Cloud field
        return out

    def _field_key(self, field_id: str) -> dict[str, str]:
        return {}

    def comment_page(
        self,
        issue: Issue,
        comments: list[Comment],
        start_at: int,
        max_results: int,
        version: str,
        with_properties: bool = False,
    ) -> dict[str, Any]:
        out = super().comment_page(issue, comments, start_at, max_results, version, with_properties)
        del out["self"]  # Data Center's page of comments has no link of its own
        return out

    def issue_type(self, name: str) -> dict[str, Any]:
        out = super().issue_type(name)
        del out["hierarchyLevel"]  # a Cloud field
        return out

    def project(self, key: str) -> dict[str, Any]:
        out = super().project(key)
        del out["simplified"]  # a Cloud field (team-managed projects)
        return out
