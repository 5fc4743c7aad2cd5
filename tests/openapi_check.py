"""Check recorded HTTP exchanges against Atlassian's Jira OpenAPI documents.

The simulator's answers must be ones real Jira could give, so every response a test
provokes is validated against Atlassian's documents in ``specs/`` (byte for byte; see
``specs/PROVENANCE.md``): ``jira-cloud-platform-swagger-v3.v3.json`` for the Cloud
flavour (:class:`CloudSpec`, :func:`load_cloud_spec`) and
``jira-software-dc-10003-swagger.v3.json`` for Data Center 10.3 (:class:`DcSpec`,
:func:`load_dc_spec`). Each is loaded once per process. Injected faults that replace
Jira's answer (429s, 5xx, resets) are skipped; every real answer is checked, also one
that a fault delivered late or cut (the server records it whole).

The spec alone is loose: almost no schema lists ``required`` properties, issue ``fields``
are a free-form map, and error statuses have no bodies. On top of it we apply house rules
(:func:`tighten`), so a missing field or a wrong type fails a test:

- ``required`` lists on the schemas our clients read (issue, changelog, comment, user...);
- issue ``fields`` typed per field (``status`` is a ``StatusDetails``, ``labels`` an array
  of strings without spaces, ``assignee`` a ``UserDetails`` or null, ...), and no field the
  simulator does not declare;
- ``issuelinks`` entries carry exactly one of ``inwardIssue``/``outwardIssue`` (the spec's
  ``IssueLink`` requires both, which real issue answers never have);
- ``date-time`` is Jira's own format ``2026-10-01T09:00:00.000+0000``, which real Jira
  sends and the spec's RFC 3339 reading would reject;
- every error answer (4xx/5xx) is an ``ErrorCollection`` with ``errorMessages`` and
  ``errors``: the spec gives no schema for most error statuses (400, 401, 404 of the
  operations we serve; 405 and 410 are not listed at all), so this is our rule, not the
  spec's.

Paths under ``/rest/api/2`` are checked against their ``/rest/api/3`` twins: the Cloud
document lists only v3, and v2 differs in comment bodies, which the spec leaves untyped.

The Data Center document's server URL is ``/rest``, so its paths are relative to it
(``/api/2/search`` is ``/rest/api/2/search``; ``/rest/api/latest`` is ``/api/2``). It is
looser still, and wrong in places; its house rules (:func:`tighten_dc`):

- the same ``required`` lists, Jira time format, error shape and per-field issue schemas
  as for Cloud, with Data Center's beans (``UserJsonBean``, ``StatusJsonBean``...);
- user beans, comments and changelog items allow no other properties, so a Cloud-ism
  (an ``accountId``, a changelog ``fieldId``, an ADF comment body) fails;
- ``EntityPropertyBean.value`` is any JSON (the spec says string; Jira returns the JSON
  that was stored); ``ServerInfoBean`` gets the properties Jira sends (the spec has
  none); ``GET /api/2/field``, ``/api/2/status``, ``/api/2/resolution`` and
  ``/api/2/filter/favourite`` answer an array of their beans (the spec says one).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from jira_chase.simulator.faults import REAL_ANSWER

SPEC_ENV = "JIRA_CHASE_CLOUD_SPEC"
SPEC_NAME = "jira-cloud-platform-swagger-v3.v3.json"
DC_SPEC_ENV = "JIRA_CHASE_DC_SPEC"
DC_SPEC_NAME = "jira-software-dc-10003-swagger.v3.json"
_BASE = "urn:jira-spec"


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as ``JiraSimulator(on_exchange=...)`` reports it."""

    method: str
    path: str
    query: dict[str, list[str]]
    request_json: Any
    status: int
    response_headers: dict[str, str]
    response_json: Any
    fault: str | None = None  # the injected fault kind: not an answer of Jira's

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


def spec_path(name: str = SPEC_NAME, env: str = SPEC_ENV) -> Path:
    """Where a spec is: ``$<env>``, else the repository's ``specs/``."""
    if os.environ.get(env):
        return Path(os.environ[env])
    repo = Path(__file__).resolve().parents[1]
    candidate = repo / "specs" / name
    if candidate.exists():
        return candidate
    raise FileNotFoundError(
        f"the Jira OpenAPI document {name} is not in specs/; set {env} to its path"
    )


@lru_cache(maxsize=1)
def load_cloud_spec() -> CloudSpec:
    """The tightened Cloud spec, loaded once per process."""
    with spec_path().open("rb") as handle:
        return CloudSpec(json.load(handle))


@lru_cache(maxsize=1)
def load_dc_spec() -> DcSpec:
    """The tightened Data Center 10.3 spec, loaded once per process."""
    with spec_path(DC_SPEC_NAME, DC_SPEC_ENV).open("rb") as handle:
        return DcSpec(json.load(handle))


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    # OpenAPI 3.0's "nullable" does not reach through $ref; spell the null out.
    return {"anyOf": [schema, {"enum": [None]}]}


#: A changelog item's values: always present, null where empty (Jira sends the nulls;
#: the specs type them as plain strings).
_CHANGE_VALUES = ("from", "fromString", "to", "toString")

_REQUIRED = {
    "SearchAndReconcileResults": ["issues", "isLast"],
    "IssueBean": ["id"],
    "PageOfChangelogs": ["startAt", "maxResults", "total", "histories"],
    "PageBeanChangelog": ["startAt", "maxResults", "total", "isLast", "values"],
    "Changelog": ["id", "created", "items"],
    "ChangeDetails": ["field", "fieldtype", *_CHANGE_VALUES],
    "UserDetails": ["accountId", "accountType", "active", "displayName"],
    "User": ["accountId", "accountType", "active", "displayName", "self"],
    "BulkChangelogResponseBean": ["issueChangeLogs"],
    "IssueChangeLog": ["issueId", "changeHistories"],
    "PageOfComments": ["startAt", "maxResults", "total", "comments"],
    "Comment": ["id", "self", "author", "body", "created", "updated"],
    "EntityProperty": ["key", "value"],
    "ServerInformation": [
        "baseUrl",
        "version",
        "versionNumbers",
        "deploymentType",
        "buildNumber",
        "serverTime",
        "serverTitle",
    ],
    "FieldDetails": ["id", "name", "custom", "navigable", "orderable", "searchable", "clauseNames"],
    "StatusDetails": ["id", "name", "self", "statusCategory"],
    "StatusCategory": ["id", "key", "name", "colorName"],
    "IssueTypeDetails": ["id", "name", "subtask"],
    "Priority": ["id", "name"],
    "Version": ["id", "name"],
    "ProjectDetails": ["id", "key", "name"],
    "LinkedIssue": ["id", "key", "fields"],
    "Fields": ["summary", "status", "issuetype"],
    "JQLCountResultsBean": ["count"],
    "ErrorCollection": ["errorMessages", "errors"],
    "SubmittedBulkOperation": ["taskId"],
    "BulkOperationProgress": ["taskId", "status", "progressPercent", "submittedBy", "created"],
    "BulkOperationErrorResponse": ["errors"],
    "PropertyKeys": ["keys"],
}

_FLAGGED_OPTIONS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "self": {"type": "string"},
            "value": {"type": "string"},
            "id": {"type": "string"},
        },
        "required": ["value", "id"],
        "additionalProperties": False,
    },
}

# The issue fields the simulator serves, each with the schema its value must meet.
FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "summary": {"type": "string"},
    "status": _ref("StatusDetails"),
    "issuetype": _ref("IssueTypeDetails"),
    "priority": _or_null(_ref("Priority")),
    "assignee": _or_null(_ref("UserDetails")),
    "reporter": _or_null(_ref("UserDetails")),
    "labels": {"type": "array", "items": {"type": "string", "pattern": r"^\S+$"}},
    "created": {"type": "string", "format": "date-time"},
    "updated": {"type": "string", "format": "date-time"},
    "duedate": _or_null({"type": "string", "format": "date"}),
    "fixVersions": {"type": "array", "items": _ref("Version")},
    "components": {"type": "array", "items": _ref("ProjectComponent")},
    "parent": _or_null(_ref("LinkedIssue")),
    "issuelinks": {"type": "array", "items": _ref("IssueLinkInIssue")},
    "project": _ref("ProjectDetails"),
    "resolution": _or_null(_ref("Resolution")),
    "resolutiondate": _or_null({"type": "string", "format": "date-time"}),
    "comment": _ref("PageOfComments"),
    "customfield_10016": _or_null({"type": "number"}),
    "customfield_10021": _or_null(_FLAGGED_OPTIONS),
}


def _nullable_change_values(schema: dict[str, Any]) -> None:
    for name in _CHANGE_VALUES:
        schema["properties"][name] = _or_null({"type": "string"})


def tighten(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the Cloud spec with the house rules of the module docstring applied."""
    spec = copy.deepcopy(document)
    schemas = spec["components"]["schemas"]
    for name, required in _REQUIRED.items():
        schemas[name]["required"] = sorted(set(schemas[name].get("required", [])) | set(required))
    _nullable_change_values(schemas["ChangeDetails"])
    bean = schemas["IssueBean"]
    bean["properties"]["fields"] = {
        "type": "object",
        "properties": FIELD_SCHEMAS,
        "additionalProperties": False,
    }
    # An answer with more than the id also names the issue (OpenAPI 3.0 has no
    # "dependencies" keyword, hence the anyOf).
    bean["anyOf"] = [
        {"not": {"anyOf": [{"required": ["fields"]}, {"required": ["key"]}]}},
        {"required": ["key", "self"]},
    ]
    in_issue = copy.deepcopy(schemas["IssueLink"])
    in_issue["required"] = ["id", "type"]
    in_issue["oneOf"] = [{"required": ["inwardIssue"]}, {"required": ["outwardIssue"]}]
    schemas["IssueLinkInIssue"] = in_issue
    return spec


_DC_REQUIRED = {
    "SearchResultsBean": ["startAt", "maxResults", "total", "issues"],
    "IssueBean": ["id"],
    "ChangelogBean": ["startAt", "maxResults", "total", "histories"],
    "ChangeHistoryBean": ["id", "created", "items"],
    "ChangeItemBean": ["field", "fieldtype", *_CHANGE_VALUES],
    "UserJsonBean": ["name", "key", "displayName", "active", "self"],
    "UserBean": ["name", "key", "displayName", "active", "self"],
    "CommentJsonBean": ["id", "self", "author", "body", "created", "updated"],
    "CommentsWithPaginationJsonBean": ["startAt", "maxResults", "total", "comments"],
    "EntityPropertyBean": ["key", "value"],
    "EntityPropertiesKeysBean": ["keys"],
    "FieldBean": ["id", "name", "custom", "navigable", "orderable", "searchable", "clauseNames"],
    "StatusJsonBean": ["id", "name", "self", "statusCategory"],
    "StatusCategoryJsonBean": ["id", "key", "name", "colorName"],
    "IssueTypeJsonBean": ["id", "name", "subtask"],
    "PriorityJsonBean": ["id", "name"],
    "VersionBean": ["id", "name"],
    "ProjectJsonBean": ["id", "key", "name"],
    "IssueRefJsonBean": ["id", "key", "fields"],
    "Fields": ["summary", "status", "issuetype"],
    "ErrorCollection": ["errorMessages", "errors"],
}

# Beans where a property Data Center does not have is a Cloud-ism that must fail a test.
_DC_CLOSED = ("UserJsonBean", "UserBean", "ChangeItemBean", "CommentJsonBean")

DC_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "summary": {"type": "string"},
    "status": _ref("StatusJsonBean"),
    "issuetype": _ref("IssueTypeJsonBean"),
    "priority": _or_null(_ref("PriorityJsonBean")),
    "assignee": _or_null(_ref("UserJsonBean")),
    "reporter": _or_null(_ref("UserJsonBean")),
    "labels": {"type": "array", "items": {"type": "string", "pattern": r"^\S+$"}},
    "created": {"type": "string", "format": "date-time"},
    "updated": {"type": "string", "format": "date-time"},
    "duedate": _or_null({"type": "string", "format": "date"}),
    "fixVersions": {"type": "array", "items": _ref("VersionBean")},
    "components": {"type": "array", "items": _ref("ComponentBean")},
    "parent": _or_null(_ref("IssueRefJsonBean")),
    "issuelinks": {"type": "array", "items": _ref("IssueLinkInIssue")},
    "project": _ref("ProjectJsonBean"),
    "resolution": _or_null(_ref("ResolutionJsonBean")),
    "resolutiondate": _or_null({"type": "string", "format": "date-time"}),
    "comment": _ref("CommentsWithPaginationJsonBean"),
    "customfield_10106": _or_null({"type": "number"}),
    "customfield_10000": _or_null(_FLAGGED_OPTIONS),
}

_DC_SERVER_INFO = {
    "type": "object",
    "properties": {
        "baseUrl": {"type": "string"},
        "displayUrl": {"type": "string"},
        "version": {"type": "string"},
        "versionNumbers": {"type": "array", "items": {"type": "integer"}},
        "deploymentType": {"type": "string", "enum": ["Server"]},
        "buildNumber": {"type": "integer"},
        "buildDate": {"type": "string", "format": "date-time"},
        "serverTime": {"type": "string", "format": "date-time"},
        "scmInfo": {"type": "string"},
        "serverTitle": {"type": "string"},
    },
    "required": [
        "baseUrl",
        "version",
        "versionNumbers",
        "deploymentType",
        "buildNumber",
        "serverTime",
        "serverTitle",
    ],
}


def tighten_dc(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the Data Center spec with the house rules of the module docstring applied."""
    spec = copy.deepcopy(document)
    schemas = spec["components"]["schemas"]
    for name, required in _DC_REQUIRED.items():
        schemas[name]["required"] = sorted(set(schemas[name].get("required", [])) | set(required))
    for name in _DC_CLOSED:
        schemas[name]["additionalProperties"] = False
    schemas["EntityPropertyBean"]["properties"]["value"] = {}
    schemas["ServerInfoBean"] = _DC_SERVER_INFO
    _nullable_change_values(schemas["ChangeItemBean"])
    bean = schemas["IssueBean"]
    bean["properties"]["fields"] = {
        "type": "object",
        "properties": DC_FIELD_SCHEMAS,
        "additionalProperties": False,
    }
    bean["anyOf"] = [
        {"not": {"anyOf": [{"required": ["fields"]}, {"required": ["key"]}]}},
        {"required": ["key", "self"]},
    ]
    in_issue = copy.deepcopy(schemas["issueLinks"])
    in_issue["required"] = ["id", "type"]
    in_issue["oneOf"] = [{"required": ["inwardIssue"]}, {"required": ["outwardIssue"]}]
    schemas["IssueLinkInIssue"] = in_issue
    for path, bean in (
        ("/api/2/field", "FieldBean"),
        ("/api/2/status", "StatusJsonBean"),
        ("/api/2/resolution", "ResolutionJsonBean"),
        ("/api/2/filter/favourite", "FilterBean"),
    ):
        answer = spec["paths"][path]["get"]["responses"]["200"]["content"]
        answer["application/json"]["schema"] = {"type": "array", "items": _ref(bean)}
    return spec


_JIRA_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def jira_time(value: object) -> bool:
        return not isinstance(value, str) or bool(_JIRA_TIME.match(value))

    @checker.checks("date")
    def plain_date(value: object) -> bool:
        return not isinstance(value, str) or bool(_DATE.match(value))

    @checker.checks("int32")
    def int32(value: object) -> bool:
        return not isinstance(value, int) or -(2**31) <= value < 2**31

    @checker.checks("int64")
    def int64(value: object) -> bool:
        return not isinstance(value, int) or -(2**63) <= value < 2**63

    @checker.checks("uri")
    def uri(value: object) -> bool:
        return not isinstance(value, str) or value.startswith(("http://", "https://"))

    return checker


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


class ApiSpec:
    """A (tightened) Jira OpenAPI document, ready to validate exchanges."""

    name = "Jira"

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = self.tighten(document)
        resource = Resource.from_contents(self.document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(_BASE, resource)
        self._checker = _format_checker()
        self._validators: dict[tuple[str, bool], Any] = {}
        self._templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in self.document["paths"]
        ]
        # Literal segments beat variables: /issue/{key}/comment before /issue/{a}/{b}.
        self._templates.sort(key=lambda pair: pair[1].count("{"))

    @staticmethod
    def tighten(document: dict[str, Any]) -> dict[str, Any]:
        return document

    def spec_path_of(self, path: str) -> str | None:
        """The document's path for a request path (None: outside the document)."""
        return path

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The path template and operation serving ``method path``."""
        mapped = self.spec_path_of(path)
        if mapped is None:
            return None
        for pattern, template in self._templates:
            if pattern.match(mapped):
                operation = self.document["paths"][template].get(method.lower())
                if operation is not None:
                    return template, operation
        return None

    def _validator(self, pointer: str, for_request: bool = False) -> Any:
        key = (pointer, for_request)
        if key not in self._validators:
            validator_class = OAS30WriteValidator if for_request else OAS30ReadValidator
            self._validators[key] = validator_class(
                {"$ref": f"{_BASE}#/{pointer}"},
                registry=self._registry,
                format_checker=self._checker,
            )
        return self._validators[key]

    def _errors(self, pointer: str, instance: Any, for_request: bool = False) -> list[str]:
        validator = self._validator(pointer, for_request)
        found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [
            f"at {'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"[:400]
            for error in found[:5]
        ]

    def problems(self, exchange: Exchange, *, check_request: bool = False) -> list[str]:
        """What is wrong with ``exchange`` against the spec (empty when it is valid)."""
        status, body = exchange.status, exchange.response_json
        error_collection = _pointer("components", "schemas", "ErrorCollection")
        found = self.operation(exchange.method, exchange.path)
        if found is None:
            if status < 400:
                return [
                    f"{exchange.method} {exchange.path} is not an operation of the {self.name} spec"
                ]
            return self._errors(error_collection, body)
        template, operation = found
        problems = []
        if check_request and exchange.request_json is not None:
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                parts = (exchange.method.lower(), "requestBody", "content", "application/json")
                pointer = _pointer("paths", template, *parts, "schema")
                problems += [
                    f"request {p}" for p in self._errors(pointer, exchange.request_json, True)
                ]
        response = operation["responses"].get(str(status))
        if response is None and status < 400:
            return problems + [f"status {status} is not a documented answer of {template}"]
        schema = ((response or {}).get("content") or {}).get("application/json", {}).get("schema")
        if status >= 400 and not schema:
            return problems + self._errors(error_collection, body)
        if schema is None or schema == {}:
            if body is not None and status == 204:
                problems.append("a 204 answer has a body")
            return problems
        if body is None:
            return problems + ["the answer has no JSON body"]
        parts = (exchange.method.lower(), "responses", str(status), "content", "application/json")
        pointer = _pointer("paths", template, *parts, "schema")
        return problems + self._errors(pointer, body)


class CloudSpec(ApiSpec):
    """The Jira Cloud platform document with the house rules of :func:`tighten`."""

    name = "Cloud"

    @staticmethod
    def tighten(document: dict[str, Any]) -> dict[str, Any]:
        return tighten(document)

    def spec_path_of(self, path: str) -> str | None:
        return re.sub(r"^/rest/api/2/", "/rest/api/3/", path)


class DcSpec(ApiSpec):
    """The Jira Data Center 10.3 document with the house rules of :func:`tighten_dc`."""

    name = "Data Center"

    @staticmethod
    def tighten(document: dict[str, Any]) -> dict[str, Any]:
        return tighten_dc(document)

    def spec_path_of(self, path: str) -> str | None:
        if not path.startswith("/rest/"):
            return None
        return re.sub(r"^/api/latest/", "/api/2/", path[len("/rest") :])


def validate_exchanges(
    exchanges: Iterable[Exchange],
    *,
    spec: ApiSpec | None = None,
    check_requests: bool = False,
    allow_server_errors: bool = False,
) -> None:
    """Raise AssertionError listing every exchange that the spec (default: Cloud) rejects.

    Injected faults are skipped. A 5xx answer is a problem too unless
    ``allow_server_errors`` (a simulator error is a bug, not a Jira answer).
    ``check_requests`` also validates request bodies, for tests of our own client (the
    ``jira`` library sends nulls the spec does not allow).
    """
    spec = spec or load_cloud_spec()
    report = []
    for exchange in exchanges:
        if exchange.fault is not None and exchange.fault not in REAL_ANSWER:
            continue
        problems = spec.problems(exchange, check_request=check_requests)
        if exchange.status >= 500 and not allow_server_errors:
            problems.insert(0, f"server error: {exchange.response_json}")
        report.extend(f"{exchange}: {problem}" for problem in problems)
    if report:
        raise AssertionError(
            f"answers that Jira {spec.name}'s OpenAPI document rejects:\n  " + "\n  ".join(report)
        )
