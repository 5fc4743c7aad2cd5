"""JQL on the client side: goal scopes matched against fetched issues, and composing JQL.

One tokenizer and parser (:mod:`jira_chase.jql.syntax`) and one definition of Jira's
matching semantics (:mod:`jira_chase.jql.semantics`) serve both the goal scopes here and
the simulator's search, so a query means the same in both.

Goal scopes are JQL *within* the tracker scope: the issues are already fetched, so a
goal's scope is evaluated here instead of asking the tracker again. Supported:

- fields `project`, `key`/`issuekey`, `type`/`issuetype`, `priority`, `status`,
  `labels`/`label`, `fixVersion`, `parent`, `assignee` (account id, display name or
  email address);
- operators `=`, `!=`, `IN`, `NOT IN`, `IS [NOT] EMPTY|NULL`;
- `AND`, `OR`, `NOT`, parentheses; values as words or "double"/'single' quoted strings,
  `EMPTY`/`NULL` (`labels = EMPTY`, `assignee in (u-ann, EMPTY)`);
- a trailing `ORDER BY ...` is accepted and ignored.

Semantics follow Jira: values compare case-insensitively; on list fields (`labels`,
`fixVersion`) `=` means "contains"; `!=` and `NOT IN` never match an empty field, and
`NOT` is pushed down onto the operators (`NOT labels = x` is `labels != x`).
Anything else raises `FilterError` with a message that says what is not understood.

May import: engine.model (the issue a goal scope is matched against).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field

from jira_chase.engine.model import Issue
from jira_chase.jql import semantics, syntax
from jira_chase.jql.syntax import EQUALITY, Clause, EmptyValue, Literal, Node, Problem, Token

__all__ = ["FIELDS", "Filter", "FilterError", "parse_scope", "without_order_by"]


class FilterError(ValueError):
    """A query outside the supported subset, or not valid JQL."""


def _values(getter: Callable[[Issue], object]) -> Callable[[Issue], tuple[str, ...]]:
    def values(issue: Issue) -> tuple[str, ...]:
        value = getter(issue)
        if value is None:
            return ()
        if isinstance(value, tuple):
            return tuple(str(v).lower() for v in value)
        return (str(value).lower(),)

    return values


def _assignee(issue: Issue) -> tuple[str, ...]:
    person = issue.assignee
    if person is None:
        return ()
    return tuple(value.lower() for value in (person.id, person.name, person.email) if value)


#: JQL field name -> the issue's values for it, in lower case.
FIELDS: dict[str, Callable[[Issue], tuple[str, ...]]] = {
    "project": _values(lambda i: i.project),
    "key": _values(lambda i: i.key),
    "issuetype": _values(lambda i: i.type),
    "priority": _values(lambda i: i.priority),
    "status": _values(lambda i: i.status),
    "labels": _values(lambda i: i.labels),
    "fixVersion": _values(lambda i: i.fix_versions),
    "parent": _values(lambda i: i.parent),
    "assignee": _assignee,
}
_ALIASES: tuple[str, ...] = (
    "project", "key", "issuekey", "type", "issuetype", "priority", "status", "labels", "label",
    "fixversion", "parent", "assignee",
)  # fmt: skip
_SUPPORTED = "project, key, type, priority, status, labels, fixVersion, parent, assignee"
_OPERATORS = "=, !=, IN, NOT IN, IS EMPTY"


def _plain(problem: Problem) -> str:
    """The problem in the words of a configuration error."""
    kind, token = problem.kind, problem.token
    found = token.text
    if problem.syntax and token.kind == "eof":
        return "the query ends too early"
    messages = {
        "unclosed": f"cannot read the query at {found[:20]!r}: the quote is not closed",
        "rparen": f"expected ')' but found {found!r}",
        "and-or": f"unexpected {found!r}",
        "field-name": f"expected a field name but found {found!r}",
        "operator-word": f"operator {found!r} is not supported (use {_OPERATORS})",
        "list": f"expected a list in parentheses, found {found!r}",
        "no-list": f"expected a value but found {found!r}",
        "is-empty": f"expected EMPTY after IS, found {found!r}",
        "value": f"expected a value but found {found!r}",
        "reserved": f"expected a value but found {found!r} (quote it to use it as a value)",
        "by": f"expected BY after ORDER, found {found!r}",
        "field": f"field {found!r} is not supported here (use: {_SUPPORTED})",
        "operator": f"operator {found!r} is not supported (use {_OPERATORS})",
        "function": f"functions such as {found}() are not supported",
    }
    return messages[kind]


class _Scope(syntax.Vocabulary):
    """The fields a fetched issue has, no functions, and any `ORDER BY` (it is ignored)."""

    def refuse(self, problem: Problem) -> Exception:
        return FilterError(_plain(problem))

    def sort(self, token: Token, text: str) -> None:
        pass


_VOCABULARY = _Scope(
    {alias: replace(semantics.FIELDS[alias], operators=EQUALITY) for alias in _ALIASES}
)


def _clause(clause: Clause, operator: str) -> Callable[[Issue], bool]:
    wanted = [v.text.lower() for v in clause.values if isinstance(v, Literal)]
    allow_empty = any(isinstance(v, EmptyValue) for v in clause.values)
    return semantics.equality(operator, FIELDS[clause.field.name], wanted, allow_empty, many=True)


@dataclass(frozen=True)
class Filter:
    """A parsed query; `matches(issue)` says whether the issue is selected."""

    text: str
    root: Node
    predicate: Callable[[Issue], bool] = dataclass_field(repr=False, compare=False)

    def matches(self, issue: Issue) -> bool:
        return self.predicate(issue)


def parse_scope(text: str) -> Filter:
    """Parse `text`; raises FilterError naming what is not understood."""
    query = syntax.parse(text, _VOCABULARY)
    if query.where is None:
        raise FilterError("the query is empty")
    return Filter(text, query.where, semantics.predicate(query.where, _clause))


def without_order_by(text: str) -> str:
    """The query without its trailing `ORDER BY ...`, so it can be nested in another
    (`NOT (scope)`); text that is not understood is returned as it is."""
    tokens = syntax.tokenize(text)
    depth = 0
    for token, after in zip(tokens, tokens[1:]):
        if token.kind == "unclosed":
            break
        depth += {"lparen": 1, "rparen": -1}.get(token.kind, 0)
        if depth == 0 and token.word == "order" and after.word == "by":
            return text[: token.pos].strip()
    return text.strip()
