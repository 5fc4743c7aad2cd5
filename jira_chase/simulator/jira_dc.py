"""The Jira Data Center 10.3 flavour: REST v2 only, ``/search`` paged by ``startAt``.

What differs from Cloud (and the choices where Jira leaves room; the tests pin them):

- ``serverInfo`` reports ``deploymentType: "Server"`` (Data Center does) and 10.3.4.
- Sign-in: a personal access token as ``Authorization: Bearer <PAT>``, or HTTP Basic with
  a username (the dataset user id; the email is accepted too) and password. With
  ``credentials`` (login -> password) and/or ``tokens`` (PAT -> user id) they are
  checked; without, any password of a known user is accepted, and a PAT signs in as the
  user it names (id or email), else as the dataset's ``bot``.
- Users are ``UserJsonBean``\\s: ``name`` (the dataset user id) and ``key``
  (``JIRAUSER<n>``), no ``accountId``; changelog items name people by key, as Jira does
  for users created since 8.x, and ``GET /user?key=`` or ``?username=`` resolves them.
- ``GET``/``POST /rest/api/2/search``: ``jql`` (may be empty: every issue), ``startAt``,
  ``maxResults`` (default 50, silently capped at ``max_results_cap``; the answer's
  ``maxResults`` says what was used), ``fields`` (default ``*navigable``), ``expand``
  (``changelog`` gives the *full* history), ``properties`` (GET only; POST rejects it as
  Jira does). Every page runs the query again, as Jira does, so writes between pages can
  shift them (results are cached until the data changes). ``search_window`` models the
  search platform's result window: ``startAt + maxResults`` beyond it is a 400.
  ``max_results_limit`` models a site (or a proxy in front of it) that refuses a larger
  page outright instead of capping it: a 400 "maxResults must be <= N".
- Comments are wiki-markup strings; ``GET issue?expand=changelog`` is the full history.
- Not on Data Center (404): REST v3, ``search/jql``, ``search/approximate-count``,
  ``changelog/bulkfetch``, ``issue/{key}/changelog``, ``bulk/...``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jira_chase.simulator.dataset import Dataset, User
from jira_chase.simulator.http import ApiError, Request, Response
from jira_chase.simulator.jira_common import Clock, JiraApi
from jira_chase.simulator.jira_json import JiraDcJson

DC_VERSION = "10.3.4"
SEARCH_DEFAULT_RESULTS = 50
SEARCH_MAX_RESULTS = 1000  # jira.search.views.default.max
_SEARCH_BODY_KEYS = frozenset({"jql", "startAt", "maxResults", "fields", "expand", "validateQuery"})
_VALIDATE_VALUES = frozenset({"true", "false", "strict", "warn", "none"})
_CACHE_KEPT = 16

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


class JiraDcApi(JiraApi):
    """The Jira Data Center endpoints over one dataset."""

    version_segment = "{version:2|latest}"
    cloud_filters = False
    issue_changelog_cap = None  # GET issue?expand=changelog returns every history

    def __init__(
        self,
        dataset: Dataset,
        clock: Clock,
        base_url: str,
        *,
        credentials: Mapping[str, str] | None = None,
        tokens: Mapping[str, str] | None = None,
        max_results_cap: int = SEARCH_MAX_RESULTS,
        search_window: int | None = None,
        max_results_limit: int | None = None,
    ) -> None:
        if max_results_cap < 1:
            raise ValueError(f"max_results_cap must be at least 1, got {max_results_cap}")
        for user_id in (tokens or {}).values():
            if user_id not in dataset.users:
                raise ValueError(f"a personal access token names {user_id!r}, not a user")
        self.tokens = dict(tokens) if tokens is not None else None
        self.max_results_cap = max_results_cap
        self.search_window = search_window
        self.max_results_limit = max_results_limit
        self._results: OrderedDict[tuple[Any, ...], list[str]] = OrderedDict()
        json_view = JiraDcJson(dataset, base_url)
        self.dc_json = json_view
        super().__init__(dataset, clock, json_view, credentials=credentials)

    def add_routes(self) -> None:
        super().add_routes()
        add = self.router.add
        base = f"/rest/api/{self.version_segment}"
        add("GET", f"{base}/search", self.search)
        add("POST", f"{base}/search", self.search)
        add("GET", f"{base}/user", self.get_user)

    def version(self, request: Request) -> str:
        return "2"

    # sign-in -------------------------------------------------------------------------

    def authenticate(self, request: Request) -> User:
        """A PAT as ``Bearer``, or HTTP Basic with a username (or email) and password."""
        header = request.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        failed = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
        user: User | None = None
        if scheme.lower() == "bearer" and value.strip():
            user = self._token_user(value.strip())
        elif scheme.lower() == "basic":
            found = self.basic_credentials(request)
            if found is not None:
                login, password = found
                user = self.dataset.users.get(login) or self.dataset.user_by_email(login)
                if user is not None:
                    logins = [user.id, *([user.email] if user.email else [])]
                    only_tokens = self.tokens is not None and self.credentials is None
                    if only_tokens or not self.secret_matches(logins, password):
                        user = None
        else:
            raise ApiError(401, [NOT_AUTHENTICATED])
        if user is None:
            raise ApiError(401, [NOT_AUTHENTICATED], headers=failed)
        return user

    def _token_user(self, token: str) -> User | None:
        if self.tokens is not None or self.credentials is not None:
            user_id = (self.tokens or {}).get(token)
            return self.dataset.users.get(user_id) if user_id is not None else None
        named = self.dataset.users.get(token) or self.dataset.user_by_email(token)
        if named is not None:
            return named
        return self.dataset.users.get(self.dataset.bot) if self.dataset.bot else None

    def extra_headers(self, user: User) -> dict[str, str]:
        return {"X-AUSERNAME": user.id}

    def rate_limit_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "20",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Interval-Seconds": "1",
            "X-RateLimit-FillRate": "10",
        }

    # server and users ------------------------------------------------------------------

    def server_info(self, request: Request, user: User) -> Response:
        body = self.server_info_body(DC_VERSION, "Server", 10030004, "2025-01-28T00:00:00.000+0000")
        return Response(200, body)

    def get_user(self, request: Request, user: User) -> Response:
        username, key = request.arg("username"), request.arg("key")
        if username:
            found = self.dataset.users.get(username)
            missing = f"The user named '{username}' does not exist"
        elif key:
            found = self.dataset.users.get(self.dc_json.users_by_key.get(key, ""))
            missing = f"The user with the key '{key}' does not exist"
        else:
            raise ApiError(
                404, ["Either the 'username' or the 'key' query parameters need to be provided"]
            )
        if found is None:
            raise ApiError(404, [missing])
        body = self.json.myself(found)
        del body["locale"]
        return Response(200, body)

    def assignee_id(self, value: dict[str, Any]) -> str | None:
        """The dataset user a ``fields.assignee`` names (Data Center: ``name`` or ``key``)."""
        name = value.get("name")
        if name is None and isinstance(value.get("key"), str):
            name = self.dc_json.users_by_key.get(value["key"])
        return name if isinstance(name, str) and name in self.dataset.users else None

    # search ------------------------------------------------------------------------------

    def _search_params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            # Jira reads the documented lowercase words only ("True" is refused).
            validate = request.arg("validateQuery") or "true"
            return {
                "jql": request.arg("jql", "") or "",
                "startAt": request.int_arg("startAt", 0),
                "maxResults": request.int_arg("maxResults", SEARCH_DEFAULT_RESULTS),
                "fields": request.query.get("fields"),
                "expand": request.list_arg("expand"),
                "properties": [key for key in request.list_arg("properties") if key],
                "validate": validate,
            }
        body = self._object_body(request)
        unknown = sorted(body.keys() - _SEARCH_BODY_KEYS)
        if unknown:
            raise ApiError(
                400,
                [
                    f'Unrecognized field "{unknown[0]}" (Class'
                    " com.atlassian.jira.rest.v2.search.SearchRequestBean), not marked as"
                    " ignorable"
                ],
            )
        for name in ("startAt", "maxResults"):
            if body.get(name) is not None and type(body[name]) is not int:
                raise ApiError(400, [f"'{name}' must be a number."])
        if body.get("jql") is not None and not isinstance(body["jql"], str):
            raise ApiError(400, ["'jql' must be a string."])
        fields = body.get("fields")
        if fields is not None and not (
            isinstance(fields, list) and all(isinstance(f, str) for f in fields)
        ):
            raise ApiError(400, ["'fields' must be an array of strings."])
        expand = body.get("expand") or []
        if isinstance(expand, str):
            expand = expand.split(",")
        if not isinstance(expand, list) or not all(isinstance(e, str) for e in expand):
            raise ApiError(400, ["'expand' must be an array of strings."])
        validate = body.get("validateQuery", True)
        return {
            "jql": body.get("jql") or "",
            "startAt": body.get("startAt") or 0,
            "maxResults": (
                SEARCH_DEFAULT_RESULTS if body.get("maxResults") is None else body["maxResults"]
            ),
            "fields": fields,
            "expand": [e.strip() for e in expand],
            "properties": [],
            "validate": str(validate).lower(),
        }

    def search(self, request: Request, user: User) -> Response:
        params = self._search_params(request)
        if params["validate"] not in _VALIDATE_VALUES:
            raise ApiError(400, [f"'{params['validate']}' is not a valid validateQuery value."])
        start_at = max(0, params["startAt"])
        max_results = params["maxResults"]
        if max_results < 0:
            raise ApiError(400, ["'maxResults' must not be negative."])
        if self.max_results_limit is not None and max_results > self.max_results_limit:
            raise ApiError(400, [f"maxResults must be <= {self.max_results_limit}"])
        max_results = min(max_results, self.max_results_cap)
        if self.search_window is not None and start_at + max_results > self.search_window:
            raise ApiError(
                400,
                [
                    "Result window is too large, from + size must be less than or equal to:"
                    f" [{self.search_window}] but was [{start_at + max_results}]."
                ],
            )
        selection = self.json.selection(params["fields"], "*navigable")
        keys = self._matching_keys(params["jql"], user)
        issues = self.dataset.issues
        with_changelog = "changelog" in params["expand"]
        page = keys[start_at : start_at + max_results]
        body = {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(keys),
            "issues": [
                self.json.issue(
                    issues[key],
                    selection,
                    "2",
                    changelog=with_changelog,
                    properties=params["properties"] or None,
                )
                for key in page
            ],
        }
        return Response(200, body)

    def _matching_keys(self, jql: str, user: User) -> list[str]:
        """The query's result now; cached until the data changes (or a minute passes,
        for relative dates)."""
        now: datetime = self.clock()
        cache_key = (jql, user.id, self.dataset.generation, now.replace(second=0, microsecond=0))
        keys = self._results.get(cache_key)
        if keys is None:
            prepared = self.prepare(jql, user, bounded=False)
            keys = [issue.key for issue in prepared.run(self.dataset)]
            self._results[cache_key] = keys
            while len(self._results) > _CACHE_KEPT:
                self._results.popitem(last=False)
        else:
            self._results.move_to_end(cache_key)
        return keys
