"""The one JQL parser: round trips through text, tokens, and Jira's words for refusals."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_chase.jql.semantics import FIELDS
from jira_chase.jql.syntax import (
    ORDERING,
    And,
    Clause,
    EmptyValue,
    Function,
    JQLError,
    ListValue,
    Literal,
    Node,
    Not,
    Operand,
    Or,
    Query,
    SortKey,
    Vocabulary,
    parse,
    tokenize,
)
from tests.jql.trees import render_query, shape, spell

VOCABULARY = Vocabulary(FIELDS, functions=("currentUser", "now", "membersOf"))
DETERMINISTIC = settings(max_examples=200, deadline=None, derandomize=True, database=None)

texts = st.text(alphabet=st.sampled_from(list("ab Z9-_.'\"\\()=,!&|~<>\n")), max_size=12)
literals = st.builds(Literal, texts, st.just(0))
functions = st.builds(
    Function,
    st.sampled_from(["currentUser", "now", "membersOf"]),
    st.lists(texts, max_size=2).map(tuple),
    st.just(0),
)
values = st.one_of(literals, functions, st.just(EmptyValue(0)))
lists = st.builds(ListValue, st.lists(values, min_size=1, max_size=3).map(tuple), st.just(0))


@st.composite
def clauses(draw: st.DrawFn) -> Clause:
    spec = draw(st.sampled_from(sorted(set(FIELDS.values()), key=lambda f: f.name)))
    operator = draw(st.sampled_from(sorted(spec.operators)))
    operand: Operand
    if operator in ("is", "is not"):
        operand = EmptyValue(0)
    elif operator in ("in", "not in"):
        operand = draw(st.one_of(lists, functions))
    else:
        operand = draw(values)
    return Clause(spec, operator, operand, 0)


def _combine(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    several = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(children.map(Not), several.map(And), several.map(Or))


trees = st.recursive(clauses(), _combine, max_leaves=6)
sort_keys = st.lists(
    st.builds(
        SortKey,
        st.sampled_from(sorted({f.name for f in FIELDS.values()})),
        st.booleans(),
    ),
    max_size=3,
).map(tuple)
queries = st.builds(Query, st.just(""), st.one_of(st.none(), trees), sort_keys)


@DETERMINISTIC
@given(queries)
def test_parse_render_parse_keeps_the_tree(query: Query) -> None:
    text = render_query(query)
    parsed = parse(text, VOCABULARY)
    assert (parsed.where is None) == (query.where is None)
    if query.where is not None:
        assert parsed.where is not None
        assert shape(parsed.where) == shape(query.where)
    assert parsed.order_by == query.order_by
    assert render_query(parsed) == text


def test_tokens_and_their_positions() -> None:
    tokens = tokenize("a!=b&&c||!(d) 'x\\'y'")
    assert [(t.kind, t.text, t.pos) for t in tokens] == [
        ("word", "a", 0),
        ("op", "!=", 1),
        ("word", "b", 3),
        ("word", "and", 4),
        ("word", "c", 6),
        ("word", "or", 7),
        ("word", "not", 9),
        ("lparen", "(", 10),
        ("word", "d", 11),
        ("rparen", ")", 12),
        ("string", "x'y", 14),
        ("eof", "", 20),
    ]
    assert [(t.kind, t.text, t.pos) for t in tokenize("a = 'open")] == [
        ("word", "a", 0),
        ("op", "=", 2),
        ("unclosed", "'open", 4),
        ("eof", "", 9),
    ]


def test_precedence_not_binds_tightest_then_and_then_or() -> None:
    where = parse("status = a OR NOT status = b AND status = c", VOCABULARY).where
    assert isinstance(where, Or)
    assert isinstance(where.children[1], And)
    assert isinstance(where.children[1].children[0], Not)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("foo = bar", "Field 'foo' does not exist or you do not have permission to view it."),
        ("labels > x", "The operator '>' is not supported by the 'labels' field."),
        ("assignee = someone()", "Unable to find JQL function 'someone()'."),
        ("assignee in someone()", "Unable to find JQL function 'someone()'."),
        ("status in Done", "Expecting '(' to start a list of values after 'IN' but got 'Done'."),
        ("created < 'now", "The quoted string 'now has not been completed. (line 1, character 11)"),
        ("project = x ORDER BY foo", "Field 'foo' does not exist"),
    ],
)
def test_the_base_vocabulary_refuses_in_jiras_words(query: str, message: str) -> None:
    with pytest.raises(JQLError) as raised:
        parse(query, VOCABULARY)
    assert message in str(raised.value)


def test_a_function_may_give_the_list_of_in() -> None:
    where = parse("assignee in membersOf('devs') AND created < now()", VOCABULARY).where
    assert isinstance(where, And)
    first, second = where.children
    assert isinstance(first, Clause) and first.operand == Function("membersOf", ("devs",), 12)
    assert isinstance(second, Clause) and second.operator in ORDERING


@DETERMINISTIC
@given(trees, st.randoms(use_true_random=False))
def test_every_spelling_of_a_query_parses_to_the_same_tree(tree: Node, rng: Random) -> None:
    assert shape(parse(spell(tree, rng), VOCABULARY).where) == shape(tree)
