"""The JQL fields this package knows, and Jira's matching semantics over them.

A use of JQL (goal scopes over fetched issues, the simulator's search) picks the fields
it supports from :data:`FIELDS` and turns a parsed condition into a predicate with
:func:`predicate` and :func:`equality`, so both mean the same by a query:

- ``NOT`` is pushed down onto the operators (``NOT labels = x`` is ``labels != x``) and
  De Morgan's laws turn ``NOT (a AND b)`` into ``NOT a OR NOT b``;
- ``!=`` and ``NOT IN`` never match an issue whose field is empty;
- on a field with several values (``labels``, ``fixVersion``) ``=`` means "contains";
- ``EMPTY``/``NULL`` as a value (``= EMPTY``, ``IN (x, EMPTY)``) matches an empty field,
  and ``IS [NOT] EMPTY`` is ``= EMPTY`` (``!= EMPTY``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from typing import Any, TypeVar

from jira_chase.jql.syntax import EQUALITY, ORDERING, And, Clause, Field, Node, Not

__all__ = ["FIELDS", "NEGATED", "equality", "predicate"]


def _field(name: str, kind: str, ordering: bool = False, sortable: bool = True) -> Field:
    return Field(name, kind, EQUALITY | ORDERING if ordering else EQUALITY, sortable)


_FIELD_LIST = [
    (("project",), _field("project", "project")),
    (("status",), _field("status", "status")),
    (("statuscategory",), _field("statusCategory", "category", sortable=False)),
    (("key", "issuekey", "id", "issue"), _field("key", "issue", ordering=True)),
    (("parent",), _field("parent", "parent", sortable=False)),
    (("labels", "label"), _field("labels", "labels", sortable=False)),
    (("assignee",), _field("assignee", "user")),
    (("reporter",), _field("reporter", "user")),
    (("fixversion",), _field("fixVersion", "version", sortable=False)),
    (("type", "issuetype"), _field("issuetype", "type")),
    (("priority",), _field("priority", "priority")),
    (("created", "createddate"), _field("created", "datetime", ordering=True)),
    (("updated", "updateddate"), _field("updated", "datetime", ordering=True)),
    (("duedate", "due"), _field("duedate", "date", ordering=True)),
]
#: Field name or alias (lower case) -> the field.
FIELDS: dict[str, Field] = {alias: spec for aliases, spec in _FIELD_LIST for alias in aliases}

#: The operator that ``NOT`` turns each operator into.
NEGATED = {
    "=": "!=",
    "!=": "=",
    "in": "not in",
    "not in": "in",
    "is": "is not",
    "is not": "is",
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
}

T = TypeVar("T")
Predicate = Callable[[T], bool]


def predicate(
    node: Node, clause: Callable[[Clause, str], Predicate[T]], negate: bool = False
) -> Predicate[T]:
    """The predicate of a condition; ``clause(c, operator)`` gives the one of a clause
    under ``operator`` (its own, or the one ``NOT`` pushed down onto it)."""
    if isinstance(node, Not):
        return predicate(node.child, clause, not negate)
    if isinstance(node, Clause):
        return clause(node, NEGATED[node.operator] if negate else node.operator)
    parts = [predicate(child, clause, negate) for child in node.children]
    # De Morgan: under negation AND becomes OR and vice versa.
    if isinstance(node, And) != negate:
        return lambda issue: all(part(issue) for part in parts)
    return lambda issue: any(part(issue) for part in parts)


def equality(
    operator: str,
    get: Callable[[T], Any],
    wanted: Collection[Hashable],
    allow_empty: bool,
    *,
    many: bool,
) -> Predicate[T]:
    """Jira's ``=``, ``!=``, ``IN``, ``NOT IN``, ``IS``, ``IS NOT``.

    ``get`` reads the field: with ``many`` a collection of values (empty: the field is
    empty), otherwise one value or None. ``wanted`` are the operand's values and
    ``allow_empty`` says whether it names EMPTY (always so for ``IS``/``IS NOT``).
    """
    targets = frozenset(wanted)
    positive = operator in ("=", "in", "is")
    if many:
        if positive:
            return lambda issue: (
                bool(targets.intersection(have := get(issue))) or (allow_empty and not have)
            )
        return lambda issue: bool(have := get(issue)) and not targets.intersection(have)
    if positive:
        return lambda issue: (value := get(issue)) in targets or (allow_empty and value is None)
    return lambda issue: (value := get(issue)) is not None and value not in targets
