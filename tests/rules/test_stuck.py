"""Stuck: stalled, aging and stale on one issue are one finding, said once."""

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Finding, Severity
from jira_chase.engine.plan import desired_labels
from jira_chase.engine.rules import cause
from jira_chase.engine.rules.stuck import merge
from tests.factories import at, make_issue, make_settings

STALLED = Finding(
    "APP-1", "stalled", "time-in-step", Severity.WARN,
    "in review since 2026-11-02 (3 days; limit 2 days)", "workflow.steps[1].limit_days",
    (("step", "review"), ("time in step", "3 days"), ("limit", "2 days")),
    volatile=("time in step",),
)  # fmt: skip
AGING = Finding(
    "APP-1", "aging", "older-than-p95", Severity.CRITICAL,
    "in progress since 2026-10-01 (32 days), longer than 95% of the issues finished in "
    "the last 8 weeks took (19 days)", "metrics.aging",
    (("age", "32 days"), ("p95 cycle time", "19 days")), volatile=("age",),
)  # fmt: skip
STALE = Finding(
    "APP-1", "stale", "no-update", Severity.WARN,
    "no update by a person since 2026-11-02 (3 days; limit 1 day)", "habits.stale_days",
    (("step", "review (Code Review)"), ("idle for", "3 days"), ("limit", "1 day")),
    volatile=("idle for",),
)  # fmt: skip


def test_the_parts_make_one_finding_as_strong_as_the_strongest():
    merged = merge([STALE, STALLED, AGING])
    assert (merged.issue_key, merged.family, merged.rule) == ("APP-1", "stuck", "not-moving")
    assert merged.identity == "stuck/not-moving"
    assert merged.severity is Severity.CRITICAL and merged.config_key == "metrics.aging"
    # strongest first; equal ones in the order stalled, aging, stale
    assert merged.parts == (
        ("aging", "older-than-p95"),
        ("stalled", "time-in-step"),
        ("stale", "no-update"),
    )
    assert merged.message == "not moving: " + "; ".join(
        [STALLED.message, AGING.message, STALE.message]
    )
    assert merged.to_dict()["parts"] == [
        "aging/older-than-p95", "stalled/time-in-step", "stale/no-update"
    ]  # fmt: skip


def test_every_parts_evidence_is_kept_and_a_clashing_name_says_whose_it_is():
    merged = merge([STALLED, AGING, STALE])
    assert merged.evidence == (
        ("step", "review"),
        ("time in step", "3 days"),
        ("limit", "2 days"),
        ("age", "32 days"),
        ("p95 cycle time", "19 days"),
        ("stale step", "review (Code Review)"),
        ("idle for", "3 days"),
        ("stale limit", "1 day"),
    )
    # what moves with the clock stays out of the fingerprint
    assert set(merged.volatile) == {"time in step", "age", "idle for"}
    same = Finding("APP-1", "stale", "no-update", Severity.WARN, "m", "habits.stale_days",
                   (("step", "review"), ("limit", "2 days")))  # fmt: skip
    assert merge([STALLED, same]).evidence == STALLED.evidence  # same name and value: once


def test_one_part_alone_keeps_its_severity_key_and_evidence():
    merged = merge([STALE])
    assert merged.severity is Severity.WARN and merged.config_key == "habits.stale_days"
    assert merged.evidence == STALE.evidence and merged.parts == (("stale", "no-update"),)
    assert cause(merged) == "stuck"


# -- on an issue ----------------------------------------------------------------------------

SETTINGS = make_settings(habits={"stale_days": 1}, focus={"wip_per_person": None})


def stuck_in_review():
    return make_issue(path=[(0, "Code Review")])  # review's limit: 2 days, critical at 4


def verdict(settings=SETTINGS, now=None):
    return evaluate([stuck_in_review()], settings, now or at(4)).verdicts[0]


def test_stalled_and_stale_on_one_issue_are_one_finding_and_one_label():
    judged = verdict()
    (finding,) = judged.findings
    assert finding.family == "stuck" and finding.severity is Severity.CRITICAL
    assert finding.parts == (("stalled", "time-in-step"), ("stale", "no-update"))
    assert finding.config_key == "workflow.steps[1].limit_days"
    assert finding.message == (
        "not moving: in review since 2026-11-02 (4 days; limit 2 days); "
        "no update by a person since 2026-11-02 (4 days; limit 1 day)"
    )
    evidence = dict(finding.evidence)
    assert evidence["step"] == "review" and evidence["stale step"] == "review (Code Review)"
    assert evidence["limit"] == "2 days" and evidence["stale limit"] == "1 day"
    assert evidence["time in step"] == "4 days (calendar days)"
    assert evidence["idle for"] == "4 days (calendar days)"
    assert judged.causes == ("stuck",) and judged.families == ("stuck",)
    assert desired_labels(judged, "chase-") == ["chase-off-track", "chase-stuck"]


def test_growing_older_does_not_change_what_the_finding_is():
    earlier, later = verdict(now=at(2.5)).findings[0], verdict(now=at(3.5)).findings[0]
    assert earlier.message != later.message
    assert earlier.fingerprint() == later.fingerprint()
    assert earlier.identity == later.identity == verdict().findings[0].identity


def test_each_part_keeps_its_own_switch_and_stuck_switches_all_three():
    only_stale = verdict(make_settings(habits={"stale_days": 1},
                                       rules={"disabled": ["stalled"]}))  # fmt: skip
    assert [f.parts for f in only_stale.findings] == [(("stale", "no-update"),)]
    assert verdict(make_settings(habits={"stale_days": 1}, rules={"disabled": ["stuck"]})) \
        .findings == ()  # fmt: skip
    # a part below its family's floor is left out before the merge
    quiet_stale = make_settings(habits={"stale_days": 1},
                                rules={"family_min_severity": {"stale": "critical"}})  # fmt: skip
    assert [f.parts for f in verdict(quiet_stale).findings] == [(("stalled", "time-in-step"),)]
    # the merged finding answers to `stuck`'s floor: a warn is dropped, a critical kept
    quiet = make_settings(habits={"stale_days": 1},
                          rules={"family_min_severity": {"stuck": "critical"}})  # fmt: skip
    assert verdict(quiet, now=at(3)).findings == ()
    assert verdict(quiet, now=at(4)).findings[0].severity is Severity.CRITICAL
