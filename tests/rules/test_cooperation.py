"""Cooperation: blocked by another team, flagged for too long."""

from dataclasses import replace

from jira_chase.engine.model import Change, Link
from tests.factories import at, make_issue
from tests.rules.test_steps import findings


def blocked(project="OPS", status="In Progress", category="indeterminate", since=0.0):
    return Link("Blocks", "inward", f"{project}-7", project, status, category, at(since))


def test_blocked_by_another_team_names_the_blocker():
    issue = make_issue(path=[(0, "In Progress")], links=(blocked(),))
    (finding,) = findings([issue], at(2.5))["APP-1"]
    assert finding.family == "cooperation"
    assert dict(finding.evidence)["blocked by"] == "OPS-7"


def test_the_blocker_is_named_with_project_status_and_assignee():
    link = replace(blocked(), assignee="Gus Reyes")
    issue = make_issue(path=[(0, "In Progress")], links=(link,))
    (finding,) = findings([issue], at(2))["APP-1"]  # exactly at the limit
    evidence = dict(finding.evidence)
    assert (evidence["blocker project"], evidence["blocker status"]) == ("OPS", "In Progress")
    assert evidence["blocker assignee"] == "Gus Reyes"
    assert finding.message == (
        "blocked by OPS-7 (OPS, In Progress, Gus Reyes) since 2026-11-02 (2 days; limit 2 days)"
    )
    assert finding.config_key == "cooperation.blocked_days"
    assert "blocked for" in finding.volatile


def test_an_unassigned_blocker_says_so():
    issue = make_issue(path=[(0, "In Progress")], links=(blocked(),))
    (finding,) = findings([issue], at(3))["APP-1"]
    assert dict(finding.evidence)["blocker assignee"] == "unassigned"


def test_outward_blocks_links_are_not_blockers():
    link = replace(blocked(), direction="outward")
    issue = make_issue(path=[(0, "In Progress")], links=(link,))
    assert findings([issue], at(3))["APP-1"] == ()


def test_a_finished_issue_is_never_blocked():
    issue = make_issue(path=[(0, "In Progress"), (0.5, "Code Review"), (1, "Done")],
                       links=(blocked(),))  # fmt: skip
    assert findings([issue], at(3))["APP-1"] == ()


def test_flagged_for_the_limit_is_cooperation():
    flag = Change(at(1), "Flagged", None, "Impediment", by="u-ann")
    issue = make_issue(path=[(0, "In Progress")], flagged=True, extra_history=(flag,))
    assert findings([issue], at(2.9))["APP-1"] == ()
    (finding,) = findings([issue], at(3))["APP-1"]
    assert finding.rule == "flagged" and dict(finding.evidence)["flagged for"] == "2 days"
    assert finding.message == "flagged as impeded since 2026-11-03 (2 days; limit 2 days)"


def test_blocker_in_the_same_project_is_not_cooperation():
    issue = make_issue(path=[(0, "In Progress")], links=(blocked(project="APP"),))
    assert findings([issue], at(3))["APP-1"] == ()


def test_finished_blocker_is_not_cooperation():
    link = blocked(status="Done", category="done")
    issue = make_issue(path=[(0, "In Progress")], links=(link,))
    assert findings([issue], at(3))["APP-1"] == ()


def test_recently_blocked_is_not_yet_a_finding():
    issue = make_issue(path=[(0, "In Progress")], links=(blocked(since=1.5),))
    assert findings([issue], at(3))["APP-1"] == ()
