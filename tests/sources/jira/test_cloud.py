"""What is particular to Jira Cloud: `search/jql` paged by token, changelogs completed with
`changelog/bulkfetch`."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jira_chase.errors import TrackerError
from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.sources.jira import JiraSource
from tests.sources.jira.factories import default_settings, settings


def test_fetches_every_issue_in_scope_across_pages(demo_sim):
    source = JiraSource(default_settings(demo_sim.url, page_size=17))
    issues = source.fetch_issues()
    assert len(issues) == 156
    assert {i.project for i in issues} == {"APP"}
    assert len({i.key for i in issues}) == 156
    searches = [p for m, p in demo_sim.requests if p.endswith("/search/jql")]
    assert len(searches) == 10 + 1  # ceil(156 / 17) pages, one for blockers outside the scope
    assert not any(p.rstrip("/").endswith("/search") for _, p in demo_sim.requests)


def test_histories_longer_than_40_are_completed_with_bulk_changelog(demo_sim):
    dataset = build_demo_dataset()
    raw = next(i for i in dataset["issues"] if i["key"] == "APP-3")
    assert len(raw["history"]) > 40
    issues = {i.key: i for i in JiraSource(default_settings(demo_sim.url)).fetch_issues()}
    statuses = [(c.from_value, c.to_value) for c in issues["APP-3"].status_changes]
    expected = [(h["from"], h["to"]) for h in raw["history"] if h["field"] == "status"]
    assert statuses == expected
    assert any(p.endswith("/changelog/bulkfetch") for _, p in demo_sim.requests)


def test_a_repeated_search_page_token_stops_instead_of_looping(demo_sim):
    demo_sim.api.stuck_paging = True
    source = JiraSource(settings(demo_sim.url, page_size=20))
    with pytest.raises(TrackerError, match="Jira repeated a search page token"):
        source.fetch_issues()
    searches = [p for _, p in demo_sim.requests if p.endswith("/search/jql")]
    assert len(searches) <= 4  # the count of the scope, then pages 1 and 2 (= 2 again)


def _long_history_dataset(entries):
    """The demo data with APP-3's history grown to `entries` status changes."""
    dataset = build_demo_dataset()
    issue = next(i for i in dataset["issues"] if i["key"] == "APP-3")
    history = [h for h in issue["history"] if h["field"] != "status"]
    start = datetime(2026, 9, 1, 9, 0, tzinfo=timezone.utc).timestamp()
    state = "To Do"
    for n in range(entries):
        target = "In Progress" if state != "In Progress" else "Code Review"
        at = datetime.fromtimestamp(start + 60 * n, tz=timezone.utc).isoformat()
        history.append({"at": at, "by": "u-ann", "field": "status", "from": state, "to": target})
        state = target
    issue["history"] = sorted(history, key=lambda h: h["at"])
    issue["status"] = state
    issue["created"] = "2026-08-31T09:00:00+00:00"
    return dataset


def test_a_repeated_changelog_page_token_stops_instead_of_looping(jira_sim):
    sim = jira_sim(_long_history_dataset(1100))
    sim.api.stuck_paging = True
    source = JiraSource(settings(sim.url, scope="key = APP-3"))
    with pytest.raises(TrackerError, match="Jira repeated a changelog page token"):
        source.fetch_issues()


def test_a_changelog_over_several_bulkfetch_pages_is_read_whole(jira_sim):
    sim = jira_sim(_long_history_dataset(1100))
    source = JiraSource(settings(sim.url, scope="key = APP-3"))
    (issue,) = source.fetch_issues()
    assert len(issue.status_changes) == 1100
    assert [p for _, p in sim.requests].count("/rest/api/3/changelog/bulkfetch") == 2
