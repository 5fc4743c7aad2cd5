"""Jira's issue JSON read into issues, on Cloud and Data Center."""

from __future__ import annotations

import pytest

from jira_chase.simulator.demo import build_demo_dataset
from jira_chase.sources.jira import JiraSource
from tests.sources.jira.factories import default_settings


def test_issue_fields_are_mapped(demo_sim):
    issues = {i.key: i for i in JiraSource(default_settings(demo_sim.url)).fetch_issues()}
    blocked = issues["APP-145"]
    (link,) = [lnk for lnk in blocked.links if lnk.direction == "inward"]
    assert (link.key, link.project, link.status) == ("OPS-24", "OPS", "In Progress")
    assert link.since is not None
    assert "frontend" in blocked.labels
    assert blocked.assignee is not None and blocked.assignee.name
    assert blocked.created.tzinfo is not None


@pytest.mark.parametrize("deployment", ["cloud", "datacenter"])
def test_components_parent_and_resolution_are_read(jira_sim, deployment):
    sim = jira_sim(build_demo_dataset(), deployment=deployment)
    source = JiraSource(default_settings(sim.url, deployment=deployment))
    issues = {i.key: i for i in source.fetch_issues()}
    assert issues["APP-153"].components == ("Settings",)
    assert issues["APP-155"].parent == "APP-154" and issues["APP-155"].type == "Subtask"
    assert sum(i.components == ("Release engineering",) for i in issues.values()) == 7
    # the workflow resolves done issues; the data states two that disagree
    assert issues["APP-154"].resolution == "Done" and issues["APP-155"].resolution is None
    assert issues["APP-55"].status == "Done" and issues["APP-55"].resolution is None
    assert issues["APP-156"].status == "To Do" and issues["APP-156"].resolution == "Done"
    assert not any(i.components for i in issues.values() if ":" not in i.summary
                   and i.components != ("Release engineering",))  # fmt: skip


def test_an_issue_out_of_to_do_without_a_status_change_has_unknown_history(jira_sim):
    full = {i.key: i for i in JiraSource(default_settings(jira_sim(build_demo_dataset()).url))
            .fetch_issues()}  # fmt: skip
    bare_sim = jira_sim(build_demo_dataset(), changelog=False)
    bare = {i.key: i for i in JiraSource(default_settings(bare_sim.url)).fetch_issues()}
    assert all(issue.history_known for issue in full.values())
    unknown = {key for key, issue in bare.items() if not issue.history_known}
    # Exactly the issues that have left To Do: those in To Do could have been created there.
    assert unknown == {key for key, issue in full.items() if issue.status != "To Do"}
    assert all(issue.history == () for issue in bare.values())


def test_jira_times_parse_in_every_form_the_servers_write():
    from datetime import datetime, timedelta, timezone

    from jira_chase.sources.jira.payload import parse_jira_time

    utc = parse_jira_time("2026-10-01T09:00:00.000+0000")
    assert utc == datetime(2026, 10, 1, 9, tzinfo=timezone.utc) and utc.tzinfo is timezone.utc
    assert parse_jira_time("2026-10-01T09:00:00Z") == utc
    # A Data Center server writes its own offset: one zone object serves every such time.
    east = parse_jira_time("2026-10-01T17:00:00.000+0800")
    later = parse_jira_time("2026-11-02T08:30:15.250+0800")
    assert east == utc and east.utcoffset() == timedelta(hours=8)
    assert later.tzinfo is east.tzinfo and later.microsecond == 250_000
    assert parse_jira_time(" 2026-10-01T02:00:00-0700 ") == utc
    for bad in ("2026-10-01T09:00:00", "yesterday"):
        with pytest.raises(ValueError):
            parse_jira_time(bad)


def test_histories_share_their_words_across_issues(demo_sim):
    issues = JiraSource(default_settings(demo_sim.url)).fetch_issues()
    moves = [c for issue in issues for c in issue.status_changes]
    assert len(moves) > 100
    by_text: dict[str, set[int]] = {}
    for change in moves:
        for text in (change.field, change.to_value, change.by):
            if text is not None:
                by_text.setdefault(text, set()).add(id(text))
    # "status", every status name and every person: one string each
    assert by_text["status"] and all(len(ids) == 1 for ids in by_text.values())
