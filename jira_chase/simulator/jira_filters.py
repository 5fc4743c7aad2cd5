"""Saved filters, as Jira Cloud (``/rest/api/3/filter``, ``/filter/search``, ``/filter/my``)
and Data Center 10.3 (``/rest/api/2/filter``, ``/filter/favourite``) document them.

What the simulator refuses as Jira does: a filter without a name, a name the owner
already uses for another filter, JQL that does not parse, sharing with a project that
does not exist (or, in a share, a type it does not know), any share when the account may
not share filters (`may_share_filters`), and changing someone else's filter. New
filters are the owner's favourites unless ``favourite`` is false, so Data Center's
``/filter/favourite`` finds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jira_chase.simulator.dataset import User
from jira_chase.simulator.http import ApiError, Request, Response
from jira_chase.simulator.jql import JQLError, parse

SHARE_TYPES_CLOUD = ("global", "authenticated", "loggedin", "project")
SHARE_TYPES_DC = ("global", "authenticated", "loggedin", "project")


@dataclass
class SavedFilter:
    id: str
    name: str
    owner: str
    jql: str
    description: str = ""
    favourite: bool = True
    #: ("project", project key) or (type, "") for global / logged-in shares.
    shares: list[tuple[str, str]] = field(default_factory=list)


class FilterRoutes:
    """Mixin for the Jira API classes (needs ``dataset``, ``json``, ``router``,
    ``version_segment``)."""

    dataset: Any
    json: Any
    router: Any
    version_segment: str
    cloud_filters: bool
    #: False models an account without the global permission to share filters.
    may_share_filters = True

    def add_filter_routes(self) -> None:
        self.saved_filters: dict[str, SavedFilter] = {}
        self._next_filter = 10000
        add = self.router.add
        base = f"/rest/api/{self.version_segment}"
        if self.cloud_filters:
            add("GET", f"{base}/filter/search", self.search_filters)
            add("GET", f"{base}/filter/my", self.my_filters)
        else:
            add("GET", f"{base}/filter/favourite", self.favourite_filters)
        add("POST", f"{base}/filter", self.create_filter)
        add("GET", f"{base}/filter/{{id:[0-9]+}}", self.get_filter)
        add("PUT", f"{base}/filter/{{id:[0-9]+}}", self.update_filter)

    # answers ---------------------------------------------------------------------------

    def _filter_json(self, saved: SavedFilter, expand: set[str] | None = None) -> dict[str, Any]:
        api = self.json.api()
        base = self.json.base
        full = expand is None
        out: dict[str, Any] = {
            "self": f"{api}/filter/{saved.id}",
            "id": saved.id,
            "name": saved.name,
        }
        shown = expand or set()
        if full or "description" in shown:
            out["description"] = saved.description
        if full or "owner" in shown:
            out["owner"] = self.json.user(saved.owner)
        if full or "jql" in shown:
            out["jql"] = saved.jql
        if full or "viewUrl" in shown:
            out["viewUrl"] = (
                f"{base}/issues/?filter={saved.id}"
                if self.cloud_filters
                else f"{base}/secure/IssueNavigator.jspa?mode=hide&requestId={saved.id}"
            )
        if full or "searchUrl" in shown:
            out["searchUrl"] = f"{api}/search?jql={saved.jql}"
        if full or "favourite" in shown:
            out["favourite"] = saved.favourite
        if full or "sharePermissions" in shown:
            out["sharePermissions"] = [
                self._share_json(n, kind, key) for n, (kind, key) in enumerate(saved.shares)
            ]
        return out

    def _share_json(self, n: int, kind: str, key: str) -> dict[str, Any]:
        share: dict[str, Any] = {"id": 20000 + n, "type": kind}
        if kind == "project":
            share["project"] = self.json.project(key)
        if not self.cloud_filters:
            share.update(view=True, edit=False)
        return share

    # input -----------------------------------------------------------------------------

    def _project_key(self, project_id: str) -> str:
        for key, project in self.dataset.projects.items():
            if project.id == project_id:
                return key
        raise ApiError(400, [], {"sharePermissions": f"Project '{project_id}' does not exist."})

    def _shares(self, raw: Any) -> list[tuple[str, str]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ApiError(400, ["sharePermissions must be a list."])
        if raw and not self.may_share_filters:
            raise ApiError(
                400, [], {"sharePermissions": "You do not have permission to share. All shares "
                          "are invalid."}
            )  # fmt: skip
        shares = []
        allowed = SHARE_TYPES_CLOUD if self.cloud_filters else SHARE_TYPES_DC
        for item in raw:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in allowed:
                raise ApiError(
                    400, [], {"sharePermissions": f"Share type '{kind}' is not supported here."}
                )
            if kind == "project":
                if self.cloud_filters:
                    project = item.get("project")
                    project_id = str(project.get("id", "")) if isinstance(project, dict) else ""
                else:
                    project_id = str(item.get("projectId", ""))
                shares.append(("project", self._project_key(project_id)))
            else:
                shares.append(("loggedin" if kind == "authenticated" else kind, ""))
        return shares

    def _filter_input(self, request: Request, user: User, current: str | None) -> SavedFilter:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, ["The request body must be a filter."])
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, [], {"filterName": "You must specify a name for this filter."})
        for other in self.saved_filters.values():
            if (
                other.owner == user.id
                and other.id != current
                and other.name.casefold() == name.strip().casefold()
            ):
                raise ApiError(
                    400, [], {"filterName": f"Filter with same name already exists: {name}"}
                )
        jql = body.get("jql", "")
        if not isinstance(jql, str):
            raise ApiError(400, [], {"jql": "The JQL must be a string."})
        try:
            parse(jql)
        except JQLError as error:
            raise ApiError(400, [], {"jql": str(error)}) from None
        return SavedFilter(
            id=current or "",
            name=name.strip(),
            owner=user.id,
            jql=jql,
            description=str(body.get("description") or ""),
            favourite=bool(body.get("favourite", True)),
            shares=self._shares(body.get("sharePermissions")),
        )

    def _saved(self, request: Request, user: User) -> SavedFilter:
        saved = self.saved_filters.get(str(request.params["id"]))
        visible = saved is not None and (saved.owner == user.id or bool(saved.shares))
        if saved is None or not visible:
            raise ApiError(400, ["The selected filter is not available to you, perhaps it has "
                                 "been deleted or had its permissions changed."])  # fmt: skip
        return saved

    # routes ----------------------------------------------------------------------------

    def create_filter(self, request: Request, user: User) -> Response:
        saved = self._filter_input(request, user, None)
        self._next_filter += 1
        saved.id = str(self._next_filter)
        self.saved_filters[saved.id] = saved
        return Response(200, self._filter_json(saved))

    def get_filter(self, request: Request, user: User) -> Response:
        return Response(200, self._filter_json(self._saved(request, user)))

    def update_filter(self, request: Request, user: User) -> Response:
        saved = self._saved(request, user)
        if saved.owner != user.id:
            raise ApiError(400, ["You do not have permission to edit this filter."])
        body = request.json()
        updated = self._filter_input(request, user, saved.id)
        if isinstance(body, dict) and "sharePermissions" not in body:
            updated.shares = saved.shares  # left out: unchanged
        if isinstance(body, dict) and "favourite" not in body:
            updated.favourite = saved.favourite
        self.saved_filters[saved.id] = updated
        return Response(200, self._filter_json(updated))

    def search_filters(self, request: Request, user: User) -> Response:
        name = (request.arg("filterName") or "").casefold()
        substring = request.bool_arg("isSubstringMatch", False)
        owner = request.arg("accountId")
        expand = set(request.list_arg("expand"))
        start = request.int_arg("startAt", 0)
        size = request.int_arg("maxResults", 50)
        if start < 0 or size < 0:
            raise ApiError(400, ["startAt and maxResults must not be negative."])

        def matches(saved: SavedFilter) -> bool:
            if owner is not None and saved.owner != owner:
                return False
            if saved.owner != user.id and not saved.shares:
                return False
            text = saved.name.casefold()
            if substring:
                return name in text
            return all(word in text.split() for word in name.split())

        found = sorted((s for s in self.saved_filters.values() if matches(s)),
                       key=lambda s: (s.name.casefold(), int(s.id)))  # fmt: skip
        page = found[start : start + size]
        return Response(
            200,
            {
                "self": f"{self.json.api()}/filter/search?startAt={start}&maxResults={size}",
                "maxResults": size,
                "startAt": start,
                "total": len(found),
                "isLast": start + len(page) >= len(found),
                "values": [self._filter_json(s, expand) for s in page],
            },
        )

    def my_filters(self, request: Request, user: User) -> Response:
        mine = [s for s in self.saved_filters.values() if s.owner == user.id]
        return Response(200, [self._filter_json(s) for s in mine])

    def favourite_filters(self, request: Request, user: User) -> Response:
        mine = [s for s in self.saved_filters.values() if s.owner == user.id and s.favourite]
        return Response(200, [self._filter_json(s) for s in mine])
