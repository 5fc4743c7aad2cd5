"""The managed comment's content, renderings and escaping (pure)."""

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from jira_chase.comment import (
    COMMENT_LIMIT,
    FORMAT_VERSION,
    RECOVERED,
    ManagedComment,
    adf_length,
    build_comment,
    escape_wiki,
    findings_digest,
    parse_wiki_marker,
    parse_zentao_marker,
    to_adf,
    to_text,
    to_wiki,
    to_zentao_html,
)
from jira_chase.config import WritebackSettings
from jira_chase.evaluate import evaluate
from jira_chase.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, plan_writes
from tests.factories import at, make_issue, make_settings

SETTINGS = make_settings()
HOSTILE = "{color:red}*x*{color} [~admin] <!-- jira-chase -->"


def verdict_for(issue, now):
    return evaluate([issue], SETTINGS, now).verdicts[0]


def stalled_review(summary="Checkout page", **kw):
    return replace(make_issue(path=[(0, "Code Review")], **kw), summary=summary)


def test_comment_states_each_finding_with_evidence_threshold_and_hint():
    verdict = verdict_for(stalled_review(), at(3))
    doc = build_comment(verdict, {"stalled": "Swarm on it at stand-up."}, at(3))
    text = to_text(doc)
    assert "APP-1" in text and "at risk" in text
    assert "in step 'review' for 3 days, limit 2 days" in text
    assert "threshold set by: workflow.steps[1].limit_days" in text
    assert "what to do: Swarm on it at stand-up." in text


def test_rule_hint_wins_over_family_hint():
    verdict = verdict_for(stalled_review(), at(3))
    doc = build_comment(verdict, {"stalled": "family", "time-in-step": "rule"}, at(3))
    assert doc.items[0].hint == "rule"


def test_digest_ignores_the_passing_of_time_but_not_severity():
    issue = stalled_review()
    assert findings_digest(verdict_for(issue, at(2.5))) == findings_digest(
        verdict_for(issue, at(3.5))
    )
    assert findings_digest(verdict_for(issue, at(3.5))) != findings_digest(
        verdict_for(issue, at(4.5))
    )


def wiki_text(markup: str) -> str:
    """What a wiki renderer shows for escaped text: backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", markup)


def test_hostile_summary_is_literal_in_wiki_markup():
    doc = build_comment(verdict_for(stalled_review(HOSTILE), at(3)), {}, at(3))
    markup = to_wiki(doc)
    heading_line = markup.splitlines()[0]
    marker = parse_wiki_marker(markup)
    assert marker is not None and marker[1] == doc.digest
    # Only our own anchor opens a macro; the summary's braces and brackets are escaped.
    assert heading_line.count("{anchor:") == 1
    assert not re.search(r"(?<!\\)\{color", markup) and not re.search(r"(?<!\\)\[~", markup)
    assert HOSTILE in wiki_text(heading_line)


def test_hostile_summary_is_a_plain_text_node_in_adf():
    doc = build_comment(verdict_for(stalled_review(HOSTILE), at(3)), {}, at(3))
    adf = to_adf(doc)

    def walk(node):
        yield node
        for child in node.get("content", []):
            yield from walk(child)

    nodes = list(walk(adf))
    assert {n["type"] for n in nodes} <= {"doc", "paragraph", "bulletList", "listItem", "text"}
    assert any(HOSTILE in n.get("text", "") for n in nodes if n["type"] == "text")


@given(st.text(max_size=60))
def test_escaped_wiki_text_reads_back_literally_and_opens_nothing(value):
    escaped = escape_wiki(value)
    assert wiki_text(escaped) == " ".join(value.splitlines())
    assert "\n" not in escaped
    assert not re.search(r"(?<!\\)[{}\[\]|*_]", escaped.replace("\\\\", ""))


def test_a_forged_marker_in_the_text_is_not_our_marker():
    assert parse_wiki_marker("hello {anchor:jira-chase-1-abc}") is None
    assert parse_wiki_marker(escape_wiki("{anchor:jira-chase-1-abc}")) is None


def plan_comments(issue, now, managed=None, **writeback):
    evaluation = evaluate([issue], SETTINGS, now)
    settings = WritebackSettings(**writeback)
    return [op for op in plan_writes(evaluation, settings, managed).operations
            if op.kind.startswith("comment")]  # fmt: skip


def test_new_problem_creates_and_unchanged_problem_plans_nothing():
    issue = stalled_review()
    (create,) = plan_comments(issue, at(3))
    assert create.kind == COMMENT_CREATE
    managed = {"APP-1": ManagedComment("APP-1", "77", create.comment.digest)}
    assert plan_comments(issue, at(3.5), managed) == []
    (edit,) = plan_comments(issue, at(4.5), managed)  # now critical
    assert edit.kind == COMMENT_UPDATE and edit.comment_id == "77"


def test_recovery_follows_on_recovery():
    healthy = make_issue(path=[(0, "Code Review")])
    managed = {"APP-1": ManagedComment("APP-1", "77", "abc")}
    (edit,) = plan_comments(healthy, at(1), managed, on_recovery="edit")
    assert edit.kind == COMMENT_UPDATE and edit.comment.digest == RECOVERED
    assert "back on track" in edit.comment.heading
    (delete,) = plan_comments(healthy, at(1), managed, on_recovery="delete")
    assert delete.kind == COMMENT_DELETE and delete.comment_id == "77"
    assert plan_comments(healthy, at(1), managed, on_recovery="keep") == []
    recovered = {"APP-1": ManagedComment("APP-1", "77", RECOVERED)}
    assert plan_comments(healthy, at(1), recovered, on_recovery="edit") == []


def test_healthy_issues_never_get_a_comment_and_comments_can_be_off():
    assert plan_comments(make_issue(path=[(0, "Code Review")]), at(1)) == []
    assert plan_comments(stalled_review(), at(3), comments=False) == []


# -- size: every managed comment fits Jira's limit, whatever the data ----------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list('ab <>&"\\{}*_\n\x01\u00e9\u4e2d\U0001f600')),
    max_size=3000,
)


@st.composite
def big_verdicts(draw):
    from jira_chase.evaluate import Verdict
    from jira_chase.model import Finding, Severity

    issue = replace(make_issue("APP-1"), summary=draw(st.text(max_size=2000)))
    findings = tuple(
        Finding(
            issue_key="APP-1",
            family=draw(st.sampled_from(["stalled", "wip", "focus", "cooperation"])),
            rule=draw(st.text(min_size=1, max_size=300)),
            severity=draw(st.sampled_from([Severity.WARN, Severity.CRITICAL])),
            message=draw(_TEXT),
            config_key=draw(st.text(min_size=1, max_size=300)),
            evidence=tuple(draw(st.lists(st.tuples(st.text(max_size=200), _TEXT), max_size=30))),
        )
        for _ in range(draw(st.integers(0, 60)))
    )
    hints = draw(st.dictionaries(st.sampled_from(["stalled", "wip"]), _TEXT, max_size=2))
    return Verdict(issue, None, findings), hints  # type: ignore[arg-type]


@settings(deadline=None, max_examples=60)
@given(case=big_verdicts())
def test_every_rendering_of_a_managed_comment_fits_the_limit_with_its_marker(case):
    verdict, hints = case
    doc = build_comment(verdict, hints, at(3))
    assert doc.digest == findings_digest(verdict)
    assert adf_length(to_adf(doc)) <= COMMENT_LIMIT
    assert len(to_wiki(doc)) <= COMMENT_LIMIT
    assert len(to_zentao_html(doc)) <= COMMENT_LIMIT
    assert parse_wiki_marker(to_wiki(doc)) == (FORMAT_VERSION, doc.digest)
    assert parse_zentao_marker(to_zentao_html(doc)) == (FORMAT_VERSION, doc.digest)


def test_a_comment_over_the_limit_keeps_the_worst_findings_and_counts_the_rest():
    from jira_chase.evaluate import Verdict
    from jira_chase.model import Finding, Severity

    findings = tuple(
        Finding("APP-1", "focus", "wip-per-person", Severity.WARN, f"message {n}",
                "focus.wip_per_person", (("issues", "APP-9, " * 80),))
        for n in range(100)
    )  # fmt: skip
    verdict = Verdict(make_issue("APP-1"), None, findings)  # type: ignore[arg-type]
    doc = build_comment(verdict, {}, at(3))
    assert 0 < len(doc.items) < 100
    assert doc.footer.startswith(f"{100 - len(doc.items)} more findings not shown")
    assert max(adf_length(to_adf(doc)), len(to_wiki(doc))) <= COMMENT_LIMIT
    small = build_comment(replace(verdict, findings=findings[:2]), {}, at(3))
    assert len(small.items) == 2 and "not shown" not in small.footer
