"""The hygiene family over plain objects (and the helpers the skills tests share)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Change, Issue, Person, Severity
from jira_chase.engine.plan import desired_labels
from jira_chase.errors import ConfigError
from tests.factories import ANN, at, make_issue, make_settings

NOW = at(10)  # finished issues keep findings for redlines.flag_finished_days (14)
CAT = Person("u-cat", "Cat Diaz")
REVIEWED = [(1, "In Progress"), (2, "Code Review"), (3, "In QA"), (4, "Done")]


def settings(**sections: Any) -> Any:
    base: dict[str, Any] = {"focus": {"wip_per_person": None}, "metrics": {"window_weeks": 8}}
    return make_settings(**{**base, **sections})


def team(
    issues: list[Issue], family: str, now: Any = NOW, rule: str | None = None, **sections: Any
) -> list[Any]:
    evaluation = evaluate(issues, settings(**sections), now)
    return [
        f
        for f in evaluation.team_findings
        if f.family == family and (rule is None or f.rule == rule)
    ]


def hygiene(issues: list[Issue], **sections: Any) -> dict[str, list[str]]:
    """Each issue's hygiene rules that fired: notes for the team, never findings."""
    evaluation = evaluate(issues, settings(**sections), NOW)
    assert not any(f.family == "hygiene" for v in evaluation.verdicts for f in v.findings)
    found = {
        v.issue.key: sorted(f.rule for f in v.notes if f.family == "hygiene")
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


TWO_DONE = {"done": ["Done", "Closed"], "steps": settings().model_dump()["workflow"]["steps"]}


def points(day: float, old: str | None = "3", new: str | None = "5", **kw: Any) -> Change:
    return Change(at(day), kw.pop("field", "Story Points"), old, new, by=kw.pop("by", "u-bob"))


def test_moving_from_one_done_status_to_another_is_the_workflow_not_an_edit():
    closed = make_issue(path=[*REVIEWED, (6, "Closed")])
    assert hygiene([closed], workflow=TWO_DONE) == {}
    reopened = make_issue(path=[*REVIEWED, (6, "In Progress"), (7, "Code Review"), (8, "Done")])
    assert hygiene([reopened], workflow=TWO_DONE) == {}


def test_changing_the_estimate_or_fix_version_while_done_is_an_edit_in_done():
    edited = make_issue(path=REVIEWED, extra_history=(points(5), points(6, "5", "8")))
    evaluation = evaluate([edited], settings(), NOW)
    (note,) = evaluation.by_key()["APP-1"].notes
    assert (note.family, note.rule) == ("hygiene", "edited-in-done")
    assert note.config_key == "hygiene.disabled"
    evidence = dict(note.evidence)
    assert evidence["change"] == "Story Points: 5 -> 8"
    assert evidence["at"] == "2026-11-08 09:00 UTC" and evidence["edits while done"] == "2"
    # every counted field, in any case; while done through Done -> Closed as well
    for field in ("story point estimate", "ESTIMATE", "Fix Version/s", "fixVersions"):
        changed = make_issue(path=[*REVIEWED, (6, "Closed")],
                             extra_history=(points(7, field=field),))  # fmt: skip
        assert hygiene([changed], workflow=TWO_DONE) == {"APP-1": ["edited-in-done"]}, field


def test_an_edit_before_done_after_a_reopen_or_by_the_bot_is_no_edit_in_done():
    before = make_issue(path=REVIEWED, extra_history=(points(3.5),))
    after_reopen = make_issue(path=[*REVIEWED, (6, "In Progress")], extra_history=(points(7),))
    other_field = make_issue(path=REVIEWED, extra_history=(points(5, field="Sprint"),))
    assert hygiene([before, after_reopen, other_field]) == {}
    by_bot = make_issue(path=REVIEWED, extra_history=(points(5, by="u-bot"),))
    evaluation = evaluate([by_bot], settings(), NOW, bot_id="u-bot")
    assert evaluation.by_key()["APP-1"].notes == ()
    # an edit while done before a reopen still rewrote what the metrics had counted
    edited_then_reopened = make_issue(
        path=[*REVIEWED, (6, "In Progress")], extra_history=(points(5),)
    )
    assert hygiene([edited_then_reopened]) == {"APP-1": ["edited-in-done"]}


def test_edited_in_done_can_be_switched_off():
    edited = make_issue(path=REVIEWED, extra_history=(points(5),))
    assert hygiene([edited], hygiene={"disabled": ["edited-in-done"]}) == {}


def backward(moves: int) -> Issue:
    path: list[tuple[float, str]] = [(1, "In Progress")]
    for n in range(moves):
        path += [(2 + n, "Code Review"), (2.5 + n, "In Progress")]
    return make_issue(path=[*path, (20, "Code Review"), (21, "Done")])


def test_backward_moves_above_the_limit():
    assert hygiene([backward(2)]) == {}
    found = evaluate([backward(3)], settings(), NOW).by_key()["APP-1"].notes
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


def test_hygiene_findings_are_warn_notes_that_neither_label_nor_make_unhealthy():
    issues = [make_issue(path=[(1, "Done")]), make_issue("APP-2", initial="In Progress")]
    evaluation = evaluate(issues, settings(rules={"disabled": ["redline", "stuck"]}), NOW)
    assert not evaluation.unhealthy()
    verdict = evaluation.by_key()["APP-1"]
    assert verdict.health.value == "healthy" and verdict.findings == () and verdict.causes == ()
    (note,) = verdict.notes
    assert note.rule == "no-step" and note.severity is Severity.WARN
    assert desired_labels(verdict, "chase-") == []
    (counted,) = [f for f in evaluation.team_findings if f.rule == "hygiene"]
    assert (counted.subject, counted.family) == ("tracker hygiene", "hygiene")
    assert counted.severity is Severity.WARN and counted.config_key == "hygiene.disabled"
    assert counted.message == (
        "2 issues do not follow the process in the tracker: created-in-step 1, no-step 1"
    )
    assert dict(counted.evidence) == {"created-in-step": "APP-2", "no-step": "APP-1"}


def test_the_tracker_hygiene_finding_ranks_rules_by_count_and_goes_with_the_family():
    issues = [make_issue(f"APP-{n}", path=[(1, "Done")]) for n in (1, 2, 3)]
    issues.append(make_issue("APP-4", initial="In Progress"))
    (counted,) = team(issues, "hygiene", rules={"disabled": ["redline"]})
    assert counted.message.endswith(": no-step 3, created-in-step 1")
    assert dict(counted.evidence)["no-step"] == "APP-1, APP-2, APP-3"
    assert team(issues, "hygiene", rules={"disabled": ["redline", "hygiene"]}) == []
    assert team([make_issue(path=REVIEWED)], "hygiene") == []


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
    share = {"min_process_share": 0.75}
    assert team(issues, "hygiene", hygiene=share, rule="process-share") == []  # at the floor
    share = {"min_process_share": 0.76}
    (finding,) = team(issues, "hygiene", hygiene=share, rule="process-share")
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
    assert not any(f.family == "hygiene" for v in evaluation.verdicts for f in v.notes)
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


def test_notes_expire_with_the_findings_of_a_finished_issue():
    # finished on day 1 without a step; redlines.flag_finished_days is 14
    sloppy = make_issue(path=[(1, "Done")])
    quiet = settings(rules={"disabled": ["redline"]}, metrics={"window_weeks": 8})
    fresh = evaluate([sloppy], quiet, at(10))
    assert [n.rule for n in fresh.by_key()["APP-1"].notes] == ["no-step"]
    assert [f.rule for f in fresh.team_findings if f.family == "hygiene"] == ["hygiene"]
    later = evaluate([sloppy], quiet, at(16))
    assert later.by_key()["APP-1"].notes == ()
    assert [f.rule for f in later.team_findings if f.family == "hygiene"] == []
    # the process share still counts it: it finished in the window
    assert later.process is not None and later.process.to_dict()["clean"] == 0


def test_the_tracker_hygiene_finding_reads_right_for_one_issue():
    (counted,) = team([make_issue(path=[(1, "Done")])], "hygiene", rules={"disabled": ["redline"]})
    assert counted.message == "1 issue does not follow the process in the tracker: no-step 1"
