"""Focus: work in progress per person, a team finding (never a line on an issue)."""

from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Person, Severity
from tests.factories import BOB, at, make_issue, make_settings
from tests.rules.test_steps import SETTINGS

CAT = Person("u-cat", "Cat Diaz")


def board(ann: int, bob: int = 0, cat: int = 0):
    """Ann's, Bob's and Cat's issues spread over build, review and test (and so under
    build's WIP limit and inside every step's time limit at day 1)."""
    statuses = [[(0, "In Progress")], [(0, "Code Review")], [(0, "Code Review"), (0.1, "In QA")]]
    issues, n = [], 0
    for person, count in ((None, ann), (BOB, bob), (CAT, cat)):
        for k in range(count):
            n += 1
            kw = {} if person is None else {"assignee": person}
            issues.append(make_issue(f"APP-{n}", path=statuses[k % 3], **kw))
    return issues


def focus(issues, settings=SETTINGS, now=None):
    evaluation = evaluate(issues, settings, now or at(1))
    return evaluation, [f for f in evaluation.team_findings if f.family == "focus"]


def test_a_person_over_the_wip_limit_is_one_team_finding_and_no_issue_finding():
    evaluation, (finding,) = focus(board(ann=4))
    assert (finding.subject, finding.rule) == ("focus", "wip-per-person")
    assert finding.severity is Severity.WARN and finding.config_key == "focus.wip_per_person"
    assert finding.message == "1 person carries more than 3 issues in progress (the most: 4)"
    evidence = dict(finding.evidence)
    assert evidence == {"people over the limit": "1", "issues each": "4", "limit": "3"}
    assert not evaluation.unhealthy()
    assert all(f.family != "focus" for v in evaluation.verdicts for f in v.notes)


def test_a_person_at_the_wip_limit_is_fine():
    assert focus(board(ann=3, bob=1))[1] == []


def test_people_are_counted_and_named_only_when_the_team_asks():
    issues = board(ann=4, bob=6, cat=2)
    _, (finding,) = focus(issues)
    assert finding.message == "2 people carry more than 3 issues in progress (the most: 6)"
    assert dict(finding.evidence)["issues each"] == "6, 4"
    assert "Ann" not in str(finding.evidence) and "Bob" not in finding.message
    named = make_settings(skills={"name_people": True})
    _, (finding,) = focus(issues, named)
    assert dict(finding.evidence)["issues per person"] == "Bob Stone 6, Ann Lee 4"


def test_focus_counts_every_workflow_step_but_not_finished_or_unstarted_work():
    issues = [
        make_issue("APP-1", path=[(0, "In Progress")]),
        make_issue("APP-2", path=[(0, "Code Review")]),
        make_issue("APP-3", path=[(0, "Code Review"), (0.1, "In QA")]),
        make_issue("APP-5", path=[(0, "Code Review"), (0.5, "Done")]),  # finished: not WIP
        make_issue("APP-6"),  # To Do: not WIP
    ]
    assert focus(issues)[1] == []
    issues.append(make_issue("APP-4", path=[(0, "Code Review"), (0.1, "In QA")]))
    _, (finding,) = focus(issues)
    assert dict(finding.evidence)["issues each"] == "4"


def test_focus_is_off_without_a_limit_and_when_disabled():
    assert focus(board(ann=5), make_settings(focus={"wip_per_person": None}))[1] == []
    assert focus(board(ann=5), make_settings(rules={"disabled": ["focus"]}))[1] == []
    quiet = make_settings(rules={"family_min_severity": {"focus": "critical"}})
    assert focus(board(ann=5), quiet)[1] == []
