"""`jira-chase filters`: Jira saved filters for the labels jira-chase writes.

One filter per health ("<prefix> off track", "<prefix> at risk") and one per issue rule
family that runs, each the configured scope narrowed to the label, shared with the
scope's projects where Jira lets the bot share. Found again by name and owner (Cloud:
`filter/search`; Data Center: the bot's favourite filters, which new filters are), so a
rerun changes only what differs. ZenTao has no saved filters: the command says so and
prints the equivalent searches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jira import JIRAError

from jira_chase.config.settings import ISSUE_FAMILIES, Settings
from jira_chase.engine.model import Health
from jira_chase.errors import TrackerError
from jira_chase.jql import without_order_by
from jira_chase.sources.jira import JiraSource
from jira_chase.sources.jira.reading import jql_string

DESCRIPTION = "Kept by jira-chase: the issues of its scope that carry the label {label}."


@dataclass(frozen=True)
class Wanted:
    name: str
    label: str
    jql: str
    description: str


@dataclass
class FilterResult:
    name: str
    action: str  # created | updated | unchanged
    id: str
    url: str
    shared_with: list[str] = field(default_factory=list)
    note: str | None = None

    def describe(self) -> str:
        shared = f"shared with {', '.join(self.shared_with)}" if self.shared_with else "not shared"
        note = f"; {self.note}" if self.note else ""
        return f"{self.action:<9} {self.name}: {self.url} ({shared}{note})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "id": self.id,
            "url": self.url,
            "shared_with": self.shared_with,
            "note": self.note,
        }


def filter_base(settings: Settings) -> str:
    """The name every filter starts with: the label prefix without its separator."""
    prefix = settings.writeback.label_prefix
    return prefix.rstrip("-_:.") or prefix


def wanted_labels(settings: Settings) -> list[tuple[str, str]]:
    """(filter name, label) for the healths and every issue family that runs."""
    prefix = settings.writeback.label_prefix
    base = filter_base(settings)
    out = [
        (f"{base} {health.value.replace('-', ' ')}", prefix + health.value)
        for health in (Health.OFF_TRACK, Health.AT_RISK)
    ]
    out += [
        (f"{base} {family}", prefix + family)
        for family in ISSUE_FAMILIES
        if family not in settings.rules.disabled
    ]
    return out


def wanted_filters(settings: Settings) -> list[Wanted]:
    assert settings.jira is not None
    scope = without_order_by(settings.jira.scope)
    return [
        Wanted(
            name,
            label,
            f"({scope}) AND labels = {jql_string(label)} ORDER BY updated DESC",
            DESCRIPTION.format(label=label),
        )
        for name, label in wanted_labels(settings)
    ]


def _owner_id(raw: dict[str, Any]) -> str:
    owner = raw.get("owner") or {}
    return str(owner.get("accountId") or owner.get("name") or "")


def _shared_ids(raw: dict[str, Any]) -> set[str]:
    return {
        str((share.get("project") or {}).get("id"))
        for share in raw.get("sharePermissions") or []
        if share.get("type") == "project"
    }


class FilterKeeper:
    def __init__(self, source: JiraSource, settings: Settings):
        self.source = source
        self.settings = settings
        self.cloud = source.cloud
        self.bot = source.bot_id()

    def existing(self, name: str) -> dict[str, Any] | None:
        """The bot's own filter called `name` (case-insensitively), with its details."""
        if self.cloud:
            start = 0
            while True:
                page = self._read(
                    "filter/search", f"looking for the filter {name!r}",
                    params={"filterName": name, "accountId": self.bot, "isSubstringMatch":
                            "true", "expand": "description,jql,owner,sharePermissions,viewUrl",
                            "startAt": start, "maxResults": 100},
                )  # fmt: skip
                values = page.get("values") or []
                for raw in values:
                    same = str(raw.get("name", "")).casefold() == name.casefold()
                    if same and _owner_id(raw) == self.bot:
                        return dict(raw)
                start += len(values)
                if page.get("isLast", True) or not values:
                    return None
        favourites = self._read("filter/favourite", "listing the bot's favourite filters")
        for raw in favourites or []:
            if str(raw.get("name", "")).casefold() == name.casefold() and (
                _owner_id(raw) == self.bot
            ):
                return dict(raw)
        return None

    def _read(self, path: str, doing: str, params: dict[str, Any] | None = None) -> Any:
        """A GET whose refusal (a 4xx, also a 429 left after the retries) fails the run
        in one line, as any tracker failure does."""
        try:
            return self.source.request_json("GET", path, doing, params=params)
        except JIRAError as exc:
            raise TrackerError(
                f"Jira answered HTTP {exc.status_code} while {doing}: {self.source.error_text(exc)}"
            ) from None

    def _shares(self, projects: dict[str, str]) -> list[dict[str, Any]]:
        if self.cloud:
            return [{"type": "project", "project": {"id": pid}} for pid in projects.values()]
        return [{"type": "project", "projectId": pid} for pid in projects.values()]

    def _write(
        self, wanted: Wanted, filter_id: str | None, projects: dict[str, str]
    ) -> tuple[dict[str, Any], str | None]:
        """Create or update the filter, shared with `projects`; when Jira refuses the
        sharing, again without it (the answer, and why it is not shared)."""
        body: dict[str, Any] = {
            "name": wanted.name,
            "jql": wanted.jql,
            "description": wanted.description,
            "sharePermissions": self._shares(projects),
        }
        if filter_id is None:
            body["favourite"] = True
        method, path = ("PUT", f"filter/{filter_id}") if filter_id else ("POST", "filter")
        doing = f"saving the filter {wanted.name!r}"
        try:
            return self.source.request_json(method, path, doing, body=body), None
        except JIRAError as exc:
            text = self.source.error_text(exc)
            if filter_id is None and "same name" in text:
                raise TrackerError(
                    f"HTTP {exc.status_code}: the bot already owns a filter named "
                    f"{wanted.name!r} that Jira does not list among its favourites: mark it "
                    "as a favourite of the bot's account or delete it, then run again"
                ) from None
            if not projects or "share" not in text.casefold():
                raise TrackerError(
                    f"HTTP {exc.status_code} saving the filter {wanted.name!r}: {text}"
                ) from None
            body["sharePermissions"] = []
            try:
                answer = self.source.request_json(method, path, doing, body=body)
            except JIRAError as again:
                raise TrackerError(
                    f"HTTP {again.status_code} saving the filter {wanted.name!r}: "
                    f"{self.source.error_text(again)}"
                ) from None
            return answer, f"Jira refused sharing it: {text}"

    def keep(self) -> list[FilterResult]:
        projects = self.source.scope_project_ids()
        base_url = self.settings.jira.url.rstrip("/") if self.settings.jira else ""
        results = []
        for wanted in wanted_filters(self.settings):
            found = self.existing(wanted.name)
            note = None
            if (
                found is not None
                and found.get("jql") == wanted.jql
                and (found.get("description") or "") == wanted.description
                and _shared_ids(found) == set(projects.values())
            ):
                answer, action = found, "unchanged"
            else:
                answer, note = self._write(wanted, found["id"] if found else None, projects)
                action = "updated" if found else "created"
            shared = sorted(k for k, pid in projects.items() if pid in _shared_ids(answer))
            filter_id = str(answer.get("id"))
            url = answer.get("viewUrl") or f"{base_url}/issues/?filter={filter_id}"
            results.append(FilterResult(wanted.name, action, filter_id, str(url), shared, note))
        return results


def keep_filters(settings: Settings) -> list[FilterResult]:
    """Create or update the saved filters in Jira; one result per filter."""
    assert settings.jira is not None
    source = JiraSource(settings.jira)
    source.identify()
    return FilterKeeper(source, settings).keep()


def zentao_searches(settings: Settings) -> list[str]:
    """What to search in ZenTao instead, one line per filter."""
    assert settings.zentao is not None
    products = ", ".join(str(p) for p in settings.zentao.products) or "none"
    lines = [
        "ZenTao has no saved filters. The equivalent searches (Story or Bug list > Search, "
        f"in products {products}): field Keywords, operator include, the value below. Tasks "
        "have no keywords: their findings are in the managed comment only.",
    ]
    lines += [f"  {name}: Keywords include {label}" for name, label in wanted_labels(settings)]
    return lines
