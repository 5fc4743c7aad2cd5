"""The skills and hygiene families over plain objects."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jira_chase.errors import ConfigError
from jira_chase.evaluate import evaluate
from jira_chase.model import Change, Issue, Person
from tests.factories import ANN, BOB, at, make_issue, make_settings

NOW = at(10)  # finished issues keep findings for redlines.flag_finished_days (14)
CAT = Person("u-cat", "Cat Diaz")
REVIEWED = [(1, "In Progress"), (2, "Code Review"), (3, "In QA"), (4, "Done")]


def settings(**sections: Any) -> Any:
    base: dict[str, Any] = {"focus": {"wip_per_person": None}, "metrics": {"window_weeks": 8}}
    return make_settings(**{**base, **sections})


def team(issues: list[Issue], family: str, now: Any = NOW, **sections: Any) -> list[Any]:
    evaluation = evaluate(issues, settings(**sections), now)
    return [f for f in evaluation.team_findings if f.family == family]


def hygiene(issues: list[Issue], **sections: Any) -> dict[str, list[str]]:
    evaluation = evaluate(issues, settings(**sections), NOW)
    found = {
        v.issue.key: sorted(f.rule for f in v.findings if f.family == "hygiene")
        for v in evaluation.verdicts
    }
    return {k: v for k, v in found.items() if v}


def finished(key: str, who: Person | None, component: str = "Payments", **kw: Any) -> Issue:
    """Done through every step; the moves out of review by Cat unless `reviewer` says."""
    reviewer = kw.pop("reviewer", CAT)
    issue = make_issue(key, path=REVIEWED, assignee=who, **kw)
    history = tuple(
        replace(c, by=reviewer.id) if c.from_value == "Code Review" else c for c in issue.history
    )
    return replace(issue, components=(component,), history=history)


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


# -- hygiene ------------------------------------------------------------------------------


def test_a_clean_history_has_no_finding():
    assert (
        hygiene([make_issue(path=REVIEWED), make_issue("APP-2", path=[(1, "In Progress")])]) == {}
    )


def test_finished_without_entering_a_step():
    assert hygiene([make_issue(path=[(1, "Done")])]) == {"APP-1": ["no-step"]}
    assert hygiene([make_issue(path=[(1, "In Progress"), (2, "Done")])]) == {}


def test_created_in_a_step_or_done():
    assert hygiene([make_issue(initial="In Progress", path=[(1, "Code Review")])]) == {
        "APP-1": ["created-in-step"]
    }
    # created done: not also "finished without a step"
    assert hygiene([make_issue(initial="Done")]) == {"APP-1": ["created-in-step"]}
    # moved in the instant it was created: it was still created in To Do
    assert hygiene([make_issue(path=[(0, "In Progress")])]) == {}


def test_a_status_change_while_done_is_an_edit_in_done():
    two_done = {"done": ["Done", "Closed"], "steps": settings().model_dump()["workflow"]["steps"]}
    edited = make_issue(path=[*REVIEWED, (6, "Closed")])
    found = hygiene([edited], workflow=two_done)
    assert found == {"APP-1": ["edited-in-done"]}
    reopened = make_issue(path=[*REVIEWED, (6, "In Progress"), (7, "Code Review"), (8, "Done")])
    assert hygiene([reopened], workflow=two_done) == {}


def backward(moves: int) -> Issue:
    path: list[tuple[float, str]] = [(1, "In Progress")]
    for n in range(moves):
        path += [(2 + n, "Code Review"), (2.5 + n, "In Progress")]
    return make_issue(path=[*path, (20, "Code Review"), (21, "Done")])


def test_backward_moves_above_the_limit():
    assert hygiene([backward(2)]) == {}
    found = evaluate([backward(3)], settings(), NOW).by_key()["APP-1"].findings
    (finding,) = [f for f in found if f.family == "hygiene"]
    assert finding.rule == "backward-moves" and finding.config_key == "hygiene.max_backward_moves"
    assert dict(finding.evidence)["backward moves"] == "3"
    assert hygiene([backward(3)], hygiene={"max_backward_moves": 3}) == {}
    assert hygiene([backward(1)], hygiene={"max_backward_moves": 0}) == {
        "APP-1": ["backward-moves"]
    }


def test_back_to_a_new_status_is_backward_and_a_reopen_is_not():
    to_todo = make_issue(path=[(1, "In Progress"), (2, "To Do"), (3, "In Progress")])
    assert hygiene([to_todo], hygiene={"max_backward_moves": 0}) == {"APP-1": ["backward-moves"]}
    reopened = make_issue(path=[*REVIEWED, (6, "In Progress")])
    assert hygiene([reopened], hygiene={"max_backward_moves": 0}) == {}


def test_resolution_on_jira_when_the_site_sets_resolutions():
    fixed = replace(make_issue("APP-1", path=REVIEWED), resolution="Done")
    missing = make_issue("APP-2", path=REVIEWED)
    open_fixed = replace(make_issue("APP-3", path=[(1, "In Progress")]), resolution="Fixed")
    assert hygiene([fixed, missing, open_fixed]) == {
        "APP-2": ["resolution"],
        "APP-3": ["resolution"],
    }
    # no issue has a resolution: the site's workflows do not set one
    assert hygiene([missing]) == {}


def test_resolution_is_not_judged_on_zentao():
    zentao = {"url": "http://zentao.invalid", "account": "bot", "products": [1]}
    missing = make_issue("APP-2", path=REVIEWED)
    fixed = replace(make_issue("APP-1", path=REVIEWED), resolution="fixed")
    assert hygiene([fixed, missing], tracker="zentao", zentao=zentao, jira=None) == {}


def test_an_unfinished_child_under_a_finished_parent():
    parent = make_issue("APP-1", path=REVIEWED)
    child = replace(make_issue("APP-2"), parent="APP-1")
    done_child = replace(make_issue("APP-3", path=REVIEWED), parent="APP-1")
    assert hygiene([parent, child, done_child]) == {"APP-2": ["open-child"]}
    open_parent = make_issue("APP-1", path=[(1, "In Progress")])
    assert hygiene([open_parent, child]) == {}
    assert hygiene([child]) == {}  # the parent is not in scope


def test_each_hygiene_rule_can_be_switched_off_and_the_family_too():
    issues = [make_issue(path=[(1, "Done")]), make_issue("APP-2", initial="In Progress")]
    assert hygiene(issues, hygiene={"disabled": ["no-step"]}) == {"APP-2": ["created-in-step"]}
    assert hygiene(issues, rules={"disabled": ["hygiene"]}) == {}
    assert evaluate(issues, settings(rules={"disabled": ["hygiene"]}), NOW).process is None


def test_an_unknown_hygiene_rule_names_the_key_and_the_known_rules():
    with pytest.raises(ConfigError) as info:
        settings(hygiene={"disabled": ["no-steps"]})
    text = str(info.value)
    assert "hygiene.disabled" in text and "'no-steps'" in text and "created-in-step" in text


def test_hygiene_findings_are_warn_and_label_the_issue():
    evaluation = evaluate(
        [make_issue(path=[(1, "Done")])], settings(rules={"disabled": ["redline"]}), NOW
    )
    (verdict,) = evaluation.unhealthy()
    assert verdict.families == ("hygiene",) and verdict.health.value == "at-risk"


# -- the process share --------------------------------------------------------------------


def test_the_process_share_counts_issues_finished_in_the_window_without_hygiene_findings():
    clean = [make_issue(f"APP-{n}", path=REVIEWED) for n in range(1, 4)]
    sloppy = make_issue("APP-4", path=[(1, "Done")])
    still_open = make_issue("APP-5", initial="In Progress")
    evaluation = evaluate([*clean, sloppy, still_open], settings(), NOW)
    assert evaluation.process is not None
    assert evaluation.process.to_dict() == {"finished": 4, "clean": 3, "share": 0.75}
    assert evaluation.process.describe() == (
        "75% of finished issues passed through the steps (3 of 4)"
    )
    outside = evaluate([*clean, sloppy], settings(metrics={"window_weeks": 1}), at(12)).process
    assert outside is not None and outside.to_dict()["finished"] == 0


def test_below_min_process_share_is_a_team_finding():
    issues = [*(make_issue(f"APP-{n}", path=REVIEWED) for n in range(1, 4)),
              make_issue("APP-4", path=[(1, "Done")])]  # fmt: skip
    assert team(issues, "hygiene", hygiene={"min_process_share": 0.75}) == []  # at the floor
    (finding,) = team(issues, "hygiene", hygiene={"min_process_share": 0.76})
    assert finding.config_key == "hygiene.min_process_share"
    assert finding.message.startswith("only 75% of finished issues passed through the steps")


def test_history_change_by_field_is_status_only():
    # an assignee change right after done is not a status edit
    issue = make_issue(path=REVIEWED, extra_history=(Change(at(5), "assignee", "u-ann", "u-bob"),))
    assert hygiene([issue]) == {}


def test_the_process_share_does_not_depend_on_which_findings_are_reported():
    issues = [make_issue("APP-1", path=REVIEWED), make_issue("APP-2", path=[(1, "Done")])]
    quiet = settings(rules={"family_min_severity": {"hygiene": "critical"}})
    evaluation = evaluate(issues, quiet, NOW)
    assert not any(f.family == "hygiene" for v in evaluation.verdicts for f in v.findings)
    assert evaluation.process is not None
    assert evaluation.process.to_dict() == {"finished": 2, "clean": 1, "share": 0.5}


def test_an_unknown_history_is_judged_only_as_the_issue_is_now():
    # in a step with no status change: the tracker showed no history
    unknown = replace(make_issue("APP-1", initial="In Progress"), history_known=False)
    assert hygiene([unknown]) == {}
    parent = make_issue("APP-2", path=REVIEWED)
    child = replace(make_issue("APP-3", initial="In Progress"), parent="APP-2",
                    history_known=False)  # fmt: skip
    assert hygiene([parent, child]) == {"APP-3": ["open-child"]}


def test_cancelled_work_may_skip_the_steps_and_is_no_finished_work():
    workflow = settings().model_dump()["workflow"]
    cancelled = make_issue("APP-1", path=[(1, "Won't Do")])
    done = make_issue("APP-2", path=[(1, "Done")])
    found = hygiene([cancelled, done], workflow={**workflow, "cancelled": ["Won't Do"]})
    assert found == {"APP-2": ["no-step"]}
    evaluation = evaluate(
        [cancelled, *(finished(f"APP-{n}", ANN) for n in range(3, 7))],
        settings(workflow={**workflow, "cancelled": ["Won't Do"]}),
        NOW,
    )
    assert evaluation.process is not None and evaluation.process.finished == 4
    # four finished issues in the area: under skills.min_issues, the cancelled one aside
    assert [f for f in evaluation.team_findings if f.rule == "knowledge-concentration"] == []
