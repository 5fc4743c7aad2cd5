"""The simulator's search: JQL's server side over the simulator's issues.

The syntax, the syntax tree and Jira's matching semantics are the shared ones of
:mod:`jira_chase.jql`; this module adds what a server does. ``parse(text)`` checks
syntax, field names, operators and function names and returns a :class:`Query`.
``Query.prepare(dataset, now=..., current_user=...)`` checks the values against the
dataset (an unknown status or user is an error, as in Jira) and fixes the meaning of
relative dates, giving a :class:`PreparedQuery` that matches and sorts issues.

Anything outside the subset raises :class:`JQLError` with a Jira-like message; the
simulator never answers a query it does not understand.

Supported:

- fields ``project``, ``status``, ``statusCategory``, ``key``/``issuekey``/``id``,
  ``parent``, ``labels``, ``assignee``, ``reporter``, ``fixVersion``, ``type``/``issuetype``,
  ``priority``, ``created``, ``updated``, ``duedate``/``due``;
- operators ``=``, ``!=``, ``IN``, ``NOT IN``, ``IS [NOT] EMPTY|NULL``, and ``<``, ``<=``,
  ``>``, ``>=`` on dates and keys; ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``, parentheses;
- values: words, "double" or 'single' quoted strings, lists, ``EMPTY``/``NULL``,
  functions ``currentUser()``, ``now()``, ``startOfDay()``, ``endOfDay()``,
  ``startOfWeek()``, ``endOfWeek()``, ``startOfMonth()``, ``endOfMonth()`` (the date
  functions take an optional offset such as ``"-1d"``);
- dates ``"2026-11-01"``, ``"2026/11/01"``, ``"2026-11-01 10:00"`` and periods ``-7d``,
  ``-2w``, ``-4h``, ``-30m``, ``"-1w 2d"``, relative to ``now``. The simulated users'
  time zone is UTC;
- ``ORDER BY`` key, created, updated, duedate, priority, status, project, type, assignee,
  reporter with ``ASC``/``DESC``.

Semantics follow Jira where it is surprising (see :mod:`jira_chase.jql.semantics`):
``!=`` and ``NOT IN`` never match an issue whose field is empty, and ``NOT`` is pushed
down onto the operators (``NOT labels = x`` is ``labels != x``); a key range
(``key > APP-4``) covers the key's project only. Empty values sort last ascending and
first descending. Without ``ORDER BY`` results come newest first (``created DESC``, then
key descending).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from jira_chase.jql import syntax
from jira_chase.jql.semantics import FIELDS, equality, predicate
from jira_chase.jql.syntax import (
    ORDERING,
    And,
    Clause,
    EmptyValue,
    Field,
    Function,
    JQLError,
    Literal,
    Node,
    Or,
    Problem,
    SortKey,
    Token,
    Vocabulary,
    position,
)
from jira_chase.simulator.dataset import Dataset, Issue

__all__ = ["JQLError", "PreparedQuery", "Query", "parse"]


# Real Jira fields outside the subset: say so instead of claiming they do not exist.
UNSUPPORTED_FIELDS = frozenset(
    {
        "summary",
        "description",
        "text",
        "comment",
        "environment",
        "resolution",
        "resolved",
        "resolutiondate",
        "component",
        "sprint",
        "epic link",
        "watcher",
        "watchers",
        "votes",
        "creator",
        "affectedversion",
        "originalestimate",
        "remainingestimate",
        "timespent",
        "worklogdate",
        "worklogauthor",
        "lastviewed",
        "level",
        "attachments",
        "issuelinktype",
        "statuscategorychangeddate",
        "flagged",
        "story point estimate",
    }
)

DATE_FUNCTIONS = frozenset(
    {"now", "startofday", "endofday", "startofweek", "endofweek", "startofmonth", "endofmonth"}
)
USER_FUNCTIONS = frozenset({"currentuser"})
# Real Jira functions outside the subset.
UNSUPPORTED_FUNCTIONS = frozenset(
    {
        "membersof",
        "opensprints",
        "closedsprints",
        "futuresprints",
        "issuehistory",
        "linkedissues",
        "updatedby",
        "watchedissues",
        "votedissues",
        "releasedversions",
        "unreleasedversions",
        "latestreleasedversion",
        "earliestunreleasedversion",
        "currentlogin",
        "lastlogin",
        "startofyear",
        "endofyear",
        "componentsleadbyuser",
        "projectsleadbyuser",
        "standardissuetypes",
        "subtaskissuetypes",
        "issueswithremotelinksbyglobalid",
    }
)


_SUBSET = "the simulator's JQL subset"


class _Search(Vocabulary):
    """The simulator's fields and functions; a real Jira name outside them says so."""

    def refuse(self, problem: Problem) -> Exception:
        name = problem.token.text
        if problem.kind == "field" and (
            name.lower() in UNSUPPORTED_FIELDS or name.lower().startswith("cf[")
        ):
            return JQLError(f"Field '{name}' is not supported by {_SUBSET}. {problem.where}")
        if problem.kind == "function" and name.lower() in UNSUPPORTED_FUNCTIONS:
            return JQLError(f"The function '{name}' is not supported by {_SUBSET}.")
        return super().refuse(problem)

    def sort(self, token: Token, text: str) -> None:
        if not self.field(token, text).sortable:
            raise JQLError(f"Sorting by '{token.text}' is not supported by {_SUBSET}.")


_VOCABULARY = _Search(FIELDS, DATE_FUNCTIONS | USER_FUNCTIONS)


class Query(syntax.Query):
    """A parsed query the simulator can run: ``prepare`` binds it to a dataset."""

    def prepare(
        self, dataset: Dataset, *, now: datetime, current_user: str | None
    ) -> PreparedQuery:
        """Check values against ``dataset`` and fix relative dates at ``now``.

        ``current_user`` is the user id ``currentUser()`` stands for.
        Raises :class:`JQLError` for values that do not exist (an unknown status, user,
        project, issue key, version, type or priority) or malformed dates.
        """
        binder = _Binder(dataset, self.text, now, current_user)
        matches = predicate(self.where, binder.clause) if self.where else _always
        order = self.order_by or (SortKey("created", True), SortKey("key", True))
        scope = binder.project_scope(self.where) if self.where else None
        return PreparedQuery(self, matches, tuple(_sort_key(dataset, key) for key in order), scope)


def parse(text: str) -> Query:
    """Parse JQL ``text``; raise :class:`JQLError` for anything outside the subset."""
    query = syntax.parse(text, _VOCABULARY)
    return Query(query.text, query.where, query.order_by)


# -- binding: values checked, dates fixed, predicates built ----------------------------

Predicate = Callable[[Issue], bool]


def _always(issue: Issue) -> bool:
    return True


_CATEGORY_NAMES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
# Jira's status category ids.
CATEGORY_IDS = {"new": "2", "indeterminate": "4", "done": "3"}

_PERIOD = re.compile(r"^([-+]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])")
_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")


def parse_period(text: str) -> timedelta | None:
    """``-7d``, ``4w 2d``, ``-30m`` as a timedelta; None when ``text`` is not a period."""
    match = _PERIOD.match(text.strip())
    if not match:
        return None
    total = sum(
        (int(amount) * _UNITS[unit] for amount, unit in _PERIOD_PART.findall(match.group(2))),
        timedelta(),
    )
    return -total if match.group(1) == "-" else total


class _Binder:
    def __init__(
        self, dataset: Dataset, text: str, now: datetime, current_user: str | None
    ) -> None:
        self.dataset = dataset
        self.text = text
        self.now = now.astimezone(timezone.utc)
        self.current_user = current_user

    def project_scope(self, node: Node) -> frozenset[str] | None:
        """The projects a match must be in, when the query says so; None: any project.

        Only what is certain counts: ``project = X`` or ``project in (...)`` at the top,
        under AND (any restricting part restricts), or on every branch of an OR.
        """
        if isinstance(node, Clause):
            if node.field.kind == "project" and node.operator in ("=", "in"):
                values = self.values(node)
                if None not in values:
                    return frozenset(values)
            return None
        if isinstance(node, And):
            scopes = [self.project_scope(child) for child in node.children]
            known = [scope for scope in scopes if scope is not None]
            return frozenset.intersection(*known) if known else None
        if isinstance(node, Or):
            branches = [self.project_scope(child) for child in node.children]
            if any(branch is None for branch in branches):
                return None
            return frozenset().union(*[b for b in branches if b is not None])
        return None

    # values ------------------------------------------------------------------------------

    def values(self, clause: Clause) -> list[Any]:
        """The operand's values, resolved for the field; None stands for EMPTY."""
        resolved: list[Any] = []
        for item in clause.values:
            if isinstance(item, EmptyValue):
                resolved.append(None)
            else:
                resolved.append(self.resolve(clause.field, item))
        return resolved

    def resolve(self, spec: Field, value: Literal | Function) -> Any:
        kind = spec.kind
        if isinstance(value, Function):
            name = value.name.lower()
            if kind in ("datetime", "date") and name in DATE_FUNCTIONS:
                return self.date_function(spec, value)
            if kind == "user" and name in USER_FUNCTIONS:
                if self.current_user is None:
                    raise JQLError("The function 'currentUser' needs a logged-in user.")
                return self.current_user
            raise JQLError(
                f"The function '{value.name}' is not valid for the field '{spec.name}'."
                f" {position(self.text, value.pos)}"
            )
        text = value.text
        folded = text.lower()
        dataset = self.dataset
        if kind == "project":
            for project in dataset.projects.values():
                if folded in (project.key.lower(), project.name.lower()) or text == project.id:
                    return project.key
        elif kind == "status":
            for status in dataset.statuses.values():
                if folded == status.name.lower() or text == status.id:
                    return status.name
        elif kind == "category":
            for key, name in _CATEGORY_NAMES.items():
                if folded in (key, name.lower()) or text == CATEGORY_IDS[key]:
                    return key
        elif kind in ("issue", "parent"):
            issue = dataset.issue_by_id_or_key(text)
            if issue is not None:
                return (issue.project, issue.number)
            raise JQLError(f"An issue with key '{text}' does not exist for field '{spec.name}'.")
        elif kind == "user":
            for user in dataset.users.values():
                if folded in (user.id.lower(), user.name.lower()) or (
                    user.email and folded == user.email.lower()
                ):
                    return user.id
        elif kind == "labels":
            return folded
        elif kind == "version":
            for _project, name in dataset.version_ids:
                if folded == name.lower():
                    return folded
            for (_project, name), version_id in dataset.version_ids.items():
                if text == version_id:
                    return name.lower()
        elif kind == "type":
            for name, type_id in dataset.issue_type_ids.items():
                if folded == name.lower() or text == type_id:
                    return name.lower()
        elif kind == "priority":
            for name, priority_id in dataset.priority_ids.items():
                if folded == name.lower() or text == priority_id:
                    return name.lower()
        elif kind in ("datetime", "date"):
            return self.date_value(spec, text)
        raise JQLError(f"The value '{text}' does not exist for the field '{spec.name}'.")

    def date_value(self, spec: Field, text: str) -> datetime:
        period = parse_period(text)
        if period is not None:
            return self.now + period
        for pattern in _DATE_FORMATS:
            try:
                return datetime.strptime(text.strip(), pattern).replace(tzinfo=timezone.utc)
            except ValueError:
                continue
        raise JQLError(
            f"Date value '{text}' for field '{spec.name}' is invalid. Valid formats include:"
            " 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period"
            " format e.g. '-5d', '4w 2d'."
        )

    def date_function(self, spec: Field, function: Function) -> datetime:
        name = function.name.lower()
        if len(function.args) > 1:
            raise JQLError(f"Function '{function.name}' expects at most one argument.")
        offset = timedelta()
        if function.args:
            period = parse_period(function.args[0])
            if period is None:
                raise JQLError(
                    f"Function '{function.name}' expects a period such as '-1d', got"
                    f" '{function.args[0]}'."
                )
            offset = period
        now = self.now
        day = datetime.combine(now.date(), time(), tzinfo=timezone.utc)
        if name == "now":
            moment = now
        elif name in ("startofday", "endofday"):
            moment = day
        elif name in ("startofweek", "endofweek"):
            # Jira's weeks start on Sunday in the default locale.
            moment = day - timedelta(days=(now.weekday() + 1) % 7)
        else:
            moment = day.replace(day=1)
        if name.startswith("end"):
            if name == "endofday":
                moment += timedelta(days=1)
            elif name == "endofweek":
                moment += timedelta(weeks=1)
            else:
                moment = (moment + timedelta(days=32)).replace(day=1)
            moment -= timedelta(milliseconds=1)
        return moment + offset

    # predicates ------------------------------------------------------------------------

    def clause(self, clause: Clause, operator: str) -> Predicate:
        spec = clause.field
        get = _getter(spec, self.dataset)
        many = spec.kind in ("labels", "version")
        if operator in ("is", "is not"):
            return equality(operator, get, (), True, many=many)
        values = self.values(clause)
        if operator in ORDERING:
            return self.ordering(spec, get, operator, values[0])
        wanted = [value for value in values if value is not None]
        return equality(operator, get, wanted, None in values, many=many)

    def ordering(
        self, spec: Field, get: Callable[[Issue], Any], operator: str, bound: Any
    ) -> Predicate:
        if bound is None:
            raise JQLError(f"The operator '{operator}' does not support the value 'EMPTY'.")
        compare = _COMPARE[operator]
        if spec.kind == "issue":
            project, number = bound

            def key_in_range(issue: Issue) -> bool:
                return issue.project == project and compare(issue.number, number)

            return key_in_range
        return lambda issue: (value := get(issue)) is not None and compare(value, bound)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=timezone.utc)


def _getter(spec: Field, dataset: Dataset) -> Callable[[Issue], Any]:
    """How to read the field from an issue, in the form ``resolve`` gives values."""
    kind = spec.kind
    if kind == "project":
        return lambda issue: issue.project
    if kind == "status":
        return lambda issue: issue.status
    if kind == "category":
        statuses = dataset.statuses
        return lambda issue: statuses[issue.status].category
    if kind == "issue":
        return lambda issue: (issue.project, issue.number)
    if kind == "parent":

        def parent(issue: Issue) -> tuple[str, int] | None:
            if issue.parent is None:
                return None
            project, _, number = issue.parent.rpartition("-")
            return (project, int(number))

        return parent
    if kind == "user":
        attribute = spec.name
        return lambda issue: getattr(issue, attribute)
    if kind == "labels":
        return lambda issue: frozenset(label.lower() for label in issue.labels)
    if kind == "version":
        return lambda issue: frozenset(name.lower() for name in issue.fix_versions)
    if kind == "type":
        return lambda issue: issue.type.lower()
    if kind == "priority":
        return lambda issue: issue.priority.lower() if issue.priority else None
    if kind == "date":
        return lambda issue: _midnight(issue.duedate)
    attribute = spec.name
    return lambda issue: getattr(issue, attribute)


# -- sorting ----------------------------------------------------------------------------------

# Lowest first, so that DESC puts the most important first, as in Jira.
_PRIORITY_RANK = {"lowest": 1, "low": 2, "medium": 3, "high": 4, "highest": 5}


def _sort_key(dataset: Dataset, key: SortKey) -> tuple[Callable[[Issue], Any], bool]:
    spec = FIELDS[key.name.lower()]
    name, kind = spec.name, spec.kind
    value: Callable[[Issue], Any]
    if kind == "issue":
        value = lambda issue: (issue.project, issue.number)  # noqa: E731
    elif kind == "status":
        order = {name: index for index, name in enumerate(dataset.statuses)}
        value = lambda issue: order[issue.status]  # noqa: E731
    elif kind == "priority":
        value = lambda issue: (  # noqa: E731
            None
            if issue.priority is None
            else (_PRIORITY_RANK.get(issue.priority.lower(), 0), issue.priority)
        )
    elif kind == "user":
        users = dataset.users
        value = lambda issue: (  # noqa: E731
            None if getattr(issue, name) is None else users[getattr(issue, name)].name.lower()
        )
    elif kind == "type":
        value = lambda issue: issue.type.lower()  # noqa: E731
    elif kind == "date":
        value = lambda issue: issue.duedate  # noqa: E731
    else:
        value = lambda issue: getattr(issue, name)  # noqa: E731

    def empty_last(issue: Issue) -> tuple[Any, ...]:
        found = value(issue)
        return (1,) if found is None else (0, found)

    return empty_last, key.descending


@dataclass(frozen=True)
class PreparedQuery:
    """A query bound to a dataset and a moment: match issues and put them in order."""

    query: Query
    matches: Predicate
    sort_keys: tuple[tuple[Callable[[Issue], Any], bool], ...]
    #: The projects every match is in (None: any), to look at fewer issues.
    projects: frozenset[str] | None = None

    def sort(self, issues: Iterable[Issue]) -> list[Issue]:
        ordered = sorted(issues, key=lambda issue: (issue.project, issue.number))
        # Stable sorts from the last key to the first give a multi-key order with
        # per-key directions.
        for key, descending in reversed(self.sort_keys):
            ordered.sort(key=key, reverse=descending)
        return ordered

    def select(self, issues: Iterable[Issue]) -> list[Issue]:
        """The matching issues, in the query's order."""
        matches = self.matches
        return self.sort(issue for issue in issues if matches(issue))

    def run(self, dataset: Dataset) -> list[Issue]:
        """The matching issues of ``dataset``, in the query's order (uses its project index)."""
        return self.select(dataset.issues_in(self.projects))


def category_name(category: str) -> str:
    """Jira's display name of a status category key: ``new`` is "To Do"."""
    return _CATEGORY_NAMES[category]
