from hypothesis import given
from hypothesis import strategies as st

from jira_chase.config.settings import WritebackSettings
from jira_chase.engine.comment import ManagedComment
from jira_chase.engine.evaluate import Evaluation, evaluate
from jira_chase.engine.model import Link, Severity
from jira_chase.engine.plan import (
    COMMENT_CREATE,
    COMMENT_UPDATE,
    LABELS,
    LEGACY_LABELS,
    Seen,
    attention,
    desired_labels,
    plan_writes,
    writable_labels,
)
from jira_chase.engine.rules import CAUSE_LABELS, MAX_CAUSES
from tests.factories import at, make_finding, make_issue, make_settings, make_verdict

SETTINGS = make_settings()


def plan_for(issues, now=None, max_writes=200, prefix="chase-", comments=False, managed=None):
    evaluation = evaluate(issues, SETTINGS, now or at(10))
    writeback = WritebackSettings(label_prefix=prefix, max_writes=max_writes, comments=comments)
    return plan_writes(evaluation, writeback, managed)


def test_unhealthy_issue_gets_health_and_reason_labels():
    issue = make_issue(path=[(0, "Code Review")], labels=("customer",))
    (op,) = plan_for([issue]).operations
    assert op.add == ("chase-off-track", "chase-stuck") and op.remove == ()
    assert op.reason == "off-track: stuck"


def test_healthy_issue_with_no_labels_plans_nothing():
    assert plan_for([make_issue(path=[(9.5, "In Progress")])]).operations == ()


def test_labels_already_right_plan_nothing_and_case_does_not_matter():
    issue = make_issue(path=[(0, "Code Review")], labels=("Chase-Off-Track", "chase-STUCK"))
    assert plan_for([issue]).operations == ()


def test_recovered_issue_loses_only_prefixed_labels():
    issue = make_issue(
        path=[(9.5, "In Progress")], labels=("customer", "chase-off-track", "chase-stalled", "x")
    )
    (op,) = plan_for([issue]).operations
    assert op.add == () and op.remove == ("chase-off-track", "chase-stalled")


def test_worsening_swaps_health_label():
    issue = make_issue(path=[(0, "Code Review")], labels=("chase-at-risk", "chase-stuck"))
    (op,) = plan_for([issue]).operations
    assert op.add == ("chase-off-track",) and op.remove == ("chase-at-risk",)


def test_budget_keeps_the_most_severe_and_defers_the_rest():
    critical = make_issue("APP-2", path=[(0, "Code Review")])  # 10 days: critical
    warn = make_issue("APP-1", path=[(7, "Code Review")])  # 3 days: warn
    plan = plan_for([warn, critical], max_writes=1)
    assert [op.issue_key for op in plan.operations] == ["APP-2"]
    assert [op.issue_key for op in plan.deferred] == ["APP-1"]


labels = st.lists(
    st.sampled_from(["customer", "chase-at-risk", "chase-off-track", "chase-stalled",
                     "chase-redline", "CHASE-old", "backend", "chase-focus", "chase-stuck"]),
    unique=True, max_size=6,
)  # fmt: skip


@given(current=labels, review_at=st.floats(min_value=0, max_value=10))
def test_applying_the_plan_converges_and_never_touches_foreign_labels(current, review_at):
    issue = make_issue(path=[(review_at, "Code Review")], labels=tuple(current))
    plan = plan_for([issue])
    after = list(current)
    for op in plan.operations:
        after = [label for label in after if label not in op.remove] + list(op.add)
    foreign = [label for label in current if not label.lower().startswith("chase-")]
    assert [label for label in after if not label.lower().startswith("chase-")] == foreign
    again = make_issue(path=[(review_at, "Code Review")], labels=tuple(after))
    assert plan_for([again]).operations == ()


# -- cause labels ------------------------------------------------------------------------------

CRITICAL, WARN = Severity.CRITICAL, Severity.WARN


def test_an_issue_carries_at_most_three_causes_the_most_severe_then_by_order():
    assert MAX_CAUSES == 3
    verdict = make_verdict(
        make_issue(),
        make_finding("estimate", "no-estimate"),
        make_finding("stuck", "not-moving", parts=(("stale", "no-update"),)),
        make_finding("goal", "must-start", CRITICAL),
        make_finding("cooperation", "blocked-by-other-team"),
        make_finding("owner", "no-owner"),
    )
    # must-start is critical; of the warnings blocked and stuck come before habits
    assert verdict.causes == ("blocked", "stuck", "must-start")
    assert desired_labels(verdict, "chase-") == [
        "chase-off-track", "chase-blocked", "chase-stuck", "chase-must-start"
    ]  # fmt: skip
    assert len(verdict.findings) == 5  # the comment still names every finding
    two = make_verdict(make_issue(), make_finding("wip", "pulled-into-full-step"),
                       make_finding("owner", "no-owner"))  # fmt: skip
    assert two.causes == ("habits",)  # one label for one cause
    warnings = make_verdict(
        make_issue(),
        *(make_finding("goal", rule) for rule in ("must-start", "must-finish")),
        make_finding("owner", "no-owner"),
        make_finding("redline", "required-field"),
    )
    assert warnings.causes == ("redline", "must-finish", "must-start")


def test_a_busy_issue_gets_its_health_and_three_cause_labels_on_the_tracker():
    blocker = Link("Blocks", "inward", "OPS-7", "OPS", "In Progress", "indeterminate", at(0))
    issue = make_issue(path=[(0, "In Progress"), (1, "In QA")], links=(blocker,))
    settings = make_settings(habits={"require_estimate": True})
    evaluation = evaluate([issue], settings, at(5))
    (verdict,) = evaluation.verdicts
    assert {f.family for f in verdict.findings} == {"redline", "cooperation", "stuck", "estimate"}
    writeback = WritebackSettings(label_prefix="chase-", comments=False)
    (op,) = plan_writes(evaluation, writeback).operations
    assert op.kind == LABELS
    assert op.add == ("chase-off-track", "chase-redline", "chase-blocked", "chase-stuck")
    assert op.reason == "off-track: redline, blocked, stuck"


def test_labels_of_earlier_versions_come_off_and_can_be_found_again():
    old = ("chase-off-track", "chase-stalled", "chase-focus", "chase-hygiene", "customer")
    issue = make_issue(path=[(0, "Code Review")], labels=old)
    (op,) = plan_for([issue]).operations
    assert op.add == ("chase-stuck",)
    assert op.remove == ("chase-stalled", "chase-focus", "chase-hygiene")
    writable = writable_labels("chase-")
    assert {f"chase-{name}" for name in (*CAUSE_LABELS, *LEGACY_LABELS)} <= set(writable)
    assert {"chase-at-risk", "chase-off-track", "chase-blocking"} <= set(writable)
    assert set(LEGACY_LABELS) == {"stalled", "wip", "aging", "goal", "stale", "owner",
                                  "estimate", "focus", "cooperation", "hygiene"}  # fmt: skip


# -- the baseline: label everything, comment only on what is new ------------------------------

BASELINE = WritebackSettings(label_prefix="chase-")  # (baseline is on by default)
NOT_MOVING = "stuck/not-moving"


def board():
    """APP-1 stuck in review (critical by day 4); APP-2 stuck in review and, from day 3,
    blocked by another team; APP-3 healthy."""
    blocker = Link("Blocks", "inward", "OPS-7", "OPS", "In Progress", "indeterminate", at(1))
    return [
        make_issue("APP-1", path=[(0, "Code Review")]),
        make_issue("APP-2", path=[(0, "Code Review")], links=(blocker,)),
        make_issue("APP-3", path=[(0, "In Progress")]),
    ]


def kinds(plan):
    return sorted((op.kind, op.issue_key) for op in plan.operations)


def test_the_first_sync_labels_every_unhealthy_issue_and_comments_on_none():
    evaluation = evaluate(board(), SETTINGS, at(2.5))
    assert BASELINE.baseline
    for seen in (None, Seen(), Seen(first=True, findings={"APP-1": frozenset()})):
        plan = plan_writes(evaluation, BASELINE, seen=seen)
        assert kinds(plan) == [(LABELS, "APP-1"), (LABELS, "APP-2")]
        assert plan.withheld == ("APP-1", "APP-2")


def test_later_a_comment_comes_with_a_new_finding_not_with_an_older_or_worse_one():
    seen = Seen(first=False, findings={
        "APP-1": frozenset({NOT_MOVING}), "APP-2": frozenset({NOT_MOVING}),
    })  # fmt: skip
    before = evaluate(board(), SETTINGS, at(2.5))
    assert kinds(plan_writes(before, BASELINE, seen=seen)) == [(LABELS, "APP-1"), (LABELS, "APP-2")]
    # two days on: APP-1 is critical now (older, worse: nothing new), APP-2 also blocked
    later = evaluate(board(), SETTINGS, at(4.5))
    assert later.by_key()["APP-1"].worst is Severity.CRITICAL
    plan = plan_writes(later, BASELINE, seen=seen)
    creates = [op for op in plan.operations if op.kind == COMMENT_CREATE]
    assert [op.issue_key for op in creates] == ["APP-2"]
    assert creates[0].reason.endswith("; new finding: cooperation/blocked-by-other-team")
    assert plan.withheld == ("APP-1",)


def test_an_issue_the_last_sync_did_not_see_unhealthy_is_new():
    seen = Seen(first=False, findings={"APP-2": frozenset({NOT_MOVING})})
    evaluation = evaluate(board()[:1], SETTINGS, at(2.5))
    (create,) = [op for op in plan_writes(evaluation, BASELINE, seen=seen).operations
                 if op.kind == COMMENT_CREATE]  # fmt: skip
    assert create.issue_key == "APP-1" and create.reason.endswith(f"new finding: {NOT_MOVING}")


def test_an_existing_managed_comment_is_kept_up_to_date_under_the_baseline():
    evaluation = evaluate(board()[:1], SETTINGS, at(4.5))
    managed = {"APP-1": ManagedComment("APP-1", "77", "an older digest")}
    for seen in (Seen(), Seen(first=False, findings={"APP-1": frozenset({NOT_MOVING})})):
        plan = plan_writes(evaluation, BASELINE, managed, seen=seen)
        (edit,) = [op for op in plan.operations if op.kind.startswith("comment")]
        assert edit.kind == COMMENT_UPDATE and edit.comment_id == "77"
        assert plan.withheld == ()


def test_without_the_baseline_every_unhealthy_issue_gets_its_comment_at_once():
    evaluation = evaluate(board(), SETTINGS, at(2.5))
    writeback = WritebackSettings(label_prefix="chase-", baseline=False)
    plan = plan_writes(evaluation, writeback, seen=Seen())
    assert [op.issue_key for op in plan.operations if op.kind == COMMENT_CREATE] == [
        "APP-1", "APP-2"
    ]  # fmt: skip
    assert plan.withheld == ()
    quiet = WritebackSettings(label_prefix="chase-", comments=False)
    assert plan_writes(evaluation, quiet).withheld == ()


def test_attention_counts_flagged_work_labels_and_comments():
    # APP-4 finished without review (a red line, counted as flagged but not unfinished)
    issues = [*board(), make_issue("APP-4", path=[(0, "In Progress"), (1, "Done")])]
    evaluation = evaluate(issues, SETTINGS, at(3.5))
    assert [len(desired_labels(v, "chase-")) for v in evaluation.unhealthy()] == [2, 3, 2]
    plan = plan_writes(evaluation, BASELINE)
    assert attention(evaluation, plan, BASELINE, created=0) == {
        "unfinished": 3,
        "flagged_unfinished": 2,
        "flagged_share": 0.667,
        "labels_per_flagged_issue": {"max": 3, "median": 2.0},
        "comments_created": 0,
        "comments_withheld": 3,
    }
    counts = attention(evaluation, plan, BASELINE, created=5)
    assert counts["comments_created"] == 5
    empty = Evaluation(at(1), ())
    assert (
        attention(empty, plan_writes(empty, BASELINE), BASELINE, created=0)["flagged_share"] == 0.0
    )
