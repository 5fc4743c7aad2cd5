"""The hygiene family over plain objects (and the helpers the skills tests share)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jira_chase.errors import ConfigError
from jira_chase.evaluate import evaluate
from jira_chase.model import Change, Issue, Person
from tests.factories import ANN, at, make_issue, make_settings

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
