"""Focus: work in progress per person."""

from tests.factories import BOB, at, make_issue
from tests.rules.test_steps import findings


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
