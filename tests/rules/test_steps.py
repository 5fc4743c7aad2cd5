from dataclasses import replace

from jira_chase.evaluate import evaluate
from jira_chase.model import Change, Health, Link, Severity
from tests.factories import BOB, at, make_issue, make_settings

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


# -- red line: required step --------------------------------------------------------


def test_done_without_review_is_a_critical_red_line():
    issue = make_issue(path=[(0, "In Progress"), (1, "In QA"), (2, "Done")])
    (finding,) = findings([issue], at(3))["APP-1"]
    assert finding.family == "redline" and finding.severity is Severity.CRITICAL
    assert "In Progress -> In QA -> Done" in dict(finding.evidence)["path"]


def test_done_after_review_is_fine():
    issue = make_issue(path=[(0, "In Progress"), (1, "Code Review"), (2, "Done")])
    assert findings([issue], at(3))["APP-1"] == ()


def test_reopen_after_done_needs_review_again():
    issue = make_issue(
        path=[(0, "In Progress"), (1, "Code Review"), (2, "Done"), (3, "In Progress"), (4, "Done")]
    )
    (finding,) = findings([issue], at(5))["APP-1"]
    assert finding.rule == "required-step"


def test_created_directly_in_done_counts_as_skipping():
    issue = make_issue(initial="Done")
    found = findings([issue], at(1))["APP-1"]
    assert sorted((f.family, f.rule) for f in found) == [
        ("hygiene", "created-in-step"),
        ("redline", "required-step"),
    ]


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


# -- focus ----------------------------------------------------------------------------


def test_person_over_the_wip_limit_gets_a_warning_on_each_item():
    issues = [make_issue(f"APP-{n}", path=[(0, "In Progress")]) for n in range(1, 5)]
    result = findings(issues, at(1))
    assert all(result[i.key][0].family == "focus" for i in issues)
    assert dict(result["APP-1"][0].evidence)["in progress"] == "4"


def test_person_at_the_wip_limit_is_fine():
    issues = [make_issue(f"APP-{n}", path=[(0, "In Progress")]) for n in range(1, 4)]
    issues.append(make_issue("APP-9", path=[(0, "Code Review")], assignee=BOB))
    assert all(f == () for f in findings(issues, at(1)).values())


def test_focus_counts_every_workflow_step_and_names_the_issues():
    issues = [
        make_issue("APP-1", path=[(0, "In Progress")]),
        make_issue("APP-2", path=[(0, "Code Review")]),
        make_issue("APP-3", path=[(0, "Code Review"), (0.1, "In QA")]),
        make_issue("APP-4", path=[(0, "Code Review"), (0.1, "In QA")]),
        make_issue("APP-5", path=[(0, "Code Review"), (0.5, "Done")]),  # finished: not WIP
    ]
    result = findings(issues, at(1))
    evidence = dict(result["APP-4"][0].evidence)
    assert evidence["issues"] == "APP-1, APP-2, APP-3, APP-4" and evidence["limit"] == "3"
    assert result["APP-5"] == ()


# -- cooperation --------------------------------------------------------------------


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
    assert "OPS-7 (OPS, In Progress, Gus Reyes)" in finding.message
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


# -- health -----------------------------------------------------------------------------


def test_health_is_the_worst_severity():
    issue = make_issue(path=[(0, "In Progress"), (1, "Done")])  # red line: critical
    verdict = evaluate([issue], SETTINGS, at(2)).verdicts[0]
    assert verdict.health is Health.OFF_TRACK
    warn = make_issue("APP-2", path=[(0, "Code Review")])
    assert evaluate([warn], SETTINGS, at(2.5)).verdicts[0].health is Health.AT_RISK


def test_disabled_families_produce_nothing():
    settings = make_settings(
        focus={"wip_per_person": None},
        cooperation={"blocked_days": None},
        rules={"disabled": ["wip"]},
    )
    issues = [
        make_issue(f"APP-{n}", path=[(0, "In Progress")], links=(blocked(),)) for n in range(5)
    ]
    assert all(f == () for f in findings(issues, at(3), settings).values())
