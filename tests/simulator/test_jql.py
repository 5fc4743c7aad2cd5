"""The simulator's JQL subset: table tests for answers and errors, properties for the logic."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jira_chase.simulator import Dataset, load_dataset
from jira_chase.simulator.jql import JQLError, parse, parse_period
from tests.conftest import NOW, build_demo_like_dataset

DATASET: Dataset = load_dataset(build_demo_like_dataset())
ALL_KEYS = frozenset(DATASET.issues)


def search(jql: str, user: str | None = "u-ann") -> list[str]:
    prepared = parse(jql).prepare(DATASET, now=NOW, current_user=user)
    return [issue.key for issue in prepared.select(DATASET.issues.values())]


def matching(jql: str) -> frozenset[str]:
    return frozenset(search(jql))


# -- answers ----------------------------------------------------------------------------------

ANSWERS = [
    ("project = APP ORDER BY key", "APP-1 APP-2 APP-3 APP-4 APP-5 APP-10 APP-11"),
    # Without ORDER BY: newest first.
    ("project = ops", "OPS-8 OPS-7 OPS-9"),
    ("project = 'Platform team' ORDER BY key DESC", "OPS-9 OPS-8 OPS-7"),
    ('status = "In Progress" ORDER BY key', "APP-2 APP-5 APP-10 OPS-7"),
    ("statusCategory = indeterminate ORDER BY key", "APP-1 APP-2 APP-5 APP-10 OPS-7"),
    ("statusCategory = 'To Do' ORDER BY key", "APP-3 OPS-8"),
    ("statusCategory != Done ORDER BY key", "APP-1 APP-2 APP-3 APP-5 APP-10 OPS-7 OPS-8"),
    ("key = APP-1", "APP-1"),
    ("issuekey in (APP-2, ops-7) ORDER BY key", "APP-2 OPS-7"),
    ("key > APP-4 ORDER BY key", "APP-5 APP-10 APP-11"),
    ("labels = infra ORDER BY key", "OPS-7 OPS-8"),
    # Jira: != and NOT IN never match an empty field; NOT is pushed onto the operator.
    ("labels != infra ORDER BY key", "APP-1 APP-2"),
    ("NOT labels = infra ORDER BY key", "APP-1 APP-2"),
    ("labels not in (customer, infra) ORDER BY key", "APP-2"),
    ("labels is EMPTY ORDER BY key", "APP-3 APP-4 APP-5 APP-10 APP-11 OPS-9"),
    ("labels = EMPTY ORDER BY key", "APP-3 APP-4 APP-5 APP-10 APP-11 OPS-9"),
    ("assignee = currentUser() ORDER BY key", "APP-1 APP-10"),
    ("assignee = 'Bob Stone' ORDER BY key", "APP-2 APP-11 OPS-9"),
    ("assignee = cat@example.com ORDER BY key", "APP-4 APP-5 OPS-7"),
    ("assignee is EMPTY ORDER BY key", "APP-3 OPS-8"),
    ("assignee IS NOT NULL AND project = OPS ORDER BY key", "OPS-7 OPS-9"),
    ("assignee != u-ann ORDER BY key", "APP-2 APP-4 APP-5 APP-11 OPS-7 OPS-9"),
    ("assignee in (u-ann, EMPTY) ORDER BY key", "APP-1 APP-3 APP-10 OPS-8"),
    ("reporter = u-cat ORDER BY key", "APP-5 OPS-8"),
    ("fixVersion = beta ORDER BY key", "APP-1 APP-3 APP-4"),
    ("type = Bug ORDER BY key", "APP-2 OPS-8"),
    ("issuetype in (Epic, Task) ORDER BY key", "APP-4 APP-10 OPS-7 OPS-9"),
    ("priority = Highest ORDER BY key", "APP-11 OPS-7"),
    ("parent = APP-10", "APP-1"),
    ("created >= '2026-10-12' ORDER BY key", "APP-5 APP-11 OPS-8"),
    ("created < 2026/10/02 ORDER BY key", "APP-1 APP-10 OPS-9"),
    ('created <= "2026-10-01 09:00" ORDER BY key', "APP-1 APP-10 OPS-9"),
    ("updated >= -20d ORDER BY key", "APP-1 OPS-7"),
    ('updated >= "-3w" ORDER BY key', "APP-1 OPS-7 OPS-8"),
    ("updated > -480h ORDER BY key", "APP-1 OPS-7"),
    ("updated > startOfDay(-21d) ORDER BY key", "APP-1 APP-5 OPS-7 OPS-8"),
    ("duedate < now() ORDER BY key", "APP-2"),
    ("due is not EMPTY ORDER BY duedate", "APP-2 APP-1"),
    (
        "project = APP AND (status = Done OR priority = High) ORDER BY key",
        "APP-2 APP-4 APP-10 APP-11",
    ),
    ("project = APP AND NOT (status = Done OR status = 'In Progress') ORDER BY key", "APP-1 APP-3"),
    ("project = OPS || labels = customer ORDER BY key", "APP-1 OPS-7 OPS-8 OPS-9"),
    ("PROJECT = APP and STATUS = done order by KEY desc", "APP-11 APP-4"),
    (
        "project = APP ORDER BY priority DESC, key",
        "APP-11 APP-2 APP-10 APP-1 APP-4 APP-5 APP-3",
    ),
    ("project = APP ORDER BY status, key", "APP-3 APP-2 APP-5 APP-10 APP-1 APP-4 APP-11"),
    ("project = APP ORDER BY updated DESC", "APP-1 APP-5 APP-11 APP-3 APP-4 APP-2 APP-10"),
    # Empty values sort last ascending.
    ("project = APP ORDER BY assignee, key", "APP-1 APP-10 APP-2 APP-11 APP-4 APP-5 APP-3"),
]


@pytest.mark.parametrize(("jql", "expected"), ANSWERS, ids=[a[0] for a in ANSWERS])
def test_query_answers(jql: str, expected: str) -> None:
    assert search(jql) == expected.split()


# -- errors -----------------------------------------------------------------------------------

SYNTAX_ERRORS = [
    (
        "project = APP AND (status = Done xyz",
        "Error in the JQL Query: Expecting ')' but got 'xyz'. (line 1, character 34)",
    ),
    (
        "status = Done\nAND (project = APP",
        "Error in the JQL Query: Expecting ')' but got the end of the query."
        " (line 2, character 19)",
    ),
    ("foo = bar", "Field 'foo' does not exist or you do not have permission to view it."),
    (
        "summary ~ checkout",
        "Field 'summary' is not supported by the simulator's JQL subset. (line 1, character 1)",
    ),
    (
        "status ~ Done",
        "The operator '~' is not supported by the 'status' field. (line 1, character 8)",
    ),
    ("labels < x", "The operator '<' is not supported by the 'labels' field."),
    ("status WAS Done", "The operator 'was' is not supported by the 'status' field."),
    (
        "project = ",
        "Error in the JQL Query: Expecting either a value, list or function but got the end of"
        " the query. (line 1, character 11)",
    ),
    ("project APP", "Error in the JQL Query: Expecting operator but got 'APP'."),
    (
        "project = APP status = Done",
        "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'status'."
        " (line 1, character 15)",
    ),
    ("project = 'APP", "Error in the JQL Query: The quoted string 'APP has not been completed."),
    ("status = and", "You must surround 'and' in quotation marks to use it as a value."),
    ("assignee = someone()", "Unable to find JQL function 'someone()'."),
    (
        "assignee = membersOf(devs)",
        "The function 'membersOf' is not supported by the simulator's JQL subset.",
    ),
    ("project = APP ORDER BY key, labels", "Sorting by 'labels' is not supported"),
    ("project = APP ORDER key", "Error in the JQL Query: Expecting 'by' but got 'key'."),
    ("status IS Done", "The operator 'IS' only supports the value 'EMPTY' or 'NULL'."),
    ("status in Done", "Expecting '(' to start a list of values after 'IN' but got 'Done'."),
    ("status = (Done, Open)", "The operator '=' does not support a list of values."),
    ("= Done", "Error in the JQL Query: Expecting a field name but got '='."),
]


@pytest.mark.parametrize(("jql", "message"), SYNTAX_ERRORS, ids=[e[0] for e in SYNTAX_ERRORS])
def test_queries_outside_the_subset_fail_with_a_jira_like_message(jql: str, message: str) -> None:
    with pytest.raises(JQLError) as raised:
        search(jql)
    assert message in str(raised.value)


VALUE_ERRORS = [
    ("status = Blocked", "The value 'Blocked' does not exist for the field 'status'."),
    ("project = WEB", "The value 'WEB' does not exist for the field 'project'."),
    ("assignee = nobody@example.com", "does not exist for the field 'assignee'."),
    ("key = APP-99", "An issue with key 'APP-99' does not exist for field 'key'."),
    ("key > APP-99", "An issue with key 'APP-99' does not exist for field 'key'."),
    ("fixVersion = Gamma", "The value 'Gamma' does not exist for the field 'fixVersion'."),
    ("type = Spike", "The value 'Spike' does not exist for the field 'issuetype'."),
    ("statusCategory = Blocked", "does not exist for the field 'statusCategory'."),
    ("updated > yesterday", "Date value 'yesterday' for field 'updated' is invalid."),
    ("updated > startOfDay(soon)", "expects a period such as '-1d'"),
    ("status = currentUser()", "The function 'currentUser' is not valid for the field 'status'."),
    ("updated < EMPTY", "The operator '<' does not support the value 'EMPTY'."),
]


@pytest.mark.parametrize(("jql", "message"), VALUE_ERRORS, ids=[e[0] for e in VALUE_ERRORS])
def test_values_the_dataset_does_not_know_are_errors(jql: str, message: str) -> None:
    query = parse(jql)  # syntax is fine...
    with pytest.raises(JQLError) as raised:  # ...but Jira would reject the value
        query.prepare(DATASET, now=NOW, current_user="u-ann")
    assert message in str(raised.value)


def test_standard_issue_types_and_priorities_are_known_even_when_unused() -> None:
    assert search("type = Subtask") == []
    assert search("priority = Lowest") == []


def test_periods() -> None:
    assert parse_period("-7d") == timedelta(days=-7)
    assert parse_period("4w 2d") == timedelta(days=30)
    assert parse_period("-1w 2d") == timedelta(days=-9)
    assert parse_period("+30m") == timedelta(minutes=30)
    assert parse_period("2026-11-01") is None
    assert parse_period("-7x") is None


# -- properties ------------------------------------------------------------------------------

# Atoms on fields that are never empty: for these NOT is the plain complement.
TOTAL_ATOMS = [
    "project = APP",
    "project = OPS",
    "status = 'In Progress'",
    "status in (Done, 'To Do')",
    "statusCategory = done",
    "type = Story",
    "key in (APP-1, OPS-7, APP-10)",
    "created >= '2026-10-10'",
    "updated < -25d",
]
ATOMS = TOTAL_ATOMS + [
    "key <= APP-4",  # a key range covers one project: its negation is not the complement
    "labels = infra",
    "labels in (customer, chase-stale)",
    "labels is EMPTY",
    "assignee = currentUser()",
    "assignee in (u-bob, u-cat)",
    "assignee is EMPTY",
    "priority = Medium",
    "fixVersion = Beta",
    "duedate <= '2026-11-15'",
    "parent = APP-10",
]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, children).map(lambda ab: f"({ab[0]}) AND ({ab[1]})"),
        st.tuples(children, children).map(lambda ab: f"({ab[0]}) OR ({ab[1]})"),
        children.map(lambda a: f"NOT ({a})"),
    )


queries = st.recursive(st.sampled_from(ATOMS), _combine, max_leaves=6)
total_queries = st.recursive(st.sampled_from(TOTAL_ATOMS), _combine, max_leaves=6)
quick = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@quick
@given(queries, queries)
def test_and_is_intersection_and_or_is_union(a: str, b: str) -> None:
    assert matching(f"({a}) AND ({b})") == matching(a) & matching(b)
    assert matching(f"({a}) OR ({b})") == matching(a) | matching(b)


@quick
@given(total_queries)
def test_not_is_the_complement_on_fields_that_are_never_empty(a: str) -> None:
    assert matching(f"NOT ({a})") == ALL_KEYS - matching(a)


@quick
@given(queries, queries)
def test_not_obeys_de_morgan_and_double_negation(a: str, b: str) -> None:
    assert matching(f"NOT (({a}) AND ({b}))") == matching(f"(NOT ({a})) OR (NOT ({b}))")
    assert matching(f"NOT (({a}) OR ({b}))") == matching(f"(NOT ({a})) AND (NOT ({b}))")
    assert matching(f"NOT (NOT ({a}))") == matching(a)


@pytest.mark.parametrize(
    ("field", "value"),
    [("assignee", "u-bob"), ("labels", "infra"), ("fixVersion", "Beta"), ("duedate", "2026-11-01")],
)
def test_equal_not_equal_and_empty_split_the_issues(field: str, value: str) -> None:
    equal = matching(f"{field} = '{value}'")
    not_equal = matching(f"{field} != '{value}'")
    empty = matching(f"{field} is EMPTY")
    assert equal | not_equal | empty == ALL_KEYS
    assert not (equal & not_equal) and not (equal & empty) and not (not_equal & empty)


@quick
@given(st.lists(st.sampled_from(sorted(DATASET.issues)), min_size=1, max_size=4, unique=True))
def test_in_is_a_chain_of_or_equals(keys: list[str]) -> None:
    joined = " OR ".join(f"key = {key}" for key in keys)
    assert matching(f"key in ({', '.join(keys)})") == matching(joined) == frozenset(keys)


@quick
@given(queries, st.randoms(use_true_random=False))
def test_keywords_and_field_names_are_case_insensitive(a: str, rng: object) -> None:
    def scramble(word: str) -> str:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)  # type: ignore[attr-defined]

    words = {"AND", "OR", "NOT", "in", "is", "EMPTY", "project", "status", "labels", "assignee"}
    scrambled = " ".join(scramble(w) if w in words else w for w in a.split(" "))
    assert matching(scrambled) == matching(a)


@quick
@given(queries)
def test_descending_key_order_is_ascending_reversed(a: str) -> None:
    ascending = search(f"{a} ORDER BY key ASC")
    assert search(f"{a} ORDER BY key DESC") == ascending[::-1]
    numbers = [(key.split("-")[0], int(key.split("-")[1])) for key in ascending]
    assert numbers == sorted(numbers)


@quick
@given(st.integers(min_value=0, max_value=60), st.sampled_from(["d", "h", "w"]))
def test_relative_dates_count_back_from_the_clock(amount: int, unit: str) -> None:
    delta = {
        "d": timedelta(days=amount),
        "h": timedelta(hours=amount),
        "w": timedelta(weeks=amount),
    }
    absolute = (NOW - delta[unit]).strftime("%Y-%m-%d %H:%M")
    assert matching(f"updated >= -{amount}{unit}") == matching(f'updated >= "{absolute}"')


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("()=!<>~,'\" -abcdeinoprstuyAPNDO0123456789")), max_size=40
    )
)
def test_any_text_parses_or_fails_with_a_jql_error(text: str) -> None:
    try:
        query = parse(text)
    except JQLError:
        return
    with contextlib.suppress(JQLError):
        query.prepare(DATASET, now=NOW, current_user="u-ann").select(DATASET.issues.values())


def test_a_function_may_give_the_list_of_in_as_in_jira() -> None:
    assert search("assignee in currentUser() ORDER BY key") == ["APP-1", "APP-10"]
    assert matching("assignee not in currentUser()") == matching("assignee != u-ann")
    with pytest.raises(JQLError, match="'membersOf' is not supported by the simulator's JQL"):
        search("assignee in membersOf(devs)")
