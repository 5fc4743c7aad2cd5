"""The generated dataset (`generate`) as the tracker-neutral `Issue`s a source would
produce, built one record at a time, without a server: for benchmarks of the pure core
and for tests that need a large, varied scope."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from jira_chase.engine.model import Change, Comment, Issue, Link, Person
from jira_chase.simulator.generate import GENERATED_NOW, _Generator

#: Settings to judge the generated data with: all of it in scope, every rule family on,
#: a business calendar (the benchmarks' and the tests' that need a large scope).
GENERATED_SETTINGS: dict[str, Any] = {
    "tracker": "jira",
    "jira": {"url": "https://example.atlassian.net", "email": "bot@example.com", "token": "t",
             "scope": "project in (APP, OPS, WEB)"},
    "calendar": {"kind": "business"},
    "workflow": {
        "done": ["Done", "Closed"],
        "steps": [
            {"name": "build", "statuses": ["In Progress"], "limit_days": 5, "wip_limit": 40},
            {"name": "review", "statuses": ["Code Review"], "limit_days": 2, "required": True},
            {"name": "test", "statuses": ["In QA"], "limit_days": 3},
            {"name": "blocked", "statuses": ["Blocked"], "waiting": True},
        ],
    },
    "focus": {"wip_per_person": 5},
    "cooperation": {"blocked_days": 2},
    "metrics": {"aging": True},
}  # fmt: skip


def report_settings(projects: Iterable[str], url: str, state: str) -> dict[str, Any]:
    """Settings for the manager's report over generated data: the given projects in scope
    (each a team), the generated workflow, focus and cooperation of `GENERATED_SETTINGS`
    on calendar days, the state file at `state` (the report's benchmark, its browser test
    and the screenshots in docs/ all judge the same)."""
    settings = {key: value for key, value in GENERATED_SETTINGS.items() if key != "calendar"}
    return {
        **settings,
        "jira": {"url": url, "email": "bot@example.com", "token": "t",
                 "scope": f"project in ({', '.join(projects)})"},
        "state": {"path": state},
    }  # fmt: skip


def example_on_generated(example: str, url: str, state: str, token: str = "t") -> str:
    """The example configuration (the text of config.example.toml) pointed at a simulator
    serving generated data, its statuses mapped to the generated workflow: build = In
    Progress, review = Code Review (required), test = In QA, its waiting step Blocked, no
    cancelled status; its goal on generated fix versions; no write budget to speak of."""
    text = example.replace('url = "https://example.atlassian.net"', f'url = "{url}"', 1)
    text = text.replace('token = ""', f'token = "{token}"', 1)
    text = text.replace("chase-bot@example.com", "bot@example.com", 1)
    text = text.replace('cancelled = ["Cancelled"]', "cancelled = []")
    text = text.replace('statuses = ["Ready for Release"]', 'statuses = ["Blocked"]')
    text = text.replace('scope = "fixVersion = Beta"', 'scope = "fixVersion in (1.1, 1.2, 1.3)"')
    text = text.replace('path = "jira-chase.sqlite"', f'path = "{state}"')
    return text.replace("max_writes = 200", "max_writes = 100000")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def generated_issues(
    count: int, seed: int, status_changes: int | None = None
) -> tuple[list[Issue], datetime]:
    """The generated dataset as `Issue`s, built one record at a time (each with exactly
    `status_changes` status changes when given, else the generator's 5 to 30)."""
    if status_changes is None:
        generator = _Generator(count, seed, GENERATED_NOW)
    else:
        generator = _Generator(count, seed, GENERATED_NOW, (status_changes, status_changes))
    header = generator.header()
    people = {u["id"]: Person(u["id"], u["name"], u["email"]) for u in header["users"]}
    category = {s["name"]: s["category"] for s in header["statuses"]}
    status_of: dict[str, str] = {}
    issues = []
    for raw in generator.issues():
        history = tuple(
            Change(_time(c["at"]), c["field"], c.get("from"), c.get("to"), c.get("by"))
            for c in raw["history"]
        )
        links = []
        for link in raw.get("links", ()):
            other = status_of.get(link["key"])
            links.append(
                Link(
                    type=link["type"],
                    direction=link["direction"],
                    key=link["key"],
                    project=link["key"].rsplit("-", 1)[0],
                    status=other,
                    status_category=category.get(other) if other else None,
                    since=_time(link["since"]) if "since" in link else None,
                )
            )
        created = _time(raw["created"])
        updated = max([created, *(c.at for c in history)])
        issues.append(
            Issue(
                key=raw["key"],
                project=raw["project"],
                type=raw["type"],
                summary=raw["summary"],
                status=raw["status"],
                created=created,
                updated=updated,
                priority=raw.get("priority"),
                assignee=people.get(raw.get("assignee") or ""),
                reporter=people.get(raw["reporter"]),
                labels=tuple(raw.get("labels", ())),
                duedate=date.fromisoformat(raw["duedate"]) if "duedate" in raw else None,
                fix_versions=tuple(raw.get("fixVersions", ())),
                parent=raw.get("parent"),
                estimate=float(raw["estimate"]) if "estimate" in raw else None,
                flagged=bool(raw.get("flagged")),
                history=history,
                links=tuple(links),
                comments=tuple(Comment(_time(c["at"]), c["by"]) for c in raw.get("comments", ())),
            )
        )
        status_of[raw["key"]] = raw["status"]
    return issues, _time(GENERATED_NOW)
