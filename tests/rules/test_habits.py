"""Work habits: stale work, no owner, no estimate once committed."""

from dataclasses import replace

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Change, Comment
from tests.factories import BASE_CONFIG, at, make_issue, make_settings

BOT = "u-bot"
HABITS = make_settings(
    habits={"stale_days": 3, "require_owner": True, "require_estimate": True},
    focus={"wip_per_person": None},
)


def family(issues, now, name, settings=HABITS, bot_id=BOT):
    """Each issue's findings of the family `name`; for a part of `stuck` (stale), the
    issue's `stuck` finding when that part is in it."""
    evaluation = evaluate(issues, settings, now, bot_id=bot_id)
    return {
        v.issue.key: [f for f in v.findings if f.family == name or name in {p for p, _ in f.parts}]
        for v in evaluation.verdicts
    }


def estimated(issue, points=3.0):
    return replace(issue, estimate=points)


# -- stale ---------------------------------------------------------------------------------


def test_no_update_for_the_limit_is_stale():
    issue = estimated(make_issue(path=[(0, "In Progress")]))
    assert family([issue], at(2.99), "stale")["APP-1"] == []
    (finding,) = family([issue], at(3), "stale")["APP-1"]  # exactly at the limit
    assert (finding.family, finding.parts) == ("stuck", (("stale", "no-update"),))
    assert finding.config_key == "habits.stale_days" and finding.volatile == ("idle for",)
    assert finding.message == (
        "not moving: no update by a person since 2026-11-02 (3 days; limit 3 days)"
    )
    evidence = dict(finding.evidence)
    assert evidence["last update"] == "2026-11-02 09:00 UTC: changed status by Ann Lee"
    assert evidence["idle for"] == "3 days (calendar days)"


def test_any_human_change_or_comment_is_activity():
    touched = Change(at(2), "priority", "Low", "High", by="u-bob")
    issue = estimated(make_issue(path=[(0, "In Progress")], extra_history=(touched,)))
    assert family([issue], at(4), "stale")["APP-1"] == []
    commented = replace(
        estimated(make_issue(path=[(0, "In Progress")])), comments=(Comment(at(2), "u-bob"),)
    )
    assert family([commented], at(4), "stale")["APP-1"] == []
    (finding,) = family([commented], at(5), "stale")["APP-1"]
    assert "commented by u-bob" in dict(finding.evidence)["last update"]
    assert "no update by a person since 2026-11-04 (3 days; limit 3 days)" in finding.message


def test_the_bots_own_labels_and_comments_never_count():
    labels = Change(at(2), "labels", "customer", "customer chase-at-risk", by=BOT)
    issue = estimated(make_issue(path=[(0, "In Progress")], extra_history=(labels,)))
    issue = replace(issue, comments=(Comment(at(2.5), BOT, "jira-chase: at risk"),))
    (finding,) = family([issue], at(3), "stale")["APP-1"]
    assert "changed status" in dict(finding.evidence)["last update"]


def test_without_the_bot_id_its_prefixed_label_changes_still_do_not_count():
    ours = Change(at(2), "labels", "customer", "customer chase-stale chase-at-risk", by="acc-9")
    issue = estimated(make_issue(path=[(0, "In Progress")], extra_history=(ours,)))
    assert len(family([issue], at(3), "stale", bot_id=None)["APP-1"]) == 1
    theirs = Change(at(2), "labels", "customer", "customer urgent", by="u-bob")
    issue = estimated(make_issue(path=[(0, "In Progress")], extra_history=(theirs,)))
    assert family([issue], at(3), "stale", bot_id=None)["APP-1"] == []


def test_changes_after_now_are_not_seen():
    later = Change(at(5), "priority", "Low", "High", by="u-bob")
    issue = estimated(make_issue(path=[(0, "In Progress")], extra_history=(later,)))
    assert len(family([issue], at(3), "stale")["APP-1"]) == 1


def test_waiting_steps_and_unstarted_work_are_never_stale():
    steps = [dict(s) for s in BASE_CONFIG["workflow"]["steps"]]
    steps[2]["waiting"] = True  # test
    settings = make_settings(
        workflow={"done": ["Done"], "steps": steps},
        habits={"stale_days": 3, "require_owner": True},
    )
    queued = make_issue("APP-1", path=[(0, "Code Review"), (0.1, "In QA")], assignee=None)
    todo = make_issue("APP-2", assignee=None)
    result = evaluate([queued, todo], settings, at(10), bot_id=BOT)
    (finding,) = [f for v in result.verdicts for f in v.findings]
    assert (finding.family, finding.parts) == ("stuck", (("stalled", "time-in-step"),))


def test_stale_days_count_business_days():
    settings = make_settings(
        calendar={"kind": "business", "holidays": ["2026-11-04"]},
        habits={"stale_days": 3},
        focus={"wip_per_person": None},
    )
    issue = make_issue(path=[(0, "In Progress")])  # Monday 09:00
    # Friday 09:00: Mon, Tue, (Wed is a holiday), Thu = 3 business days.
    assert family([issue], at(3.9), "stale", settings)["APP-1"] == []
    assert len(family([issue], at(4), "stale", settings)["APP-1"]) == 1


def test_stale_days_can_be_overridden():
    settings = make_settings(
        habits={"stale_days": 3},
        overrides=[{"when": {"priority": "Highest"}, "habits": {"stale_days": 1}}],
    )
    urgent = replace(make_issue(path=[(0, "In Progress")]), priority="Highest")
    (finding,) = family([urgent], at(1), "stale", settings)["APP-1"]
    assert finding.config_key == "overrides[0].habits.stale_days"


# -- owner and estimate ---------------------------------------------------------------------


def test_no_owner_in_an_active_step():
    issue = estimated(make_issue(path=[(0, "Code Review")], assignee=None))
    (finding,) = family([issue], at(0.5), "owner")["APP-1"]
    assert finding.rule == "no-owner" and finding.config_key == "habits.require_owner"
    assert family([make_issue(assignee=None)], at(0.5), "owner")["APP-1"] == []


def test_no_estimate_once_committed():
    issue = make_issue(path=[(0, "In Progress")])
    (finding,) = family([issue], at(0.5), "estimate")["APP-1"]
    assert finding.rule == "no-estimate" and finding.config_key == "habits.require_estimate"
    assert family([estimated(issue, 0)], at(0.5), "estimate")["APP-1"] == []  # 0 is set
    assert family([make_issue()], at(0.5), "estimate")["APP-1"] == []  # not committed
    done = make_issue(path=[(0, "Code Review"), (0.2, "Done")])
    assert family([done], at(0.5), "estimate")["APP-1"] == []


def test_require_estimate_for_one_issue_type_only():
    settings = make_settings(
        overrides=[{"when": {"type": "Story"}, "habits": {"require_estimate": True}}]
    )
    story = make_issue("APP-1", path=[(0, "In Progress")])
    bug = replace(make_issue("APP-2", path=[(0, "In Progress")]), type="Bug")
    result = family([story, bug], at(0.5), "estimate", settings)
    assert [f.config_key for f in result["APP-1"]] == ["overrides[0].habits.require_estimate"]
    assert result["APP-2"] == []


def test_habits_are_off_unless_configured():
    issue = make_issue(path=[(0, "In Progress")], assignee=None)
    settings = make_settings(focus={"wip_per_person": None})
    assert evaluate([issue], settings, at(4.9)).verdicts[0].findings == ()


def test_a_missing_owner_that_a_red_line_names_is_said_once_by_the_red_line():
    settings = make_settings(
        habits={"require_owner": True},
        redlines={"required_fields": [{"field": "Assignee", "when_step": "build"}]},
        focus={"wip_per_person": None},
    )
    building = estimated(make_issue("APP-1", path=[(0, "In Progress")], assignee=None))
    reviewing = estimated(make_issue("APP-2", path=[(0, "Code Review")], assignee=None))
    result = evaluate([building, reviewing], settings, at(0.5)).by_key()
    assert [(f.family, f.rule) for f in result["APP-1"].findings] == [("redline", "required-field")]
    assert result["APP-1"].causes == ("redline",)
    # in review no red line asks for an owner: the habit says it
    assert [(f.family, f.rule) for f in result["APP-2"].findings] == [("owner", "no-owner")]
