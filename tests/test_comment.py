"""The managed comment's content, renderings and escaping (pure)."""

import html
import json
import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from jira_chase.config.settings import WritebackSettings
from jira_chase.engine.comment import (
    COMMENT_LIMIT,
    FORMAT_VERSION,
    RECOVERED,
    CommentItem,
    ManagedComment,
    adf_length,
    build_comment,
    escape_wiki,
    findings_digest,
    hint_for,
    parse_wiki_marker,
    parse_zentao_marker,
    to_adf,
    to_text,
    to_wiki,
    to_zentao_html,
)
from jira_chase.engine.evaluate import evaluate
from jira_chase.engine.model import Link, Severity
from jira_chase.engine.plan import COMMENT_CREATE, COMMENT_DELETE, COMMENT_UPDATE, plan_writes
from tests.factories import at, make_finding, make_issue, make_settings, make_verdict

SETTINGS = make_settings()
HOSTILE = "{color:red}*x*{color} [~admin] <!-- jira-chase -->"


def verdict_for(issue, now):
    return evaluate([issue], SETTINGS, now).verdicts[0]


def stalled_review(summary="Checkout page", **kw):
    return replace(make_issue(path=[(0, "Code Review")], **kw), summary=summary)


def test_comment_is_one_line_per_finding_with_the_hint():
    verdict = verdict_for(stalled_review(), at(3))
    doc = build_comment(verdict, {"stalled": "Swarm on it at stand-up."}, at(3))
    assert doc.heading == "jira-chase: at risk (1 finding)"
    assert doc.items == (
        CommentItem(
            severity="warn",
            title="stuck",
            message="not moving: in review since 2026-11-02 (3 days; limit 2 days)",
            hint="Swarm on it at stand-up.",
        ),
    )
    assert to_text(doc).splitlines() == [
        "jira-chase: at risk (1 finding)",
        "- [warn] stuck: not moving: in review since 2026-11-02 (3 days; limit 2 days)",
        "  what to do: Swarm on it at stand-up.",
        "As of 2026-11-05 09:00 UTC. jira-chase edits this comment when its findings change "
        "(`jira-chase explain APP-1` shows the evidence).",
    ]


def test_a_hint_is_found_by_rule_then_the_parts_then_family_then_cause():
    verdict = verdict_for(stalled_review(), at(3))
    (finding,) = verdict.findings
    assert hint_for(finding, {}) is None
    hints = {"stuck": "cause", "stalled": "part family", "time-in-step": "part rule",
             "not-moving": "rule"}  # fmt: skip
    for name in ("not-moving", "time-in-step", "stalled", "stuck"):
        assert hint_for(finding, hints) == hints[name]
        del hints[name]
    blocked = make_finding("cooperation", "blocked-by-other-team")
    assert hint_for(blocked, {"blocked": "by cause", "habits": "no"}) == "by cause"
    assert hint_for(blocked, {"cooperation": "by family", "blocked": "by cause"}) == "by family"


def test_each_cause_has_its_title():
    verdict = make_verdict(
        make_issue(),
        make_finding("redline", "required-step", Severity.CRITICAL),
        make_finding("cooperation", "flagged"),
        make_finding("stuck", "not-moving", parts=(("aging", "older-than-p85"),)),
        make_finding("goal", "must-finish"),
        make_finding("goal", "must-start"),
        make_finding("owner", "no-owner"),
        make_finding("estimate", "no-estimate"),
        make_finding("wip", "pulled-into-full-step"),
    )
    doc = build_comment(verdict, {}, at(3))
    assert [item.title for item in doc.items] == [
        "red line", "blocked", "stuck", "goal", "goal", "habit", "habit", "habit"
    ]  # fmt: skip
    assert doc.heading == "jira-chase: off track (8 findings)"


def busy_verdict(hints=None):
    """Stuck (stalled and stale), blocked by another team and over a red line."""
    blocker = Link("Blocks", "inward", "OPS-7", "OPS", "In Progress", "indeterminate", at(0),
                   assignee="Gus Reyes")  # fmt: skip
    issue = make_issue(path=[(0, "In Progress"), (0.5, "In QA")], links=(blocker,))
    settings = make_settings(habits={"stale_days": 2})
    verdict = evaluate([issue], settings, at(3.5)).verdicts[0]
    assert len(verdict.findings) == 3
    return verdict


def renderings(doc):
    return {
        "text": to_text(doc),
        "wiki": to_wiki(doc),
        "zentao": to_zentao_html(doc),
        "adf": json.dumps(to_adf(doc)),
    }


def test_no_rendering_names_a_setting_or_lists_evidence():
    verdict = busy_verdict()
    doc = build_comment(verdict, {}, at(3.5))
    keys = {f.config_key for f in verdict.findings}
    assert keys == {"workflow.steps[1].required", "cooperation.blocked_days",
                    "workflow.steps[2].limit_days"}  # fmt: skip
    evidence_names = {name for f in verdict.findings for name, _ in f.evidence}
    assert {"time in step", "critical at", "stale limit", "blocker project"} <= evidence_names
    for kind, body in renderings(doc).items():
        for text in (*keys, "workflow.steps", "habits.stale_days", "threshold set by",
                     "critical at", "time in step", "idle for", "blocker project",
                     "stale limit", "Summary of APP-1"):  # fmt: skip
            assert text not in body, (kind, text)


def test_a_typical_comment_is_short():
    doc = build_comment(busy_verdict(), {}, at(3.5))
    text = to_text(doc)
    assert doc.heading == "jira-chase: off track (3 findings)"
    assert len(text) < 600, text
    assert len(text.splitlines()) == 5  # heading, three findings, footer
    assert "- [critical] red line: reached 'In QA'" not in text  # (not done: a skip)
    assert "- [critical] red line: " in text and "- [warn] blocked: blocked by OPS-7" in text
    assert "- [warn] stuck: not moving: in test since 2026-11-02 (3 days; limit 3 days); " \
        "no update by a person since 2026-11-02" in text  # fmt: skip


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


HOSTILE_HINT = "<script>alert(1)</script> [~admin] {code}*_"


def hostile_verdict():
    """Blocked by an issue whose status and assignee's name are another team's words."""
    blocker = Link("Blocks", "inward", "OPS-7", "OPS", HOSTILE, "indeterminate", at(0),
                   assignee=HOSTILE)  # fmt: skip
    issue = make_issue(path=[(0, "In Progress")], links=(blocker,))
    verdict = verdict_for(issue, at(3))
    (finding,) = verdict.findings
    assert HOSTILE in finding.message
    return verdict


def test_hostile_text_in_a_message_or_hint_is_literal_in_wiki_markup():
    doc = build_comment(hostile_verdict(), {"blocked": HOSTILE_HINT}, at(3))
    markup = to_wiki(doc)
    marker = parse_wiki_marker(markup)
    assert marker is not None and marker[1] == doc.digest
    # Only our own anchor opens a macro; the braces and brackets of the data are escaped.
    assert markup.count("{anchor:") == 1
    assert not re.search(r"(?<!\\)\{color", markup) and not re.search(r"(?<!\\)\[~", markup)
    assert not re.search(r"(?<!\\)\{code", markup)
    (line,) = [wiki_text(x) for x in markup.splitlines() if "OPS\\-7" in x]
    assert f"(OPS, {HOSTILE}, {HOSTILE})" in line and line.endswith(HOSTILE_HINT)


def test_hostile_text_is_a_plain_text_node_in_adf():
    doc = build_comment(hostile_verdict(), {"blocked": HOSTILE_HINT}, at(3))
    adf = to_adf(doc)

    def walk(node):
        yield node
        for child in node.get("content", []):
            yield from walk(child)

    nodes = list(walk(adf))
    assert {n["type"] for n in nodes} <= {"doc", "paragraph", "bulletList", "listItem", "text"}
    texts = [n.get("text", "") for n in nodes if n["type"] == "text"]
    assert any(HOSTILE in t for t in texts) and HOSTILE_HINT in texts
    assert all(m["type"] in ("strong", "em") for n in nodes for m in n.get("marks", []))


def test_hostile_text_is_escaped_in_zentao_html():
    doc = build_comment(hostile_verdict(), {"blocked": HOSTILE_HINT}, at(3))
    body = to_zentao_html(doc)
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "<!--" not in body and "&lt;!-- jira-chase --&gt;" in body
    assert html.unescape(body).count(f"(OPS, {HOSTILE}, {HOSTILE})") == 1
    assert parse_zentao_marker(body) == (FORMAT_VERSION, doc.digest)


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
    (create,) = plan_comments(issue, at(3), baseline=False)
    assert create.kind == COMMENT_CREATE
    managed = {"APP-1": ManagedComment("APP-1", "77", create.comment.digest)}
    assert plan_comments(issue, at(3.5), managed, baseline=False) == []
    (edit,) = plan_comments(issue, at(4.5), managed, baseline=False)  # now critical
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
    assert plan_comments(make_issue(path=[(0, "Code Review")]), at(1), baseline=False) == []
    assert plan_comments(stalled_review(), at(3), comments=False, baseline=False) == []


# -- size: every managed comment fits Jira's limit, whatever the data ----------------------

_TEXT = st.text(
    alphabet=st.sampled_from(list('ab <>&"\\{}*_\n\x01\u00e9\u4e2d\U0001f600')),
    max_size=3000,
)


@st.composite
def big_verdicts(draw):
    from jira_chase.engine.evaluate import Verdict
    from jira_chase.engine.model import Finding, Severity

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
    from jira_chase.engine.evaluate import Verdict
    from jira_chase.engine.model import Finding, Severity

    findings = tuple(
        Finding("APP-1", "wip", "pulled-into-full-step", Severity.WARN,
                f"message {n} " + "pulled in while full; " * 30, "workflow.steps[0].wip_limit",
                (("issues", "APP-9, " * 80),))
        for n in range(100)
    )  # fmt: skip
    verdict = Verdict(make_issue("APP-1"), None, findings)  # type: ignore[arg-type]
    doc = build_comment(verdict, {}, at(3))
    assert 0 < len(doc.items) < 100
    assert doc.footer.startswith(f"{100 - len(doc.items)} more findings not shown")
    assert max(adf_length(to_adf(doc)), len(to_wiki(doc))) <= COMMENT_LIMIT
    small = build_comment(replace(verdict, findings=findings[:2]), {}, at(3))
    assert len(small.items) == 2 and "not shown" not in small.footer
