"""The goal-scope JQL helpers that do not match issues."""

import pytest

from jira_chase.jql import without_order_by


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
