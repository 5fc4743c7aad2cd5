"""JQL syntax trees for property tests: render one as text, and compare two by shape."""

from __future__ import annotations

from typing import Any

from jira_chase.jql.syntax import (
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
        return ("function", node.name, node.args)
    if isinstance(node, ListValue):
        return ("list", tuple(shape(item) for item in node.items))
    if isinstance(node, Clause):
        return ("clause", node.field.name, node.operator, shape(node.operand))
    if isinstance(node, Not):
        return ("not", shape(node.child))
    kind = "and" if isinstance(node, And) else "or"
    assert isinstance(node, (And, Or))
    return (kind, tuple(shape(child) for child in node.children))
