"""The skills family over plain objects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Person
from jira_chase.errors import ConfigError
from tests.factories import ANN, BOB, at, make_issue
from tests.rules.test_hygiene import CAT, NOW, finished, settings, team

# -- skills: knowledge concentration ----------------------------------------------------


def area(owners: list[Person | None], **sections: Any) -> list[Any]:
    issues = [finished(f"APP-{n}", who) for n, who in enumerate(owners, start=1)]
    return [f for f in team(issues, "skills", **sections) if f.rule == "knowledge-concentration"]


def test_one_person_at_the_share_of_at_least_min_issues_is_a_finding():
    (finding,) = area([ANN, ANN, ANN, ANN, BOB])  # 4 of 5 = 0.8: at the limit
    assert finding.subject == "component Payments" and finding.config_key == "skills.max_share"
    assert finding.message == "Payments: 4 of 5 finished issues by one person in 8 weeks"
    evidence = dict(finding.evidence)
    assert evidence["finished issues"] == "5" and evidence["share"] == "80%"
    assert "person" not in evidence and "Ann" not in str(finding.to_dict())


def test_under_the_share_or_under_min_issues_is_no_finding():
    assert area([ANN, ANN, ANN, BOB, BOB]) == []  # 3 of 5
    assert area([ANN, ANN, ANN, ANN]) == []  # 4 of 4, but fewer than 5 issues
    assert area([ANN, ANN, ANN, ANN], skills={"min_issues": 4}) != []
    assert area([ANN, ANN, ANN, BOB, BOB], skills={"max_share": 0.6}) != []


def test_unassigned_work_counts_for_the_area_but_for_nobody():
    assert area([ANN, ANN, ANN, ANN, None]) != []
    assert area([ANN, ANN, ANN, None, None]) == []
    assert area([None] * 6) == []


def test_name_people_names_the_person():
    (finding,) = area([ANN] * 5, skills={"name_people": True})
    assert finding.message == "Payments: 5 of 5 finished issues by Ann Lee in 8 weeks"
    assert dict(finding.evidence)["person"] == "Ann Lee"


def test_only_issues_finished_in_the_window_count():
    issues = [finished(f"APP-{n}", ANN) for n in range(1, 6)]
    assert team(issues, "skills", metrics={"window_weeks": 8}) != []
    # finished on day 4; a one-week window ending on day 12 starts on day 5
    assert team(issues, "skills", now=at(12), metrics={"window_weeks": 1}) == []
    assert team(issues, "skills", now=at(10), metrics={"window_weeks": 1}) != []
    open_ones = [make_issue(f"APP-{n}", path=[(1, "In Progress")]) for n in range(1, 6)]
    assert team([replace(i, components=("Payments",)) for i in open_ones], "skills") == []


def test_the_area_can_be_labels_or_the_parent():
    by_label = [replace(finished(f"APP-{n}", ANN), labels=("payments", "chase-at-risk"))
                for n in range(1, 6)]  # fmt: skip
    findings = team(by_label, "skills", skills={"area": "labels"})
    assert [f.subject for f in findings if f.rule == "knowledge-concentration"] == [
        "label payments"  # our own labels are no area
    ]
    epic = make_issue("APP-9", assignee=None)
    by_parent = [replace(finished(f"APP-{n}", ANN), parent="APP-9") for n in range(1, 6)]
    findings = team([epic, *by_parent], "skills", skills={"area": "parent"})
    (finding,) = [f for f in findings if f.rule == "knowledge-concentration"]
    assert finding.subject == "parent APP-9"
    assert finding.message.startswith("APP-9 (Summary of APP-9): 5 of 5 finished issues")


def test_unknown_area_names_the_key():
    with pytest.raises(ConfigError) as info:
        settings(skills={"area": "module"})
    assert "skills.area" in str(info.value)


# -- skills: review spread ----------------------------------------------------------------


def spread(reviewers: list[Person], **sections: Any) -> list[Any]:
    issues = [
        finished(f"APP-{n}", ANN, component=f"C{n}", reviewer=who)
        for n, who in enumerate(reviewers, start=1)
    ]
    return [f for f in team(issues, "skills", **sections) if f.rule == "review-spread"]


def test_one_person_moving_most_issues_out_of_a_required_step_is_a_bottleneck():
    (finding,) = spread([CAT, CAT, CAT, CAT, BOB])
    assert finding.subject == "step review" and finding.config_key == "skills.max_share"
    assert finding.message.startswith(
        "4 of 5 moves out of required step 'review' made by one person"
    )
    assert spread([CAT, CAT, CAT, BOB, BOB]) == []
    assert spread([CAT, CAT, CAT, CAT]) == []  # fewer than skills.min_issues moves


def test_review_spread_names_people_when_asked_even_unknown_ones_by_id():
    (finding,) = spread([CAT] * 5, skills={"name_people": True})
    assert "made by u-cat" in finding.message  # Cat is nobody's assignee or reporter
    (finding,) = spread([BOB] * 5, skills={"name_people": True})
    assert "made by Bob Stone" not in finding.message and "made by u-bob" in finding.message
    issues = [finished(f"APP-{n}", BOB, component=f"C{n}", reviewer=BOB) for n in range(1, 6)]
    (finding,) = [f for f in team(issues, "skills", skills={"name_people": True})
                  if f.rule == "review-spread"]  # fmt: skip
    assert "made by Bob Stone" in finding.message


def test_moves_within_the_step_and_the_bots_moves_do_not_count():
    inside = [
        make_issue(f"APP-{n}", path=[(1, "Code Review"), (2, "Review"), (3, "Review")])
        for n in range(1, 7)
    ]
    assert team(inside, "skills") == []
    bot = Person("u-bot", "Bot")
    issues = [finished(f"APP-{n}", ANN, component=f"C{n}", reviewer=bot) for n in range(1, 7)]
    evaluation = evaluate(issues, settings(), NOW, bot_id="u-bot")
    assert [f for f in evaluation.team_findings if f.family == "skills"] == []


def test_skills_can_be_switched_off():
    issues = [finished(f"APP-{n}", ANN) for n in range(1, 6)]
    assert len(team(issues, "skills")) == 2
    assert team(issues, "skills", rules={"disabled": ["skills"]}) == []
