"""A small JQL subset, matched in pure Python against fetched issues.

Goal scopes are JQL *within* the tracker scope: the issues are already fetched, so a
goal's scope is evaluated here instead of asking the tracker again. Supported:

- fields `project`, `key`/`issuekey`, `type`/`issuetype`, `priority`, `status`,
  `labels`/`label`, `fixVersion`, `parent`, `assignee` (account id or display name);
- operators `=`, `!=`, `IN`, `NOT IN`, `IS [NOT] EMPTY|NULL`;
- `AND`, `OR`, `NOT`, parentheses; values as words or "double"/'single' quoted strings;
- a trailing `ORDER BY ...` is accepted and ignored.

Semantics follow Jira: values compare case-insensitively; on list fields (`labels`,
`fixVersion`) `=` means "contains"; `!=` and `NOT IN` never match an empty field, and
`NOT` is pushed down onto the operators (`NOT labels = x` is `labels != x`).
Anything else raises `FilterError` with a message that says what is not understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from jira_chase.model import Issue

__all__ = ["FIELDS", "Filter", "FilterError", "parse"]


class FilterError(ValueError):
    """A query outside the supported subset, or not valid JQL."""


def _values(getter: Callable[[Issue], object]) -> Callable[[Issue], tuple[str, ...]]:
    def values(issue: Issue) -> tuple[str, ...]:
        value = getter(issue)
        if value is None:
            return ()
        if isinstance(value, tuple):
            return tuple(str(v).casefold() for v in value)
        return (str(value).casefold(),)

    return values


def _assignee(issue: Issue) -> tuple[str, ...]:
    if issue.assignee is None:
        return ()
    return (issue.assignee.id.casefold(), issue.assignee.name.casefold())


#: JQL field name (lower case) -> the issue's values for it, case-folded.
FIELDS: dict[str, Callable[[Issue], tuple[str, ...]]] = {
    "project": _values(lambda i: i.project),
    "key": _values(lambda i: i.key),
    "issuekey": _values(lambda i: i.key),
    "type": _values(lambda i: i.type),
    "issuetype": _values(lambda i: i.type),
    "priority": _values(lambda i: i.priority),
    "status": _values(lambda i: i.status),
    "labels": _values(lambda i: i.labels),
    "label": _values(lambda i: i.labels),
    "fixversion": _values(lambda i: i.fix_versions),
    "parent": _values(lambda i: i.parent),
    "assignee": _assignee,
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|=|\(|\)|,|!)
      | (?P<word>[^\s=!(),"']+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # string | op | word
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.casefold() in words


def _tokens(text: str) -> list[_Token]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterError(f"cannot read the query at {text[pos:].strip()[:20]!r}")
        pos = match.end()
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(_Token(kind, value))
    return tokens


def without_order_by(text: str) -> str:
    """The query without its trailing `ORDER BY ...`, so it can be nested in another
    (`NOT (scope)`); text that is not understood is returned as it is."""
    pos, depth, words = 0, 0, []
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            return text.strip()
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "op" and value == "(":
            depth += 1
        elif kind == "op" and value == ")":
            depth -= 1
        elif kind == "word" and depth == 0:
            words.append((value.casefold(), match.start(kind)))
        pos = match.end()
    for (word, start), (after, _) in zip(words, words[1:]):
        if word == "order" and after == "by":
            return text[:start].strip()
    return text.strip()


@dataclass(frozen=True)
class _Clause:
    field: str
    op: str  # = != in not-in empty not-empty
    values: tuple[str, ...] = ()

    def matches(self, issue: Issue, negated: bool) -> bool:
        have = FIELDS[self.field](issue)
        op = self.op
        if negated:
            op = {
                "=": "!=",
                "!=": "=",
                "in": "not-in",
                "not-in": "in",
                "empty": "not-empty",
                "not-empty": "empty",
            }[op]
        if op == "empty":
            return not have
        if op == "not-empty":
            return bool(have)
        hit = any(v in have for v in self.values)
        if op in ("=", "in"):
            return hit
        return bool(have) and not hit  # != and NOT IN never match an empty field


@dataclass(frozen=True)
class _Node:
    op: str  # and | or | not
    children: tuple[_Node | _Clause, ...]

    def matches(self, issue: Issue, negated: bool) -> bool:
        if self.op == "not":
            return _match(self.children[0], issue, not negated)
        results = (_match(child, issue, negated) for child in self.children)
        conjunction = (self.op == "and") != negated  # De Morgan under NOT
        return all(results) if conjunction else any(results)


def _match(node: _Node | _Clause, issue: Issue, negated: bool) -> bool:
    return node.matches(issue, negated)


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterError("the query ends too early")
        self.pos += 1
        return token

    def expect_op(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != op:
            raise FilterError(f"expected {op!r} but found {token.text!r}")

    def query(self) -> _Node | _Clause:
        node = self.or_expr()
        token = self.peek()
        if token is not None and token.is_word("order"):
            self.pos = len(self.tokens)  # ORDER BY does not change which issues match
        elif token is not None:
            raise FilterError(f"unexpected {token.text!r}")
        return node

    def or_expr(self) -> _Node | _Clause:
        parts = [self.and_expr()]
        while (token := self.peek()) is not None and token.is_word("or", "||"):
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else _Node("or", tuple(parts))

    def and_expr(self) -> _Node | _Clause:
        parts = [self.not_expr()]
        while (token := self.peek()) is not None and token.is_word("and", "&&"):
            self.pos += 1
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else _Node("and", tuple(parts))

    def not_expr(self) -> _Node | _Clause:
        token = self.peek()
        if token is not None and (token.is_word("not") or (token.kind, token.text) == ("op", "!")):
            self.pos += 1
            return _Node("not", (self.not_expr(),))
        if token is not None and token.kind == "op" and token.text == "(":
            self.pos += 1
            node = self.or_expr()
            self.expect_op(")")
            return node
        return self.clause()

    def clause(self) -> _Clause:
        token = self.take()
        if token.kind == "op":
            raise FilterError(f"expected a field name but found {token.text!r}")
        name = token.text.casefold()
        if name not in FIELDS:
            supported = "project, key, type, priority, status, labels, fixVersion, parent, assignee"
            raise FilterError(f"field {token.text!r} is not supported here (use: {supported})")
        op_token = self.take()
        if op_token.kind == "op" and op_token.text in ("=", "!="):
            return _Clause(name, op_token.text, (self.value(),))
        if op_token.is_word("in"):
            return _Clause(name, "in", self.value_list())
        if op_token.is_word("not"):
            if not self.take().is_word("in"):
                raise FilterError(f"expected IN after NOT in the clause on {token.text!r}")
            return _Clause(name, "not-in", self.value_list())
        if op_token.is_word("is"):
            nxt = self.take()
            negate = nxt.is_word("not")
            if negate:
                nxt = self.take()
            if not nxt.is_word("empty", "null"):
                raise FilterError(f"expected EMPTY after IS, found {nxt.text!r}")
            return _Clause(name, "not-empty" if negate else "empty")
        raise FilterError(
            f"operator {op_token.text!r} is not supported (use =, !=, IN, NOT IN, IS EMPTY)"
        )

    def value(self) -> str:
        token = self.take()
        if token.kind == "op":
            raise FilterError(f"expected a value but found {token.text!r}")
        if token.kind == "word" and self._is_function_call():
            raise FilterError(f"functions such as {token.text}() are not supported")
        return token.text.casefold()

    def _is_function_call(self) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text == "("

    def value_list(self) -> tuple[str, ...]:
        token = self.peek()
        if token is not None and token.kind == "word":
            self.pos += 1
            if self._is_function_call():
                raise FilterError(f"functions such as {token.text}() are not supported")
            raise FilterError(f"expected a list in parentheses, found {token.text!r}")
        self.expect_op("(")
        values = [self.value()]
        while (token := self.peek()) is not None and token.kind == "op" and token.text == ",":
            self.pos += 1
            values.append(self.value())
        self.expect_op(")")
        return tuple(values)


@dataclass(frozen=True)
class Filter:
    """A parsed query; `matches(issue)` says whether the issue is selected."""

    text: str
    root: _Node | _Clause

    def matches(self, issue: Issue) -> bool:
        return _match(self.root, issue, False)


def parse(text: str) -> Filter:
    """Parse `text`; raises FilterError naming what is not understood."""
    tokens = _tokens(text)
    if not tokens:
        raise FilterError("the query is empty")
    return Filter(text, _Parser(tokens).query())
