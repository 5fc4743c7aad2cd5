"""Red lines beyond the required step: skipped steps, reopens, required fields."""

from dataclasses import replace
from datetime import date

import pytest

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Severity
from jira_chase.errors import ConfigError
from tests.factories import BOB, at, make_issue, make_settings
from tests.rules.test_steps import findings

SETTINGS = make_settings()


def redlines(issues, now, settings=SETTINGS):
    return {
        v.issue.key: [f for f in v.findings if f.family == "redline"]
        for v in evaluate(issues, settings, now).verdicts
    }


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
    verdict = evaluate([issue], SETTINGS, at(1)).by_key()["APP-1"]
    assert [(f.family, f.rule) for f in verdict.findings] == [("redline", "required-step")]
    assert [(f.family, f.rule) for f in verdict.notes] == [("hygiene", "created-in-step")]
    assert verdict.findings[0].message == (
        "reached 'Done' on 2026-11-02 without passing required step 'review'"
    )


# -- no skipped step ---------------------------------------------------------------------


def test_jumping_past_a_required_step_is_a_red_line_at_once():
    issue = make_issue(path=[(0, "In Progress"), (1, "In QA")])
    (finding,) = redlines([issue], at(1.5))["APP-1"]
    assert finding.rule == "skipped-step" and finding.severity is Severity.CRITICAL
    assert finding.config_key == "workflow.steps[1].required"
    evidence = dict(finding.evidence)
    assert evidence["skipped by"] == "In Progress -> In QA at 2026-11-03 09:00 UTC"
    assert evidence["path"] == "In Progress -> In QA"


def test_jumping_from_outside_the_workflow_counts_too():
    issue = make_issue(path=[(1, "In QA")])
    (finding,) = redlines([issue], at(2))["APP-1"]
    assert dict(finding.evidence)["skipped by"].startswith("To Do -> In QA")


def test_passing_the_required_step_first_is_fine():
    issue = make_issue(path=[(0, "In Progress"), (1, "Code Review"), (2, "In QA")])
    assert redlines([issue], at(3))["APP-1"] == []


def test_going_back_before_the_required_step_clears_the_skip():
    issue = make_issue(path=[(0, "In Progress"), (1, "In QA"), (2, "In Progress")])
    assert redlines([issue], at(3))["APP-1"] == []


def test_a_review_before_the_last_reopen_does_not_count():
    path = [(0, "Code Review"), (1, "Done"), (2, "In Progress"), (3, "In QA")]
    (finding,) = redlines([make_issue(path=path)], at(4))["APP-1"]
    assert finding.rule == "skipped-step"


def test_once_done_the_required_step_rule_reports_it_alone():
    issue = make_issue(path=[(0, "In Progress"), (1, "In QA"), (2, "Done")])
    assert [f.rule for f in redlines([issue], at(3))["APP-1"]] == ["required-step"]


# -- reopens -------------------------------------------------------------------------------


def reopened(times: int):
    path: list[tuple[float, str]] = [(0, "Code Review"), (0.5, "Done")]
    for n in range(times):
        path += [(1 + n, "Code Review"), (1.5 + n, "Done")]
    return make_issue(path=path)


def test_reopens_up_to_the_limit_are_fine():
    settings = make_settings(redlines={"max_reopens": 2})
    assert redlines([reopened(2)], at(10), settings)["APP-1"] == []


def test_one_reopen_too_many_is_a_red_line_with_the_dates():
    settings = make_settings(redlines={"max_reopens": 2})
    (finding,) = redlines([reopened(3)], at(10), settings)["APP-1"]
    assert finding.rule == "max-reopens" and finding.config_key == "redlines.max_reopens"
    evidence = dict(finding.evidence)
    assert evidence["reopened"] == "3" and evidence["limit"] == "2"
    assert evidence["reopened at"].count("2026-11-0") == 3
    assert finding.message == "reopened 3 times (last on 2026-11-05), at most twice allowed"


def test_reopen_counts_read_as_words():
    settings = make_settings(redlines={"max_reopens": 0})
    (finding,) = redlines([reopened(1)], at(10), settings)["APP-1"]
    assert finding.message == "reopened once (last on 2026-11-03), never allowed"


def test_a_reopen_is_leaving_done_not_moving_between_done_statuses():
    settings = make_settings(workflow={"done": ["Done", "Closed"]}, redlines={"max_reopens": 0})
    issue = make_issue(path=[(0, "Code Review"), (1, "Done"), (2, "Closed")])
    assert redlines([issue], at(3), settings)["APP-1"] == []
    issue = make_issue(path=[(0, "Code Review"), (1, "Done"), (2, "In Progress")])
    (finding,) = redlines([issue], at(3), settings)["APP-1"]
    assert finding.rule == "max-reopens"


def test_max_reopens_can_be_overridden():
    settings = make_settings(
        redlines={"max_reopens": 2},
        overrides=[{"when": {"priority": "Highest"}, "redlines": {"max_reopens": 0}}],
    )
    urgent = replace(reopened(1), priority="Highest")
    (finding,) = redlines([urgent], at(10), settings)["APP-1"]
    assert finding.config_key == "overrides[0].redlines.max_reopens"
    assert redlines([reopened(1)], at(10), settings)["APP-1"] == []


# -- required fields -------------------------------------------------------------------------


FIELDS = make_settings(
    redlines={
        "required_fields": [
            {"field": "assignee", "when_step": "build"},
            {"field": "duedate", "when_priority": "Highest"},
            {"field": "fixVersion", "when_priority": "Highest", "when_type": "Bug"},
        ]
    }
)


def test_a_field_required_in_a_step():
    issue = make_issue(path=[(0, "In Progress")], assignee=None)
    (finding,) = redlines([issue], at(1), FIELDS)["APP-1"]
    assert finding.rule == "required-field" and finding.severity is Severity.CRITICAL
    assert finding.config_key == "redlines.required_fields[0]"
    assert dict(finding.evidence)["required when"] == "in step build"
    assert redlines([replace(issue, assignee=BOB)], at(1), FIELDS)["APP-1"] == []
    todo = make_issue(assignee=None)  # not in the step: not required
    assert redlines([todo], at(1), FIELDS)["APP-1"] == []


def test_a_field_required_at_a_priority_and_type():
    bug = replace(make_issue(), type="Bug", priority="highest")
    found = redlines([bug], at(1), FIELDS)["APP-1"]
    assert [f.config_key for f in found] == [
        "redlines.required_fields[1]",
        "redlines.required_fields[2]",
    ]
    assert dict(found[1].evidence)["required when"] == "priority highest and type Bug"
    done = replace(bug, duedate=date(2026, 11, 30), fix_versions=("1.4",))
    assert redlines([done], at(1), FIELDS)["APP-1"] == []
    story = replace(bug, type="Story", duedate=date(2026, 11, 30))
    assert redlines([story], at(1), FIELDS)["APP-1"] == []


def test_finished_issues_are_not_held_to_required_fields():
    issue = replace(make_issue(path=[(0, "Code Review"), (1, "Done")]), priority="Highest")
    assert redlines([issue], at(2), FIELDS)["APP-1"] == []


def test_an_unknown_field_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as info:
        make_settings(redlines={"required_fields": [{"field": "colour"}]})
    (problem,) = info.value.problems
    assert problem.startswith("redlines.required_fields[0].field: unknown field 'colour'")


def test_field_names_match_case_insensitively():
    settings = make_settings(redlines={"required_fields": [{"field": "DueDate"}]})
    (finding,) = redlines([make_issue()], at(1), settings)["APP-1"]
    assert finding.message == "due date is not set (unfinished)"
