"""Jira's issue JSON (searched with `expand=changelog`) -> the domain's `Issue`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jira_chase.engine.model import Change, Comment, Issue, Link, Person
from jira_chase.engine.safe_text import clipped
from jira_chase.engine.words import word, zoned

#: People fields whose changelog `from`/`to` hold ids; other fields use display text.
PERSON_FIELDS = frozenset({"assignee", "reporter"})


def parse_jira_time(value: str) -> datetime:
    """Jira's `2026-10-01T09:00:00.000+0000` (and ISO 8601 variants) -> aware datetime.

    A sync reads a dozen times per issue, so the fast parser comes first (strptime takes
    fifty times as long); times with one offset share one time zone object (a Data
    Center server writes its own offset, and each parsed zone would take 64 bytes)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if text.endswith("Z"):
            text = text[:-1] + "+0000"
        for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"not a time: {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return zoned(parsed)


def person(raw: dict[str, Any] | None) -> Person | None:
    if not raw:
        return None
    pid = raw.get("accountId") or raw.get("name") or raw.get("key")
    if not pid:
        return None
    return Person(
        id=str(pid),
        name=clipped(str(raw.get("displayName") or pid)),
        email=raw.get("emailAddress"),
    )


def _changes(raw: dict[str, Any]) -> list[Change]:
    histories = raw.get("changelog", {}).get("histories", [])
    # Jira sorts histories differently per endpoint; order by time, then by id.
    ordered = sorted(
        histories,
        key=lambda h: (
            parse_jira_time(h["created"]),
            int(h["id"]) if str(h.get("id", "")).isdigit() else 0,
        ),
    )
    changes = []
    for history in ordered:
        at = parse_jira_time(history["created"])
        author = history.get("author") or {}
        by = word(author.get("accountId") or author.get("name"))
        for item in history.get("items", []):
            field = word(item.get("field") or item.get("fieldId") or "?")
            if field in PERSON_FIELDS:
                old, new = item.get("from"), item.get("to")
            else:
                old, new = item.get("fromString"), item.get("toString")
            changes.append(Change(at, field, word(old), word(new), by))
    return changes


def _links(fields: dict[str, Any], changes: list[Change]) -> list[Link]:
    links = []
    for link in fields.get("issuelinks") or []:
        if "inwardIssue" in link:
            direction, other = "inward", link["inwardIssue"]
        elif "outwardIssue" in link:
            direction, other = "outward", link["outwardIssue"]
        else:
            continue
        key = other["key"]
        status = (other.get("fields") or {}).get("status") or {}
        since = next(
            (
                c.at
                for c in reversed(changes)
                if c.field == "Link" and c.to_value and key in c.to_value.split()
            ),
            None,
        )
        links.append(
            Link(
                type=link.get("type", {}).get("name", "?"),
                direction=direction,
                key=key,
                project=key.rsplit("-", 1)[0],
                status=status.get("name"),
                status_category=(status.get("statusCategory") or {}).get("key"),
                since=since,
            )
        )
    return links


def _comments(fields: dict[str, Any]) -> tuple[list[Comment], bool]:
    """The comments the issue came with, and whether they are all of its comments."""
    page = fields.get("comment") or {}
    comments = []
    raw_comments = page.get("comments") or []
    for raw in raw_comments:
        author = raw.get("author") or {}
        comments.append(
            Comment(
                at=parse_jira_time(raw["created"]),
                by=author.get("accountId") or author.get("name"),
                id=str(raw["id"]) if raw.get("id") is not None else None,
            )
        )
    total = page.get("total")
    complete = (
        "comment" in fields
        and isinstance(total, int)
        and total <= len(raw_comments)
        and all(c.id is not None for c in comments)
    )
    return comments, complete


def to_issue(raw: dict[str, Any], estimate_id: str | None, flagged_id: str | None) -> Issue:
    """A Jira issue payload (with `expand=changelog`) -> Issue."""
    fields = raw["fields"]
    changes = _changes(raw)
    estimate = fields.get(estimate_id) if estimate_id else None
    due = fields.get("duedate")
    comments, comments_complete = _comments(fields)
    category = (fields["status"].get("statusCategory") or {}).get("key")
    # An issue is created in a "To Do"-category status; one elsewhere that shows no
    # status change has a history the tracker did not give us.
    known = category in (None, "new") or any(c.field == "status" for c in changes)
    return Issue(
        key=raw["key"],
        project=(fields.get("project") or {}).get("key") or raw["key"].rsplit("-", 1)[0],
        type=(fields.get("issuetype") or {}).get("name", "?"),
        summary=clipped(str(fields.get("summary") or "")),
        status=fields["status"]["name"],
        created=parse_jira_time(fields["created"]),
        updated=parse_jira_time(fields["updated"]),
        priority=(fields.get("priority") or {}).get("name"),
        assignee=person(fields.get("assignee")),
        reporter=person(fields.get("reporter")),
        labels=tuple(fields.get("labels") or ()),
        duedate=date.fromisoformat(due) if due else None,
        fix_versions=tuple(v["name"] for v in fields.get("fixVersions") or ()),
        parent=(fields.get("parent") or {}).get("key"),
        components=tuple(c["name"] for c in fields.get("components") or () if c.get("name")),
        estimate=float(estimate) if isinstance(estimate, (int, float)) else None,
        flagged=bool(fields.get(flagged_id)) if flagged_id else False,
        history=tuple(changes),
        links=tuple(_links(fields, changes)),
        comments=tuple(comments),
        comments_complete=comments_complete,
        status_category=category,
        resolution=(fields.get("resolution") or {}).get("name"),
        history_known=known,
    )
