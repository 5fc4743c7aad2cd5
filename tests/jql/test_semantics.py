"""Jira's matching semantics, and a query meaning the same in both uses: goal scopes over
fetched issues and the simulator's search over the same issues in a dataset.

Random issues become both a simulator dataset and the `Issue`s a source would give; random
queries over the fields goal scopes support (values in any letter case, ids, display
names or email addresses for people, EMPTY in lists, NOT/AND/OR nested) must select the
same keys. Over real sockets, a goal scope matched against the issues the Jira source
fetched selects what the same JQL fetches as `jira.scope`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_chase import jql
from jira_chase.config.settings import JiraSettings
from jira_chase.engine.model import Issue, Person
from jira_chase.jql.semantics import FIELDS, equality
from jira_chase.jql.syntax import (
    And,
    Clause,
    EmptyValue,
    ListValue,
    Literal,
    Node,
    Not,
    Operand,
    Or,
    Value,
)
from jira_chase.simulator import jql as search
from jira_chase.simulator import load_dataset
from jira_chase.sources.jira import JiraSource
from tests.conftest import NOW, build_demo_like_dataset
from tests.jql.trees import render

PEOPLE = {
    "u-ann": Person("u-ann", "Ann Lee", "ann@example.com"),
    "u-bob": Person("u-bob", "Bob Stone", "bob@example.com"),
}
STATUSES = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
TYPES = ("Story", "Bug", "Task")
PRIORITIES = ("High", "Medium", "Low")
LABELS = ("customer", "infra", "Chase-Stale")
VERSIONS = ("Beta", "1.4")
CREATED = NOW - timedelta(days=30)
QUERIES_PER_DATASET = 5


@st.composite
def issue_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=8))
    issues: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        project = draw(st.sampled_from(["APP", "OPS"]))
        issues.append(
            {
                "key": f"{project}-{number}",
                "project": project,
                "type": draw(st.sampled_from(TYPES)),
                "summary": f"Issue {number}",
                "status": draw(st.sampled_from(sorted(STATUSES))),
                "priority": draw(st.sampled_from((None, *PRIORITIES))),
                "assignee": draw(st.sampled_from((None, *sorted(PEOPLE)))),
                "labels": draw(st.lists(st.sampled_from(LABELS), unique=True, max_size=2)),
                "fixVersions": draw(st.lists(st.sampled_from(VERSIONS), unique=True, max_size=2)),
                "parent": draw(st.sampled_from([None] + [i["key"] for i in issues])),
                "created": (CREATED + timedelta(hours=number)).isoformat(),
            }
        )
    return issues


def dataset_of(issues: list[dict[str, Any]]) -> Any:
    return load_dataset(
        {
            "format": "jira-chase-dataset/1",
            "now": NOW.isoformat(),
            "projects": [{"key": "APP", "name": "App team"}, {"key": "OPS", "name": "Ops"}],
            "users": [{"id": p.id, "name": p.name, "email": p.email} for p in PEOPLE.values()],
            "statuses": [{"name": name, "category": cat} for name, cat in STATUSES.items()],
            "issues": issues,
        }
    )


def fetched(raw: dict[str, Any]) -> Issue:
    """The issue as a source gives it to the core."""
    created = CREATED + timedelta(hours=int(raw["key"].split("-")[1]))
    return Issue(
        key=raw["key"],
        project=raw["project"],
        type=raw["type"],
        summary=raw["summary"],
        status=raw["status"],
        created=created,
        updated=created,
        priority=raw["priority"],
        assignee=PEOPLE[raw["assignee"]] if raw["assignee"] else None,
        labels=tuple(raw["labels"]),
        fix_versions=tuple(raw["fixVersions"]),
        parent=raw["parent"],
    )


def cased(text: str) -> st.SearchStrategy[str]:
    """``text`` in any mix of upper and lower case."""
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(text, upper))
    )


def value_pools(issues: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per goal-scope field, values the dataset knows (the simulator refuses others)."""
    used_versions = sorted({v for i in issues for v in i["fixVersions"]})
    keys = [i["key"] for i in issues]
    return {
        "project": ["APP", "OPS"],
        "key": keys,
        "issuetype": list(TYPES),
        "priority": list(PRIORITIES),
        "status": sorted(STATUSES),
        "labels": [*LABELS, "unused-label"],
        "fixVersion": used_versions,
        "parent": keys,
        "assignee": [v for p in PEOPLE.values() for v in (p.id, p.name, p.email or "")],
    }


@st.composite
def scope_clauses(draw: st.DrawFn, pools: dict[str, list[str]]) -> Clause:
    name = draw(st.sampled_from(sorted(pools)))
    spec = FIELDS[name.lower()]
    pool = pools[name]
    operators = ["is", "is not"] + (["=", "!=", "in", "not in"] if pool else [])
    operator = draw(st.sampled_from(operators))

    def value() -> Value:
        if not draw(st.integers(min_value=0, max_value=5)):
            return EmptyValue(0)
        return Literal(draw(st.sampled_from(pool).flatmap(cased)), 0)

    operand: Operand
    if operator in ("is", "is not"):
        operand = EmptyValue(0)
    elif operator in ("in", "not in"):
        items = [value() for _ in range(draw(st.integers(min_value=1, max_value=3)))]
        operand = ListValue(tuple(items), 0)
    else:
        operand = value()
    return Clause(spec, operator, operand, 0)


def scope_trees(pools: dict[str, list[str]]) -> st.SearchStrategy[Node]:
    def combine(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        several = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(children.map(Not), several.map(And), several.map(Or))

    return st.recursive(scope_clauses(pools), combine, max_leaves=5)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(issue_lists(), st.data())
def test_a_goal_scope_selects_what_the_simulators_search_finds(
    issues: list[dict[str, Any]], data: st.DataObject
) -> None:
    dataset = dataset_of(issues)
    conditions = scope_trees(value_pools(issues))
    for _ in range(QUERIES_PER_DATASET):
        text = render(data.draw(conditions, label="condition"))
        scope = jql.parse_scope(text)
        prepared = search.parse(text).prepare(dataset, now=NOW, current_user="u-ann")
        in_scope = {raw["key"] for raw in issues if scope.matches(fetched(raw))}
        found = {issue.key for issue in prepared.select(dataset.issues.values())}
        assert in_scope == found, text


SCOPES = [
    "labels = infra",
    "labels != infra",
    "NOT labels in (customer, infra)",
    "assignee in ('ann lee', BOB@example.com, EMPTY)",
    "fixVersion = beta OR parent is not EMPTY",
    "status != Done AND NOT (type = Bug OR priority = High)",
    "key in (app-1, OPS-7) OR issuetype = Epic ORDER BY key",
]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_goal_scope_selects_what_jira_scope_fetches(jira_sim: Any, scope: str) -> None:
    """Over real sockets: the issues of a broad `jira.scope` matched against a goal scope
    are the issues the same JQL fetches as `jira.scope`."""
    sim = jira_sim(build_demo_like_dataset())

    def fetch(jql_text: str) -> list[Issue]:
        settings = JiraSettings(url=sim.url, email="bot@example.com", token="t", scope=jql_text)
        return JiraSource(settings).fetch_issues()

    everything = fetch("project in (APP, OPS)")
    matched = {issue.key for issue in everything if jql.parse_scope(scope).matches(issue)}
    assert matched == {issue.key for issue in fetch(scope)}
    assert matched and matched != {issue.key for issue in everything}


@pytest.mark.parametrize(
    ("operator", "wanted", "allow_empty", "expected"),
    [
        # Values of the issues: ("a",), ("b", "c"), () - an empty field.
        ("=", ["a"], False, [True, False, False]),
        ("=", ["a"], True, [True, False, True]),
        ("!=", ["a"], False, [False, True, False]),
        ("!=", ["a"], True, [False, True, False]),
        ("in", ["c", "z"], False, [False, True, False]),
        ("not in", ["c", "z"], False, [True, False, False]),
        ("is", [], True, [False, False, True]),
        ("is not", [], True, [True, True, False]),
    ],
)
def test_jiras_equality_on_fields_with_one_or_several_values(
    operator: str, wanted: list[str], allow_empty: bool, expected: list[bool]
) -> None:
    issues: list[tuple[str, ...]] = [("a",), ("b", "c"), ()]
    many = equality(operator, lambda have: have, wanted, allow_empty, many=True)
    assert [many(have) for have in issues] == expected
    one = equality(
        operator, lambda have: have[0] if have else None, wanted, allow_empty, many=False
    )
    single = [("a",), ("c",), ()]  # the second issue with one value, "c"
    assert [one(have) for have in single] == expected
