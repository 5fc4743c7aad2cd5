from dataclasses import replace

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Severity
from tests.factories import at, make_issue, make_settings

SETTINGS = make_settings()


def findings(issues, now, settings=SETTINGS):
    return {v.issue.key: v.findings for v in evaluate(issues, settings, now).verdicts}


def stuck_parts(finding):
    """The (family, rule) parts of a merged `stuck` finding (asserting it is one)."""
    assert (finding.family, finding.rule) == ("stuck", "not-moving")
    return finding.parts


# -- stalled -----------------------------------------------------------------------


def test_under_the_limit_is_healthy():
    issue = make_issue(path=[(0, "Code Review")])
    assert findings([issue], at(1.99))["APP-1"] == ()


def test_exactly_at_the_limit_warns():
    issue = make_issue(path=[(0, "Code Review")])
    (finding,) = findings([issue], at(2))["APP-1"]
    assert stuck_parts(finding) == (("stalled", "time-in-step"),)
    assert finding.severity is Severity.WARN
    assert finding.config_key == "workflow.steps[1].limit_days"
    assert finding.message == "not moving: in review since 2026-11-02 (2 days; limit 2 days)"
    evidence = dict(finding.evidence)
    assert evidence["step"] == "review" and evidence["limit"] == "2 days"
    assert evidence["entered"] == "2026-11-02 09:00 UTC"


def test_twice_the_limit_is_critical():
    issue = make_issue(path=[(0, "Code Review")])
    (finding,) = findings([issue], at(4))["APP-1"]
    assert finding.severity is Severity.CRITICAL
    assert stuck_parts(finding) == (("stalled", "time-in-step"),)
    assert dict(finding.evidence)["critical at"] == "4 days"


def test_time_in_step_restarts_when_the_step_is_reentered():
    issue = make_issue(path=[(0, "In Progress"), (6, "Code Review"), (7, "In Progress")])
    assert findings([issue], at(10))["APP-1"] == ()  # 3 days since re-entering build


def test_business_calendar_does_not_count_the_weekend():
    settings = make_settings(calendar={"kind": "business"})
    # Entered review Friday 09:00; Monday 09:00 is 1 business day later.
    issue = make_issue(path=[(4, "Code Review")])
    assert findings([issue], at(7), settings)["APP-1"] == ()
    (finding,) = findings([issue], at(7), SETTINGS)["APP-1"]
    assert stuck_parts(finding) == (("stalled", "time-in-step"),)


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


def test_issues_pulled_into_a_full_step_are_flagged_by_entry_time():
    # build's wip_limit is 3; APP-5 and APP-4 entered fourth and fifth.
    entries = {"APP-1": 0.1, "APP-2": 0.2, "APP-3": 0.3, "APP-5": 0.4, "APP-4": 0.5}
    issues = [make_issue(key, path=[(t, "In Progress")], assignee=None)
              for key, t in entries.items()]  # fmt: skip
    evaluation = evaluate(issues, SETTINGS, at(1))
    flagged = {v.issue.key: v.findings for v in evaluation.unhealthy()}
    assert set(flagged) == {"APP-4", "APP-5"}
    (finding,) = flagged["APP-5"]
    assert (finding.family, finding.rule) == ("wip", "pulled-into-full-step")
    assert finding.severity is Severity.WARN
    assert finding.config_key == "workflow.steps[0].wip_limit"
    assert finding.message == (
        "pulled into build on 2026-11-02 while it already held 3 issues (limit 3): "
        "finish work there before starting more"
    )
    evidence = dict(finding.evidence)
    assert evidence["step"] == "build" and evidence["entered"] == "2026-11-02 18:36 UTC"
    assert evidence["already in the step"] == "3"
    assert evidence["in the step now"] == "5" and evidence["limit"] == "3"
    assert dict(flagged["APP-4"][0].evidence)["already in the step"] == "4"
    (team,) = evaluation.team_findings
    assert team.family == "wip" and team.subject == "step build"
    assert dict(team.evidence)["over the limit"] == "APP-5, APP-4"


#: One step with a WIP limit and no `limit_days`: issues pulled into it in the last
#: five days are flagged.
NO_DAYS = make_settings(
    workflow={"done": ["Done"], "steps": [
        {"name": "build", "statuses": ["In Progress"], "wip_limit": 3},
        {"name": "review", "statuses": ["Code Review"]},
    ]},
)  # fmt: skip


def wip_rules(issues, now, settings=NO_DAYS):
    return {
        key: [f.rule for f in found if f.family == "wip"]
        for key, found in findings(issues, now, settings).items()
    }


def test_only_an_issue_pulled_in_recently_is_told_the_step_was_full():
    # APP-1..3 fill build on day 0; APP-4 is pulled in on day 1, APP-5 on day 20.
    full = [make_issue(f"APP-{n}", path=[(0, "In Progress")], assignee=None) for n in (1, 2, 3)]
    old = make_issue("APP-4", path=[(1, "In Progress")], assignee=None)
    new = make_issue("APP-5", path=[(20, "In Progress")], assignee=None)
    result = wip_rules([*full, old, new], at(21))
    assert result["APP-5"] == ["pulled-into-full-step"]  # 1 day ago, into a full step
    assert result["APP-4"] == []  # 20 days ago: an old occupant, not told again
    assert all(result[f"APP-{n}"] == [] for n in (1, 2, 3))  # never over the limit
    evidence = dict(findings([*full, old, new], at(21), NO_DAYS)["APP-5"][0].evidence)
    assert evidence["already in the step"] == "4" and evidence["in the step now"] == "5"


def test_without_limit_days_a_step_looks_back_five_days_and_with_them_its_own():
    full = [make_issue(f"APP-{n}", path=[(0, "In Progress")], assignee=None) for n in (1, 2, 3)]
    pulled = make_issue("APP-4", path=[(1, "In Progress")], assignee=None)
    assert wip_rules([*full, pulled], at(5.9))["APP-4"] == ["pulled-into-full-step"]
    assert wip_rules([*full, pulled], at(6))["APP-4"] == []
    # build's own limit_days (5 in SETTINGS) is the window where it has one
    assert wip_rules([*full, pulled], at(5.9), SETTINGS)["APP-4"] == ["pulled-into-full-step"]
    assert wip_rules([*full, pulled], at(6.1), SETTINGS)["APP-4"] == []


def test_the_step_is_counted_as_it_was_when_the_issue_entered():
    # APP-1 left build for review on day 2: when APP-4 came in (day 1.5) build was full.
    def board(left: float):
        return [
            make_issue("APP-1", path=[(0, "In Progress"), (left, "Code Review")], assignee=None),
            *(make_issue(f"APP-{n}", path=[(0, "In Progress")], assignee=None) for n in (2, 3)),
            make_issue("APP-4", path=[(1.5, "In Progress")], assignee=None),
        ]

    evaluation = evaluate(board(left=2), NO_DAYS, at(3))
    (finding,) = evaluation.by_key()["APP-4"].findings
    assert finding.rule == "pulled-into-full-step"
    evidence = dict(finding.evidence)
    assert evidence["already in the step"] == "3" and evidence["in the step now"] == "3"
    assert evaluation.team_findings == ()  # the step is at its limit now, not over it
    # APP-1 had left before APP-4 came in: build held two, room for one more
    assert wip_rules(board(left=1), at(3))["APP-4"] == []
    # an issue that went on to finish still counted while it was in the step
    done = [
        make_issue("APP-1", path=[(0, "In Progress"), (2, "Code Review"), (2.5, "Done")],
                   assignee=None),
        *board(left=2)[1:],
    ]  # fmt: skip
    assert wip_rules(done, at(3))["APP-4"] == ["pulled-into-full-step"]


def test_a_step_without_a_wip_limit_flags_no_pull():
    issues = [make_issue(f"APP-{n}", path=[(n / 10, "Code Review")], assignee=None)
              for n in range(1, 8)]  # fmt: skip
    assert all(rules == [] for rules in wip_rules(issues, at(1)).values())


def test_a_move_between_two_statuses_of_the_step_keeps_the_issue_in_it():
    two = make_settings(
        workflow={"done": ["Done"], "steps": [
            {"name": "build", "statuses": ["In Progress", "Doing"], "wip_limit": 1},
        ]},
    )  # fmt: skip
    inside = make_issue("APP-9", path=[(0, "In Progress"), (1, "Doing")], assignee=None)
    for entered in (0.5, 1, 1.5):
        pulled = make_issue("APP-2", path=[(entered, "In Progress")], assignee=None)
        assert wip_rules([inside, pulled], at(2), two)["APP-2"] == ["pulled-into-full-step"], (
            entered
        )
