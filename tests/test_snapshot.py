"""Issue snapshots for the state store's item cache: exact round trips, and a load that
shares what its issues have in common."""

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from jira_chase.engine.model import Change, Comment, Issue, Link, Person
from jira_chase.simulator.generated_issues import generated_issues
from jira_chase.store.snapshot import issue_from_record, issue_to_record
from tests.factories import make_issue


def round_trip(issue: Issue) -> Issue:
    return issue_from_record(json.loads(json.dumps(issue_to_record(issue))))


def test_generated_issues_come_back_equal():
    issues, _ = generated_issues(300, seed=11)
    back = [round_trip(issue) for issue in issues]
    assert back == issues
    assert [i.status_changes for i in back] == [i.status_changes for i in issues]


def test_a_load_shares_short_texts_and_time_zones():
    east = timezone(timedelta(hours=8))
    issue = make_issue(path=[(1, "In Progress"), (2, "Code Review")])
    issue = replace(
        issue,
        created=issue.created.astimezone(east),
        comments=(Comment(datetime(2026, 11, 2, 9, tzinfo=timezone(timedelta(hours=8))), "u1"),),
        summary="s" * 100,
    )
    first, second = round_trip(issue), round_trip(replace(issue, key="APP-2"))
    assert first == issue and second.key == "APP-2"
    # statuses, field names and people are one object each across issues
    assert first.history[0].to_value is second.history[0].to_value
    assert first.history[0].field is second.history[1].field
    assert first.assignee is not None and second.assignee is not None
    assert first.assignee.id is second.assignee.id
    assert first.created.tzinfo is second.comments[0].at.tzinfo
    assert first.created.utcoffset() == timedelta(hours=8)
    # long texts are not kept for sharing
    assert first.summary == second.summary and first.summary is not second.summary


texts = st.text(max_size=80)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2030, 1, 1),
    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-7, minutes=-30))]),
)


@settings(derandomize=True, max_examples=200)
@given(
    key=st.from_regex(r"[A-Z]{2,5}-[1-9][0-9]{0,4}", fullmatch=True),
    status=texts,
    created=moments,
    changes=st.lists(st.tuples(moments, texts, st.none() | texts, st.none() | texts), max_size=6),
    labels=st.lists(texts, max_size=3),
    estimate=st.none() | st.integers(0, 40) | st.floats(0, 40),
    assignee=st.none() | st.builds(Person, texts, texts, st.none() | texts),
    links=st.lists(
        st.builds(Link, texts, st.sampled_from(["inward", "outward"]), texts, texts), max_size=2
    ),  # fmt: skip
)
def test_any_issue_comes_back_equal(
    key, status, created, changes, labels, estimate, assignee, links
):
    issue = Issue(
        key=key,
        project=key.split("-")[0],
        type="Story",
        summary="summary",
        status=status,
        created=created,
        updated=created,
        assignee=assignee,
        labels=tuple(labels),
        estimate=None if estimate is None else float(estimate),
        history=tuple(Change(at, field, a, b) for at, field, a, b in changes),
        links=tuple(links),
    )
    back = round_trip(issue)
    assert back == issue and back.status_changes == issue.status_changes
    assert all(
        (a.at.utcoffset(), a.at) == (b.at.utcoffset(), b.at)
        for a, b in zip(back.history, issue.history, strict=True)
    )
