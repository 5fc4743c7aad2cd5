"""JQL's syntax: one tokenizer and one parser giving one syntax tree.

``parse(text, vocabulary)`` reads a query into a :class:`Query` (its condition and its
``ORDER BY``). The :class:`Vocabulary` says which fields and functions the use at hand
supports and words its refusals; the base words them as Jira does, with the line and
character of the offending token.

Supported: clauses ``field operator operand`` with ``=``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``~``, ``!~``, ``IN``, ``NOT IN``, ``IS [NOT]``, ``WAS [NOT] [IN]``, ``CHANGED``
(the field says which it supports); ``AND``/``&&``/``&``, ``OR``/``||``/``|``,
``NOT``/``!``, parentheses; values as words, "double" or 'single' quoted strings
(backslash escapes the next character), ``EMPTY``/``NULL``, lists ``(a, b)`` and
functions ``name(arg, ...)``; ``ORDER BY field [ASC|DESC], ...``. Keywords, field and
function names are case-insensitive; a keyword used as a value must be quoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "EQUALITY",
    "ORDERING",
    "And",
    "Clause",
    "EmptyValue",
    "Field",
    "Function",
    "JQLError",
    "ListValue",
    "Literal",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Problem",
    "Query",
    "SortKey",
    "Token",
    "Value",
    "Vocabulary",
    "parse",
    "position",
    "tokenize",
]


class JQLError(ValueError):
    """A query that cannot be run; the base vocabulary's messages read like Jira's."""


EQUALITY = frozenset({"=", "!=", "in", "not in", "is", "is not"})
ORDERING = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True)
class Field:
    """A JQL field: its canonical name, what its values are, and what it supports."""

    name: str
    #: project status category issue parent user labels version type priority datetime date
    kind: str
    operators: frozenset[str]
    sortable: bool


# -- tokens -----------------------------------------------------------------------------

_SPECIAL = "()=,!<>~\"'&|"
RESERVED_WORDS = frozenset({"and", "or", "not", "empty", "null", "order", "by", "in", "is"})


@dataclass(frozen=True)
class Token:
    kind: str  # word string op lparen rparen comma unclosed eof
    text: str
    pos: int

    @property
    def word(self) -> str:
        """The lower-cased text of an unquoted word (keywords compare with this)."""
        return self.text.lower() if self.kind == "word" else ""

    def shown(self) -> str:
        return "the end of the query" if self.kind == "eof" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``eof`` token. A quoted string that is not
    closed becomes an ``unclosed`` token holding the rest of the text, just before eof."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "\"'":
            j = i + 1
            chars: list[str] = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(text[j])
                j += 1
            if j >= n:
                tokens.append(Token("unclosed", text[i:], i))
                break
            tokens.append(Token("string", "".join(chars), i))
            i = j + 1
        elif c == "(":
            tokens.append(Token("lparen", c, i))
            i += 1
        elif c == ")":
            tokens.append(Token("rparen", c, i))
            i += 1
        elif c == ",":
            tokens.append(Token("comma", c, i))
            i += 1
        elif c in "!<>=~":
            two = text[i : i + 2]
            if two in ("!=", "<=", ">=", "!~"):
                tokens.append(Token("op", two, i))
                i += 2
            elif c == "!":
                tokens.append(Token("word", "not", i))
                i += 1
            else:
                tokens.append(Token("op", c, i))
                i += 1
        elif c in "&|":
            j = i + 2 if text[i : i + 2] in ("&&", "||") else i + 1
            tokens.append(Token("word", "and" if c == "&" else "or", i))
            i = j
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            tokens.append(Token("word", text[i:j], i))
            i = j
    tokens.append(Token("eof", "", n))
    return tokens


# -- syntax tree ----------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    text: str
    pos: int


@dataclass(frozen=True)
class Function:
    name: str  # as written
    args: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class EmptyValue:
    pos: int


Value = Literal | Function | EmptyValue


@dataclass(frozen=True)
class ListValue:
    items: tuple[Value, ...]
    pos: int


Operand = Value | ListValue


@dataclass(frozen=True)
class Clause:
    field: Field
    operator: str  # lower case: "=", "not in", "is not", ...
    operand: Operand
    pos: int

    @property
    def values(self) -> tuple[Value, ...]:
        """The operand's values (one, or the items of a list)."""
        operand = self.operand
        return operand.items if isinstance(operand, ListValue) else (operand,)


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Clause | Not | And | Or


@dataclass(frozen=True)
class SortKey:
    name: str  # the field as written; the vocabulary accepted it for sorting
    descending: bool


@dataclass(frozen=True)
class Query:
    """A parsed query: ``where`` is None for a query without conditions."""

    text: str
    where: Node | None
    order_by: tuple[SortKey, ...]


# -- refusals -----------------------------------------------------------------------------


def position(text: str, pos: int) -> str:
    """Where ``pos`` is in ``text``, as Jira says it: ``(line 1, character 5)``."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"(line {line}, character {column})"


_VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN',"
    " 'IS' and 'IS NOT'."
)
_VALUE = "Expecting either a value, list or function but got {shown}."
#: Jira's words for each kind of syntax error.
_SYNTAX = {
    "unclosed": "The quoted string {text} has not been completed.",
    "rparen": "Expecting ')' but got {shown}.",
    "and-or": "Expecting either 'OR' or 'AND' but got {shown}.",
    "field-name": "Expecting a field name but got {shown}.",
    "operator-word": "Expecting operator but got {shown}. " + _VALID_OPERATORS,
    "list": "Expecting '(' to start a list of values after '{OPERATOR}' but got {shown}.",
    "no-list": "The operator '{operator}' does not support a list of values.",
    "is-empty": "The operator '{OPERATOR}' only supports the value 'EMPTY' or 'NULL'.",
    "value": _VALUE,
    "reserved": _VALUE + " You must surround '{text}' in quotation marks to use it as a value.",
    "by": "Expecting 'by' but got {shown}.",
}


@dataclass(frozen=True)
class Problem:
    """Why a query is refused, for the vocabulary to word.

    ``kind`` is a syntax error (a key of the syntax table: ``rparen``, ``value``, ...) or
    ``field`` (unknown field), ``operator`` (not supported by ``field``) or ``function``
    (unknown function). ``token`` is the offending token; ``operator`` the clause's
    operator where it matters.
    """

    kind: str
    token: Token
    text: str
    operator: str = ""
    field: str = ""

    @property
    def where(self) -> str:
        return position(self.text, self.token.pos)

    @property
    def syntax(self) -> bool:
        return self.kind in _SYNTAX

    def jira(self) -> str:
        """The problem in Jira's words."""
        token = self.token
        if self.syntax:
            message = _SYNTAX[self.kind].format(
                shown=token.shown(),
                text=token.text,
                operator=self.operator,
                OPERATOR=self.operator.upper(),
            )
            return f"Error in the JQL Query: {message} {self.where}"
        if self.kind == "field":
            return f"Field '{token.text}' does not exist or you do not have permission to view it."
        if self.kind == "operator":
            return (
                f"The operator '{self.operator}' is not supported by the '{self.field}' field."
                f" {self.where}"
            )
        return f"Unable to find JQL function '{token.text}()'."


class Vocabulary:
    """The fields (by lower-case name or alias) and functions one use of JQL supports,
    and how it words a refusal (as Jira does, unless a subclass says otherwise)."""

    def __init__(self, fields: Mapping[str, Field], functions: Iterable[str] = ()) -> None:
        self.fields = dict(fields)
        self.functions = frozenset(name.lower() for name in functions)

    def refuse(self, problem: Problem) -> Exception:
        return JQLError(problem.jira())

    def field(self, token: Token, text: str) -> Field:
        spec = self.fields.get(token.text.lower())
        if spec is None:
            raise self.refuse(Problem("field", token, text))
        return spec

    def function(self, token: Token, text: str) -> None:
        if token.text.lower() not in self.functions:
            raise self.refuse(Problem("function", token, text))

    def sort(self, token: Token, text: str) -> None:
        """Accept ``token`` as an ``ORDER BY`` field, or raise."""
        self.field(token, text)


def parse(text: str, vocabulary: Vocabulary) -> Query:
    """Parse JQL ``text``; raise what ``vocabulary.refuse`` gives for anything it does not
    support."""
    return _Parser(text, vocabulary).parse()


# -- parser -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, vocabulary: Vocabulary) -> None:
        self.text = text
        self.vocabulary = vocabulary
        self.tokens = tokenize(text)
        self.index = 0
        if len(self.tokens) > 1 and self.tokens[-2].kind == "unclosed":
            raise self.error("unclosed", self.tokens[-2])

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    @property
    def after(self) -> Token:
        """The token after the current one (eof at the end)."""
        return self.tokens[min(self.index + 1, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, kind: str, token: Token | None = None, operator: str = "") -> Exception:
        return self.vocabulary.refuse(Problem(kind, token or self.token, self.text, operator))

    def parse(self) -> Query:
        where = None
        if self.token.kind != "eof" and self.token.word != "order":
            where = self.parse_or()
        order_by: tuple[SortKey, ...] = ()
        if self.token.word == "order":
            order_by = self.parse_order_by()
        if self.token.kind != "eof":
            raise self.error("and-or")
        return Query(self.text, where, order_by)

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.token.word == "or":
            self.advance()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_not()]
        while self.token.word == "and":
            self.advance()
            children.append(self.parse_not())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_not(self) -> Node:
        if self.token.word == "not":
            self.advance()
            return Not(self.parse_not())
        if self.token.kind == "lparen":
            self.advance()
            inner = self.parse_or()
            if self.token.kind != "rparen":
                raise self.error("rparen")
            self.advance()
            return inner
        return self.parse_clause()

    def parse_clause(self) -> Clause:
        token = self.token
        if token.kind not in ("word", "string") or token.word in RESERVED_WORDS:
            raise self.error("field-name")
        self.advance()
        spec = self.vocabulary.field(token, self.text)
        operator_token = self.token
        operator = self.parse_operator()
        if operator not in spec.operators:
            raise self.vocabulary.refuse(
                Problem("operator", operator_token, self.text, operator, spec.name)
            )
        operand = self.parse_operand(operator)
        return Clause(spec, operator, operand, token.pos)

    def parse_operator(self) -> str:
        token = self.token
        if token.kind == "op":
            self.advance()
            return token.text
        word = token.word
        if word in ("in", "is", "was", "changed"):
            self.advance()
            if word in ("is", "was") and self.token.word == "not":
                self.advance()
                word += " not"
            if word.startswith("was") and self.token.word == "in":
                self.advance()
                word += " in"
            return word
        if word == "not" and self.after.word == "in":
            self.advance()
            self.advance()
            return "not in"
        raise self.error("operator-word")

    def parse_operand(self, operator: str) -> Operand:
        token = self.token
        if operator in ("in", "not in"):
            if token.word and token.word not in RESERVED_WORDS and self.after.kind == "lparen":
                return self.parse_value()  # a function giving a list: membersOf(...)
            if token.kind != "lparen":
                raise self.error("list", operator=operator)
            self.advance()
            items = [self.parse_value()]
            while self.token.kind == "comma":
                self.advance()
                items.append(self.parse_value())
            if self.token.kind != "rparen":
                raise self.error("rparen")
            self.advance()
            return ListValue(tuple(items), token.pos)
        if token.kind == "lparen":
            raise self.error("no-list", operator=operator)
        value = self.parse_value()
        if operator in ("is", "is not") and not isinstance(value, EmptyValue):
            raise self.error("is-empty", token, operator)
        return value

    def parse_value(self) -> Value:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Literal(token.text, token.pos)
        if token.kind != "word":
            raise self.error("value")
        if token.word in ("empty", "null"):
            self.advance()
            return EmptyValue(token.pos)
        if token.word in RESERVED_WORDS:
            raise self.error("reserved")
        self.advance()
        if self.token.kind != "lparen":
            return Literal(token.text, token.pos)
        self.vocabulary.function(token, self.text)
        self.advance()
        args: list[str] = []
        while self.token.kind in ("word", "string"):
            args.append(self.advance().text)
            if self.token.kind != "comma":
                break
            self.advance()
        if self.token.kind != "rparen":
            raise self.error("rparen")
        self.advance()
        return Function(token.text, tuple(args), token.pos)

    def parse_order_by(self) -> tuple[SortKey, ...]:
        self.advance()
        if self.token.word != "by":
            raise self.error("by")
        self.advance()
        keys = []
        while True:
            token = self.token
            if token.kind not in ("word", "string") or token.word in RESERVED_WORDS:
                raise self.error("field-name")
            self.advance()
            self.vocabulary.sort(token, self.text)
            descending = False
            if self.token.word in ("asc", "desc"):
                descending = self.advance().word == "desc"
            keys.append(SortKey(token.text, descending))
            if self.token.kind != "comma":
                return tuple(keys)
            self.advance()
