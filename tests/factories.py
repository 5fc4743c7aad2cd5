"""Small builders for domain objects and settings used by the pure-core tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from jira_chase.config.file import load_settings
from jira_chase.config.settings import Settings
from jira_chase.engine.model import Change, Issue, Link, Person

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)  # a Monday

ANN = Person("u-ann", "Ann Lee", "ann@example.com")
BOB = Person("u-bob", "Bob Stone", "bob@example.com")


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def make_issue(
    key: str = "APP-1",
    *,
    path: list[tuple[float, str]] | None = None,
    initial: str = "To Do",
    created: float = 0.0,
    assignee: Person | None = ANN,
    labels: tuple[str, ...] = (),
    links: tuple[Link, ...] = (),
    flagged: bool = False,
    extra_history: tuple[Change, ...] = (),
) -> Issue:
    """An issue created at T0 + `created` days that moved through `path`
    (a list of (days after T0, new status))."""
    history = []
    status = initial
    for days, new in path or []:
        history.append(Change(at(days), "status", status, new, by=ANN.id))
        status = new
    history.extend(extra_history)
    history.sort(key=lambda c: c.at)
    return Issue(
        key=key,
        project=key.rsplit("-", 1)[0],
        type="Story",
        summary=f"Summary of {key}",
        status=status,
        created=at(created),
        updated=max([at(created)] + [c.at for c in history]),
        priority="Medium",
        assignee=assignee,
        labels=labels,
        flagged=flagged,
        history=tuple(history),
        links=links,
    )


BASE_CONFIG: dict[str, Any] = {
    "tracker": "jira",
    "jira": {"url": "http://jira.invalid", "email": "bot@example.com", "scope": "project = APP"},
    "calendar": {"kind": "calendar", "timezone": "UTC"},
    "workflow": {
        "done": ["Done"],
        "steps": [
            {"name": "build", "statuses": ["In Progress"], "limit_days": 5, "wip_limit": 3},
            {
                "name": "review",
                "statuses": ["Code Review", "Review"],
                "limit_days": 2,
                "required": True,
            },
            {"name": "test", "statuses": ["In QA"], "limit_days": 3},
        ],
    },
    "focus": {"wip_per_person": 3},
    "cooperation": {"blocked_days": 2},
}


def make_settings(**overrides: Any) -> Settings:
    """BASE_CONFIG with top-level sections replaced or merged by `overrides`."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE_CONFIG.items()}
    for section, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(section), dict):
            data[section] = {**data[section], **value}
        else:
            data[section] = value
    return load_settings(data=data)


def demo_flagged() -> dict[str, frozenset[str]]:
    """The demo's planted issues that carry findings (labels, comment): key -> the
    families of those findings (see `simulator.demo.on_the_issue`)."""
    from jira_chase.simulator.demo import DEMO_PLANTED, on_the_issue

    carried = {key: on_the_issue(families) for key, families in DEMO_PLANTED.items()}
    return {key: families for key, families in carried.items() if families}


def demo_config(url: str, state: str, **overrides: Any) -> dict[str, Any]:
    """The demo configuration pointed at a simulator, with sections merged from
    `overrides` (e.g. jira={"scope": ...}). Without the baseline (`writeback.baseline =
    false`, unless `writeback` says otherwise): every unhealthy issue gets its comment
    on the first sync, as these tests of the write path expect."""
    from importlib import resources

    import tomllib

    text = resources.files("jira_chase.cli").joinpath("demo.toml").read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    data["jira"]["url"] = url
    data["state"]["path"] = state
    data["writeback"]["baseline"] = False
    for section, value in overrides.items():
        if isinstance(value, dict):
            data.setdefault(section, {}).update(value)
        else:
            data[section] = value
    return data


def write_toml(path: Any, data: dict[str, Any]) -> Any:
    """A small TOML writer for the shapes our configs use: tables, arrays of tables
    (also nested, e.g. goals.checkpoints), scalars, dates and lists of scalars."""
    import re
    from datetime import date

    def key(k: str) -> str:
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else '"' + k.replace('"', '\\"') + '"'

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    def is_tables(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    lines: list[str] = []

    def table(name: str, body: dict[str, Any], header: str | None) -> None:
        if header is not None:
            lines.append(header)
        for k, v in body.items():
            if not isinstance(v, dict) and not is_tables(v):
                lines.append(f"{key(k)} = {value(v)}")
        for k, v in body.items():
            inner = f"{name}.{key(k)}" if name else key(k)
            if isinstance(v, dict):
                table(inner, v, f"[{inner}]")
            elif is_tables(v):
                for item in v:
                    table(inner, item, f"[[{inner}]]")

    table("", data, None)
    path.write_text("\n".join(lines) + "\n")
    return path


def make_finding(
    family: str,
    rule: str = "some-rule",
    severity: Any = None,
    *,
    key: str = "APP-1",
    message: str = "a message",
    config_key: str = "some.key",
    evidence: tuple[tuple[str, str], ...] = (),
    parts: tuple[tuple[str, str], ...] = (),
) -> Any:
    """A finding built by hand (warn unless `severity` says otherwise), for the tests of
    what is done with findings: labels, comments, the baseline."""
    from jira_chase.engine.model import Finding, Severity

    return Finding(key, family, rule, severity or Severity.WARN, message, config_key,
                   evidence, parts=parts)  # fmt: skip


def make_verdict(issue: Issue, *findings: Any, now: datetime | None = None) -> Any:
    """A verdict on `issue` (its timeline as of `now`, T0 + 10 days unless given, over
    BASE_CONFIG's workflow) holding `findings`, each said of that issue."""
    from dataclasses import replace

    from jira_chase.engine.evaluate import Verdict
    from jira_chase.engine.timeline import StepMap, build_timeline

    settings = make_settings()
    steps = StepMap.from_settings(settings.workflow, settings.cancelled_statuses)
    timeline = build_timeline(issue, steps, now or at(10))
    return Verdict(issue, timeline, tuple(replace(f, issue_key=issue.key) for f in findings))
