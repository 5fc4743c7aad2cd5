"""Goals: the JQL scope matcher, the linear plan, checkpoint status and the forecast.

T0 = Monday 2026-11-02 09:00 UTC. The goal starts on 11-02 and must be done by 12-14
(six weeks); on 11-16 (day 14) the plan says one third.
"""

from dataclasses import replace
from datetime import date

import pytest

from jira_chase.config.settings import GoalSettings
from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Person, Severity
from jira_chase.engine.rules.goals import forecast_weeks, planned
from jira_chase.errors import ConfigError
from jira_chase.jql import FilterError, parse_scope
from tests.factories import at, make_issue, make_settings

NOW = at(14)


# -- the scope matcher ----------------------------------------------------------------------


def issue(**fields):
    return replace(make_issue("APP-7"), **fields)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('fixVersion = "1.4"', True),
        ("fixversion = 1.5", False),
        ("labels = customer", True),
        ("labels in (x, CUSTOMER)", True),
        ("labels not in (customer)", False),
        ("labels != other", True),
        ("project = APP AND type = Story", True),
        ("project = OPS OR issuetype = story", True),
        ("project = OPS OR type = Bug AND priority = High", False),
        ("(project = OPS OR type = Story) AND priority = High", True),
        ("NOT priority = Low", True),
        ("! priority = High", False),
        ("key = app-7", True),
        ("issuekey in (APP-1, APP-2)", False),
        ("parent = APP-1", True),
        ("parent is empty", False),
        ("duedate_is_not_a_field = 1 OR status = 'To Do'", None),
        ("status = 'To Do' ORDER BY key DESC", True),
        ("assignee = u-ann AND assignee = 'Ann Lee'", True),
        ("label = customer && project = APP", True),
    ],
)
def test_the_scope_matcher(query, expected):
    subject = issue(fix_versions=("1.4",), labels=("customer",), priority="High", parent="APP-1")
    if expected is None:
        with pytest.raises(FilterError):
            parse_scope(query)
        return
    assert parse_scope(query).matches(subject) is expected


def test_negations_never_match_an_empty_field_as_in_jira():
    bare = issue(labels=(), fix_versions=())
    assert not parse_scope("labels != customer").matches(bare)
    assert not parse_scope("NOT labels = customer").matches(bare)
    assert not parse_scope("fixVersion not in (1.4)").matches(bare)
    assert parse_scope("labels is empty").matches(bare)
    assert parse_scope("NOT labels is not empty").matches(bare)
    assert parse_scope("NOT (labels = a OR fixVersion = b)").matches(
        issue(labels=("c",), fix_versions=("d",))
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("summary ~ checkout", "field 'summary' is not supported"),
        ("fixVersion in releasedVersions()", "functions"),
        ("fixVersion > 1.4", "operator '>' is not supported"),
        ("(project = APP", "ends too early"),
        ("project = APP project = OPS", "unexpected 'project'"),
        ("", "empty"),
        ("project = APP AND", "ends too early"),
    ],
)
def test_the_scope_matcher_says_what_it_does_not_understand(query, message):
    with pytest.raises(FilterError, match=message):
        parse_scope(query)


# -- configuration ----------------------------------------------------------------------------


def goal(**overrides):
    base = {
        "name": "Release 1.4",
        "scope": 'fixVersion = "1.4"',
        "start": "2026-11-02",
        "tolerance": 0.1,
        "checkpoints": [{"name": "Release", "date": "2026-12-14", "done": 1.0}],
    }
    return {**base, **overrides}


def goal_settings(**overrides):
    return make_settings(goals=[goal(**overrides)], focus={"wip_per_person": None})


def test_a_bad_scope_is_a_config_error_naming_the_goal():
    with pytest.raises(ConfigError) as info:
        goal_settings(scope="text ~ beta")
    (problem,) = info.value.problems
    assert problem.startswith("goals[0].scope: field 'text' is not supported here")


def test_checkpoints_must_move_forward():
    with pytest.raises(ConfigError, match=r"goals\[0\]: checkpoints\[1\].date 2026-11-20"):
        goal_settings(checkpoints=[{"name": "a", "date": "2026-12-01", "done": 0.5},
                                   {"name": "b", "date": "2026-11-20", "done": 1.0}])  # fmt: skip
    with pytest.raises(ConfigError, match="never goes backwards"):
        goal_settings(checkpoints=[{"name": "a", "date": "2026-12-01", "done": 0.8},
                                   {"name": "b", "date": "2026-12-20", "done": 0.5}])  # fmt: skip
    with pytest.raises(ConfigError, match="must come after start"):
        goal_settings(checkpoints=[{"name": "a", "date": "2026-11-02", "done": 0.8}])


def test_the_plan_is_linear_from_start_through_each_checkpoint():
    settings = GoalSettings(
        **goal(
            checkpoints=[
                {"name": "a", "date": "2026-11-12", "done": 0.5},
                {"name": "b", "date": "2026-11-22", "done": 0.7},
            ]
        )  # fmt: skip
    )
    assert planned(settings, date(2026, 11, 1)) == 0.0
    assert planned(settings, date(2026, 11, 7)) == pytest.approx(0.25)
    assert planned(settings, date(2026, 11, 12)) == 0.5
    assert planned(settings, date(2026, 11, 17)) == pytest.approx(0.6)
    assert planned(settings, date(2027, 1, 1)) == 0.7


# -- judging ------------------------------------------------------------------------------------


def scope(done_days, open_count=None, estimate=None):
    """Ten issues of release 1.4, finished on the given days; the rest open, plus one
    issue of another release."""
    issues = []
    for n, day in enumerate(done_days, start=1):
        done = make_issue(f"APP-{n}", path=[(day - 0.5, "Code Review"), (day, "Done")])
        issues.append(replace(done, fix_versions=("1.4",), estimate=estimate))
    for n in range(
        len(done_days) + 1, 11 if open_count is None else len(done_days) + 1 + open_count
    ):
        todo = make_issue(f"APP-{n}", assignee=Person(f"u-{n}", f"Dev {n}"))
        issues.append(replace(todo, fix_versions=("1.4",), estimate=estimate))
    issues.append(replace(make_issue("APP-99"), fix_versions=("2.0",)))
    return issues


def judged(issues, settings=None):
    evaluation = evaluate(issues, settings or goal_settings(), NOW)
    (status,) = evaluation.goals
    return evaluation, status


def goal_findings(evaluation):
    return {v.issue.key: [f for f in v.findings if f.family == "goal"] for v in evaluation.verdicts}


def test_on_plan_and_forecast_in_time_is_on_track():
    # 4 of 10 done (plan: 33%), two a week: the other 6 take 3 weeks, by 12-07.
    evaluation, status = judged(scope([2, 5, 9, 12]))
    assert status.status == "on-track" and status.fraction == 0.4
    assert status.planned_today == pytest.approx(1 / 3)
    assert status.weekly_throughput == (2.0, 2.0)
    (checkpoint,) = status.checkpoints
    assert checkpoint.forecast_p85 == date(2026, 12, 7)
    assert not evaluation.unhealthy() and not evaluation.team_findings


def test_behind_plan_within_tolerance_is_an_at_risk_team_finding():
    evaluation, status = judged(scope([2, 5, 9]))  # 30% done, 33% planned
    (checkpoint,) = status.checkpoints
    assert checkpoint.status == "at-risk" and status.status == "at-risk"
    assert checkpoint.config_key == "goals[0].tolerance"
    (team,) = evaluation.team_findings
    assert team.family == "goal" and team.subject == "goal Release 1.4"
    assert team.severity is Severity.WARN and team.rule == "checkpoint-at-risk"
    assert team.message.startswith(
        "goal 'Release 1.4': checkpoint 'Release' (2026-12-14) at risk — behind plan by"
    )
    evidence = dict(team.evidence)
    assert evidence["done"] == "3 of 10 issues (30%)"
    assert evidence["planned today"] == "33.3%" and evidence["tolerance"] == "10%"
    assert evidence["due by then"] == "100% = 10 issues"
    assert evidence["open issues"].startswith("APP-4, APP-5")
    # three finished issues are too few for a p85 cycle time: no issue is told anything
    assert not any(goal_findings(evaluation).values())


def test_further_behind_is_an_off_track_critical_team_finding():
    evaluation, status = judged(scope([2, 5]))  # 20% done, 33% planned
    assert status.status == "off-track"
    (team,) = evaluation.team_findings
    assert team.severity is Severity.CRITICAL and team.rule == "checkpoint-off-track"
    assert not any(goal_findings(evaluation).values())


def test_a_slow_forecast_puts_an_on_plan_goal_at_risk():
    # 4 done, all in the first week: the forecast replays weeks of 4 and 0.
    evaluation, status = judged(scope([1, 2, 3, 4]))
    (checkpoint,) = status.checkpoints
    assert status.fraction > status.planned_today
    assert (
        checkpoint.status == "at-risk" and checkpoint.config_key == "goals[0].checkpoints[0].date"
    )
    assert checkpoint.forecast_p85 is not None and checkpoint.forecast_p85 > date(2026, 12, 14)
    assert "after the checkpoint date" in checkpoint.reason


def test_the_forecast_is_reproducible():
    first = judged(scope([1, 2, 3, 4]))[1].checkpoints[0].forecast_p85
    again = judged(scope([1, 2, 3, 4]))[1].checkpoints[0].forecast_p85
    assert first == again


def test_no_recent_throughput_means_no_forecast_and_at_risk():
    settings = goal_settings(start="2026-10-01")
    issues = scope([], open_count=10)
    evaluation, status = judged(issues, settings)
    (checkpoint,) = status.checkpoints
    assert checkpoint.forecast_p85 is None
    assert status.status == "off-track"  # 0% done, plan 59% today
    assert "behind plan" in checkpoint.reason


def test_a_passed_checkpoint_unmet_is_off_track_and_a_met_one_stays_met():
    checkpoints = [
        {"name": "Alpha", "date": "2026-11-09", "done": 0.3},
        {"name": "Release", "date": "2026-12-14", "done": 1.0},
    ]
    _, behind = judged(scope([2, 12]), goal_settings(checkpoints=checkpoints))
    assert [c.status for c in behind.checkpoints][0] == "off-track"
    assert behind.judged is not None and behind.judged.name == "Alpha"
    assert behind.judged.config_key == "goals[0].checkpoints[0].date"
    _, ahead = judged(scope([1, 2, 3, 12]), goal_settings(checkpoints=checkpoints))
    assert ahead.checkpoints[0].status == "met"


def test_all_done_is_met_and_quiet():
    evaluation, status = judged(scope(list(range(1, 11))))
    assert status.status == "met" and not evaluation.unhealthy()


def test_estimate_unit_counts_points_and_unestimated_issues():
    issues = scope([2, 5, 9, 12], estimate=2.0)
    issues[4] = replace(issues[4], estimate=None)
    evaluation, status = judged(issues, goal_settings(unit="estimate"))
    assert (status.total, status.done, status.unestimated) == (18.0, 8.0, 1)
    assert status.to_dict()["unit"] == "estimate"


def test_a_scope_matching_nothing_is_reported_to_the_team():
    evaluation, status = judged(scope([2]), goal_settings(scope="fixVersion = 9.9"))
    assert status.status == "empty" and not evaluation.unhealthy()
    (team,) = evaluation.team_findings
    assert team.rule == "empty-scope" and team.config_key == "goals[0].scope"


def test_forecast_weeks_replays_weekly_samples():
    import random

    rng = random.Random(1)
    assert forecast_weeks([2.0, 2.0], 6, 100, rng) == 3.0
    assert forecast_weeks([0.0, 0.0], 6, 100, rng) is None
    assert forecast_weeks([1.0], 0, 100, rng) == 0.0
    assert forecast_weeks([4.0], 2, 100, rng) == 0.5


def test_a_goal_that_has_not_started_is_on_track_without_a_forecast():
    evaluation, status = judged(scope([], open_count=10), goal_settings(start="2026-11-20"))
    assert status.status == "on-track" and status.checkpoints[0].reason == "not started yet"
    assert not evaluation.unhealthy()


def test_the_team_finding_names_the_first_open_issues_and_counts_the_rest():
    evaluation, _ = judged(scope([2], open_count=25))
    (team,) = evaluation.team_findings
    named = dict(team.evidence)["open issues"]
    assert named.startswith("APP-2, APP-3") and named.endswith(" and 15 more")


# -- what one issue must do now: must-start, must-finish ---------------------------------------

BETA = [
    {"name": "Beta", "date": "2026-11-20", "done": 0.5},
    {"name": "Release", "date": "2026-12-14", "done": 1.0},
]


def past_work(cycle: float = 6.0, count: int = 10):
    """`count` issues of another release finished before the goal, each in `cycle`
    days: with the goal's own (half a day each) the p85 cycle time is `cycle`."""
    return [
        make_issue(f"OLD-{n}", created=-30, path=[
            (-20 + n, "In Progress"), (-20 + n + cycle - 0.5, "Code Review"),
            (-20 + n + cycle, "Done"),
        ])
        for n in range(1, count + 1)
    ]  # fmt: skip


def started(issues, key: str, day: float):
    """The goal's issue `key` moved into build on `day`."""
    moved = make_issue(key, path=[(day, "In Progress")])
    return [
        replace(i, status=moved.status, history=moved.history) if i.key == key else i
        for i in issues
    ]


def goal_board(done_days, checkpoints=BETA, **settings):
    """Release 1.4 with two checkpoints: of its open issues, the first (APP-4 after
    three done) started on day 5 (9 days ago), the second on day 13 (yesterday), the
    rest not started."""
    first = len(done_days) + 1
    issues = started(scope(done_days), f"APP-{first}", 5)
    issues = started(issues, f"APP-{first + 1}", 13) + past_work()
    config = goal_settings(checkpoints=checkpoints)
    if settings:
        config = make_settings(goals=[goal(checkpoints=checkpoints)], **settings)
    return evaluate(issues, config, NOW)


def rules_by_issue(evaluation):
    return {k: [f.rule for f in v] for k, v in goal_findings(evaluation).items() if v}


def test_at_risk_unstarted_work_must_start_and_old_work_must_finish():
    evaluation = goal_board([2, 5, 9])  # Beta (11-20): 30% done, 38.9% planned
    (status,) = evaluation.goals
    assert status.status == "at-risk"
    assert evaluation.metrics is not None and evaluation.metrics.cycle_time is not None
    assert evaluation.metrics.cycle_time.p85 == 6.0
    assert rules_by_issue(evaluation) == {
        "APP-4": ["must-finish"],  # 9 days in progress, longer than p85
        **{f"APP-{n}": ["must-start"] for n in range(6, 11)},  # Beta is 4.6 days away
    }  # APP-5 started yesterday: nothing to say
    start = goal_findings(evaluation)["APP-6"][0]
    assert (start.family, start.severity) == ("goal", Severity.WARN)
    assert start.message == (
        "not in progress: must start now to make 'Beta' of Release 1.4 on 2026-11-20 "
        "(85% of issues take 6 days or less)"
    )
    evidence = dict(start.evidence)
    assert evidence["p85 cycle time"] == "6 days" and evidence["start by"] == "2026-11-15"
    assert evidence["days left"] == "4.6 days (calendar days)"
    assert evidence["goal"] == "Release 1.4 (at risk)"
    finish = goal_findings(evaluation)["APP-4"][0]
    assert finish.message == (
        "in progress for 9 days, longer than 85% of issues take 6 days or less: finish it "
        "first to make 'Beta' of Release 1.4 on 2026-11-20"
    )
    assert dict(finish.evidence)["age"] == "9 days (calendar days)"
    verdicts = evaluation.by_key()
    assert verdicts["APP-6"].causes == ("must-start",)
    assert "must-finish" in verdicts["APP-4"].causes


def test_off_track_goals_make_the_same_findings_critical():
    evaluation = goal_board([2, 5])  # 20% done, 38.9% planned
    assert evaluation.goals[0].status == "off-track"
    found = goal_findings(evaluation)
    assert {f.severity for fs in found.values() for f in fs} == {Severity.CRITICAL}
    assert [f.rule for f in found["APP-3"]] == ["must-finish"]
    assert found["APP-4"] == [] and [f.rule for f in found["APP-5"]] == ["must-start"]


def test_a_far_checkpoint_asks_no_one_to_start_but_old_work_to_finish():
    # the passed checkpoint is missed; the next one (12-14) is 28 days away, beyond p85
    checkpoints = [
        {"name": "Alpha", "date": "2026-11-09", "done": 0.5},
        {"name": "Release", "date": "2026-12-14", "done": 1.0},
    ]
    evaluation = goal_board([2, 5, 9], checkpoints)
    assert evaluation.goals[0].status == "off-track"
    assert rules_by_issue(evaluation) == {"APP-4": ["must-finish"]}
    (finding,) = goal_findings(evaluation)["APP-4"]
    assert finding.severity is Severity.CRITICAL
    assert finding.message.endswith("to make 'Release' of Release 1.4 on 2026-12-14")


def test_when_every_date_has_passed_the_last_unmet_checkpoint_is_the_target():
    checkpoints = [
        {"name": "Alpha", "date": "2026-11-09", "done": 0.3},
        {"name": "Beta", "date": "2026-11-12", "done": 0.6},
    ]
    evaluation = goal_board([2, 5, 9], checkpoints)
    (finding,) = goal_findings(evaluation)["APP-6"]
    assert finding.rule == "must-start" and finding.severity is Severity.CRITICAL
    assert "must start now to make 'Beta' of Release 1.4 on 2026-11-12" in finding.message


def test_without_enough_finished_issues_no_issue_is_told_to_move():
    evaluation = goal_board([2, 5, 9], metrics={"min_samples": 20},
                            focus={"wip_per_person": None})  # fmt: skip
    assert evaluation.goals[0].status == "at-risk"
    assert rules_by_issue(evaluation) == {}
    assert [f.rule for f in evaluation.team_findings if f.family == "goal"] == [
        "checkpoint-at-risk"
    ]


def test_a_goal_on_track_or_switched_off_says_nothing_to_its_issues():
    on_track = goal_board([2, 5, 9, 12], [{"name": "Release", "date": "2026-12-14", "done": 1.0}])
    assert on_track.goals[0].status == "on-track" and rules_by_issue(on_track) == {}
    off = goal_board([2, 5, 9], rules={"disabled": ["goal"]}, focus={"wip_per_person": None})
    assert rules_by_issue(off) == {}
    assert not [f for f in off.team_findings if f.family == "goal"]


def test_finishing_one_goal_issue_leaves_the_others_findings_as_they_were():
    # 20% and then 30% done: the must-start of the open issues reads the same
    before = goal_findings(goal_board([2, 5]))["APP-6"][0]
    after = goal_findings(goal_board([2, 5, 9]))["APP-6"][0]
    assert dict(before.evidence)["goal"] != dict(after.evidence)["goal"]
    assert (before.rule, before.config_key) == (after.rule, after.config_key)
