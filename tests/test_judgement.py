"""What the rules refuse to judge, and how finished work stops being chased: cancelled
work, the finished window, exempt labels, unknown history, young data, cycle_start."""

from __future__ import annotations

from dataclasses import replace

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Change
from tests.factories import at, make_issue, make_settings

DONE_WITHOUT_REVIEW = [(1, "In Progress"), (2, "Done")]


def findings(issue, settings, now):
    verdict = evaluate([issue], settings, now).verdicts[0]
    return [(f.family, f.rule) for f in verdict.findings]


def test_a_cancelled_status_is_no_red_line_and_not_throughput():
    settings = make_settings(workflow={"cancelled": ["Cancelled"]})
    cancelled = make_issue("APP-1", path=[(1, "In Progress"), (2, "Cancelled")])
    done = make_issue("APP-2", path=DONE_WITHOUT_REVIEW)
    evaluation = evaluate([cancelled, done], settings, at(3))
    by_key = evaluation.by_key()
    assert by_key["APP-1"].findings == ()
    assert [f.rule for f in by_key["APP-2"].findings] == ["required-step"]
    assert evaluation.metrics is not None
    assert (evaluation.metrics.finished, evaluation.metrics.cancelled) == (1, 1)
    assert evaluation.metrics.cycle_time is not None
    assert evaluation.metrics.cycle_time.count == 1
    # Without the setting the same issue is judged as the unmapped status it is.
    plain = evaluate([cancelled], make_settings(), at(3)).metrics
    assert plain is not None and plain.cancelled == 0


def test_a_done_issue_resolved_as_wont_do_is_cancelled():
    settings = make_settings(workflow={"cancelled_resolutions": ["Won't Do"]})
    wont = replace(make_issue(path=DONE_WITHOUT_REVIEW), resolution="Won't Do")
    fixed = replace(make_issue("APP-2", path=DONE_WITHOUT_REVIEW), resolution="Done")
    evaluation = evaluate([wont, fixed], settings, at(3))
    assert evaluation.by_key()["APP-1"].findings == ()
    assert evaluation.by_key()["APP-2"].findings[0].rule == "required-step"
    assert evaluation.metrics is not None and evaluation.metrics.cancelled == 1


def test_zentao_defaults_cancel_tasks_and_items_closed_for_another_reason():
    settings = make_settings(
        tracker="zentao",
        jira=None,
        zentao={"url": "http://zentao.invalid", "account": "bot", "products": [1]},
        workflow={"done": ["closed", "task:cancel"], "steps": [
            {"name": "build", "statuses": ["task:doing", "story:developing"]},
            {"name": "review", "statuses": ["story:developed"], "required": True},
        ]},
    )  # fmt: skip
    assert settings.cancelled_statuses == ("task:cancel",)
    task = replace(make_issue("task-1", path=[(1, "doing"), (2, "cancel")]), type="Task")
    duplicate = replace(
        make_issue("story-2", path=[(1, "developing"), (2, "closed")]),
        type="Story",
        resolution="duplicate",
    )
    done = replace(
        make_issue("story-3", path=[(1, "developing"), (2, "closed")]),
        type="Story",
        resolution="done",
    )
    by_key = evaluate([task, duplicate, done], settings, at(3)).by_key()
    assert by_key["task-1"].findings == () and by_key["story-2"].findings == ()
    assert [f.rule for f in by_key["story-3"].findings] == ["required-step"]


def test_a_finished_issue_keeps_its_red_line_for_the_finished_window_then_recovers():
    issue = make_issue(path=DONE_WITHOUT_REVIEW)
    settings = make_settings(redlines={"flag_finished_days": 14})
    assert findings(issue, settings, at(2 + 13.9)) == [("redline", "required-step")]
    assert findings(issue, settings, at(2 + 14.1)) == []
    # The default is 14 days too.
    assert findings(issue, make_settings(), at(2 + 14.1)) == []
    assert findings(issue, make_settings(redlines={"flag_finished_days": 30}), at(20)) != []


def test_an_issue_with_an_exempt_label_is_not_judged():
    settings = make_settings(rules={"exempt_labels": ["On-Hold"]})
    held = make_issue(path=[(0, "In Progress")], labels=("on-hold", "chase-stalled"))
    other = make_issue("APP-2", path=[(0, "In Progress")])
    evaluation = evaluate([held, other], settings, at(20))
    assert evaluation.by_key()["APP-1"].findings == ()
    assert evaluation.by_key()["APP-2"].findings != ()
    assert evaluation.coverage.exempt == ("APP-1",)


def test_unknown_history_is_not_judged_by_the_rules_that_need_it():
    # Done and In Progress without a single status change: no dates to judge from.
    done = replace(make_issue(initial="Done"), history_known=False)
    doing = replace(make_issue("APP-2", initial="In Progress"), history_known=False)
    settings = make_settings(
        habits={"stale_days": 1, "require_owner": True}, metrics={"aging": True}
    )
    evaluation = evaluate([done, doing], settings, at(200))
    assert evaluation.unhealthy() == []
    metrics = evaluation.metrics
    assert metrics is not None
    assert (metrics.finished, metrics.cycle_time, metrics.wip, metrics.ages) == (0, None, 1, {})
    coverage = evaluation.coverage
    assert coverage.unknown_history == ("APP-1", "APP-2") and coverage.no_history
    lines = coverage.lines(2)
    assert lines[0].startswith("the tracker returned no change history for any issue")
    assert "permission" in lines[0] or "may not see" in lines[0]
    assert lines[1].startswith("2 of 2 issues have no status history (APP-1, APP-2)")
    assert "time in step" in lines[1] and "cycle time" in lines[1]
    # The same issues with their history known are judged.
    known = [replace(done, history_known=True), replace(doing, history_known=True)]
    assert evaluate(known, settings, at(200)).unhealthy() != []


def test_a_finding_without_history_invents_no_date():
    issue = replace(make_issue(initial="In Progress", assignee=None), history_known=False)
    settings = make_settings(habits={"require_owner": True})
    (finding,) = evaluate([issue], settings, at(30)).verdicts[0].findings
    assert finding.rule == "no-owner"
    assert dict(finding.evidence)["entered"] == "unknown (no status history)"


def test_statuses_no_step_maps_are_listed():
    issue = make_issue(path=[(1, "Blocked"), (2, "In Progress")])
    coverage = evaluate([issue], make_settings(), at(3)).coverage
    assert coverage.unmapped == {"To Do": 1, "Blocked": 1}
    assert "Blocked (1), To Do (1)" in coverage.lines(1)[0]


def test_config_names_no_issue_in_scope_has_are_listed():
    settings = make_settings(overrides=[{"when": {"type": "Bugg"}, "habits": {"stale_days": 1}}])
    coverage = evaluate([make_issue()], settings, at(1)).coverage
    assert coverage.unused == ("overrides[0].when.type names type 'Bugg', which no issue in "
                               "scope has",)  # fmt: skip


def test_throughput_of_a_young_project_counts_only_the_weeks_with_data():
    # Created two weeks before now, inside an 8-week window: 4 finished = 2 per week.
    issues = [
        make_issue(
            f"APP-{n}", created=0, path=[(1, "In Progress"), (2, "Code Review"), (3 + n, "Done")]
        )  # fmt: skip
        for n in range(4)
    ]
    settings = make_settings(metrics={"window_weeks": 8, "min_throughput_per_week": 1.5})
    evaluation = evaluate(issues, settings, at(14))
    metrics = evaluation.metrics
    assert metrics is not None and metrics.young
    assert metrics.data_weeks == 2 and metrics.throughput_per_week == 2
    assert evaluation.team_findings == ()
    # A threshold above it names the weeks it used in the evidence.
    strict = make_settings(metrics={"window_weeks": 8, "min_throughput_per_week": 3})
    (finding,) = evaluate(issues, strict, at(14)).team_findings
    assert "2 weeks with data since" in finding.message
    assert "2 weeks with data" in dict(finding.evidence)["window"]
    # An old project is judged over the whole window.
    old = [replace(i, created=at(-100)) for i in issues]
    aged = evaluate(old, settings, at(14)).metrics
    assert aged is not None and not aged.young and aged.throughput_per_week == 0.5


def test_cycle_start_first_and_last():
    # To Do -> In Progress (1) -> To Do (3) -> In Progress (10) -> Code Review -> Done (12)
    path = [(1, "In Progress"), (3, "To Do"), (10, "In Progress"), (11, "Code Review"),
            (12, "Done")]  # fmt: skip
    issue = make_issue(path=path)
    first = evaluate([issue], make_settings(), at(13)).metrics
    last = evaluate([issue], make_settings(metrics={"cycle_start": "last"}), at(13)).metrics
    assert first is not None and first.cycle_time is not None and first.cycle_time.p50 == 11
    assert last is not None and last.cycle_time is not None and last.cycle_time.p50 == 2
    # Work in progress ages the same way.
    wip = make_issue("APP-2", path=[(1, "In Progress"), (3, "To Do"), (10, "In Progress")])
    aged_first = evaluate([wip], make_settings(), at(13)).metrics
    aged_last = evaluate([wip], make_settings(metrics={"cycle_start": "last"}), at(13)).metrics
    assert aged_first is not None and aged_first.ages == {"APP-2": 12}
    assert aged_last is not None and aged_last.ages == {"APP-2": 3}


def test_a_bot_label_change_is_history_but_not_a_status_change():
    label = Change(at(1), "labels", None, "chase-stalled", by="u-bot")
    issue = replace(make_issue(initial="In Progress", extra_history=(label,)), history_known=False)
    coverage = evaluate([issue], make_settings(), at(2)).coverage
    # Some history came back, so it is not "no history at all"; the issue still lacks it.
    assert coverage.unknown_history == ("APP-1",) and not coverage.no_history


def test_wip_order_is_not_judged_without_history():
    settings = make_settings(workflow={"steps": [
        {"name": "build", "statuses": ["In Progress"], "wip_limit": 1}]})  # fmt: skip
    first = make_issue("APP-1", path=[(1, "In Progress")])
    second = replace(make_issue("APP-2", initial="In Progress", created=2), history_known=False)
    third = make_issue("APP-3", path=[(3, "In Progress")])
    evaluation = evaluate([first, second, third], settings, at(4))
    flagged = [v.issue.key for v in evaluation.unhealthy()]
    assert flagged == ["APP-3"]
    # The team finding still counts every issue in the step.
    assert dict(evaluation.team_findings[0].evidence)["in the step"] == "3"


def test_the_team_summary_says_what_throughput_counts_and_what_was_cancelled():
    from jira_chase.reports.summary import render_team

    settings = make_settings(workflow={"cancelled": ["Cancelled"]})
    issues = [
        make_issue("APP-1", path=[(1, "In Progress"), (2, "Code Review"), (3, "Done")]),
        make_issue("APP-2", path=[(1, "In Progress"), (2, "Cancelled")]),
    ]
    text = "\n".join(render_team(evaluate(issues, settings, at(14))))
    assert "data since 2026-11-02 (2 weeks): throughput counts those weeks" in text
    assert "(1 finished); 1 cancelled (not counted)" in text
