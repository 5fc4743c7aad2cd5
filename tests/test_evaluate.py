"""evaluate(): the families together, the micromanagement guard, team-level results."""

from dataclasses import replace
from pathlib import Path

import pytest
import tomllib

from jira_chase.config.file import load_settings
from jira_chase.config.settings import ISSUE_FAMILIES
from jira_chase.engine.evaluate import Evaluation, evaluate
from jira_chase.engine.model import Health, Link, Severity
from jira_chase.engine.plan import desired_labels
from jira_chase.engine.rules import CAUSE_LABELS, FAMILIES, NOTE_FAMILIES, TEAM_FAMILIES
from jira_chase.errors import ConfigError
from tests.factories import ANN, BOB, at, make_issue, make_settings
from tests.rules.test_cooperation import blocked
from tests.rules.test_steps import SETTINGS, findings

ROOT = Path(__file__).resolve().parent.parent


def blocked_by(key: str, project: str = "OPS", status: str = "In Progress") -> Link:
    category = "done" if status == "Done" else "indeterminate"
    return Link("Blocks", "inward", key, project, status, category, at(0), assignee="Gus")


def test_the_families_are_the_documented_labels():
    assert tuple(FAMILIES) == ISSUE_FAMILIES
    assert set(TEAM_FAMILIES) == {"wip", "goal", "focus", "metrics", "hygiene", "skills"}
    assert "focus" not in FAMILIES and set(NOTE_FAMILIES) == {"hygiene"}
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## What it judges", 1)[1].split("\n## ", 1)[0]
    # every rule family is named, and every label a manager may filter by is explained
    assert all(f"`{family}`" in section for family in (*ISSUE_FAMILIES, "focus", "stuck"))
    labels = section.split("| label | means | filter |", 1)[1].split("\n\n", 1)[0]
    causes = (*CAUSE_LABELS, "off-track", "at-risk", "blocking")
    assert all(f"`chase-{cause}`" in labels for cause in causes)


def test_evaluation_keeps_its_old_shape_and_adds_the_team():
    issue = make_issue(path=[(0, "Code Review")])
    evaluation = evaluate([issue], make_settings(), at(3))
    assert isinstance(evaluation, Evaluation) and evaluation.now == at(3)
    (verdict,) = evaluation.unhealthy()
    assert evaluation.by_key()["APP-1"] is verdict and verdict.families == ("stuck",)
    assert verdict.findings[0].parts == (("stalled", "time-in-step"),)
    assert evaluation.metrics is not None and evaluation.metrics.wip == 1
    assert evaluation.goals == () and evaluation.team_findings == () and evaluation.blockers == {}


def test_bot_id_is_a_keyword_argument_defaulting_to_none():
    issue = make_issue(path=[(0, "In Progress")])
    settings = make_settings(habits={"stale_days": 1})
    (finding,) = evaluate([issue], settings, at(1)).verdicts[0].findings
    assert finding.parts == (("stale", "no-update"),)
    (finding,) = evaluate([issue], settings, at(1), bot_id="u-bot").verdicts[0].findings
    assert finding.parts == (("stale", "no-update"),)


def test_health_is_the_worst_severity_over_all_families():
    blocker = replace(blocked_by("OPS-7"), since=at(1))
    stalled_twice = make_issue("APP-1", path=[(0, "Code Review")], links=(blocker,))
    settings = make_settings(habits={"stale_days": 1})
    verdict = evaluate([stalled_twice], settings, at(4)).verdicts[0]
    assert verdict.families == ("cooperation", "stuck") and verdict.health is Health.OFF_TRACK
    assert [f.family for f in verdict.findings] == ["stuck", "cooperation"]  # worst first
    assert [f.severity for f in verdict.findings] == [Severity.CRITICAL, Severity.WARN]


# -- blockers to label ------------------------------------------------------------------------


def test_blockers_name_the_other_projects_issues_when_asked():
    issues = [
        make_issue("APP-1", path=[(0, "In Progress")], links=(blocked_by("OPS-7"),)),
        make_issue(
            "APP-2",
            path=[(0, "Code Review")],
            assignee=BOB,
            links=(blocked_by("OPS-7"), blocked_by("OPS-9")),
        ),  # fmt: skip
        make_issue("APP-3", path=[(0, "In Progress")], links=(blocked_by("APP-1", "APP"),)),
        make_issue("APP-4", path=[(0, "In Progress")], links=(blocked_by("OPS-8", status="Done"),)),
    ]
    settings = make_settings(cooperation={"blocked_days": 1, "label_blockers": True})
    evaluation = evaluate(issues, settings, at(1.5))
    assert list(evaluation.blockers) == ["OPS-7", "OPS-9"]
    assert [f.issue_key for f in evaluation.blockers["OPS-7"]] == ["APP-1", "APP-2"]
    assert dict(evaluation.blockers["OPS-9"][0].evidence)["blocker assignee"] == "Gus"
    off = make_settings(cooperation={"blocked_days": 1})
    assert evaluate(issues, off, at(1.5)).blockers == {}


def test_the_demo_configuration_is_acted_on_in_full():
    text = (ROOT / "jira_chase" / "cli" / "demo.toml").read_text()
    settings = load_settings(data=tomllib.loads(text))
    # every issue family has a switch set in the demo
    assert settings.metrics.aging and settings.goals and settings.redlines.required_fields
    assert settings.habits.stale_days and settings.habits.require_owner and settings.overrides
    assert all(step.wip_limit for step in settings.workflow.steps)


# -- the micromanagement guard --------------------------------------------------------------


def busy_board():
    """Four items of Ann's (focus: a warn team finding; review has no wip limit), one
    of them stalled 2x in build (critical)."""
    return [make_issue(f"APP-{n}", path=[(n / 10, "Code Review")]) for n in range(1, 4)] + [
        make_issue("APP-9", path=[(-10, "In Progress")], created=-11)
    ]


def families(evaluation):
    return {v.issue.key: v.families for v in evaluation.unhealthy()}


def test_disabled_families_do_not_run():
    settings = make_settings(rules={"disabled": ["focus", "stalled"]})
    evaluation = evaluate(busy_board(), settings, at(1))
    assert families(evaluation) == {} and evaluation.team_findings == ()


def test_min_severity_drops_warnings_but_never_red_lines():
    redline = make_issue("APP-20", path=[(0, "In Progress"), (0.5, "Done")], assignee=BOB)
    settings = make_settings(rules={"min_severity": "critical"})
    evaluation = evaluate([*busy_board(), redline], settings, at(1))
    assert families(evaluation) == {"APP-9": ("stuck",), "APP-20": ("redline",)}
    assert evaluation.team_findings == ()  # focus: a warning


def test_family_min_severity_wins_over_the_default():
    board = evaluate(busy_board(), make_settings(), at(1))
    assert [f.family for f in board.team_findings] == ["focus"]
    settings = make_settings(rules={"family_min_severity": {"focus": "critical"}})
    evaluation = evaluate(busy_board(), settings, at(1))
    assert families(evaluation) == {"APP-9": ("stuck",)} and evaluation.team_findings == ()
    settings = make_settings(rules={"min_severity": "critical",
                                    "family_min_severity": {"focus": "warn"}})  # fmt: skip
    assert [f.family for f in evaluate(busy_board(), settings, at(1)).team_findings] == ["focus"]


def test_unknown_families_are_config_errors_naming_the_key():
    with pytest.raises(ConfigError) as info:
        make_settings(rules={"disabled": ["focsu"], "family_min_severity": {"habits": "warn"}})
    problems = info.value.problems
    assert problems[0].startswith("rules.disabled: unknown rule family 'focsu' (known: stalled")
    assert problems[1].startswith("rules.family_min_severity: unknown rule family 'habits'")


def test_team_level_findings_never_label_an_issue():
    issues = [make_issue(f"APP-{n}", path=[(n / 10, "In Progress")], assignee=None)
              for n in range(1, 6)]  # fmt: skip
    settings = make_settings(rules={"disabled": ["wip"]}, metrics={"max_wip": 2})
    evaluation = evaluate(issues, settings, at(1))
    assert [f.rule for f in evaluation.team_findings] == ["wip"]
    assert all(desired_labels(v, "chase-") == [] for v in evaluation.verdicts)
    assert not evaluation.unhealthy()


def test_disabling_a_family_switches_off_its_team_findings_too():
    issues = [make_issue(f"APP-{n}", path=[(n / 10, "In Progress")], assignee=None)
              for n in range(1, 6)]  # fmt: skip
    both = make_settings(rules={"disabled": ["wip", "metrics"]}, metrics={"max_wip": 2})
    assert evaluate(issues, both, at(1)).team_findings == ()


def test_overrides_need_a_condition_and_known_steps():
    with pytest.raises(ConfigError, match=r"overrides\[0\].when: name at least one of"):
        make_settings(overrides=[{"when": {}}])
    with pytest.raises(ConfigError, match=r"overrides\[0\].steps\[0\].name names unknown step"):
        make_settings(overrides=[{"when": {"type": "Bug"},
                                  "steps": [{"name": "qa", "limit_days": 1}]}])  # fmt: skip


def test_evaluation_is_pure_and_repeatable():
    issues = [replace(i, assignee=ANN) for i in busy_board()]
    settings = make_settings(
        goals=[{"name": "g", "scope": "project = APP", "start": "2026-10-01",
                "checkpoints": [{"name": "c", "date": "2026-12-01", "done": 1.0}]}]
    )  # fmt: skip
    first, second = evaluate(issues, settings, at(1)), evaluate(issues, settings, at(1))
    assert first == second


# -- issues finished long ago ------------------------------------------------------------


def long_finished():
    """Issues that finished months before `at(120)` in every way a rule could object
    to: created done, a skipped required step, reopened, blocked, flagged, left in a
    step's status by a bad edit while done."""
    other = Link("blocks", "inward", "OPS-1", "OPS", "In Progress", "indeterminate", at(2))
    return [
        make_issue("OLD-1", initial="Done"),
        make_issue("OLD-2", path=[(1, "In Progress"), (3, "Done")]),
        make_issue(
            "OLD-3",
            path=[(1, "In Progress"), (2, "Code Review"), (4, "Done"), (6, "In QA"), (7, "Done")],
        ),  # fmt: skip
        make_issue("OLD-4", path=[(1, "In Progress"), (9, "Done")], links=(other,)),
        make_issue("OLD-5", path=[(1, "In Progress"), (9, "Done")], flagged=True),
        make_issue("OLD-6", path=[(1, "Code Review"), (2, "Done"), (3, "To Do"), (5, "Done")]),
    ]


def recent_board():
    """Open and recently finished work around `at(120)`, with one issue from before the
    metrics window so the data's start is the window's either way."""
    return [
        make_issue("APP-1", path=[(118, "Code Review")], created=117),
        make_issue("APP-2", path=[(100, "In Progress")], created=99),
        make_issue(
            "APP-3", path=[(90, "In Progress"), (95, "Code Review"), (97, "Done")], created=89
        ),  # fmt: skip
        make_issue("APP-4", path=[(110, "In Progress"), (115, "Done")], created=109),
        make_issue("APP-5", path=[(70, "In Progress"), (72, "Done"), (116, "In QA")], created=69),
        make_issue("APP-6", created=1),
        # finished in the window, longer ago than flag_finished_days: not clean
        make_issue(
            "APP-7", initial="In Progress", path=[(85, "Code Review"), (86, "Done")], created=80
        ),  # fmt: skip
    ]


def test_issues_finished_long_ago_change_no_judgement_of_the_rest():
    """Issues finished before the metrics window, longer than
    `redlines.flag_finished_days` ago, are healthy and change nothing else: not another
    issue's findings, the team's findings, the flow metrics or the process share."""
    settings = make_settings(metrics={"window_weeks": 8, "min_samples": 1})
    now = at(120)
    board = evaluate(recent_board(), settings, now, bot_id="u-bot")
    both = evaluate(recent_board() + long_finished(), settings, now, bot_id="u-bot")

    assert board.metrics is not None and board.process is not None
    assert "redline" in board.by_key()["APP-4"].families  # finished 5 days ago
    assert (board.metrics.finished, board.metrics.reopens) == (3, 1)
    assert (board.process.finished, board.process.clean) == (3, 2)
    assert {v.issue.key for v in both.unhealthy()} == {v.issue.key for v in board.unhealthy()}
    assert {k: v.findings for k, v in both.by_key().items() if k.startswith("APP")} == {
        k: v.findings for k, v in board.by_key().items()
    }
    assert both.team_findings == board.team_findings
    assert both.metrics is not None and board.metrics is not None
    assert both.metrics.to_dict() == board.metrics.to_dict()
    assert both.process == board.process


def test_an_issue_finished_long_ago_is_judged_again_once_it_moves():
    """Reopened, an old issue is judged like any other (here: stalled since)."""
    settings = make_settings()
    old = make_issue("OLD-2", path=[(1, "In Progress"), (3, "Done"), (100, "In Progress")])
    verdict = evaluate([old], settings, at(120)).by_key()["OLD-2"]
    assert "stalled" in {family for f in verdict.findings for family, _ in f.parts}


def test_a_parent_finished_long_ago_still_counts_as_done_for_its_open_child():
    """Rules read the whole scope, also the issues no rule judges one by one."""
    parent = make_issue("APP-1", path=[(1, "In Progress"), (2, "Code Review"), (3, "Done")])
    child = replace(make_issue("APP-2", path=[(110, "In Progress")], created=109), parent="APP-1")
    verdict = evaluate([parent, child], make_settings(), at(120)).by_key()["APP-2"]
    assert "open-child" in {f.rule for f in verdict.notes}


# -- health -----------------------------------------------------------------------------


def test_health_is_the_worst_severity():
    issue = make_issue(path=[(0, "In Progress"), (1, "Done")])  # red line: critical
    verdict = evaluate([issue], SETTINGS, at(2)).verdicts[0]
    assert verdict.health is Health.OFF_TRACK
    warn = make_issue("APP-2", path=[(0, "Code Review")])
    assert evaluate([warn], SETTINGS, at(2.5)).verdicts[0].health is Health.AT_RISK


def test_disabled_families_produce_nothing():
    settings = make_settings(
        focus={"wip_per_person": None},
        cooperation={"blocked_days": None},
        rules={"disabled": ["wip"]},
    )
    issues = [
        make_issue(f"APP-{n}", path=[(0, "In Progress")], links=(blocked(),)) for n in range(5)
    ]
    assert all(f == () for f in findings(issues, at(3), settings).values())


# -- memory: what an evaluation keeps -------------------------------------------------------


def test_after_an_evaluation_no_timeline_holds_its_intervals():
    """The families that read whole histories run first; after them every timeline
    drops its intervals, and nothing after reads them again (a rule that did would
    build them anew: this fails). Each still answers as the timeline built whole."""
    from jira_chase.engine.rules import READS_INTERVALS
    from jira_chase.engine.timeline import StepMap, build_timeline
    from jira_chase.simulator.generated_issues import GENERATED_SETTINGS, generated_issues

    issues, now = generated_issues(1500, seed=3)
    settings = load_settings(data=GENERATED_SETTINGS)
    evaluation = evaluate(issues, settings, now, bot_id="u-bot")
    found = {f.family for v in evaluation.verdicts for f in (*v.findings, *v.notes)}
    found |= {family for v in evaluation.verdicts for f in v.findings for family, _ in f.parts}
    # (every family that finds something here ran, on both sides of the release)
    assert found >= {"redline", "hygiene", "aging", "stalled", "wip", "cooperation"}
    assert found >= READS_INTERVALS
    assert evaluation.process is not None and evaluation.coverage.unmapped
    assert all(v.timeline._intervals is None for v in evaluation.verdicts)
    steps = StepMap.from_settings(settings.workflow, settings.cancelled_statuses)
    for verdict in evaluation.verdicts:
        assert verdict.timeline == build_timeline(verdict.issue, steps, now)


# -- coverage: statuses outside the workflow ------------------------------------------------


def test_backlog_statuses_are_not_unmapped_plain_or_by_type():
    issues = [
        make_issue("APP-1"),  # To Do
        make_issue("APP-2", initial="Icebox"),
        replace(make_issue("APP-3", initial="Icebox"), type="Bug"),
        make_issue("APP-4", initial="Parked"),
    ]
    workflow = {**make_settings().workflow.model_dump()}
    plain = evaluate(issues, make_settings(workflow=workflow), at(1))
    assert plain.coverage.unmapped == {"To Do": 1, "Icebox": 2, "Parked": 1}
    backlog = make_settings(workflow={**workflow, "backlog": ["to do", "Story:Icebox"]})
    assert backlog.workflow.backlog == ["to do", "Story:Icebox"]
    evaluation = evaluate(issues, backlog, at(1))
    # the bug's Icebox is not the story's backlog
    assert evaluation.coverage.unmapped == {"Icebox": 1, "Parked": 1}
    assert make_settings().workflow.backlog is None


def test_a_backlog_status_cannot_be_a_step_or_done_too():
    workflow = make_settings().workflow.model_dump()
    with pytest.raises(ConfigError, match="backlog status 'In Progress' is also in step 'build'"):
        make_settings(workflow={**workflow, "backlog": ["In Progress"]})
    with pytest.raises(ConfigError, match="backlog status 'done' is also in a done status"):
        make_settings(workflow={**workflow, "backlog": ["done"]})


# -- the issue's causes -----------------------------------------------------------------------


def test_every_cause_is_a_label_and_each_finding_has_one():
    from jira_chase.engine.model import Finding
    from jira_chase.engine.rules import CAUSE_LABELS, MAX_CAUSES, cause

    assert CAUSE_LABELS == (
        "redline", "blocked", "blocking", "stuck", "must-finish", "must-start", "habits",
    )  # fmt: skip
    assert MAX_CAUSES == 3

    def one(family: str, rule: str = "r") -> str:
        return cause(Finding("APP-1", family, rule, Severity.WARN, "m", "k"))

    assert [one(f) for f in ("stuck", "redline", "owner", "estimate", "wip", "cooperation")] == [
        "stuck", "redline", "habits", "habits", "habits", "blocked"
    ]  # fmt: skip
    assert (one("goal", "must-start"), one("goal", "must-finish")) == ("must-start", "must-finish")
    assert one("cooperation", "blocking-other-team") == "blocking"
