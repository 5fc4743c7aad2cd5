"""Realistic datasets of any size, deterministic per seed, for scale tests and benchmarks.

``generate_dataset(n, seed)`` returns a ``jira-chase-dataset/1`` document with ``n``
issues; :func:`write_dataset` streams the same document as JSON text, one issue at a
time, so 100,000 issues never sit in memory as one string (``jira-chase simulator
--generate N --seed S > data.json``).

What the data looks like, so that every code path of a sync meets real work:

- 3 to 12 projects (more for more issues), the first ones busier; 8 to 400 people and a
  bot (``u-bot``, the dataset's ``bot``);
- a workflow To Do, In Progress, Code Review, In QA, Blocked, Done, Closed; every issue
  has 5 to 30 status changes spread over up to a year, with review ping-pong, reopens
  and blocked spells, in working hours, oldest first, all before ``now``;
- reassignments, priorities, labels, due dates, fix versions, estimates, flags, epics as
  parents, comments, and links: "is blocked by" links across projects and "relates to"
  links within one.
"""

from __future__ import annotations

import json
import random
import time
from bisect import bisect
from collections.abc import Iterator
from datetime import datetime, timezone
from itertools import accumulate
from typing import Any, TextIO

from jira_chase.engine.gc_pause import gc_paused
from jira_chase.simulator.dataset import FORMAT

GENERATED_NOW = "2026-11-20T16:00:00Z"

_PROJECTS = [
    ("APP", "App team"),
    ("OPS", "Platform team"),
    ("WEB", "Web team"),
    ("API", "API team"),
    ("DATA", "Data team"),
    ("MOB", "Mobile team"),
    ("PAY", "Payments team"),
    ("SEC", "Security team"),
    ("SRCH", "Search team"),
    ("CORE", "Core team"),
    ("UX", "Design team"),
    ("ML", "Machine learning team"),
]
_FIRST = [
    "Ann", "Bob", "Cat", "Dan", "Eve", "Finn", "Gia", "Hal", "Ivy", "Jon", "Kim", "Leo",
    "Mia", "Ned", "Ola", "Pat", "Quinn", "Rae", "Sam", "Tia", "Uma", "Vic", "Wes", "Xia",
]  # fmt: skip
_LAST = [
    "Lee", "Stone", "Diaz", "Khan", "Moreau", "Novak", "Okafor", "Park", "Rossi", "Sato",
    "Tan", "Weber", "Silva", "Berg", "Costa", "Nagy", "Ivanova", "Haddad",
]  # fmt: skip
_STATUSES = [
    ("To Do", "new"),
    ("In Progress", "indeterminate"),
    ("Code Review", "indeterminate"),
    ("In QA", "indeterminate"),
    ("Blocked", "indeterminate"),
    ("Done", "done"),
    ("Closed", "done"),
]
# Where an issue goes next from each status, with weights: review ping-pong, QA bounces,
# blocked spells and reopens.
_NEXT: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "To Do": (("In Progress", "Blocked"), (9, 1)),
    "In Progress": (("Code Review", "Blocked", "To Do", "In QA"), (7, 1, 1, 1)),
    "Code Review": (("In Progress", "In QA", "Done"), (4, 5, 1)),
    "In QA": (("Done", "In Progress", "Closed"), (5, 4, 1)),
    "Blocked": (("In Progress", "To Do"), (4, 1)),
    "Done": (("In Progress", "Closed"), (3, 2)),
    "Closed": (("In Progress",), (1,)),
}
# The same, as (targets, cumulative weights, total) for a fast weighted draw.
_NEXT_CUMULATIVE = {
    status: (targets, list(accumulate(weights)), sum(weights))
    for status, (targets, weights) in _NEXT.items()
}
_TYPES = (("Story", "Task", "Bug", "Epic"), (50, 25, 20, 5))
_PRIORITIES = (("Highest", "High", "Medium", "Low", "Lowest"), (5, 20, 50, 20, 5))
_LABELS = ("customer", "tech-debt", "regression", "ux", "security", "performance", "infra")
_VERBS = ("Add", "Fix", "Rework", "Document", "Speed up", "Remove", "Migrate", "Test")
_NOUNS = (
    "checkout", "login page", "search index", "billing export", "audit log", "cache",
    "release pipeline", "profile settings", "notifications", "API rate limits", "dashboard",
    "import wizard", "payment retries", "feature flags", "onboarding", "reports",
)  # fmt: skip
_COMMENTS = (
    "Can we get this into the next release?",
    "Picked this up today.",
    "Waiting for review.",
    "Blocked on the other team, see the linked issue.",
    "Found the cause; fix is in review.",
    "QA found a regression, moving back.",
    "Done, please verify.",
    "Let's discuss this in the stand-up.",
)
_HOUR = 3600
_DAY = 24 * _HOUR


_DAYS: dict[int, str] = {}


def _stamp(seconds: float) -> str:
    """``2026-11-20T16:00:00Z`` for a POSIX time (whole seconds)."""
    whole = int(seconds)
    day, rest = divmod(whole, _DAY)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * _DAY))
    hours, rest = divmod(rest, _HOUR)
    return f"{text}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


class _Generator:
    """One pass of the seeded generator: the header records, then issue after issue."""

    def __init__(
        self, count: int, seed: int, now: str, status_changes: tuple[int, int] = (5, 30)
    ) -> None:
        if count < 0:
            raise ValueError(f"the number of issues must not be negative, got {count}")
        self.count = count
        #: How many status changes an issue has: drawn evenly from this range.
        self.status_changes = status_changes
        self.rng = random.Random(seed)
        self.now_text = now
        moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
        self.now = moment.astimezone(timezone.utc).timestamp()
        project_count = max(3, min(len(_PROJECTS), 3 + count // 10_000))
        self.projects = _PROJECTS[:project_count]
        self.project_weights = [1.0 / (rank + 1) for rank in range(project_count)]
        people = max(8, min(400, count // 50))
        self.users: list[dict[str, Any]] = []
        for number in range(1, people + 1):
            first = _FIRST[(number - 1) % len(_FIRST)]
            last = _LAST[(number - 1) // len(_FIRST) % len(_LAST)]
            suffix = "" if number <= len(_FIRST) * len(_LAST) else str(number)
            self.users.append(
                {
                    "id": f"u-{number:04d}",
                    "name": f"{first} {last}{suffix}",
                    "email": f"{first.lower()}.{last.lower()}{suffix}@example.com",
                }
            )
        self.user_ids = [user["id"] for user in self.users]
        self.users.append({"id": "u-bot", "name": "Chase Bot", "email": "bot@example.com"})
        self.counters = dict.fromkeys((key for key, _ in self.projects), 0)
        self.epics: dict[str, list[str]] = {key: [] for key, _ in self.projects}
        self.keys: list[str] = []
        self.created: list[float] = []

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "now": self.now_text,
            "bot": "u-bot",
            "projects": [{"key": key, "name": name} for key, name in self.projects],
            "users": self.users,
            "statuses": [{"name": name, "category": cat} for name, cat in _STATUSES],
        }

    def working_time(self, moment: float) -> float:
        """``moment`` moved into working hours (09:00-17:30 UTC, Monday to Friday)."""
        offset = moment % _DAY
        day_start = moment - offset
        weekday = (int(day_start // _DAY) + 3) % 7  # 1970-01-01 was a Thursday
        if weekday >= 5:
            day_start += (7 - weekday) * _DAY
        if not 9 * _HOUR <= offset < 17.5 * _HOUR:
            offset = 9 * _HOUR + self.rng.random() * 8.5 * _HOUR
        return day_start + offset

    def issues(self) -> Iterator[dict[str, Any]]:
        for _ in range(self.count):
            yield self.issue()

    def issue(self) -> dict[str, Any]:
        rng = self.rng
        project = rng.choices(self.projects, self.project_weights)[0][0]
        self.counters[project] += 1
        number = self.counters[project]
        key = f"{project}-{number}"
        kind = rng.choices(*_TYPES)[0]
        span = self.now - _DAY
        created = self.working_time(span - rng.random() * 365 * _DAY)
        created = min(created, span)
        reporter = rng.choice(self.user_ids)
        assignee: str | None = rng.choice(self.user_ids) if rng.random() < 0.9 else None
        record: dict[str, Any] = {
            "key": key,
            "project": project,
            "type": kind,
            "summary": f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)}",
            "priority": rng.choices(*_PRIORITIES)[0],
            "reporter": reporter,
            "created": _stamp(created),
        }
        history, status, assignee = self.history(created, assignee)
        record["status"] = status
        if assignee is not None:
            record["assignee"] = assignee
        if rng.random() < 0.3:
            record["labels"] = rng.sample(_LABELS, rng.randint(1, 2))
        if rng.random() < 0.3:
            due = created + rng.randint(7, 90) * _DAY
            record["duedate"] = time.strftime("%Y-%m-%d", time.gmtime(due))
        if rng.random() < 0.4:
            record["fixVersions"] = [f"{rng.randint(1, 3)}.{rng.randint(0, 9)}"]
        if kind != "Epic" and rng.random() < 0.6:
            record["estimate"] = rng.choice((1, 2, 3, 5, 8, 13))
        if rng.random() < 0.03 and status not in ("Done", "Closed"):
            record["flagged"] = True
            flagged_at = history[-1]["at"] if history else record["created"]
            history.append(
                {"at": flagged_at, "by": assignee or reporter, "field": "Flagged",
                 "from": None, "to": "Impediment"}
            )  # fmt: skip
        epics = self.epics[project]
        if kind == "Epic":
            epics.append(key)
        elif epics and rng.random() < 0.4:
            record["parent"] = rng.choice(epics[-20:])
        record["history"] = history
        links = self.links(project, created)
        if links:
            record["links"] = links
        comments = self.comments(created, reporter, assignee)
        if comments:
            record["comments"] = comments
        self.keys.append(key)
        self.created.append(created)
        return record

    def history(
        self, created: float, assignee: str | None
    ) -> tuple[list[dict[str, Any]], str, str | None]:
        """5 to 30 status changes (`status_changes`) and a few reassignments, oldest
        first, before now."""
        rng = self.rng
        changes = rng.randint(*self.status_changes)
        gaps = [rng.expovariate(1.0) * rng.choice((2, 6, 24, 72)) * _HOUR for _ in range(changes)]
        room = (self.now - 2 * _HOUR - created) * rng.uniform(0.3, 1.0)
        scale = min(1.0, room / sum(gaps))
        entries: list[tuple[float, dict[str, Any] | None]] = []
        finish = created < self.now - 60 * _DAY and rng.random() < 0.8
        moment = shown = created
        status = "To Do"
        worker = assignee or rng.choice(self.user_ids)
        for number, gap in enumerate(gaps, 1):
            moment += max(60.0, gap * scale)
            targets, cumulative, total = _NEXT_CUMULATIVE[status]
            target = targets[bisect(cumulative, rng.random() * total)]
            if finish and number == changes and status not in ("Done", "Closed"):
                target = "Done" if rng.random() < 0.8 else "Closed"
            by = worker
            shown = min(max(shown + 60, self.working_time(moment)), self.now - 120 + number)
            entries.append((shown, {"by": by, "field": "status", "from": status, "to": target}))
            status = target
        end = max(created + 120, min(shown, self.now - _HOUR))
        reassignments = rng.choices((0, 1, 2), (7, 2, 1))[0]
        entries += [(rng.uniform(created + 60, end), None) for _ in range(reassignments)]
        entries.sort(key=lambda pair: pair[0])
        out: list[dict[str, Any]] = []
        last = created
        holder = assignee
        for moment, planned in entries:
            change = planned
            if change is None:
                new = rng.choice(self.user_ids)
                if new == holder:
                    continue
                change = {"by": new, "field": "assignee", "from": holder, "to": new}
                holder = new
            last = max(last + 1, min(moment, self.now - 60))
            out.append({"at": _stamp(last), **change})
        return out, status, holder

    def links(self, project: str, created: float) -> list[dict[str, Any]]:
        rng = self.rng
        links: list[dict[str, Any]] = []
        known = len(self.keys)
        if not known:
            return links
        if rng.random() < 0.08:
            for _ in range(8):  # an earlier issue of another project
                other = rng.randrange(known)
                if not self.keys[other].startswith(f"{project}-"):
                    since = max(created, self.created[other]) + rng.randint(1, 72) * _HOUR
                    link = {"type": "Blocks", "direction": "inward", "key": self.keys[other]}
                    if since < self.now:
                        link["since"] = _stamp(since)
                    links.append(link)
                    break
        if rng.random() < 0.02:
            other = rng.randrange(known)
            if self.keys[other].startswith(f"{project}-"):
                links.append({"type": "Relates", "direction": "outward", "key": self.keys[other]})
        return links

    def comments(self, created: float, reporter: str, assignee: str | None) -> list[dict[str, Any]]:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3, 4), (35, 30, 20, 10, 5))[0]
        moments = sorted(rng.uniform(created + 60, self.now - 60) for _ in range(count))
        people = [reporter, assignee or reporter, rng.choice(self.user_ids)]
        return [
            {"at": _stamp(moment), "by": rng.choice(people), "body": rng.choice(_COMMENTS)}
            for moment in moments
        ]


def generate_dataset(n: int, seed: int = 0, *, now: str = GENERATED_NOW) -> dict[str, Any]:
    """A realistic dataset of ``n`` issues, the same for the same ``n``, ``seed`` and ``now``."""
    generator = _Generator(n, seed, now)
    document = generator.header()
    with gc_paused():
        document["issues"] = list(generator.issues())
    return document


def iter_dataset_json(n: int, seed: int = 0, *, now: str = GENERATED_NOW) -> Iterator[str]:
    """:func:`generate_dataset` as JSON text, in pieces (one issue per line)."""
    generator = _Generator(n, seed, now)
    header = json.dumps(generator.header(), separators=(",", ":"))
    yield header[:-1] + ',"issues":[\n'
    encode = json.JSONEncoder(separators=(",", ":")).encode
    first = True
    for issue in generator.issues():
        yield encode(issue) if first else ",\n" + encode(issue)
        first = False
    yield "\n]}\n"


def write_dataset(out: TextIO, n: int, seed: int = 0, *, now: str = GENERATED_NOW) -> None:
    """Stream :func:`generate_dataset` as JSON to ``out``."""
    buffer: list[str] = []
    with gc_paused():
        for piece in iter_dataset_json(n, seed, now=now):
            buffer.append(piece)
            if len(buffer) >= 512:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
