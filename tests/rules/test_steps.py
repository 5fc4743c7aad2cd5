from dataclasses import replace

from jira_chase.evaluate import evaluate
from jira_chase.model import Severity
from tests.factories import at, make_issue, make_settings

SETTINGS = make_settings()


def findings(issues, now, settings=SETTINGS):
    return {v.issue.key: v.findings for v in evaluate(issues, settings, now).verdicts}


# -- stalled -----------------------------------------------------------------------


def test_under_the_limit_is_healthy():
    issue = make_issue(path=[(0, "Code Review")])
    assert findings([issue], at(1.99))["APP-1"] == ()


def test_exactly_at_the_limit_warns():
    issue = make_issue(path=[(0, "Code Review")])
    (finding,) = findings([issue], at(2))["APP-1"]
    assert finding.family == "stalled" and finding.severity is Severity.WARN
    assert finding.config_key == "workflow.steps[1].limit_days"
    evidence = dict(finding.evidence)
    assert evidence["step"] == "review" and evidence["limit"] == "2 days"


def test_twice_the_limit_is_critical():
    issue = make_issue(path=[(0, "Code Review")])
    (finding,) = findings([issue], at(4))["APP-1"]
    assert finding.severity is Severity.CRITICAL


def test_time_in_step_restarts_when_the_step_is_reentered():
    issue = make_issue(path=[(0, "In Progress"), (6, "Code Review"), (7, "In Progress")])
    assert findings([issue], at(10))["APP-1"] == ()  # 3 days since re-entering build


def test_business_calendar_does_not_count_the_weekend():
    settings = make_settings(calendar={"kind": "business"})
    # Entered review Friday 09:00; Monday 09:00 is 1 business day later.
    issue = make_issue(path=[(4, "Code Review")])
    assert findings([issue], at(7), settings)["APP-1"] == ()
    assert findings([issue], at(7), SETTINGS)["APP-1"][0].family == "stalled"


def test_holidays_inside_the_stay_do_not_count():
    settings = make_settings(calendar={"kind": "business", "holidays": ["2026-11-03"]})
    issue = make_issue(path=[(0, "Code Review")])  # Monday 09:00
    # Wednesday 09:00: two calendar days, one business day (Tuesday is a holiday).
    assert findings([issue], at(2), settings)["APP-1"] == ()
    (finding,) = findings([issue], at(3), settings)["APP-1"]
    assert dict(finding.evidence)["time in step"] == "2 days (business days)"


def test_override_tightens_the_limit_for_matching_issues_only():
    settings = make_settings(
        overrides=[{"when": {"type": "Bug", "priority": ["Highest", "High"]},
                    "steps": [{"name": "review", "limit_days": 1}]}]
    )  # fmt: skip
    bug = replace(make_issue("APP-1", path=[(0, "Code Review")]), type="Bug", priority="Highest")
    story = replace(bug, key="APP-2", type="Story")
    low = replace(bug, key="APP-3", priority="Low")
    result = findings([bug, story, low], at(1), settings)
    (finding,) = result["APP-1"]
    assert finding.config_key == "overrides[0].steps[0].limit_days"
    assert dict(finding.evidence)["limit"] == "1 day"
    assert result["APP-2"] == () and result["APP-3"] == ()


def test_later_overrides_win():
    settings = make_settings(
        overrides=[
            {"when": {"project": "APP"}, "steps": [{"name": "review", "limit_days": 1}]},
            {"when": {"type": "story"}, "steps": [{"name": "review", "limit_days": 3}]},
        ]
    )
    issue = make_issue(path=[(0, "Code Review")])
    assert findings([issue], at(2.5), settings)["APP-1"] == ()
    (finding,) = findings([issue], at(3), settings)["APP-1"]
    assert finding.config_key == "overrides[1].steps[0].limit_days"


def test_step_without_limit_never_stalls():
    settings = make_settings(
        workflow={"done": ["Done"], "steps": [{"name": "build", "statuses": ["In Progress"]}]}
    )
    issue = make_issue(path=[(0, "In Progress")])
    assert findings([issue], at(100), settings)["APP-1"] == ()


# -- WIP per step ---------------------------------------------------------------------


def test_step_at_its_wip_limit_is_fine():
    issues = [make_issue(f"APP-{n}", path=[(n / 10, "In Progress")], assignee=None)
              for n in range(1, 4)]  # fmt: skip
    evaluation = evaluate(issues, SETTINGS, at(1))
    assert not evaluation.unhealthy() and not evaluation.team_findings


def test_issues_that_entered_a_full_step_are_flagged_by_entry_time():
    # build's wip_limit is 3; APP-5 and APP-4 entered fourth and fifth.
    entries = {"APP-1": 0.1, "APP-2": 0.2, "APP-3": 0.3, "APP-5": 0.4, "APP-4": 0.5}
    issues = [make_issue(key, path=[(t, "In Progress")], assignee=None)
              for key, t in entries.items()]  # fmt: skip
    evaluation = evaluate(issues, SETTINGS, at(1))
    flagged = {v.issue.key: v.findings for v in evaluation.unhealthy()}
    assert set(flagged) == {"APP-4", "APP-5"}
    (finding,) = flagged["APP-5"]
    assert finding.family == "wip" and finding.config_key == "workflow.steps[0].wip_limit"
    evidence = dict(finding.evidence)
    assert evidence["already in the step"] == "3 (APP-1, APP-2, APP-3)"
    assert evidence["in the step now"] == "5" and evidence["limit"] == "3"
    (team,) = evaluation.team_findings
    assert team.family == "wip" and team.subject == "step build"
    assert dict(team.evidence)["over the limit"] == "APP-5, APP-4"
