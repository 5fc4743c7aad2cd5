"""Goal scopes: JQL matched against fetched issues, and composing JQL for the tracker."""

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_chase.jql import FilterError, parse_scope, without_order_by
from tests.factories import make_issue


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("project = APP ORDER BY key", "project = APP"),
        ("project = APP", "project = APP"),
        ('summary ~ "order by" order by rank', 'summary ~ "order by"'),
        ("(a = b order by c)", "(a = b order by c)"),
        (
            'project = "X" AND status = Done ORDER BY created DESC',
            'project = "X" AND status = Done',
        ),
    ],
)
def test_without_order_by_keeps_the_condition(query, expected):
    assert without_order_by(query) == expected


def test_without_order_by_leaves_text_it_cannot_read_alone():
    assert without_order_by('  summary ~ "open ORDER BY key  ') == 'summary ~ "open ORDER BY key'


BARE = replace(make_issue("APP-7"), labels=(), fix_versions=(), assignee=None)
TAGGED = replace(make_issue("APP-8"), labels=("empty",), fix_versions=("1.4",))


@pytest.mark.parametrize(
    ("query", "bare", "tagged"),
    [
        # EMPTY and NULL are Jira's keywords for "no value", not a value named "empty".
        ("labels = EMPTY", True, False),
        ("labels = 'empty'", False, True),
        ("labels != null", False, True),
        ("fixVersion in (EMPTY, 1.5)", True, False),
        ("fixVersion not in (EMPTY, 1.5)", False, True),
        ("assignee = EMPTY", True, False),
        ("NOT assignee = EMPTY", False, True),
        # People by account id, display name or email address.
        ("assignee = 'ANN@example.com'", False, True),
        ("assignee in ('ann lee', u-bob)", False, True),
        # && and || need no spaces around them.
        ("project = APP&&labels is empty", True, False),
        ("key = app-9||key = APP-8", False, True),
        # A trailing ORDER BY on any field is ignored.
        ("project = APP ORDER BY rank, created DESC", True, True),
    ],
)
def test_the_scope_matcher_reads_jql_as_jira_does(query, bare, tagged):
    matcher = parse_scope(query)
    assert (matcher.matches(BARE), matcher.matches(TAGGED)) == (bare, tagged)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status = and", "expected a value but found 'and' (quote it to use it as a value)"),
        ("labels in (a, order)", "expected a value but found 'order'"),
        ("project = APP ORDER key", "expected BY after ORDER, found 'key'"),
        ("project = APP ORDER BY", "the query ends too early"),
        ("ORDER BY key", "the query is empty"),
        ("assignee in membersOf(devs)", "functions such as membersOf() are not supported"),
        ("status = 'Done", 'cannot read the query at "\'Done": the quote is not closed'),
        ("status IS Done", "expected EMPTY after IS, found 'Done'"),
        ("status = (Done)", "expected a value but found '('"),
        ("status in Done", "expected a list in parentheses, found 'Done'"),
        ("status ~ Done", "operator '~' is not supported"),
        ("status Done", "operator 'Done' is not supported"),
        ("project = APP )", "unexpected ')'"),
        ("(project = APP", "the query ends too early"),
        ("= APP", "expected a field name but found '='"),
    ],
)
def test_the_scope_matcher_refuses_what_jira_refuses(query, message):
    with pytest.raises(FilterError, match=re.escape(message)):
        parse_scope(query)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.sampled_from(list("()=!<>~,'\"&| -abeilnoprstyAPNDO0123")), max_size=40))
def test_any_text_is_a_scope_or_a_filter_error(text):
    try:
        matcher = parse_scope(text)
    except FilterError:
        return
    matcher.matches(BARE)
    matcher.matches(TAGGED)
