"""Core flow metrics, aging WIP and metric thresholds, on a small hand-checked history.

Calendar days, T0 = Monday 2026-11-02 09:00 UTC, now = T0 + 14 days, a two-week window.
"""

import pytest

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Change, Link, Severity
from jira_chase.engine.rules.values import percentile
from tests.factories import BASE_CONFIG, at, make_issue, make_settings

NOW = at(14)


def settings(waiting_test: bool = False, **metrics):
    steps = [dict(s) for s in BASE_CONFIG["workflow"]["steps"]]
    steps[0]["wip_limit"] = None
    steps[2]["waiting"] = waiting_test
    return make_settings(
        workflow={"done": ["Done"], "steps": steps},
        metrics={"window_weeks": 2, "min_samples": 3, **metrics},
        focus={"wip_per_person": None},
        rules={"disabled": ["skills"]},  # one person does everything here
    )


def finished():
    return [
        # cycle 3: build 2, review 1
        make_issue("APP-1", path=[(1, "In Progress"), (3, "Code Review"), (4, "Done")]),
        # cycle 3: build 1, review 2 (reaches review's 2-day limit)
        make_issue("APP-2", path=[(2, "In Progress"), (3, "Code Review"), (5, "Done")]),
        # cycle 6: build 1, review 1, test 4
        make_issue(
            "APP-3", path=[(5, "In Progress"), (6, "Code Review"), (7, "In QA"), (11, "Done")]
        ),
        # cycle 4 (first step entry -> last arrival in done), reopened once in between
        make_issue(
            "APP-4",
            path=[
                (8, "In Progress"),
                (9, "Code Review"),
                (10, "Done"),
                (10.5, "In Progress"),
                (11, "Code Review"),
                (12, "Done"),
            ],
        ),  # fmt: skip
        # finished before the window: not counted
        make_issue("APP-5", created=-20, path=[(-19, "Code Review"), (-18, "Done")]),
        # done without ever entering a step: throughput, but no cycle time
        make_issue("APP-6", path=[(6, "Done")]),
    ]


def wip():
    return [
        make_issue("APP-7", path=[(13, "In Progress")]),
        make_issue("APP-8", path=[(7, "In Progress"), (8, "Code Review")]),
        make_issue("APP-9"),  # To Do: not WIP
    ]


def test_percentiles_are_nearest_rank():
    values = [3.0, 3.0, 6.0, 4.0]
    assert [percentile(values, q) for q in (0.5, 0.85, 0.95)] == [3.0, 6.0, 6.0]
    twenty = [float(n) for n in range(1, 21)]
    assert [percentile(twenty, q) for q in (0.5, 0.85, 0.95)] == [10.0, 17.0, 19.0]
    assert percentile([7.0], 0.85) == 7.0


def test_cycle_time_throughput_wip_and_reopens():
    metrics = evaluate(finished() + wip(), settings(), NOW).metrics
    assert metrics is not None
    assert metrics.window_start == at(0) and metrics.window_end == NOW
    cycle = metrics.cycle_time
    assert cycle is not None
    assert (cycle.p50, cycle.p85, cycle.p95, cycle.count) == (3.0, 6.0, 6.0, 4)
    assert metrics.finished == 5 and metrics.weekly_throughput == (3, 2)
    assert metrics.throughput_per_week == 2.5
    assert metrics.wip == 2 and metrics.ages == {"APP-7": 1.0, "APP-8": 7.0}
    # arrivals in done inside the window: 4, 5, 6, 10, 11, 12; one reopen at 10.5
    assert (metrics.reopens, metrics.done_arrivals) == (1, 6)
    assert metrics.reopen_rate == pytest.approx(1 / 6)


def test_steps_bottleneck_and_flow_efficiency():
    metrics = evaluate(finished() + wip(), settings(), NOW).metrics
    assert metrics is not None
    build, review, test = metrics.steps
    # cycle time 16 days: build 5.5, review 6, test 4, 0.5 sitting in Done before a reopen
    assert build.share_of_cycle_time == pytest.approx(5.5 / 16)
    assert review.share_of_cycle_time == pytest.approx(6 / 16)
    assert metrics.bottleneck == "review"
    assert (review.wip, review.visits, review.p85_days, review.breaches) == (1, 5, 2.0, 1)
    assert (build.wip, build.limit_days) == (1, 5.0)
    assert review.over_limit == 1  # APP-8 has been in review for 6 days
    assert metrics.flow_efficiency == pytest.approx(15.5 / 16)
    waiting = evaluate(finished() + wip(), settings(waiting_test=True), NOW).metrics
    assert waiting is not None and waiting.flow_efficiency == pytest.approx(11.5 / 16)
    assert waiting.steps[2].waiting


def test_no_finished_work_leaves_the_metrics_undefined():
    metrics = evaluate(wip(), settings(), NOW).metrics
    assert metrics is not None
    assert metrics.cycle_time is None and metrics.bottleneck is None
    assert metrics.flow_efficiency is None and metrics.reopen_rate is None
    assert metrics.weekly_throughput == (0, 0)
    assert metrics.to_dict()["cycle_time_days"] is None


def test_blocked_share_counts_flagged_time_and_unfinished_blockers():
    flag_on = Change(at(2), "Flagged", None, "Impediment", by="u-ann")
    flag_off = Change(at(3), "Flagged", "Impediment", None, by="u-ann")
    blocker = Link("Blocks", "inward", "OPS-1", "OPS", "In Progress", "indeterminate", at(6))
    done = Link("Blocks", "inward", "OPS-2", "OPS", "Done", "done", at(1))
    issue = make_issue(
        path=[(0, "In Progress")], links=(blocker, done), extra_history=(flag_on, flag_off)
    )
    metrics = evaluate([issue], settings(), at(10)).metrics
    assert metrics is not None
    assert metrics.blocked_share == pytest.approx((1 + 4) / 10)


def test_currently_flagged_without_history_counts_from_creation():
    issue = make_issue(path=[(5, "In Progress")], flagged=True)
    metrics = evaluate([issue], settings(), at(10)).metrics
    assert metrics is not None and metrics.blocked_share == 1.0


# -- aging ------------------------------------------------------------------------------------


def aging_history(ages):
    """Twenty issues finished with cycle times 1..20 days (p85 17, p95 19), and WIP."""
    done = [
        make_issue(f"APP-{n}", created=-30,
                   path=[(-25, "In Progress"), (-25 + n - 0.5, "Code Review"), (-25 + n, "Done")])
        for n in range(1, 21)
    ]  # fmt: skip
    active = [
        make_issue(f"APP-{100 + i}", created=-30, path=[(-age, "In Progress")], assignee=None)
        for i, age in enumerate(ages)
    ]
    return done + active


AGING = make_settings(
    metrics={"window_weeks": 8, "aging": True},
    workflow={"done": ["Done"], "steps": [
        {"name": "build", "statuses": ["In Progress"]},
        {"name": "review", "statuses": ["Code Review"], "required": True},
    ]},
)  # fmt: skip


def test_aging_wip_beyond_p85_is_at_risk_and_beyond_p95_off_track():
    evaluation = evaluate(aging_history([17, 18, 19.5, 3]), AGING, at(0))
    flagged = {v.issue.key: v.findings for v in evaluation.unhealthy()}
    assert set(flagged) == {"APP-101", "APP-102"}  # 17 is not older than p85
    (at_risk,) = flagged["APP-101"]
    assert at_risk.family == "stuck" and at_risk.parts == (("aging", "older-than-p85"),)
    assert at_risk.severity is Severity.WARN and at_risk.config_key == "metrics.aging"
    assert at_risk.message == (
        "not moving: in progress since 2026-10-15 (18 days), longer than 85% of the issues "
        "finished in the last 8 weeks took (17 days)"
    )
    evidence = dict(at_risk.evidence)
    assert evidence["p85 cycle time"] == "17 days" and evidence["p95 cycle time"] == "19 days"
    assert evidence["age"] == "18 days (calendar days)"
    assert evidence["finished in window"] == "20 issues"
    (off_track,) = flagged["APP-102"]
    assert off_track.severity is Severity.CRITICAL
    assert off_track.parts == (("aging", "older-than-p95"),)
    assert "longer than 95% of the issues finished in the last 8 weeks took (19 days)" in (
        off_track.message
    )
    metrics = evaluation.metrics
    assert metrics is not None
    assert metrics.aging_at_risk == ("APP-101",) and metrics.aging_off_track == ("APP-102",)


def aging_findings(evaluation):
    """The `stuck` findings aging is a part of."""
    return [
        f for v in evaluation.verdicts for f in v.findings if "aging" in {p for p, _ in f.parts}
    ]


def test_aging_needs_enough_finished_issues_and_the_switch():
    too_few = AGING.model_copy(
        update={"metrics": AGING.metrics.model_copy(update={"min_samples": 21})}
    )
    evaluation = evaluate(aging_history([30]), too_few, at(0))
    assert not aging_findings(evaluation)
    assert evaluation.metrics is not None and evaluation.metrics.aging_off_track == ()
    off = AGING.model_copy(update={"metrics": AGING.metrics.model_copy(update={"aging": False})})
    evaluation = evaluate(aging_history([30]), off, at(0))
    assert not aging_findings(evaluation)
    assert evaluation.metrics is not None and evaluation.metrics.aging_off_track == ("APP-100",)


def test_a_reopened_issue_ages_from_its_reopening():
    history = aging_history([])
    reopened = make_issue(
        "APP-200",
        created=-60,
        path=[(-59, "In Progress"), (-58, "Code Review"), (-57, "Done"), (-2, "In Progress")],
        assignee=None,
    )
    evaluation = evaluate([*history, reopened], AGING, at(0))
    assert evaluation.metrics is not None and evaluation.metrics.ages["APP-200"] == 2.0
    assert not evaluation.unhealthy()


# -- thresholds -------------------------------------------------------------------------------


def metric_findings(evaluation):
    """The team findings of the `metrics` family (the tracker hygiene of this history
    is a team finding of its own)."""
    return [f for f in evaluation.team_findings if f.family == "metrics"]


def test_metric_thresholds_raise_team_findings_only():
    loose = settings(
        max_cycle_time_p85_days=6,  # exactly at: fine
        min_throughput_per_week=2.5,  # exactly at: fine
        max_wip=2,
        max_reopen_rate=0.5,
        max_blocked_share=0.5,
        min_flow_efficiency=0.5,
    )
    assert metric_findings(evaluate(finished() + wip(), loose, NOW)) == []
    tight = settings(
        max_cycle_time_p85_days=5,
        min_throughput_per_week=3,
        max_wip=1,
        max_reopen_rate=0.1,
        min_flow_efficiency=0.99,
    )
    evaluation = evaluate(finished() + wip(), tight, NOW)
    found = {f.rule: f for f in metric_findings(evaluation)}
    assert set(found) == {"cycle-time-p85", "throughput", "wip", "reopen-rate", "flow-efficiency"}
    p85 = found["cycle-time-p85"]
    assert p85.family == "metrics" and p85.config_key == "metrics.max_cycle_time_p85_days"
    assert dict(p85.evidence)["value"] == "6 days"
    assert dict(p85.evidence)["threshold"] == "at most 5 days"
    assert (
        found["throughput"].message == "throughput 2.5 per week is below 3 per week (last 2 weeks)"
    )
    assert dict(found["reopen-rate"].evidence)["value"] == "16.7%"
    # team findings never make an issue unhealthy
    assert not any(v.findings for v in evaluation.verdicts if v.issue.key in ("APP-1", "APP-9"))


def test_the_p85_threshold_waits_for_enough_samples():
    few = settings(max_cycle_time_p85_days=1, min_samples=5)
    assert metric_findings(evaluate(finished(), few, NOW)) == []
