"""JQL syntax trees for property tests: render one as text (canonically or spelled another
way), and compare two by shape."""

from __future__ import annotations

import random
import re
from typing import Any

from jira_chase.jql.semantics import FIELDS
from jira_chase.jql.syntax import (
    RESERVED_WORDS,
    And,
    Clause,
    EmptyValue,
    Function,
    ListValue,
    Literal,
    Node,
    Not,
    Operand,
    Or,
    Query,
)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_operand(operand: Operand) -> str:
    if isinstance(operand, Literal):
        return quoted(operand.text)
    if isinstance(operand, EmptyValue):
        return "EMPTY"
    if isinstance(operand, Function):
        return f"{operand.name}({', '.join(quoted(arg) for arg in operand.args)})"
    return "(" + ", ".join(render_operand(item) for item in operand.items) + ")"


def render(node: Node) -> str:
    """``node`` as JQL, every sub-condition in parentheses."""
    if isinstance(node, Clause):
        return f"{node.field.name} {node.operator.upper()} {render_operand(node.operand)}"
    if isinstance(node, Not):
        return f"NOT ({render(node.child)})"
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(f"({render(child)})" for child in node.children)


def render_query(query: Query) -> str:
    text = render(query.where) if query.where is not None else ""
    if query.order_by:
        keys = ", ".join(f"{k.name} {'DESC' if k.descending else 'ASC'}" for k in query.order_by)
        text += f" ORDER BY {keys}"
    return text.strip()


def shape(node: Node | Operand) -> Any:
    """The tree without token positions, to compare two trees."""
    if isinstance(node, Literal):
        return ("literal", node.text)
    if isinstance(node, EmptyValue):
        return ("empty",)
    if isinstance(node, Function):
        return ("function", node.name.lower(), node.args)  # names are case-insensitive
    if isinstance(node, ListValue):
        return ("list", tuple(shape(item) for item in node.items))
    if isinstance(node, Clause):
        return ("clause", node.field.name, node.operator, shape(node.operand))
    if isinstance(node, Not):
        return ("not", shape(node.child))
    kind = "and" if isinstance(node, And) else "or"
    assert isinstance(node, (And, Or))
    return (kind, tuple(shape(child) for child in node.children))


_BARE = re.compile(r"[A-Za-z0-9_.@-]+")
_SPELLINGS = {
    "AND": ("AND", "and", "&&", "&"),
    "OR": ("OR", "or", "||", "|"),
    "NOT": ("NOT", "not", "Not", "!"),
    "EMPTY": ("EMPTY", "empty", "NULL", "null"),
}


def spell(node: Node, rng: random.Random) -> str:
    """``node`` as JQL written another way: aliases, keywords and quotes chosen at random
    (``&&`` for AND, ``!`` for NOT, bare words where they need no quotes, any case)."""

    def cased(text: str) -> str:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)

    def keyword(word: str) -> str:
        return rng.choice(_SPELLINGS[word])

    def value(operand: Operand) -> str:
        if isinstance(operand, EmptyValue):
            return keyword("EMPTY")
        if isinstance(operand, ListValue):
            return "(" + " , ".join(value(item) for item in operand.items) + ")"
        if isinstance(operand, Function):
            return f"{cased(operand.name)}({', '.join(quoted(a) for a in operand.args)})"
        text = operand.text
        if _BARE.fullmatch(text) and text.lower() not in RESERVED_WORDS and rng.random() < 0.5:
            return text
        if "'" not in text and "\\" not in text and rng.random() < 0.5:
            return f"'{text}'"
        return quoted(text)

    if isinstance(node, Clause):
        aliases = [alias for alias, spec in FIELDS.items() if spec == node.field]
        operator = cased(node.operator).replace(" ", "  ")
        return f"{cased(rng.choice(aliases))} {operator} {value(node.operand)}"
    if isinstance(node, Not):
        return f"{keyword('NOT')} ({spell(node.child, rng)})"
    joiner = "AND" if isinstance(node, And) else "OR"
    return f" {keyword(joiner)} ".join(f"({spell(child, rng)})" for child in node.children)
