from hypothesis import given
from hypothesis import strategies as st

from jira_chase.config import WritebackSettings
from jira_chase.evaluate import evaluate
from jira_chase.plan import plan_writes
from tests.factories import at, make_issue, make_settings

SETTINGS = make_settings()


def plan_for(issues, now=None, max_writes=200, prefix="chase-", comments=False, managed=None):
    evaluation = evaluate(issues, SETTINGS, now or at(10))
    writeback = WritebackSettings(label_prefix=prefix, max_writes=max_writes, comments=comments)
    return plan_writes(evaluation, writeback, managed)


def test_unhealthy_issue_gets_health_and_reason_labels():
    issue = make_issue(path=[(0, "Code Review")], labels=("customer",))
    (op,) = plan_for([issue]).operations
    assert op.add == ("chase-off-track", "chase-stalled") and op.remove == ()


def test_healthy_issue_with_no_labels_plans_nothing():
    assert plan_for([make_issue(path=[(9.5, "In Progress")])]).operations == ()


def test_labels_already_right_plan_nothing_and_case_does_not_matter():
    issue = make_issue(path=[(0, "Code Review")], labels=("Chase-Off-Track", "chase-stalled"))
    assert plan_for([issue]).operations == ()


def test_recovered_issue_loses_only_prefixed_labels():
    issue = make_issue(
        path=[(9.5, "In Progress")], labels=("customer", "chase-off-track", "chase-stalled", "x")
    )
    (op,) = plan_for([issue]).operations
    assert op.add == () and op.remove == ("chase-off-track", "chase-stalled")


def test_worsening_swaps_health_label():
    issue = make_issue(path=[(0, "Code Review")], labels=("chase-at-risk", "chase-stalled"))
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
                     "chase-redline", "CHASE-old", "backend", "chase-focus"]),
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
